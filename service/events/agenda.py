"""A member firm's side of events: the events it takes part in (a participant whose
`profile_id` is the member's own profile, by the API's `Principal.owns`), and its agenda
once the event is scheduled: its own meetings only, with the clock times of the event's
time zone, the table, the partner and the suggestion's reason where there is one.

A member sees an event it does not take part in as an event that does not exist (404),
as the API treats an organizer asking for another organizer's event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from models.events import Event, EventValidationError, Participant, parse_event, parse_previous
from service.auth import Principal
from service.errors import NotFound
from service.store import events as event_rows
from service.store import participation
from service.store.db import Session
from service.store.tables import UUID_LEN, EventRow

MAX_MEMBER_EVENTS = 500


@dataclass(frozen=True)
class Membership:
    """An event as one member sees it: the row, the parsed event, the member's first
    participant (`me`, whose wishes the member sends) and all of its participants."""

    row: EventRow
    event: Event
    me: Participant
    mine: frozenset[str]

    @property
    def scheduled(self) -> bool:
        return self.row.schedule is not None


def own_participants(event: Event, caller: Principal) -> list[Participant]:
    """The event's participants that stand for the caller's own profile."""
    return [p for p in event.participants if p.profile_id and caller.owns(p.profile_id)]


def _membership(row: EventRow, caller: Principal) -> Membership | None:
    try:
        event = parse_event(row.data)
    except EventValidationError:  # stored events are validated; an old one may not be
        return None
    mine = own_participants(event, caller)
    if not mine:
        return None
    return Membership(row, event, mine[0], frozenset(p.id for p in mine))


def my_events(session: Session, caller: Principal) -> list[Membership]:
    """The events the caller (a member) takes part in, oldest first."""
    caller.require("member")
    if not caller.profile_id:
        return []
    rows = participation.events_naming(session, caller.profile_id, MAX_MEMBER_EVENTS)
    found = (_membership(row, caller) for row in rows)
    return [m for m in found if m is not None]


def membership(
    session: Session, caller: Principal, event_id: str, *, for_update: bool = False
) -> Membership:
    """One event the caller (a member) takes part in; 404 for any other. `for_update`
    locks the row for a change of the member's own wishes."""
    caller.require("member")
    row: EventRow | None = None
    if len(event_id) <= UUID_LEN:
        row = (
            participation.event_for_update(session, event_id)
            if for_update
            else event_rows.get(session, event_id)
        )
    found = _membership(row, caller) if row is not None else None
    if found is None:
        raise NotFound.for_id("event", event_id, UUID_LEN)
    return found


# ---------------------------------------------------------------------------- agenda


@dataclass(frozen=True)
class AgendaItem:
    """One of the member's meetings. `start` / `end` are in the event's time zone (None
    when the event has no slot times); `partner` is the other participant."""

    slot: int
    start: datetime | None
    end: datetime | None
    table: str | None
    table_name: str | None
    partner: Participant
    mine: str
    reason: str


def _reasons(event: Event) -> dict[frozenset[str], str]:
    return {frozenset((s.a, s.b)): s.reason for s in event.suggestions if s.reason}


def agenda(m: Membership) -> list[AgendaItem] | None:
    """The member's meetings in slot order; None while the event has no schedule."""
    schedule: dict[str, Any] | None = m.row.schedule
    if schedule is None:
        return None
    try:
        meetings, _ = parse_previous(schedule.get("meetings", []))
    except EventValidationError:
        return None
    event, reasons = m.event, _reasons(m.event)
    tables = {t.id: t for t in event.tables}
    slot_times, zone = event.slot_times or (), ZoneInfo(event.timezone)
    items: list[AgendaItem] = []
    for meeting in meetings:
        if meeting.a in m.mine:
            own, other = meeting.a, meeting.b
        elif meeting.b in m.mine:
            own, other = meeting.b, meeting.a
        else:
            continue
        partner = event.participant(other) if event.has_participant(other) else Participant(other)
        times = slot_times[meeting.slot] if 0 <= meeting.slot < len(slot_times) else None
        table = tables.get(meeting.table) if meeting.table else None
        items.append(
            AgendaItem(
                slot=meeting.slot,
                start=times.start.astimezone(zone) if times else None,
                end=times.end.astimezone(zone) if times else None,
                table=meeting.table,
                table_name=table.name if table is not None else None,
                partner=partner,
                mine=own,
                reason=reasons.get(frozenset((own, other)), ""),
            )
        )
    items.sort(key=lambda i: (i.slot, i.table or ""))
    return items


def first_start(event: Event) -> datetime | None:
    """When the event begins (its first slot), in its time zone."""
    times = event.slot_times or ()
    return times[0].start.astimezone(ZoneInfo(event.timezone)) if times else None


def last_end(event: Event) -> datetime | None:
    """When the event ends (its last slot), in its time zone."""
    times = event.slot_times or ()
    return times[-1].end.astimezone(ZoneInfo(event.timezone)) if times else None
