"""Programmes and their reports (the figures themselves are models.reports').

Who owns and sees what:

- A programme (a cluster's matching programme in one fiscal year, with its targets)
  belongs to the office of the key or user that created it (`office`, as events do;
  `owner_key` says who). Organizers create, change and delete their office's programmes
  and list them; admins all of them. Another office's programme is a 404, as one that
  does not exist; members get 403. Names are unique per fiscal year across offices
  (events name the programme they report to).
- Programme-level reports are for organizers and admins. An organizer's report counts
  its office's events (whatever programme they report to): an event's figures belong to
  the office that runs the event, and a programme's name alone, which any event may
  carry, gives no right to another office's events. Admins count every event. The
  targets a report holds figures against are those of the programmes of the report's
  year that the caller's office owns or that its events report to.
- The figures of a single organization are for admins and for that organization (a
  member key bound to its profile); organizers get 403 there. They are built from that
  organization's own records only (its side's outcomes and follow-ups): the other
  side's view of a meeting is private to that side and the organizer.

Functions take a session and never commit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models import reports as figures
from models.events import EventValidationError, parse_event, parse_previous
from models.events.model import Event, Meeting
from models.outcomes import FollowUp, MeetingOutcome
from models.reports import EventInput, GroupBy, Report, Targets, fiscal_year
from service.auth import Principal
from service.errors import Conflict, Forbidden, NotFound, PayloadTooLarge, ValidationFailed
from service.store import events as event_rows
from service.store import outcomes as outcome_rows
from service.store import participation
from service.store import programs as repo
from service.store.db import Session
from service.store.tables import UUID_LEN, EventRow, ProgramRow, utcnow

MAX_NAME = 200
MAX_PROGRAMS = 500
"""Programmes per office."""
MAX_TARGET = 10_000_000
MIN_YEAR = 2000
MAX_YEAR = 2100
MAX_EVENTS = 5_000
"""Events one report reads (two fiscal years of a cluster office hold far fewer)."""
MAX_EVENT_ID = UUID_LEN
TOKYO = ZoneInfo("Asia/Tokyo")

ORGANIZATION_GROUPS: tuple[str, ...] = (
    "total",
    "event",
    "fiscal_year",
    "quarter",
    "month",
    "kind_pair",
    "country_pair",
)
"""How an organization's own report may be grouped (not by programme: it is one
organization's, whatever programme each event reports to)."""


def _invalid(field: str, code: str, reason: str) -> ValidationFailed:
    return ValidationFailed(reason, errors=[{"field": field, "reason": reason, "code": code}])


def current_fiscal_year(today: dt.date | None = None) -> int:
    """The fiscal year of today in Japan."""
    return fiscal_year(today or dt.datetime.now(TOKYO).date())


def clean_name(name: str) -> str:
    value = name.strip()
    if not value or len(value) > MAX_NAME:
        raise _invalid("name", "program.name", f"1 to {MAX_NAME} characters")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in value):
        raise _invalid("name", "program.name", "no control characters")
    return value


def check_year(year: int, field: str = "fiscal_year") -> int:
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise _invalid(field, "program.fiscal_year", f"a year from {MIN_YEAR} to {MAX_YEAR}")
    return year


# --- programmes ------------------------------------------------------------------------


def _office(caller: Principal) -> str | None:
    """The office whose programmes and events the caller reads (None: every office)."""
    return None if caller.is_admin() else caller.office


def _visible(caller: Principal, row: ProgramRow | None, pk: int) -> ProgramRow:
    if row is None or not caller.runs(row.office):
        raise NotFound(f"no program with id {pk}")
    return row


def get_program(session: Session, caller: Principal, pk: int) -> ProgramRow:
    caller.require("admin", "organizer")
    return _visible(caller, repo.get(session, pk), pk)


def list_programs(
    session: Session, caller: Principal, year: int | None = None
) -> Sequence[ProgramRow]:
    """The programmes of the caller's office (every programme for admins), newest year
    first."""
    caller.require("admin", "organizer")
    if year is not None:
        check_year(year)
    return repo.listing(session, _office(caller), year)


def _unique(session: Session, name: str, year: int, pk: int | None = None) -> None:
    same = repo.by_name_year(session, name, year)
    if same is not None and same.pk != pk:
        raise Conflict(f"a program '{name}' for FY{year} exists already")


def create_program(
    session: Session, caller: Principal, name: str, year: int, targets: dict[str, int]
) -> ProgramRow:
    caller.require("admin", "organizer")
    name, year = clean_name(name), check_year(year)
    if repo.count_of(session, caller.office) >= MAX_PROGRAMS:
        raise Conflict(f"at most {MAX_PROGRAMS} programs per office: delete old ones first")
    _unique(session, name, year)
    row = ProgramRow(
        name=name,
        fiscal_year=year,
        targets=targets,
        owner_key=caller.key_pk,
        office=caller.office,
    )
    return repo.add(session, row)


def update_program(
    session: Session,
    caller: Principal,
    pk: int,
    name: str,
    year: int,
    targets: dict[str, int],
) -> ProgramRow:
    """Replace a programme's name, year and targets (its owner stays)."""
    row = get_program(session, caller, pk)
    name, year = clean_name(name), check_year(year)
    _unique(session, name, year, pk)
    row.name, row.fiscal_year, row.targets = name, year, dict(targets)
    row.updated_at = utcnow()
    session.flush()
    return row


def delete_program(session: Session, caller: Principal, pk: int) -> None:
    repo.remove(session, get_program(session, caller, pk))


# --- reports ---------------------------------------------------------------------------


def event_date(event: Event, row: EventRow) -> dt.date:
    """The day an event took place: its first slot's, in its time zone; without slot
    times, the day it was created (in Japan)."""
    if event.slot_times:
        try:
            zone = ZoneInfo(event.timezone)
        except (ZoneInfoNotFoundError, ValueError):
            zone = TOKYO
        return event.slot_times[0].start.astimezone(zone).date()
    created = row.created_at
    if created.tzinfo is None:
        created = created.replace(tzinfo=dt.UTC)
    return created.astimezone(TOKYO).date()


@dataclass(frozen=True)
class Scope:
    """What one report reads."""

    events: list[EventInput]
    outcomes: list[MeetingOutcome]
    follow_ups: list[FollowUp]


def _event_of(row: EventRow) -> Event | None:
    try:
        event = parse_event(row.data)
    except EventValidationError:
        return None  # a stored event always parses; an unreadable one counts for nothing
    return dataclasses.replace(event, id=row.id, name=row.name)


def _meetings(row: EventRow) -> list[Meeting]:
    if not row.schedule:
        return []
    try:
        meetings, _ = parse_previous(row.schedule)
    except EventValidationError:
        return []
    return meetings


def _inputs(session: Session, rows: Iterable[EventRow], years: set[int]) -> list[EventInput]:
    parsed = [(row, e) for row in rows if (e := _event_of(row)) is not None]
    dated = [(row, e, event_date(e, row)) for row, e in parsed]
    dated = [(row, e, d) for row, e, d in dated if fiscal_year(d) in years]
    profile_ids = {p.profile_id for _, e, _ in dated for p in e.participants if p.profile_id}
    cards = participation.profile_cards(session, profile_ids)
    out = []
    for row, e, day in dated:
        kinds: dict[str, str] = {}
        countries: dict[str, str] = {}
        for p in e.participants:
            card = cards.get(p.profile_id or "")
            if card is not None:
                kinds[p.id] = card.kind
                if card.country:
                    countries[p.id] = card.country
        out.append(EventInput(e, day, _meetings(row), kinds, countries))
    return out


def _scope(session: Session, inputs: list[EventInput]) -> Scope:
    ids = [e.id for e in inputs]
    return Scope(
        inputs, outcome_rows.outcomes_for(session, ids), outcome_rows.follow_ups_for(session, ids)
    )


def _targets(
    session: Session, caller: Principal, year: int, names: set[str], program: str | None
) -> dict[str, Targets]:
    out: dict[str, Targets] = {}
    for row in repo.listing(session, None, year):
        mine = caller.runs(row.office) or row.name in names
        if mine and (program is None or row.name == program):
            out[row.name] = Targets.of(row.targets)
    return out


def _all_events(session: Session, office: str | None) -> Sequence[EventRow]:
    """Every event of an office (all events for None); refused past MAX_EVENTS rather
    than counting only some of them."""
    rows = event_rows.listing(session, office, MAX_EVENTS + 1)
    if len(rows) > MAX_EVENTS:
        raise PayloadTooLarge(
            f"a report reads at most {MAX_EVENTS} events: report on one event (?event=)"
        )
    return rows


def program_report(
    session: Session,
    caller: Principal,
    year: int,
    by: GroupBy,
    program: str | None = None,
    event_id: str | None = None,
) -> Report:
    """The programme report of fiscal year `year` over the events of the caller's office
    (every event for admins), narrowed to one programme or one event when asked."""
    caller.require("admin", "organizer")
    check_year(year)
    if event_id is not None:
        row = event_rows.get(session, event_id) if len(event_id) <= UUID_LEN else None
        if row is None or not caller.runs(row.office):
            raise NotFound.for_id("event", event_id, UUID_LEN)
        rows: Sequence[EventRow] = [row]
    else:
        rows = _all_events(session, _office(caller))
    inputs = _inputs(session, rows, {year, year - 1})
    if program is not None:
        inputs = [e for e in inputs if e.event.program == program]
    scope = _scope(session, inputs)
    pairs = figures.pair_facts(scope.events, scope.outcomes, scope.follow_ups)
    names = {e.event.program for e in inputs if e.event.program}
    targets = _targets(session, caller, year, names, program) if event_id is None else {}
    return figures.report(by, year, pairs, pairs, targets, program)


def organization_report(
    session: Session, caller: Principal, profile_id: str, year: int, by: GroupBy
) -> Report:
    """One organization's own figures (from its own side's records) in every event it
    took part in: for admins and that organization only."""
    if not (caller.is_admin() or caller.owns(profile_id)):
        raise Forbidden(
            "the figures of a single organization are shown to admins and to that organization only"
        )
    check_year(year)
    if by not in ORGANIZATION_GROUPS:
        raise _invalid("by", "report.by", f"one of {', '.join(ORGANIZATION_GROUPS)}")
    rows = [
        row
        for row in participation.events_naming(session, profile_id, MAX_EVENTS)
        if any(p.get("profile_id") == profile_id for p in _participants(row))
    ]
    inputs = _inputs(session, rows, {year, year - 1})
    members = {
        (e.id, p.id) for e in inputs for p in e.event.participants if p.profile_id == profile_id
    }
    scope = _scope(session, inputs)
    own_outcomes = [o for o in scope.outcomes if (o.event_id, o.side) in members]
    own_follow_ups = [f for f in scope.follow_ups if (f.event_id, f.side) in members]
    pairs = figures.involving(
        figures.pair_facts(scope.events, own_outcomes, own_follow_ups), members
    )
    return figures.report(by, year, pairs, pairs, {}, None)


def _participants(row: EventRow) -> list[dict[str, Any]]:
    items = row.data.get("participants") if isinstance(row.data, dict) else None
    return [p for p in items or [] if isinstance(p, dict)]


def program_names(session: Session, caller: Principal, year: int) -> list[str]:
    """The programmes a caller can report on in a year: those its office's events of that
    year report to and those its office owns (every one for admins), for a page's
    choice."""
    caller.require("admin", "organizer")
    office = _office(caller)
    names = {
        e.event.program
        for e in _inputs(session, _all_events(session, office), {year})
        if e.event.program
    }
    names |= {row.name for row in repo.listing(session, office, year)}
    return sorted(names)
