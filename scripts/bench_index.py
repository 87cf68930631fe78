"""Benchmark indexing.vector_index.VectorIndex against raw FAISS on the same vectors.

    .venv/bin/python scripts/bench_index.py [--sizes 10000 100000] [--dim 512]
                                            [--queries 200] [--data latent|isotropic]

For each size and layout (flat, hnsw) it builds a VectorIndex and the bare FAISS index
(IndexFlatIP / IndexHNSWFlat, same M and efConstruction) from the same synthetic unit
vectors, then times single-query top-10 searches - the service's call - without a filter
and with an ``allowed`` filter of 10 % and 1 % of the ids.

Baseline: raw FAISS on the same vectors in the same run, handed its filter as a
ready-made bitmap selector over FAISS labels (no id mapping) with the default efSearch,
on one OpenMP thread as VectorIndex uses for a single query. Each query runs through
both, alternating which goes first, so background load hits both alike; ``ratio`` is
VectorIndex p50 / FAISS p50. Recall@10 is against exact search with the same filter.

Data: ``latent`` (default) draws points around n/100 cluster centres in a 64-d latent
space mapped linearly to ``dim`` plus a little noise - like sentence embeddings, whose
intrinsic dimension is far below 512 (top-1 cosine ~0.7, median ~0). ``isotropic`` puts
unit-norm noise around random centres: every direction counts, the worst case for any
graph index.

A last table times, on the largest HNSW index, the two ways VectorIndex answers a
filtered query (exact bitmap scan vs graph walk with a selector and scaled efSearch) by
selectivity; vector_index.WALK_COST_PER_EF is set from it.

The figures are wall-clock on whatever else the machine is doing; the load average is
printed with them.
"""

from __future__ import annotations

import argparse
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import faiss
import numpy as np

from indexing import vector_index
from indexing.vector_index import EF_CONSTRUCTION, VectorIndex

K = 10
M = 32
EF_SEARCH = 128
LATENT = 64

Search = Callable[[np.ndarray], list[int]]


class Embeddings:
    """Seeded synthetic unit vectors; queries come from the same distribution."""

    def __init__(self, rng: np.random.Generator, n: int, dim: int, kind: str) -> None:
        self.rng, self.dim, self.kind = rng, dim, kind
        if kind == "latent":
            self.centres = rng.standard_normal((max(n // 100, 1), LATENT)).astype(np.float32)
            self.mix = rng.standard_normal((LATENT, dim)).astype(np.float32) / np.sqrt(LATENT)
        else:
            self.centres = rng.standard_normal((max(n // 100, 1), dim)).astype(np.float32)
            self.centres /= np.linalg.norm(self.centres, axis=1, keepdims=True)

    def sample(self, n: int) -> np.ndarray:
        rng, dim = self.rng, self.dim
        centres = self.centres[rng.integers(0, len(self.centres), n)]
        if self.kind == "latent":
            latent = centres + rng.standard_normal(centres.shape).astype(np.float32)
            x = latent @ self.mix + 0.05 * rng.standard_normal((n, dim)).astype(np.float32)
        else:
            noise = rng.standard_normal((n, dim)).astype(np.float32)
            x = centres + noise / np.float32(np.sqrt(dim))
        return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def p50_p99(times: list[float]) -> tuple[float, float]:
    ms = np.asarray(times) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


def timed_pair(a: Search, b: Search, queries: np.ndarray) -> tuple[tuple, tuple]:
    """Each query through a and b, alternating the order; per side (p50, p99, results)."""
    a(queries[0]), b(queries[0])  # warm-up
    times: tuple[list[float], list[float]] = ([], [])
    results: tuple[list[list[int]], list[list[int]]] = ([], [])
    for i, q in enumerate(queries):
        for side in (0, 1) if i % 2 == 0 else (1, 0):
            fn = a if side == 0 else b
            t0 = time.perf_counter()
            results[side].append(fn(q))
            times[side].append(time.perf_counter() - t0)
    return (*p50_p99(times[0]), results[0]), (*p50_p99(times[1]), results[1])


def recall(got: list[list[int]], truth: np.ndarray) -> float:
    hits = sum(len(set(g) & set(t[t >= 0].tolist())) for g, t in zip(got, truth, strict=True))
    return hits / max(int((truth >= 0).sum()), 1)


def bitmap_selector(labels: np.ndarray, n: int) -> tuple[faiss.IDSelector, np.ndarray]:
    """A selector and the bitmap it points into (keep the latter alive)."""
    bits = np.zeros(n, dtype=bool)
    bits[labels] = True
    packed = np.packbits(bits, bitorder="little")
    return faiss.IDSelectorBitmap(packed.size, faiss.swig_ptr(packed)), packed


@dataclass
class Row:
    n: int
    layout: str
    build: tuple[float, float]  # ours, faiss (s)
    filt: str
    ours: tuple[float, float]  # p50, p99 (ms)
    raw: tuple[float, float]
    recall: tuple[float, float]


def bench_size(
    n: int, args: argparse.Namespace, rng: np.random.Generator, with_crossover: bool
) -> tuple[list[Row], list[tuple[float, float, float, float]]]:
    gen = Embeddings(rng, n, args.dim, args.data)
    x = gen.sample(n)
    queries = gen.sample(args.queries)
    ids = np.arange(n, dtype=np.int64) * 7 + 1_000_000  # sparse, like database keys
    filters: dict[str, np.ndarray | None] = {
        "none": None,
        "10%": np.sort(rng.choice(n, n // 10, replace=False)),
        "1%": np.sort(rng.choice(n, n // 100, replace=False)),
    }
    exact = faiss.IndexFlatIP(args.dim)
    exact.add(x)
    truth = {}
    for name, labels in filters.items():
        exact_params = faiss.SearchParameters()
        keep = None
        if labels is not None:
            exact_params.sel, keep = bitmap_selector(labels, n)
        found = exact.search(queries, K, params=exact_params)[1]
        truth[name] = np.where(found >= 0, ids[found], -1)
        del keep

    rows = []
    cross: list[tuple[float, float, float, float]] = []
    for layout in ("flat", "hnsw"):
        t0 = time.perf_counter()
        ours = VectorIndex(args.dim, "bench", hnsw_threshold=0 if layout == "hnsw" else n + 1)
        ours.upsert(ids, x)
        build_ours = time.perf_counter() - t0
        assert ours.layout == layout

        t0 = time.perf_counter()
        raw: Any = faiss.IndexFlatIP(args.dim)
        if layout == "hnsw":
            raw = faiss.IndexHNSWFlat(args.dim, M, faiss.METRIC_INNER_PRODUCT)
            raw.hnsw.efConstruction = EF_CONSTRUCTION
        raw.add(x)
        build_raw = time.perf_counter() - t0

        for name, labels in filters.items():
            allowed = None if labels is None else ids[labels]
            params: Any = None
            if layout == "hnsw":
                params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
                params.efSearch = EF_SEARCH
            keep = None
            if labels is not None:
                params = params or faiss.SearchParameters()
                params.sel, keep = bitmap_selector(labels, n)

            def run_ours(q: np.ndarray, allowed: Any = allowed, ours: Any = ours) -> list[int]:
                return [i for i, _ in ours.search(q, K, allowed=allowed)[0]]

            def run_raw(q: np.ndarray, params: Any = params, raw: Any = raw) -> list[int]:
                found = raw.search(q.reshape(1, -1), K, params=params)[1][0]
                return list(ids[found[found >= 0]].tolist())

            def run_raw_1thread(q: np.ndarray, run_raw: Search = run_raw) -> list[int]:
                previous = faiss.omp_get_max_threads()
                faiss.omp_set_num_threads(1)
                try:
                    return run_raw(q)
                finally:
                    faiss.omp_set_num_threads(previous)

            (p50_o, p99_o, res_o), (p50_r, p99_r, res_r) = timed_pair(
                run_ours, run_raw_1thread, queries
            )
            del keep
            rows.append(
                Row(
                    n,
                    layout,
                    (build_ours, build_raw),
                    name,
                    (p50_o, p99_o),
                    (p50_r, p99_r),
                    (recall(res_o, truth[name]), recall(res_r, truth[name])),
                )
            )
        if layout == "hnsw" and with_crossover:
            cross = crossover(ours, ids, queries[: args.crossover_queries], rng)
    return rows, cross


def crossover(
    index: VectorIndex, ids: np.ndarray, queries: np.ndarray, rng: np.random.Generator
) -> list[tuple[float, float, float, float]]:
    """p50 of VectorIndex's two filtered paths on one HNSW index, by selectivity, and the
    recall of the graph walk against the exact scan."""
    saved = vector_index.WALK_COST_PER_EF
    out = []

    def forced(exact: bool, allowed: np.ndarray) -> Search:
        def run(q: np.ndarray) -> list[int]:
            if exact:
                vector_index.WALK_COST_PER_EF = ids.size
            else:
                vector_index.WALK_COST_PER_EF = 0
            return [i for i, _ in index.search(q, K, allowed=allowed)[0]]

        return run

    try:
        for fraction in (0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.4):
            allowed = np.sort(rng.choice(ids, int(ids.size * fraction), replace=False))
            (exact_p50, _, exact_res), (walk_p50, _, walk_res) = timed_pair(
                forced(True, allowed), forced(False, allowed), queries
            )
            out.append((fraction, exact_p50, walk_p50, recall(walk_res, np.asarray(exact_res))))
    finally:
        vector_index.WALK_COST_PER_EF = saved
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--dim", type=int, default=512)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--crossover-queries", type=int, default=40)
    parser.add_argument("--data", choices=["latent", "isotropic"], default="latent")
    args = parser.parse_args()

    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cpus, "
        f"load avg {os.getloadavg()[0]:.1f}; faiss {faiss.__version__}, numpy {np.__version__}, "
        f"omp threads {faiss.omp_get_max_threads()}"
    )
    print(
        f"data {args.data}, dim {args.dim}, k={K}, HNSW M={M} efConstruction={EF_CONSTRUCTION} "
        f"efSearch={EF_SEARCH}; {args.queries} single queries per cell; "
        "baseline = raw FAISS, same vectors, same run"
    )
    rng = np.random.default_rng(0)
    rows: list[Row] = []
    cross: list[tuple[float, float, float, float]] = []
    for n in args.sizes:
        size_rows, size_cross = bench_size(n, args, rng, n == max(args.sizes))
        rows += size_rows
        cross = size_cross or cross

    header = (
        f"{'n':>7} {'layout':6} {'build s ours/faiss':>18} {'filter':>6} "
        f"{'ours p50/p99 ms':>16} {'faiss p50/p99 ms':>17} {'ratio':>6} {'recall ours/faiss':>18}"
    )
    print()
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r.n:>7} {r.layout:6} {r.build[0]:>8.2f} / {r.build[1]:<7.2f} {r.filt:>6} "
            f"{r.ours[0]:>7.3f} / {r.ours[1]:<6.3f} {r.raw[0]:>8.3f} / {r.raw[1]:<6.3f} "
            f"{r.ours[0] / r.raw[0]:>6.2f} {r.recall[0]:>8.3f} / {r.recall[1]:<7.3f}"
        )

    print()
    print(f"filtered search on HNSW, n={max(args.sizes)}: exact bitmap scan vs graph walk")
    print(f"{'allowed':>8} {'exact p50 ms':>13} {'walk p50 ms':>12} {'walk recall':>12}")
    for fraction, exact_ms, walk_ms, agree in cross:
        print(f"{fraction:>8.1%} {exact_ms:>13.3f} {walk_ms:>12.3f} {agree:>12.3f}")
    print(f"(load avg now {os.getloadavg()[0]:.1f})")


if __name__ == "__main__":
    main()
