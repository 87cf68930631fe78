"""The lexical index of a large catalogue: TF-IDF rows pruned to their heaviest n-grams,
one inverted index, memory-mapped.

`models.lexical.LexicalIndex` keeps every row twice, whole (one sparse row object per key
and the stacked inverted index): ~10 KB per profile of 300 characters (545 n-grams each),
10 GB per worker at a million profiles, and its fit transforms every text at once. This
index, for the catalogue's large layout (service.engine), keeps per row its `TERMS`
heaviest n-grams (the rarest, most telling ones: those a search reads first anyway),
scaled back to unit length, in one inverted index (column-major): 48 x 8 B per profile.
It is saved as .npy files that every worker maps read-only (shared pages), in a pool
beside the generations so that a save links them instead of writing them again.

What changes against the whole rows: a similarity is the cosine of the query's pruned
row with the candidate's pruned row, and a search ranks by it (scripts/bench_scale.py
prints how the top candidates compare with the exact index's on the same store). The
vocabulary is fitted on a spread sample of `FIT_SAMPLE` texts, then every text is
transformed in chunks. Writes go to a delta of rows (searched directly) until it holds
`DELTA_LIMIT` of them; then the inverted index is rebuilt from its rows and the delta's.

The query's own row is made from its text (`text_of`, given by the catalogue): no row is
kept in the forward direction. Candidates' similarities are read from the inverted index,
one binary search per query n-gram.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pickle
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer

from models.lexical import weighted_columns
from models.topn import top_n

__all__ = ["DELTA_LIMIT", "FIT_SAMPLE", "TERMS", "PrunedLexicalIndex", "prune_rows"]

#: n-grams kept per row (a 300-character profile has ~545)
TERMS = 48
#: texts the vocabulary is fitted on
FIT_SAMPLE = 50_000
#: rows written since the inverted index was built before it is built again
DELTA_LIMIT = 50_000
#: texts transformed at a time
CHUNK = 20_000
POOL_GRACE_S = 600.0
_ARRAYS = ("keys", "indptr", "indices", "data")


def prune_rows(rows: sparse.csr_matrix, terms: int = TERMS) -> sparse.csr_matrix:
    """Each row's `terms` heaviest entries, scaled back to unit length (ties: lower term
    first), as float32 CSR with sorted column indices."""
    rows = rows.tocsr()
    n = rows.shape[0]
    indptr, indices, data = rows.indptr, rows.indices, rows.data.astype(np.float32)
    out_ptr = np.zeros(n + 1, dtype=np.int64)
    keep_idx: list[np.ndarray] = []
    keep_val: list[np.ndarray] = []
    for i in range(n):
        lo, hi = int(indptr[i]), int(indptr[i + 1])
        idx, val = indices[lo:hi], data[lo:hi]
        if idx.size > terms:
            pick = np.lexsort((idx, -val))[:terms]
            idx, val = idx[pick], val[pick]
        norm = float(np.sqrt(np.dot(val, val)))
        order = np.argsort(idx, kind="stable")
        keep_idx.append(idx[order].astype(np.int32))
        keep_val.append((val[order] / norm if norm > 0 else val[order]).astype(np.float32))
        out_ptr[i + 1] = out_ptr[i] + idx.size
    return sparse.csr_matrix(
        (
            np.concatenate(keep_val) if keep_val else np.zeros(0, np.float32),
            np.concatenate(keep_idx) if keep_idx else np.zeros(0, np.int32),
            out_ptr,
        ),
        shape=rows.shape,
    )


@dataclass(frozen=True)
class _Base:
    """The inverted index: row i is key `keys[i]`; `slot[key]` its row (-1: none)."""

    keys: np.ndarray
    matrix: sparse.csc_matrix
    slot: np.ndarray
    postings: np.ndarray
    files: Path | None = None  # the pool folder it is saved in


@dataclass(frozen=True)
class _State:
    """What a search reads: the base, rows written since, and base keys replaced since."""

    base: _Base
    delta: Mapping[int, sparse.csr_matrix] = field(default_factory=dict)
    stale: frozenset[int] = frozenset()

    @functools.cached_property
    def stacked(self) -> tuple[np.ndarray, sparse.csc_matrix]:
        """The delta's keys and its rows as one inverted index (column-major), made on the
        first search that reads this state: a search scores the delta's rows with the
        query's picked n-grams' postings as it scores the base's, instead of one row at
        a time in Python (a startup leaves up to `DELTA_LIMIT` rows there: 40,000 rows
        took ~90 ms of a 100k-profile match request that way, 1.5 ms stacked)."""
        keys = np.fromiter(self.delta, dtype=np.int64, count=len(self.delta))
        rows = [self.delta[int(k)] for k in keys]
        # (the rows' arrays joined directly: 0.29 s for 40,000 rows against 0.99 s for
        # sparse.vstack, paid by the first search after each write)
        nnz = np.fromiter((r.nnz for r in rows), dtype=np.int64, count=len(rows))
        matrix = sparse.csr_matrix(
            (
                np.concatenate([r.data for r in rows]).astype(np.float32, copy=False),
                np.concatenate([r.indices for r in rows]).astype(np.int32, copy=False),
                np.concatenate([[0], np.cumsum(nnz)]),
            ),
            shape=(len(rows), self.base.matrix.shape[1]),
        )
        return keys, _same_index_dtype(matrix.tocsc())


def _same_index_dtype(matrix: sparse.csc_matrix) -> sparse.csc_matrix:
    """The matrix with int32 column pointers where its entries allow (the strided product
    of models.lexical.weighted_columns wants pointers and row numbers of one type)."""
    if matrix.indptr.dtype != matrix.indices.dtype and matrix.nnz < np.iinfo(np.int32).max:
        matrix.indptr = matrix.indptr.astype(np.int32)
        matrix.indices = matrix.indices.astype(np.int32, copy=False)
    return matrix


def _base(keys: np.ndarray, matrix: sparse.csc_matrix, files: Path | None = None) -> _Base:
    slot = np.full(int(keys.max()) + 1 if keys.size else 0, -1, dtype=np.int64)
    slot[keys] = np.arange(keys.size)
    return _Base(keys, matrix, slot, np.diff(matrix.indptr), files)


class PrunedLexicalIndex:
    """`models.lexical.LexicalIndex`'s interface over pruned rows (see the module doc).
    `text_of(key)`: the text a key's row was made from (its query row is made again)."""

    def __init__(
        self,
        text_of: Callable[[int], str] | None = None,
        *,
        ngram_range: tuple[int, int] = (2, 4),
        max_features: int = 200_000,
        min_df: int = 2,
        posting_budget: int = 2_000_000,
        terms: int = TERMS,
        delta_limit: int = DELTA_LIMIT,
    ) -> None:
        self.text_of = text_of
        self._params = {"ngram_range": ngram_range, "max_features": max_features, "min_df": min_df}
        self.posting_budget = posting_budget
        self.terms = terms
        self.delta_limit = delta_limit
        self._vec: TfidfVectorizer | None = None
        self._state: _State | None = None

    def copy(self) -> PrunedLexicalIndex:
        """A copy to change without touching this one (the inverted index shared; the
        copy's writes go to its own delta, which may hold all of them)."""
        out = PrunedLexicalIndex(
            self.text_of, posting_budget=self.posting_budget, terms=self.terms, delta_limit=1 << 62
        )
        out._params = dict(self._params)
        out._vec, out._state = self._vec, self._state
        return out

    @property
    def fitted(self) -> bool:
        return self._vec is not None

    @property
    def vocabulary(self) -> object | None:
        """What `transform` uses, as `LexicalIndex.vocabulary`: the same object while the
        vocabulary is (a copy shares it; `fit` and `load` make a new one)."""
        return self._vec

    def __len__(self) -> int:
        state = self._state
        if state is None:
            return 0
        return int(state.base.keys.size) - len(state.stale) + len(state.delta)

    # ------------------------------------------------------------------ writing

    def fit(self, keys: Sequence[int], texts: Sequence[str]) -> None:
        """A vocabulary from a spread sample of the texts, then every text's pruned row."""
        if not texts:
            self._vec, self._state = None, None
            return
        n = len(texts)
        sample = (
            np.linspace(0, n - 1, FIT_SAMPLE).astype(np.int64) if n > FIT_SAMPLE else np.arange(n)
        )
        vec = TfidfVectorizer(
            analyzer="char_wb",
            ngram_range=self._params["ngram_range"],
            max_features=self._params["max_features"],
            min_df=self._params["min_df"] if sample.size >= 20 else 1,
            sublinear_tf=True,
            lowercase=True,
            dtype=np.float32,
        )
        vec.fit([texts[i] for i in sample.tolist()])
        # (the n-grams cut by max_features / min_df: only there for introspection, and
        # millions of strings at this size)
        with contextlib.suppress(AttributeError):
            del vec.stop_words_
        self._vec = vec
        parts = [self.transform(texts[start : start + CHUNK]) for start in range(0, n, CHUNK)]
        rows = sparse.vstack(parts, format="csr") if parts else sparse.csr_matrix((0, 0))
        key_arr = np.asarray(keys, dtype=np.int64)
        order = np.argsort(key_arr, kind="stable")
        self._state = _State(_base(key_arr[order], rows[order].tocsc()))

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        if self._vec is None:
            raise RuntimeError("the lexical index is not fitted")
        return prune_rows(self._vec.transform(list(texts)), self.terms)

    def row(self, key: int) -> sparse.csr_matrix | None:
        state = self._state
        if state is None or self._vec is None:
            return None
        found = state.delta.get(int(key))
        if found is not None:
            return found
        if self.text_of is None or not self._in_base(state, int(key)):
            return None
        return self.transform([self.text_of(int(key))])

    @staticmethod
    def _in_base(state: _State, key: int) -> bool:
        slot = state.base.slot
        return 0 <= key < slot.size and slot[key] >= 0 and key not in state.stale

    def upsert(self, keys: Sequence[int], texts: Sequence[str]) -> None:
        """Writers only (the caller serialises writes)."""
        state = self._state
        if self._vec is None or state is None:
            return
        rows = self.transform(texts)
        new = {int(k): rows[i] for i, k in enumerate(keys)}
        self._apply(new, ())

    def remove(self, keys: Iterable[int]) -> None:
        """Writers only (the caller serialises writes)."""
        self._apply({}, [int(k) for k in keys])

    def _apply(self, new: Mapping[int, sparse.csr_matrix], gone: Sequence[int]) -> None:
        state = self._state
        if state is None:
            return
        delta = {k: v for k, v in state.delta.items() if k not in gone}
        delta.update(new)
        slot = state.base.slot
        replaced = [k for k in (*new, *gone) if 0 <= k < slot.size and slot[k] >= 0]
        stale = state.stale.union(replaced)
        if len(delta) + len(stale) > self.delta_limit:
            self._state = _State(self._restack(state.base, delta, stale))
        else:  # one assignment: a search sees the old state or the new one, whole
            self._state = _State(state.base, delta, stale)

    @staticmethod
    def _restack(
        base: _Base, delta: Mapping[int, sparse.csr_matrix], stale: frozenset[int]
    ) -> _Base:
        keep = np.ones(base.keys.size, dtype=bool)
        gone = np.fromiter(stale, dtype=np.int64, count=len(stale))
        gone = gone[gone < base.slot.size]
        at = base.slot[gone]
        keep[at[at >= 0]] = False
        old = base.matrix.tocsr()[np.flatnonzero(keep)]
        new_keys = np.fromiter(delta, dtype=np.int64, count=len(delta))
        parts = [old, *(delta[int(k)] for k in new_keys)] if delta else [old]
        rows = sparse.vstack(parts, format="csr")
        keys = np.concatenate([base.keys[keep], new_keys])
        order = np.argsort(keys, kind="stable")
        return _base(keys[order], rows[order].tocsc())

    # ------------------------------------------------------------------ reading

    def _query_terms(self, query: sparse.csr_matrix, postings: np.ndarray) -> np.ndarray:
        cost = postings[query.indices]
        if int(cost.sum()) <= self.posting_budget:
            return np.arange(query.indices.size)
        order = np.argsort(-query.data, kind="stable")
        within = np.cumsum(cost[order]) <= self.posting_budget
        within[0] = True
        return order[within]

    def search(
        self,
        query: sparse.csr_matrix,
        n: int,
        *,
        allowed: np.ndarray | None = None,
        exclude: Iterable[int] = (),
    ) -> list[tuple[int, float]]:
        state = self._state
        query = query.tocsr()
        if self._vec is None or state is None:
            return []
        base = state.base
        if query.shape[1] != base.matrix.shape[1]:
            return []
        picked = self._query_terms(query, base.postings)
        scores = weighted_columns(base.matrix, query.indices[picked], query.data[picked])
        mask = scores > 0
        if allowed is not None:
            keep = np.zeros(base.keys.size, dtype=bool)
            keep[self._rows_of(base, np.asarray(allowed, dtype=np.int64))] = True
            mask &= keep
        excluded = np.fromiter(exclude, dtype=np.int64)
        dropped = np.fromiter(state.stale, dtype=np.int64, count=len(state.stale))
        mask[self._rows_of(base, np.concatenate([excluded, dropped]))] = False
        idx = np.flatnonzero(mask)
        if idx.size > n:
            idx = idx[top_n(scores[idx], n)]
        found = [(int(base.keys[i]), float(scores[i])) for i in idx]
        if state.delta:
            dkeys, dmatrix = state.stacked
            dscores = weighted_columns(dmatrix, query.indices[picked], query.data[picked])
            at = np.flatnonzero(dscores > 0)
            hit = dkeys[at]
            if allowed is not None:
                ok = np.zeros(int(dkeys.max()) + 1, dtype=bool)
                allowed_arr = np.asarray(allowed, dtype=np.int64)
                ok[allowed_arr[(allowed_arr >= 0) & (allowed_arr < ok.size)]] = True
                at, hit = at[ok[hit]], hit[ok[hit]]
            if excluded.size:
                keep_hit = ~np.isin(hit, excluded)
                at, hit = at[keep_hit], hit[keep_hit]
            if at.size > n:
                top = top_n(dscores[at], n)
                at, hit = at[top], hit[top]
            found += [(int(k), float(dscores[i])) for k, i in zip(hit, at, strict=True)]
        found.sort(key=lambda hit: (-hit[1], hit[0]))
        return found[:n]

    @staticmethod
    def _rows_of(base: _Base, keys: np.ndarray) -> np.ndarray:
        keys = keys[(keys >= 0) & (keys < base.slot.size)]
        at = base.slot[keys]
        return at[at >= 0]

    def similarity(self, query: sparse.csr_matrix, keys: Sequence[int] | np.ndarray) -> np.ndarray:
        """Cosine of the query's (pruned) row with each key's (0 for unknown keys): the
        candidates' entries read from the inverted index, a binary search per n-gram."""
        key_arr = np.asarray(keys, dtype=np.int64)
        out = np.zeros(key_arr.size, dtype=np.float32)
        state = self._state
        if self._vec is None or state is None or not key_arr.size:
            return out
        query = query.tocsr()
        base = state.base
        if query.shape[1] != base.matrix.shape[1]:
            return out
        inside = (key_arr >= 0) & (key_arr < base.slot.size)
        rows = np.full(key_arr.size, -1, dtype=np.int64)
        rows[inside] = base.slot[key_arr[inside]]
        in_delta = np.fromiter((k in state.delta for k in key_arr.tolist()), bool, key_arr.size)
        stale = np.fromiter((k in state.stale for k in key_arr.tolist()), bool, key_arr.size)
        rows[in_delta | stale] = -1
        at = np.flatnonzero(rows >= 0)
        if at.size:
            order = np.argsort(rows[at])
            wanted = rows[at][order]
            acc = np.zeros(wanted.size, dtype=np.float32)
            m = base.matrix
            for t, w in zip(query.indices.tolist(), query.data.tolist(), strict=True):
                lo, hi = int(m.indptr[t]), int(m.indptr[t + 1])
                if lo == hi:
                    continue
                posting = m.indices[lo:hi]
                pos = np.searchsorted(posting, wanted)
                pos[pos >= posting.size] = posting.size - 1
                hit = posting[pos] == wanted
                if hit.any():
                    acc[hit] += np.float32(w) * m.data[lo:hi][pos[hit]]
            out[at[order]] = acc
        if in_delta.any():
            weights = np.zeros(query.shape[1], dtype=np.float32)
            weights[query.indices] = query.data
            for i in np.flatnonzero(in_delta).tolist():
                row = state.delta[int(key_arr[i])]
                out[i] = float(weights[row.indices] @ row.data)
        return out

    # ------------------------------------------------------------------ files

    def save(self, folder: Path, pool: Path) -> None:
        """The vocabulary, the delta and the parameters into `folder`; the inverted index
        linked there from its pool folder (written there first when new)."""
        folder.mkdir(parents=True, exist_ok=True)
        state = self._state
        base = None if state is None else state.base
        files: Path | None = None
        if base is not None:
            files = base.files
            if files is None or not all((files / f"{a}.npy").exists() for a in _ARRAYS):
                # written to the pool, then mapped from there: the private copy is freed
                files = _write_base(base, pool)
                assert state is not None
                self._state = _State(_mapped(files, base.matrix.shape), state.delta, state.stale)
            for a in _ARRAYS:
                _link(files / f"{a}.npy", folder / f"{a}.npy")
        meta = {
            "params": self._params,
            "posting_budget": self.posting_budget,
            "terms": self.terms,
            "vec": self._vec,
            "delta": dict(state.delta) if state else {},
            "stale": set(state.stale) if state else set(),
            "shape": None if base is None else base.matrix.shape,
            "pool": None if files is None else files.name,
        }
        with open(folder / "lexical.pkl", "wb") as fh:
            pickle.dump(meta, fh, protocol=pickle.HIGHEST_PROTOCOL)
        _prune_pool(pool, None if base is None else files)

    @classmethod
    def load(
        cls, folder: Path, pool: Path | None = None, text_of: Callable[[int], str] | None = None
    ) -> PrunedLexicalIndex:
        with open(folder / "lexical.pkl", "rb") as fh:
            meta = pickle.load(fh)  # our own file, written by save()
        if not isinstance(meta, dict) or "terms" not in meta:
            raise ValueError("not a pruned lexical index")
        out = cls(text_of, posting_budget=meta["posting_budget"], terms=meta["terms"])
        out._params = meta["params"]
        out._vec = meta["vec"]
        if meta["shape"] is not None:
            files = None
            if pool is not None and meta.get("pool"):
                files = pool / str(meta["pool"])
                with contextlib.suppress(OSError):
                    if not files.exists():  # (the pool lost it: put the links back)
                        files.mkdir(parents=True)
                        for a in _ARRAYS:
                            os.link(folder / f"{a}.npy", files / f"{a}.npy")
            base = _mapped(folder, tuple(meta["shape"]))
            out._state = _State(
                _Base(base.keys, base.matrix, base.slot, base.postings, files),
                meta["delta"],
                frozenset(meta["stale"]),
            )
        return out


def _mapped(folder: Path, shape: tuple[int, int]) -> _Base:
    """The inverted index saved in `folder`, mapped read-only (shared pages)."""
    arr = {a: np.load(folder / f"{a}.npy", mmap_mode="r") for a in _ARRAYS}
    matrix = sparse.csc_matrix((arr["data"], arr["indices"], arr["indptr"]), shape=shape)
    return _base(np.asarray(arr["keys"]), matrix, folder)


def _write_base(base: _Base, pool: Path) -> Path:
    pool.mkdir(parents=True, exist_ok=True)
    tmp = pool / f".tmp-{uuid.uuid4().hex}"
    tmp.mkdir()
    m = base.matrix
    arrays = {"keys": base.keys, "indptr": m.indptr, "indices": m.indices, "data": m.data}
    for name, arr in arrays.items():
        with open(tmp / f"{name}.npy", "wb") as fh:
            np.save(fh, np.asarray(arr), allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
    final = pool / uuid.uuid4().hex
    os.rename(tmp, final)
    return final


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        import shutil

        shutil.copyfile(src, dst)


def _prune_pool(pool: Path, keep: Path | None) -> None:
    """Pool folders no generation links any more (their files have one link), after a
    grace time; and leftovers of interrupted writes."""
    cutoff = time.time() - POOL_GRACE_S
    with contextlib.suppress(OSError):
        for folder in pool.iterdir():
            if folder == keep:
                continue
            with contextlib.suppress(OSError):
                files = list(folder.iterdir())
                st = folder.stat()
                unused = all(f.stat().st_nlink == 1 for f in files)
                if unused and st.st_mtime < cutoff:
                    for f in files:
                        f.unlink()
                    folder.rmdir()
