"""Training the re-ranker on the stored interactions (command `clustermatch train`, the API
`POST /v1/ranker/train`, and the evaluation command).

History is replayed with a seeded share of interaction groups held out (models.training):
for each participant of a held-out group, the same candidate pool and features the API
uses are computed on the network without the held-out interactions, and on the
participant's description without the lines it shares with its held-out partners; the
label says whether the candidate was one of them. Too little history leaves the
hand-weighted ranking in place.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from indexing.embedding import embed_texts
from models.profile import overall_text, text_hash
from models.ranking import Reranker, train
from models.training import group_lines, sample_holdout, strip_lines
from service.db import transaction
from service.engine import Engine
from service.sync import HISTORY, record_changes

MIN_QUERIES = 30
HOLDOUT_FRACTION = 0.3
MIN_POSITIVES = 100


@dataclass
class TrainReport:
    method: str  # "learned" or "hand" (too little history)
    seed: int
    interactions: int
    held_groups: int = 0
    queries: int = 0
    rows: int = 0
    positives: int = 0
    took_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def training_set(
    engine: Engine,
    *,
    seed: int = 0,
    max_queries: int = 1500,
    fraction: float = HOLDOUT_FRACTION,
    progress: Callable[[str, int, int], None] | None = None,
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    holdout = sample_holdout(engine.edges, seed=seed, max_queries=max_queries, fraction=fraction)
    graph = engine.graph_from(holdout.kept)
    # Ask only for organizations that still have a history without the held-out groups, as
    # a real query comes from a member with a track record (and a newcomer's partners are
    # not what the network features are for).
    queries = [q for q in holdout.queries if q.node in engine.records and graph.has(q.node)]

    def description(pk: int) -> str:
        rec = engine.records.get(pk)
        return rec.profile.description if rec is not None else ""

    held_lines = {
        g: group_lines([description(m) for m in members]) for g, members in holdout.members.items()
    }
    texts: list[str] = []
    for q in queries:
        rec = engine.records[q.node]
        drop = set().union(*(held_lines[g] for g in q.groups))
        stripped = rec.profile.model_copy(
            update={"description": strip_lines(rec.profile.description, drop)}
        )
        texts.append(overall_text(stripped))
    # Through the embedding cache: unchanged descriptions are not encoded again, and a
    # retrain with the same seed encodes nothing.
    vectors, _ = embed_texts(engine.encoder, texts, engine.cache, batch_size=engine.batch_size)
    xs: list[np.ndarray] = []
    ys: list[np.ndarray] = []
    for i, q in enumerate(queries):
        rec = engine.records[q.node]
        party = rec.party(engine.vectors(rec.pk))
        party.all = vectors[text_hash(texts[i])]
        found = engine.candidate_features(
            party, rec, "partner", k=10, query_text=texts[i], graph=graph
        )
        if found is not None:
            _, x, pool, _ = found
            xs.append(x)
            ys.append(np.isin(pool.keys, list(q.relevant)).astype(np.int8))
        if progress is not None and (i % 50 == 0 or i == len(queries) - 1):
            progress("features", i + 1, len(queries))
    if not xs:
        return np.zeros((0, 0)), np.zeros(0, dtype=np.int8), {"held_groups": 0, "queries": 0}
    return (
        np.vstack(xs),
        np.concatenate(ys),
        {
            "held_groups": holdout.held_groups,
            "queries": len(queries),
        },
    )


def train_reranker(
    engine: Engine,
    *,
    seed: int = 0,
    max_queries: int = 1500,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainReport:
    """Train, save beside the index and start using the re-ranker (or fall back)."""
    started = time.perf_counter()
    report = TrainReport(method="hand", seed=seed, interactions=len(engine.edges))
    x, y, info = training_set(engine, seed=seed, max_queries=max_queries, progress=progress)
    report.held_groups = info["held_groups"]
    report.queries = info["queries"]
    report.rows = len(y)
    report.positives = int(y.sum()) if len(y) else 0
    if report.queries >= MIN_QUERIES and report.positives >= MIN_POSITIVES:
        if progress is not None:
            progress("training", 0, 1)
        model: Reranker | None = train(x, y, seed=seed)
        report.method = "learned"
        if progress is not None:
            progress("training", 1, 1)
    else:
        model = None
    engine.set_reranker(model)
    with transaction(engine.sessions) as session:  # other server processes reload it
        record_changes(session, HISTORY)
    report.took_s = round(time.perf_counter() - started, 2)
    return report
