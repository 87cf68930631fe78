"""Background jobs for long work (large imports, schedules, training), one at a time, with
progress stored in the database so `/v1/jobs/{id}` shows it from any worker.

A job runs outside any request: the runner opens its unit of work from the session
factory it was given, hands the session to the work, and commits it when the work
returns (rolls it back if the work raises). Status and progress are written in
transactions of their own, so they are visible while the work runs.

Owners and heartbeats. Several processes share the jobs table (`serve --workers N`,
several machines on one PostgreSQL), so a starting process must not fail the jobs the
others are running. Each job records its owner: a random id made once per process, with
the host name (and pid namespace) and pid. While the process lives, a heartbeat thread
stamps `heartbeat_at` on its unfinished jobs every `timeout_s / 4` seconds. At start and
at every beat, a process fails the unfinished jobs of *other* owners that are gone: their
heartbeat is older than `timeout_s` (`CLUSTERMATCH_JOB_TIMEOUT_S`, 60 s by default;
machines' clocks must agree to well within it), or they ran on this host, in this pid
namespace, under a pid that no longer exists or that is now this process's (found at
once, without waiting for the timeout). Such a job is failed with the reason, and its
report, if the work stored one before the crash (an import stores its counts before
encoding), is kept. A job that then succeeds anyway (its owner was only slow) ends
`succeeded` with the error cleared.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from service.auth import Principal
from service.errors import ClusterMatchError, NotFound
from service.store import jobs, keys
from service.store.db import Session, SessionFactory, transaction
from service.store.tables import UUID_LEN, JobRow, utcnow

log = logging.getLogger("clustermatch.jobs")

DEFAULT_TIMEOUT_S = 60.0


class JobProgress:
    """The progress callback a job's work gets (`models.progress.Progress`: phase, done,
    total), which can also store a partial report: what the work has already made
    durable, kept on the job if the process dies before the work ends."""

    def __init__(self, runner: Jobs, job_id: str) -> None:
        self._runner = runner
        self._job_id = job_id
        self._last = 0.0

    def __call__(self, phase: str, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self._last >= self._runner.min_interval_s or done >= total:
            self._last = now
            self._runner.set_values(self._job_id, phase=phase, done=done, total=total)

    def partial(self, report: dict[str, Any]) -> None:
        self._runner.set_values(self._job_id, report=report)


JobWork = Callable[[Session, JobProgress], dict[str, Any]]
"""The work of a job: gets the job's session and a progress callback, returns the report."""


@dataclass(frozen=True)
class Owner:
    """A process that runs jobs: a random id (a pid is reused, by a restarted container
    for one), and where it runs."""

    id: str
    host: str
    pid: int

    @classmethod
    def new(cls) -> Owner:
        return cls(uuid.uuid4().hex, _host(), os.getpid())


def _host() -> str:
    """The host name, with the pid namespace where there is one: containers that share a
    host name (host networking) but not their pids must not judge each other's pids."""
    name = socket.gethostname()
    try:
        namespace = os.readlink("/proc/self/ns/pid")  # "pid:[4026531836]"
    except OSError:
        return name[:255]
    return f"{name} {namespace}"[:255]


_this_process: Owner | None = None


def this_process() -> Owner:
    """This process's owner, made once per process (again after a fork)."""
    global _this_process
    if _this_process is None or _this_process.pid != os.getpid():
        _this_process = Owner.new()
    return _this_process


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: it exists
        return True
    except OSError:
        return True  # cannot tell: leave it to the heartbeat
    return True


def _aware(moment: dt.datetime) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=dt.UTC)


def owner_gone(row: JobRow, me: Owner, now: dt.datetime, timeout_s: float) -> str | None:
    """Why the process that owns this unfinished job is gone, or None while it may live."""
    if row.owner == me.id:
        return None
    where = f"{row.owner_host or 'unknown host'}, pid {row.owner_pid or '?'}"
    # (this pid under another owner id: an earlier process that had it, a container's pid 1)
    if (
        row.owner_host == me.host
        and row.owner_pid is not None
        and (row.owner_pid == me.pid or not _pid_alive(row.owner_pid))
    ):
        return f"interrupted: the process running it ({where}) stopped"
    beat = row.heartbeat_at or row.updated_at
    if beat is None or (now - _aware(beat)).total_seconds() > timeout_s:
        return (
            f"interrupted: the process running it ({where}) sent no heartbeat "
            f"for over {timeout_s:g} s"
        )
    return None


class Jobs:
    def __init__(
        self,
        sessions: SessionFactory,
        min_interval_s: float = 0.5,
        *,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        owner: Owner | None = None,
    ) -> None:
        self._sessions = sessions
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="job")
        self.min_interval_s = min_interval_s
        self.timeout_s = timeout_s
        self.owner = owner or this_process()
        self._stop = threading.Event()
        self._beater: threading.Thread | None = None

    def start(self) -> None:
        """Keep this process's heartbeat, and the check for jobs whose owner is gone, going
        in a thread until `shutdown` (a starting process runs `fail_abandoned` first)."""
        if self._beater is None:
            self._beater = threading.Thread(
                target=self._beat_loop, name="job-heartbeat", daemon=True
            )
            self._beater.start()

    def fail_abandoned(self) -> int:
        """Fail the unfinished jobs of other processes that are gone (see the module
        docstring); returns how many."""
        now = utcnow()
        with transaction(self._sessions) as s:
            reasons: dict[str, list[str]] = {}
            for row in jobs.unfinished_of_others(s, self.owner.id):
                why = owner_gone(row, self.owner, now, self.timeout_s)
                if why is not None:
                    reasons.setdefault(why, []).append(row.id)
            failed = sum(jobs.fail_if_unfinished(s, ids, why) for why, ids in reasons.items())
        if failed:
            log.warning("failed %d job(s) whose process is gone", failed)
        return failed

    def beat(self) -> None:
        """Stamp this process's heartbeat on its unfinished jobs."""
        with transaction(self._sessions) as s:
            jobs.beat(s, self.owner.id, utcnow())

    def _beat_loop(self) -> None:
        while not self._stop.wait(self.timeout_s / 4):
            try:
                self.beat()
                self.fail_abandoned()
            except Exception:  # a busy database now and then must not stop the heartbeat
                log.exception("job heartbeat failed")

    def submit(
        self, kind: str, work: JobWork, *, total: int = 0, created_by: int | None = None
    ) -> str:
        job_id = str(uuid.uuid4())
        with transaction(self._sessions) as s:
            jobs.add(
                s,
                job_id,
                kind,
                total,
                created_by,
                owner=self.owner.id,
                owner_host=self.owner.host,
                owner_pid=self.owner.pid,
            )
        self._pool.submit(self._run, job_id, work)
        return job_id

    def set_values(self, job_id: str, **values: Any) -> None:
        with transaction(self._sessions) as s:
            jobs.set_values(s, job_id, **values)

    def _run(self, job_id: str, work: JobWork) -> None:
        self.set_values(job_id, status="running", phase="starting", heartbeat_at=utcnow())
        try:
            with transaction(self._sessions) as session:
                report = work(session, JobProgress(self, job_id))
        except ClusterMatchError as exc:
            self.set_values(
                job_id,
                status="failed",
                error=exc.detail,
                report=exc.problem(),
                finished_at=utcnow(),
            )
        except Exception as exc:  # a job must end with a status, whatever went wrong
            log.exception("job %s failed", job_id)
            self.set_values(
                job_id, status="failed", error=f"{type(exc).__name__}: {exc}", finished_at=utcnow()
            )
        else:
            # error=None: another process may have taken this job for abandoned meanwhile
            self.set_values(
                job_id,
                status="succeeded",
                phase="done",
                report=report,
                error=None,
                finished_at=utcnow(),
            )

    def shutdown(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=False)
        self._stop.set()
        if self._beater is not None:
            self._beater.join()


def get_job(session: Session, caller: Principal, job_id: str) -> JobRow:
    """A job the caller may see, else 404: admins all; others those they started; an
    organizer also those another organizer of its office started: it shares their events
    and profiles (a schedule run from the console, an import through the API)."""
    row = jobs.get(session, job_id) if len(job_id) <= UUID_LEN else None
    if row is None or not (
        caller.is_admin() or row.created_by == caller.key_pk or _colleague(session, caller, row)
    ):
        raise NotFound.for_id("job", job_id, UUID_LEN)
    return row


def _colleague(session: Session, caller: Principal, row: JobRow) -> bool:
    if caller.role != "organizer" or row.created_by is None:
        return False
    creator = keys.get(session, row.created_by)
    return creator is not None and creator.role == "organizer" and creator.office == caller.office
