#!/usr/bin/env python
"""Simulated: what meeting outcomes teach the ranking (service.offline.simulation).

    python scripts/bench_outcomes.py [--seeds 5] [--first-seed 0] [--hashing]
        [--hidden-by family|pair] [--no-peers] [--embedding-cache DB] [--json]

Per seed, the demo corpus in a fresh store, four simulated events whose buyers have hidden
true needs (models.simulation), the outcomes of events 1-3 recorded and learned from, and
the nDCG@10 of event 4's suggested buyers against the hidden fit: the ranking without
outcomes and with them (event suggestions rank `partner`, a member's buyer matches
`buyer`). Prints both, their difference, and its mean and spread over the seeds. Every
figure is SIMULATED: no real outcome data exists yet. `--hashing` uses the small hashing
encoder instead of the default model (a smoke run, not a figure to quote).

Controls: `--hidden-by pair` draws each buyer's unwritten needs per pair instead of per
product family (what similar firms' meetings reveal then says nothing of another firm's);
`--no-peers` turns the peer_met / peer_declined features off (every query gets no peers),
leaving the outcomes' interactions and graded training queries.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from service.runtime import configure_process

configure_process()  # first: its BLAS / OpenMP settings precede numpy's load

# isort: split
from models.encoders import Encoder, HashingEncoder  # noqa: E402
from service.offline.simulation import PURPOSES, simulate  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--seeds", type=int, default=5, help="how many seeds (default 5)")
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--hashing", action="store_true", help="hashing encoder (smoke run)")
    ap.add_argument("--embedding-cache", type=Path, help="SQLite file reused across runs")
    ap.add_argument("--hidden-by", choices=("family", "pair"), default="family")
    ap.add_argument("--no-peers", action="store_true", help="control: no peer features")
    ap.add_argument("--json", action="store_true", help="one JSON object on the last line")
    args = ap.parse_args()
    if args.no_peers:
        import service.engine.ranking as engine_ranking

        engine_ranking.peer_seeds = lambda *a, **k: {}
    encoder: Encoder
    if args.hashing:
        encoder = HashingEncoder()
    else:
        from service.resources import load_encoder
        from service.settings import Settings

        encoder = load_encoder(Settings())
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    started = time.perf_counter()
    results = simulate(encoder, seeds, args.embedding_cache, args.hidden_by)
    took = time.perf_counter() - started
    print(
        f"SIMULATED outcomes, model {encoder.model_id}, seeds {seeds}, hidden needs by "
        f"{args.hidden_by}{', no peer features' if args.no_peers else ''} ({took:.0f} s)"
    )
    print("nDCG@10 of event 4's suggested buyers against the hidden fit (simulated)")
    summary: dict[str, dict[str, float]] = {}
    for purpose in PURPOSES:
        print(f"\n{purpose}:  seed  without  with outcomes  difference   (simulated)")
        diffs = []
        for r in results:
            a, b = r.without[purpose], r.with_outcomes[purpose]
            diffs.append(b - a)
            print(f"{'':10}{r.seed:4}  {a:7.3f}  {b:13.3f}  {b - a:+10.3f}")
        mean_a = statistics.mean(r.without[purpose] for r in results)
        mean_b = statistics.mean(r.with_outcomes[purpose] for r in results)
        sd = statistics.stdev(diffs) if len(diffs) > 1 else 0.0
        print(
            f"{'mean':>14}  {mean_a:7.3f}  {mean_b:13.3f}  {mean_b - mean_a:+10.3f}"
            f"  (sd {sd:.3f}, min {min(diffs):+.3f}, max {max(diffs):+.3f}; simulated)"
        )
        summary[purpose] = {
            "without": mean_a,
            "with_outcomes": mean_b,
            "difference": mean_b - mean_a,
            "difference_sd": sd,
            "difference_min": min(diffs),
            "difference_max": max(diffs),
        }
    print("\nper seed: ranking without / with outcomes, meetings, evidence (simulated)")
    for r in results:
        print(
            f"  seed {r.seed}: {r.method_without} / {r.method_with}, {r.meetings} meetings, "
            f"{r.evidence.get('positive', 0)} positive and {r.evidence.get('negative', 0)} "
            "negative evidence"
        )
    if args.json:
        out = {
            "simulated": True,
            "model": encoder.model_id,
            "seeds": seeds,
            "hidden_by": args.hidden_by,
            "peers": not args.no_peers,
            "summary": summary,
            "runs": [r.to_dict() for r in results],
        }
        print(json.dumps(out))


if __name__ == "__main__":
    main()
