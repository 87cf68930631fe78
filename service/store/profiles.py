"""Profile rows: lookups by id and key, bulk writes, and the paged listing."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, or_, select, update
from sqlalchemy.orm import Session

from service.store.chunks import chunked
from service.store.tables import ProfileRow


def keys_of(session: Session, ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """id -> (key, content hash) of the stored profiles among `ids`."""
    out: dict[str, tuple[int, str]] = {}
    for part in chunked(ids):
        rows = session.execute(
            select(ProfileRow.id, ProfileRow.pk, ProfileRow.content_hash).where(
                ProfileRow.id.in_(part)
            )
        )
        out.update({i: (pk, h) for i, pk, h in rows})
    return out


def known_ids(session: Session, ids: Iterable[str]) -> set[str]:
    """The ids among `ids` that belong to stored profiles."""
    known: set[str] = set()
    for part in chunked(list(ids)):
        known.update(session.scalars(select(ProfileRow.id).where(ProfileRow.id.in_(part))))
    return known


def offices_of(session: Session, ids: Sequence[str]) -> dict[str, str | None]:
    """id -> office (None: no office) of the stored profiles among `ids`."""
    out: dict[str, str | None] = {}
    for part in chunked(list(ids)):
        rows = session.execute(
            select(ProfileRow.id, ProfileRow.office).where(ProfileRow.id.in_(part))
        )
        out.update({i: o for i, o in rows})
    return out


def outside_office(session: Session, office: str) -> dict[str, str | None]:
    """id -> office of every stored profile that is not of `office` (of another office or
    of none)."""
    stmt = select(ProfileRow.id, ProfileRow.office).where(
        or_(ProfileRow.office.is_(None), ProfileRow.office != office)
    )
    return {i: o for i, o in session.execute(stmt)}


def insert_many(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """A plain executemany: INSERT .. RETURNING over many rows grows quadratically on
    SQLite, so callers read the new keys back with `keys_of`."""
    session.execute(insert(ProfileRow.metadata.tables["profiles"]), list(values))


def update_many(session: Session, values: Sequence[dict[str, Any]]) -> None:
    """Bulk update by primary key: each dict holds `pk` and the new column values. Row
    objects already loaded in the session keep their old values."""
    session.execute(update(ProfileRow), list(values))


def pk_of(session: Session, profile_id: str) -> int | None:
    return session.scalar(select(ProfileRow.pk).where(ProfileRow.id == profile_id))


def get(session: Session, profile_id: str) -> ProfileRow | None:
    return session.scalar(select(ProfileRow).where(ProfileRow.id == profile_id))


def data_of(session: Session, profile_id: str) -> dict[str, Any] | None:
    """A stored profile's document, read as a value (no row object is kept in the session,
    so a later `get` after `update_many` reads the new values)."""
    data = session.scalar(select(ProfileRow.data).where(ProfileRow.id == profile_id))
    return dict(data) if data is not None else None


def delete_pk(session: Session, pk: int) -> None:
    session.execute(delete(ProfileRow).where(ProfileRow.pk == pk))


def count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ProfileRow)) or 0


def page(
    session: Session,
    *,
    kinds: Sequence[str] | None,
    countries: Sequence[str] | None,
    cluster: str | None,
    limit: int,
    offset: int,
) -> tuple[int, Sequence[ProfileRow]]:
    """(how many match the filters, those of one page in key order)."""
    stmt = select(ProfileRow)
    if kinds:
        stmt = stmt.where(ProfileRow.kind.in_(kinds))
    if countries:
        stmt = stmt.where(ProfileRow.country.in_(countries))
    if cluster:
        stmt = stmt.where(ProfileRow.cluster == cluster)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    rows = session.scalars(stmt.order_by(ProfileRow.pk).limit(limit).offset(offset)).all()
    return total, rows
