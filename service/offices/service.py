"""Moving what an office holds to another office (admins only; functions never commit).

A profile moves to an office or to none (the shared directory, which only admins write);
an event or a programme always belongs to one. A move changes who may manage the thing,
from the next request on, and nothing else: an event keeps its participants (of any
office), schedule, outcomes and creator (`owner_key`)."""

from __future__ import annotations

from service.auth import Principal, clean_office
from service.errors import ValidationFailed
from service.events import service as events
from service.profiles import service as profiles
from service.reports import service as reports
from service.store.db import Session
from service.store.tables import EventRow, ProfileRow, ProgramRow, utcnow


def office_name(office: str | None) -> str:
    """The office's name as stored (service.auth.clean_office); 422 naming the field for
    none, a blank one, or one that is not a name."""
    if office is None or not office.strip():
        raise ValidationFailed(
            "an office is required", errors=[{"field": "office", "reason": "is required"}]
        )
    try:
        return clean_office(office)
    except ValueError as exc:
        raise ValidationFailed(
            "invalid office", errors=[{"field": "office", "reason": str(exc)}]
        ) from exc


def move_profile(
    session: Session, caller: Principal, profile_id: str, office: str | None
) -> ProfileRow:
    """Put the profile in `office` (None: the shared directory)."""
    caller.require("admin")
    row = profiles.get(session, profile_id)
    row.office = None if office is None else office_name(office)
    session.flush()
    return row


def move_event(session: Session, caller: Principal, event_id: str, office: str | None) -> EventRow:
    caller.require("admin")
    row = events.get(session, caller, event_id)
    row.office, row.updated_at = office_name(office), utcnow()
    session.flush()
    return row


def move_program(session: Session, caller: Principal, pk: int, office: str | None) -> ProgramRow:
    caller.require("admin")
    row = reports.get_program(session, caller, pk)
    row.office, row.updated_at = office_name(office), utcnow()
    session.flush()
    return row
