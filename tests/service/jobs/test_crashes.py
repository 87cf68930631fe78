"""Crashes lose nothing that was acknowledged (issue 21): a real server (a subprocess,
tests.support.crash_server) is killed with SIGKILL in the middle of a 10,000-row import
job, of a schedule job, of an index save (a generation half-written) and of a follow-up
sheet import (its rows inserted, not committed), then started again on the same database
(SQLite and PostgreSQL). After the restart:
- every write that was acknowledged is there, whole, and the import is all or nothing;
- the index holds exactly the database's profiles (/readyz 200 with their number);
- the interrupted job shows as failed with its reason (and, for the import, the counts it
  stored before encoding), and running it again works.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import httpx
import pytest

from service.auth import create_key
from service.store import events as event_rows
from service.store.db import transaction
from tests.support.crash_server import SHEET_STAGED, Crashable
from tests.support.db import sessions_for
from tests.support.outcomes import EVENT, MEETINGS
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


def _token(i: int) -> str:
    """A word that only profile `i` has."""
    return hashlib.sha1(str(i).encode()).hexdigest()[:12]


def _saving(index_dir: Path) -> bool:
    """A save is under way: a generation being written, with some of its files."""
    return any(p.is_dir() and any(p.iterdir()) for p in index_dir.rglob("gen-*.tmp"))


def test_a_kill_during_an_index_save_loses_no_acknowledged_profile(
    server: tuple[Crashable, str],
) -> None:
    crashable, db_url = server
    # saves every half second while profiles change, each facet file half a second apart
    crashable.start(save_interval=0.5, save_delay=0.5)
    headers = _key(db_url)
    index_dir = crashable.root / "data" / "index"
    acknowledged: dict[str, dict[str, Any]] = {}
    stop = threading.Event()

    def writer() -> None:
        with httpx.Client(base_url=crashable.url, headers=headers, timeout=60) as client:
            i = 0
            while not stop.is_set():
                body = _profile(i, "save")
                body["description"] += f" ({_token(i)})"  # what the search below asks for
                try:
                    r = client.put(f"/v1/profiles/{body['id']}", json=body)
                except httpx.HTTPError:
                    return  # the server is gone
                if r.status_code in (200, 201):
                    acknowledged[body["id"]] = body
                i += 1

    thread = threading.Thread(target=writer)
    thread.start()
    deadline = time.monotonic() + 120
    while not (len(acknowledged) >= 20 and _saving(index_dir)):
        assert time.monotonic() < deadline, "no save began"
        time.sleep(0.01)
    crashable.kill()
    stop.set()
    thread.join()
    assert list(index_dir.rglob("gen-*.tmp")), "the kill did not land in a save"

    crashable.start()  # loads the last whole generation, or rebuilds; then catches up
    with httpx.Client(base_url=crashable.url, headers=headers, timeout=60) as client:
        ready = client.get("/readyz").json()
        assert ready["status"] == "ready" and ready["in_step"], ready
        total = client.get("/v1/profiles", params={"limit": 1}).json()["total"]
        assert ready["indexed"] == ready["profiles"] == total >= len(acknowledged)
        for pid, body in acknowledged.items():
            got = client.get(f"/v1/profiles/{pid}").json()
            assert {k: got.get(k) for k in body} == body, pid  # there, and whole
            token = body["description"].rsplit("(", 1)[1].rstrip(")")
            found = client.post("/v1/search", json={"text": token, "k": 10})
            assert found.status_code == 200, found.text
            assert pid in [h["profile"]["id"] for h in found.json()["results"]], (pid, token)
    assert not list(index_dir.rglob("gen-*.tmp"))  # the half-written generation is gone
    print(
        f"\nindex save crash ({db_url.split(':')[0]}): {len(acknowledged)} profile writes "
        f"acknowledged; {total} found, all searchable; index {ready['indexed']}"
    )


def _sheet_rows(client: httpx.Client, eid: str) -> list[list[str]]:
    body = client.get(f"/v1/events/{eid}/exports/follow-ups.csv").content
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


def _fill(rows: list[list[str]], side: str, partner: str, **cells: str) -> None:
    header = rows[0]
    row = next(r for r in rows[1:] if r[3] == side and r[5] == partner)
    for name, value in cells.items():
        row[header.index(name)] = value


def _csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode()


def test_a_kill_during_a_follow_up_sheet_import_writes_none_of_it(
    server: tuple[Crashable, str],
) -> None:
    crashable, db_url = server
    crashable.start(hold_sheet=3)  # each import waits 3 s between its inserts and commit
    headers = _key(db_url, "organizer")
    staged = crashable.root / SHEET_STAGED
    with httpx.Client(base_url=crashable.url, headers=headers, timeout=60) as client:
        r = client.post("/v1/events", json=EVENT)
        assert r.status_code == 201, r.text
        eid = r.json()["id"]
        with transaction(sessions_for(db_url)) as s:  # the schedule a solve would leave
            row = event_rows.get(s, eid)
            assert row is not None
            row.schedule = {"meetings": MEETINGS, "status": "optimal"}
        first = _sheet_rows(client, eid)
        _fill(first, "gear", "veneto", 出欠="実施", 関心度="強い")
        _fill(first, "veneto", "gear", 出欠="実施", 関心度="あり")
        r = client.post(f"/v1/events/{eid}/follow-ups/import", content=_csv(first))
        assert r.status_code == 200, r.text  # acknowledged
        assert r.json()["report"]["outcomes_written"] == 2

        second = _sheet_rows(client, eid)
        _fill(second, "gear", "uni", 出欠="実施", 関心度="強い")
        _fill(second, "uni", "gear", 出欠="実施", 関心度="あり")
        _fill(second, "uni", "bio", 出欠="欠席", 欠席者="相手")
        _fill(second, "gear", "veneto", **{"段階（3か月後）": "受注・契約"})
        answers: list[int] = []

        def post() -> None:
            with contextlib.suppress(httpx.HTTPError):  # the server is killed under it
                url = f"/v1/events/{eid}/follow-ups/import"
                answers.append(client.post(url, content=_csv(second)).status_code)

        thread = threading.Thread(target=post)
        thread.start()
        deadline = time.monotonic() + 60
        while not (staged.exists() and len(staged.read_text().splitlines()) >= 2):
            assert time.monotonic() < deadline, "the second import never staged its rows"
            time.sleep(0.01)
        crashable.kill()
        thread.join()
        assert answers == []  # not acknowledged

    crashable.start()
    with httpx.Client(base_url=crashable.url, headers=headers, timeout=60) as client:
        said = client.get(f"/v1/events/{eid}/outcomes/history").json()["items"]
        answered = client.get(f"/v1/events/{eid}/follow-ups/history").json()["items"]
        # the acknowledged import whole; of the killed one, nothing
        assert sorted(o["side"] for o in said) == ["gear", "veneto"], said
        assert answered == [], answered
        r = client.post(f"/v1/events/{eid}/follow-ups/import", content=_csv(second))
        assert r.status_code == 200, r.text  # the sheet goes in again, whole
        report = r.json()["report"]
        assert (report["outcomes_written"], report["follow_ups_written"]) == (3, 1), report
    print(
        f"\nsheet import crash ({db_url.split(':')[0]}): 2 outcomes acknowledged, 2 found; "
        f"the killed import (3 outcomes, 1 answer) left {len(said) - 2} and {len(answered)}"
    )
