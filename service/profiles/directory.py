"""The profile directory for organizers: a page of profile summaries with filters and a
name search (the console's profile list), and summaries of given ids. The rows are read
as summaries, without their documents, so a page costs one COUNT and one SELECT whatever
the number of profiles."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from service.auth import Principal
from service.store import profile_directory
from service.store.db import Session
from service.store.profile_directory import ProfileSummary

__all__ = ["MAX_NAME_QUERY", "DirectoryPage", "ProfileSummary", "browse", "clusters", "summaries"]

MAX_NAME_QUERY = 200
MAX_CLUSTERS = 500


@dataclass(frozen=True)
class DirectoryPage:
    total: int
    items: list[ProfileSummary]
    limit: int
    offset: int

    @property
    def next_offset(self) -> int | None:
        return self.offset + self.limit if self.offset + self.limit < self.total else None

    @property
    def previous_offset(self) -> int | None:
        return max(0, self.offset - self.limit) if self.offset > 0 else None


def browse(
    session: Session,
    caller: Principal,
    *,
    kinds: Sequence[str] | None = None,
    countries: Sequence[str] | None = None,
    cluster: str | None = None,
    name: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DirectoryPage:
    """One page of the profiles that pass the filters, in the order they were added
    (organizers and admins)."""
    caller.require("admin", "organizer")
    name = (name or "").strip()[:MAX_NAME_QUERY] or None
    total, items = profile_directory.summaries(
        session,
        kinds=kinds,
        countries=[c.upper() for c in countries] if countries else None,
        cluster=cluster or None,
        name_contains=name,
        limit=limit,
        offset=max(0, offset),
    )
    return DirectoryPage(total, items, limit, max(0, offset))


def summaries(session: Session, ids: Sequence[str]) -> dict[str, ProfileSummary]:
    """The stored profiles among `ids`, by id."""
    return profile_directory.by_ids(session, ids)


def clusters(session: Session) -> list[str]:
    return profile_directory.clusters(session, MAX_CLUSTERS)
