"""ClusterMatch service layer: FastAPI app, settings, persistence, auth, jobs, CLI."""

import os

# OpenMP (FAISS, scikit-learn) spins idle threads by default; on small shared machines
# (2 cores) that made HNSW builds 4-5x slower. Passive waiting costs nothing measurable
# when the machine is idle. An explicit setting in the environment wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
