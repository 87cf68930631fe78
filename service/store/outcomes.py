"""Meeting outcomes and follow-ups: the SQL of service.outcomes. Rows are only ever added
(a correction is a new row); reads hand back models.outcomes records oldest first, so
models.outcomes.current picks the ones in force and the rest is the history. Callers own
the transaction."""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.outcomes import FollowUp, MeetingOutcome
from service.store.chunks import chunked
from service.store.tables import ApiKeyRow, FollowUpRow, MeetingOutcomeRow, UserRow


def add_outcome(session: Session, record: MeetingOutcome) -> MeetingOutcomeRow:
    row = MeetingOutcomeRow(
        event_id=record.event_id,
        a=record.a,
        b=record.b,
        side=record.side,
        attendance=record.attendance,
        no_show=list(record.no_show),
        interest=record.interest,
        next_step=record.next_step,
        note=record.note,
        recorded_by=record.recorded_by,
        source=record.source,
    )
    if record.recorded_at is not None:
        row.recorded_at = record.recorded_at
    session.add(row)
    session.flush()
    return row


def add_follow_up(session: Session, record: FollowUp) -> FollowUpRow:
    row = FollowUpRow(
        event_id=record.event_id,
        a=record.a,
        b=record.b,
        side=record.side,
        months=record.months,
        stage=record.stage,
        amount_yen=record.amount_yen,
        note=record.note,
        recorded_by=record.recorded_by,
        source=record.source,
    )
    if record.recorded_at is not None:
        row.recorded_at = record.recorded_at
    session.add(row)
    session.flush()
    return row


def outcome_of(row: MeetingOutcomeRow) -> MeetingOutcome:
    return MeetingOutcome(
        event_id=row.event_id,
        a=row.a,
        b=row.b,
        side=row.side,
        attendance=row.attendance,  # type: ignore[arg-type]
        no_show=tuple(row.no_show or ()),
        interest=row.interest,  # type: ignore[arg-type]
        next_step=row.next_step,  # type: ignore[arg-type]
        note=row.note,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        source=row.source,  # type: ignore[arg-type]
    )


def follow_up_of(row: FollowUpRow) -> FollowUp:
    return FollowUp(
        event_id=row.event_id,
        a=row.a,
        b=row.b,
        side=row.side,
        months=row.months,
        stage=row.stage,  # type: ignore[arg-type]
        amount_yen=row.amount_yen,
        note=row.note,
        recorded_at=row.recorded_at,
        recorded_by=row.recorded_by,
        source=row.source,  # type: ignore[arg-type]
    )


def outcomes_for(
    session: Session, event_ids: Collection[str] | None = None
) -> list[MeetingOutcome]:
    """Every outcome record (history included) of the given events, or of all events,
    oldest first."""
    stmt = select(MeetingOutcomeRow).order_by(MeetingOutcomeRow.pk)
    if event_ids is None:
        return [outcome_of(r) for r in session.scalars(stmt)]
    rows: list[MeetingOutcomeRow] = []
    for part in chunked(sorted(event_ids)):
        rows += session.scalars(stmt.where(MeetingOutcomeRow.event_id.in_(part)))
    return [outcome_of(r) for r in sorted(rows, key=lambda r: r.pk)]


def follow_ups_for(session: Session, event_ids: Collection[str] | None = None) -> list[FollowUp]:
    """Every follow-up record (history included) of the given events, or of all events,
    oldest first."""
    stmt = select(FollowUpRow).order_by(FollowUpRow.pk)
    if event_ids is None:
        return [follow_up_of(r) for r in session.scalars(stmt)]
    rows: list[FollowUpRow] = []
    for part in chunked(sorted(event_ids)):
        rows += session.scalars(stmt.where(FollowUpRow.event_id.in_(part)))
    return [follow_up_of(r) for r in sorted(rows, key=lambda r: r.pk)]


def recorded_pairs(session: Session, event_id: str) -> set[tuple[str, str]]:
    """The pairs of the event that have an outcome or a follow-up record."""
    found: set[tuple[str, str]] = set()
    for table in (MeetingOutcomeRow, FollowUpRow):
        stmt = select(table.a, table.b).where(table.event_id == event_id).distinct()
        found.update((a, b) for a, b in session.execute(stmt))
    return found


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
