"""The audit log's SQL: insert, and filtered reads newest first. Nothing here updates or
deletes a row. Callers own the transaction."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.store.tables import AuditRow


@dataclass(frozen=True)
class AuditFilter:
    actor: str | None = None
    route: str | None = None  # a prefix of the route template, e.g. "/v1/events"
    method: str | None = None
    status_min: int | None = None
    target: str | None = None  # any id in the path
    since: dt.datetime | None = None
    until: dt.datetime | None = None


def add(session: Session, **values: Any) -> AuditRow:
    row = AuditRow(**values)
    session.add(row)
    return row


def query(
    session: Session, where: AuditFilter, *, limit: int, before: int | None = None
) -> Sequence[AuditRow]:
    """Entries matching `where`, newest first; `before`: only entries older than that
    number (the cursor of the next page)."""
    stmt = select(AuditRow).order_by(AuditRow.pk.desc())
    if before is not None:
        stmt = stmt.where(AuditRow.pk < before)
    if where.actor:
        stmt = stmt.where(AuditRow.actor == where.actor)
    if where.route:
        stmt = stmt.where(AuditRow.route.startswith(where.route, autoescape=True))
    if where.method:
        stmt = stmt.where(AuditRow.method == where.method)
    if where.status_min is not None:
        stmt = stmt.where(AuditRow.status >= where.status_min)
    if where.target:
        stmt = stmt.where(AuditRow.path.contains(where.target, autoescape=True))
    if where.since:
        stmt = stmt.where(AuditRow.at >= where.since)
    if where.until:
        stmt = stmt.where(AuditRow.at < where.until)
    return session.scalars(stmt.limit(limit)).all()
