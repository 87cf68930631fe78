"""The load of `scripts/soak.py` (run by it through the `locust` command, not by hand).

Each simulated client uses one admin key ($SOAK_KEY) against the seeded profiles
org-000000... ($SOAK_PROFILES of them) with this mix, by task weight:
- 80 %: `GET /v1/profiles/{id}/matches` (50) and `POST /v1/search` (30);
- 15 %: `PUT /v1/profiles/{id}` on a pool of 1,000 soak ids (created, then replaced);
- 5 %: a 20-row JSONL import (synchronous, under `sync_import_rows`) (3), and event work
  (2): create an event, schedule it (a job, polled), export its CSV, delete it.
Every request is recorded (time, route, milliseconds, ok) and written as JSON to
$SOAK_SAMPLES when locust stops, for soak.py's windows. A response other than the one the
route documents for success counts as an error, and so does a schedule job that fails.
Locust brings gevent: it runs in its own process, never in the server's.
"""

from __future__ import annotations

import json
import os
import random
import time
from typing import Any

from locust import FastHttpUser, between, events, task

PURPOSES = ("partner", "buyer", "overseas", "academia")
QUERIES = (
    "精密部品の加工",
    "precision machining partner",
    "自動車部品 試作",
    "food packaging export",
    "IoT sensors for factories",
    "医療機器 部品",
)
SAMPLES: list[tuple[float, str, float, bool]] = []


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None,
    **_: Any,
) -> None:
    SAMPLES.append((time.time(), name, float(response_time), exception is None))


@events.quitting.add_listener
def _dump(**_: Any) -> None:
    out = os.environ.get("SOAK_SAMPLES")
    if out:
        with open(out, "w") as f:
            json.dump(SAMPLES, f)


def _profile(pid: str, rng: random.Random) -> dict[str, Any]:
    i = rng.randrange(1_000_000)
    return {
        "id": pid,
        "name": f"ソーク工業{i}",
        "kind": "firm",
        "country": "JP",
        "offers": [f"精密部品{i % 211}", f"加工{i % 89}"],
        "needs": [f"販路{i % 53}"],
        "description": f"soak company {i}, making parts of kind {i % 401}",
    }


def _event_doc(rng: random.Random) -> dict[str, Any]:
    n, slots = 16, 6
    people = [{"id": f"p{i:03d}", "name": f"会社{i}", "min": 1} for i in range(n)]
    pairs = {(i, j) for i in range(n) for j in rng.sample(range(n), 4) if i != j}
    wishes = [
        {"from": f"p{i:03d}", "to": f"p{j:03d}", "level": rng.choice(["must", "want", "want"])}
        for i, j in sorted(pairs)
    ]
    return {
        "name": "ソーク商談会",
        "slots": slots,
        "tables": 4,
        "participants": people,
        "wishes": wishes,
        "timezone": "Asia/Tokyo",
        "slot_minutes": 20,
        "slot_times": [f"2026-06-10T{13 + k // 3:02d}:{20 * (k % 3):02d}" for k in range(slots)],
    }


class Client(FastHttpUser):
    wait_time = between(0.05, 0.25)  # steady, not saturating: latency under a known load

    def on_start(self) -> None:
        self.rng = random.Random()
        self.n = int(os.environ["SOAK_PROFILES"])
        self.auth = {"Authorization": f"Bearer {os.environ['SOAK_KEY']}"}

    def _seeded(self) -> str:
        return f"org-{self.rng.randrange(self.n):06d}"

    @task(50)
    def matches(self) -> None:
        self.client.get(
            f"/v1/profiles/{self._seeded()}/matches",
            params={"purpose": self.rng.choice(PURPOSES)},
            headers=self.auth,
            name="GET /v1/profiles/{id}/matches",
        )

    @task(30)
    def search(self) -> None:
        body = {"text": self.rng.choice(QUERIES), "purpose": self.rng.choice(PURPOSES)}
        self.client.post("/v1/search", json=body, headers=self.auth, name="POST /v1/search")

    @task(15)
    def write_profile(self) -> None:
        pid = f"soak-{self.rng.randrange(1000):04d}"
        self.client.put(
            f"/v1/profiles/{pid}",
            json=_profile(pid, self.rng),
            headers=self.auth,
            name="PUT /v1/profiles/{id}",
        )

    @task(3)
    def import_rows(self) -> None:
        start = self.rng.randrange(0, 480)
        rows = "\n".join(
            json.dumps(_profile(f"soakimp-{k:04d}", self.rng), ensure_ascii=False)
            for k in range(start, start + 20)
        )
        with self.client.post(
            "/v1/profiles/import",
            data=rows.encode(),  # type: ignore[arg-type]  # (bytes are sent as they are)
            params={"format": "jsonl"},
            headers=self.auth,
            name="POST /v1/profiles/import",
            catch_response=True,
        ) as r:
            if r.status_code != 200:  # 20 rows are under sync_import_rows: no job
                r.failure(f"{r.status_code}: {r.text[:200]}")

    @task(2)
    def event_work(self) -> None:
        r = self.client.post(
            "/v1/events", json=_event_doc(self.rng), headers=self.auth, name="POST /v1/events"
        )
        if r.status_code != 201:
            return
        eid = r.json()["id"]
        r = self.client.post(
            f"/v1/events/{eid}/schedule",
            params={"time_limit": 2},
            headers=self.auth,
            name="POST /v1/events/{id}/schedule",
        )
        if r.status_code != 202:
            return
        assert r.headers is not None
        location = str(r.headers["location"])
        deadline = time.monotonic() + 60
        while True:
            with self.client.get(
                location, headers=self.auth, name="GET /v1/jobs/{id}", catch_response=True
            ) as j:
                status = j.json().get("status") if j.status_code == 200 else None
                if status == "failed" or (status is None and j.status_code == 200):
                    j.failure(f"schedule job: {j.text[:300]}")
                    return
                if status == "succeeded":
                    break
                if time.monotonic() > deadline:
                    j.failure("schedule job still running after 60 s")
                    return
            time.sleep(0.2)
        self.client.get(
            f"/v1/events/{eid}/exports/schedule.csv",
            headers=self.auth,
            name="GET /v1/events/{id}/exports/schedule.csv",
        )
        self.client.delete(f"/v1/events/{eid}", headers=self.auth, name="DELETE /v1/events/{id}")
