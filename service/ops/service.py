"""Readiness and the metrics scrape, from the engine and the database."""

from __future__ import annotations

from typing import Any

from service.engine import Engine
from service.errors import ServiceUnavailable
from service.ops.metrics import Metrics
from service.store import profiles
from service.store.db import Session


def readiness(session: Session, engine: Engine) -> dict[str, Any]:
    """Ready means able to serve: the index is loaded (503 until then). An index that
    trails the database (a large import is indexed as it goes, and other processes follow
    within the sync interval) still serves every match: `lag` says by how many profiles,
    and `in_step` whether it holds exactly the database's, as the metric
    `clustermatch_index_lag_profiles` does over time."""
    if not engine.ready:
        raise ServiceUnavailable("index loading", ready=False)
    in_db, indexed = profiles.count(session), len(engine)
    return {
        "status": "ready",
        "profiles": in_db,
        "indexed": indexed,
        "lag": abs(in_db - indexed),
        "in_step": in_db == indexed,
        "model": engine.encoder.model_id,
        "layouts": {f: ix.layout for f, ix in engine.indexes.items()},
    }


def scrape(metrics: Metrics, engine: Engine, session: Session) -> bytes:
    """The metrics, with the engine's gauges and counters brought up to date."""
    for facet, index in engine.indexes.items():
        metrics.index_size.labels(facet).set(len(index))
    metrics.profiles.set(len(engine))
    if engine.ready:
        metrics.index_lag.set(abs(profiles.count(session) - len(engine)))
    metrics.count_encoded(engine.encoded_total)
    return metrics.exposition()
