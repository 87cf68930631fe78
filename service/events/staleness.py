"""Whether an event's schedule still fits its document.

An event's document can change after its schedule was solved (PUT, the console's edits):
slots or tables removed, a participant taken out, availability narrowed. The stored
schedule then names meetings that cannot take place as planned. Nothing downstream may
use such a schedule as if it were current: the exports indexed slots that no longer exist
(500), the agendas dropped those meetings without a word, re-timing failed.

The check is made against the document as it is *now*, on every read that uses the
schedule, so no write path can forget to mark it: the schedule is stale while any meeting
breaks the document, and fresh again once a re-plan (or a solve) has replaced it. Exports,
agendas and re-timing answer 409 with every reason meanwhile (`StaleSchedule`); the JSON
schedule and the event stay readable, with the reasons beside them.

Why refuse rather than print the meetings that are still valid: on the morning of the
event an agenda handed out is what people walk to. A schedule with a hole where a removed
participant or slot was leaves partners idle at a table nobody told them was empty, and a
per-participant filter would hide that from the organizer too. A re-plan keeps every
announced meeting that is still possible exactly where it was, fills the holes, and takes
seconds (`POST /v1/events/{id}/replan`, or Re-plan in the console): that is the schedule
an organizer wants to print.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from models.events import Event, Meeting, parse_previous
from service.errors import Conflict

MAX_REASONS = 50
"""Reasons listed in full; a longer list ends with how many more there are."""


class StaleSchedule(Conflict):
    slug, title = "schedule-stale", "The schedule is stale"


StaleCode = Literal[
    "participant_gone", "slot_gone", "participant_unavailable", "table_gone", "table_unavailable"
]


@dataclass(frozen=True)
class StaleMeeting:
    """One reason a meeting of the schedule cannot take place as planned: `index` is its
    place in the schedule's meetings, `subject` the participant or table concerned."""

    index: int
    meeting: Meeting
    code: StaleCode
    subject: str = ""

    def reason(self, slots: int) -> str:
        m = self.meeting
        what = {
            "participant_gone": f"{self.subject!r} is no longer a participant",
            "slot_gone": f"slot {m.slot + 1} no longer exists (the event has {slots})",
            "participant_unavailable": f"{self.subject!r} is no longer available in this slot",
            "table_gone": f"table {self.subject!r} no longer exists",
            "table_unavailable": f"table {self.subject!r} is no longer available in this slot",
        }[self.code]
        return f"meeting {m.a}–{m.b} in slot {m.slot + 1}: {what}"


def stale_meetings(event: Event, meetings: Sequence[Meeting]) -> list[StaleMeeting]:
    """Each reason a meeting of the schedule breaks `event` now; empty while it fits."""
    participants = {p.id: p for p in event.participants}
    tables = {t.id: t for t in event.tables}
    out: list[StaleMeeting] = []
    for index, m in enumerate(meetings):
        gone = [pid for pid in (m.a, m.b) if pid not in participants]
        out += [StaleMeeting(index, m, "participant_gone", pid) for pid in gone]
        if not 0 <= m.slot < event.slots:
            out.append(StaleMeeting(index, m, "slot_gone"))
        else:
            out += [
                StaleMeeting(index, m, "participant_unavailable", pid)
                for pid in (m.a, m.b)
                if pid not in gone and not participants[pid].is_available(m.slot)
            ]
        if m.table is not None and m.table not in tables:
            out.append(StaleMeeting(index, m, "table_gone", m.table))
        elif (
            m.table is not None
            and 0 <= m.slot < event.slots
            and not tables[m.table].is_available(m.slot)
        ):
            out.append(StaleMeeting(index, m, "table_unavailable", m.table))
    return out


def stale_of(event: Event, schedule: Mapping[str, Any] | None) -> list[StaleMeeting]:
    """`stale_meetings` of a stored schedule (none when there is no schedule)."""
    if schedule is None:
        return []
    meetings, _ = parse_previous(schedule)
    return stale_meetings(event, meetings)


def stale_reasons(event: Event, schedule: Mapping[str, Any] | None) -> list[dict[str, str]]:
    """Each reason as {field, reason}, the field being the meeting's place in the schedule."""
    return [
        {"field": f"schedule.meetings[{s.index}]", "reason": s.reason(event.slots)}
        for s in stale_of(event, schedule)
    ]


def _fix(event_id: str) -> str:
    return f"re-plan it (POST /v1/events/{event_id}/replan) or solve it again"


def stale_summary(event_id: str, reasons: list[dict[str, str]]) -> dict[str, Any] | None:
    """What the API shows beside a stale schedule (None when it is current)."""
    if not reasons:
        return None
    return {
        "problems": len(reasons),
        "meetings": len({r["field"] for r in reasons}),
        "errors": reasons[:MAX_REASONS],
        "fix": _fix(event_id),
    }


def refuse_stale(event_id: str, event: Event, schedule: Mapping[str, Any] | None) -> None:
    """409 with the reasons (the first MAX_REASONS) while the schedule breaks the event;
    `meetings` is how many meetings they concern."""
    reasons = stale_reasons(event, schedule)
    if reasons:
        more = len(reasons) - MAX_REASONS
        raise StaleSchedule(
            f"the schedule no longer fits the event ({len(reasons)} problems"
            + (f", {more} not listed" if more > 0 else "")
            + f"): {_fix(event_id)}",
            errors=reasons[:MAX_REASONS],
            meetings=len({r["field"] for r in reasons}),
        )
