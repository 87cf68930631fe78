"""Speed of the follow-up sheet (商談シート) of a large event, in process, no server:

    .venv/bin/python scripts/bench_followup_sheet.py [--participants 1000] [--slots 10]

The app runs as in production (`create_app`, SQLite in a temporary data directory, the
HashingEncoder) behind Starlette's TestClient. An event of `--participants` participants
gets a schedule of about participants / 2 meetings per slot (set in the database, no
solve); its sheet is downloaded, every row filled (出欠, 関心度, the first round's 段階) and
read back, then read back again unchanged. The baseline, in the same run on a copy of the
same event: the same records appended one by one through the API's path
(`service.outcomes.service.record_outcome` / `record_follow_up`, one per request in
real use), in one transaction. Printed: seconds for each step and the ratio of the import
to the baseline.
"""

from __future__ import annotations

import argparse
import csv
import io
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from models.encoders import HashingEncoder
from service.auth import Principal
from service.outcomes import service as outcomes
from service.outcomes.access import scope
from service.outcomes.service import FollowUpInput, OutcomeInput
from service.store import events as event_rows
from service.store.db import transaction
from tests.support.app import make_settings, start_api


def event_doc(participants: int, slots: int) -> dict[str, Any]:
    return {
        "name": "bench",
        "slots": slots,
        "tables": participants // 2,
        "timezone": "Asia/Tokyo",
        "slot_times": [f"2026-06-10T{9 + i // 3:02d}:{(i % 3) * 20:02d}" for i in range(slots)],
        "participants": [{"id": f"p{i}"} for i in range(participants)],
    }


def meetings(participants: int, slots: int) -> list[dict[str, Any]]:
    """A valid schedule: each slot pairs participants along a different stride."""
    seen: set[frozenset[str]] = set()
    out = []
    for s in range(slots):
        busy: set[str] = set()
        for t in range(participants // 2):
            a, b = f"p{(2 * t + s) % participants}", f"p{(2 * t + 1 + 3 * s) % participants}"
            pair = frozenset((a, b))
            if a == b or pair in seen or a in busy or b in busy:
                continue
            seen.add(pair)
            busy |= {a, b}
            out.append({"a": a, "b": b, "slot": s, "table": str(t)})
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--slots", type=int, default=10)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for api in start_api(make_settings(Path(tmp)), HashingEncoder(dim=64)):
            h = api.h("organizer")
            doc = event_doc(args.participants, args.slots)
            plan = meetings(args.participants, args.slots)
            ids = []
            for _ in range(2):  # the sheet's event, and the baseline's copy
                r = api.post("/v1/events", json=doc, headers=h)
                assert r.status_code == 201, r.text
                ids.append(r.json()["id"])
            sessions = api.client.app.state.sessions  # type: ignore[attr-defined]
            with transaction(sessions) as s:
                for event_id in ids:
                    stored = event_rows.get(s, event_id)
                    assert stored is not None
                    stored.schedule = {"meetings": plan}
            sheet_event, base_event = ids

            t0 = time.perf_counter()
            sheet = api.get(f"/v1/events/{sheet_event}/exports/follow-ups.csv", headers=h)
            t_export = time.perf_counter() - t0
            rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
            header = rows[0]
            for row in rows[1:]:
                row[header.index("出欠")] = "実施"
                row[header.index("関心度")] = "あり"
                row[header.index("段階（3か月後）")] = "商談中"
            out = io.StringIO()
            csv.writer(out).writerows(rows)
            data = out.getvalue().encode("utf-8")
            url = f"/v1/events/{sheet_event}/follow-ups/import"
            t0 = time.perf_counter()
            first = api.post(url, content=data, headers=h).json()["report"]
            t_import = time.perf_counter() - t0
            t0 = time.perf_counter()
            again = api.post(url, content=data, headers=h).json()["report"]
            t_again = time.perf_counter() - t0

            caller = Principal(0, "admin")
            t0 = time.perf_counter()
            with transaction(sessions) as s:
                found = scope(s, caller, base_event)
                for row in rows[1:]:
                    side, partner = row[3], row[5]
                    said = OutcomeInput(side, partner, side, "held", interest="some")
                    answer = FollowUpInput(side, partner, side, 3, "negotiation")
                    outcomes.record_outcome(s, found, said, recorded_by="key:0", source="api")
                    outcomes.record_follow_up(s, found, answer, recorded_by="key:0", source="api")
            t_base = time.perf_counter() - t0

    n = len(rows) - 1
    written = first["outcomes_written"] + first["follow_ups_written"]
    print(f"event: {args.participants} participants, {len(plan)} meetings, sheet rows {n}")
    print(f"export CSV            {t_export:7.2f} s")
    print(f"import (writes {written:>6})  {t_import:7.2f} s")
    print(f"import again (unchanged {again['unchanged']}) {t_again:7.2f} s")
    print(f"baseline: {written} records one by one {t_base:7.2f} s")
    print(f"import / baseline     {t_import / t_base:7.2f}x")


if __name__ == "__main__":
    main()
