"""The job runner (service.jobs.service): status, progress, the job's unit of work, failures
and jobs left behind by a previous process, on a real database."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from models.progress import Progress
from service.auth import Principal
from service.errors import NotFound, ValidationFailed
from service.jobs.service import Jobs, get_job
from service.store.db import Session, SessionFactory, make_engine, make_sessionmaker, upgrade
from service.store.tables import JobRow, ProfileRow


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


def test_jobs_left_running_by_a_previous_process_are_failed(sessions: SessionFactory) -> None:
    first = Jobs(sessions)
    hold = threading.Event()
    job_id = first.submit("slow", lambda s, p: {"ok": hold.wait(5)})
    time.sleep(0.05)
    # a new process starts while the job runs in the old one
    assert Jobs(sessions).fail_interrupted() == 1
    with sessions() as s:
        row = s.get(JobRow, job_id)
        assert row is not None and row.status == "failed"
        assert row.error == "interrupted by a restart"
    hold.set()
    first.shutdown()


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
