#!/usr/bin/env python
"""How far the ranking's features can go on an evaluation's own queries (service.ceiling):
a diagnostic beside `clustermatch evaluate`, never a ranking.

    python scripts/ceiling.py --profiles P.jsonl --interactions I.jsonl --queries Q.jsonl
        [--embedding-cache DB] [--splits 3] [--seed 0] [--k 10] [--json]

Prints per task and slice the nDCG@k of popularity, of the system (the re-ranker trained on
replayed history, as `evaluate` reports it), of the `ceiling` (the same kind of model
trained on the queries' own answers, cross-validated; mean and range over the splits), of
the pool's best order, the pool's recall, and the system and ceiling over popularity.
With `--json`, the figures as one JSON object on the last line. `service` is imported
before numpy, as in the server (one OpenBLAS thread).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
import service  # noqa: F401  (first: its BLAS / OpenMP settings precede numpy's load)

# isort: split
from service.ceiling import ceiling
from service.cli import progress_bars


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--profiles", type=Path, required=True)
    ap.add_argument("--interactions", type=Path, required=True)
    ap.add_argument("--queries", type=Path, required=True)
    ap.add_argument("--embedding-cache", type=Path, help="SQLite file reused across runs")
    ap.add_argument("--splits", type=int, default=3, help="random 2-fold splits (default 3)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = ap.parse_args()
    started = time.perf_counter()
    with progress_bars() as progress:
        result = ceiling(
            args.profiles,
            args.interactions,
            args.queries,
            k=args.k,
            seed=args.seed,
            splits=args.splits,
            embedding_cache=args.embedding_cache,
            progress=progress,
        )
    print(
        f"{'task':<20}{'n':>6}{'popularity':>12}{'system':>9}{'ceiling':>9}{'range':>15}"
        f"{'pool':>8}{'recall':>8}{'system x':>10}{'ceiling x':>11}   (nDCG@{args.k})"
    )
    for name, r in result["tasks"].items():
        lo, hi = r["ceiling_range"]
        print(
            f"{name:<20}{r['n']:>6}{r['popularity']:>12.4f}{r['system']:>9.4f}"
            f"{r['ceiling']:>9.4f}{f'{lo:.4f}-{hi:.4f}':>15}{r['pool']:>8.4f}"
            f"{r['pool_recall']:>8.4f}{r['system_x'] or 0:>10.3f}{r['ceiling_x'] or 0:>11.3f}"
        )
    print(f"took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
