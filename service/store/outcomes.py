"""Meeting outcomes and follow-ups: the SQL of service.outcomes. Rows are only ever added
(a correction is a new row); reads hand back models.outcomes records oldest first, so
models.outcomes.current picks the ones in force and the rest is the history. Callers own
the transaction."""

from __future__ import annotations

from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from models.outcomes import FollowUp, MeetingOutcome
from service.store.chunks import chunked
from service.store.tables import FollowUpRow, MeetingOutcomeRow


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
