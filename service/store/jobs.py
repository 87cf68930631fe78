"""Job rows: the state and progress of background work, readable from any process, with
the process that runs each job (its owner) and that process's heartbeat."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from service.store.tables import JobRow, utcnow

UNFINISHED = ("queued", "running")


def add(
    session: Session,
    job_id: str,
    kind: str,
    total: int,
    created_by: int | None,
    *,
    owner: str | None = None,
    owner_host: str | None = None,
    owner_pid: int | None = None,
) -> None:
    now = utcnow()
    session.add(
        JobRow(
            id=job_id,
            kind=kind,
            status="queued",
            phase="queued",
            total=total,
            created_by=created_by,
            owner=owner,
            owner_host=owner_host,
            owner_pid=owner_pid,
            heartbeat_at=now,
            created_at=now,
            updated_at=now,
        )
    )


def set_values(session: Session, job_id: str, **values: Any) -> None:
    """Change a job's columns; `updated_at` is set too."""
    session.execute(update(JobRow).where(JobRow.id == job_id).values(updated_at=utcnow(), **values))


def beat(session: Session, owner: str, at: dt.datetime) -> int:
    """The owner's heartbeat on each of its unfinished jobs; returns how many."""
    result = session.execute(
        update(JobRow)
        .where(JobRow.owner == owner, JobRow.status.in_(UNFINISHED))
        .values(heartbeat_at=at)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def unfinished_of_others(session: Session, owner: str) -> Sequence[JobRow]:
    """Queued or running jobs not owned by `owner` (rows from before owners were recorded,
    owner NULL, included): the candidates a reaper judges."""
    return session.scalars(
        select(JobRow).where(
            JobRow.status.in_(UNFINISHED), (JobRow.owner != owner) | JobRow.owner.is_(None)
        )
    ).all()


def fail_if_unfinished(session: Session, job_ids: Sequence[str], error: str) -> int:
    """Mark these jobs failed with `error` unless they finished meanwhile; how many."""
    if not job_ids:
        return 0
    now = utcnow()
    result = session.execute(
        update(JobRow)
        .where(JobRow.id.in_(list(job_ids)), JobRow.status.in_(UNFINISHED))
        .values(status="failed", error=error, finished_at=now, updated_at=now)
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def get(session: Session, job_id: str) -> JobRow | None:
    return session.get(JobRow, job_id)
