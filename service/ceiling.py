"""How far the ranking's features can go on an evaluation's own queries: a diagnostic
beside `clustermatch evaluate` (scripts/ceiling.py), never a ranking.

On the store `evaluate` builds (the same import, the same re-ranker trained on replayed
history), each query's candidate pool and feature matrix come from the code the API ranks
with (`Engine.candidate_features`). Per task and slice, nDCG@k of:

- `popularity`: the evaluation's baseline (most past interactions);
- `system`: the trained re-ranker's order of the pool (`evaluate`'s `system`);
- `ceiling`: the same kind of model (objective, settings, features) trained on the queries'
  own answers instead of replayed history, 2-fold cross-validated over the queries of each
  task, over several random splits. It reads the evaluation's answers, so it bounds what
  re-weighting today's features can reach in today's pool;
- `pool`: every relevant candidate of the pool first (what any order of the pool reaches),
  and `pool_recall`, the share of the relevant organizations in the pool.

A `ceiling` far above `system` says better training can still pay; one near it says a
target above it needs new information (features or candidates), not tuning.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from models.encoders import Encoder
from models.lexical import script
from models.matching import Party, Purpose
from models.metrics import ndcg_at_k
from models.ranking import Reranker, train
from service.engine import Engine
from service.evaluation import EvalQuery, Progress, Rankers, loaded_store, read_queries
from service.learning import OBJECTIVE, TEXT_OBJECTIVE


@dataclass
class QueryPool:
    """One query's candidate pool as the API scores it, with the evaluation's answers."""

    query: EvalQuery
    ids: list[str]  # the pool's profile ids, in pool order
    keys: np.ndarray  # their store keys (ties in an order break by key, as in the API)
    x: np.ndarray  # feature matrix (models.ranking.FEATURES)
    y: np.ndarray  # 1 where the candidate is relevant
    text: bool  # a free-text query (scored by the text model)


def query_pool(engine: Engine, q: EvalQuery, k: int) -> QueryPool | None:
    """The pool and features `Engine.rank` would score for this query (None: no pool)."""
    spec = q.spec
    purpose: Purpose = spec.purpose or "partner"
    kinds = spec.filters.kind
    if spec.profile_id is not None:
        record = engine.record(spec.profile_id)
        if record is None:
            return None
        party = record.party(engine.vectors(record.pk))
        found = engine.candidate_features(party, record, purpose, kinds=kinds, k=k)
    else:
        text = spec.text or ""
        vec = engine.encoder.encode([text])[0]
        party = Party.of_text(vec, purpose, script=script(text))
        found = engine.candidate_features(party, None, purpose, kinds=kinds, k=k, query_text=text)
    if found is None:
        return None
    _, x, pool, _ = found
    ids = [r.profile.id for r in pool.records]
    y = np.asarray([i in q.relevant for i in ids], dtype=np.int8)
    return QueryPool(q, ids, pool.keys, x, y, spec.profile_id is None)


def ranked(p: QueryPool, scores: np.ndarray, k: int) -> list[str]:
    """The pool's top k by score, ties by key (as `Engine.rank` orders)."""
    order = np.lexsort((p.keys, -scores))[:k]
    return [p.ids[i] for i in order]


def ndcg(p: QueryPool, scores: np.ndarray, k: int) -> float:
    return ndcg_at_k(ranked(p, scores, k), p.query.relevant, k)


def fit(pools: Sequence[QueryPool], seed: int) -> Reranker | None:
    """The system's kind of model, trained on these queries' answers (None: no answer in
    any pool)."""
    pools = [p for p in pools if p.y.any()]
    if not pools:
        return None
    return train(
        np.vstack([p.x for p in pools]),
        np.concatenate([p.y for p in pools]),
        seed=seed,
        groups=[len(p.y) for p in pools],
        objective=TEXT_OBJECTIVE if pools[0].text else OBJECTIVE,
    )


def cross_validated(
    pools: Sequence[QueryPool],
    *,
    splits: int,
    seed: int,
    k: int,
    done: Callable[[int], None] | None = None,
) -> list[np.ndarray]:
    """Per split, each query's nDCG@k under a model trained on the other half of the
    queries of its task and type (2 folds): no query is scored by a model that saw it.
    `done(s)` after each split."""
    by_type: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for i, p in enumerate(pools):
        by_type[(p.query.spec.task, p.text)].append(i)
    out = []
    for s in range(splits):
        rng = random.Random(seed + s)
        scores = np.zeros(len(pools))
        for members in by_type.values():
            order = members[:]
            rng.shuffle(order)
            halves = (order[: len(order) // 2], order[len(order) // 2 :])
            for train_on, test_on in (halves, halves[::-1]):
                model = fit([pools[i] for i in train_on], seed)
                for i in test_on:
                    p = pools[i]
                    scores[i] = ndcg(p, model.score(p.x), k) if model is not None else 0.0
        out.append(scores)
        if done is not None:
            done(s + 1)
    return out


def summary(
    queries: Sequence[EvalQuery],
    pools: Sequence[QueryPool | None],
    popularity: Sequence[Sequence[str]],
    system: Sequence[float],
    ceiling: Sequence[np.ndarray],
    k: int,
) -> dict[str, Any]:
    """The figures per task, per slice and overall (`ceiling` has one array per split)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(queries):
        groups[q.spec.task].append(i)
        if q.slice:
            groups[f"{q.slice} (slice)"].append(i)
    groups["all"] = list(range(len(queries)))
    out: dict[str, Any] = {}
    for name, idx in groups.items():
        pop = float(np.mean([ndcg_at_k(popularity[i], queries[i].relevant, k) for i in idx]))
        sys_ = float(np.mean([system[i] for i in idx]))
        split_means = [float(np.mean(c[idx])) for c in ceiling]
        ceil = float(np.mean(split_means))
        oracle, recall = [], []
        for i in idx:
            p = pools[i]
            oracle.append(ndcg(p, p.y.astype(np.float64), k) if p is not None else 0.0)
            found = int(p.y.sum()) if p is not None else 0
            recall.append(found / max(1, len(queries[i].relevant)))
        out[name] = {
            "n": len(idx),
            "popularity": round(pop, 4),
            "system": round(sys_, 4),
            "ceiling": round(ceil, 4),
            "ceiling_range": [round(min(split_means), 4), round(max(split_means), 4)],
            "pool": round(float(np.mean(oracle)), 4),
            "pool_recall": round(float(np.mean(recall)), 4),
            "system_x": round(sys_ / pop, 3) if pop else None,
            "ceiling_x": round(ceil / pop, 3) if pop else None,
        }
    return out


def ceiling(
    profiles: Path,
    interactions: Path,
    queries: Path,
    *,
    k: int = 10,
    seed: int = 0,
    splits: int = 3,
    encoder: Encoder | None = None,
    embedding_cache: Path | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The figures above for an evaluation's files (ValueError: too little history to
    learn, the store ranks by hand weights)."""
    if splits < 1:
        raise ValueError(f"splits must be at least 1, got {splits}")
    spec_list = read_queries(queries)
    with loaded_store(
        profiles,
        interactions,
        seed=seed,
        encoder=encoder,
        embedding_cache=embedding_cache,
        progress=progress,
    ) as (engine, setup):
        reranker = engine.reranker
        if reranker is None:
            raise ValueError("too little history: the store ranks by hand weights")
        rankers = Rankers(engine, k, seed)
        pools: list[QueryPool | None] = []
        popularity: list[list[str]] = []
        system: list[float] = []
        for i, q in enumerate(spec_list):
            p = query_pool(engine, q, k)
            pools.append(p)
            popularity.append(rankers.popularity(q.spec))
            system.append(ndcg(p, reranker.score(p.x, text=p.text), k) if p is not None else 0.0)
            if progress is not None and (i % 25 == 0 or i == len(spec_list) - 1):
                progress("pools", i + 1, len(spec_list))
    at = [i for i, p in enumerate(pools) if p is not None]
    present = [p for p in pools if p is not None]

    def done(s: int) -> None:
        if progress is not None:
            progress("ceiling", s, splits)

    per_split = []
    for scores in cross_validated(present, splits=splits, seed=seed, k=k, done=done):
        full = np.zeros(len(spec_list))
        full[at] = scores
        per_split.append(full)
    return {
        "k": k,
        "splits": splits,
        "tasks": summary(spec_list, pools, popularity, system, per_split, k),
        "setup": {**setup, "queries": len(spec_list)},
    }
