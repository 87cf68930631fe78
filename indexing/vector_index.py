"""The vector index: FAISS inner-product search over organization embeddings.

One :class:`VectorIndex` holds the embeddings of one model. Vectors are addressed by
*external* int64 ids (database primary keys); FAISS only knows its own sequential
*labels* (``0 .. ntotal-1`` in insertion order), and the index keeps the mapping between
the two. The index is derived state: the database is the source of truth, so every
failure to load (:class:`IndexMismatchError`) is answered by rebuilding from it.

Layout (the txtai ``ann`` factory idea): :func:`choose_layout` picks exact search
(``IndexFlatIP``) below ``hnsw_threshold`` live vectors and the large layout at or above
it: ``IndexHNSWFlat`` (``hnsw``), or ``compact``. The choice is made when the index is
built or rebuilt and when an incremental upsert crosses the threshold (flat -> large,
never back on a write, so a size hovering around the threshold cannot make the index
flap); it is stamped into :class:`IndexMeta`.

The compact layout (`_CompactStore`) is for catalogues of a million profiles, where the
float32 HNSW graph costs 2.3 KB per vector in every worker: an IVF base over 8-bit codes
(indexing.ivf: ~530 B per vector, a file every process maps read-only, so that workers
share its pages) and a float32 flat delta with the vectors written since the base was
built. A write tombstones the id's base label and goes to the delta; once the delta holds
:data:`DELTA_MAX` vectors (or a fifth of the base is dead) a background thread compacts
them into a new base (the old codes copied list by list, the delta's quantised with the
same trained parameters: no k-means, no graph). A search probes :data:`NPROBE` lists; a
filtered one probes the nearest lists that hold allowed vectors until they hold as many as
NPROBE lists hold in all, with the filter as a selector tested before a code is read (no
copies, no walks that come up short); the delta is scored exactly and merged.

Updates and deletes: HNSW cannot remove a node from its graph, so a removed or replaced
vector becomes a *tombstone* - its label stays in FAISS but is marked dead in ``live`` and
filtered out inside the search (an ``IDSelectorBitmap``), so it is never returned. The
flat layout overwrites a replaced vector in place (no tombstone) and tombstones removed
ones the same way, because ``IndexFlat.remove_ids`` shifts every later label (O(n) per
call). When tombstones exceed :data:`TOMBSTONE_RATIO` of the labels the index compacts
itself (:meth:`VectorIndex.rebuild`).

Filtered search (``allowed`` / ``exclude``):

* exact - the flat layout always, and on HNSW whenever scoring every candidate is cheaper
  than the graph walk (:data:`WALK_COST_PER_EF`; e.g. a 10 % allowed set at 100k, 2 % at
  1M): a flat scan over the stored vectors with a bitmap selector. FAISS checks the bit
  before computing a dot product, so the cost is one bit test per label plus ``dim``
  multiply-adds per *candidate* - no gather, no copy, and exactly the brute-force answer.
* HNSW with a large allowed set: the same bitmap goes into ``SearchParametersHNSW.sel``.
  FAISS walks the graph as usual (non-allowed and dead nodes still route the search, so
  the graph stays connected) but only admits allowed, live labels to the result heap. This is
  over-fetching done inside FAISS: ``efSearch`` is scaled by ``sqrt(labels / allowed)``,
  and a query that still comes back with fewer than ``k`` results is retried with
  ``efSearch`` x4 ("widen"), then answered exactly. Filtering after the search in Python
  would need ``k / selectivity`` results out of FAISS and would let tombstones cross into
  Python; the selector does neither.
* block - a filter answered exactly anyway, or one whose walks keep coming up short
  (:data:`SHORT_WALK_SHARE`: its allowed labels sit away from the queries' neighbourhoods,
  e.g. "another country" when neighbours share a country), is scored from a contiguous
  copy of its allowed vectors: one matrix-vector product, exact, 3-5x cheaper than the
  walk, the retry and the bitmap scan it replaces. The copy is made on a background
  thread under the read lock (the search that asks for it goes on without it: copying
  tens of MB would stall that request for 100-300 ms). The copies of all remembered filters
  together stay within :data:`BLOCK_BUDGET` of the stored vectors' bytes (at most one
  more copy of the index); any write drops them.

Threads: a many-readers / one-writer lock guards the FAISS index and the mapping, so
searches run concurrently (FAISS search is read-only) while an upsert waits for them and
readers never see a half-updated mapping. A rebuild builds the new FAISS index *outside*
the lock from a snapshot, journals the writes that arrive meanwhile, then replays them
and swaps under a short write lock - an HNSW build of 100k vectors takes tens of seconds
on two cores and searches keep being served from the old index during it. A single
query searches on one OpenMP thread (``nthreads-var`` is per calling thread): on two
cores, FAISS's team for one query costs more than it saves, and concurrent readers would
oversubscribe the cores; batches and builds keep the default. (On a busy machine a
spinning OpenMP team is much slower than one thread - an HNSW build runs 4-5x slower on
two threads than on one - so deployments should set ``OMP_WAIT_POLICY=PASSIVE``.)

Persistence: :meth:`VectorIndex.save` writes ``index.faiss``, ``ids.npy``, ``live.npy``
and ``meta.json`` (the :class:`IndexMeta` plus a SHA-256 of each data file) into a fresh
generation directory ``path/gen-*``, fsyncs it, then atomically replaces the pointer file
``path/CURRENT`` that names it. The compact layout's files hold its delta, and
``base.ivf`` (a hard link to the base in the pool ``spill``, named by its SHA-256: a save
links it instead of writing it), ``trained.faiss``, ``base_ids.npy`` and
``base_live.npy`` its base.
POSIX cannot atomically replace a non-empty directory, so the pointer file is the commit
point: a crash at any moment leaves ``CURRENT`` naming a complete generation.

Errors::

    VectorIndexError            base of every error raised on purpose here
    └── IndexMismatchError      the saved index cannot be used: missing or corrupt
                                files, or built for another model, dim or format

Bad arguments (shape, dtype, NaN, duplicate ids, k < 1) raise :class:`ValueError`.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, cast, get_args

import faiss
import numpy as np
import numpy.typing as npt

from indexing import ivf

__all__ = [
    "FORMAT_VERSION",
    "TOMBSTONE_RATIO",
    "WALK_COST_PER_EF",
    "IndexMeta",
    "IndexMismatchError",
    "Layout",
    "VectorIndex",
    "VectorIndexError",
    "choose_layout",
]

logger = logging.getLogger(__name__)

Layout = Literal["flat", "hnsw", "compact"]
#: What replaces the exact index at the threshold: HNSW over float32 vectors, or the
#: compact layout (IVF over 8-bit codes, memory-mapped, plus a float32 delta).
LargeLayout = Literal["hnsw", "compact"]

#: Bumped whenever the on-disk layout of a saved index changes.
FORMAT_VERSION = 1
#: Compact when dead labels exceed this share of all labels: past it, HNSW spends a fifth
#: of its visits on tombstones and the flat scan a fifth of its bit tests.
TOMBSTONE_RATIO = 0.2
#: What one HNSW walk with ``efSearch=ef`` costs, in vectors a flat scan scores in the
#: same time: the walk computes up to 2M distances per hop in random memory order, the
#: scan streams. A filtered query on HNSW is answered by the exact scan when it has at
#: most ``WALK_COST_PER_EF * ef`` candidates. scripts/bench_index.py, 100k x 512, 2 cores:
#: a 10 % allowed set scans in 3.4 ms vs 6.5 ms for the walk (ef 405), 20 % in 6.7 vs
#: 2.7 ms (ef 287); 25 switches between them (a 10 % set at 100k, 2 % at 1M scan).
WALK_COST_PER_EF = 25
#: A filter whose HNSW walks keep coming up short - its allowed labels lie away from the
#: queries' neighbourhoods, e.g. "another country" for queries whose neighbours share their
#: country - is answered from a contiguous copy of its allowed vectors (a "block": one
#: matrix-vector product, exact). 100k x 512, 15 % allowed: 72 % of walks at ef 331 come up
#: short, the retry at ef 1324 still 41 %; walk + retry + bitmap scan cost 3.4 ms on average
#: against 0.65 ms for the block. Decided per filter after SHORT_WALKS_SEEN searches.
SHORT_WALKS_SEEN = 8
SHORT_WALK_SHARE = 0.25
#: Blocks held at once (all filters of a store together), as a share of the stored vectors'
#: bytes; past it the oldest filters' blocks are dropped and rebuilt when needed.
BLOCK_BUDGET = 1.0
#: Filters admitting more than this share of the labels get no block: the scan streams
#: m x dim floats from memory: at 41 % of 100k x 512 (other countries than Japan) three
#: scans per request cost more than the walks (overseas p50 36 ms with blocks, 29 ms
#: without), and building the three copies would stall a request for ~300 ms.
BLOCK_MAX_SHARE = 0.25
#: The same limit for an exhaustive search (a complete list, e.g. the one a ranking
#: feature reads). Its short walk ends in the exact scan of the whole store, whatever the
#: filter's share: 11.1 ms at 100k x 512 for "other countries than Japan" (41 %), against
#: 4.1 ms for that filter's block (without it these are the slowest 5 % of overseas
#: requests in scripts/profile_matches.py). Only the searches that must be complete ask
#: for such a block.
BLOCK_MAX_SHARE_EXHAUSTIVE = 0.6
#: FAISS's default; M=32 with ef 40 already gives >0.95 recall@10 on embedding-like data,
#: and a larger value doubles a build that runs on two cores.
EF_CONSTRUCTION = 40

_INDEX_FILE = "index.faiss"
_IDS_FILE = "ids.npy"
_LIVE_FILE = "live.npy"
_META_FILE = "meta.json"
_DATA_FILES = (_INDEX_FILE, _IDS_FILE, _LIVE_FILE)
# the compact layout's base (the files above hold its delta)
_BASE_FILE = "base.ivf"
_TRAINED_FILE = "trained.faiss"
_BASE_IDS_FILE = "base_ids.npy"
_BASE_LIVE_FILE = "base_live.npy"
_COMPACT_FILES = (_BASE_FILE, _TRAINED_FILE, _BASE_IDS_FILE, _BASE_LIVE_FILE)
#: Where a compact index keeps its bases by content (indexing.ivf), unless told (`spill`).
POOL_DIR = "bases"
#: A base no generation links is removed from the pool after this long.
POOL_GRACE_S = 600.0
_POINTER_FILE = "CURRENT"
_GENERATION = re.compile(r"gen-[0-9A-Za-z_-]+")
_INT64_MAX = np.iinfo(np.int64).max
_NO_IDS = np.empty(0, dtype=np.int64)
_NO_IDS.flags.writeable = False

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]
Hit = tuple[int, float]


class VectorIndexError(Exception):
    """Base class for the errors this module raises on purpose."""


class IndexMismatchError(VectorIndexError):
    """The saved index cannot be used as it is: its metadata does not match what the
    caller expects (model id, dim, format version), a file is missing, or a checksum or
    consistency check failed. Rebuild the index from the database."""


@dataclass(frozen=True)
class IndexMeta:
    """Build metadata, stamped into every saved index and checked on load."""

    model_id: str
    dim: int
    count: int  # live vectors
    layout: Layout
    built_at: str  # ISO-8601 UTC: when the current FAISS structure was built
    faiss_version: str
    format_version: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> IndexMeta:
        """Parse the fields of :meth:`to_dict`; raise :class:`IndexMismatchError` on a
        missing or mistyped field."""
        try:
            values = {
                "model_id": data["model_id"],
                "dim": data["dim"],
                "count": data["count"],
                "layout": data["layout"],
                "built_at": data["built_at"],
                "faiss_version": data["faiss_version"],
                "format_version": data["format_version"],
            }
        except (KeyError, TypeError) as exc:
            raise IndexMismatchError(f"index metadata lacks {exc}") from exc
        for name in ("model_id", "built_at", "faiss_version"):
            if not isinstance(values[name], str):
                raise IndexMismatchError(f"index metadata field {name!r} is not a string")
        for name in ("dim", "count", "format_version"):
            if not isinstance(values[name], int) or isinstance(values[name], bool):
                raise IndexMismatchError(f"index metadata field {name!r} is not an integer")
        if values["layout"] not in get_args(Layout):
            raise IndexMismatchError(f"unknown index layout {values['layout']!r}")
        return cls(**values)


def choose_layout(n: int, hnsw_threshold: int, large: LargeLayout = "hnsw") -> Layout:
    """Exact flat search below ``hnsw_threshold`` vectors, ``large`` (HNSW, or the
    compact layout) at or above it.

    Below the threshold a flat scan is fast enough and exact; above it the scan grows
    linearly while HNSW stays logarithmic at >0.95 recall, and the compact layout probes
    a few of its lists.
    """
    return "flat" if n < hnsw_threshold else large


# --------------------------------------------------------------------------- locking


class _ReadWriteLock:
    """Many readers or one writer. A waiting writer stops new readers from entering, so
    a steady stream of searches cannot starve an upsert. Not re-entrant: code holding it
    must not acquire it again. ``read`` / ``write`` are context managers (plain objects,
    not generators: this sits on every search)."""

    def __init__(self) -> None:
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writing = False
        self._writers_waiting = 0
        self.read = _Side(self._acquire_read, self._release_read)
        self.write = _Side(self._acquire_write, self._release_write)

    def _acquire_read(self) -> None:
        with self._cond:
            while self._writing or self._writers_waiting:
                self._cond.wait()
            self._readers += 1

    def _release_read(self) -> None:
        with self._cond:
            self._readers -= 1
            if not self._readers:
                self._cond.notify_all()

    def _acquire_write(self) -> None:
        with self._cond:
            self._writers_waiting += 1
            try:
                while self._writing or self._readers:
                    self._cond.wait()
            finally:
                self._writers_waiting -= 1
            self._writing = True

    def _release_write(self) -> None:
        with self._cond:
            self._writing = False
            self._cond.notify_all()


class _Side:
    """``with lock.read:`` / ``with lock.write:``."""

    __slots__ = ("_acquire", "_release")

    def __init__(self, acquire: Callable[[], None], release: Callable[[], None]) -> None:
        self._acquire = acquire
        self._release = release

    def __enter__(self) -> None:
        self._acquire()

    def __exit__(self, *exc: object) -> None:
        self._release()


class _OneOmpThread:
    """Run FAISS on one OpenMP thread in the calling thread only, then restore.

    OpenMP's ``nthreads-var`` is per calling thread, so this neither races with nor
    slows down other threads' searches."""

    __slots__ = ("_previous",)

    def __enter__(self) -> None:
        self._previous = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)

    def __exit__(self, *exc: object) -> None:
        faiss.omp_set_num_threads(self._previous)


# --------------------------------------------------------------------------- validation


def _as_ids(values: Iterable[int] | np.ndarray, name: str) -> IdArray:
    """A 1-D int64 array of ids, or ValueError."""
    if not isinstance(values, np.ndarray):
        values = list(values)
    try:
        arr = np.asarray(values)
    except (OverflowError, ValueError) as exc:
        raise ValueError(f"{name} must be integers fitting in int64") from exc
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    if arr.dtype.kind not in "iu":
        raise ValueError(f"{name} must be integers, got dtype {arr.dtype}")
    if arr.dtype.kind == "u" and int(arr.max()) > _INT64_MAX:
        raise ValueError(f"{name} must fit in int64")
    return arr.astype(np.int64, copy=False)


def _as_vectors(values: np.ndarray, dim: int, name: str, *, allow_1d: bool) -> FloatArray:
    """A C-contiguous float32 (n, dim) array of finite values, or ValueError.

    The dtype is checked rather than cast: a float64 array here means the caller skipped
    the encoder's output format, and silently rounding would hide that."""
    if not isinstance(values, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(values).__name__}")
    if values.dtype != np.float32:
        raise ValueError(f"{name} must be float32, got {values.dtype}")
    if allow_1d and values.ndim == 1:
        values = values.reshape(1, -1)
    if values.ndim != 2 or values.shape[1] != dim:
        raise ValueError(f"{name} must have shape (n, {dim}), got {values.shape}")
    if not np.isfinite(values).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    return np.ascontiguousarray(values)


# --------------------------------------------------------------------------- storage


def _new_faiss_index(dim: int, layout: Layout, hnsw_m: int) -> faiss.Index:
    if layout == "flat":
        return faiss.IndexFlatIP(dim)
    index = faiss.IndexHNSWFlat(dim, hnsw_m, faiss.METRIC_INNER_PRODUCT)
    index.hnsw.efConstruction = EF_CONSTRUCTION
    return index


def _hnsw_params(ef: int, sel: faiss.IDSelector | None) -> faiss.SearchParameters:
    params: Any = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]  # not in stubs
    params.efSearch = int(ef)
    if sel is not None:
        params.sel = sel
    return cast(faiss.SearchParameters, params)


class _Store:
    """One FAISS index and its label <-> external-id mapping. Not thread-safe: every
    call happens under :class:`VectorIndex`'s lock.

    ``ext[label]`` is the external id of each FAISS label, ``live[label]`` whether it is
    still current, ``pos`` maps live external ids to labels.
    """

    def __init__(self, dim: int, layout: Layout, hnsw_m: int) -> None:
        self.dim = dim
        self.layout: Layout = layout
        self.hnsw_m = hnsw_m
        self.index = _new_faiss_index(dim, layout, hnsw_m)
        self.ext: IdArray = np.empty(0, dtype=np.int64)
        self.live: npt.NDArray[np.bool_] = np.empty(0, dtype=bool)
        self.pos: dict[int, int] = {}
        self._sorted: tuple[IdArray, IdArray] | None = None
        self._allowed_memo: list[_Filter] = []
        self._wanted: list[_Filter] = []  # blocks to build (see `_block`)
        self._wanted_lock = threading.Lock()

    @classmethod
    def from_parts(
        cls, index: faiss.Index, layout: Layout, hnsw_m: int, ext: IdArray, live: np.ndarray
    ) -> _Store:
        store = cls.__new__(cls)
        store.dim = index.d
        store.layout = layout
        store.hnsw_m = hnsw_m
        store.index = index
        store.ext = ext
        store.live = live.astype(bool, copy=False)
        labels = np.flatnonzero(store.live)
        store.pos = dict(zip(ext[labels].tolist(), labels.tolist(), strict=True))
        store._sorted = None
        store._allowed_memo = []
        store._wanted = []
        store._wanted_lock = threading.Lock()
        return store

    def clone(self) -> _Store:
        """An independent copy (the FAISS structure cloned, ids and liveness copied)."""
        return _Store.from_parts(
            faiss.clone_index(self.index),
            self.layout,
            self.hnsw_m,
            self.ext.copy(),
            self.live.copy(),
        )

    def contains(self, id: int) -> bool:
        return id in self.pos

    def gather(self, wanted: IdArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """The stored vectors of these ids as one (len, dim) array, with a mask of the ids
        present (absent ids get zero rows)."""
        if wanted.size <= 64 or not self.pos:
            labels = np.fromiter(
                (self.pos.get(i, -1) for i in wanted.tolist()), np.int64, wanted.size
            )
        else:  # hundreds of candidates: one binary search each, not a dict lookup
            keys, known = self.sorted_ids()
            at = np.minimum(np.searchsorted(keys, wanted), keys.size - 1)
            labels = np.where(keys[at] == wanted, known[at], -1)
        present = labels >= 0
        if present.all():
            return self.rows()[labels], present  # one gather (a copy)
        out = np.zeros((labels.size, self.dim), dtype=np.float32)
        if present.any():
            out[present] = self.rows()[labels[present]]
        return out, present

    @property
    def ntotal(self) -> int:
        return int(self.index.ntotal)

    @property
    def n_live(self) -> int:
        return len(self.pos)

    @property
    def n_dead(self) -> int:
        return self.ntotal - len(self.pos)

    def flat(self) -> faiss.IndexFlat:
        """The flat array of all stored vectors: the index itself, or HNSW's storage."""
        if isinstance(self.index, faiss.IndexFlat):
            return self.index
        storage = cast(faiss.IndexHNSW, self.index).storage
        return cast(faiss.IndexFlat, faiss.downcast_index(storage))

    def rows(self) -> FloatArray:
        """A writable view of the stored vectors; valid only until the next add."""
        n = self.ntotal
        if n == 0:
            return np.empty((0, self.dim), dtype=np.float32)
        view = faiss.rev_swig_ptr(self.flat().get_xb(), n * self.dim)
        return cast(FloatArray, view.reshape(n, self.dim))

    def sorted_ids(self) -> tuple[IdArray, IdArray]:
        """Live external ids sorted, with their labels: vectorised lookups of big id sets.

        Computed lazily by readers; concurrent readers may both compute it (same result),
        and writers, which reset it, never run at the same time as a reader."""
        cached = self._sorted
        if cached is None:
            labels = np.flatnonzero(self.live).astype(np.int64)
            keys = self.ext[labels]
            order = np.argsort(keys, kind="stable")
            cached = (keys[order], labels[order])
            self._sorted = cached
        return cached

    def labels_of(self, ids: IdArray) -> IdArray:
        """Labels of the live vectors among ``ids``; unknown and removed ids are dropped."""
        if ids.size == 0 or not self.pos:
            return _NO_IDS
        if ids.size <= 64:
            found = [self.pos[i] for i in ids.tolist() if i in self.pos]
            return np.asarray(found, dtype=np.int64)
        keys, labels = self.sorted_ids()
        at = np.searchsorted(keys, ids)
        at[at == keys.size] = 0
        return labels[at[keys[at] == ids]]

    def allowed_bits(self, allowed: IdArray) -> npt.NDArray[np.bool_]:
        """Label bitmap of an allowed-id array (see `_filter`)."""
        return self._filter(allowed).bits

    def _filter(self, allowed: IdArray) -> _Filter:
        """What the store keeps about one filter: its label bitmap, how its walks went and
        its block. The last few are remembered (by identity: callers cache their filter
        arrays, so the same filter comes back as the same object), which saves translating
        tens of thousands of ids on every search. Least recently used goes first: a
        filter in steady use (overseas from the largest country) must keep its walk
        record and its block while many rarer ones come and go."""
        memo = self._allowed_memo
        for i, f in enumerate(memo):
            if f.allowed is allowed:
                if i:
                    self._allowed_memo = [f, *memo[:i], *memo[i + 1 :]]
                return f
        bits = np.zeros(self.ntotal, dtype=bool)
        bits[self.labels_of(allowed)] = True
        # Entries hold their arrays, so an id is never reused for another array; a new
        # list is swapped in whole, so a concurrent reader never sees it half-updated.
        f = _Filter(allowed, bits, int(np.count_nonzero(bits)))
        self._allowed_memo = [f, *memo[: ALLOWED_MEMO - 1]]
        return f

    def _block(self, f: _Filter, max_share: float) -> tuple[IdArray, FloatArray] | None:
        """The filter's block when it is built; else None, and the first ask puts it on
        the list that `VectorIndex.search` hands to a background builder (`take_wanted`,
        `build_block`): copying tens of MB of vectors would stall the request that asks
        for 100-300 ms, after startup and again after every write. Until it is there, the
        filter is answered as without a block."""
        if f.count > max_share * self.ntotal:  # (a walk costs less than this scan)
            return None
        if f.block is not None or f.wanted:
            return f.block
        with self._wanted_lock:
            if not f.wanted:
                f.wanted = True
                self._wanted.append(f)
        return None

    def take_wanted(self) -> list[_Filter]:
        """The filters whose blocks were asked for since the last call."""
        with self._wanted_lock:
            out, self._wanted = self._wanted, []
        return out

    def build_block(self, f: _Filter) -> tuple[IdArray, FloatArray] | None:
        """Build the filter's allowed labels and a contiguous copy of their vectors,
        within BLOCK_BUDGET (None when it does not fit: older filters' blocks give way
        first). Runs under the read lock: writers wait, and they clear the memo."""
        if f.block is not None:
            return f.block
        labels = np.flatnonzero(f.bits).astype(np.int64)
        need = labels.size * self.dim * 4
        budget = BLOCK_BUDGET * self.ntotal * self.dim * 4
        held = [g for g in self._allowed_memo if g.block is not None and g is not f]
        used = sum(g.block_bytes() for g in held)
        for g in reversed(held):  # oldest first
            if used + need <= budget:
                break
            used -= g.block_bytes()
            g.block = None
        if used + need > budget:
            return None
        f.block = (labels, np.ascontiguousarray(self.rows()[labels]))
        return f.block

    # -- mutations (callers validate: unique int64 ids, finite float32 (n, dim) rows)

    def upsert(self, ids: IdArray, vectors: FloatArray) -> None:
        old = np.fromiter((self.pos.get(i, -1) for i in ids.tolist()), np.int64, ids.size)
        present = old >= 0
        in_place = self.layout == "flat"
        new = ~present if in_place else np.ones(ids.size, dtype=bool)
        n0 = self.ntotal
        if new.any():
            # FAISS first: if it raises, the mapping is still untouched.
            self.index.add(np.ascontiguousarray(vectors[new]))
            added = ids[new]
            self.ext = np.concatenate([self.ext, added])
            self.live = np.concatenate([self.live, np.ones(added.size, dtype=bool)])
            self.pos.update(zip(added.tolist(), range(n0, n0 + added.size), strict=True))
        if present.any():
            if in_place:
                self.rows()[old[present]] = vectors[present]
            else:
                self.live[old[present]] = False  # the re-added copy is live above
        self._sorted = None
        self._allowed_memo = []

    def remove(self, ids: IdArray) -> int:
        dead = [lab for lab in (self.pos.pop(i, None) for i in ids.tolist()) if lab is not None]
        if dead:
            self.live[dead] = False
            self._sorted = None
            self._allowed_memo = []
        return len(dead)

    def live_items(self) -> tuple[IdArray, FloatArray]:
        """Copies of the live ids and vectors, in label (insertion) order."""
        labels = np.flatnonzero(self.live)
        return self.ext[labels].copy(), np.ascontiguousarray(self.rows()[labels])

    # -- search

    def search(
        self,
        queries: FloatArray,
        k: int,
        allowed: IdArray | None,
        exclude: IdArray,
        ef: int,
        *,
        exhaustive: bool = True,
    ) -> list[list[Hit]]:
        nq = queries.shape[0]
        if not self.pos:
            return [[] for _ in range(nq)]
        excluded = self.labels_of(exclude)
        bits: npt.NDArray[np.bool_] | None
        filt: _Filter | None = None
        if allowed is None:
            if self.n_dead == 0 and excluded.size == 0:
                bits, m = None, self.n_live
            else:
                bits = self.live.copy()
                bits[excluded] = False
                m = int(np.count_nonzero(bits))
        else:
            filt = self._filter(allowed)
            bits = filt.bits.copy()
            bits[excluded] = False
            m = int(np.count_nonzero(bits))
        if m == 0:
            return [[] for _ in range(nq)]
        kk = min(k, m)
        walk_ef = self._walk_ef(ef, kk, m, filtered=bits is not None)
        # Few candidates (a small allowed set; exclusions and tombstones covering nearly
        # everything): scoring them all beats walking a graph that rejects most nodes.
        exact = bits is not None and m <= WALK_COST_PER_EF * walk_ef
        if filt is not None and self.layout == "hnsw" and (exact or filt.walks_fail()):
            block = self._block(filt, BLOCK_MAX_SHARE_EXHAUSTIVE if exhaustive else BLOCK_MAX_SHARE)
            if block is not None:
                return _hits(self.ext, *_scan_block(block, queries, kk, excluded))
        # `packed` must outlive the search: the selector only holds a raw pointer to it.
        packed = None if bits is None else np.packbits(bits, bitorder="little")
        sel = (
            None if packed is None else faiss.IDSelectorBitmap(packed.size, faiss.swig_ptr(packed))
        )
        if self.layout == "flat" or exact:
            dist, labels = self._search_exact(queries, kk, sel)
        else:
            dist, labels, first_short = self._search_hnsw(
                queries,
                kk,
                sel,
                walk_ef,
                exhaustive=exhaustive,
                widen=filt is None or not filt.walks_fail(),
            )
            if filt is not None:  # (unlocked counts: a lost update only delays a switch)
                filt.walks += nq
                filt.short += first_short
        return _hits(self.ext, dist, labels)

    def _search_exact(
        self, queries: FloatArray, k: int, sel: faiss.IDSelector | None
    ) -> tuple[FloatArray, IdArray]:
        params = None
        if sel is not None:
            params = faiss.SearchParameters()
            params.sel = sel
        return self.flat().search(queries, k, params=params)

    def _walk_ef(self, ef_search: int, k: int, m: int, *, filtered: bool) -> int:
        """efSearch for an HNSW walk that may admit only ``m`` of the labels.

        Only candidates enter the result heap, but every node is visited, so a filtered
        walk needs a larger ef for the same recall. Scaling by sqrt(labels / m) gives
        recall@10 0.96-0.995 from 5 % to 40 % selectivity on embedding-like data (100k x
        512); 1/selectivity - the visits needed to *see* ef candidates - overshoots
        (0.998, at 3-5x the time). Below ~5 % recall sinks to ~0.91, but there the exact
        scan is cheaper unless the index holds millions (WALK_COST_PER_EF)."""
        ef = max(ef_search, k)
        if filtered:
            ef = math.ceil(ef * math.sqrt(self.ntotal / m))
        return min(ef, max(self.ntotal, k))

    def _search_hnsw(
        self,
        queries: FloatArray,
        k: int,
        sel: faiss.IDSelector | None,
        ef: int,
        *,
        exhaustive: bool = True,
        widen: bool = True,
    ) -> tuple[FloatArray, IdArray, int]:
        """Top-k by walking the graph, and how many queries came up short at first
        (``exhaustive=False``: no second walk or scan for them; -1 labels stay).
        ``widen=False`` (a filter whose walks keep coming up short, too wide for a block):
        a short walk goes straight to the exact scan - at 41 % of 100k x 512 (other
        countries than Japan) the walk at 4x ef finds ~1 of the 60 missing, for 1.6 ms."""
        ntotal = self.ntotal
        dist, labels = self.index.search(queries, k, params=_hnsw_params(ef, sel))
        # k <= m, so any -1 means the walk ran out of candidates before finding k. One
        # wider walk, then the exact scan: a walk that came up short twice is stuck in a
        # region the filter rejects (or among duplicate vectors), and widening it further
        # costs far more than scanning (100-150 ms of repeated walks against 2.5 ms for
        # the exact scan at 100k x 512 with a 15 % allowed set).
        short = np.flatnonzero((labels < 0).any(axis=1))
        first_short = int(short.size)
        if not exhaustive:
            return dist, labels, first_short
        if short.size and widen and ef < ntotal:
            ef = min(ef * 4, ntotal)
            d2, l2 = self.index.search(queries[short], k, params=_hnsw_params(ef, sel))
            dist[short], labels[short] = d2, l2
            short = short[(l2 < 0).any(axis=1)]
        if short.size:
            dist[short], labels[short] = self._search_exact(queries[short], k, sel)
        return dist, labels, first_short


@dataclass(eq=False)
class _Filter:
    """One remembered filter of a store (see `_Store._filter`)."""

    allowed: IdArray
    bits: npt.NDArray[np.bool_]
    count: int  # labels the bitmap admits
    walks: int = 0  # filtered HNSW searches made, and how many came up short at first
    short: int = 0
    block: tuple[IdArray, FloatArray] | None = None
    wanted: bool = False  # its block was asked for (built in the background)

    def block_bytes(self) -> int:
        return 0 if self.block is None else int(self.block[1].nbytes)

    def walks_fail(self) -> bool:
        return self.walks >= SHORT_WALKS_SEEN and self.short > SHORT_WALK_SHARE * self.walks


def _scan_block(
    block: tuple[IdArray, FloatArray], queries: FloatArray, k: int, excluded: IdArray
) -> tuple[FloatArray, IdArray]:
    """Exact top-k inner products over a filter's block (k <= the allowed labels left
    after `excluded`), best first, ties by label; shaped like a FAISS search result."""
    labels, rows = block
    scores = queries @ rows.T
    if excluded.size:
        at = np.searchsorted(labels, excluded)
        hit = at < labels.size
        hit[hit] = labels[at[hit]] == excluded[hit]
        scores[:, at[hit]] = -np.inf
    top = np.argpartition(-scores, k - 1, axis=1)[:, :k] if k < labels.size else None
    if top is None:
        top = np.broadcast_to(np.arange(labels.size), scores.shape).copy()
    picked = np.take_along_axis(scores, top, axis=1)
    order = np.lexsort((labels[top], -picked), axis=1)
    top = np.take_along_axis(top, order, axis=1)
    return np.take_along_axis(scores, top, axis=1), labels[top]


def _hits(ext: IdArray, dist: FloatArray, labels: IdArray) -> list[list[Hit]]:
    found = labels >= 0
    ext_ids = ext[np.where(found, labels, 0)].tolist()
    return [
        [(i, d) for i, d, f in zip(irow, drow, frow, strict=True) if f]
        for irow, drow, frow in zip(ext_ids, dist.tolist(), found.tolist(), strict=True)
    ]


def _build_store(
    dim: int, layout: Layout, hnsw_m: int, ids: IdArray, vectors: FloatArray
) -> _Store:
    """A fresh store holding ``vectors`` (the slow part of a rebuild; runs unlocked)."""
    store = _Store(dim, layout, hnsw_m)
    if ids.size:
        store.upsert(ids, vectors)
    return store


# --------------------------------------------------------------------------- compact layout

#: Vectors written since a compact base was built (the float32 delta beside it, scored
#: exactly on every search: 10,000 x 512 is ~1 ms) before they are compacted into a new
#: base, on a background thread.
DELTA_MAX = 10_000
#: IVF lists a search probes without a filter (a filter admitting a share s of the base
#: probes NPROBE / s lists, up to all of them: the selector is tested before a code is
#: decoded, so that costs about as much as the unfiltered search). scripts/bench_scale.py
#: measured recall@10 against exact search on the same store.
NPROBE = 32
#: Allowed sets this small are scored from their decoded vectors (one product) instead of
#: probing lists.
RECONSTRUCT_MAX = 2_048
#: A compaction retrains the lists (k-means on a sample) once the base holds this many
#: times the vectors it was trained on; otherwise it copies the old codes as they are.
RETRAIN_GROWTH = 4


class _IdMap:
    """External id -> base label of the live base vectors: a dense array when the ids are
    small non-negative integers (database keys), else sorted keys and a binary search."""

    def __init__(self, ext: IdArray, live: npt.NDArray[np.bool_]) -> None:
        self.live = live
        self.dense: npt.NDArray[np.int32] | None = None
        self.keys: IdArray = _NO_IDS
        self.labels: IdArray = _NO_IDS
        if ext.size and int(ext.min()) >= 0 and int(ext.max()) < 8 * ext.size + 1_000_000:
            dense = np.full(int(ext.max()) + 1, -1, dtype=np.int32)
            dense[ext] = np.arange(ext.size, dtype=np.int32)
            self.dense = dense
        elif ext.size:
            order = np.argsort(ext, kind="stable")
            self.keys, self.labels = ext[order], order.astype(np.int64)

    def lookup(self, ids: IdArray) -> IdArray:
        """The live base label of each id, -1 where it has none."""
        out = np.full(ids.size, -1, dtype=np.int64)
        if not ids.size:
            return out
        if self.dense is not None:
            ok = (ids >= 0) & (ids < self.dense.size)
            out[ok] = self.dense[ids[ok]]
        elif self.keys.size:
            at = np.minimum(np.searchsorted(self.keys, ids), self.keys.size - 1)
            hit = self.keys[at] == ids
            out[hit] = self.labels[at[hit]]
        found = out >= 0
        found[found] = self.live[out[found]]
        out[~found] = -1
        return out


@dataclass(eq=False)
class _BaseFilter:
    """One remembered filter of a compact base: its bitmap over base labels, and how many
    of its labels each list holds."""

    allowed: IdArray
    bits: npt.NDArray[np.bool_]
    count: int
    per_list: npt.NDArray[np.int64]


class _CompactStore:
    """The ``compact`` layout: a read-only IVF base over 8-bit codes (indexing.ivf;
    memory-mapped once it has a file) and a float32 ``_Store`` delta (flat, exact) with the
    vectors written since the base was built. An id is live in one of them at most: a
    write tombstones its base label (``base_live``) and goes to the delta. Not thread-safe:
    every call happens under :class:`VectorIndex`'s lock, like `_Store`."""

    layout: Layout = "compact"

    def __init__(
        self,
        dim: int,
        trained: faiss.IndexIVFScalarQuantizer,
        base: faiss.IndexIVFScalarQuantizer,
        base_ext: IdArray,
        base_live: npt.NDArray[np.bool_],
        delta: _Store,
        *,
        trained_on: int,
        nprobe: int,
        base_file: tuple[Path, str] | None = None,
    ) -> None:
        self.dim = dim
        self.hnsw_m = delta.hnsw_m
        self.trained = trained
        self.base = base
        self.base_ext = base_ext
        self.base_live = base_live
        self.base_dead = int(base_ext.size - np.count_nonzero(base_live))
        self.delta = delta
        self.trained_on = trained_on
        self.nprobe = nprobe
        self.base_file = base_file  # (path, sha256) once the base is in a file
        self._map = _IdMap(base_ext, base_live)
        self._list_of = ivf.list_of_labels(base)
        self._sorted: IdArray | None = None
        self._memo: list[_BaseFilter] = []

    @classmethod
    def build(
        cls,
        dim: int,
        ids: IdArray,
        vectors: FloatArray,
        *,
        hnsw_m: int,
        nprobe: int,
        spill: Path | None,
    ) -> _CompactStore:
        """A new base trained on and holding these vectors (labels in their order)."""
        trained = ivf.train(vectors, ivf.nlist_for(ids.size))
        base = ivf.copy_live(trained, None, None, vectors)
        store = cls(
            dim,
            trained,
            base,
            ids.copy(),
            np.ones(ids.size, dtype=bool),
            _Store(dim, "flat", hnsw_m),
            trained_on=int(ids.size),
            nprobe=nprobe,
        )
        return store.spilled(spill)

    def spilled(self, spill: Path | None) -> _CompactStore:
        """This store with its in-memory base written to the pool ``spill`` and mapped
        from there (the private copy freed); unchanged without a pool."""
        if spill is None or self.base_file is not None:
            return self
        path, sha = ivf.store_in_pool(self.base, spill)
        self.base = ivf.load_base(path)
        self.base_file = (path, sha)
        return self

    def clone(self) -> _CompactStore:
        """A copy to change without touching this one: the base (read-only) shared, the
        liveness and the delta copied."""
        return _CompactStore(
            self.dim,
            self.trained,
            self.base,
            self.base_ext,
            self.base_live.copy(),
            self.delta.clone(),
            trained_on=self.trained_on,
            nprobe=self.nprobe,
            base_file=self.base_file,
        )

    # -- sizes

    @property
    def nb(self) -> int:
        return int(self.base_ext.size)

    @property
    def ntotal(self) -> int:
        return self.nb + self.delta.ntotal

    @property
    def n_live(self) -> int:
        return self.nb - self.base_dead + self.delta.n_live

    @property
    def n_dead(self) -> int:
        return self.base_dead + self.delta.n_dead

    def needs_compaction(self) -> bool:
        return (
            self.delta.n_live > DELTA_MAX
            or self.base_dead > TOMBSTONE_RATIO * max(1, self.nb)
            or self.delta.n_dead > TOMBSTONE_RATIO * max(DELTA_MAX, self.delta.ntotal)
        )

    # -- lookups

    def contains(self, id: int) -> bool:
        return self.delta.contains(id) or bool(
            self._map.lookup(np.asarray([id], dtype=np.int64))[0] >= 0
        )

    def sorted_ids(self) -> tuple[IdArray, IdArray]:
        """Live external ids, ascending (the second array is there for `_Store`'s
        signature: labels are not one space here)."""
        cached = self._sorted
        if cached is None:
            cached = np.sort(
                np.concatenate([self.base_ext[self.base_live], self.delta.sorted_ids()[0]])
            )
            self._sorted = cached
        return cached, cached

    def gather(self, wanted: IdArray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        out, present = self.delta.gather(wanted)
        labels = self._map.lookup(wanted)
        in_base = labels >= 0
        if in_base.any():
            if present.all():  # (never both: an id is live in one part)
                out = out.copy()
            out[in_base] = ivf.reconstruct(self.base, labels[in_base])
            present = present | in_base
        return out, present

    def live_items(self) -> tuple[IdArray, FloatArray]:
        """Live ids and vectors (the base's decoded), base first: a change of layout."""
        labels = np.flatnonzero(self.base_live).astype(np.int64)
        ids, vecs = self.delta.live_items()
        decoded = ivf.reconstruct(self.base, labels)
        return np.concatenate([self.base_ext[labels], ids]), np.vstack([decoded, vecs])

    # -- mutations

    def _tombstone(self, ids: IdArray) -> int:
        labels = self._map.lookup(ids)
        labels = labels[labels >= 0]
        if labels.size:
            self.base_live[labels] = False
            self.base_dead += int(labels.size)
        return int(labels.size)

    def upsert(self, ids: IdArray, vectors: FloatArray) -> None:
        self._tombstone(ids)
        self.delta.upsert(ids, vectors)
        self._sorted = None
        self._memo = []

    def remove(self, ids: IdArray) -> int:
        removed = self._tombstone(ids) + self.delta.remove(ids)
        if removed:
            self._sorted = None
            self._memo = []
        return removed

    def take_wanted(self) -> list[_Filter]:
        return []  # (no blocks: a filter costs an IVF search next to nothing)

    def build_block(self, f: _Filter) -> None:
        return None

    # -- compaction

    def compaction(self, spill: Path | None) -> Callable[[], _CompactStore]:
        """A snapshot of this store (taken now, under the caller's lock) and the function
        that builds its compacted successor from it, to run outside the lock: the base's
        live codes copied list by list, then the delta's vectors by ascending id, so that
        processes holding the same vectors build the same base file. Retrains the lists
        when the base has grown RETRAIN_GROWTH-fold since its training."""
        trained, base, live = self.trained, self.base, self.base_live.copy()
        base_ext = self.base_ext
        ids, vecs = self.delta.live_items()
        order = np.argsort(ids, kind="stable")
        ids, vecs = ids[order], vecs[order]
        total = int(np.count_nonzero(live)) + ids.size
        retrain = total > RETRAIN_GROWTH * max(1, self.trained_on)
        hnsw_m, nprobe, dim, trained_on = self.hnsw_m, self.nprobe, self.dim, self.trained_on

        def build() -> _CompactStore:
            if retrain:
                labels = np.flatnonzero(live).astype(np.int64)
                all_ids = np.concatenate([base_ext[labels], ids])
                all_vecs = np.vstack([ivf.reconstruct(base, labels), vecs])
                return _CompactStore.build(
                    dim, all_ids, all_vecs, hnsw_m=hnsw_m, nprobe=nprobe, spill=spill
                )
            new = ivf.compact(trained, base, live, vecs)
            store = _CompactStore(
                dim,
                trained,
                new,
                np.concatenate([base_ext[live], ids]),
                np.ones(total, dtype=bool),
                _Store(dim, "flat", hnsw_m),
                trained_on=trained_on,
                nprobe=nprobe,
            )
            return store.spilled(spill)

        return build

    # -- search

    def _filter(self, allowed: IdArray) -> _BaseFilter:
        memo = self._memo
        for i, f in enumerate(memo):
            if f.allowed is allowed:
                if i:
                    self._memo = [f, *memo[:i], *memo[i + 1 :]]
                return f
        bits = np.zeros(self.nb, dtype=bool)
        labels = self._map.lookup(allowed)
        labels = labels[labels >= 0]
        bits[labels] = True
        per_list = np.bincount(self._list_of[labels], minlength=int(self.base.nlist))
        f = _BaseFilter(allowed, bits, int(labels.size), per_list)
        self._memo = [f, *memo[: ALLOWED_MEMO - 1]]
        return f

    def allowed_bits(self, allowed: IdArray) -> npt.NDArray[np.bool_]:
        return self._filter(allowed).bits

    def search(
        self,
        queries: FloatArray,
        k: int,
        allowed: IdArray | None,
        exclude: IdArray,
        ef: int,
        *,
        exhaustive: bool = True,
    ) -> list[list[Hit]]:
        hits = self._search_base(queries, k, allowed, exclude, exhaustive=exhaustive)
        if self.delta.n_live:
            more = self.delta.search(queries, k, allowed, exclude, ef, exhaustive=True)
            for row, extra in zip(hits, more, strict=True):
                if extra:
                    row += extra
                    row.sort(key=lambda hit: -hit[1])  # (stable: the base's first on ties)
                    del row[k:]
        return hits

    def _search_base(
        self,
        queries: FloatArray,
        k: int,
        allowed: IdArray | None,
        exclude: IdArray,
        *,
        exhaustive: bool,
    ) -> list[list[Hit]]:
        nq, nb = queries.shape[0], self.nb
        excluded = self._map.lookup(exclude)
        excluded = excluded[excluded >= 0]
        bits: npt.NDArray[np.bool_] | None
        filt = None
        if allowed is None:
            if self.base_dead == 0 and excluded.size == 0:
                bits, m = None, nb
            else:
                bits = self.base_live.copy()
                bits[excluded] = False
                m = int(np.count_nonzero(bits))
        else:
            filt = self._filter(allowed)
            bits = filt.bits.copy()
            bits[excluded] = False
            m = int(np.count_nonzero(bits))
        if m == 0:
            return [[] for _ in range(nq)]
        kk = min(k, m)
        if bits is not None and m <= RECONSTRUCT_MAX:
            labels = np.flatnonzero(bits).astype(np.int64)
            block = (labels, ivf.reconstruct(self.base, labels))
            return _hits(self.base_ext, *_scan_block(block, queries, kk, _NO_IDS))
        nlist = int(self.base.nlist)
        packed = None if bits is None else np.packbits(bits, bitorder="little")
        sel = (
            None if packed is None else faiss.IDSelectorBitmap(packed.size, faiss.swig_ptr(packed))
        )
        if filt is None:
            dist, labels = self.base.search(queries, kk, params=_ivf_params(self.nprobe, sel))
        else:
            dist, labels = self._search_filtered(queries, kk, sel, filt.per_list, m)
        short = np.flatnonzero((labels < 0).any(axis=1))
        if exhaustive and short.size:  # every list: exact over the codes
            d2, l2 = self.base.search(queries[short], kk, params=_ivf_params(nlist, sel))
            dist[short], labels[short] = d2, l2
        return _hits(self.base_ext, dist, labels)

    def _search_filtered(
        self,
        queries: FloatArray,
        k: int,
        sel: faiss.IDSelector | None,
        per_list: npt.NDArray[np.int64],
        m: int,
    ) -> tuple[FloatArray, IdArray]:
        """A filtered search probes the lists nearest the query among those holding
        allowed vectors, until they hold as many allowed vectors as NPROBE lists hold in
        all (or every allowed one). Probing the nearest lists regardless would miss a
        filter whose vectors lie away from the query's neighbourhood (another country:
        the lists near a Japanese text hold Japanese texts), and scaling the probes by the
        filter's share would not find them either."""
        base = self.base
        nlist = int(base.nlist)
        quantizer = base.quantizer
        assert quantizer is not None
        target = min(m, math.ceil(self.nprobe * self.nb / nlist))
        cdist, clist = quantizer.search(queries, nlist)
        picked: list[tuple[IdArray, FloatArray]] = []
        for lists, dists in zip(clist, cdist, strict=True):
            keep = lists >= 0
            keep[keep] = per_list[lists[keep]] > 0
            lists, dists = lists[keep], dists[keep]
            upto = int(np.searchsorted(np.cumsum(per_list[lists]), target)) + 1
            picked.append((lists[:upto], dists[:upto]))
        width = max(lists.size for lists, _ in picked)
        assign = np.full((len(picked), width), -1, dtype=np.int64)
        # the query's inner product with each list's centroid: the codes hold residuals
        coarse = np.zeros((len(picked), width), dtype=np.float32)
        for i, (lists, dists) in enumerate(picked):
            assign[i, : lists.size] = lists
            coarse[i, : lists.size] = dists
        dist = np.empty((queries.shape[0], k), dtype=np.float32)
        labels = np.empty((queries.shape[0], k), dtype=np.int64)
        # (FAISS's Python wrapper of search_preassigned takes no search parameters)
        cast(Any, base).search_preassigned_c(
            queries.shape[0],
            faiss.swig_ptr(queries),
            k,
            faiss.swig_ptr(assign),
            faiss.swig_ptr(coarse),
            faiss.swig_ptr(dist),
            faiss.swig_ptr(labels),
            False,
            _ivf_params(width, sel),
        )
        return dist, labels


_AnyStore = _Store | _CompactStore


def _ivf_params(nprobe: int, sel: faiss.IDSelector | None) -> faiss.SearchParameters:
    params: Any = faiss.SearchParametersIVF()
    params.nprobe = int(nprobe)
    if sel is not None:
        params.sel = sel
    return cast(faiss.SearchParameters, params)


#: Allowed-id bitmaps remembered per store (one per filter in use: purposes, kinds, and
#: "other countries than X" for each X that asks for overseas matches). It must exceed the
#: filters in use (11 at 100k profiles from 9 countries): otherwise they evict each other,
#: and a busy filter that loses its walk record and its block re-scans the store.
ALLOWED_MEMO = 32


# --------------------------------------------------------------------------- files


def _utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    """fsync a file, or a directory so that the entries created in it are durable."""
    if path.is_dir() and os.name == "nt":  # Windows cannot open a directory
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _save_npy(path: Path, array: np.ndarray) -> None:
    with path.open("wb") as f:
        np.save(f, array, allow_pickle=False)
        f.flush()
        os.fsync(f.fileno())


def _load_npy(path: Path, dtype: type[np.generic]) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError, EOFError) as exc:
        raise IndexMismatchError(f"cannot read {path.name}: {exc}") from exc
    if array.dtype != dtype or array.ndim != 1:
        raise IndexMismatchError(f"{path.name} holds {array.dtype} {array.shape}")
    return array


# --------------------------------------------------------------------------- the index

# A write journaled during a rebuild: (ids, vectors) for an upsert, (ids, None) a removal.
_Op = tuple[IdArray, FloatArray | None]


class VectorIndex:
    """Inner-product nearest-neighbour index over external int64 ids (see module doc).

    Vectors must be L2-normalised by the caller (the encoder does it), so inner product
    is cosine similarity; the index does not renormalise them.
    """

    def __init__(
        self,
        dim: int,
        model_id: str,
        *,
        hnsw_threshold: int = 50_000,
        hnsw_m: int = 32,
        ef_search: int = 128,
        large_layout: LargeLayout = "hnsw",
        nprobe: int = NPROBE,
        spill: Path | None = None,
    ) -> None:
        if dim < 1:
            raise ValueError(f"dim must be >= 1, got {dim}")
        if not model_id:
            raise ValueError("model_id must not be empty")
        if hnsw_threshold < 0:
            raise ValueError(f"hnsw_threshold must be >= 0, got {hnsw_threshold}")
        if hnsw_m < 2:
            raise ValueError(f"hnsw_m must be >= 2, got {hnsw_m}")
        if ef_search < 1:
            raise ValueError(f"ef_search must be >= 1, got {ef_search}")
        if large_layout not in get_args(LargeLayout):
            raise ValueError(f"large_layout must be one of {get_args(LargeLayout)}")
        if nprobe < 1:
            raise ValueError(f"nprobe must be >= 1, got {nprobe}")
        self._dim = int(dim)
        self._model_id = model_id
        self._hnsw_threshold = int(hnsw_threshold)
        self._hnsw_m = int(hnsw_m)
        self._ef_search = int(ef_search)
        self._large: LargeLayout = large_layout
        self._nprobe = int(nprobe)
        # where the compact layout writes its bases (indexing.ivf's pool); None: they stay
        # in memory until saved
        self._spill = spill
        self._lock = _ReadWriteLock()
        self._rebuild_mutex = threading.Lock()  # one rebuild at a time
        self._save_mutex = threading.Lock()  # one save at a time (they share a directory)
        self._journal: list[_Op] | None = None  # writes made while a rebuild runs
        self._builders: list[threading.Thread] = []  # background block builds
        self._builders_lock = threading.Lock()
        self._store: _AnyStore = _Store(
            self._dim, choose_layout(0, self._hnsw_threshold), self._hnsw_m
        )
        self._built_at = _utc_now()

    def copy(self) -> VectorIndex:
        """An independent copy (the FAISS structure cloned, ids and liveness copied), to
        change for a what-if without touching this index; searches go on meanwhile."""
        out = VectorIndex(
            self._dim,
            self._model_id,
            hnsw_threshold=self._hnsw_threshold,
            hnsw_m=self._hnsw_m,
            ef_search=self._ef_search,
            large_layout=self._large,
            nprobe=self._nprobe,
        )
        with self._lock.read:
            out._store = self._store.clone()
            out._built_at = self._built_at
        return out

    # -- introspection

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def hnsw_threshold(self) -> int:
        return self._hnsw_threshold

    @property
    def large_layout(self) -> LargeLayout:
        return self._large

    @property
    def layout(self) -> Layout:
        with self._lock.read:
            return self._store.layout

    @property
    def meta(self) -> IndexMeta:
        with self._lock.read:
            return self._meta_locked()

    def _meta_locked(self) -> IndexMeta:
        return IndexMeta(
            model_id=self._model_id,
            dim=self._dim,
            count=self._store.n_live,
            layout=self._store.layout,
            built_at=self._built_at,
            faiss_version=faiss.__version__,
            format_version=FORMAT_VERSION,
        )

    @property
    def tombstones(self) -> int:
        """Dead labels still inside FAISS (until the next compaction)."""
        with self._lock.read:
            return self._store.n_dead

    def __len__(self) -> int:
        with self._lock.read:
            return self._store.n_live

    def __contains__(self, id: object) -> bool:
        try:
            key = int(id)  # type: ignore[call-overload]
        except (TypeError, ValueError):
            return False
        with self._lock.read:
            return self._store.contains(key)

    def __repr__(self) -> str:
        meta = self.meta
        return (
            f"VectorIndex(model_id={meta.model_id!r}, dim={meta.dim}, count={meta.count}, "
            f"layout={meta.layout!r})"
        )

    def ids(self) -> IdArray:
        """Live external ids, ascending."""
        with self._lock.read:
            return self._store.sorted_ids()[0].copy()

    def vector(self, id: int) -> FloatArray | None:
        """A copy of the stored vector of ``id``, or None if absent (the compact layout's
        base gives its decoded 8-bit codes)."""
        with self._lock.read:
            store = self._store
            if isinstance(store, _Store):
                label = store.pos.get(int(id))
                return None if label is None else store.rows()[label].copy()
            block, present = store.gather(np.asarray([id], dtype=np.int64))
            return block[0] if present[0] else None

    def vectors(self, ids: Sequence[int] | np.ndarray) -> list[FloatArray | None]:
        """Copies of the stored vectors of many ids (None where absent)."""
        block, present = self.matrix(ids)
        return [row if ok else None for row, ok in zip(block, present.tolist(), strict=True)]

    def matrix(self, ids: Sequence[int] | np.ndarray) -> tuple[FloatArray, npt.NDArray[np.bool_]]:
        """The stored vectors of many ids as one (len(ids), dim) array, gathered under one
        read lock, with a mask of the ids present (absent ids get zero rows): ranking reads
        the vectors of hundreds of candidates per query."""
        wanted = np.asarray(ids, dtype=np.int64)
        with self._lock.read:
            return self._store.gather(wanted)

    # -- mutations

    def upsert(self, ids: Sequence[int] | np.ndarray, vectors: np.ndarray) -> None:
        """Insert or replace the vectors of ``ids`` (unique external int64 ids).

        ``vectors`` is float32 (len(ids), dim), finite, L2-normalised. May trigger a
        rebuild (layout upgrade or compaction) in the calling thread, after the write
        lock is released: readers are served from the old index meanwhile.
        """
        id_arr = _as_ids(ids, "ids")
        vecs = _as_vectors(vectors, self._dim, "vectors", allow_1d=False)
        if id_arr.size != vecs.shape[0]:
            raise ValueError(f"{id_arr.size} ids for {vecs.shape[0]} vectors")
        if np.unique(id_arr).size != id_arr.size:
            raise ValueError("ids contain duplicates")
        if id_arr.size == 0:
            return
        with self._lock.write:
            self._store.upsert(id_arr, vecs)
            if self._journal is not None:
                self._journal.append((id_arr.copy(), vecs.copy()))
        self._maintain()

    def remove(self, ids: Iterable[int]) -> int:
        """Remove ``ids``; returns how many of them were present."""
        id_arr = _as_ids(ids, "ids")
        with self._lock.write:
            removed = self._store.remove(id_arr)
            if removed and self._journal is not None:
                self._journal.append((id_arr.copy(), None))
        if removed:
            self._maintain()
        return removed

    def rebuild(self) -> None:
        """Compact (drop tombstones) and re-choose the layout for the current size.

        The new FAISS index is built outside the lock from a snapshot; writes made in the
        meantime are journaled and replayed before the swap, so none is lost and searches
        are not blocked by the build."""
        with self._rebuild_mutex:
            self._rebuild_unlocked()
            self._rebuild_while_needed()

    @property
    def layout_outdated(self) -> bool:
        """Whether this large index has the other large layout than the one it is set up
        for (a saved index built before the setting changed): `rebuild` converts it."""
        with self._lock.read:
            layout = self._store.layout
        return layout != "flat" and layout != self._large

    def _needs_rebuild(self) -> bool:
        store = self._store
        if isinstance(store, _CompactStore):
            return store.needs_compaction()
        if (
            store.layout == "flat"
            and choose_layout(store.n_live, self._hnsw_threshold, self._large) != "flat"
        ):
            return True
        return store.n_dead > TOMBSTONE_RATIO * store.ntotal

    def _maintain(self) -> None:
        """Upgrade or compact if needed. If a rebuild is already running, it will replay
        this write and check again itself. A failed rebuild is logged, not raised: the
        write that triggered it is applied and the old index keeps serving, correctly.
        The compact layout compacts on a background thread (`settle` waits for it): its
        writes are cheap, and the one that fills the delta should not pay for the new base."""
        if isinstance(self._store, _CompactStore):
            with self._lock.read:
                if not self._needs_rebuild():
                    return
            thread = threading.Thread(
                target=self._maintain_now, name="vector-index-compaction", daemon=True
            )
            with self._builders_lock:
                self._builders = [t for t in self._builders if t.is_alive()] + [thread]
            thread.start()
            return
        self._maintain_now()

    def _maintain_now(self) -> None:
        if not self._rebuild_mutex.acquire(blocking=False):
            return
        try:
            self._rebuild_while_needed()
        except Exception:
            logger.exception("vector index rebuild failed; keeping the current index")
        finally:
            self._rebuild_mutex.release()

    def _rebuild_while_needed(self) -> None:
        # Writes replayed after a rebuild can call for another one; bounded so a writer
        # flooding the index cannot keep its caller here forever.
        for _ in range(3):
            with self._lock.read:
                if not self._needs_rebuild():
                    return
            self._rebuild_unlocked()

    def _rebuild_unlocked(self) -> None:
        """One snapshot-build-replay-swap cycle; the caller holds ``_rebuild_mutex``. The
        layout is chosen again for the size: a compaction of an index that shrank below
        the threshold makes it exact again."""
        started = time.perf_counter()
        dim, hnsw_m = self._dim, self._hnsw_m
        build: Callable[[], _AnyStore]
        with self._lock.write:
            store = self._store
            layout = choose_layout(store.n_live, self._hnsw_threshold, self._large)
            if isinstance(store, _CompactStore) and layout == "compact":
                build = store.compaction(self._spill)
            else:
                ids, vectors = store.live_items()
                if layout == "compact":
                    nprobe, spill = self._nprobe, self._spill

                    def build() -> _AnyStore:
                        return _CompactStore.build(
                            dim, ids, vectors, hnsw_m=hnsw_m, nprobe=nprobe, spill=spill
                        )
                else:
                    target = layout

                    def build() -> _AnyStore:
                        return _build_store(dim, target, hnsw_m, ids, vectors)

            self._journal = []
        try:
            new = build()
        except BaseException:
            with self._lock.write:
                self._journal = None
            raise
        del build
        with self._lock.write:
            journal, self._journal = self._journal or [], None
            for op_ids, op_vectors in journal:
                if op_vectors is None:
                    new.remove(op_ids)
                else:
                    new.upsert(op_ids, op_vectors)
            self._store = new
            self._built_at = _utc_now()
        logger.info(
            "vector index rebuilt: layout=%s count=%d replayed=%d in %.2fs",
            layout,
            new.n_live,
            len(journal),
            time.perf_counter() - started,
        )

    # -- search

    def search(
        self,
        queries: np.ndarray,
        k: int,
        *,
        allowed: np.ndarray | None = None,
        exclude: Iterable[int] = (),
        exhaustive: bool = True,
    ) -> list[list[tuple[int, float]]]:
        """Top-``k`` inner-product neighbours of each query, best first.

        ``queries`` is float32 (n, dim) or (dim,). ``allowed``: external ids the results
        must come from (None: all). ``exclude``: ids never returned. Each list holds at
        most ``k`` ``(external id, score)`` pairs and never a removed, excluded or
        non-allowed id. Exact on the flat layout and for small allowed sets; HNSW
        otherwise (recall ~0.95+ at the default ``ef_search``). A filtered HNSW walk that
        comes up short is widened, then answered exactly, so that ``k`` are found;
        ``exhaustive=False`` returns what the first walk found instead (a candidate
        source among others, where the exact scan would cost more than it brings).
        """
        q = _as_vectors(queries, self._dim, "queries", allow_1d=True)
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or k < 1:
            raise ValueError(f"k must be a positive integer, got {k!r}")
        allowed_ids = None if allowed is None else _as_ids(allowed, "allowed")
        empty = isinstance(exclude, tuple | list | set | frozenset) and not exclude
        exclude_ids = _NO_IDS if empty else _as_ids(exclude, "exclude")
        with _OneOmpThread() if q.shape[0] == 1 else contextlib.nullcontext(), self._lock.read:
            store = self._store
            hits = store.search(
                q, int(k), allowed_ids, exclude_ids, self._ef_search, exhaustive=exhaustive
            )
            wanted = store.take_wanted()
        if wanted and isinstance(store, _Store):
            self._build_blocks(store, wanted)
        return hits

    def _build_blocks(self, store: _Store, wanted: list[_Filter]) -> None:
        """Build filters' blocks on a background thread, under the read lock (searches go
        on; a write waits for the copy). A store replaced by a rebuild meanwhile is
        skipped: its filters are gone with it."""

        def build() -> None:
            try:
                with self._lock.read:
                    if self._store is store:
                        for f in wanted:
                            store.build_block(f)
            except Exception:  # (memory): the filter keeps being answered without one
                logger.exception("building a filter block failed")

        thread = threading.Thread(target=build, name="vector-index-block", daemon=True)
        with self._builders_lock:
            self._builders = [t for t in self._builders if t.is_alive()] + [thread]
        thread.start()

    def compact_now(self) -> None:
        """Compact (or upgrade) now if the index needs it, in the calling thread, and wait
        for background work: a bulk load ends with its index compact and its delta empty,
        rather than leaving the last writes to a background thread of every worker."""
        self.settle()
        self._maintain_now()
        self.settle()

    def settle(self) -> None:
        """Wait for the background block builds and compactions started so far."""
        with self._builders_lock:
            builders = list(self._builders)
        for t in builders:
            t.join()

    # -- persistence

    def save(self, path: Path) -> None:
        """Persist atomically under directory ``path`` (see module doc for the layout).

        Writes wait while the files are written; searches go on. A crash or an error at
        any point leaves the previously saved generation as the one ``load`` reads.
        One process saves to a given ``path`` at a time."""
        path = Path(path)
        with self._save_mutex, self._lock.read:
            path.mkdir(parents=True, exist_ok=True)
            tmp = path / f".tmp-{uuid.uuid4().hex}"
            generation = f"gen-{datetime.now(UTC):%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
            final = path / generation
            try:
                tmp.mkdir()
                store = self._store
                known: dict[str, str] = {}  # checksums known without reading the file
                params: dict[str, Any] = {
                    "hnsw_m": self._hnsw_m,
                    "ef_search": self._ef_search,
                    "ef_construction": EF_CONSTRUCTION,
                    "hnsw_threshold": self._hnsw_threshold,
                    "large_layout": self._large,
                    "nprobe": self._nprobe,
                }
                delta = store if isinstance(store, _Store) else store.delta
                if isinstance(store, _CompactStore):
                    base_path, sha = self._pooled_base(store, self._spill or path / POOL_DIR)
                    ivf.link_or_copy(base_path, tmp / _BASE_FILE)
                    known[_BASE_FILE] = sha
                    faiss.write_index(store.trained, str(tmp / _TRAINED_FILE))
                    _fsync(tmp / _TRAINED_FILE)
                    _save_npy(tmp / _BASE_IDS_FILE, store.base_ext)
                    _save_npy(tmp / _BASE_LIVE_FILE, store.base_live)
                    params["trained_on"] = store.trained_on
                    params["nlist"] = int(store.base.nlist)
                faiss.write_index(delta.index, str(tmp / _INDEX_FILE))
                _fsync(tmp / _INDEX_FILE)
                _save_npy(tmp / _IDS_FILE, delta.ext)
                _save_npy(tmp / _LIVE_FILE, delta.live)
                meta = self._meta_locked().to_dict()
                meta["params"] = params
                meta["tombstones"] = store.n_dead
                meta["saved_at"] = _utc_now()
                meta["files"] = {
                    name: {
                        "sha256": known.get(name) or _sha256(tmp / name),
                        "bytes": (tmp / name).stat().st_size,
                    }
                    for name in _data_files(store.layout)
                }
                with (tmp / _META_FILE).open("w", encoding="utf-8") as f:
                    json.dump(meta, f, indent=2, sort_keys=True)
                    f.flush()
                    os.fsync(f.fileno())
                _fsync(tmp)
                os.rename(tmp, final)
                pointer = path / f".{_POINTER_FILE}.{uuid.uuid4().hex}"
                with pointer.open("w", encoding="utf-8") as f:
                    f.write(generation + "\n")
                    f.flush()
                    os.fsync(f.fileno())
                try:
                    os.replace(pointer, path / _POINTER_FILE)  # the commit point
                finally:
                    pointer.unlink(missing_ok=True)
                _fsync(path)
            except BaseException:
                shutil.rmtree(tmp, ignore_errors=True)
                if _read_pointer(path) != generation:
                    shutil.rmtree(final, ignore_errors=True)
                raise
            # Earlier generations and leftovers of interrupted saves.
            for child in path.iterdir():
                if child.name != generation and (
                    child.name.startswith("gen-") or child.name.startswith(".tmp-")
                ):
                    shutil.rmtree(child, ignore_errors=True)
            if isinstance(store, _CompactStore):
                _prune_pool(self._spill or path / POOL_DIR, store)

    def _pooled_base(self, store: _CompactStore, pool: Path) -> tuple[Path, str]:
        """The base's file in the pool (linked there from where it was loaded, or written
        when it has no file yet or its file is gone). A base held in memory is mapped from
        its new file afterwards: the private copy is freed and other processes that load
        this generation share its pages. Same bytes, so concurrent readers are not
        disturbed by the swap."""
        if store.base_file is not None:
            path, sha = store.base_file
            pooled = pool / f"{sha}.ivf"
            if not pooled.exists() and path.exists():
                pool.mkdir(parents=True, exist_ok=True)
                with contextlib.suppress(FileExistsError):
                    os.link(path, pooled)
            if pooled.exists():
                store.base_file = (pooled, sha)
                return pooled, sha
        pooled, sha = ivf.store_in_pool(store.base, pool)
        if store.base_file is None:
            store.base = ivf.load_base(pooled)
        store.base_file = (pooled, sha)
        return pooled, sha

    @classmethod
    def load(
        cls,
        path: Path,
        *,
        model_id: str,
        dim: int,
        hnsw_threshold: int = 50_000,
        large_layout: LargeLayout = "hnsw",
        nprobe: int = NPROBE,
        spill: Path | None = None,
    ) -> VectorIndex:
        """Load what :meth:`save` wrote, checking it was built for ``model_id`` / ``dim``
        with this format and that every data file is complete and unchanged.

        Raises :class:`IndexMismatchError` otherwise (including when nothing was saved).
        A different FAISS version is only logged: FAISS reads older files, and a real
        incompatibility fails the read and raises too. The saved layout is kept even if
        ``hnsw_threshold`` now suggests another one; the next upsert crossing it, or
        :meth:`rebuild`, applies it (likewise ``large_layout``: see `layout_outdated`).
        A compact index's base is mapped from its file, read-only, not read into memory.
        """
        path = Path(path)
        generation = _read_pointer(path)
        if generation is None:
            raise IndexMismatchError(f"no saved index at {path}")
        if not _GENERATION.fullmatch(generation):
            raise IndexMismatchError(f"{path / _POINTER_FILE} is corrupt")
        folder = path / generation
        try:
            raw = json.loads((folder / _META_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexMismatchError(f"cannot read {folder / _META_FILE}: {exc}") from exc
        if not isinstance(raw, dict):
            raise IndexMismatchError(f"{folder / _META_FILE} is not an object")
        meta = IndexMeta.from_dict(raw)
        if meta.format_version != FORMAT_VERSION:
            raise IndexMismatchError(
                f"index format {meta.format_version}, this code reads {FORMAT_VERSION}"
            )
        if meta.model_id != model_id:
            raise IndexMismatchError(f"index built for model {meta.model_id!r}, not {model_id!r}")
        if meta.dim != dim:
            raise IndexMismatchError(f"index has dim {meta.dim}, expected {dim}")
        if meta.faiss_version != faiss.__version__:
            logger.warning(
                "index saved by faiss %s, running %s", meta.faiss_version, faiss.__version__
            )
        _verify_files(folder, raw.get("files"), _data_files(meta.layout))

        try:
            index = faiss.read_index(str(folder / _INDEX_FILE))
        except RuntimeError as exc:
            raise IndexMismatchError(f"cannot read {_INDEX_FILE}: {exc}") from exc
        ext = _load_npy(folder / _IDS_FILE, np.int64)
        live = _load_npy(folder / _LIVE_FILE, np.bool_)
        expected_type = faiss.IndexHNSWFlat if meta.layout == "hnsw" else faiss.IndexFlat
        base_part = _load_base_part(folder, dim) if meta.layout == "compact" else None
        live_ids = ext[live]
        if base_part is not None:
            live_ids = np.concatenate([live_ids, base_part[2][base_part[3]]])
        if (
            not isinstance(index, expected_type)
            or index.metric_type != faiss.METRIC_INNER_PRODUCT
            or index.d != dim
            or not (index.ntotal == ext.size == live.size)
            or live_ids.size != meta.count
            or np.unique(live_ids).size != meta.count
        ):
            raise IndexMismatchError(f"files in {folder} are inconsistent with its metadata")

        params = raw.get("params")
        if not isinstance(params, dict):
            raise IndexMismatchError(f"{folder / _META_FILE} lacks index parameters")
        try:
            hnsw_m = int(params["hnsw_m"])
            ef_search = int(params["ef_search"])
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexMismatchError(f"{folder / _META_FILE} lacks index parameters") from exc
        loaded = cls(
            dim,
            model_id,
            hnsw_threshold=hnsw_threshold,
            hnsw_m=hnsw_m,
            ef_search=ef_search,
            large_layout=large_layout,
            nprobe=nprobe,
            spill=spill,
        )
        if base_part is None:
            loaded._store = _Store.from_parts(index, meta.layout, hnsw_m, ext, live)
        else:
            trained, base, base_ext, base_live = base_part
            sha = raw["files"][_BASE_FILE]["sha256"]
            try:
                trained_on = int(params["trained_on"])
            except (KeyError, TypeError, ValueError) as exc:
                raise IndexMismatchError(f"{folder / _META_FILE} lacks index parameters") from exc
            loaded._store = _CompactStore(
                dim,
                trained,
                base,
                base_ext,
                base_live,
                _Store.from_parts(index, "flat", hnsw_m, ext, live),
                trained_on=trained_on,
                nprobe=nprobe,
                base_file=(folder / _BASE_FILE, sha),
            )
        loaded._built_at = meta.built_at
        return loaded


def _load_base_part(
    folder: Path, dim: int
) -> tuple[faiss.IndexIVFScalarQuantizer, faiss.IndexIVFScalarQuantizer, IdArray, np.ndarray]:
    """A compact index's trained lists, mapped base, base ids and liveness, checked for
    consistency with one another."""
    try:
        trained = faiss.read_index(str(folder / _TRAINED_FILE))
        base = ivf.load_base(folder / _BASE_FILE)
    except (RuntimeError, ValueError) as exc:
        raise IndexMismatchError(f"cannot read the compact base in {folder}: {exc}") from exc
    base_ext = _load_npy(folder / _BASE_IDS_FILE, np.int64)
    base_live = _load_npy(folder / _BASE_LIVE_FILE, np.bool_)
    if (
        not isinstance(trained, faiss.IndexIVFScalarQuantizer)
        or base.d != dim
        or trained.d != dim
        or base.metric_type != faiss.METRIC_INNER_PRODUCT
        or base.nlist != trained.nlist
        or not (base.ntotal == base_ext.size == base_live.size)
        or not np.array_equal(np.sort(ivf.base_ids(base)), np.arange(base.ntotal))
    ):
        raise IndexMismatchError(f"the compact base in {folder} is inconsistent")
    return trained, base, base_ext, base_live


def _prune_pool(pool: Path, keep: _CompactStore) -> None:
    """Bases in the pool that no generation links any more (one link: the pool's own),
    left for a while in case another process has just compacted to it and not saved yet
    (it would write it again at its next save, under the same name)."""
    mine = None if keep.base_file is None else keep.base_file[0].name
    cutoff = time.time() - POOL_GRACE_S
    with contextlib.suppress(OSError):
        for file in pool.glob("*.ivf"):
            with contextlib.suppress(OSError):
                st = file.stat()
                if file.name != mine and st.st_nlink == 1 and st.st_mtime < cutoff:
                    file.unlink()


def _read_pointer(path: Path) -> str | None:
    try:
        return (path / _POINTER_FILE).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None


def _data_files(layout: Layout) -> tuple[str, ...]:
    return _DATA_FILES + (_COMPACT_FILES if layout == "compact" else ())


def _verify_files(folder: Path, files: object, names: Sequence[str] = _DATA_FILES) -> None:
    if not isinstance(files, dict):
        raise IndexMismatchError(f"{folder / _META_FILE} lists no checksums")
    for name in names:
        entry = files.get(name)
        if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
            raise IndexMismatchError(f"{folder / _META_FILE} has no checksum for {name}")
        file = folder / name
        try:
            size = file.stat().st_size
            if size != entry.get("bytes") or _sha256(file) != entry["sha256"]:
                raise IndexMismatchError(f"{file} is corrupt (checksum mismatch)")
        except OSError as exc:
            raise IndexMismatchError(f"{file} is missing: {exc}") from exc
