"""Headroom: would training on answers like the evaluation's beat the system? A diagnostic
beside `clustermatch evaluate` (scripts/headroom.py), never a ranking.

On the store `evaluate` builds (the same import, the same re-ranker trained on replayed
history), each query's candidate pool and feature matrix come from the code the API ranks
with (`Ranking.candidate_features`). Per task and slice, nDCG@k of:

- `popularity`, `system`: the evaluation's baseline and system, on the official answers;
- `pool`: every relevant candidate of the pool first (what any order of the pool reaches),
  and `pool_recall`, the share of the relevant organizations in the pool;
- `cv`: 2-fold cross-validation, over several random splits, of the system's kind of
  model (objective, settings, features) trained on the evaluation's own answers instead
  of replayed history: `on_answers` against `system` and `popularity` on the same test
  answers. The folds split answer units (`answer_units`: in a benchmark of held-out
  projects, the projects), not queries: members of one project ask for each other, and a
  model that saw some of them ask learns who took part, which no ranking can know.

`on_answers` well above `system` says the replayed training data is the limit; near or
below it, that a target above the system needs new information (features or
candidates), not other training.
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.encoders import Encoder
from models.lexical import script
from models.matching import Party, Purpose
from models.metrics import ndcg_at_k
from models.ranking import Reranker, train
from service.engine import Engine, RankRequest
from service.offline.evaluation import EvalQuery, Progress, Rankers, loaded_store, read_queries
from service.offline.learning import OBJECTIVE, TEXT_OBJECTIVE


@dataclass
class QueryPool:
    """One query's candidate pool as the API scores it, with the evaluation's answers."""

    query: EvalQuery
    ids: list[str]  # the pool's profile ids, in pool order
    keys: np.ndarray  # their store keys (ties in an order break by key, as in the API)
    x: np.ndarray  # feature matrix (models.ranking.FEATURES)
    text: bool  # a free-text query (scored by the text model)
    system: np.ndarray = field(default_factory=lambda: np.zeros(0))  # the system's scores
    popular: list[str] = field(default_factory=list)  # the popularity baseline's list

    def labels(self, answers: AbstractSet[str]) -> np.ndarray:
        return np.asarray([i in answers for i in self.ids], dtype=np.int8)


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
        found = engine.ranking.candidate_features(
            RankRequest(party, record, purpose, kinds=kinds, k=k)
        )
    else:
        text = spec.text or ""
        vec = engine.encoder.encode([text])[0]
        party = Party.of_text(vec, purpose, script=script(text))
        found = engine.ranking.candidate_features(
            RankRequest(party, None, purpose, kinds=kinds, k=k, query_text=text)
        )
    if found is None:
        return None
    _, x, pool, _ = found
    ids = [r.profile.id for r in pool.records]
    return QueryPool(q, ids, pool.keys, x, spec.profile_id is None)


def ranked(p: QueryPool, scores: np.ndarray, k: int) -> list[str]:
    """The pool's top k by score, ties by key (as `Engine.rank` orders)."""
    order = np.lexsort((p.keys, -scores))[:k]
    return [p.ids[i] for i in order]


def fit(train_on: Sequence[tuple[QueryPool, np.ndarray]], seed: int) -> Reranker | None:
    """The system's kind of model, trained on these pools with these labels (None: no
    positive in any pool)."""
    rows = [(p, y) for p, y in train_on if y.any()]
    if not rows:
        return None
    return train(
        np.vstack([p.x for p, _ in rows]),
        np.concatenate([y for _, y in rows]),
        seed=seed,
        groups=[len(y) for _, y in rows],
        objective=TEXT_OBJECTIVE if rows[0][0].text else OBJECTIVE,
    )


def answer_units(pools: Sequence[QueryPool]) -> dict[str, frozenset[str]] | None:
    """What the answers come from: each free-text query's answer set (where projects were
    held out, a project's participants asked for by its text), provided every profile
    query's answers lie in the units the profile belongs to (its partners in those
    projects). None when they do not, or there is no free-text query."""
    units = {p.query.spec.id: p.query.relevant for p in pools if p.text}
    if not units:
        return None
    for p in pools:
        me = p.query.spec.profile_id
        if me is not None:
            mine = set().union(*(m for m in units.values() if me in m)) - {me}
            if not p.query.relevant <= mine:
                return None
    return units


@dataclass
class Tested:
    """One query scored in one fold, against that fold's answers."""

    query: int  # index into the pools
    on_answers: float
    system: float
    popularity: float


def _answers(p: QueryPool, chosen: set[str], units: dict[str, frozenset[str]]) -> set[str]:
    """A query's answers that come from the chosen units: a free text's own (if its unit
    is chosen), a profile's partners in the chosen units it belongs to (those its filters
    admit: an `academia:` query's answers are the academic ones)."""
    if p.text:
        return set(p.query.relevant) if p.query.spec.id in chosen else set()
    me = p.query.spec.profile_id
    return set().union(*(units[u] for u in chosen if me in units[u])) & p.query.relevant


def _fold(
    pools: Sequence[QueryPool],
    k: int,
    seed: int,
    train_on: Sequence[AbstractSet[str]],
    test_on: Sequence[AbstractSet[str]],
) -> list[Tested]:
    """Train one model per task and query type on each pool's `train_on` answers, score
    every pool that has `test_on` answers against them."""
    by_type: dict[tuple[str, bool], list[int]] = defaultdict(list)
    for i, p in enumerate(pools):
        by_type[(p.query.spec.task, p.text)].append(i)
    out: list[Tested] = []
    for members in by_type.values():
        rows = []
        for i in members:
            answers = train_on[i]
            if answers:
                rows.append((pools[i], pools[i].labels(answers)))
        model = fit(rows, seed)
        for i in members:
            answers = test_on[i]
            if not answers:
                continue
            p = pools[i]
            mine = model.score(p.x) if model is not None else np.zeros(len(p.ids))
            out.append(
                Tested(
                    i,
                    ndcg_at_k(ranked(p, mine, k), answers, k),
                    ndcg_at_k(ranked(p, p.system, k), answers, k),
                    ndcg_at_k(p.popular, answers, k),
                )
            )
    return out


def cross_validated(
    pools: Sequence[QueryPool],
    *,
    splits: int,
    seed: int,
    k: int,
    done: Callable[[int], None] | None = None,
) -> tuple[list[list[Tested]], bool]:
    """Per split, 2-fold cross-validation of the system's kind of model trained on the
    queries' answers, one model per task and query type; and whether the folds had to
    split queries rather than answer units (`answer_units`): `leaky`.

    Split by units, a fold trains on the answers from half the units and is tested on
    the other half's: a profile query learns its partners in its training units and is
    scored on its partners in its test units (the system and popularity on those same
    answers). Split by queries, two queries that share answers (members of one project
    ask for each other) land in both folds, and the model learns who was in that project:
    its figures then read high. `done(s)` after each split."""
    units = answer_units(pools)
    out: list[list[Tested]] = []
    for s in range(splits):
        rng = random.Random(seed + s)
        tested: list[Tested] = []
        if units is not None:
            names = sorted(units)
            rng.shuffle(names)
            halves = (set(names[: len(names) // 2]), set(names[len(names) // 2 :]))
            for a, b in (halves, halves[::-1]):
                tested += _fold(
                    pools,
                    k,
                    seed,
                    [_answers(p, a, units) for p in pools],
                    [_answers(p, b, units) for p in pools],
                )
        else:
            order = list(range(len(pools)))
            rng.shuffle(order)
            first = set(order[: len(order) // 2])
            one = [p.query.relevant if i in first else frozenset() for i, p in enumerate(pools)]
            other = [frozenset() if i in first else p.query.relevant for i, p in enumerate(pools)]
            tested += _fold(pools, k, seed, one, other) + _fold(pools, k, seed, other, one)
        out.append(tested)
        if done is not None:
            done(s + 1)
    return out, units is None


def summary(
    queries: Sequence[EvalQuery],
    pools: Sequence[QueryPool | None],
    tested: Sequence[Sequence[Tested]],
    at: Sequence[int],
    k: int,
) -> dict[str, Any]:
    """The figures per task, per slice and overall. `at[i]`: the query of pools' i-th
    present pool (`tested` indexes those)."""
    groups: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(queries):
        groups[q.spec.task].append(i)
        if q.slice:
            groups[f"{q.slice} (slice)"].append(i)
    groups["all"] = list(range(len(queries)))

    def official(p: QueryPool | None, which: str) -> float:
        if p is None:
            return 0.0
        rel = p.query.relevant
        if which == "popularity":
            return ndcg_at_k(p.popular, rel, k)
        if which == "system":
            return ndcg_at_k(ranked(p, p.system, k), rel, k)
        found = p.labels(rel)
        if which == "pool_recall":
            return int(found.sum()) / max(1, len(rel))
        return ndcg_at_k(ranked(p, found.astype(np.float64), k), rel, k)  # the pool's best

    out: dict[str, Any] = {}
    for name, idx in groups.items():
        members = set(idx)
        row: dict[str, Any] = {"n": len(idx)}
        for which in ("popularity", "system", "pool", "pool_recall"):
            row[which] = round(float(np.mean([official(pools[i], which) for i in idx])), 4)
        per_split = [[t for t in split if at[t.query] in members] for split in tested]
        if per_split and all(per_split):
            means = {
                which: [float(np.mean([getattr(t, which) for t in ts])) for ts in per_split]
                for which in ("on_answers", "system", "popularity")
            }
            row["cv"] = {
                "tested": len(per_split[0]),
                "popularity": round(float(np.mean(means["popularity"])), 4),
                "system": round(float(np.mean(means["system"])), 4),
                "on_answers": round(float(np.mean(means["on_answers"])), 4),
                "on_answers_range": [
                    round(min(means["on_answers"]), 4),
                    round(max(means["on_answers"]), 4),
                ],
            }
        out[name] = row
    return out


def headroom(
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
        for i, q in enumerate(spec_list):
            p = query_pool(engine, q, k)
            if p is not None:
                p.system = reranker.score(p.x, text=p.text)
                p.popular = rankers.popularity(q.spec)
            pools.append(p)
            if progress is not None and (i % 25 == 0 or i == len(spec_list) - 1):
                progress("pools", i + 1, len(spec_list))
    at = [i for i, p in enumerate(pools) if p is not None]

    def done(s: int) -> None:
        if progress is not None:
            progress("cross-validation", s, splits)

    tested, leaky = cross_validated(
        [p for p in pools if p is not None], splits=splits, seed=seed, k=k, done=done
    )
    return {
        "k": k,
        "splits": splits,
        "split_by": "queries (leaky: answers shared across folds)" if leaky else "answer units",
        "tasks": summary(spec_list, pools, tested, at, k),
        "setup": {**setup, "queries": len(spec_list)},
    }
