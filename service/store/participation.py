"""What a member firm's view of events reads and writes: the events that name its profile
among their participants, an event row locked for a participant's own change, and the
few columns of the profiles an agenda names.

Events keep their participants inside the JSON document (no participants table), so
`events_naming` narrows by the document's text (the quoted profile id must occur in it)
and the caller confirms each row by reading its participants. That is a scan of the
events table without an index: fine for the hundreds of events a cluster office holds;
a participants table (or a PostgreSQL JSON index) would be the next step at far larger
counts.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Text, cast, select
from sqlalchemy.orm import Session

from service.store.chunks import chunked
from service.store.tables import EventRow, ProfileRow


def _like_literal(text: str) -> str:
    """`text` with LIKE's wildcards escaped (escape character: backslash)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def events_naming(session: Session, profile_id: str, limit: int) -> Sequence[EventRow]:
    """Events whose document contains the JSON string `profile_id` anywhere (a superset
    of those with a participant of that profile: the caller checks), oldest first."""
    needle = _like_literal(json.dumps(profile_id))
    stmt = (
        select(EventRow)
        .where(cast(EventRow.data, Text).like(f"%{needle}%", escape="\\"))
        .order_by(EventRow.created_at, EventRow.id)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def event_for_update(session: Session, event_id: str) -> EventRow | None:
    """The event row, locked until the transaction ends where the database can lock rows
    (PostgreSQL; SQLite serialises writers anyway), read afresh from the database."""
    stmt = (
        select(EventRow)
        .where(EventRow.id == event_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    )
    return session.scalars(stmt).first()


@dataclass(frozen=True)
class ProfileCard:
    """What an agenda or a list of participants shows of an organization."""

    id: str
    name: str
    kind: str
    country: str | None


def profile_cards(session: Session, ids: Iterable[str]) -> dict[str, ProfileCard]:
    """id -> card of the stored profiles among `ids`."""
    out: dict[str, ProfileCard] = {}
    for part in chunked(sorted(set(ids))):
        rows = session.execute(
            select(ProfileRow.id, ProfileRow.name, ProfileRow.kind, ProfileRow.country).where(
                ProfileRow.id.in_(part)
            )
        )
        out.update({i: ProfileCard(i, n, k, c) for i, n, k, c in rows})
    return out
