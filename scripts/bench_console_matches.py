"""A member's matches page against the API call behind it, on a large saved store (issue 17:
the page renders server-side within 1.5x of the API call, at 100,000 profiles).

    .venv/bin/python scripts/bench_console_matches.py --data-dir W/api-data [--rounds 60]
        [--profiles org-000123,org-004567,...]

`--data-dir` is a store that `bench_core.py --workdir W` left (W/api-data: synthetic
profiles org-000000..., the HashingEncoder(512) vectors, history and trained re-rankers);
use a copy, since the app adds its tables (migrations) and a bench user and key. In one
process the app starts as in production (`create_app`, lifespan, reconcile) behind
Starlette's TestClient; a member user bound to each profile signs in through the form.
For each purpose the script alternates GET /console/me/matches?purpose=P with
GET /v1/profiles/{id}/matches?purpose=P&k=20&lang=ja (the same engine call: 20 results,
reasons in Japanese), and prints the median and p90 of each and the ratio page / API.
Not a test: figures drift on a shared machine; compare the ratios.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from service.runtime import configure_process

configure_process()

# isort: split
from fastapi.testclient import TestClient  # noqa: E402

PASSWORD = "bench password, long enough"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')
PURPOSES = ("partner", "buyer", "overseas")


def _member(app: object, profile_id: str, n: int) -> tuple[str, str]:
    from service.accounts import service as accounts
    from service.auth import create_key
    from service.store.db import transaction

    sessions = app.state.sessions  # type: ignore[attr-defined]
    email = f"bench-{n}-{time.time_ns()}@example.jp"
    with transaction(sessions) as s:
        user = accounts.create_user(s, email=email, role="member", profile_id=profile_id)
        accounts.set_password(s, accounts.issue_password_link(s, user), PASSWORD)
        _, key = create_key(s, "admin", name="bench_console_matches")
    return email, key


def _signed_in(app: object, email: str) -> TestClient:
    client = TestClient(app, raise_server_exceptions=True, follow_redirects=False)  # type: ignore[arg-type]
    page = client.get("/console/sign-in")
    token = CSRF.search(page.text)
    assert token, "no CSRF field on the sign-in page"
    r = client.post(
        "/console/sign-in", data={"email": email, "password": PASSWORD, "csrf_token": token[1]}
    )
    assert r.status_code == 303, r.text[:300]
    return client


def _ms(client: TestClient, url: str, headers: dict[str, str] | None = None) -> float:
    t0 = time.perf_counter()
    r = client.get(url, headers=headers or {})
    took = (time.perf_counter() - t0) * 1000
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return took


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--rounds", type=int, default=60, help="page / API pairs per purpose")
    parser.add_argument(
        "--profiles", default="org-000123,org-004567,org-031415,org-077777,org-099001"
    )
    args = parser.parse_args(argv)

    from models.encoders import HashingEncoder
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(  # capacity is measured, not the abuse limits (service.ops.guard)
        data_dir=args.data_dir,
        rate_limit_per_key=0,
        rate_limit_per_ip=0,
        index_save_interval_s=0,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )
    app = create_app(settings, encoder=HashingEncoder(dim=512))
    ids = [p.strip() for p in args.profiles.split(",") if p.strip()]
    t0 = time.perf_counter()
    with TestClient(app) as boot:
        while boot.get("/readyz").status_code != 200:
            time.sleep(0.5)
        print(f"ready after {time.perf_counter() - t0:.0f} s ({args.data_dir})")
        members = [(_member(app, pid, n), pid) for n, pid in enumerate(ids)]
        clients = [(_signed_in(app, email), key, pid) for (email, key), pid in members]
        machine = f"{platform.machine()}, {os.cpu_count()} CPUs"
        print(f"machine: {machine}, python {platform.python_version()}")
        print("purpose   page p50  page p90   api p50   api p90   page/api p50  p90")
        for purpose in PURPOSES:
            page_ms: list[float] = []
            api_ms: list[float] = []
            for client, _, _ in clients:  # warm-up: each filter's first call
                _ms(client, f"/console/me/matches?purpose={purpose}")
            for i in range(args.rounds):
                client, key, pid = clients[i % len(clients)]
                page = f"/console/me/matches?purpose={purpose}"
                api = f"/v1/profiles/{pid}/matches?purpose={purpose}&k=20&lang=ja"
                auth = {"Authorization": f"Bearer {key}"}
                first, second = (page, api) if i % 2 == 0 else (api, page)
                for url in (first, second):
                    took = _ms(client, url, auth if url == api else None)
                    (api_ms if url == api else page_ms).append(took)
            p50 = (statistics.median(page_ms), statistics.median(api_ms))
            p90 = (
                statistics.quantiles(page_ms, n=10)[-1],
                statistics.quantiles(api_ms, n=10)[-1],
            )
            print(
                f"{purpose:9s} {p50[0]:8.1f}  {p90[0]:8.1f}  {p50[1]:8.1f}  {p90[1]:8.1f}"
                f"   {p50[0] / p50[1]:10.2f}x  {p90[0] / p90[1]:.2f}x"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
