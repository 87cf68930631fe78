"""The interaction history as the engine's network reads it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import InteractionRow

Interaction = tuple[str, str, str, str, dt.date | None]
"""(profile id a, profile id b, kind, context, date)."""


def interactions(session: Session) -> Sequence[Interaction]:
    """Every stored interaction."""
    return (
        session.execute(
            select(
                InteractionRow.a,
                InteractionRow.b,
                InteractionRow.kind,
                InteractionRow.context,
                InteractionRow.at,
            )
        )
        .tuples()
        .all()
    )
