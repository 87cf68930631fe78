"""Lexical similarity (models.lexical): TF-IDF on character n-grams, search, writes, persistence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from models.lexical import LexicalIndex


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
