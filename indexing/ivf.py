"""The compact base of a large vector index: FAISS IVF over 8-bit scalar-quantised codes.

`indexing.vector_index`'s ``compact`` layout keeps most of its vectors here: one byte per
dimension (512 B for a 512-d vector instead of 2 KB), the inverted lists written to a file
that every process maps read-only (``IO_FLAG_MMAP``), so that the workers of one server
share one copy in the page cache instead of holding one each. A base never changes once
built: writes go to a small float32 delta beside it (see the layout's description there),
and a compaction builds a new base from the old one's codes and the delta's vectors.

Why IVF rather than HNSW over the same codes (scripts/bench_scale.py measured both):
the graph costs as much memory again as the codes (64 neighbours x 4 B per vector at
M=32), a 1M-vector graph takes tens of minutes to build on two cores where the lists take
a couple, and a compaction re-uses the trained quantizer and copies the old base's codes
list by list (no graph to rebuild). A filter costs IVF next to nothing: the selector is
tested before a code is decoded, so a search that admits a tenth of the vectors probes
ten times the lists for about the same work.

Files: a base is named by the SHA-256 of its bytes in a pool directory (``spill``), and
each saved generation holds a hard link to it, so that a save after a few writes links
the base instead of writing hundreds of MB, and two processes that load (or compact to)
the same base map the same file.
"""

from __future__ import annotations

import hashlib
import math
import os
import uuid
from pathlib import Path
from typing import Any, cast

import faiss
import numpy as np
import numpy.typing as npt

__all__ = [
    "NITER",
    "TRAIN_PER_LIST",
    "base_ids",
    "compact",
    "copy_live",
    "file_sha256",
    "list_of_labels",
    "load_base",
    "nlist_for",
    "reconstruct",
    "store_in_pool",
    "train",
]

FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]

#: k-means iterations of the coarse quantizer: 10 reach nearly the recall of FAISS's 25
#: at 40 % of the training time.
NITER = 10
#: Training vectors per list (FAISS warns below 39).
TRAIN_PER_LIST = 40
SEED = 1234


def nlist_for(n: int) -> int:
    """Lists for n vectors: a power of two near 2 sqrt(n) (512 at 100k, 2,048 at 1M),
    with at least TRAIN_PER_LIST vectors to train each. Training costs grow with the
    square of the lists (k-means on TRAIN_PER_LIST vectors per list): 4,096 lists at 1M
    took ~4x as long to train as 2,048 for ~2x less to scan per list probed."""
    if n < 2 * TRAIN_PER_LIST:
        return 1
    near = 2 ** round(math.log2(2 * math.sqrt(n)))
    trainable = 2 ** int(math.log2(n // TRAIN_PER_LIST))
    return int(min(16_384, near, trainable))


def train(sample: FloatArray, nlist: int) -> faiss.IndexIVFScalarQuantizer:
    """An empty IVF-SQ8 (inner product) index trained on ``sample`` (at most
    ``TRAIN_PER_LIST * nlist`` rows are used, seeded)."""
    n, dim = sample.shape
    nlist = max(1, min(nlist, n))
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(
        quantizer, dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
    )
    cast(Any, quantizer).this.disown()  # the index owns (and frees) its quantizer
    index.own_fields = True
    index.cp.niter = NITER
    index.cp.seed = SEED
    index.cp.max_points_per_centroid = TRAIN_PER_LIST
    keep = min(n, TRAIN_PER_LIST * nlist)
    if keep < n:
        rows = np.sort(np.random.default_rng(SEED).choice(n, keep, replace=False))
        sample = np.ascontiguousarray(sample[rows])
    index.train(sample)
    return index


def empty_like(trained: faiss.IndexIVFScalarQuantizer) -> faiss.IndexIVFScalarQuantizer:
    """An empty copy of a trained index (its quantizer and scalar quantizer), with lists
    in memory."""
    out = faiss.clone_index(trained)
    if out.ntotal:
        out.reset()
    return cast(faiss.IndexIVFScalarQuantizer, out)


def _list(invlists: Any, list_no: int) -> tuple[IdArray, npt.NDArray[np.uint8]]:
    size = int(invlists.list_size(list_no))
    if not size:
        return np.empty(0, np.int64), np.empty(0, np.uint8)
    code_size = int(invlists.code_size)
    ids = faiss.rev_swig_ptr(invlists.get_ids(list_no), size)
    codes = faiss.rev_swig_ptr(invlists.get_codes(list_no), size * code_size)
    return np.asarray(ids, dtype=np.int64), np.asarray(codes, dtype=np.uint8)


def copy_live(
    trained: faiss.IndexIVFScalarQuantizer,
    base: faiss.IndexIVFScalarQuantizer | None,
    relabel: IdArray | None,
    vectors: FloatArray,
) -> faiss.IndexIVFScalarQuantizer:
    """A new base (lists in memory): the entries of ``base`` whose ``relabel[label]`` is
    >= 0, under that new label, codes copied as they are; then ``vectors``, quantised
    with the same trained parameters, labelled after them in order. Deterministic: the
    same inputs give the same index, byte for byte."""
    out = empty_like(trained)
    invlists = out.invlists
    assert invlists is not None
    kept = 0
    if base is not None and relabel is not None and base.ntotal:
        src = base.invlists
        for list_no in range(base.nlist):
            ids, codes = _list(src, list_no)
            if not ids.size:
                continue
            new = relabel[ids]
            keep = new >= 0
            if not keep.any():
                continue
            new_ids = np.ascontiguousarray(new[keep])
            new_codes = np.ascontiguousarray(codes.reshape(ids.size, -1)[keep])
            invlists.add_entries(
                list_no, int(new_ids.size), faiss.swig_ptr(new_ids), faiss.swig_ptr(new_codes)
            )
            kept += int(new_ids.size)
        out.ntotal = kept
    if vectors.shape[0]:
        labels = np.arange(kept, kept + vectors.shape[0], dtype=np.int64)
        out.add_with_ids(np.ascontiguousarray(vectors), labels)
    out.make_direct_map(True)
    return out


def compact(
    trained: faiss.IndexIVFScalarQuantizer,
    base: faiss.IndexIVFScalarQuantizer,
    live: npt.NDArray[np.bool_],
    vectors: FloatArray,
) -> faiss.IndexIVFScalarQuantizer:
    """``base``'s live entries (relabelled 0.. in label order) and then ``vectors``."""
    relabel = np.full(live.size, -1, dtype=np.int64)
    relabel[live] = np.arange(int(np.count_nonzero(live)), dtype=np.int64)
    return copy_live(trained, base, relabel, vectors)


def list_of_labels(index: faiss.IndexIVFScalarQuantizer) -> npt.NDArray[np.int32]:
    """The list each label is in (from the direct map), -1 for none."""
    lo = faiss.vector_to_array(index.direct_map.array).astype(np.int64)
    out = np.full(int(index.ntotal), -1, dtype=np.int32)
    found = lo >= 0
    out[: lo.size][found] = (lo[found] >> 32).astype(np.int32)
    return out


def base_ids(index: faiss.IndexIVFScalarQuantizer) -> IdArray:
    """Every label of the base, by list (to check a loaded base is whole)."""
    parts = [_list(index.invlists, i)[0] for i in range(index.nlist)]
    return np.concatenate(parts) if parts else np.empty(0, np.int64)


def reconstruct(index: faiss.IndexIVFScalarQuantizer, labels: IdArray) -> FloatArray:
    """The decoded vectors of these labels (the direct map must be built)."""
    if not labels.size:
        return np.empty((0, index.d), dtype=np.float32)
    keys = np.ascontiguousarray(labels, dtype=np.int64)
    return np.asarray(index.reconstruct_batch(keys), dtype=np.float32)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while chunk := f.read(1 << 22):
            digest.update(chunk)
    return digest.hexdigest()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def store_in_pool(index: faiss.Index, pool: Path) -> tuple[Path, str]:
    """Write ``index`` into the pool under the SHA-256 of its bytes (kept as it is when a
    file of that name is there already: the same bytes). Returns its path and digest."""
    pool.mkdir(parents=True, exist_ok=True)
    tmp = pool / f".tmp-{uuid.uuid4().hex}"
    try:
        faiss.write_index(index, str(tmp))
        _fsync(tmp)
        sha = file_sha256(tmp)
        final = pool / f"{sha}.ivf"
        if final.exists():
            tmp.unlink()
        else:
            os.rename(tmp, final)
            _fsync(pool)
        return final, sha
    finally:
        tmp.unlink(missing_ok=True)


def load_base(path: Path) -> faiss.IndexIVFScalarQuantizer:
    """A base mapped read-only from its file: its lists stay in the page cache, shared by
    every process that maps the same file. FAISS's prefetch threads are turned off (one
    query reads a few lists; a thread pool per search would cost more than it saves)."""
    index = faiss.read_index(str(path), faiss.IO_FLAG_MMAP | faiss.IO_FLAG_READ_ONLY)
    if not isinstance(index, faiss.IndexIVFScalarQuantizer):
        raise ValueError(f"{path} is not an IVF-SQ index")
    assert index.invlists is not None
    lists = faiss.downcast_InvertedLists(index.invlists)
    if isinstance(lists, faiss.OnDiskInvertedLists):
        lists.prefetch_nthread = 0
    return index


def link_or_copy(src: Path, dst: Path) -> None:
    """A hard link (same file, shared pages); a copy where links are not possible."""
    try:
        os.link(src, dst)
    except OSError:
        import shutil

        shutil.copyfile(src, dst)
