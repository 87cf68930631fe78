"""Event rows."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import EventRow


def get(session: Session, event_id: str) -> EventRow | None:
    return session.get(EventRow, event_id)


def add(session: Session, row: EventRow) -> None:
    """Store a new event; its defaults (creation time) are set on return."""
    session.add(row)
    session.flush()


def remove(session: Session, row: EventRow) -> None:
    session.delete(row)


def listing(session: Session, office: str | None, limit: int) -> Sequence[EventRow]:
    """Events in creation order: those of one office, or all of them (`office` None)."""
    stmt = select(EventRow).order_by(EventRow.created_at)
    if office is not None:
        stmt = stmt.where(EventRow.office == office)
    return session.scalars(stmt.limit(limit)).all()
