"""Benchmark the event scheduler on seeded random events.

    .venv/bin/python scripts/bench_schedule.py --sizes 100,300 [--time-limit S] [--seed N]

Events: buyers (35 %) and suppliers, buyer–supplier meetings only, 12–16 slots with one
common break, a fifth of the participants away for 2–5 slots, ~10 wishes each (must /
want / no; popular buyers get more), 3 engine suggestions each, a few blocked and met-before
pairs, mins of 2–4, 5 % of participants with two attendees, tables for 35 % of the
participants. Prints solver objective vs the greedy baseline and CP-SAT's best bound, the
gap, time, meetings per participant, unplaced must-meets and participants below their
minimum (and whether that minimum was feasible on its own).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import random
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


from models.events import (
    Event,
    Level,
    Participant,
    Schedule,
    Suggestion,
    Table,
    Wish,
    solve,
)

DEFAULT_LIMITS = {100: 10.0, 300: 30.0, 1000: 120.0}


def make_event(n: int, seed: int) -> Event:
    rng = random.Random(seed)
    slots = rng.randint(12, 16)
    pause = slots // 2  # lunch: nobody meets
    everyone = frozenset(range(slots)) - {pause}
    n_buyers = max(2, round(0.35 * n))
    participants: list[Participant] = []
    for i in range(n):
        buyer = i < n_buyers
        available = everyone
        if rng.random() < 0.2:
            start = rng.randrange(slots)
            available = everyone - set(range(start, start + rng.randint(2, 5)))
        participants.append(
            Participant(
                id=f"{'b' if buyer else 's'}{i}",
                group="buyer" if buyer else "supplier",
                available=frozenset(available),
                min=rng.randint(2, 4),
                max=rng.randint(6, slots),
                attendees=2 if rng.random() < 0.05 else 1,
            )
        )
    buyers, suppliers = participants[:n_buyers], participants[n_buyers:]
    popularity = {p.id: rng.paretovariate(1.5) for p in participants}

    wishes: list[Wish] = []
    for p in participants:
        others = suppliers if p.group == "buyer" else buyers
        k = min(len(others), max(1, round(rng.gauss(10, 2))))
        weights = [popularity[o.id] for o in others]
        chosen: dict[str, None] = {}
        while len(chosen) < k:
            chosen.setdefault(rng.choices(others, weights)[0].id, None)
        for target in chosen:
            r = rng.random()
            level: Level = "must" if r < 0.2 else "want" if r < 0.9 else "no"
            wishes.append(Wish(p.id, target, level, rng.randint(1, 5)))
    suggestions = []
    for p in participants:
        others = suppliers if p.group == "buyer" else buyers
        for o in rng.sample(others, min(3, len(others))):
            suggestions.append(Suggestion(p.id, o.id, round(rng.random(), 2)))
    blocked = {
        tuple(sorted((rng.choice(buyers).id, rng.choice(suppliers).id))) for _ in range(n // 20)
    }
    met_before = {
        tuple(sorted((rng.choice(buyers).id, rng.choice(suppliers).id))) for _ in range(n // 20)
    }
    n_tables = max(1, round(0.35 * n))
    return Event(
        slots=slots,
        tables=[Table(f"T{i + 1}") for i in range(n_tables)],
        participants=participants,
        allow=[("buyer", "supplier")],
        blocked=[(a, b) for a, b in blocked],
        met_before=[(a, b) for a, b in met_before if (a, b) not in blocked],
        wishes=wishes,
        suggestions=suggestions,
        id=f"bench-{n}-{seed}",
    )


def report(n: int, event: Event, result: Schedule, limit: float) -> None:
    per = [s.meetings for s in result.per_participant.values()]
    below = [(pid, s) for pid, s in result.per_participant.items() if s.below_min]
    below_feasible = [pid for pid, s in below if s.effective_min >= s.min]
    below_short_of_feasible = [
        pid for pid, s in result.per_participant.items() if s.meetings < s.effective_min
    ]
    unplaced_must = [u for u in result.unplaced if "must" in u.level]
    must_codes: dict[str, int] = {}
    for u in unplaced_must:
        must_codes[u.code] = must_codes.get(u.code, 0) + 1
    gain = (result.value - result.greedy_objective) / max(1, result.greedy_objective)
    print(
        f"--- {n} participants, {event.slots} slots, {len(event.tables)} tables, "
        f"{len(event.wishes)} wishes, time limit {limit:.0f} s"
    )
    print(
        f"  status {result.status}; objective {result.objective:,} vs greedy "
        f"{result.greedy_objective:,} ({gain:+.2%}); best bound {result.bound:,}; "
        f"gap {result.gap:.3%}; time {result.time_s:.1f} s"
    )
    for st in result.stages:
        obj = "-" if st.objective is None else f"{st.objective:,.0f}"
        bound = "-" if st.bound is None else f"{st.bound:,.0f}"
        print(
            f"    stage {st.name:9s} {st.status:17s} obj {obj:>12} bound {bound:>12} "
            f"{st.time_s:6.1f} s"
        )
    for note in result.notes:
        print(f"    note: {note}")
    print(
        f"  meetings {len(result.meetings)}; per participant min {min(per)}, "
        f"median {statistics.median(per):g}, max {max(per)}; idle gaps {result.idle_gaps}"
    )
    print(f"  unplaced must-meets {len(unplaced_must)} {must_codes or ''}")
    print(
        f"  below min: {len(below)} (min feasible on its own for {len(below_feasible)}); "
        f"below feasible min: {len(below_short_of_feasible)}; "
        f"worst shortfall {result.max_shortfall}, total {result.total_shortfall}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,300,1000")
    parser.add_argument(
        "--time-limit",
        type=float,
        default=None,
        help="seconds per event (default 10 / 30 / 120 by size)",
    )
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    args = parser.parse_args(argv)
    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}, OR-Tools {importlib.metadata.version('ortools')}, "
        f"{args.workers} CP-SAT workers; baseline: models.events.greedy"
    )
    for size in (int(s) for s in args.sizes.split(",") if s.strip()):
        event = make_event(size, args.seed)
        limit = args.time_limit or DEFAULT_LIMITS.get(size, 60.0)
        result = solve(event, time_limit=limit, num_workers=args.workers, seed=args.seed)
        report(size, event, result, limit)
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
