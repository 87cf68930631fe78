#!/usr/bin/env python
"""Where the time of a `matches_for` request goes, stage by stage, on a saved store.

    python scripts/profile_matches.py --data-dir DIR [--requests 320] [--warm 40]
        [--native/--no-native]

Loads the store the way the service does (the app's engine, reconciled from the index
saved in DIR, e.g. the `api-data` directory `bench_core.py --workdir W` leaves), waits for
the re-ranker (and its compiled code), then runs `matches_for` over random profiles and
the four purposes. Each stage is timed by wrapping the function that does it, so a figure
is inclusive (a stage's figure holds the stages it calls). Printed: per stage, the median
over all requests and the mean over the slowest 5 % of them, and the purposes of the
slowest 5 %. The encoder is the hashing stand-in of the benchmarks (the store's vectors
came from it). `service` is imported before numpy, as in the server: one OpenBLAS thread.
"""

from __future__ import annotations

import argparse
import functools
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from service.runtime import configure_process

configure_process()  # first: its BLAS / OpenMP settings precede numpy's load

# isort: split
import numpy as np  # noqa: E402

PURPOSES = ("partner", "buyer", "overseas", "academia")

_current: dict[str, float] | None = None


def _timed(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            if _current is not None:
                _current[name] = _current.get(name, 0.0) + time.perf_counter() - t0

    return wrapper


def instrument(engine: Any) -> None:
    """Wrap the stages of one request: class attributes (every instance is timed), and the
    engine's own vector indexes (one figure per facet) and re-ranker."""
    from models.lexical import LexicalIndex
    from models.lexical_pruned import PrunedLexicalIndex
    from service.engine import catalogue, lines, ranking, records, retrieval

    stages: list[tuple[Any, str, str]] = [  # (owner, attribute, the figure's name)
        (retrieval.Retrieval, "pool", "pool"),
        (retrieval.Retrieval, "candidates", "candidates"),
        (retrieval.Retrieval, "allowed", "allowed"),
        (lines.LineVotes, "votes", "line_votes"),
        (catalogue.Catalogue, "load_items", "_load_items"),
        (ranking, "reasons_for", "_reasons"),  # (functions: where ranking looks them up)
        (ranking, "feature_matrix", "feature_matrix"),
    ]
    for owner, attr, name in stages:
        setattr(owner, attr, _timed(name, getattr(owner, attr)))
    for cls in (LexicalIndex, PrunedLexicalIndex):  # (the whole rows, or a large catalogue's)
        cls.search = _timed("lexical.search", cls.search)  # type: ignore[method-assign]
        cls.similarity = _timed("lexical.similarity", cls.similarity)  # type: ignore[method-assign]
        cls.row = _timed("lexical.row", cls.row)  # type: ignore[method-assign]
    records.RecordTable.profile = _timed("records.profile", records.RecordTable.profile)  # type: ignore[method-assign]
    for facet, index in engine.indexes.items():
        index.search = _timed(f"vector.search[{facet}]", index.search)
    graph = engine.network.graph
    if graph is not None:
        for name in ("ppr", "spread", "popular", "neighbors"):
            setattr(type(graph), name, _timed(f"graph.{name}", getattr(type(graph), name)))
    if engine.reranker is not None:
        r = engine.reranker
        r.score = _timed("reranker.score", r.score)
        r.contributions = _timed("reranker.contributions", r.contributions)


@contextmanager
def request_timer(out: list[dict[str, float]]) -> Iterator[None]:
    global _current
    _current = {}
    t0 = time.perf_counter()
    try:
        yield
    finally:
        _current["request"] = time.perf_counter() - t0
        out.append(_current)
        _current = None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data-dir", type=Path, required=True)
    ap.add_argument("--requests", type=int, default=320)
    ap.add_argument(
        "--warm",
        type=int,
        default=200,
        help="requests run first, not counted (filters' blocks get built)",
    )
    ap.add_argument("--native", action=argparse.BooleanOptionalAction, default=True)
    ap.add_argument("--seed", type=int, default=7)
    args = ap.parse_args(argv)

    from fastapi.testclient import TestClient

    from models.encoders import HashingEncoder
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(  # capacity is measured, not the abuse limits (service.ops.guard)
        data_dir=args.data_dir,
        rate_limit_per_key=0,
        rate_limit_per_ip=0,
        index_save_interval_s=0,
        log_level="WARNING",
        native_ranker=args.native,
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings, encoder=HashingEncoder(dim=512))
    with TestClient(app):
        engine = app.state.engine
        t0 = time.perf_counter()
        while not engine.ready:
            time.sleep(0.2)
        print(f"ready after {time.perf_counter() - t0:.1f} s; {len(engine)} profiles", flush=True)
        if args.native and engine.reranker is not None:
            while not engine.reranker.native:
                time.sleep(0.2)
        print(
            "ranking:",
            "none (hand weights)"
            if engine.reranker is None
            else ("compiled" if engine.reranker.native else "LightGBM"),
            flush=True,
        )
        rng = random.Random(args.seed)
        records = [engine.records[pk] for pk in sorted(engine.records)]
        plan = [
            (rng.choice(records), rng.choice(PURPOSES)) for _ in range(args.warm + args.requests)
        ]
        for rec, purpose in plan[: args.warm]:
            engine.matches_for(rec, purpose)
        instrument(engine)
        rows: list[dict[str, float]] = []
        for rec, purpose in plan[args.warm :]:
            with request_timer(rows):
                engine.matches_for(rec, purpose)
    report(rows, [p for _, p in plan[args.warm :]])
    return 0


def report(rows: list[dict[str, float]], purposes: list[str]) -> None:
    total = np.array([r["request"] for r in rows]) * 1e3
    slow = np.argsort(-total)[: max(1, len(rows) // 20)]
    names = sorted(
        {k for r in rows for k in r}, key=lambda k: -np.median([r.get(k, 0) for r in rows])
    )
    print(
        f"\n{len(rows)} requests; p50 {np.median(total):.1f} ms,",
        f"p99 {np.percentile(total, 99):.1f} ms",
    )
    print(f"{'stage':34} {'median ms':>10} {'slowest 5% mean':>16}")
    for name in names:
        v = np.array([r.get(name, 0.0) for r in rows]) * 1e3
        print(f"{name:34} {np.median(v):10.2f} {v[slow].mean():16.2f}")
    by: dict[str, list[float]] = defaultdict(list)
    for p, t in zip(purposes, total, strict=True):
        by[p].append(t)
    print("\nby purpose (p50 / p99 ms):")
    for p in PURPOSES:
        if by[p]:
            print(
                f"  {p:9} {np.median(by[p]):6.1f} / {np.percentile(by[p], 99):6.1f}",
                f" (n={len(by[p])})",
            )
    slow_p = [purposes[i] for i in slow]
    print("slowest 5 %:", {p: slow_p.count(p) for p in PURPOSES})


if __name__ == "__main__":
    raise SystemExit(main())
