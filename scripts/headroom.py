#!/usr/bin/env python
"""Headroom (service.offline.headroom): would training on answers like the evaluation's beat the
system? A diagnostic beside `clustermatch evaluate`, never a ranking.

    python scripts/headroom.py --profiles P.jsonl --interactions I.jsonl --queries Q.jsonl
        [--embedding-cache DB] [--splits 3] [--seed 0] [--k 10] [--json]

Prints per task and slice the nDCG@k of popularity and the system on the official answers,
the pool's best order and the pool's recall; then, cross-validated over answer units
(the held-out projects), the system's kind of model trained on the evaluation's own
answers against the system and popularity on the same test answers. With `--json`, the
figures as one JSON object on the last line. `service.runtime.configure_process()` runs
before numpy loads, as in the server (one OpenBLAS thread).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from service.runtime import configure_process

configure_process()  # first: its BLAS / OpenMP settings precede numpy's load

# isort: split
from service.cli import progress_bars  # noqa: E402
from service.offline.headroom import headroom  # noqa: E402


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
    for path in (args.profiles, args.interactions, args.queries):
        if not path.is_file():
            sys.exit(f"headroom: no such file: {path}")
    try:
        with progress_bars() as progress:
            result = headroom(
                args.profiles,
                args.interactions,
                args.queries,
                k=args.k,
                seed=args.seed,
                splits=args.splits,
                embedding_cache=args.embedding_cache,
                progress=progress,
            )
    except ValueError as exc:  # a bad query file, too little history, --splits 0
        sys.exit(f"headroom: {exc}")
    print(f"nDCG@{args.k}; cross-validation split by {result['split_by']}")
    print(f"{'':<20}{'':>6}{'official answers':^32}{'':>8}{'cross-validated, test answers':^46}")
    print(
        f"{'task':<20}{'n':>6}{'popularity':>11}{'system':>8}{'pool':>7}{'recall':>8}"
        f"{'tested':>8}{'popularity':>11}{'system':>8}{'on answers':>11}{'range':>15}"
    )
    for name, r in result["tasks"].items():
        cv = r.get("cv")
        tail = ""
        if cv:
            lo, hi = cv["on_answers_range"]
            tail = (
                f"{cv['tested']:>8}{cv['popularity']:>11.4f}{cv['system']:>8.4f}"
                f"{cv['on_answers']:>11.4f}{f'{lo:.4f}-{hi:.4f}':>15}"
            )
        print(
            f"{name:<20}{r['n']:>6}{r['popularity']:>11.4f}{r['system']:>8.4f}"
            f"{r['pool']:>7.4f}{r['pool_recall']:>8.4f}{tail}"
        )
    print(f"took {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if args.json:
        print(json.dumps(result))


if __name__ == "__main__":
    main()
