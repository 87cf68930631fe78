"""Meeting outcomes and follow-ups: the SQL of service.outcomes. Rows are only ever added
(a correction is a new row); reads hand back models.outcomes records oldest first, so
models.outcomes.current picks the ones in force and the rest is the history. Callers own
the transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from models.outcomes import FollowUp, MeetingOutcome
from service.store.chunks import chunked
from service.store.tables import ApiKeyRow, FollowUpRow, MeetingOutcomeRow, UserRow, utcnow


def add_outcome(session: Session, record: MeetingOutcome) -> MeetingOutcomeRow:
    row = MeetingOutcomeRow(**_outcome_values(record))
    session.add(row)
    session.flush()
    return row


def add_follow_up(session: Session, record: FollowUp) -> FollowUpRow:
    row = FollowUpRow(**_follow_up_values(record))
    session.add(row)
    session.flush()
    return row


def add_many(
    session: Session, outcomes: Iterable[MeetingOutcome], follow_ups: Iterable[FollowUp]
) -> None:
    """Append many records at once (a sheet import): one executemany per table, without
    ORM objects, which cost more than the inserts themselves; one `recorded_at` for all."""
    now = utcnow()
    for table, rows in (
        (MeetingOutcomeRow, [_outcome_values(r) for r in outcomes]),
        (FollowUpRow, [_follow_up_values(r) for r in follow_ups]),
    ):
        if rows:
            session.execute(insert(table), [{"recorded_at": now, **row} for row in rows])


def _outcome_values(record: MeetingOutcome) -> dict[str, Any]:
    values: dict[str, Any] = {
        "event_id": record.event_id,
        "a": record.a,
        "b": record.b,
        "side": record.side,
        "attendance": record.attendance,
        "no_show": list(record.no_show),
        "interest": record.interest,
        "next_step": record.next_step,
        "note": record.note,
        "recorded_by": record.recorded_by,
        "source": record.source,
    }
    if record.recorded_at is not None:
        values["recorded_at"] = record.recorded_at
    return values


def _follow_up_values(record: FollowUp) -> dict[str, Any]:
    values: dict[str, Any] = {
        "event_id": record.event_id,
        "a": record.a,
        "b": record.b,
        "side": record.side,
        "months": record.months,
        "stage": record.stage,
        "amount_yen": record.amount_yen,
        "note": record.note,
        "recorded_by": record.recorded_by,
        "source": record.source,
    }
    if record.recorded_at is not None:
        values["recorded_at"] = record.recorded_at
    return values


def outcome_of(row: MeetingOutcomeRow) -> MeetingOutcome:
    return _outcome(row)


def follow_up_of(row: FollowUpRow) -> FollowUp:
    return _follow_up(row)


def _outcome(row: Any) -> MeetingOutcome:
    """A record from a MeetingOutcomeRow or a plain result row of its columns."""
    return MeetingOutcome(
        event_id=row.event_id,
        a=row.a,
        b=row.b,
        side=row.side,
        attendance=row.attendance,
        no_show=tuple(row.no_show or ()),
        interest=row.interest,
        next_step=row.next_step,
        note=row.note,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        source=row.source,
    )


def _follow_up(row: Any) -> FollowUp:
    return FollowUp(
        event_id=row.event_id,
        a=row.a,
        b=row.b,
        side=row.side,
        months=row.months,
        stage=row.stage,
        amount_yen=row.amount_yen,
        note=row.note,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        source=row.source,
    )


def _records(
    session: Session, table: Any, event_ids: Collection[str] | None, make: Any
) -> list[Any]:
    """The rows of `table` (of the given events, or all), oldest first, as records. Plain
    column rows, not ORM objects: an event's history can be tens of thousands of rows,
    and building mapped objects for them cost more than the query."""
    stmt = select(*table.__table__.columns).order_by(table.pk)
    if event_ids is None:
        return [make(r) for r in session.execute(stmt)]
    rows: list[Any] = []
    for part in chunked(sorted(event_ids)):
        rows += session.execute(stmt.where(table.event_id.in_(part)))
    return [make(r) for r in sorted(rows, key=lambda r: r.pk)]


def outcomes_for(
    session: Session, event_ids: Collection[str] | None = None
) -> list[MeetingOutcome]:
    """Every outcome record (history included) of the given events, or of all events,
    oldest first."""
    found: list[MeetingOutcome] = _records(session, MeetingOutcomeRow, event_ids, _outcome)
    return found


def follow_ups_for(session: Session, event_ids: Collection[str] | None = None) -> list[FollowUp]:
    """Every follow-up record (history included) of the given events, or of all events,
    oldest first."""
    found: list[FollowUp] = _records(session, FollowUpRow, event_ids, _follow_up)
    return found


def recorded_pairs(session: Session, event_id: str) -> set[tuple[str, str]]:
    """The pairs of the event that have an outcome or a follow-up record."""
    found: set[tuple[str, str]] = set()
    for table in (MeetingOutcomeRow, FollowUpRow):
        stmt = select(table.a, table.b).where(table.event_id == event_id).distinct()
        found.update((a, b) for a, b in session.execute(stmt))
    return found


def pair_recorded(session: Session, event_id: str, pair: tuple[str, str]) -> bool:
    """Whether the event's pair (canonical) has an outcome or a follow-up record."""
    a, b = pair
    for table in (MeetingOutcomeRow, FollowUpRow):
        stmt = select(table.pk).where(table.event_id == event_id, table.a == a, table.b == b)
        if session.execute(stmt.limit(1)).first() is not None:
            return True
    return False


def outcomes_of_event(session: Session, event_id: str) -> list[MeetingOutcome]:
    """One event's outcome records, history included, oldest first."""
    return outcomes_for(session, [event_id])


def follow_ups_of_event(session: Session, event_id: str) -> list[FollowUp]:
    """One event's follow-up records, history included, oldest first."""
    return follow_ups_for(session, [event_id])


@dataclass(frozen=True)
class Recorder:
    """Who a `recorded_by` tag names: an API key (its name and role) or a console user
    (display name, or e-mail when it has none, and role)."""

    tag: str
    kind: str
    name: str
    role: str


def recorders(session: Session, tags: Iterable[str]) -> dict[str, Recorder]:
    """The keys and users that `recorded_by` tags ("key:<pk>", "user:<pk>") name; a tag
    whose key or user no longer exists is left out."""
    keys_wanted: dict[int, str] = {}
    users_wanted: dict[int, str] = {}
    for tag in set(tags):
        kind, _, number = tag.partition(":")
        if not number.isdigit() or len(number) > 18:
            continue
        if kind == "key":
            keys_wanted[int(number)] = tag
        elif kind == "user":
            users_wanted[int(number)] = tag
    out: dict[str, Recorder] = {}
    for part in chunked(sorted(keys_wanted)):
        for pk, name, role in session.execute(
            select(ApiKeyRow.pk, ApiKeyRow.name, ApiKeyRow.role).where(ApiKeyRow.pk.in_(part))
        ):
            tag = keys_wanted[pk]
            out[tag] = Recorder(tag, "key", name, role)
    for part in chunked(sorted(users_wanted)):
        for pk, name, email, role in session.execute(
            select(UserRow.pk, UserRow.display_name, UserRow.email, UserRow.role).where(
                UserRow.pk.in_(part)
            )
        ):
            tag = users_wanted[pk]
            out[tag] = Recorder(tag, "user", name or email, role)
    return out
