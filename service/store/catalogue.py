"""The stored profiles as the engine indexes them: (key, profile, content hash)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np
from sqlalchemy import ScalarResult, select
from sqlalchemy.orm import Session

from models.profile import Profile, digest_of
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


def stored_digests(session: Session) -> tuple[np.ndarray, np.ndarray]:
    """Every stored profile's key and content hash (as 32 raw bytes), by key: what a
    startup compares with the saved records, without reading a profile."""
    rows = session.execute(
        select(ProfileRow.pk, ProfileRow.content_hash).order_by(ProfileRow.pk)
    ).all()
    pks = np.fromiter((pk for pk, _ in rows), dtype=np.int64, count=len(rows))
    raw = b"".join(digest_of(h) for _, h in rows)
    return pks, np.frombuffer(raw, dtype=np.uint8).reshape(len(rows), 32).copy()
