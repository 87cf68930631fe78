"""The job runner (service.jobs.service): status, progress, the job's unit of work, failures
and jobs left behind by a previous process, on a real database."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from models.progress import Progress
from service.auth import Principal
from service.errors import NotFound, ValidationFailed
from service.jobs.service import Jobs, Owner, get_job, owner_gone, this_process
from service.store.db import (
    Session,
    SessionFactory,
    make_engine,
    make_sessionmaker,
    transaction,
    upgrade,
)
from service.store.tables import JobRow, ProfileRow, utcnow
from tests.support.db import sessions_for


@pytest.fixture
def sessions(tmp_path: Path) -> Iterator[SessionFactory]:
    db = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    upgrade(db)
    yield make_sessionmaker(db)
    db.dispose()


def _wait(sessions: SessionFactory, job_id: str, timeout: float = 10.0) -> JobRow:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with sessions() as s:
            row = s.get(JobRow, job_id)
            assert row is not None
            if row.status in ("succeeded", "failed"):
                return row
        time.sleep(0.01)
    raise AssertionError(f"job {job_id} did not finish")


def _row(pk: int) -> ProfileRow:
    return ProfileRow(id=f"p{pk}", name="n", kind="firm", country="JP", content_hash="h", data={})


def test_a_job_reports_progress_and_its_report(sessions: SessionFactory) -> None:
    jobs = Jobs(sessions, min_interval_s=0.0)
    seen: list[tuple[str, int, int]] = []
    release = threading.Event()

    def work(session: Session, progress: Progress) -> dict[str, Any]:
        for i in range(1, 4):
            progress("counting", i, 3)
            seen.append(("counting", i, 3))
        release.wait(5)
        return {"counted": 3}

    job_id = jobs.submit("count", work, total=3, created_by=7)
    deadline = time.monotonic() + 5
    row: JobRow | None = None
    while time.monotonic() < deadline:  # progress is visible while the work runs
        with sessions() as s:
            row = s.get(JobRow, job_id)
            if row is not None and row.done == 3:
                break
        time.sleep(0.01)
    assert row is not None and row.status == "running"
    assert (row.phase, row.done, row.total) == ("counting", 3, 3)
    release.set()
    done = _wait(sessions, job_id)
    jobs.shutdown()
    assert done.status == "succeeded" and done.report == {"counted": 3}
    assert done.error is None and done.finished_at is not None
    assert len(seen) == 3


def test_the_work_commits_as_one_unit_or_not_at_all(sessions: SessionFactory) -> None:
    jobs = Jobs(sessions)

    def good(session: Session, progress: Progress) -> dict[str, Any]:
        session.add(_row(1))
        return {}

    def bad(session: Session, progress: Progress) -> dict[str, Any]:
        session.add(_row(2))
        session.flush()
        raise ValidationFailed("row 2 is wrong", errors=[{"field": "x", "reason": "bad"}])

    ok, failed = jobs.submit("good", good), jobs.submit("bad", bad)
    assert _wait(sessions, ok).status == "succeeded"
    row = _wait(sessions, failed)
    jobs.shutdown()
    assert row.status == "failed" and row.error == "row 2 is wrong"
    assert row.report is not None and row.report["errors"][0]["field"] == "x"
    with sessions() as s:
        ids = set(s.scalars(select(ProfileRow.id)))
    assert ids == {"p1"}  # the failed job's flushed row was rolled back


def test_an_unexpected_error_fails_the_job_with_its_reason(sessions: SessionFactory) -> None:
    jobs = Jobs(sessions)

    def broken(session: Session, progress: Progress) -> dict[str, Any]:
        raise KeyError("missing")

    row = _wait(sessions, jobs.submit("broken", broken))
    jobs.shutdown()
    assert row.status == "failed" and row.error is not None and "KeyError" in row.error


def _age(sessions: SessionFactory, job_id: str, seconds: float) -> None:
    """Set the job's heartbeat `seconds` in the past (its owner fell silent)."""
    with transaction(sessions) as s:
        s.execute(
            update(JobRow)
            .where(JobRow.id == job_id)
            .values(heartbeat_at=utcnow() - dt.timedelta(seconds=seconds))
        )


def _status(sessions: SessionFactory, job_id: str) -> JobRow:
    with sessions() as s:
        row = s.get(JobRow, job_id)
        assert row is not None
        return row


def _wait_running(sessions: SessionFactory, job_id: str) -> None:
    deadline = time.monotonic() + 10
    while _status(sessions, job_id).status != "running":
        assert time.monotonic() < deadline, "the job did not start"
        time.sleep(0.01)


@pytest.fixture
def gone_pid() -> int:
    """The pid of a process of this host that has ended."""
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_a_starting_process_leaves_the_live_jobs_of_others_alone(db_url: str) -> None:
    """Before: every start failed every queued or running job in the database, those of
    the other workers and machines included."""
    sessions = sessions_for(db_url)
    hold = threading.Event()
    elsewhere = Jobs(sessions, owner=Owner("machine-a-process", "machine-a", 4242))
    sibling = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:  # a worker on this host: another live pid
        here = Jobs(sessions, owner=Owner("worker-2", this_process().host, sibling.pid))
        remote_job = elsewhere.submit("slow", lambda s, p: {"ok": hold.wait(10)})
        local_job = here.submit("slow", lambda s, p: {"ok": hold.wait(10)})
        _wait_running(sessions, remote_job)
        _wait_running(sessions, local_job)
        starting = Jobs(sessions)
        assert starting.fail_abandoned() == 0
        assert _status(sessions, remote_job).status == "running"
        assert _status(sessions, local_job).status == "running"
        hold.set()
        assert _wait(sessions, remote_job).status == "succeeded"
        assert _wait(sessions, local_job).status == "succeeded"
    finally:
        hold.set()
        sibling.kill()
        sibling.wait()
    elsewhere.shutdown()
    here.shutdown()


def test_jobs_whose_owner_is_gone_are_failed_with_the_reason(db_url: str, gone_pid: int) -> None:
    sessions = sessions_for(db_url)
    hold = threading.Event()
    silent = Jobs(sessions, owner=Owner("silent", "machine-b", 17), timeout_s=60)
    dead = Jobs(sessions, owner=Owner("dead", this_process().host, gone_pid), timeout_s=60)
    silent_job = silent.submit("slow", lambda s, p: {"ok": hold.wait(10)})
    queued_job = silent.submit("queued", lambda s, p: {})  # behind the first: still queued
    dead_job = dead.submit("slow", lambda s, p: {"ok": hold.wait(10)})
    _wait_running(sessions, silent_job)
    _wait_running(sessions, dead_job)
    _age(sessions, silent_job, 61)
    _age(sessions, queued_job, 61)
    starting = Jobs(sessions, timeout_s=60)
    assert starting.fail_abandoned() == 3  # the dead pid at once, without its timeout
    silent_row, dead_row = _status(sessions, silent_job), _status(sessions, dead_job)
    assert silent_row.status == "failed" and silent_row.finished_at is not None
    assert silent_row.error is not None
    assert "machine-b, pid 17" in silent_row.error
    assert "no heartbeat for over 60 s" in silent_row.error
    assert _status(sessions, queued_job).status == "failed"
    assert dead_row.status == "failed"
    assert dead_row.error == (
        f"interrupted: the process running it ({this_process().host}, pid {gone_pid}) stopped"
    )
    hold.set()
    # the silent owner was only slow: its job ends, and success clears the error
    silent.shutdown()  # waits for its jobs
    dead.shutdown()
    done = _status(sessions, silent_job)
    assert done.status == "succeeded" and done.error is None and done.report == {"ok": True}


def test_a_running_process_beats_and_fails_the_abandoned_periodically(db_url: str) -> None:
    sessions = sessions_for(db_url)
    hold = threading.Event()
    runner = Jobs(sessions, timeout_s=0.2)  # a beat every 0.05 s
    abandoned = Jobs(sessions, owner=Owner("gone", "machine-c", 9), timeout_s=0.2)
    orphan = abandoned.submit("slow", lambda s, p: {"ok": hold.wait(10)})
    _wait_running(sessions, orphan)
    # the orphan's process stops beating (it has no heartbeat thread); this one does
    assert runner.fail_abandoned() == 0  # (not yet older than the timeout)
    runner.start()
    mine = runner.submit("slow", lambda s, p: {"ok": hold.wait(10)})
    _wait_running(sessions, mine)
    first = _status(sessions, mine).heartbeat_at
    deadline = time.monotonic() + 10
    while _status(sessions, mine).heartbeat_at == first or (
        _status(sessions, orphan).status != "failed"
    ):
        assert time.monotonic() < deadline, "no heartbeat, or the orphan was never failed"
        time.sleep(0.02)
    assert _status(sessions, mine).status == "running"  # its own job is never failed
    hold.set()
    assert _wait(sessions, mine).status == "succeeded"
    runner.shutdown()
    abandoned.shutdown()


def test_the_owner_check_on_this_host() -> None:
    me = Owner("me", "host-1", os.getpid())
    now = utcnow()

    def row(owner: str, host: str, pid: int, age_s: float = 0.0) -> JobRow:
        beat = now - dt.timedelta(seconds=age_s)
        return JobRow(owner=owner, owner_host=host, owner_pid=pid, heartbeat_at=beat)

    assert owner_gone(row("me", "host-1", os.getpid(), 999), me, now, 60) is None
    # this pid under another id: an earlier process that had the same pid (a container)
    assert owner_gone(row("earlier", "host-1", os.getpid()), me, now, 60) is not None
    assert owner_gone(row("other", "host-2", os.getpid(), 59), me, now, 60) is None
    assert owner_gone(row("other", "host-2", os.getpid(), 61), me, now, 60) is not None
    # another pid namespace on this host (a container with host networking): its pids are
    # not ours to judge, only its heartbeat
    assert owner_gone(row("other", "host-1 pid:[2]", 999_999_999), me, now, 60) is None
    assert owner_gone(row("other", "host-1", 999_999_999), me, now, 60) is not None
    legacy = JobRow(owner=None, owner_host=None, owner_pid=None, heartbeat_at=None)
    legacy.updated_at = now.replace(tzinfo=None) - dt.timedelta(seconds=120)  # naive (SQLite)
    assert owner_gone(legacy, me, now, 60) is not None


def test_a_job_is_seen_by_its_creator_and_admins_only(sessions: SessionFactory) -> None:
    jobs = Jobs(sessions)
    job_id = jobs.submit("mine", lambda s, p: {}, created_by=1)
    _wait(sessions, job_id)
    jobs.shutdown()
    creator = Principal(key_pk=1, role="organizer", profile_id=None)
    other = Principal(key_pk=2, role="organizer", profile_id=None)
    admin = Principal(key_pk=3, role="admin", profile_id=None)
    with sessions() as s:
        assert get_job(s, creator, job_id).id == job_id
        assert get_job(s, admin, job_id).id == job_id
        with pytest.raises(NotFound):
            get_job(s, other, job_id)
        with pytest.raises(NotFound):
            get_job(s, admin, "x" * 500)
