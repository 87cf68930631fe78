"""The ceiling diagnostic (service.ceiling): its `system` figures are the evaluation's, its
cross-validation never scores a query with a model that saw the query's answers, and no
order of a pool beats the pool's best order."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.encoders import HashingEncoder
from service import ceiling as ceiling_module
from service.ceiling import QueryPool, ceiling, cross_validated
from service.evaluation import EvalQuery, QuerySpec, evaluate
from tests.service.test_learning import TOPICS, _world

HELD = 40  # the last projects of the world are the queries' answers, not history


def _files(tmp_path: Path) -> tuple[Path, Path, Path]:
    orgs, rows = _world()
    projects: dict[str, set[str]] = {}
    for r in rows:
        projects.setdefault(r["context"], set()).update((r["a"], r["b"]))
    held = sorted(projects, key=lambda c: int(c.split(":")[1]))[-HELD:]
    kept = [r for r in rows if r["context"] not in held]
    partners: dict[str, set[str]] = {}
    for c in held:
        for m in projects[c]:
            partners.setdefault(m, set()).update(projects[c] - {m})
    queries = [
        {"id": f"partner:{m}", "task": "partner", "profile_id": m, "relevant": sorted(rel)}
        for m, rel in sorted(partners.items())
    ]
    rng = random.Random(0)
    for c in held[:10]:
        topic = TOPICS[int(sorted(projects[c])[0][1:]) % len(TOPICS)]
        queries.append(
            {
                "id": f"consortium:{c}",
                "task": "consortium",
                "text": f"{topic} {rng.choice(['project', 'pilot', 'network'])}",
                "relevant": sorted(projects[c]),
            }
        )
    paths = tmp_path / "p.jsonl", tmp_path / "i.jsonl", tmp_path / "q.jsonl"
    for path, data in zip(paths, (orgs, kept, queries), strict=True):
        path.write_text("\n".join(json.dumps(x) for x in data) + "\n")
    return paths


def test_ceiling_reports_the_evaluations_system_and_bounds(tmp_path: Path) -> None:
    profiles, interactions, queries = _files(tmp_path)
    result = ceiling(profiles, interactions, queries, encoder=HashingEncoder(), splits=2)
    assert result["setup"]["ranker"]["method"] == "learned"
    official = evaluate(
        profiles,
        interactions,
        queries,
        encoder=HashingEncoder(),
        methods=("system", "popularity"),
    )
    for task in ("partner", "consortium"):
        mine, theirs = result["tasks"][task], official["tasks"][task]
        # the pool and the score are the API's: the same figures as `evaluate`
        assert mine["system"] == pytest.approx(theirs["system"]["ndcg"], abs=1e-4)
        assert mine["popularity"] == pytest.approx(theirs["popularity"]["ndcg"], abs=1e-4)
        assert mine["n"] == theirs["system"]["n"]
        assert 0.0 < mine["pool_recall"] <= 1.0
        # no order of the pool beats relevant-first
        assert mine["pool"] >= mine["system"] - 1e-9
        lo, hi = mine["ceiling_range"]
        assert lo <= mine["ceiling"] <= hi <= mine["pool"] + 1e-9
    # communities are easy: trained on the answers themselves, the model ranks them well
    assert result["tasks"]["partner"]["ceiling"] > result["tasks"]["partner"]["popularity"]
    assert set(result["tasks"]) == {"partner", "consortium", "all"}


def _pool(qid: str, task: str, text: bool, rng: random.Random) -> QueryPool:
    spec = QuerySpec(id=qid, task=task, **({"text": "t"} if text else {"profile_id": qid}))
    n = 8
    y = np.zeros(n, dtype=np.int8)
    y[rng.randrange(n)] = 1
    ids = [f"{qid}-c{i}" for i in range(n)]
    relevant = frozenset(i for i, v in zip(ids, y, strict=True) if v)
    return QueryPool(EvalQuery(spec, relevant), ids, np.arange(n), np.zeros((n, 3)), y, text)


def test_cross_validation_never_scores_a_query_with_a_model_that_saw_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(3)
    pools = [_pool(f"p{i}", "partner", False, rng) for i in range(9)]
    pools += [_pool(f"c{i}", "consortium", True, rng) for i in range(6)]
    scored: list[tuple[str, frozenset[str]]] = []

    class Seen:
        def __init__(self, trained: frozenset[str]) -> None:
            self.trained = trained

        def score(self, x: np.ndarray, **_: Any) -> np.ndarray:
            # which query asks is found by its pool's matrix (one per query)
            asking = next(p.query.spec.id for p in pools if p.x is x)
            scored.append((asking, self.trained))
            return np.zeros(len(x))

    def fake_fit(train_on: list[QueryPool], seed: int) -> Seen:
        kinds = {(p.query.spec.task, p.text) for p in train_on}
        assert len(kinds) == 1  # one model per task and query type
        return Seen(frozenset(p.query.spec.id for p in train_on))

    monkeypatch.setattr(ceiling_module, "fit", fake_fit)
    for p in pools:
        p.x = p.x.copy()  # distinct objects, so `Seen` can tell who asks
    out = cross_validated(pools, splits=3, seed=0, k=10)
    assert len(out) == 3 and all(len(s) == len(pools) for s in out)
    assert len(scored) == 3 * len(pools)
    for asking, trained in scored:
        assert asking not in trained and trained
        same_task = {p.query.spec.id for p in pools if p.query.spec.id[0] == asking[0]}
        assert trained <= same_task
    # every query is scored once per split
    assert sorted(a for a, _ in scored) == sorted([p.query.spec.id for p in pools] * 3)


def test_splits_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="splits"):
        ceiling(tmp_path / "p", tmp_path / "i", tmp_path / "q", splits=0)
