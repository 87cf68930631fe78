"""Background jobs for long work (large imports, schedules, training), one at a time, with
progress stored in the database so `/v1/jobs/{id}` shows it from any worker.

A job runs outside any request: the runner opens its unit of work from the session
factory it was given, hands the session to the work, and commits it when the work
returns (rolls it back if the work raises). Status and progress are written in
transactions of their own, so they are visible while the work runs.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from models.progress import Progress
from service.auth import Principal
from service.errors import ClusterMatchError, NotFound
from service.store import jobs
from service.store.db import Session, SessionFactory, transaction
from service.store.tables import UUID_LEN, JobRow, utcnow

log = logging.getLogger("clustermatch.jobs")

JobWork = Callable[[Session, Progress], dict[str, Any]]
"""The work of a job: gets the job's session and a progress callback, returns the report."""


class Jobs:
    def __init__(self, sessions: SessionFactory, min_interval_s: float = 0.5) -> None:
        self._sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")
        self._min_interval = min_interval_s

    def fail_interrupted(self) -> int:
        """Jobs a previous process left running can never finish: say so."""
        with transaction(self._sessions) as s:
            return jobs.fail_unfinished(s, "interrupted by a restart")

    def submit(
        self, kind: str, work: JobWork, *, total: int = 0, created_by: int | None = None
    ) -> str:
        job_id = str(uuid.uuid4())
        with transaction(self._sessions) as s:
            jobs.add(s, job_id, kind, total, created_by)
        self._pool.submit(self._run, job_id, work)
        return job_id

    def _set(self, job_id: str, **values: Any) -> None:
        with transaction(self._sessions) as s:
            jobs.set_values(s, job_id, **values)

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
            with transaction(self._sessions) as session:
                report = work(session, progress)
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


def get_job(session: Session, caller: Principal, job_id: str) -> JobRow:
    """A job the caller may see (admins: all; others: those they started); else 404."""
    row = jobs.get(session, job_id) if len(job_id) <= UUID_LEN else None
    if row is None or (not caller.is_admin() and row.created_by != caller.key_pk):
        raise NotFound.for_id("job", job_id, UUID_LEN)
    return row
