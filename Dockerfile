# ClusterMatch: the install of scripts/install (a venv from python3, torch pinned to its CPU
# build first, then the package), then `clustermatch serve` as a non-root user with its
# data in a volume. scripts/container-check builds it, runs it and checks it (README,
# "Container"). Any Debian-based image with python3 >= 3.11 and its venv module will do as
# BASE_IMAGE (the default, or Debian's python3 and python3-venv).
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

# Where pip finds packages, for this build only: none of these is kept in the image's files
# or environment (like any build argument, they show in its history: no passwords in URLs).
# By default public PyPI, and torch from PyTorch's CPU index (PyPI's Linux torch is the
# CUDA build, gigabytes more); an empty TORCH_INDEX_URL leaves torch to the PIP_* settings.
# A machine with its own index, wheel folder or CA passes PIP_* as build arguments
# (scripts/container-check passes the host's `pip config list` and PIP_* environment).
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
ARG PIP_INDEX_URL
ARG PIP_EXTRA_INDEX_URL
ARG PIP_FIND_LINKS
ARG PIP_TRUSTED_HOST
ARG PIP_CERT
ARG PIP_CONSTRAINT
ARG PIP_DEFAULT_TIMEOUT
ARG DEBIAN_FRONTEND=noninteractive

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    VIRTUAL_ENV=/opt/clustermatch PATH=/opt/clustermatch/bin:$PATH \
    CLUSTERMATCH_DATA_DIR=/data
WORKDIR /app

# LightGBM (the LambdaRank re-ranker) loads the system's OpenMP runtime, which slim images
# lack (without it training falls back to the pair classifier). Report charts (PNG/SVG) are
# labelled in Japanese with Noto Sans CJK (without it they fall back to English labels);
# `clustermatch backup|restore` on PostgreSQL runs pg_dump / pg_restore.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 fonts-noto-cjk \
    postgresql-client \
 && apt-get clean && rm -rf /var/lib/apt/lists/*

# A virtual environment from the image's python3, as scripts/install makes .venv (Debian's
# own python3 refuses a system-wide pip install).
RUN python3 -c 'import sys; assert sys.version_info >= (3, 11), sys.version' \
 && python3 -m venv "$VIRTUAL_ENV" && pip install -q --upgrade pip

# Dependencies in their own layer: torch pinned to the CPU build first.
COPY pyproject.toml README.md ./
RUN mkdir -p service models indexing \
 && touch service/__init__.py models/__init__.py indexing/__init__.py \
 && pip install --progress-bar off ${TORCH_INDEX_URL:+--index-url "$TORCH_INDEX_URL"} "torch==2.13.0" \
 && pip install --progress-bar off . && pip uninstall -q -y clustermatch \
 && rm -rf build ./*.egg-info service models indexing

# (.dockerignore lets in only pyproject.toml, README.md, service, models and indexing)
COPY . .
RUN pip install -q --no-deps . && rm -rf build ./*.egg-info \
 && groupadd --system --gid 10001 clustermatch \
 && useradd --system --uid 10001 --gid clustermatch --create-home clustermatch \
 && mkdir -p /data && chown clustermatch:clustermatch /data

USER clustermatch
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
# Load the demo corpus with: docker run ... clustermatch demo
ENTRYPOINT ["clustermatch"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
