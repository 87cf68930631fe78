"""Features, the learned re-ranker (save/load, determinism) and training-data sampling."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.graph import Edge, InteractionGraph
from models.matching import Candidates, Party, features, score
from models.ranking import (
    FEATURES,
    INDEX,
    MONOTONE,
    Lifts,
    Reranker,
    Signals,
    averaged,
    feature_matrix,
    hand_score,
    product_fit,
    purpose_scores,
    train,
)
from models.training import group_lines, sample_holdout, sample_holdouts, strip_lines
from tests.support.worlds import toy_features


def _unit(*xs: float) -> np.ndarray:
    v = np.asarray(xs, dtype=np.float32)
    return v / np.linalg.norm(v)


def test_feature_matrix_columns() -> None:
    q = Party(
        key=0,
        kind="firm",
        country="JP",
        cluster="TAMA",
        industries=["bio"],
        markets=["IT"],
        languages=["ja", "en"],
        all=_unit(1, 0, 0),
        needs=_unit(0, 1, 0),
    )
    c1 = Party(
        key=1,
        kind="university",
        country="JP",
        cluster="TAMA",
        industries=["bio"],
        languages=["en"],
        all=_unit(1, 1, 0),
        offers=_unit(0, 1, 0),
    )
    c2 = Party(key=2, kind="trading_company", country="IT", all=_unit(0, 0, 1))
    g = InteractionGraph(
        4, [Edge(0, 1, "collaboration"), Edge(1, 3, "deal"), Edge(0, 3, "meeting")]
    )
    walk = g.spread({1: 1.0, 3: 0.5})
    kinds = np.asarray([0, 1, 3, 0])
    x = feature_matrix(
        q,
        Candidates.of([c1, c2], dim=3),
        Signals(lexical=np.asarray([0.4, 0.0]), dense_rr={1: 1.0}, lexical_rr={}, walk=walk),
        graph=g,
        q_node=0,
        lifts=Lifts(
            kind=g.kind_lift(kinds, 8),
            kind_code={"firm": 0, "university": 1, "trading_company": 3},
            country=np.asarray([[0.5, -1.0], [-1.0, 0.2]]),
            country_code={"JP": 0, "IT": 1},
        ),
    )
    assert x.shape == (2, len(FEATURES))
    assert x[:, INDEX["country_lift"]].tolist() == [0.5, -1.0]
    row1, row2 = x
    assert row1[INDEX["dense"]] == pytest.approx(np.sqrt(0.5), abs=1e-6)
    assert row1[INDEX["need_offer"]] == pytest.approx(1.0)
    assert np.isnan(row1[INDEX["offer_need"]]) and np.isnan(row2[INDEX["need_offer"]])
    assert row1[INDEX["lexical"]] == pytest.approx(0.4) and row1[INDEX["dense_rr"]] == 1.0
    assert row2[INDEX["dense_rr"]] == 0.0
    assert (row1[INDEX["same_country"]], row2[INDEX["same_country"]]) == (1.0, 0.0)
    assert row1[INDEX["same_cluster"]] == 1.0 and row1[INDEX["industry"]] == 1.0
    assert row2[INDEX["market"]] == 1.0 and row1[INDEX["language"]] == 1.0
    assert row1[INDEX["tie"]] == pytest.approx(np.log1p(1.0)) and row2[INDEX["tie"]] == 0
    assert row1[INDEX["common"]] == pytest.approx(np.log1p(1))  # node 3
    assert row1[INDEX["log_activity"]] == pytest.approx(np.log1p(2))
    assert row2[INDEX["log_activity"]] == 0.0
    assert row1[INDEX["query_log_activity"]] == pytest.approx(np.log1p(2))
    assert row1[INDEX["kind_lift"]] > row2[INDEX["kind_lift"]]
    # free-text queries have no graph position
    x_text = feature_matrix(
        q,
        Candidates.of([c1], dim=3),
        Signals(lexical=np.asarray([0.0]), dense_rr={}, lexical_rr={}),
        graph=g,
        q_node=None,
    )
    assert x_text[0, INDEX["tie"]] == 0 and x_text[0, INDEX["query_log_activity"]] == 0
    assert np.isnan(x_text[0, INDEX["kind_lift"]])
    # a country first seen after the lift was learned, or none, has no lift
    lift = np.asarray([[0.5]])
    c3 = Party(key=3, kind="firm", country="KR", all=_unit(0, 1, 1))
    x_new = feature_matrix(
        q,
        Candidates.of([c1, c3, c2], dim=3),
        Signals(lexical=np.zeros(3), dense_rr={}, lexical_rr={}),
        lifts=Lifts(
            kind=None, kind_code={}, country=lift, country_code={"JP": 0, "KR": 1, "IT": 2}
        ),
    )
    assert x_new[0, INDEX["country_lift"]] == 0.5
    assert np.isnan(x_new[1:, INDEX["country_lift"]]).all()
    bare = Party(key=5, kind="firm", all=_unit(1, 0, 0))
    x_bare = feature_matrix(
        bare,
        Candidates.of([c1], dim=3),
        Signals(lexical=np.zeros(1), dense_rr={}, lexical_rr={}),
        lifts=Lifts(kind=None, kind_code={}, country=lift, country_code={"JP": 0}),
    )
    assert np.isnan(x_bare[0, INDEX["country_lift"]])
    assert hand_score(x)[0] > hand_score(x)[1]


def test_feature_columns_agree_with_pairwise_features() -> None:
    """The column-at-a-time computation gives what the per-pair definition gives, for
    candidates with and without each facet and field."""
    rng = np.random.default_rng(3)

    def vec() -> np.ndarray | None:
        return None if rng.random() < 0.3 else _unit(*rng.normal(size=4))

    def pick(options: list[str]) -> list[str]:
        return [o for o in options if rng.random() < 0.4]

    q = Party(
        key=0,
        kind="firm",
        country="JP",
        cluster="TAMA",
        industries=["bio", "Medical"],
        markets=["IT", "KR"],
        languages=["ja", "en"],
        all=_unit(1, 2, 0, 1),
        offers=_unit(0, 1, 1, 0),
        needs=_unit(1, 0, 0, 1),
    )
    cands = [
        Party(
            key=i,
            kind=str(rng.choice(["firm", "university", "trading_company"])),
            country=None if rng.random() < 0.2 else str(rng.choice(["JP", "IT", "KR"])),
            cluster=None if rng.random() < 0.5 else str(rng.choice(["TAMA", "Kyushu"])),
            industries=pick(["BIO", "medical", "robotics"]),
            markets=pick(["IT", "KR", "US"]),
            languages=pick(["ja", "en", "it"]),
            all=vec(),
            offers=vec(),
            needs=vec(),
        )
        for i in range(1, 60)
    ]
    block = Candidates.of(cands, dim=4)
    for i, c in enumerate(cands):  # the round trip keeps every field
        back = block.party(i)
        assert (back.key, back.kind, back.country, back.cluster) == (
            c.key,
            c.kind,
            c.country,
            c.cluster,
        )
        assert (back.industries, back.markets, back.languages) == (
            c.industries,
            c.markets,
            c.languages,
        )
        for facet in ("all", "offers", "needs"):
            got, want = getattr(back, facet), getattr(c, facet)
            assert (got is None) == (want is None)
            assert want is None or np.array_equal(got, want)
    x = feature_matrix(q, block, Signals(lexical=np.zeros(len(cands)), dense_rr={}, lexical_rr={}))
    for i, c in enumerate(cands):
        f = features(q, c, "partner")
        row = x[i]
        if c.all is None:
            assert np.isnan(row[INDEX["dense"]])
        else:
            assert row[INDEX["dense"]] == pytest.approx(f["topic"], abs=1e-6)
        for name in ("need_offer", "offer_need"):
            if name in f:
                assert row[INDEX[name]] == pytest.approx(f[name], abs=1e-6)
            else:
                assert np.isnan(row[INDEX[name]])
        assert row[INDEX["industry"]] == pytest.approx(f["industry"])
        assert row[INDEX["same_cluster"]] == f["cluster"]
        assert row[INDEX["market"]] == pytest.approx(f["market"])
        assert row[INDEX["language"]] == f["language"]
        if c.country is None:
            assert np.isnan(row[INDEX["same_country"]])
        else:
            assert row[INDEX["same_country"]] == float(c.country == "JP")
    # the hand-weighted purpose score, a column at a time, is the per-pair one; also for a
    # query without offers / needs (the fallbacks) and one of an academic kind
    bare = Party(key=0, kind="university", country="JP", all=_unit(1, 2, 0, 1))
    for query in (q, bare):
        x = feature_matrix(
            query, block, Signals(lexical=np.zeros(len(cands)), dense_rr={}, lexical_rr={})
        )
        for purpose in ("partner", "buyer", "overseas", "academia"):
            want = [score(features(query, c, purpose), purpose) for c in cands]
            if purpose == "buyer":  # its product fit is measured against the pool
                fit = product_fit(query, block, x)
                want = [
                    score({**features(query, c, purpose), "demand": fit[i]}, purpose)
                    for i, c in enumerate(cands)
                ]
            got = purpose_scores(query, block, x, purpose)
            assert got == pytest.approx(want, abs=1e-6), purpose


def test_training_is_deterministic_and_learns(tmp_path: Path) -> None:
    x, y = toy_features()
    a, b = train(x, y, seed=7, max_iter=50), train(x, y, seed=7, max_iter=50)
    assert np.array_equal(a.score(x), b.score(x))
    assert ((a.score(x) > 0.5) == y).mean() > 0.9
    contrib = a.contributions(x[:5])
    assert contrib.shape == (5, len(FEATURES))
    top = np.abs(contrib).sum(axis=0).argsort()[::-1][:2]
    assert {FEATURES[i] for i in top} == {"dense", "tie"}
    # scores the caller already has give the same contributions
    assert np.array_equal(a.contributions(x[:5], a.score(x)[:5]), contrib)
    # only the features asked for are computed (the reasons name 13 of them); the rest are 0
    some = a.contributions(x[:5], names={"dense", "lexical"})
    cols = [INDEX["dense"], INDEX["lexical"]]
    assert np.allclose(some[:, cols], contrib[:, cols])
    assert not np.delete(some, cols, axis=1).any() and np.delete(contrib, cols, axis=1).any()
    path = tmp_path / "r.bin"
    a.save(path)
    back = Reranker.load(path)
    assert np.array_equal(back.score(x), a.score(x)) and back.meta["seed"] == 7
    raw = path.read_bytes()
    path.write_bytes(raw[:-10] + b"0" * 10)
    with pytest.raises(ValueError, match="corrupt"):
        Reranker.load(path)
    path.write_bytes(b"\x01")
    with pytest.raises(ValueError):
        Reranker.load(path)


def test_ranker_is_deterministic_learns_and_round_trips(tmp_path: Path) -> None:
    x, y = toy_features()
    groups = [50] * (len(y) // 50)
    assert sum(groups) == len(y)
    a = train(x, y, seed=7, max_iter=50, groups=groups)
    b = train(x, y, seed=7, max_iter=50, groups=groups)
    assert a.meta["objective"] == "lambdarank"
    s = a.score(x)
    assert np.array_equal(s, b.score(x))
    assert ((s > 0) & (s < 1)).all()
    # within each query's pool, the positives come first
    hits = [
        y[i : i + 50][np.argsort(-s[i : i + 50])][: max(1, int(y[i : i + 50].sum()))].mean()
        for i in range(0, len(y), 50)
        if y[i : i + 50].any()
    ]
    assert np.mean(hits) > 0.8
    contrib = a.contributions(x[:5], s[:5])
    top = np.abs(contrib).sum(axis=0).argsort()[::-1][:2]
    assert {FEATURES[i] for i in top} == {"dense", "tie"}
    path = tmp_path / "r.bin"
    a.save(path)
    back = Reranker.load(path)
    assert np.array_equal(back.score(x), s) and back.meta["objective"] == "lambdarank"
    with pytest.raises(ValueError, match="groups"):
        train(x, y, groups=[10])


@pytest.mark.parametrize("groups", [None, [100] * 40], ids=["classifier", "lambdarank"])
def test_learned_score_never_falls_as_a_constrained_feature_rises(
    groups: list[int] | None,
) -> None:
    """Training data where mid-range activity looks best (a bump that replayed history
    can show by chance): the model may not learn that a more active partner scores
    lower, whatever the other features say; the classifier and the ranker alike."""
    rng = np.random.default_rng(0)
    n = 4000
    x = np.full((n, len(FEATURES)), np.nan)
    act = rng.uniform(0, 6, n)
    x[:, INDEX["log_activity"]] = act
    x[:, INDEX["dense"]] = rng.uniform(0, 1, n)
    y = ((np.abs(act - 3) < 1) | (rng.uniform(size=n) < 0.05)).astype(np.int8)
    model = train(x, y, seed=0, max_iter=50, groups=groups)
    grid = np.repeat(x[:50], 7, axis=0)
    grid[:, INDEX["log_activity"]] = np.tile(np.arange(7.0), 50)
    scores = model.score(grid).reshape(50, 7)
    assert (np.diff(scores, axis=1) >= -1e-12).all()
    assert MONOTONE["log_activity"] == 1 and MONOTONE.get("same_country", 0) == 0


def _project_edges() -> list[Edge]:
    """40 projects of three consecutive members each (3 collaborations per project)."""
    edges = []
    for p in range(40):
        members = [p, p + 1, p + 2]
        edges += [
            Edge(a, b, "collaboration", f"project:{p}") for a in members for b in members if a < b
        ]
    return edges


def test_holdout_sampling() -> None:
    edges = _project_edges()
    edges.append(Edge(0, 50, "declined", "x"))
    h1 = sample_holdout(edges, seed=3, fraction=0.25)
    h2 = sample_holdout(edges, seed=3, fraction=0.25)
    h3 = sample_holdout(edges, seed=4, fraction=0.25)
    assert [q.node for q in h1.queries] == [q.node for q in h2.queries]
    assert [q.node for q in h1.queries] != [q.node for q in h3.queries]
    assert h1.held_groups == 10
    held = {g for q in h1.queries for g in q.groups}
    assert len(held) == 10
    assert all(e.context not in held for e in h1.kept)
    assert len(h1.kept) == len(edges) - 30
    for q in h1.queries:
        assert q.node not in q.relevant and q.relevant
    assert len(sample_holdout(edges, seed=3, fraction=0.25, max_queries=5).queries) == 5


def test_holdout_rounds_split_one_sample() -> None:
    edges = _project_edges()
    one = sample_holdouts(edges, seed=3, fraction=0.3, rounds=1)
    assert len(one) == 1
    assert [q.node for q in one[0].queries] == [
        q.node for q in sample_holdout(edges, seed=3, fraction=0.3).queries
    ]
    parts = sample_holdouts(edges, seed=3, fraction=0.3, rounds=3)
    assert len(parts) == 3
    held = [set(h.members) for h in parts]
    # the same groups as one round, split into disjoint parts of about equal size
    assert set().union(*held) == set(one[0].members)
    assert sum(len(h) for h in held) == len(one[0].members) == 12
    assert all(len(h) == 4 for h in held)
    for h, groups in zip(parts, held, strict=True):
        # each world misses only its own part of the history
        assert len(h.kept) == len(edges) - 3 * len(groups)
        assert all(e.context not in groups for e in h.kept)
        assert {g for q in h.queries for g in q.groups} == groups
    capped = sample_holdouts(edges, seed=3, fraction=0.3, rounds=3, max_queries=7)
    assert sum(len(h.queries) for h in capped) == 7
    again = sample_holdouts(edges, seed=3, fraction=0.3, rounds=3)
    assert [set(h.members) for h in again] == held


def test_held_out_group_text_is_stripped() -> None:
    query = "Project A — topic\nProject B — topic\nOwn line"
    members = [query, "Project A — topic\nProject B — topic", "Project A — topic\nElse"]
    assert group_lines(members) == {"Project A — topic"}  # B is not every member's
    assert strip_lines(query, group_lines(members)) == "Project B — topic\nOwn line"
    assert strip_lines(query, set()) == query
    assert group_lines([]) == set()


def test_relative_columns_and_line_votes() -> None:
    from models.ranking import RELATIVE, query_balanced_weights, relative_columns

    q = Party(key=0, kind="firm", all=_unit(1, 0, 0))
    cands = Candidates.of([Party(key=k, kind="firm", all=_unit(1, 1, 0)) for k in (1, 2, 3)], dim=3)
    g = InteractionGraph(5, [Edge(1, 2, "collaboration"), Edge(2, 3, "collaboration")])
    votes = np.asarray([0.0, 0.5, 2.0, 0.0, 9.0], dtype=np.float32)  # 4 is not a candidate
    x = feature_matrix(
        q,
        cands,
        Signals(lexical=np.zeros(3), dense_rr={}, lexical_rr={}, line_lexical=votes),
        graph=g,
    )
    assert x[:, INDEX["line_lexical"]].tolist() == [0.5, 2.0, 0.0]
    assert x[:, INDEX["line_dense"]].tolist() == [0.0, 0.0, 0.0]
    # relative to the best candidate of this pool, not of the whole catalogue
    assert x[:, INDEX["line_lexical_rel"]].tolist() == [0.25, 1.0, 0.0]
    assert x[:, INDEX["line_dense_rel"]].tolist() == [0.0, 0.0, 0.0]
    assert x[:, INDEX["log_activity_rel"]] == pytest.approx(
        [np.log1p(1) / np.log1p(2), 1, np.log1p(1) / np.log1p(2)]
    )
    assert all(MONOTONE[name + "_rel"] == 1 for name in RELATIVE)
    y = x.copy()
    y[:, INDEX["line_lexical"]] = np.nan
    relative_columns(y)
    assert y[:, INDEX["line_lexical_rel"]].tolist() == [0.0, 0.0, 0.0]
    # query-balanced weights: positives and negatives of each query weigh the same
    w = query_balanced_weights([np.asarray([1, 0, 0, 0]), np.asarray([1, 1, 0])])
    assert w.mean() == pytest.approx(1.0)
    assert w[0] == pytest.approx(w[1:4].sum()) and w[4] + w[5] == pytest.approx(w[6])
    assert w[:4].sum() == pytest.approx(w[4:].sum())


def test_each_query_type_has_its_ranker_and_averages_are_means(tmp_path: Path) -> None:
    """Rankers of two objectives on the same pools; `averaged` scores by the mean raw score
    of its parts, and free-text queries (text=True) by the text parts."""
    x, y = toy_features()
    groups = [50] * (len(y) // 50)
    xe = [train(x, y, seed=s, max_iter=30, groups=groups, objective="rank_xendcg") for s in (1, 2)]
    lr = train(x, y, seed=1, max_iter=30, groups=groups)
    assert xe[0].meta["objective"] == "rank_xendcg" and lr.meta["objective"] == "lambdarank"
    both = averaged(xe, [lr])
    raw = np.mean([m.model.predict(x) for m in xe], axis=0)
    assert np.allclose(both.score(x), 1 / (1 + np.exp(-raw)))
    assert np.array_equal(both.score(x, text=True), lr.score(x))
    assert not np.allclose(both.score(x), both.score(x, text=True))
    assert both.meta["members"] == 2 and both.meta["text_objective"] == "lambdarank"
    assert both.meta["rows"] == 2 * len(y)
    # contributions follow the query type's model
    assert np.allclose(both.contributions(x[:5], text=True), lr.contributions(x[:5]))
    # saved and loaded, both models come back
    path = tmp_path / "r.bin"
    both.save(path)
    back = Reranker.load(path)
    assert np.array_equal(back.score(x), both.score(x))
    assert np.array_equal(back.score(x, text=True), both.score(x, text=True))
    # one model only: it scores free text too
    assert np.array_equal(lr.score(x, text=True), lr.score(x))
    with pytest.raises(ValueError, match="objective"):
        train(x, y, groups=groups, objective="pairwise")
    with pytest.raises(ValueError):
        averaged([])
