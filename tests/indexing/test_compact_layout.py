"""The compact layout of VectorIndex (IVF over 8-bit codes, memory-mapped, plus a float32
delta): recall and filters against numpy brute force, writes, compaction, persistence, and
that processes loading the same saved index share its pages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexing import ivf, vector_index
from indexing.vector_index import VectorIndex

DIM = 64
MODEL = "test-model"
THRESHOLD = 1_000
N = 12_000

Results = list[list[tuple[int, float]]]


@pytest.fixture(scope="module", autouse=True)
def one_openmp_thread() -> Iterator[None]:
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(previous)


def clustered(rng: np.random.Generator, n: int, centres: int = 300) -> np.ndarray:
    """Unit vectors around random centres (embeddings cluster by topic and language)."""
    c = rng.standard_normal((centres, DIM)).astype(np.float32)
    x = c[rng.integers(centres, size=n)] + 0.35 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Ids (database keys), vectors, queries near some of them, and a group per vector
    (a 'country': one group lies away from the others, like another language)."""
    rng = np.random.default_rng(11)
    x = clustered(rng, N)
    ids = np.arange(N, dtype=np.int64) * 2 + 5
    group = rng.integers(4, size=N)
    x[group == 3] = clustered(np.random.default_rng(12), int((group == 3).sum()), 40)
    q = x[rng.choice(N, 60, replace=False)] + 0.2 * clustered(rng, 60)
    return ids, x, q / np.linalg.norm(q, axis=1, keepdims=True), group


@pytest.fixture(scope="module")
def built(data: tuple) -> VectorIndex:
    ids, x, _, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="compact")
    index.upsert(ids, x)
    index.settle()
    return index


def brute(
    ids: np.ndarray, x: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None = None
) -> Results:
    scores = np.atleast_2d(queries) @ x.T
    if mask is not None:
        scores[:, ~mask] = -np.inf
    out = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:k]
        out.append([(int(ids[j]), float(row[j])) for j in order if np.isfinite(row[j])])
    return out


def recall(got: Results, want: Results) -> float:
    hits = sum(len({i for i, _ in g} & {i for i, _ in w}) for g, w in zip(got, want, strict=True))
    return hits / sum(len(w) for w in want)


def test_the_threshold_brings_the_compact_layout(data: tuple, built: VectorIndex) -> None:
    ids, x, _, _ = data
    small = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="compact")
    small.upsert(ids[: THRESHOLD - 1], x[: THRESHOLD - 1])
    assert small.layout == "flat"  # exact below the threshold, as before
    assert built.layout == "compact" and len(built) == N and built.meta.layout == "compact"


def test_recall_and_scores(data: tuple, built: VectorIndex) -> None:
    ids, x, queries, _ = data
    got = built.search(queries, 10)
    assert recall(got, brute(ids, x, queries, 10)) >= 0.95
    # scores are the 8-bit codes' inner products: close to the exact ones
    for row in got:
        for i, score in row:
            exact = float(x[(i - 5) // 2] @ queries[got.index(row)])
            assert abs(score - exact) < 0.02


@pytest.mark.parametrize("share", ["small", "one-group", "three-groups", "away"])
def test_filters_keep_recall_and_never_leak(data: tuple, built: VectorIndex, share: str) -> None:
    """Filters of every size, including one whose vectors lie away from the queries'
    neighbourhoods (the queries' nearest lists hold none of them): the lists probed are
    the nearest that hold allowed vectors."""
    ids, x, queries, group = data
    mask = {
        "small": np.arange(N) % 97 == 0,
        "one-group": group == 1,
        "three-groups": group != 2,
        "away": group == 3,
    }[share]
    allowed = ids[mask]
    excluded = [int(allowed[0])]
    mask = mask.copy()
    mask[0 if share == "small" else np.flatnonzero(mask)[0]] = False
    got = built.search(queries, 10, allowed=allowed, exclude=excluded)
    ok = set(allowed.tolist()) - set(excluded)
    assert all(i in ok for row in got for i, _ in row)
    assert all(len(row) == 10 for row in got)
    assert recall(got, brute(ids, x, queries, 10, mask)) >= 0.95


def test_writes_go_to_the_delta_and_win_over_the_base(data: tuple) -> None:
    ids, x, queries, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="compact")
    index.upsert(ids[:5_000], x[:5_000])
    index.settle()
    moved = int(ids[10])
    index.upsert([moved], queries[:1])  # replaced: the base's copy is a tombstone now
    index.upsert([999_999], queries[1:2])  # new
    assert index.search(queries[0], 1)[0][0][0] == moved
    assert index.search(queries[1], 1)[0][0][0] == 999_999
    stored = index.vector(moved)
    assert stored is not None
    np.testing.assert_allclose(stored, queries[0], atol=1e-6)  # exact, float32
    assert index.tombstones == 1 and len(index) == 5_001
    index.remove([moved, int(ids[11])])
    got = {i for row in index.search(queries, 50) for i, _ in row}
    assert moved not in got and int(ids[11]) not in got and len(index) == 4_999
    block, present = index.matrix([int(ids[12]), moved, 999_999])
    assert present.tolist() == [True, False, True]
    assert np.abs(block[0] - x[12]).max() < 0.02  # decoded from the 8-bit codes


def test_a_full_delta_is_compacted_in_the_background(
    data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, x, queries, _ = data
    monkeypatch.setattr(vector_index, "DELTA_MAX", 500)
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="compact")
    index.upsert(ids[:4_000], x[:4_000])
    index.settle()
    index.remove(ids[:100])
    for start in range(4_000, 4_600, 100):  # past DELTA_MAX, 100 at a time
        index.upsert(ids[start : start + 100], x[start : start + 100])
    index.settle()
    store = index._store
    assert isinstance(store, vector_index._CompactStore)
    assert store.delta.n_live < 500 and index.tombstones == 0 and len(index) == 4_500
    live = np.zeros(N, dtype=bool)
    live[100:4_600] = True
    assert recall(index.search(queries, 10), brute(ids, x, queries, 10, live)) >= 0.95


def test_compaction_is_deterministic(data: tuple) -> None:
    """Two processes with the same vectors build the same base, byte for byte (so that
    they map one file)."""
    _, x, _, _ = data
    trained = ivf.train(x[:4_000], 32)
    base = ivf.copy_live(trained, None, None, x[:4_000])
    live = np.ones(4_000, dtype=bool)
    live[::7] = False
    one = faiss.serialize_index(ivf.compact(trained, base, live, x[4_000:4_500]))
    two = faiss.serialize_index(ivf.compact(trained, base, live, x[4_000:4_500]))
    assert np.array_equal(one, two)


def test_save_load_round_trip_maps_the_base(data: tuple, tmp_path: Path) -> None:
    ids, x, queries, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="compact")
    index.upsert(ids[:6_000], x[:6_000])
    index.settle()
    index.upsert([7], queries[:1])
    index.remove(ids[:3])
    index.save(tmp_path / "ix")
    pooled = list((tmp_path / "ix" / "bases").glob("*.ivf"))
    assert len(pooled) == 1 and pooled[0].stat().st_nlink == 2  # the pool's + the generation's
    loaded = VectorIndex.load(
        tmp_path / "ix", model_id=MODEL, dim=DIM, hnsw_threshold=THRESHOLD, large_layout="compact"
    )
    store = loaded._store
    assert isinstance(store, vector_index._CompactStore) and store.base.invlists is not None
    lists = faiss.downcast_InvertedLists(store.base.invlists)
    assert isinstance(lists, faiss.OnDiskInvertedLists)  # mapped, not read into memory
    assert loaded.meta == index.meta and loaded.tombstones == index.tombstones
    np.testing.assert_array_equal(loaded.ids(), index.ids())
    allowed = ids[::3]
    for kwargs in ({}, {"allowed": allowed, "exclude": [int(ids[30])]}):
        assert loaded.search(queries, 10, **kwargs) == index.search(queries, 10, **kwargs)
    # saving again after a write links the same base instead of writing it
    loaded.upsert([9], queries[1:2])
    loaded.save(tmp_path / "ix")
    assert list((tmp_path / "ix" / "bases").glob("*.ivf")) == pooled
    assert pooled[0].stat().st_nlink == 2
    again = VectorIndex.load(
        tmp_path / "ix", model_id=MODEL, dim=DIM, hnsw_threshold=THRESHOLD, large_layout="compact"
    )
    assert again.search(queries[1], 1)[0][0][0] == 9


def test_a_damaged_base_is_refused(data: tuple, tmp_path: Path) -> None:
    ids, x, _, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="compact")
    index.upsert(ids[:3_000], x[:3_000])
    index.save(tmp_path / "ix")
    gen = tmp_path / "ix" / (tmp_path / "ix" / "CURRENT").read_text().strip()
    base = gen / "base.ivf"
    data_ = bytearray(base.read_bytes())
    data_[len(data_) // 2] ^= 0xFF
    base.unlink()  # (a new file: the pool's copy stays whole)
    base.write_bytes(bytes(data_))
    with pytest.raises(vector_index.IndexMismatchError):
        VectorIndex.load(tmp_path / "ix", model_id=MODEL, dim=DIM, large_layout="compact")


def test_a_copy_shares_the_base_and_keeps_its_writes(data: tuple, built: VectorIndex) -> None:
    _, _, queries, _ = data
    world = built.copy()
    world.upsert([123_456], queries[:1])
    assert 123_456 in world and 123_456 not in built
    assert world._store.base is built._store.base  # type: ignore[union-attr]


def test_the_other_large_layout_is_converted_by_a_rebuild(data: tuple) -> None:
    ids, x, queries, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="hnsw")
    index.upsert(ids[:3_000], x[:3_000])
    assert index.layout == "hnsw"
    index._large = "compact"
    assert index.layout_outdated
    index.rebuild()
    assert index.layout == "compact" and not index.layout_outdated and len(index) == 3_000
    assert recall(index.search(queries, 10), brute(ids[:3_000], x[:3_000], queries, 10)) >= 0.95


_CHILD = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    from indexing.vector_index import VectorIndex
    index = VectorIndex.load(sys.argv[1], model_id="test-model", dim=64, large_layout="compact")
    store = index._store
    # every list read: every page of the base touched
    store.nprobe = store.base.nlist
    index.search(np.ones((4, 64), dtype=np.float32) / 8.0, 10)
    print(json.dumps({"loaded": len(index)}), flush=True)
    sys.stdin.readline()
    """
)


def _mapped_pages(pid: int, name: str) -> dict[str, int]:
    """Rss and Pss of the mappings of files called `name` in a process, in bytes."""
    out = {"Rss": 0, "Pss": 0}
    current = False
    for line in Path(f"/proc/{pid}/smaps").read_text().splitlines():
        head = line.split()
        if head and not head[0].endswith(":"):
            current = line.rstrip().endswith(name)
        elif current and head and head[0].rstrip(":") in out:
            out[head[0].rstrip(":")] += int(head[1]) * 1024
    return out


@pytest.mark.skipif(not Path("/proc/self/smaps").exists(), reason="needs Linux /proc")
def test_two_processes_share_the_base_pages(tmp_path: Path) -> None:
    """Two processes that load the same saved index map one file: each has the base's
    pages resident, and each is charged half of them (PSS), not a copy of its own."""
    rng = np.random.default_rng(3)
    n = 40_000
    x = clustered(rng, n)
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD, large_layout="compact")
    index.upsert(np.arange(n, dtype=np.int64), x)
    index.save(tmp_path / "ix")
    base_bytes = next((tmp_path / "ix" / "bases").glob("*.ivf")).stat().st_size
    assert base_bytes > 2_000_000
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", _CHILD, str(tmp_path / "ix")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env=env,
            text=True,
        )
        for _ in range(2)
    ]
    try:
        for child in children:
            assert child.stdout is not None
            json.loads(child.stdout.readline())
        pages = [_mapped_pages(c.pid, "base.ivf") for c in children]
    finally:
        for child in children:
            assert child.stdin is not None
            child.stdin.write("\n")
            child.stdin.flush()
            child.wait(timeout=60)
    for p in pages:
        assert p["Rss"] > 0.5 * base_bytes  # resident in each process ...
        assert p["Pss"] < 0.6 * p["Rss"]  # ... and charged half to each: one copy
