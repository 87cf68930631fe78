"""VectorIndex against numpy brute force: exact on flat, recall on HNSW, filters,
tombstones, compaction, persistence and its failure modes, input validation, threads."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import faiss
import numpy as np
import pytest

from indexing import vector_index
from indexing.vector_index import (
    IndexMeta,
    IndexMismatchError,
    VectorIndex,
    VectorIndexError,
    choose_layout,
)

DIM = 32
MODEL = "test-model"
THRESHOLD = 500  # small, so HNSW tests stay fast
N_HNSW = 4_000

Results = list[list[tuple[int, float]]]


def unit(rng: np.random.Generator, n: int, dim: int = DIM) -> np.ndarray:
    x = rng.standard_normal((n, dim)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def brute(
    ids: np.ndarray, x: np.ndarray, queries: np.ndarray, k: int, mask: np.ndarray | None = None
) -> Results:
    """Top-k by inner product over the rows where `mask` holds."""
    scores = np.atleast_2d(queries) @ x.T
    if mask is not None:
        scores[:, ~mask] = -np.inf
    out = []
    for row in scores:
        order = np.argsort(-row, kind="stable")[:k]
        out.append([(int(ids[j]), float(row[j])) for j in order if np.isfinite(row[j])])
    return out


def assert_exact(got: Results, want: Results) -> None:
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert [i for i, _ in g] == [i for i, _ in w]
        np.testing.assert_allclose([s for _, s in g], [s for _, s in w], rtol=0, atol=1e-5)


def recall(got: Results, want: Results) -> float:
    hits = sum(len({i for i, _ in g} & {i for i, _ in w}) for g, w in zip(got, want, strict=True))
    return hits / sum(len(w) for w in want)


@pytest.fixture(scope="module", autouse=True)
def one_openmp_thread() -> Iterator[None]:
    """Single-threaded FAISS in the test thread: HNSW builds become deterministic, and
    stay fast on a busy two-core machine, where a spinning two-thread OpenMP team makes
    them 4-5x slower than one thread."""
    previous = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(1)
    yield
    faiss.omp_set_num_threads(previous)


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ids (sparse, like database keys), vectors, and queries near some of them."""
    rng = np.random.default_rng(7)
    x = unit(rng, N_HNSW)
    ids = np.arange(N_HNSW, dtype=np.int64) * 3 + 1_000
    queries = x[rng.choice(N_HNSW, 40, replace=False)] + 0.5 * unit(rng, 40)
    return ids, x, queries / np.linalg.norm(queries, axis=1, keepdims=True)


@pytest.fixture
def flat(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> VectorIndex:
    ids, x, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=10_000)
    index.upsert(ids[:1_000], x[:1_000])
    return index


def walk_the_graph(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make every HNSW search walk the graph, however few candidates a filter leaves."""
    monkeypatch.setattr(vector_index, "WALK_COST_PER_EF", 0)


def count_walks(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """A list that grows by one for each HNSW walk of any store from now on."""
    walks: list[None] = []
    real_walk = vector_index._Store._search_hnsw

    def counting_walk(self: object, *args: object, **kwargs: object) -> object:
        walks.append(None)
        return real_walk(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(vector_index._Store, "_search_hnsw", counting_walk)
    return walks


@pytest.fixture(scope="module")
def hnsw_built(data: tuple[np.ndarray, np.ndarray, np.ndarray]) -> VectorIndex:
    ids, x, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    return index


# --------------------------------------------------------------------------- flat, exact


def test_choose_layout() -> None:
    assert choose_layout(0, 500) == "flat"
    assert choose_layout(499, 500) == "flat"
    assert choose_layout(500, 500) == "hnsw"
    assert choose_layout(10**6, 500) == "hnsw"


def test_flat_search_matches_brute_force(flat: VectorIndex, data: tuple) -> None:
    ids, x, queries = data
    assert flat.layout == "flat"
    assert len(flat) == 1_000
    assert_exact(flat.search(queries, 10), brute(ids[:1_000], x[:1_000], queries, 10))
    # a single 1-D query gives one result list
    assert_exact(flat.search(queries[0], 5), brute(ids[:1_000], x[:1_000], queries[:1], 5))


def test_upsert_replaces_vector(flat: VectorIndex, data: tuple) -> None:
    ids, x, queries = data
    target = int(ids[10])
    flat.upsert([target], queries[:1])  # move id 10 onto query 0
    assert len(flat) == 1_000
    assert flat.tombstones == 0  # flat replaces in place
    np.testing.assert_array_equal(flat.vector(target), queries[0])
    (top,) = flat.search(queries[0], 1)
    assert top[0][0] == target
    assert top[0][1] == pytest.approx(1.0, abs=1e-5)
    moved = x[:1_000].copy()
    moved[10] = queries[0]
    assert_exact(flat.search(queries, 10), brute(ids[:1_000], moved, queries, 10))


def test_remove(flat: VectorIndex, data: tuple) -> None:
    ids, x, queries = data
    gone = ids[:100]
    assert flat.remove([*gone.tolist(), 999_999_999, int(gone[0])]) == 100
    assert flat.remove(gone) == 0
    assert len(flat) == 900
    assert int(gone[5]) not in flat and int(ids[500]) in flat
    assert flat.vector(int(gone[5])) is None
    np.testing.assert_array_equal(flat.ids(), ids[100:1_000])
    assert_exact(flat.search(queries, 10), brute(ids[100:1_000], x[100:1_000], queries, 10))


def test_filters_match_brute_force_on_flat(flat: VectorIndex, data: tuple) -> None:
    ids, x, queries = data
    ids, x = ids[:1_000], x[:1_000]
    rng = np.random.default_rng(1)
    flat.remove(ids[:50])  # tombstones must stay out of filtered results too
    live = np.ones(1_000, dtype=bool)
    live[:50] = False
    for size in (5, 20, 300, 900):
        allowed = rng.choice(ids, size, replace=False)
        exclude = set(rng.choice(allowed, 3, replace=False).tolist())
        mask = live & np.isin(ids, allowed) & ~np.isin(ids, list(exclude))
        got = flat.search(queries, 10, allowed=allowed, exclude=exclude)
        assert_exact(got, brute(ids, x, queries, 10, mask))
    # exclude only, including ids that are not in the index
    excluded = [int(i) for i in ids[50:60]] + [-5, 10**12]
    mask = live & ~np.isin(ids, excluded)
    assert_exact(flat.search(queries, 10, exclude=excluded), brute(ids, x, queries, 10, mask))


def test_allowed_edge_cases(flat: VectorIndex, data: tuple) -> None:
    ids, _, queries = data
    assert flat.search(queries[:3], 5, allowed=np.array([], dtype=np.int64)) == [[], [], []]
    assert flat.search(queries[:2], 5, allowed=np.array([123_456_789])) == [[], []]
    (hits,) = flat.search(queries[0], 5, allowed=ids[:2], exclude=[int(ids[0])])
    assert [i for i, _ in hits] == [int(ids[1])]


def test_k_larger_than_index(data: tuple) -> None:
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL)
    index.upsert(ids[:7], x[:7])
    index.remove([int(ids[0])])
    got = index.search(queries[:2], 50)
    assert [len(r) for r in got] == [6, 6]
    assert_exact(got, brute(ids[1:7], x[1:7], queries[:2], 50))


def test_empty_index_returns_empty_lists() -> None:
    index = VectorIndex(DIM, MODEL)
    q = unit(np.random.default_rng(0), 3)
    assert index.search(q, 10) == [[], [], []]
    assert index.search(q[0], 10, allowed=np.array([1, 2])) == [[]]
    assert len(index) == 0 and index.ids().size == 0
    assert index.meta.count == 0 and index.meta.layout == "flat"


# --------------------------------------------------------------------------- HNSW


def test_layout_upgrades_when_an_add_crosses_the_threshold(data: tuple) -> None:
    ids, x, _ = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids[: THRESHOLD - 1], x[: THRESHOLD - 1])
    assert index.layout == "flat"
    index.upsert(ids[THRESHOLD - 1 : THRESHOLD + 10], x[THRESHOLD - 1 : THRESHOLD + 10])
    assert index.layout == "hnsw"
    assert index.meta.layout == "hnsw" and index.meta.count == THRESHOLD + 10
    np.testing.assert_array_equal(index.vector(int(ids[3])), x[3])


def test_hnsw_recall(hnsw_built: VectorIndex, data: tuple) -> None:
    ids, x, queries = data
    assert hnsw_built.layout == "hnsw"
    got = hnsw_built.search(queries, 10)
    assert recall(got, brute(ids, x, queries, 10)) >= 0.95
    for row in got:  # best first
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize(
    ("fraction", "force_hnsw"),
    [(0.01, False), (0.3, False), (0.8, False), (0.02, True), (0.3, True), (0.8, True)],
)
def test_hnsw_filtered_recall(
    hnsw_built: VectorIndex,
    data: tuple,
    monkeypatch: pytest.MonkeyPatch,
    fraction: float,
    force_hnsw: bool,
) -> None:
    """Small allowed sets are answered exactly; large ones through HNSW at high recall.
    `force_hnsw` sends small sets through the graph too (scaled ef, widening)."""
    ids, x, queries = data
    if force_hnsw:
        walk_the_graph(monkeypatch)
    rng = np.random.default_rng(int(fraction * 100))
    allowed = rng.choice(ids, int(fraction * ids.size), replace=False)
    exclude = {int(ids[0]), int(allowed[0])}
    mask = np.isin(ids, allowed) & ~np.isin(ids, list(exclude))
    got = hnsw_built.search(queries, 10, allowed=allowed, exclude=exclude)
    want = brute(ids, x, queries, 10, mask)
    allowed_set = set(allowed.tolist()) - exclude
    assert all(i in allowed_set for row in got for i, _ in row)
    if not force_hnsw and fraction <= 0.3:  # cheaper to score 1200 of 4000 than to walk
        assert_exact(got, want)
    assert recall(got, want) >= 0.95
    assert all(len(row) == 10 for row in got)


def test_hnsw_tombstones_are_never_returned(data: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    ids, x, queries = data
    walk_the_graph(monkeypatch)
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    rng = np.random.default_rng(3)
    # Remove the true neighbours of every query (the most tempting tombstones) ...
    nearest = {i for row in brute(ids, x, queries, 5) for i, _ in row}
    assert index.remove(nearest) == len(nearest)
    # ... and move 300 others somewhere else.
    moved = rng.choice(np.setdiff1d(ids, list(nearest)), 300, replace=False)
    new_vectors = unit(rng, 300)
    index.upsert(moved, new_vectors)
    assert 0 < index.tombstones <= vector_index.TOMBSTONE_RATIO * (len(index) + index.tombstones)
    assert index.layout == "hnsw" and len(index) == ids.size - len(nearest)

    current = x.copy()
    current[np.searchsorted(ids, moved)] = new_vectors
    live = ~np.isin(ids, list(nearest))
    got = index.search(queries, 10)
    assert not {i for row in got for i, _ in row} & nearest
    assert recall(got, brute(ids, current, queries, 10, live)) >= 0.95
    # a moved id is found at its new place, not its old one
    (top,) = index.search(new_vectors[0], 1)
    assert top[0] == (int(moved[0]), pytest.approx(1.0, abs=1e-5))
    np.testing.assert_array_equal(index.vector(int(moved[0])), new_vectors[0])


def test_auto_compaction_and_layout_reselection(
    data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids, x, queries = data
    walk_the_graph(monkeypatch)
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    built_at = index.meta.built_at
    removed = ids[::4]  # 25 % > TOMBSTONE_RATIO
    index.remove(removed)
    assert index.tombstones == 0  # compacted on the remove that crossed the ratio
    assert index.layout == "hnsw" and len(index) == ids.size - removed.size
    live = ~np.isin(ids, removed)
    got = index.search(queries, 10)
    assert not {i for row in got for i, _ in row} & set(removed.tolist())
    assert recall(got, brute(ids, x, queries, 10, live)) >= 0.95
    assert index.meta.built_at >= built_at

    # Shrunk below the threshold: compaction re-chooses the exact layout.
    index.remove(ids[live][: -(THRESHOLD // 2)])
    assert index.layout == "flat" and len(index) == THRESHOLD // 2 and index.tombstones == 0
    keep = np.isin(ids, index.ids())
    assert_exact(index.search(queries, 10), brute(ids, x, queries, 10, keep))


def test_explicit_rebuild_drops_tombstones(data: tuple) -> None:
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids[:1_000], x[:1_000])
    index.remove(ids[:100])
    assert index.tombstones == 100
    before = index.search(queries, 10)
    index.rebuild()
    assert index.tombstones == 0 and len(index) == 900
    assert recall(index.search(queries, 10), before) >= 0.95


# --------------------------------------------------------------------------- persistence


def test_save_load_round_trip(hnsw_built: VectorIndex, data: tuple, tmp_path: Path) -> None:
    ids, x, queries = data
    for index in (hnsw_built, VectorIndex(DIM, MODEL)):
        if len(index) == 0:
            index.upsert(ids[:300], x[:300])
            index.remove(ids[:10])  # a flat index with tombstones
        path = tmp_path / index.layout
        index.save(path)
        loaded = VectorIndex.load(path, model_id=MODEL, dim=DIM, hnsw_threshold=THRESHOLD)
        assert loaded.meta == index.meta
        assert loaded.layout == index.layout and loaded.tombstones == index.tombstones
        np.testing.assert_array_equal(loaded.ids(), index.ids())
        allowed = ids[::2]
        for kwargs in ({}, {"allowed": allowed, "exclude": [int(ids[20])]}):
            assert loaded.search(queries, 10, **kwargs) == index.search(queries, 10, **kwargs)
        # the loaded index stays writable
        loaded.upsert([1], queries[:1])
        assert loaded.search(queries[0], 1)[0][0][0] == 1


def test_saving_again_keeps_one_generation(flat: VectorIndex, tmp_path: Path) -> None:
    flat.save(tmp_path / "ix")
    flat.remove(flat.ids()[:5])
    flat.save(tmp_path / "ix")
    names = sorted(p.name for p in (tmp_path / "ix").iterdir())
    assert len(names) == 2 and names[0] == "CURRENT" and names[1].startswith("gen-")
    loaded = VectorIndex.load(tmp_path / "ix", model_id=MODEL, dim=DIM)
    assert len(loaded) == len(flat) == 995


def test_load_rejects_other_model_or_dim(flat: VectorIndex, tmp_path: Path) -> None:
    flat.save(tmp_path / "ix")
    with pytest.raises(IndexMismatchError, match="model"):
        VectorIndex.load(tmp_path / "ix", model_id="other", dim=DIM)
    with pytest.raises(IndexMismatchError, match="dim"):
        VectorIndex.load(tmp_path / "ix", model_id=MODEL, dim=DIM * 2)
    with pytest.raises(IndexMismatchError):
        VectorIndex.load(tmp_path / "nothing-here", model_id=MODEL, dim=DIM)
    assert issubclass(IndexMismatchError, VectorIndexError)


def _generation(path: Path) -> Path:
    return path / (path / "CURRENT").read_text().strip()


@pytest.mark.parametrize(
    "damage",
    ["flip-index", "truncate-index", "truncate-ids", "delete-live", "meta-format", "pointer"],
)
def test_load_rejects_damaged_files(flat: VectorIndex, tmp_path: Path, damage: str) -> None:
    path = tmp_path / "ix"
    flat.save(path)
    gen = _generation(path)
    if damage == "flip-index":
        data = bytearray((gen / "index.faiss").read_bytes())
        data[len(data) // 2] ^= 0xFF
        (gen / "index.faiss").write_bytes(bytes(data))
    elif damage == "truncate-index":
        with (gen / "index.faiss").open("r+b") as f:
            f.truncate(100)
    elif damage == "truncate-ids":
        with (gen / "ids.npy").open("r+b") as f:
            f.truncate(200)
    elif damage == "delete-live":
        (gen / "live.npy").unlink()
    elif damage == "meta-format":
        meta = (gen / "meta.json").read_text()
        (gen / "meta.json").write_text(meta.replace('"format_version": 1', '"format_version": 2'))
    else:
        (path / "CURRENT").write_text("../../etc")
    with pytest.raises(IndexMismatchError):
        VectorIndex.load(path, model_id=MODEL, dim=DIM)


@pytest.mark.parametrize("fail_at", ["os.replace", "faiss.write_index"])
def test_crash_during_save_keeps_previous_index(
    flat: VectorIndex, data: tuple, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fail_at: str
) -> None:
    ids, _, queries = data
    path = tmp_path / "ix"
    flat.save(path)
    saved_results = flat.search(queries, 10)
    flat.remove(ids[:500])  # the save below would have stored this
    flat.upsert([7], queries[:1])

    def crash(*args: object, **kwargs: object) -> None:
        raise OSError("simulated crash")

    monkeypatch.setattr(fail_at, crash)
    with pytest.raises(OSError, match="simulated crash"):
        flat.save(path)
    monkeypatch.undo()

    loaded = VectorIndex.load(path, model_id=MODEL, dim=DIM)
    assert len(loaded) == 1_000
    assert loaded.search(queries, 10) == saved_results
    # the failed attempt left nothing behind but the previous generation
    assert len(list(path.iterdir())) == 2


# --------------------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("ids", "vectors"),
    [
        ([1, 2], np.zeros((2, DIM), dtype=np.float64)),  # dtype
        ([1, 2], np.zeros((2, DIM + 1), dtype=np.float32)),  # dim
        ([1, 2], np.zeros((2, DIM, 1), dtype=np.float32)),  # rank
        ([1, 2], np.zeros(DIM, dtype=np.float32)),  # a single row needs shape (1, dim)
        ([1, 2], np.full((2, DIM), np.nan, dtype=np.float32)),
        ([1, 2], np.full((2, DIM), np.inf, dtype=np.float32)),
        ([1, 2, 3], np.zeros((2, DIM), dtype=np.float32)),  # length
        ([1, 1], np.zeros((2, DIM), dtype=np.float32)),  # duplicates
        ([1.5, 2.0], np.zeros((2, DIM), dtype=np.float32)),  # non-integer ids
        ([[1, 2]], np.zeros((2, DIM), dtype=np.float32)),  # ids rank
        ([1, 2], [[0.0] * DIM] * 2),  # not an array
    ],
)
def test_upsert_rejects_bad_input(ids: object, vectors: object) -> None:
    index = VectorIndex(DIM, MODEL)
    with pytest.raises(ValueError):
        index.upsert(ids, vectors)  # type: ignore[arg-type]
    assert len(index) == 0


def test_search_rejects_bad_input(flat: VectorIndex) -> None:
    good = np.zeros(DIM, dtype=np.float32)
    bad_queries: list[np.ndarray] = [
        good.astype(np.float64),
        np.zeros(DIM + 1, dtype=np.float32),
        np.zeros((2, 2, DIM), dtype=np.float32),
        np.full(DIM, np.nan, dtype=np.float32),
    ]
    for q in bad_queries:
        with pytest.raises(ValueError):
            flat.search(q, 5)
    for k in (0, -1, True, 2.5):
        with pytest.raises(ValueError):
            flat.search(good, k)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        flat.search(good, 5, allowed=np.array([1.5]))
    with pytest.raises(ValueError):
        flat.search(good, 5, exclude=["a"])  # type: ignore[list-item]


def test_constructor_rejects_bad_settings() -> None:
    for kwargs in ({"dim": 0}, {"model_id": ""}, {"hnsw_m": 1}, {"ef_search": 0}):
        args = {"dim": DIM, "model_id": MODEL} | kwargs
        with pytest.raises(ValueError):
            VectorIndex(args.pop("dim"), args.pop("model_id"), **args)  # type: ignore[arg-type]


def test_meta_round_trips_through_dict(flat: VectorIndex) -> None:
    meta = flat.meta
    assert meta.model_id == MODEL and meta.dim == DIM and meta.count == 1_000
    assert meta.faiss_version == faiss.__version__ and meta.built_at.endswith("+00:00")
    assert IndexMeta.from_dict(meta.to_dict()) == meta
    with pytest.raises(IndexMismatchError):
        IndexMeta.from_dict({**meta.to_dict(), "layout": "ivf"})


# --------------------------------------------------------------------------- threads


def test_single_query_runs_on_one_openmp_thread(
    flat: VectorIndex, data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, _, queries = data
    before = faiss.omp_get_max_threads()
    calls: list[int] = []
    real = faiss.omp_set_num_threads

    def record(n: int) -> None:
        calls.append(n)
        real(n)

    monkeypatch.setattr(faiss, "omp_set_num_threads", record)
    flat.search(queries[0], 5)
    assert calls == [1, before]  # one thread for the query, then restored
    calls.clear()
    flat.search(queries, 5)  # batches keep the default
    assert calls == []
    assert faiss.omp_get_max_threads() == before


def test_concurrent_search_while_writing(data: tuple) -> None:
    """Readers never see a half-updated mapping while a writer upserts, removes and, by
    crossing the threshold, triggers an HNSW build."""
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=1_500)
    index.upsert(ids[:1_000], x[:1_000])
    known = set(ids.tolist())
    allowed = ids[::3]
    errors: list[BaseException] = []
    stop = threading.Event()

    def reader(seed: int) -> None:
        rng = np.random.default_rng(seed)
        try:
            while not stop.is_set():
                q = queries[rng.integers(len(queries))]
                exclude = {int(ids[rng.integers(2_000)])}
                for row in index.search(q, 10, exclude=exclude):
                    assert len(row) == 10
                    assert {i for i, _ in row} <= known - exclude
                for row in index.search(q, 10, allowed=allowed, exclude=exclude):
                    assert {i for i, _ in row} <= set(allowed.tolist()) - exclude
        except BaseException as exc:  # surfaced below
            errors.append(exc)

    readers = [threading.Thread(target=reader, args=(s,)) for s in range(3)]
    for t in readers:
        t.start()
    try:
        rng = np.random.default_rng(11)
        for start in range(1_000, 2_000, 100):
            index.upsert(ids[start : start + 100], x[start : start + 100])
            index.upsert(ids[rng.choice(start, 20, replace=False)], unit(rng, 20))
            index.remove(ids[rng.choice(start, 5, replace=False)])
    finally:
        stop.set()
        for t in readers:
            t.join()
    assert not errors, errors[0]
    assert index.layout == "hnsw"


def test_writes_during_rebuild_are_replayed(data: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL)
    index.upsert(ids[:200], x[:200])
    building, release = threading.Event(), threading.Event()
    real_build = vector_index._build_store

    def slow_build(*args: object) -> object:
        building.set()
        assert release.wait(10)
        return real_build(*args)  # type: ignore[arg-type]

    monkeypatch.setattr(vector_index, "_build_store", slow_build)
    worker = threading.Thread(target=index.rebuild)
    worker.start()
    try:
        assert building.wait(10)
        # The lock is free while the new index builds: reads and writes go on.
        index.upsert([5], queries[:1])
        index.upsert(ids[:1], queries[1:2])
        index.remove(ids[1:3])
        assert index.search(queries[0], 1)[0][0][0] == 5
    finally:
        release.set()
        worker.join()
    assert len(index) == 199 and 5 in index and int(ids[1]) not in index
    np.testing.assert_array_equal(index.vector(int(ids[0])), queries[1])
    current = np.vstack([x[:200], queries[:1]])
    current[0] = queries[1]
    all_ids = np.append(ids[:200], 5)
    mask = ~np.isin(all_ids, ids[1:3])
    assert_exact(index.search(queries, 10), brute(all_ids, current, queries, 10, mask))


def test_failed_automatic_rebuild_keeps_the_write_and_the_index(
    data: tuple, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    ids, x, queries = data

    def broken(*args: object) -> None:
        raise RuntimeError("out of memory")

    index = VectorIndex(DIM, MODEL, hnsw_threshold=100)
    monkeypatch.setattr(vector_index, "_build_store", broken)
    index.upsert(ids[:150], x[:150])  # crosses the threshold; the upgrade fails
    assert "rebuild failed" in caplog.text
    assert index.layout == "flat" and len(index) == 150
    assert_exact(index.search(queries, 5), brute(ids[:150], x[:150], queries, 5))
    with pytest.raises(RuntimeError):
        index.rebuild()  # asked for explicitly, the failure is raised
    monkeypatch.undo()
    index.upsert(ids[150:151], x[150:151])  # the next write retries the upgrade
    assert index.layout == "hnsw"


def test_vectors_batch_matches_single_lookups() -> None:
    rng = np.random.default_rng(3)
    vecs = rng.normal(size=(20, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    index = VectorIndex(8, "m")
    index.upsert(np.arange(20), vecs)
    index.remove([5])
    got = index.vectors([0, 5, 19, 99])
    assert got[1] is None and got[3] is None
    first, last, single = got[0], got[2], index.vector(0)
    assert first is not None and last is not None and single is not None
    assert np.array_equal(first, single) and np.array_equal(last, vecs[19])


@pytest.mark.parametrize("layout_threshold", [10_000, 50])
def test_matrix_of_many_ids_matches_single_lookups(layout_threshold: int) -> None:
    """Hundreds of ids (the sorted-id path), with removed, replaced and unknown ones."""
    rng = np.random.default_rng(4)
    vecs = rng.normal(size=(300, 8)).astype(np.float32)
    vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
    ids = np.arange(300, dtype=np.int64) * 7
    index = VectorIndex(8, "m", hnsw_threshold=layout_threshold)
    index.upsert(ids, vecs)
    index.remove(ids[10:20].tolist())
    index.upsert(ids[30:31], vecs[:1])
    wanted = np.concatenate([ids[::-2], [-1, 1, 10**9]])
    block, present = index.matrix(wanted)
    assert block.shape == (wanted.size, 8) and present.sum() == 150 - 5
    for row, ok, i in zip(block, present, wanted.tolist(), strict=True):
        single = index.vector(i)
        assert ok == (single is not None)
        assert np.array_equal(row, single if single is not None else np.zeros(8))


def away_from(x: np.ndarray, queries: np.ndarray, axis: int) -> tuple[np.ndarray, np.ndarray]:
    """A filter correlated with position: the ~5 % of vectors far out on -axis, and queries
    pushed towards +axis, whose graph neighbourhoods hold none of them."""
    pushed = queries.copy()
    pushed[:, axis] += 3
    return x[:, axis] < -0.3, pushed / np.linalg.norm(pushed, axis=1, keepdims=True)


def test_filter_whose_walks_come_up_short_is_answered_from_its_block(
    data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A filter whose graph walks keep coming up short switches, after a few searches, to
    an exact scan of a contiguous copy of its vectors, built on a background thread (the
    search that asks for it does not wait); results stay exact, exclusions hold, and a
    write drops the copy so that the next search sees the new vector."""
    walk_the_graph(monkeypatch)
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    walks = count_walks(monkeypatch)
    builders: list[str] = []
    real_build = vector_index._Store.build_block

    def recording_build(self: object, f: object) -> object:
        builders.append(threading.current_thread().name)
        return real_build(self, f)  # type: ignore[arg-type]

    monkeypatch.setattr(vector_index._Store, "build_block", recording_build)
    where, pushed = away_from(x, queries, 0)
    allowed = ids[where]
    for i in range(vector_index.SHORT_WALKS_SEEN):
        assert len(index.search(pushed[i], 100, allowed=allowed)[0]) == 100
    assert len(walks) == vector_index.SHORT_WALKS_SEEN
    (memo,) = _memo(index)
    assert memo.short > memo.walks / 2  # the walks did come up short
    exclude = {int(allowed[3]), int(ids[1])}
    mask = where & ~np.isin(ids, list(exclude))
    # the next search asks for the block and, without it yet, walks (and stays exact)
    got = index.search(pushed[:10], 100, allowed=allowed, exclude=exclude)
    assert len(walks) == vector_index.SHORT_WALKS_SEEN + 1 and memo.wanted
    assert_exact(got, brute(ids, x, pushed[:10], 100, mask))
    index.settle()
    assert memo.block is not None and builders == ["vector-index-block"]
    got = index.search(pushed[:10], 100, allowed=allowed, exclude=exclude)
    assert len(walks) == vector_index.SHORT_WALKS_SEEN + 1  # the block answered, no walk
    assert_exact(got, brute(ids, x, pushed[:10], 100, mask))
    # a write clears what the store remembered: the new vector is found at once
    index.upsert(np.asarray([allowed[5]]), pushed[:1])
    top = index.search(pushed[0], 1, allowed=allowed)[0][0]
    assert top[0] == int(allowed[5]) and top[1] == pytest.approx(1.0, abs=1e-5)


def test_wide_filters_get_blocks_for_exhaustive_searches_only(
    data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past BLOCK_MAX_SHARE a filter's block serves exhaustive searches only (their short
    walks would end in a scan of the whole store); a search that only adds candidates
    keeps its one walk, even when the block is there."""
    walk_the_graph(monkeypatch)
    monkeypatch.setattr(vector_index, "BLOCK_MAX_SHARE", 0.01)  # the ~5 % filter is "wide"
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    walks = count_walks(monkeypatch)
    where, pushed = away_from(x, queries, 0)
    assert 0.01 < where.mean() < vector_index.BLOCK_MAX_SHARE_EXHAUSTIVE
    allowed = ids[where]
    n = vector_index.SHORT_WALKS_SEEN + 2
    for i in range(n):
        index.search(pushed[i], 100, allowed=allowed, exhaustive=False)
        index.settle()
    (memo,) = _memo(index)
    assert len(walks) == n and memo.walks_fail() and not memo.wanted and memo.block is None
    got = index.search(pushed[:10], 100, allowed=allowed)  # exhaustive: asks for it
    assert_exact(got, brute(ids, x, pushed[:10], 100, where))
    index.settle()
    assert memo.block is not None
    got = index.search(pushed[:10], 100, allowed=allowed)
    assert len(walks) == n + 1  # answered from the block
    assert_exact(got, brute(ids, x, pushed[:10], 100, where))
    index.search(pushed[0], 100, allowed=allowed, exhaustive=False)
    assert len(walks) == n + 2  # a candidate search still walks


def test_a_filter_in_steady_use_keeps_its_record_among_many_others(
    data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The store remembers filters least recently used first: one asked for between each
    of many others (overseas from the largest country) keeps its walk record."""
    walk_the_graph(monkeypatch)
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    busy = ids[::2]
    index.search(queries[0], 5, allowed=busy)
    first = _memo(index)[0]
    for i in range(3 * vector_index.ALLOWED_MEMO):
        index.search(queries[1], 5, allowed=ids[i % 3 :: 3 + i])  # a new filter each time
        index.search(queries[2], 5, allowed=busy)
    assert _memo(index)[0] is first
    assert first.walks == 1 + 3 * vector_index.ALLOWED_MEMO
    assert len(_memo(index)) == vector_index.ALLOWED_MEMO


def _memo(index: VectorIndex) -> list[vector_index._Filter]:
    """The exact store's remembered filters (the compact layout keeps none)."""
    store = index._store
    assert isinstance(store, vector_index._Store)
    return store._allowed_memo


def test_filter_blocks_stay_within_their_memory_budget(
    data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Blocks of all filters together stay within BLOCK_BUDGET: the oldest filter's block
    gives way to a newer one; a filter with no room keeps walking, and stays correct."""
    walk_the_graph(monkeypatch)
    ids, x, queries = data
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    first, pushed_first = away_from(x, queries, 0)
    second, pushed_second = away_from(x, queries, 1)
    assert max(first.sum(), second.sum()) < 250 < first.sum() + second.sum()
    monkeypatch.setattr(vector_index, "BLOCK_BUDGET", 250 / ids.size)  # room for one
    for where, pushed in ((first, pushed_first), (second, pushed_second)):
        allowed = ids[where]  # (one array per filter: the store remembers filters by identity)
        for i in range(vector_index.SHORT_WALKS_SEEN + 2):
            got = index.search(pushed[i], 100, allowed=allowed)
            assert_exact(got, brute(ids, x, pushed[i], 100, where))
            index.settle()
    newer, older = _memo(index)
    assert newer.block is not None and older.block is None
    monkeypatch.setattr(vector_index, "BLOCK_BUDGET", 100 / ids.size)  # room for none
    index.upsert(ids[:1], x[:1])  # (clears the memo)
    allowed = ids[first]
    for i in range(vector_index.SHORT_WALKS_SEEN + 2):
        got = index.search(pushed_first[i], 100, allowed=allowed)
        assert_exact(got, brute(ids, x, pushed_first[i], 100, first))
    (only,) = _memo(index)
    assert only.walks_fail() and only.block is None


def test_scan_block_orders_ties_by_label_and_drops_exclusions() -> None:
    labels = np.asarray([2, 5, 9, 12], dtype=np.int64)
    rows = np.asarray([[1, 0], [0.6, 0.8], [1, 0], [0, 1]], dtype=np.float32)
    q = np.asarray([[1, 0]], dtype=np.float32)
    dist, got = vector_index._scan_block((labels, rows), q, 3, np.asarray([99, 12]))
    assert got.tolist() == [[2, 9, 5]] and dist[0].tolist() == pytest.approx([1, 1, 0.6])
    dist, got = vector_index._scan_block((labels, rows), q, 2, np.asarray([2]))
    assert got.tolist() == [[9, 5]]


def test_non_exhaustive_search_keeps_what_the_walk_found(
    data: tuple, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`exhaustive=False`: a walk that comes up short is neither widened nor followed by
    the exact scan; what it found is returned, best first, within the filter."""
    walk_the_graph(monkeypatch)
    monkeypatch.setattr(vector_index, "BLOCK_BUDGET", 0.0)  # no block: walks only
    ids, x, queries = data
    where, pushed = away_from(x, queries, 0)
    allowed = ids[where]
    scans = 0
    real_scan = vector_index._Store._search_exact

    def counting_scan(self: object, *args: object) -> object:
        nonlocal scans
        scans += 1
        return real_scan(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(vector_index._Store, "_search_exact", counting_scan)
    index = VectorIndex(DIM, MODEL, hnsw_threshold=THRESHOLD)
    index.upsert(ids, x)
    quick = index.search(pushed[:8], 100, allowed=allowed, exhaustive=False)
    assert scans == 0 and any(len(row) < 100 for row in quick)
    full = index.search(pushed[:8], 100, allowed=allowed)
    assert all(len(row) == 100 for row in full)  # (widened, or scanned exactly)
    allowed_set = set(allowed.tolist())
    for row, complete in zip(quick, full, strict=True):
        scores = [s for _, s in row]
        assert scores == sorted(scores, reverse=True)
        assert {i for i, _ in row} <= allowed_set
        assert {i for i, _ in row} <= {i for i, _ in complete} | allowed_set
