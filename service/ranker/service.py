"""The learned re-ranker: what is in use, and retraining it as a job."""

from __future__ import annotations

from typing import Any

from models.progress import Progress
from service.auth import Principal
from service.engine import Engine
from service.jobs.service import Jobs
from service.offline.learning import train_reranker
from service.store.db import Session


def status(engine: Engine) -> dict[str, Any]:
    """Learned re-ranker or hand weights, with the model's metadata and why."""
    model = engine.reranker
    return {
        "method": "learned" if model is not None else "hand",
        "interactions": len(engine.edges),
        "model": None if model is None else {k: v for k, v in model.meta.items() if k != "medians"},
        # scoring runs compiled code (settings.native_ranker), not LightGBM's interpreter
        "native": model is not None and model.native,
        "note": engine.ranker_note,
    }


def retrain(jobs: Jobs, engine: Engine, caller: Principal, seed: int, max_queries: int) -> str:
    """Queue a retraining on the stored interactions (admins only); the job's id."""
    caller.require("admin")

    def work(session: Session, progress: Progress) -> dict[str, Any]:
        # the history as stored now: outcomes recorded since the network was last read
        # are evidence too (models.evidence)
        engine.network.load(engine.sessions)
        return train_reranker(
            engine, seed=seed, max_queries=max_queries, progress=progress
        ).to_dict()

    return jobs.submit("train", work, created_by=caller.key_pk)
