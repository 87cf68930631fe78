"""Pure pieces of the ranking: metrics, the interaction network, lexical similarity."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest

from models.graph import Edge, InteractionGraph
from models.lexical import LexicalIndex
from models.metrics import mrr, ndcg_at_k, recall_at_k, summarize


def test_metrics_by_hand() -> None:
    ranked = ["a", "x", "b", "y"]
    assert recall_at_k(ranked, {"a", "b", "c"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, {"a", "b", "c"}, 4) == pytest.approx(2 / 3)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, {"a", "b", "c"}, 4) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert mrr(ranked, {"b"}) == pytest.approx(1 / 3)
    assert mrr(ranked, {"b"}, k=2) == 0.0
    assert recall_at_k(ranked, set(), 2) == 0.0
    assert summarize([(1.0, 0.5, 1.0), (0.0, 0.0, 0.0)]) == {
        "recall": 0.5,
        "ndcg": 0.25,
        "mrr": 0.5,
        "n": 2,
    }


def _graph() -> InteractionGraph:
    today = dt.date(2026, 1, 1)
    edges = [
        Edge(0, 1, "collaboration", "p1", dt.date(2025, 12, 1)),
        Edge(0, 2, "collaboration", "p1"),
        Edge(1, 2, "collaboration", "p1"),
        Edge(2, 3, "deal", "d1", dt.date(2025, 1, 1)),
        Edge(3, 4, "meeting", "m"),
        Edge(0, 4, "declined", "x"),
        Edge(1, 1, "meeting", "self"),  # ignored
    ]
    return InteractionGraph(6, edges, today=today)


def test_graph_features() -> None:
    g = _graph()
    assert g.edges == 5
    assert g.activity.tolist() == [2, 2, 3, 2, 1, 0]
    assert (0, 4) in g.declined and g.ties(0, [4]).tolist() == [0.0]
    assert g.ties(2, [3, 0]).tolist() == [1.5, 1.0]
    common, aa = g.common_and_aa(0, [1, 3, 5])
    assert common.tolist() == [1, 1, 0]  # 0-1 share 2; 0-3 share 2
    assert aa[0] == pytest.approx(1 / math.log(4)) and aa[2] == 0
    assert g.days_since[0] == 31 and g.days_since[3] == 365 and np.isnan(g.days_since[4])
    walk = g.spread({0: 1.0})
    assert walk[1] == pytest.approx(0.5) and walk[2] == pytest.approx(0.5) and walk[3] == 0
    assert g.popular(2).tolist() == [2, 0]
    assert not g.has(5) and g.has(4)


def test_kind_lift_prefers_observed_pairs() -> None:
    # kinds: 0 firm, 1 university; firms only ever work with universities
    edges = [Edge(a, b, "collaboration") for a in range(0, 6) for b in range(6, 9)]
    g = InteractionGraph(9, edges)
    kinds = np.asarray([0] * 6 + [1] * 3)
    lift = g.kind_lift(kinds, 2)
    assert lift[0, 1] > 0 > lift[0, 0]
    assert lift[0, 1] == pytest.approx(lift[1, 0])


def test_ppr_weighs_small_groups_and_reaches_partners_of_partners() -> None:
    # node 0 was in a pair project with 1 and in a five-member project with 2..5;
    # 1 also worked with 6 (a partner of a partner); 7 is unconnected
    edges = [Edge(0, 1, "collaboration", "p:small")]
    big = [0, 2, 3, 4, 5]
    edges += [Edge(a, b, "collaboration", "p:big") for a in big for b in big if a < b]
    edges.append(Edge(1, 6, "collaboration", "p:other"))
    g = InteractionGraph(8, edges)
    v = g.ppr({0: 1.0})
    assert v[1] > v[2] > 0  # met in a pair beats one of five
    assert v[2] == pytest.approx(v[5])
    assert v[6] > 0 and v[7] == 0  # partners of partners are reached
    assert g.ppr({}).sum() == 0 and g.ppr({99: 1.0}).sum() == 0


def test_lexical_works_for_japanese_and_korean() -> None:
    lex = LexicalIndex()
    texts = [
        "精密歯車の製造と販売",
        "医療機器の研究開発",
        "바이오 의약품 위탁생산",
        "precision gear maker",
        "半導体ウェーハ洗浄装置",
        "바이오 소재 연구",
    ]
    lex.fit(list(range(len(texts))), texts)
    hits = lex.search(lex.transform(["歯車メーカー"]), 3)
    assert hits[0][0] == 0
    hits = lex.search(lex.transform(["바이오 의약품"]), 3, exclude=[2])
    assert hits[0][0] == 5
    hits = lex.search(lex.transform(["바이오 의약품"]), 3, allowed=np.asarray([0, 1, 5]))
    assert next(k for k, _ in hits) == 5 and 2 not in [k for k, _ in hits]
    sims = lex.similarity(lex.transform(["精密歯車"]), [0, 1, 99])
    assert sims[0] > sims[1] >= 0 and sims[2] == 0
    lex.remove([0])
    assert all(k != 0 for k, _ in lex.search(lex.transform(["精密歯車"]), 5))
    lex.upsert([7], ["精密歯車の新工場"])
    assert lex.search(lex.transform(["精密歯車"]), 1)[0][0] == 7


def test_lexical_search_reads_the_heaviest_ngrams_within_a_posting_budget() -> None:
    """Exact below the budget; above it only the query's rarest n-grams are read, and
    the row that shares them still comes first (the exact similarity is unchanged)."""
    rng = np.random.default_rng(0)
    words = ["gear", "motor", "sensor", "valve", "pump", "laser", "steel", "resin"]
    texts = [" ".join(rng.choice(words, 6)) for _ in range(300)]
    texts.append("gear motor cryogenic zirconia bearings")  # key 300: the rare words
    exact = LexicalIndex()
    exact.fit(list(range(len(texts))), texts)
    pruned = LexicalIndex(posting_budget=50)
    pruned.fit(list(range(len(texts))), texts)
    q = exact.transform(["cryogenic zirconia bearings for a gear motor"])
    full = exact.search(q, 5)
    cut = pruned.search(q, 5)
    assert full[0][0] == cut[0][0] == 300
    assert cut[0][1] < full[0][1]  # a partial dot product: fewer n-grams were read
    assert pruned.similarity(q, [300])[0] == pytest.approx(full[0][1], rel=1e-5)
    # filters still apply on the pruned path
    assert 300 not in [k for k, _ in pruned.search(q, 5, exclude=[300])]
    only = pruned.search(q, 5, allowed=np.asarray([3, 4, 300, 10_000]))
    assert {k for k, _ in only} <= {3, 4, 300}


@pytest.mark.parametrize("strided", [True, False])
def test_weighted_columns_is_the_product_of_the_picked_columns(
    strided: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The column-pointer trick (scipy's compiled product, no column copy) and the plain
    slice-and-multiply path give the same scores, for any order of the picked columns."""
    from scipy import sparse

    import models.lexical as lexical

    assert lexical.STRIDED  # the fast path is in use with this scipy
    monkeypatch.setattr(lexical, "STRIDED", strided)
    rng = np.random.default_rng(5)
    m = sparse.random(400, 300, density=0.05, format="csc", dtype=np.float32, random_state=rng)
    dense = m.toarray()
    for size in (1, 2, 37, 300):
        terms = rng.permutation(300)[:size].astype(m.indices.dtype)
        weights = rng.random(size).astype(np.float32)
        got = lexical.weighted_columns(m, terms, weights)
        assert got.dtype == np.float32 and got.shape == (400,)
        np.testing.assert_allclose(got, dense[:, terms] @ weights, rtol=1e-5, atol=1e-6)
    assert not lexical.weighted_columns(m, terms[:0], weights[:0]).any()


@pytest.mark.parametrize("delta_limit", [0, 1_000])
def test_lexical_writes_are_searchable_with_or_without_a_restack(delta_limit: int) -> None:
    """A write lands in the delta (or restacks the index past the limit); either way a
    search sees the new text, never the replaced one, and never a removed row."""
    lex = LexicalIndex(delta_limit=delta_limit)
    lex.fit([1, 2, 3], ["precision gear maker", "medical device research", "steel forging"])
    lex.upsert([2], ["cryogenic pump design"])  # replaces a stacked row
    lex.upsert([4], ["medical device startup"])  # a new row
    hits = dict(lex.search(lex.transform(["medical device"]), 5))
    assert hits[4] > 0.8 and hits.get(2, 0.0) < 0.5  # 2 is scored on its new text only
    assert lex.search(lex.transform(["cryogenic pump"]), 1)[0][0] == 2
    assert 4 not in dict(lex.search(lex.transform(["medical device"]), 5, exclude=[4]))
    assert 4 not in dict(
        lex.search(lex.transform(["medical device"]), 5, allowed=np.asarray([1, 2]))
    )
    lex.remove([4, 1])
    assert not {1, 4} & set(dict(lex.search(lex.transform(["medical device startup"]), 5)))
    assert not {1, 4} & set(dict(lex.search(lex.transform(["precision gear"]), 5)))
    assert lex.similarity(lex.transform(["cryogenic pump"]), [2, 4])[1] == 0


def test_lexical_query_from_before_a_refit_is_harmless() -> None:
    """A request that transformed its text just before another thread refitted the
    vocabulary gets no lexical hits, not an error."""
    lex = LexicalIndex()
    lex.fit([1, 2], ["alpha beta", "gamma delta"])
    q = lex.transform(["alpha"])
    lex.fit([1, 2, 3], ["alpha beta", "gamma delta", "epsilon zeta eta theta iota kappa"])
    assert q.shape[1] != lex.transform(["alpha"]).shape[1]
    assert lex.search(q, 5) == []
    assert (lex.similarity(q, [1, 2, 3]) == 0).all()


def test_lexical_save_load(tmp_path: Path) -> None:
    lex = LexicalIndex()
    lex.fit([1, 2], ["alpha beta", "gamma delta"])
    lex.save(tmp_path / "lex.pkl")
    back = LexicalIndex.load(tmp_path / "lex.pkl")
    q = back.transform(["alpha"])
    assert back.search(q, 1)[0][0] == 1 and len(back) == 2
    (tmp_path / "bad.pkl").write_bytes(b"\x80\x04N.")
    with pytest.raises(ValueError):
        LexicalIndex.load(tmp_path / "bad.pkl")


def test_script_detection() -> None:
    from models.lexical import script

    assert script("株式会社テスト 精密歯車") == "cjk"
    assert script("바이오 의약품 위탁생산") == "hangul"
    assert script("Ingranaggi di precisione, città") == "latin"
    assert script("Точная механика") == "cyrillic"
    assert script("1234 — !!") == "other"
