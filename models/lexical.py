"""Lexical similarity: TF-IDF on character n-grams (within word boundaries), which works for
Japanese and Korean as well as for European languages (no word segmenter needed).

`LexicalIndex` holds one L2-normalised sparse row per key; `search` returns the best rows
for a text, `similarity` scores given rows only (cheap: used for candidates from other
sources). New rows are transformed with the fitted vocabulary; `fit` again when the corpus
has changed a lot (the service refits at reconciliation).

`search` reads an inverted index (the rows stacked column-major: one posting list per
n-gram). A query's n-grams are taken by weight, heaviest (rarest) first, until their
posting lists hold `posting_budget` entries: below that size the scores are exact; above
it they are the dot product over the query's most telling n-grams, which keeps a search at
100k profiles to ~3 ms instead of ~30 ms for the full product (the candidates' exact
similarity is then computed by `similarity`; `scripts/profile_matches.py` times it). The
default budget keeps every query of the 5k-profile CORDIS benchmark exact (at most 1.5M
postings); a 100k-profile catalogue of synthetic profiles needs ~14M per query.

Writes do not rebuild the inverted index: a changed or new row goes to a small delta that
searches score directly, and its old stacked row is masked out; the index is rebuilt (by
the writer, never by a search) when the delta passes `delta_limit` rows. Searches read one
immutable snapshot (index, delta, masked rows), so they never see half a write and never
wait for one.
"""

from __future__ import annotations

import pickle
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from models.topn import top_n


@dataclass(frozen=True)
class _Snapshot:
    """What a search reads: the stacked rows (column-major: an inverted index), the key
    of each stacked row, key -> stacked row (-1: none), the posting-list lengths, rows
    written since the stack was built, and stacked keys whose stacked row is stale."""

    matrix: sparse.csc_matrix
    keys: np.ndarray
    slot: np.ndarray
    postings: np.ndarray
    delta: Mapping[int, sparse.csr_matrix] = field(default_factory=dict)
    stale: frozenset[int] = frozenset()


def _plain_product(matrix: sparse.csc_matrix, terms: np.ndarray, weights: np.ndarray) -> np.ndarray:
    return np.asarray(matrix[:, terms] @ weights, dtype=np.float32).ravel()


def _strided_product(
    matrix: sparse.csc_matrix, terms: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """`matrix[:, terms] @ weights` without copying the columns out first (the copy
    would be most of a search's cost: 100k synthetic profiles, 2M postings per query, 4.0
    ms with it, 2.2 ms without). scipy's compiled CSC product reads column j from
    indptr[j] to indptr[j + 1]; it is handed a column-pointer array that alternates each
    picked column's start and end: the picked columns in decreasing order make every
    in-between "column" empty (its start, an end, lies past its end, the next start), and
    those carry weight 0."""
    order = np.argsort(-terms, kind="stable")
    terms, weights = terms[order], weights[order]
    starts = np.empty(2 * terms.size, dtype=matrix.indptr.dtype)
    starts[0::2] = matrix.indptr[terms]
    starts[1::2] = matrix.indptr[terms + 1]
    x = np.zeros(2 * terms.size - 1, dtype=np.float32)
    x[0::2] = weights
    out = np.zeros(matrix.shape[0], dtype=np.float32)
    _csc_matvec(matrix.shape[0], x.size, starts, matrix.indices, matrix.data, x, out)
    return out


def _strided_works() -> bool:
    """Whether `_strided_product` (through scipy's private `_sparsetools`) is there and
    agrees with the plain product on a small matrix; checked once, at import."""
    if _csc_matvec is None:
        return False
    rng = np.random.default_rng(0)
    m = sparse.random(50, 40, density=0.2, format="csc", dtype=np.float32, random_state=rng)
    terms = np.asarray([3, 17, 5, 39, 0], dtype=m.indices.dtype)
    weights = rng.random(terms.size).astype(np.float32)
    try:
        got = _strided_product(m, terms, weights)
    except (TypeError, ValueError):  # a scipy whose private signature changed
        return False
    return bool(np.allclose(got, _plain_product(m, terms, weights), rtol=1e-5, atol=1e-6))


try:
    from scipy.sparse import _sparsetools

    _csc_matvec: Any = getattr(_sparsetools, "csc_matvec", None)
except ImportError:  # pragma: no cover - a scipy without it: the plain product
    _csc_matvec = None
STRIDED = _strided_works()


def weighted_columns(
    matrix: sparse.csc_matrix, terms: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """The weighted sum of some columns of a CSC matrix (unique column numbers), float32."""
    if not terms.size:
        return np.zeros(matrix.shape[0], dtype=np.float32)
    if STRIDED and matrix.indptr.dtype == matrix.indices.dtype and matrix.data.dtype == np.float32:
        return _strided_product(matrix, terms, weights.astype(np.float32, copy=False))
    return _plain_product(matrix, terms, weights)


def _stack(rows: Mapping[int, sparse.csr_matrix], width: int) -> _Snapshot:
    keys = np.fromiter(rows, dtype=np.int64, count=len(rows))
    parts = [rows[int(k)] for k in keys]
    nnz = np.fromiter((r.nnz for r in parts), dtype=np.int64, count=len(parts))
    indptr = np.concatenate([[0], np.cumsum(nnz)])
    indices = np.concatenate([r.indices for r in parts]) if parts else np.zeros(0, np.int32)
    data = np.concatenate([r.data for r in parts]) if parts else np.zeros(0, np.float32)
    matrix = sparse.csr_matrix((data, indices, indptr), shape=(len(parts), width)).tocsc()
    slot = np.full(int(keys.max()) + 1 if keys.size else 0, -1, dtype=np.int64)
    slot[keys] = np.arange(keys.size)
    return _Snapshot(matrix, keys, slot, np.diff(matrix.indptr))


class LexicalIndex:
    def __init__(
        self,
        ngram_range: tuple[int, int] = (2, 4),
        max_features: int = 200_000,
        min_df: int = 2,
        posting_budget: int = 2_000_000,
        delta_limit: int = 2_000,
    ) -> None:
        self._params = {"ngram_range": ngram_range, "max_features": max_features, "min_df": min_df}
        self.posting_budget = posting_budget
        self.delta_limit = delta_limit
        self._vec: TfidfVectorizer | None = None
        self._rows: dict[int, sparse.csr_matrix] = {}
        self._snap: _Snapshot | None = None

    def copy(self) -> LexicalIndex:
        """A copy to change without touching this one: the vocabulary and the stacked
        matrix are shared (never modified in place), the rows map is copied; the copy's
        writes go to its own delta, which may hold all of them (no restack)."""
        out = LexicalIndex(posting_budget=self.posting_budget, delta_limit=1 << 62)
        out._params = dict(self._params)
        out._vec = self._vec
        out._rows = dict(self._rows)
        out._snap = self._snap
        return out

    @property
    def fitted(self) -> bool:
        return self._vec is not None

    @property
    def vocabulary(self) -> object | None:
        """What `transform` uses: the same object for as long as the vocabulary is (a
        copy shares it; `fit` and `load` make a new one), so rows transformed earlier can
        be told apart from rows of another vocabulary by holding on to it."""
        return self._vec

    def __len__(self) -> int:
        return len(self._rows)

    def fit(self, keys: Sequence[int], texts: Sequence[str]) -> None:
        """(Re)build the vocabulary and all rows."""
        min_df = self._params["min_df"] if len(texts) >= 20 else 1
        self._vec = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self._params["ngram_range"],
            max_features=self._params["max_features"],
            min_df=min_df,
            sublinear_tf=True,
            lowercase=True,
            dtype=np.float32,
        )
        if not texts:
            self._vec = None
            self._rows.clear()
            self._snap = None
            return
        matrix = self._vec.fit_transform(texts).tocsr()
        self._rows = {int(k): matrix[i] for i, k in enumerate(keys)}
        self._restack()

    def row(self, key: int) -> sparse.csr_matrix | None:
        return self._rows.get(int(key))

    def save(self, path: Path) -> None:
        with open(path, "wb") as fh:
            pickle.dump(
                {"params": self._params, "vec": self._vec, "rows": self._rows},
                fh,
                protocol=pickle.HIGHEST_PROTOCOL,
            )

    @classmethod
    def load(cls, path: Path) -> LexicalIndex:
        with open(path, "rb") as fh:
            data = pickle.load(fh)  # our own file, written by save()
        if not isinstance(data, dict) or "rows" not in data:
            raise ValueError("not a lexical index file")
        out = cls()
        out._params = data["params"]
        out._vec = data["vec"]
        out._rows = data["rows"]
        out._restack()
        return out

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self._vec is None:
            raise RuntimeError("the lexical index is not fitted")
        return self._vec.transform(texts).tocsr()

    def upsert(self, keys: Sequence[int], texts: Sequence[str]) -> None:
        """Writers only (the caller serialises writes)."""
        if self._vec is None:
            return
        rows = self.transform(texts)
        new = {int(k): rows[i] for i, k in enumerate(keys)}
        self._rows.update(new)
        self._apply(new, ())

    def remove(self, keys: Iterable[int]) -> None:
        """Writers only (the caller serialises writes)."""
        gone = [int(k) for k in keys]
        for k in gone:
            self._rows.pop(k, None)
        self._apply({}, gone)

    def _apply(self, new: Mapping[int, sparse.csr_matrix], gone: Sequence[int]) -> None:
        snap = self._snap
        if snap is None:
            self._restack()
            return
        delta = {k: v for k, v in snap.delta.items() if k not in gone}
        delta.update(new)
        stacked = [k for k in (*new, *gone) if 0 <= k < snap.slot.size and snap.slot[k] >= 0]
        stale = snap.stale.union(stacked)
        if len(delta) + len(stale) > self.delta_limit:
            self._restack()
        else:  # one assignment: a search sees the old snapshot or the new one, whole
            self._snap = _Snapshot(snap.matrix, snap.keys, snap.slot, snap.postings, delta, stale)

    def _restack(self) -> None:
        if self._vec is None:
            self._snap = None
            return
        self._snap = _stack(self._rows.copy(), len(self._vec.vocabulary_))

    @staticmethod
    def _rows_of(snap: _Snapshot, keys: np.ndarray) -> np.ndarray:
        """Stacked row positions of the given keys (unknown keys dropped)."""
        keys = keys[(keys >= 0) & (keys < snap.slot.size)]
        at = snap.slot[keys]
        return at[at >= 0]

    def _query_terms(self, query: sparse.csr_matrix, postings: np.ndarray) -> np.ndarray:
        """Positions (in the query row) of the n-grams a search reads: all of them when
        their posting lists are short enough, else the heaviest within the budget."""
        cost = postings[query.indices]
        if int(cost.sum()) <= self.posting_budget:
            return np.arange(query.indices.size)
        order = np.argsort(-query.data, kind="stable")
        within = np.cumsum(cost[order]) <= self.posting_budget
        within[0] = True  # at least the heaviest n-gram
        return order[within]

    def search(
        self,
        query: sparse.csr_matrix,
        n: int,
        *,
        allowed: np.ndarray | None = None,
        exclude: Iterable[int] = (),
    ) -> list[tuple[int, float]]:
        snap = self._snap
        query = query.tocsr()
        if self._vec is None or snap is None or query.shape[1] != snap.matrix.shape[1]:
            return []  # (a query transformed just before a refit: the next one matches)
        picked = self._query_terms(query, snap.postings)
        terms = query.indices[picked]
        scores = weighted_columns(snap.matrix, terms, query.data[picked])
        mask = scores > 0
        if allowed is not None:
            allowed = np.asarray(allowed, dtype=np.int64)
            keep = np.zeros(snap.keys.size, dtype=bool)
            keep[self._rows_of(snap, allowed)] = True
            mask &= keep
        excluded = np.fromiter(exclude, dtype=np.int64)
        dropped = np.fromiter(snap.stale, dtype=np.int64, count=len(snap.stale))
        mask[self._rows_of(snap, np.concatenate([excluded, dropped]))] = False
        idx = np.flatnonzero(mask)
        if idx.size > n:
            idx = idx[top_n(scores[idx], n)]
        found = [(int(snap.keys[i]), float(scores[i])) for i in idx]
        if snap.delta:
            found += self._search_delta(snap, query, picked, allowed, set(excluded.tolist()))
        found.sort(key=lambda hit: (-hit[1], hit[0]))
        return found[:n]

    @staticmethod
    def _search_delta(
        snap: _Snapshot,
        query: sparse.csr_matrix,
        picked: np.ndarray,
        allowed: np.ndarray | None,
        excluded: set[int],
    ) -> list[tuple[int, float]]:
        """The rows written since the stack was built, scored on the same n-grams."""
        weights = np.zeros(query.shape[1], dtype=np.float32)
        weights[query.indices[picked]] = query.data[picked]
        ok = None if allowed is None else set(allowed.tolist())
        out = []
        for k, row in snap.delta.items():
            if k in excluded or (ok is not None and k not in ok):
                continue
            score = float(weights[row.indices] @ row.data)
            if score > 0:
                out.append((k, score))
        return out

    def similarity(self, query: sparse.csr_matrix, keys: Sequence[int] | np.ndarray) -> np.ndarray:
        """Cosine of the query with each given key's row (0 for unknown keys)."""
        out = np.zeros(len(keys), dtype=np.float32)
        if self._vec is None:
            return out
        query = query.tocsr()
        rows = [self._rows.get(k) for k in np.asarray(keys, dtype=np.int64).tolist()]
        width = query.shape[1]  # rows of another vocabulary (a refit under way) are skipped
        # (`indices.size`, not `nnz`: scipy's property costs microseconds per row)
        where = [
            i
            for i, r in enumerate(rows)
            if r is not None and r.indices.size and r.shape[1] == width
        ]
        if not where:
            return out
        weights = np.zeros(query.shape[1], dtype=np.float32)
        weights[query.indices] = query.data
        parts = [rows[i] for i in where]
        indices = np.concatenate([r.indices for r in parts])  # type: ignore[union-attr]
        data = np.concatenate([r.data for r in parts])  # type: ignore[union-attr]
        starts = np.cumsum([0, *(r.indices.size for r in parts[:-1])])  # type: ignore[union-attr]
        out[where] = np.add.reduceat(weights[indices] * data, starts)
        return out


def script(text: str) -> str:
    """The dominant writing system of a text: "latin", "cjk" (kanji / kana / hanzi),
    "hangul", "cyrillic" or "other". Character n-grams only compare texts in the same
    script: across scripts lexical similarity says nothing (a Japanese profile and its
    Italian counterpart share no n-grams) and must not count against the pair."""
    counts = {"latin": 0, "cjk": 0, "hangul": 0, "cyrillic": 0}
    for ch in text[:2000]:
        o = ord(ch)
        if ch.isascii():
            if ch.isalpha():
                counts["latin"] += 1
        elif 0x00C0 <= o <= 0x024F:
            counts["latin"] += 1
        elif 0x3040 <= o <= 0x30FF or 0x4E00 <= o <= 0x9FFF or 0x3400 <= o <= 0x4DBF:
            counts["cjk"] += 1
        elif 0xAC00 <= o <= 0xD7AF or 0x1100 <= o <= 0x11FF or 0x3130 <= o <= 0x318F:
            counts["hangul"] += 1
        elif 0x0400 <= o <= 0x04FF:
            counts["cyrillic"] += 1
    best = max(counts, key=lambda k: counts[k])
    return best if counts[best] else "other"
