"""Readiness and the metrics scrape, from the engine and the database."""

from __future__ import annotations

from typing import Any

from service.engine import Engine
from service.errors import ServiceUnavailable
from service.ops.metrics import Metrics
from service.store import profiles
from service.store.db import Session


def readiness(session: Session, engine: Engine) -> dict[str, Any]:
    """The index is loaded and holds as many profiles as the database; else 503."""
    if not engine.ready:
        raise ServiceUnavailable("index loading", ready=False)
    in_db = profiles.count(session)
    if in_db != len(engine):
        raise ServiceUnavailable(
            f"index holds {len(engine)} profiles, database {in_db}", ready=False
        )
    return {
        "status": "ready",
        "profiles": in_db,
        "model": engine.encoder.model_id,
        "layouts": {f: ix.layout for f, ix in engine.indexes.items()},
    }


def scrape(metrics: Metrics, engine: Engine) -> bytes:
    """The metrics, with the engine's gauges and counters brought up to date."""
    for facet, index in engine.indexes.items():
        metrics.index_size.labels(facet).set(len(index))
    metrics.profiles.set(len(engine))
    metrics.count_encoded(engine.encoded_total)
    return metrics.exposition()
