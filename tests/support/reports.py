"""A small programme world for report pages: two events of one organizer with schedules,
outcomes and follow-ups, and the programme's targets, made through the services (as the
API does) on the sample profiles (jp-1 firm JP, it-1 trading company IT, uni-1
university JP, kr-1 firm KR).

FY2026 (event "春の商談会", 10 June 2026): p1–p2 held (strong interest), follow-up
contract of 2,500,000 yen; p1–p3 held (no interest), follow-up negotiation; p2–p4 a
no-show. FY2025 (event "前年の商談会", 12 June 2025): p1–p2 held. Programme "TAMA"
FY2026 targets: 4 meetings held, 2 follow-ups, 2 contracts, 1 new business.
"""

from __future__ import annotations

from typing import Any

from models.outcomes import FollowUp, MeetingOutcome
from service.auth import Principal
from service.events import service as events
from service.reports import service as reports
from service.store import outcomes
from service.store.db import SessionFactory, transaction
from service.store.tables import EventRow

PROGRAM = "TAMA"
PARTICIPANTS = [
    {"id": "p1", "profile_id": "jp-1"},
    {"id": "p2", "profile_id": "it-1"},
    {"id": "p3", "profile_id": "uni-1"},
    {"id": "p4", "profile_id": "kr-1"},
]


def _event(name: str, day: str, program: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "program": program,
        "slots": 3,
        "tables": 2,
        "timezone": "Asia/Tokyo",
        "slot_times": [f"{day}T13:00", f"{day}T13:30", f"{day}T14:00"],
        "participants": PARTICIPANTS,
        **extra,
    }


def seed_programme(
    sessions: SessionFactory, caller: Principal, program: str = PROGRAM
) -> dict[str, str]:
    """The world above, owned by `caller`, its events reporting to `program` (a
    programme's name is unique in its year: another test's world on the same server
    takes another); the events' ids by name."""
    ids: dict[str, str] = {}
    with transaction(sessions) as s:
        now = events.create(
            s,
            caller,
            _event(
                "春の商談会",
                "2026-06-10",
                program,
                wishes=[{"from": "p1", "to": "p2", "level": "must"}],
                suggestions=[
                    {"a": "p1", "b": "p3", "score": 0.8},
                    {"a": "p2", "b": "p4", "score": 0.6},
                ],
            ),
        )
        wish = {"from": "p1", "to": "p2", "level": "want"}
        before = events.create(
            s, caller, _event("前年の商談会", "2025-06-12", program, wishes=[wish])
        )
        ids = {"now": now.id, "before": before.id}
        for row, pairs in ((now, [("p1", "p2"), ("p1", "p3"), ("p2", "p4")]),
                           (before, [("p1", "p2")])):  # fmt: skip
            stored = s.get(EventRow, row.id)
            assert stored is not None
            stored.schedule = {
                "meetings": [
                    {"a": a, "b": b, "slot": i, "table": "T1"} for i, (a, b) in enumerate(pairs)
                ]
            }
        e, b = now.id, before.id
        for record in (
            MeetingOutcome(e, "p1", "p2", side="p1", attendance="held", interest="strong"),
            MeetingOutcome(e, "p1", "p3", side="p3", attendance="held", interest="none"),
            MeetingOutcome(e, "p2", "p4", side="p2", attendance="no_show", no_show=("p4",)),
            MeetingOutcome(b, "p1", "p2", side="p1", attendance="held", interest="some"),
        ):
            outcomes.add_outcome(s, record)
        for follow_up in (
            FollowUp(e, "p1", "p2", side="p2", months=3, stage="contract", amount_yen=2_500_000),
            FollowUp(e, "p1", "p3", side="p1", months=3, stage="negotiation"),
        ):
            outcomes.add_follow_up(s, follow_up)
        reports.create_program(
            s,
            caller,
            program,
            2026,
            {"meetings_held": 4, "follow_ups": 2, "contracts": 2, "new_businesses": 1},
        )
    return ids
