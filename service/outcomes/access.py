"""Who may see and record which outcomes of an event, and which meetings have outcomes.

An event's outcomes are reached through its scope: the organizer who owns the event and
admins see every meeting and both sides (`Scope.organizer`); a member firm sees the events
it takes part in (a participant whose `profile_id` is its profile, as its agenda does) and,
there, only its own side of its own meetings. Any other caller gets the 404 an unknown
event gets (service.events), so an event's existence is not disclosed.

Which meetings have outcomes: those of the event's current schedule; those the latest
re-plan dropped (`changes.dropped_meetings`: a no-show or a cancellation is exactly what
one records for them); and any pair that already has a record, so that a record made
before a later re-plan can still be read and corrected. A pair the event never scheduled
has no outcome.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal
from zoneinfo import ZoneInfo

from models.events import Event, EventValidationError, Participant, parse_event
from models.outcomes import DEFAULT_FOLLOW_UP_MONTHS, pair_of
from service.auth import Principal
from service.errors import Forbidden, NotFound
from service.events import agenda
from service.events import service as events
from service.store.db import Session
from service.store.tables import UUID_LEN, EventRow

MeetingStatus = Literal["scheduled", "dropped", "earlier"]
"""In the current schedule; dropped by its latest re-plan; in neither but recorded before
(an earlier schedule's meeting)."""


@dataclass(frozen=True)
class Scope:
    """An event as the caller may see its outcomes. `mine`: the participants the caller
    stands for (a member's; empty for organizers and admins, who see every side)."""

    row: EventRow
    event: Event
    caller: Principal
    organizer: bool
    mine: frozenset[str]

    def may_see(self, side: str) -> bool:
        """Whether the caller may read (and record) this participant's side."""
        return self.organizer or side in self.mine

    def require_side(self, side: str) -> None:
        if not self.may_see(side):
            raise Forbidden(
                "a member records and reads only its own side of its own meetings; "
                f"'{side[:128]}' is not yours"
            )

    def participant(self, pid: str) -> Participant:
        return self.event.participant(pid) if self.event.has_participant(pid) else Participant(pid)


def scope(session: Session, caller: Principal, event_id: str) -> Scope:
    """The event's outcomes as `caller` may see them; 404 for an event that is not the
    caller's (another organizer's, or one a member does not take part in)."""
    if caller.role == "member":
        m = agenda.membership(session, caller, event_id)
        return Scope(m.row, m.event, caller, False, m.mine)
    row = events.get(session, caller, event_id)
    try:
        event = parse_event(row.data)
    except EventValidationError as exc:  # stored events are validated on every write
        raise NotFound.for_id("event", event_id, UUID_LEN) from exc
    return Scope(row, event, caller, True, frozenset())


@dataclass(frozen=True)
class MeetingRef:
    """A meeting that may have outcomes: its pair in canonical order, where and when it
    was (None when unknown), and whether it is still in the schedule."""

    a: str
    b: str
    slot: int | None
    table: str | None
    status: MeetingStatus
    start: dt.datetime | None

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b)

    def other(self, side: str) -> str:
        return self.b if side == self.a else self.a


def _start(event: Event, slot: int | None) -> dt.datetime | None:
    times = event.slot_times or ()
    if slot is None or not 0 <= slot < len(times):
        return None
    return times[slot].start


def _pair(raw: object) -> tuple[str, str, int | None, str | None] | None:
    if not isinstance(raw, dict):
        return None
    a, b = raw.get("a"), raw.get("b")
    if not isinstance(a, str) or not isinstance(b, str) or a == b:
        return None
    slot = raw.get("slot")
    table = raw.get("table")
    return (
        a,
        b,
        slot if isinstance(slot, int) and not isinstance(slot, bool) else None,
        table if isinstance(table, str) else None,
    )


def meetings(
    scope: Scope, recorded: Iterable[tuple[str, str]] = ()
) -> dict[tuple[str, str], MeetingRef]:
    """Every meeting of the event that may have outcomes (see the module docstring), by
    pair, in slot order; `recorded` are the pairs that already have records."""
    schedule = scope.row.schedule or {}
    found: dict[tuple[str, str], MeetingRef] = {}

    def add(raw: object, status: MeetingStatus) -> None:
        parts = _pair(raw)
        if parts is None:
            return
        a, b, slot, table = parts
        pair = pair_of(a, b)
        if pair not in found:
            found[pair] = MeetingRef(*pair, slot, table, status, _start(scope.event, slot))

    for raw in schedule.get("meetings") or ():
        add(raw, "scheduled")
    changes = schedule.get("changes")
    if isinstance(changes, dict):
        for raw in changes.get("dropped_meetings") or ():
            add(raw, "dropped")
    for a, b in recorded:
        if (a, b) not in found:
            found[(a, b)] = MeetingRef(a, b, None, None, "earlier", None)
    order = sorted(
        found.values(), key=lambda m: (m.slot is None, m.slot or 0, m.table or "", m.pair)
    )
    return {m.pair: m for m in order}


def meeting(scope: Scope, pair: tuple[str, str], recorded: bool) -> MeetingRef | None:
    """The one meeting of `pair` (canonical) that may have outcomes, as `meetings` would
    find it, without building the others (what recording one outcome needs);
    `recorded`: whether the pair already has records."""
    schedule = scope.row.schedule or {}
    changes = schedule.get("changes")
    dropped = changes.get("dropped_meetings") if isinstance(changes, dict) else None
    sources: tuple[tuple[object, MeetingStatus], ...] = (
        (schedule.get("meetings"), "scheduled"),
        (dropped, "dropped"),
    )
    a, b = pair
    for listed, status in sources:
        for raw in listed if isinstance(listed, list) else ():
            if not isinstance(raw, dict) or {raw.get("a"), raw.get("b")} != {a, b}:
                continue
            parts = _pair(raw)
            if parts is not None:
                slot, table = parts[2], parts[3]
                return MeetingRef(a, b, slot, table, status, _start(scope.event, slot))
    return MeetingRef(a, b, None, None, "earlier", None) if recorded else None


def visible(scope: Scope, refs: Iterable[MeetingRef]) -> list[MeetingRef]:
    """The meetings the caller may see: all for organizers, a member's own ones."""
    return [m for m in refs if scope.organizer or m.a in scope.mine or m.b in scope.mine]


def sides(scope: Scope, ref: MeetingRef) -> list[str]:
    """The sides of a meeting the caller may see, a then b."""
    return [s for s in ref.pair if scope.may_see(s)]


def event_day(scope: Scope) -> tuple[dt.date, Literal["slot_times", "created_at"]]:
    """The day follow-up rounds count from: the first slot's day in the event's time zone,
    else (an event without clock times) the day the event was created, in UTC."""
    times = scope.event.slot_times or ()
    if times:
        return times[0].start.astimezone(ZoneInfo(scope.event.timezone)).date(), "slot_times"
    created = scope.row.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return created.astimezone(dt.UTC).date(), "created_at"


def follow_up_months(scope: Scope) -> tuple[int, ...]:
    return tuple(scope.event.follow_up_months or DEFAULT_FOLLOW_UP_MONTHS)
