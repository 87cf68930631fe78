"""Speed of the console's server-rendered pages (issue 17: "the schedule grid of a
300-participant, 14-slot event renders in under 1 s"), in process, no server:

    .venv/bin/python scripts/bench_console.py [--only schedule_grid] [--repeat 15]
        [--participants 300] [--slots 14] [--time-limit 20]

The app runs as it does in production (`create_app`, its lifespan, SQLite in a temporary
data directory, the HashingEncoder in place of the model) behind Starlette's TestClient;
a console user signs in through the sign-in form. Each page is fetched `--repeat` times
after one warm-up; the figures are the server's whole answer (routing, session, database,
template), median and p95, with the API call behind the page timed the same way for
comparison.

Benches are functions `bench_<name>(bench: Bench, args) -> Result`, listed in BENCHES; each
builds what it needs through `bench` (the app, users, an organizer's client). Issue 17's
other figures (the profile list at 10,000 profiles and a matches page at 100,000, each
against its API call) belong here as `bench_profile_list` and `bench_matches`.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import random
import re
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from fastapi.testclient import TestClient

PASSWORD = "bench password, long enough"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')


# ---------------------------------------------------------------------------- the harness


@dataclass
class Result:
    name: str
    figures: dict[str, float] = field(default_factory=dict)  # name -> value (ms, bytes, ...)
    notes: list[str] = field(default_factory=list)


def timed(fetch: Callable[[], Any], repeat: int) -> list[float]:
    """Milliseconds of each of `repeat` calls, after one warm-up call."""
    fetch()
    out = []
    for _ in range(repeat):
        started = time.perf_counter()
        fetch()
        out.append((time.perf_counter() - started) * 1000)
    return out


def p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]


class Bench:
    """The running app and what benches need of it."""

    def __init__(self, client: TestClient) -> None:
        self.client = client
        self.app: Any = client.app
        self._n = 0

    def user(self, role: str = "organizer", profile_id: str | None = None) -> tuple[str, Any]:
        """(email, principal) of a new user with a password."""
        from service.accounts import service as accounts
        from service.store.db import transaction

        self._n += 1
        email = f"bench-{role}{self._n}@example.jp"
        with transaction(self.app.state.sessions) as s:
            row = accounts.create_user(s, email=email, role=role, profile_id=profile_id)
            accounts.set_password(s, accounts.issue_password_link(s, row), PASSWORD)
            return email, accounts.principal_for_user(row)

    def signed_in(self, email: str) -> TestClient:
        client = TestClient(self.app, raise_server_exceptions=True, follow_redirects=False)
        page = client.get("/console/sign-in")
        token = CSRF.search(page.text)
        assert token, "no CSRF field on the sign-in page"
        r = client.post(
            "/console/sign-in",
            data={"email": email, "password": PASSWORD, "csrf_token": token.group(1)},
        )
        assert r.status_code == 303, r.text[:500]
        return client

    def api_key(self, role: str = "admin") -> dict[str, str]:
        from service.auth import create_key
        from service.store.db import transaction

        with transaction(self.app.state.sessions) as s:
            _, key = create_key(s, role, name="bench")  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {key}"}


@contextmanager
def running_app() -> Iterator[Bench]:
    from models.encoders import HashingEncoder
    from service.app import create_app
    from service.settings import Settings

    with tempfile.TemporaryDirectory(prefix="bench-console-") as tmp:
        settings = Settings(  # capacity is measured, not the abuse limits (service.ops.guard)
            data_dir=Path(tmp) / "data",
            rate_limit_per_key=0,
            rate_limit_per_ip=0,
            index_save_interval_s=0,
            log_level="WARNING",
            native_ranker=False,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = create_app(settings, encoder=HashingEncoder(dim=64))
        with TestClient(app, raise_server_exceptions=True) as client:
            yield Bench(client)


# ---------------------------------------------------------------------------- schedule grid


def schedule_doc(n: int, slots: int, seed: int) -> dict[str, Any]:
    """A 商談会 like bench_schedule.py's: buyers (35 %) and suppliers meeting across
    groups, a lunch slot nobody meets in, a fifth of the participants away for a few
    slots, ~10 wishes each, tables for 35 % of the participants, slot times in Tokyo."""
    rng = random.Random(seed)
    lunch = slots // 2
    everyone = [s for s in range(slots) if s != lunch]
    n_buyers = max(2, round(0.35 * n))
    people: list[dict[str, Any]] = []
    for i in range(n):
        available = everyone
        if rng.random() < 0.2:
            start = rng.randrange(slots)
            gone = set(range(start, start + rng.randint(2, 5)))
            available = [s for s in everyone if s not in gone]
        buyer = i < n_buyers
        people.append(
            {
                "id": f"{'b' if buyer else 's'}{i}",
                "name": f"{'バイヤー' if buyer else 'サプライヤー'}株式会社 {i}",
                "group": "buyer" if buyer else "supplier",
                "available": available,
                "min": rng.randint(2, 4),
                "max": rng.randint(6, slots),
            }
        )
    buyers, suppliers = people[:n_buyers], people[n_buyers:]
    wishes = []
    for p in people:
        others = suppliers if p["group"] == "buyer" else buyers
        for target in rng.sample(others, min(len(others), max(1, round(rng.gauss(10, 2))))):
            r = rng.random()
            level = "must" if r < 0.2 else "want" if r < 0.9 else "no"
            wishes.append({"from": p["id"], "to": target["id"], "level": level})
    # (a `no` one way and a must the other is a contradiction only within one side)
    start = dt.datetime(2026, 6, 10, 10, 0)
    return {
        "slots": slots,
        "tables": max(1, round(0.35 * n)),
        "participants": people,
        "allow": [["buyer", "supplier"]],
        "wishes": wishes,
        "timezone": "Asia/Tokyo",
        "slot_minutes": 20,
        "slot_times": [
            (start + dt.timedelta(minutes=25 * k)).strftime("%Y-%m-%dT%H:%M") for k in range(slots)
        ],
    }


def bench_schedule_grid(bench: Bench, args: argparse.Namespace) -> Result:
    """GET /console/events/{id}/schedule/grid of a solved event (the solve is the console's
    own: the run form, then the job polled through the progress fragment)."""
    from service.events import service as events
    from service.store.db import transaction

    result = Result("schedule_grid")
    email, principal = bench.user("organizer")
    doc = schedule_doc(args.participants, args.slots, args.seed)
    with transaction(bench.app.state.sessions) as s:
        event_id = events.create(s, principal, {"name": "ベンチ商談会", **doc}).id
    client = bench.signed_in(email)
    base = f"/console/events/{event_id}/schedule"
    token = CSRF.search(client.get(base).text)
    assert token
    started = time.perf_counter()
    r = client.post(
        f"{base}/run", data={"time_limit": str(args.time_limit), "csrf_token": token.group(1)}
    )
    assert r.status_code == 303, r.text[:500]
    job = r.headers["location"].split("job=")[1]
    while True:
        poll = client.get(f"{base}/jobs/{job}", headers={"HX-Request": "true"})
        if "HX-Redirect" in poll.headers:
            break
        assert poll.status_code == 200, poll.text[:500]
        time.sleep(0.25)
    result.notes.append(
        f"solved in {time.perf_counter() - started:.1f} s (time limit {args.time_limit:g} s)"
    )

    page = client.get(f"{base}/grid")
    assert page.status_code == 200
    meetings = page.text.count('class="meeting')
    tables = len(doc["participants"]) and doc["tables"]
    result.notes.append(
        f"{args.participants} participants, {args.slots} slots, {tables} tables, "
        f"{meetings} meetings in the grid, page {len(page.content) / 1024:.0f} KiB"
    )
    grid_ms = timed(lambda: client.get(f"{base}/grid"), args.repeat)
    api = bench.api_key("admin")
    api_ms = timed(lambda: client.get(f"/v1/events/{event_id}/schedule", headers=api), args.repeat)
    result.figures = {
        "grid median ms": statistics.median(grid_ms),
        "grid p95 ms": p95(grid_ms),
        "API GET /schedule median ms": statistics.median(api_ms),
        "ratio grid / API (medians)": statistics.median(grid_ms) / statistics.median(api_ms),
    }
    target = "PASS" if p95(grid_ms) < 1000 else "FAIL"
    result.notes.append(f"target: grid under 1 s server-side: {target} (p95)")
    return result


BENCHES: dict[str, Callable[[Bench, argparse.Namespace], Result]] = {
    "schedule_grid": bench_schedule_grid,
    # "profile_list": bench_profile_list,   (10,000 profiles, against GET /v1/profiles)
    # "matches": bench_matches,             (100,000 profiles, against GET .../matches)
}


# ---------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=sorted(BENCHES), action="append")
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--participants", type=int, default=300)
    parser.add_argument("--slots", type=int, default=14)
    parser.add_argument("--time-limit", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)

    print(
        f"machine: {platform.platform()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; in-process ASGI (TestClient), SQLite, HashingEncoder"
    )
    with running_app() as bench:
        for name in args.only or list(BENCHES):
            result = BENCHES[name](bench, args)
            print(f"\n{result.name}")
            for note in result.notes:
                print(f"  {note}")
            for key, value in result.figures.items():
                print(f"  {key:32} {value:10.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
