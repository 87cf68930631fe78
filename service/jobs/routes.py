"""Background jobs for long work (large imports, index rebuilds), one at a time, with
progress stored in the database so `/v1/jobs/{id}` shows it from any worker."""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi import APIRouter, Request
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from service.auth import CallerDep
from service.errors import ClusterMatchError, NotFound
from service.store.db import transaction
from service.store.tables import JobRow, utcnow

log = logging.getLogger("clustermatch.jobs")
router = APIRouter(prefix="/v1", tags=["jobs"])

JobWork = Callable[[Callable[[str, int, int], None]], dict[str, Any]]


class Jobs:
    def __init__(self, sessions: sessionmaker[Session], min_interval_s: float = 0.5) -> None:
        self._sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")
        self._min_interval = min_interval_s
        self._lock = threading.Lock()

    def fail_interrupted(self) -> int:
        """Jobs a previous process left running can never finish: say so."""
        with transaction(self._sessions) as s:
            result = s.execute(
                update(JobRow)
                .where(JobRow.status.in_(["queued", "running"]))
                .values(status="failed", error="interrupted by a restart", finished_at=utcnow())
            )
            return int(result.rowcount or 0)  # type: ignore[attr-defined]

    def submit(
        self, kind: str, work: JobWork, *, total: int = 0, created_by: int | None = None
    ) -> str:
        job_id = str(uuid.uuid4())
        with transaction(self._sessions) as s:
            s.add(
                JobRow(
                    id=job_id,
                    kind=kind,
                    status="queued",
                    phase="queued",
                    total=total,
                    created_by=created_by,
                )
            )
        self._pool.submit(self._run, job_id, work)
        return job_id

    def _set(self, job_id: str, **values: Any) -> None:
        with transaction(self._sessions) as s:
            s.execute(
                update(JobRow).where(JobRow.id == job_id).values(updated_at=utcnow(), **values)
            )

    def _run(self, job_id: str, work: JobWork) -> None:
        self._set(job_id, status="running", phase="starting")
        last = 0.0

        def progress(phase: str, done: int, total: int) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last >= self._min_interval or done >= total:
                last = now
                self._set(job_id, phase=phase, done=done, total=total)

        try:
            report = work(progress)
        except ClusterMatchError as exc:
            self._set(
                job_id,
                status="failed",
                error=exc.detail,
                report=exc.problem(),
                finished_at=utcnow(),
            )
        except Exception as exc:  # a job must end with a status, whatever went wrong
            log.exception("job %s failed", job_id)
            self._set(
                job_id, status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=utcnow()
            )
        else:
            self._set(job_id, status="succeeded", phase="done", report=report, finished_at=utcnow())

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)


def job_out(row: JobRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "phase": row.phase,
        "progress": {
            "done": row.done,
            "total": row.total,
            "fraction": round(row.done / row.total, 4) if row.total else None,
        },
        "report": row.report,
        "error": row.error,
        "created_at": row.created_at.isoformat() if row.created_at else None,
        "finished_at": row.finished_at.isoformat() if row.finished_at else None,
    }


@router.get("/jobs/{job_id}", summary="Status and progress of a background job")
def get_job(job_id: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    with request.app.state.sessions() as session:
        row = session.get(JobRow, job_id[:36])
        if row is None or (not caller.is_admin() and row.created_by != caller.key_pk):
            raise NotFound(f"no job with id '{job_id[:36]}'")
        return job_out(row)
