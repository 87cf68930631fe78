# ClusterMatch: the same install as scripts/install, then `clustermatch serve`.
ARG BASE_IMAGE=python:3.11-slim
FROM ${BASE_IMAGE}

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 \
    CLUSTERMATCH_DATA_DIR=/data
WORKDIR /app

# LightGBM (the LambdaRank re-ranker) loads the system's OpenMP runtime, which slim images
# lack (without it training falls back to the pair classifier). Report charts (PNG/SVG) are
# labelled in Japanese with Noto Sans CJK (without it they fall back to English labels);
# `clustermatch backup|restore` on PostgreSQL runs pg_dump / pg_restore.
RUN apt-get update && apt-get install -y --no-install-recommends libgomp1 fonts-noto-cjk \
    postgresql-client \
 && rm -rf /var/lib/apt/lists/*

# Dependencies in their own layer: torch pinned to the CPU build first.
COPY pyproject.toml README.md ./
RUN mkdir -p service models indexing && touch service/__init__.py models/__init__.py indexing/__init__.py \
 && pip install "torch==2.13.0" && pip install . && pip uninstall -y clustermatch

COPY service ./service
COPY models ./models
COPY indexing ./indexing
RUN pip install --no-deps . && useradd --system --create-home clustermatch \
 && mkdir -p /data && chown clustermatch /data

USER clustermatch
VOLUME ["/data"]
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/healthz')" || exit 1
# Load the demo corpus with: docker run ... clustermatch demo
ENTRYPOINT ["clustermatch"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
