"""ClusterMatch service layer: FastAPI app, settings, persistence, auth, jobs, CLI."""

import os
import sys

# OpenMP (FAISS, scikit-learn) spins idle threads by default; on small shared machines
# (2 cores) that made HNSW builds 4-5x slower. Passive waiting costs nothing measurable
# when the machine is idle. An explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

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
