"""Speed of a programme report over many events, in process (no server):

    .venv/bin/python scripts/bench_reports.py [--events 40] [--participants 60]
        [--meetings 100] [--repeat 3]

A temporary SQLite store gets `--events` events of one organizer spread over two fiscal
years, each with `--participants` participants (sample profiles' kinds and countries),
wishes, suggestions, a schedule of `--meetings` meetings, an outcome from each side of
every meeting and a follow-up for a third of them. Then, each `--repeat` times after one
warm-up, in the same process:

- baseline: what any report must do at least: read the events and the outcome records
  (`GET /v1/events`'s listing, `parse_event` of each, and the two outcome queries);
- report: `service.reports.program_report` by programme (the JSON route's work), and by
  pair of kinds;
- XLSX: the same report as a workbook; chart: its PNG.

The figures are medians and their ratio to the baseline (a loaded shared machine: read the
ratios, not the milliseconds).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.events import parse_event
from models.outcomes import FollowUp, MeetingOutcome
from models.reports import TABLE_HEADER, GroupBy, Report, table_rows
from service.auth import Principal, create_key
from service.io import spreadsheets
from service.reports import charts
from service.reports import service as reports
from service.store import events as event_rows
from service.store import outcomes
from service.store.db import SessionFactory, make_engine, make_sessionmaker, transaction, upgrade
from service.store.tables import EventRow, ProfileRow

KINDS = ("firm", "university", "trading_company", "research_institute")
COUNTRIES = ("JP", "IT", "KR", "DE", "TH")


def seed(sessions: SessionFactory, args: argparse.Namespace) -> Principal:
    rng = random.Random(7)
    with transaction(sessions) as s:
        key, _ = create_key(s, "organizer")
        pk = key.pk
        caller = Principal(pk, "organizer")
        for i in range(args.participants * 4):
            kind, country = rng.choice(KINDS), rng.choice(COUNTRIES)
            s.add(ProfileRow(id=f"org-{i}", name=f"Org {i}", kind=kind, country=country,
                             data={}, content_hash="x"))  # fmt: skip
        for e in range(args.events):
            year = 2025 + e % 2
            day = f"{year}-{4 + e % 9:02d}-{1 + e % 27:02d}"
            ids = [f"p{j}" for j in range(args.participants)]
            profiles = rng.sample(range(args.participants * 4), args.participants)
            pairs: set[tuple[str, str]] = set()
            while len(pairs) < args.meetings:
                a, b = rng.sample(ids, 2)
                pairs.add((min(a, b), max(a, b)))
            listed = sorted(pairs)
            doc = {
                "program": "TAMA",
                "slots": 12,
                "tables": 20,
                "timezone": "Asia/Tokyo",
                "slot_times": [f"{day}T{9 + k // 2:02d}:{30 * (k % 2):02d}" for k in range(12)],
                "participants": [{"id": p, "profile_id": f"org-{q}"}
                                 for p, q in zip(ids, profiles, strict=True)],
                "wishes": [{"from": a, "to": b, "level": "want"} for a, b in listed[::2]],
                "suggestions": [{"a": a, "b": b, "score": 0.5} for a, b in listed[1::2]],
            }  # fmt: skip
            row = EventRow(id=f"event-{e:05d}", name=f"Event {e}", owner_key=pk, data=doc)
            row.schedule = {
                "meetings": [{"a": a, "b": b, "slot": k % 12, "table": None}
                             for k, (a, b) in enumerate(listed)]
            }  # fmt: skip
            event_rows.add(s, row)
            for k, (a, b) in enumerate(listed):
                for side in (a, b):
                    held = rng.random() < 0.9
                    outcomes.add_outcome(
                        s,
                        MeetingOutcome(row.id, a, b, side=side,
                                       attendance="held" if held else "no_show",
                                       no_show=() if held else (b if side == a else a,),
                                       interest=rng.choice(("none", "some", "strong"))
                                       if held else None),
                    )  # fmt: skip
                if k % 3 == 0:
                    outcomes.add_follow_up(
                        s, FollowUp(row.id, a, b, side=a, months=3,
                                    stage=rng.choice(("negotiation", "nda", "contract")))
                    )  # fmt: skip
    return caller


def timed(fn: Callable[[], object], repeat: int) -> float:
    fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--participants", type=int, default=60)
    parser.add_argument("--meetings", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        upgrade(engine)
        sessions = make_sessionmaker(engine)
        start = time.perf_counter()
        caller = seed(sessions, args)
        print(f"seeded {args.events} events x {args.meetings} meetings "
              f"in {time.perf_counter() - start:.1f} s")  # fmt: skip

        def baseline() -> None:
            with transaction(sessions) as s:
                rows = event_rows.listing(s, caller.office, reports.MAX_EVENTS)
                for row in rows:
                    parse_event(row.data)
                ids = [r.id for r in rows]
                outcomes.outcomes_for(s, ids)
                outcomes.follow_ups_for(s, ids)

        def report(by: GroupBy) -> Callable[[], Report]:
            def run() -> Report:
                with transaction(sessions) as s:
                    return reports.program_report(s, caller, 2025, by)

            return run

        def xlsx() -> None:
            rep = report("program")()
            spreadsheets.xlsx_bytes(TABLE_HEADER, table_rows(rep))

        def png() -> None:
            charts.chart(report("kind_pair")(), "groups", "png", "ja")

        base = timed(baseline, args.repeat)
        print(f"{'baseline (read and parse)':32} {base * 1000:8.0f} ms   1.00x")
        for name, fn in (
            ("report by programme", report("program")),
            ("report by kind pair", report("kind_pair")),
            ("report as XLSX", xlsx),
            ("report as PNG chart", png),
        ):
            t = timed(fn, args.repeat)
            print(f"{name:32} {t * 1000:8.0f} ms  {t / base:5.2f}x")
        engine.dispose()


if __name__ == "__main__":
    main()
