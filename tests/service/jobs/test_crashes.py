"""Crashes lose nothing that was acknowledged (issue 21): a real server (a subprocess,
tests.support.crash_server) is killed with SIGKILL in the middle of a 10,000-row import
job and of a schedule job, then started again on the same database (SQLite and
PostgreSQL). After the restart:
- every write that was acknowledged is there, whole, and the import is all or nothing;
- the index holds exactly the database's profiles (/readyz 200 with their number);
- the interrupted job shows as failed with its reason (and, for the import, the counts it
  stored before encoding), and running it again works.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from service.auth import create_key
from service.store.db import transaction
from tests.support.crash_server import Crashable
from tests.support.db import sessions_for
from tests.support.schedule import event_doc

ROWS = 10_000


@pytest.fixture
def server(tmp_path: Path, db_url: str) -> Iterator[tuple[Crashable, str]]:
    url = db_url if db_url.startswith("postgresql") else None
    crashable = Crashable(tmp_path / "server", url)
    try:
        yield crashable, url or f"sqlite:///{tmp_path / 'server' / 'data' / 'clustermatch.db'}"
    finally:
        crashable.stop()


def _key(db_url: str, role: Literal["admin", "organizer"] = "admin") -> dict[str, str]:
    with transaction(sessions_for(db_url)) as s:
        _, secret = create_key(s, role)
    return {"Authorization": f"Bearer {secret}"}


def _profile(i: int, prefix: str) -> dict[str, Any]:
    return {
        "id": f"{prefix}-{i}",
        "name": f"会社{prefix}{i}",
        "kind": "firm",
        "country": "JP",
        "offers": [f"精密部品{i % 211}", f"加工{i % 89}"],
        "needs": [f"販路{i % 53}"],
        "description": f"{prefix} company number {i}, making parts of kind {i % 401}",
    }


def _job_when(client: httpx.Client, location: str, phase: str, timeout: float = 120) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        job = client.get(location).json()
        assert job["status"] in ("queued", "running"), f"the job ended before the kill: {job}"
        if job["phase"].startswith(phase) and job["progress"]["done"] > 0:
            return job
        assert time.monotonic() < deadline, job
        time.sleep(0.02)


def _finished(client: httpx.Client, location: str, timeout: float = 300) -> Any:
    deadline = time.monotonic() + timeout
    while (job := client.get(location).json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.1)
    return job


def test_a_kill_during_a_10000_row_import_loses_nothing_acknowledged(
    server: tuple[Crashable, str],
) -> None:
    crashable, db_url = server
    crashable.start(encode_delay=0.02)  # seconds of encoding to kill the import in
    headers = _key(db_url)
    acknowledged: dict[str, dict[str, Any]] = {}
    stop = threading.Event()

    def writer() -> None:
        # single profile writes while the import runs: each 200/201 is an acknowledgement
        with httpx.Client(base_url=crashable.url, headers=headers, timeout=60) as client:
            i = 0
            while not stop.is_set():
                body = _profile(i, "ack")
                try:
                    r = client.put(f"/v1/profiles/{body['id']}", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code in (200, 201):
                    acknowledged[body["id"]] = body
                i += 1

    rows = "\n".join(json.dumps(_profile(i, "imp"), ensure_ascii=False) for i in range(ROWS))
    with httpx.Client(base_url=crashable.url, headers=headers, timeout=120) as client:
        thread = threading.Thread(target=writer)
        thread.start()
        while len(acknowledged) < 5:  # some acknowledged before the import
            time.sleep(0.01)
        r = client.post("/v1/profiles/import", content=rows.encode())
        assert r.status_code == 202, r.text
        location = r.headers["location"]
        _job_when(client, location, "embedding")
        crashable.kill()
    stop.set()
    thread.join()

    crashable.start()  # (reconciles: /readyz 200 only once the index is in step)
    with httpx.Client(base_url=crashable.url, headers=headers, timeout=120) as client:
        job = client.get(location).json()
        assert job["status"] == "failed", job
        assert job["error"].startswith("interrupted: the process running it"), job
        report = job["report"]  # the counts, stored before encoding
        assert (report["rows"], report["valid"], report["created"]) == (ROWS, ROWS, ROWS)
        ready = client.get("/readyz").json()
        imported = client.get("/v1/profiles", params={"limit": 1}).json()
        found = {pid: client.get(f"/v1/profiles/{pid}").json() for pid in acknowledged}
        for pid, body in acknowledged.items():
            got = found[pid]
            assert {k: got.get(k) for k in body} == body, pid  # there, and whole
        assert ready["status"] == "ready" and ready["in_step"], ready
        assert ready["indexed"] == ready["profiles"] == imported["total"]
        assert imported["total"] >= ROWS + len(acknowledged)
        print(
            f"\nimport crash ({db_url.split(':')[0]}): {len(acknowledged)} single writes and "
            f"{report['created']} import rows acknowledged before the kill; "
            f"{imported['total']} profiles found, index {ready['indexed']}"
        )
        # the import runs again: nothing changes, and the job succeeds
        r = client.post("/v1/profiles/import", content=rows.encode())
        again = _finished(client, r.headers["location"])
        assert again["status"] == "succeeded" and again["error"] is None, again
        assert again["report"]["unchanged"] == ROWS and again["report"]["created"] == 0


def test_a_kill_during_a_schedule_job_leaves_no_half_schedule(
    server: tuple[Crashable, str],
) -> None:
    crashable, db_url = server
    crashable.start()
    headers = _key(db_url, "organizer")
    doc = {"name": "大規模商談会", **event_doc(n=90, slots=12, tables=12, wishes_each=8)}
    with httpx.Client(base_url=crashable.url, headers=headers, timeout=60) as client:
        r = client.post("/v1/events", json=doc)
        assert r.status_code == 201, r.text
        eid = r.json()["id"]
        r = client.post(f"/v1/events/{eid}/schedule", params={"time_limit": 120})
        location = r.headers["location"]
        _job_when(client, location, "solving")
        crashable.kill()

    crashable.start()
    with httpx.Client(base_url=crashable.url, headers=headers, timeout=60) as client:
        job = client.get(location).json()
        assert job["status"] == "failed", job
        assert job["error"].startswith("interrupted: the process running it"), job
        assert client.get(f"/v1/events/{eid}/schedule").status_code == 404  # nothing half-saved
        r = client.post(f"/v1/events/{eid}/schedule", params={"time_limit": 3})
        again = _finished(client, r.headers["location"])
        assert again["status"] == "succeeded", again
        assert client.get(f"/v1/events/{eid}/exports/schedule.csv").status_code == 200
