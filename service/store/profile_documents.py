"""Stored profiles read as documents, for merging and exports: a stream over all (or the
filtered) profiles in key order, a batch at a time, and the documents of a set of ids."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.chunks import chunked
from service.store.tables import ProfileRow

BATCH = 2_000


def stream(
    session: Session,
    *,
    kinds: Sequence[str] | None = None,
    countries: Sequence[str] | None = None,
    cluster: str | None = None,
    limit: int | None = None,
) -> Iterator[dict[str, Any]]:
    """The stored documents passing the filters, in key order, read `BATCH` rows at a
    time by key range (never the whole table in memory, and no server-side cursor that a
    write in the same session would close)."""
    after = 0
    left = limit
    while left is None or left > 0:
        stmt = select(ProfileRow.pk, ProfileRow.data).where(ProfileRow.pk > after)
        if kinds:
            stmt = stmt.where(ProfileRow.kind.in_(kinds))
        if countries:
            stmt = stmt.where(ProfileRow.country.in_(countries))
        if cluster:
            stmt = stmt.where(ProfileRow.cluster == cluster)
        size = BATCH if left is None else min(BATCH, left)
        rows = session.execute(stmt.order_by(ProfileRow.pk).limit(size)).all()
        if not rows:
            return
        for _, data in rows:
            yield dict(data)
        after = rows[-1][0]
        if left is not None:
            left -= len(rows)


def documents(session: Session, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
    """id -> stored document, for the stored ones among `ids`."""
    out: dict[str, dict[str, Any]] = {}
    for part in chunked(list(ids)):
        rows = session.execute(
            select(ProfileRow.id, ProfileRow.data).where(ProfileRow.id.in_(part))
        )
        out.update({i: dict(d) for i, d in rows})
    return out
