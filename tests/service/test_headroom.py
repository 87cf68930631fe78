"""The headroom diagnostic (service.offline.headroom): its official figures are the evaluation's,
its cross-validation splits the answers' units (held-out projects) rather than queries,
so no model is scored on a project whose participants it saw asked for, and no order of a
pool beats the pool's best order."""

from __future__ import annotations

import json
import random
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.encoders import HashingEncoder
from service.offline import headroom as headroom_module
from service.offline.evaluation import EvalQuery, QuerySpec, evaluate
from service.offline.headroom import QueryPool, answer_units, cross_validated, headroom
from tests.support.worlds import TOPICS, topic_world

HELD = 40  # the last projects of the world are the queries' answers, not history


def _files(tmp_path: Path, texts: int = HELD) -> tuple[Path, Path, Path]:
    """The topic world (tests.support.worlds) with its last projects held out: each member
    asks for its partners there, and the first `texts` of them are asked for by text."""
    orgs, rows = topic_world()
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
    for c in held[:texts]:
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


def test_headroom_reports_the_evaluations_figures_and_splits_projects(tmp_path: Path) -> None:
    profiles, interactions, queries = _files(tmp_path)
    result = headroom(profiles, interactions, queries, encoder=HashingEncoder(), splits=2)
    assert result["setup"]["ranker"]["method"] == "learned"
    assert result["split_by"] == "answer units"
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
        assert mine["pool"] >= mine["system"] - 1e-9  # nothing beats relevant-first
        cv = mine["cv"]
        assert cv["tested"] > 0
        lo, hi = cv["on_answers_range"]
        assert lo <= cv["on_answers"] <= hi <= mine["pool"] + 1e-9
    # communities are easy: trained on the answers, the model beats popularity
    cv = result["tasks"]["partner"]["cv"]
    assert cv["on_answers"] > cv["popularity"]


def test_without_units_covering_the_answers_queries_are_split_and_flagged(
    tmp_path: Path,
) -> None:
    profiles, interactions, queries = _files(tmp_path, texts=5)
    result = headroom(profiles, interactions, queries, encoder=HashingEncoder(), splits=1)
    assert result["split_by"].startswith("queries (leaky")


def _pool(spec: QuerySpec, relevant: set[str], everyone: list[str]) -> QueryPool:
    ids = [o for o in everyone if o != spec.profile_id]
    n = len(ids)
    q = EvalQuery(spec, frozenset(relevant))
    return QueryPool(q, ids, np.arange(n), np.zeros((n, 3)), bool(spec.text), np.zeros(n))


def test_answer_units_and_the_split_keep_projects_on_one_side(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = random.Random(3)
    everyone = [f"o{i}" for i in range(12)]
    projects = {f"consortium:{j}": set(rng.sample(everyone, 4)) for j in range(8)}
    pools = [
        _pool(QuerySpec(id=name, task="consortium", text="t"), members, everyone)
        for name, members in projects.items()
    ]
    academic = set(everyone[:6])
    for o in everyone:
        mine = set().union(*(m for m in projects.values() if o in m)) - {o}
        if mine:
            pools.append(
                _pool(QuerySpec(id=f"partner:{o}", task="partner", profile_id=o), mine, everyone)
            )
        if mine & academic:  # a filtered query: only its academic partners are answers
            spec = QuerySpec(id=f"academia:{o}", task="partner", profile_id=o)
            pools.append(_pool(spec, mine & academic, everyone))
    wanted = {p.query.spec.id: p.query.relevant for p in pools}
    units = answer_units(pools)
    assert units == {name: frozenset(m) for name, m in projects.items()}
    fits: list[dict[str, set[str]]] = []  # per model: query -> the positives it learned

    class Recorder:
        def __init__(self, learned: dict[str, set[str]]) -> None:
            self.learned = learned

        def score(self, x: np.ndarray, **_: Any) -> np.ndarray:
            return np.zeros(len(x))

    def fake_fit(rows: list[tuple[QueryPool, np.ndarray]], seed: int) -> Recorder:
        assert len({(p.query.spec.task, p.text) for p, _ in rows}) == 1  # one type per model
        learned = {
            p.query.spec.id: {i for i, v in zip(p.ids, y, strict=True) if v} for p, y in rows
        }
        fits.append(learned)
        return Recorder(learned)

    monkeypatch.setattr(headroom_module, "fit", fake_fit)
    tested, leaky = cross_validated(pools, splits=2, seed=0, k=10)
    assert not leaky and len(tested) == 2 and len(fits) == 2 * 2 * 2  # splits, folds, types
    for f in range(0, len(fits), 2):
        texts, profiles = fits[f], fits[f + 1]
        if "partner:" in next(iter(texts)):
            texts, profiles = profiles, texts
        trained_units = set(texts)
        members = set().union(*(projects[u] for u in trained_units))
        assert profiles
        for qid, positives in profiles.items():
            me = qid.split(":")[1]
            mine = set().union(*(projects[u] for u in trained_units if me in projects[u]))
            # its partners in the training projects only (those its filter admits)
            assert positives == (mine - {me}) & wanted[qid]
            assert positives <= members
    # every query is tested where it has answers on the test side: text queries once per
    # split, profiles once per side they have partners on
    for split in tested:
        asked = [pools[t.query].query.spec.id for t in split]
        assert sorted(q for q in asked if q.startswith("consortium")) == sorted(projects)


def test_splits_must_be_positive(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="splits"):
        headroom(tmp_path / "p", tmp_path / "i", tmp_path / "q", splits=0)
