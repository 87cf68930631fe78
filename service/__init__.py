"""ClusterMatch service layer: FastAPI app, settings, persistence, auth, jobs, CLI."""

import os
import sys

# OpenMP (FAISS, scikit-learn) spins idle threads by default; on small shared machines
# (2 cores) that made HNSW builds 4-5x slower. Passive waiting costs nothing measurable
# when the machine is idle. An explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# numpy's OpenBLAS splits a request's matrix products (candidate similarities, filter
# blocks) over its own threads, which then spin waiting for more work: on 2 cores they
# took the CPU from the requests themselves (100k profiles, /matches p50 25 -> 41 ms).
# Requests are the unit of parallelism here; one BLAS thread each. Set before numpy loads.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

# python-sat installs command scripts named models.py, rc2.py, ... into the environment's
# bin directory, which is sys.path[0] when the `clustermatch` console script runs, so
# `import models` would find that script instead of our package. Drop that entry (only
# when it holds a stray models.py and is not a source tree with our packages).
if sys.path and sys.path[0]:
    _first = sys.path[0]
    if os.path.isfile(os.path.join(_first, "models.py")) and not os.path.isdir(
        os.path.join(_first, "service")
    ):
        sys.path.pop(0)
