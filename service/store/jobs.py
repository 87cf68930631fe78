"""Job rows: the state and progress of background work, readable from any process."""

from __future__ import annotations

from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.store.tables import JobRow, utcnow


def add(session: Session, job_id: str, kind: str, total: int, created_by: int | None) -> None:
    session.add(
        JobRow(
            id=job_id,
            kind=kind,
            status="queued",
            phase="queued",
            total=total,
            created_by=created_by,
        )
    )


def set_values(session: Session, job_id: str, **values: Any) -> None:
    """Change a job's columns; `updated_at` is set too."""
    session.execute(update(JobRow).where(JobRow.id == job_id).values(updated_at=utcnow(), **values))


def fail_unfinished(session: Session, error: str) -> int:
    """Mark every queued or running job failed with `error`; returns how many."""
    result = session.execute(
        update(JobRow)
        .where(JobRow.status.in_(["queued", "running"]))
        .values(status="failed", error=error, finished_at=utcnow())
    )
    return int(result.rowcount or 0)  # type: ignore[attr-defined]


def get(session: Session, job_id: str) -> JobRow | None:
    return session.get(JobRow, job_id)
