"""Profile rows as a directory: one page of summaries (no documents loaded) with filters
and a name search, the clusters in use, and the names of given ids."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from service.store.chunks import chunked
from service.store.tables import ProfileRow


@dataclass(frozen=True)
class ProfileSummary:
    id: str
    name: str
    kind: str
    country: str | None
    cluster: str | None
    updated_at: dt.datetime | None


_COLUMNS = (
    ProfileRow.id,
    ProfileRow.name,
    ProfileRow.kind,
    ProfileRow.country,
    ProfileRow.cluster,
    ProfileRow.updated_at,
)


def summaries(
    session: Session,
    *,
    kinds: Sequence[str] | None,
    countries: Sequence[str] | None,
    cluster: str | None,
    name_contains: str | None,
    limit: int,
    offset: int,
) -> tuple[int, list[ProfileSummary]]:
    """(how many profiles match, one page of them in key order, as the API lists them):
    one COUNT and one SELECT of the listed columns (in key order the page is read from
    the primary key; sorting by name would sort every matching row first, there being
    no index on names). `name_contains` matches anywhere in the name, ignoring case
    (`%` and `_` are literal)."""
    where: list[ColumnElement[bool]] = []
    if kinds:
        where.append(ProfileRow.kind.in_(list(kinds)))
    if countries:
        where.append(ProfileRow.country.in_(list(countries)))
    if cluster:
        where.append(ProfileRow.cluster == cluster)
    if name_contains:
        where.append(func.lower(ProfileRow.name).contains(name_contains.lower(), autoescape=True))
    total = session.scalar(select(func.count()).select_from(ProfileRow).where(*where)) or 0
    rows = session.execute(
        select(*_COLUMNS).where(*where).order_by(ProfileRow.pk).limit(limit).offset(offset)
    )
    return total, [ProfileSummary(*row) for row in rows]


def by_ids(session: Session, ids: Sequence[str]) -> dict[str, ProfileSummary]:
    """The summaries of the stored profiles among `ids`, by id."""
    out: dict[str, ProfileSummary] = {}
    for part in chunked(list(ids)):
        for row in session.execute(select(*_COLUMNS).where(ProfileRow.id.in_(part))):
            out[row[0]] = ProfileSummary(*row)
    return out


def clusters(session: Session, limit: int) -> list[str]:
    """The cluster names in use, sorted (at most `limit`)."""
    stmt = (
        select(ProfileRow.cluster)
        .where(ProfileRow.cluster.is_not(None))
        .distinct()
        .order_by(ProfileRow.cluster)
        .limit(limit)
    )
    return [c for c in session.scalars(stmt) if c]
