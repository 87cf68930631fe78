"""Shortlist rows and their entries, and the names of the keys that own or fill them. All
the SQL of service.shortlists; callers own the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from service.store.chunks import chunked
from service.store.tables import (
    ApiKeyRow,
    ProfileRow,
    ShortlistEntryRow,
    ShortlistRow,
    UserRow,
)


@dataclass(frozen=True)
class EntryView:
    """An entry with what its profile says now (`name` None: the profile is gone)."""

    pk: int
    profile_id: str
    note: str
    added_at: dt.datetime
    added_by: int | None
    name: str | None
    name_en: str | None
    kind: str | None
    country: str | None


def get(session: Session, pk: int) -> ShortlistRow | None:
    return session.get(ShortlistRow, pk)


def by_name(session: Session, owner_key: int, name: str) -> ShortlistRow | None:
    return session.scalar(
        select(ShortlistRow).where(ShortlistRow.owner_key == owner_key, ShortlistRow.name == name)
    )


def add(session: Session, row: ShortlistRow) -> ShortlistRow:
    session.add(row)
    session.flush()
    return row


def remove(session: Session, row: ShortlistRow) -> None:
    """The list and its entries (deleted here too: the foreign key's cascade is not relied
    on, SQLite enforces it only with its pragma on)."""
    session.execute(delete(ShortlistEntryRow).where(ShortlistEntryRow.shortlist_pk == row.pk))
    session.delete(row)
    session.flush()


def count_of_owner(session: Session, owner_key: int) -> int:
    return int(session.scalar(select(func.count()).where(ShortlistRow.owner_key == owner_key)) or 0)


def listing(session: Session, owner_key: int | None, limit: int) -> list[tuple[ShortlistRow, int]]:
    """Lists with their number of entries, most recently changed first: one owner's, or
    everyone's (`owner_key` None)."""
    counts = (
        select(ShortlistEntryRow.shortlist_pk, func.count().label("n"))
        .group_by(ShortlistEntryRow.shortlist_pk)
        .subquery()
    )
    stmt = (
        select(ShortlistRow, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.shortlist_pk == ShortlistRow.pk)
        .order_by(ShortlistRow.updated_at.desc(), ShortlistRow.pk.desc())
        .limit(limit)
    )
    if owner_key is not None:
        stmt = stmt.where(ShortlistRow.owner_key == owner_key)
    return [(row, int(n)) for row, n in session.execute(stmt)]


# ---------------------------------------------------------------------------- entries


def entries(session: Session, shortlist_pk: int) -> list[EntryView]:
    """A list's entries in the order they were added, with their profiles' summaries."""
    stmt = (
        select(
            ShortlistEntryRow,
            ProfileRow.name,
            ProfileRow.data["name_en"].as_string(),
            ProfileRow.kind,
            ProfileRow.country,
        )
        .outerjoin(ProfileRow, ProfileRow.id == ShortlistEntryRow.profile_id)
        .where(ShortlistEntryRow.shortlist_pk == shortlist_pk)
        .order_by(ShortlistEntryRow.added_at, ShortlistEntryRow.pk)
    )
    return [
        EntryView(e.pk, e.profile_id, e.note, e.added_at, e.added_by, name, name_en, kind, country)
        for e, name, name_en, kind, country in session.execute(stmt)
    ]


def entry(session: Session, shortlist_pk: int, entry_pk: int) -> ShortlistEntryRow | None:
    return session.scalar(
        select(ShortlistEntryRow).where(
            ShortlistEntryRow.pk == entry_pk, ShortlistEntryRow.shortlist_pk == shortlist_pk
        )
    )


def profile_ids(session: Session, shortlist_pk: int) -> set[str]:
    return set(
        session.scalars(
            select(ShortlistEntryRow.profile_id).where(
                ShortlistEntryRow.shortlist_pk == shortlist_pk
            )
        )
    )


def add_entries(session: Session, rows: Sequence[ShortlistEntryRow]) -> None:
    session.add_all(rows)
    session.flush()


def remove_entry(session: Session, row: ShortlistEntryRow) -> None:
    session.delete(row)
    session.flush()


# ---------------------------------------------------------------------------- names


def key_names(session: Session, keys: Iterable[int | None]) -> dict[int, str]:
    """Who a key number stands for: a console user's display name (or email), else the
    API key's name (or "#<number>")."""
    wanted = sorted({k for k in keys if k is not None})
    out: dict[int, str] = {}
    for part in chunked(wanted):
        for pk, name, email in session.execute(
            select(UserRow.principal_key, UserRow.display_name, UserRow.email).where(
                UserRow.principal_key.in_(part)
            )
        ):
            out[int(pk)] = name or email
        for pk, name in session.execute(
            select(ApiKeyRow.pk, ApiKeyRow.name).where(ApiKeyRow.pk.in_(part))
        ):
            out.setdefault(int(pk), name or f"#{pk}")
    return out
