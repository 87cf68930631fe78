"""Interaction rows: which keys are stored, bulk insert, and a profile's history."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from service.store.chunks import chunked
from service.store.tables import InteractionRow


def present_keys(session: Session, keys: Sequence[str]) -> set[str]:
    """The interaction keys among `keys` that are stored."""
    present: set[str] = set()
    for part in chunked(keys):
        present.update(
            session.scalars(select(InteractionRow.key).where(InteractionRow.key.in_(part)))
        )
    return present


def add_many(session: Session, rows: Iterable[InteractionRow]) -> None:
    session.add_all(rows)


def of_profile(session: Session, profile_id: str, limit: int) -> Sequence[InteractionRow]:
    """A profile's interactions, newest first."""
    return session.scalars(
        select(InteractionRow)
        .where(or_(InteractionRow.a == profile_id, InteractionRow.b == profile_id))
        .order_by(InteractionRow.pk.desc())
        .limit(limit)
    ).all()
