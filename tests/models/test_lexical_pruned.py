"""The pruned lexical index of large catalogues (models.lexical_pruned): pruned rows,
search and similarity against the same pruned rows' products, writes, files, copies."""

from __future__ import annotations

import mmap
import os
from pathlib import Path

import numpy as np
import pytest
from scipy import sparse

from models.lexical_pruned import PrunedLexicalIndex, prune_rows

TEXTS = [
    "精密歯車の製造と販売、ロボット関節向けの減速機",
    "医療機器の研究開発と臨床試験の支援",
    "바이오 의약품 위탁생산과 세포 배양",
    "precision gear maker for robot joints and machine tools",
    "半導体ウェーハ洗浄装置の設計",
    "바이오 소재 연구와 효소 공학",
    "titanium eyeglass frames for European distributors",
    "チタン製メガネフレームの欧州向け販売",
    "aerospace landing gear parts and heat resistant tiles",
    "精密歯車の研削加工と検査",
] * 3


def mapped(array: object) -> bool:
    """Whether an array's memory is a mapped file (through its chain of bases)."""
    while array is not None:
        if isinstance(array, np.memmap | mmap.mmap):
            return True
        array = getattr(array, "base", None)
    return False


def index(terms: int = 24) -> PrunedLexicalIndex:
    texts = {i + 1: f"{t} {i}" for i, t in enumerate(TEXTS)}
    lex = PrunedLexicalIndex(texts.__getitem__, min_df=1, terms=terms)
    lex.fit(list(texts), list(texts.values()))
    return lex


def test_rows_keep_their_heaviest_terms_at_unit_length() -> None:
    rng = np.random.default_rng(0)
    rows = sparse.random(20, 300, density=0.2, format="csr", dtype=np.float32, random_state=rng)
    pruned = prune_rows(rows, 10)
    for i in range(20):
        full, kept = rows[i], pruned[i]
        assert kept.nnz == min(10, full.nnz)
        assert np.isclose(np.linalg.norm(kept.data), 1.0, atol=1e-5)
        heaviest = set(full.indices[np.argsort(-full.data, kind="stable")[:10]].tolist())
        assert set(kept.indices.tolist()) == heaviest
        assert np.all(np.diff(kept.indices) > 0)


def test_search_and_similarity_are_the_pruned_rows_products() -> None:
    lex = index()
    rows = {k: r for k in range(1, len(TEXTS) + 1) if (r := lex.row(k)) is not None}
    q = lex.transform(["精密歯車メーカー"])
    hits = lex.search(q, 5)
    want = sorted(
        ((k, float((q @ r.T).toarray()[0, 0])) for k, r in rows.items()),
        key=lambda h: (-h[1], h[0]),
    )
    want = [h for h in want if h[1] > 0][:5]
    assert [k for k, _ in hits] == [k for k, _ in want]
    np.testing.assert_allclose([s for _, s in hits], [s for _, s in want], atol=1e-5)
    keys = [1, 4, 10, 999]
    sims = lex.similarity(q, keys)
    expected = [float((q @ rows[k].T).toarray()[0, 0]) if k in rows else 0.0 for k in keys]
    np.testing.assert_allclose(sims, expected, atol=1e-5)
    assert sims[3] == 0
    own = lex.similarity(lex.transform([TEXTS[0] + " 0"]), [1, 2, 4])
    assert own[0] > 0.99 and own[0] > own[1] and own[0] > own[2]


def test_filters_and_exclusions() -> None:
    lex = index()
    q = lex.transform(["바이오 의약품"])
    assert lex.search(q, 3)[0][0] in (3, 13, 23)
    hits = lex.search(q, 3, allowed=np.asarray([1, 3, 13]), exclude=[3])
    assert [k for k, _ in hits] == [13]


def test_writes_go_to_the_delta_then_into_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    lex = index()
    lex.delta_limit = 4
    q = lex.transform(["精密歯車"])
    lex.upsert([1], ["aerospace tiles only"])
    lex.upsert([100], ["精密歯車の新工場"])
    lex.remove([10])
    assert len(lex) == len(TEXTS)  # +100, -10
    got = [k for k, _ in lex.search(q, 30)]
    assert 100 in got and 1 not in got and 10 not in got
    assert lex.similarity(q, [100])[0] > 0 and lex.similarity(q, [10])[0] == 0
    lex.upsert([101, 102], ["精密歯車", "gears"])  # past the limit: rebuilt
    state = lex._state
    assert state is not None and not state.delta and not state.stale
    got = [k for k, _ in lex.search(q, 30)]
    assert 100 in got and 101 in got and 1 not in got and 10 not in got


def test_saved_index_is_mapped_and_linked(tmp_path: Path) -> None:
    lex = index()
    lex.upsert([50], ["チタン製メガネフレーム"])
    q = lex.transform(["メガネフレーム"])
    pool = tmp_path / "pool"
    lex.save(tmp_path / "gen1", pool)
    back = PrunedLexicalIndex.load(tmp_path / "gen1", pool, lex.text_of)
    assert back.search(q, 5) == lex.search(q, 5) and len(back) == len(lex)
    state = back._state
    assert state is not None and mapped(state.base.matrix.data)
    back.save(tmp_path / "gen2", pool)
    assert os.path.samefile(tmp_path / "gen1" / "data.npy", tmp_path / "gen2" / "data.npy")


def test_a_copy_keeps_its_writes() -> None:
    lex = index()
    world = lex.copy()
    world.upsert([1], ["something else entirely"])
    q = lex.transform([TEXTS[0] + " 0"])
    assert lex.similarity(q, [1])[0] > 0.99 and world.similarity(q, [1])[0] < 0.2


def test_a_search_scores_the_delta_as_it_scores_the_base() -> None:
    """Half the rows written after the fit (in the delta, stacked for the search) give the
    same hits, scores, filters and exclusions as the same rows in the inverted index."""
    texts = {i + 1: f"{t} {i}" for i, t in enumerate(TEXTS)}
    keys = list(texts)
    whole = PrunedLexicalIndex(texts.__getitem__, min_df=1, terms=24)
    whole.fit(keys, list(texts.values()))
    split = PrunedLexicalIndex(texts.__getitem__, min_df=1, terms=24)
    split.fit(keys, list(texts.values()))
    late = keys[::2]
    split.upsert(late, [texts[k] for k in late])  # (same rows, now in the delta)
    state = split._state
    assert state is not None and len(state.delta) == len(late)
    for text in ("精密歯車メーカー", "바이오 의약품", "titanium frames", "ウェーハ"):
        q = whole.transform([text])
        for allowed, exclude in (
            (None, ()),
            (np.asarray([1, 2, 3, 13, 14, 23, 24, 999]), ()),
            (None, [1, 3, 5]),
            (np.asarray(keys[5:20]), [7, 8]),
        ):
            a = whole.search(q, 7, allowed=allowed, exclude=exclude)
            b = split.search(q, 7, allowed=allowed, exclude=exclude)
            assert [k for k, _ in a] == [k for k, _ in b], (text, allowed, exclude)
            np.testing.assert_allclose([s for _, s in a], [s for _, s in b], atol=1e-5)
