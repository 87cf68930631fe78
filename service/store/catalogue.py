"""The stored profiles as the engine indexes them: (key, profile, content hash)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

from sqlalchemy import ScalarResult, select
from sqlalchemy.orm import Session

from models.profile import Profile
from service.store.chunks import chunked
from service.store.tables import ProfileRow

StoredProfile = tuple[int, Profile, str]
"""A stored profile: its key, the profile, and its content hash."""


def stored_profiles(session: Session, pks: Sequence[int] | None = None) -> Iterator[StoredProfile]:
    """Every stored profile (`pks`: only these keys), by key."""
    stmt = select(ProfileRow).order_by(ProfileRow.pk)
    if pks is None:
        batches: Iterable[ScalarResult[ProfileRow]] = [
            session.scalars(stmt.execution_options(yield_per=2000))
        ]
    else:
        batches = (session.scalars(stmt.where(ProfileRow.pk.in_(c))) for c in chunked(pks))
    for batch in batches:
        for row in batch:
            yield row.pk, Profile.model_validate(row.data), row.content_hash
