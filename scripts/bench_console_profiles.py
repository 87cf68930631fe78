"""The console's profile list against the API call behind it, at 10,000 profiles (issue 17:
the list renders server-side within 1.5x of the API call).

    .venv/bin/python scripts/bench_console_profiles.py [--profiles 10000] [--rounds 40]

In one process, on SQLite in a temporary directory, with the hashing encoder (the list
reads no vectors): 10,000 synthetic profiles are imported, an organizer signs in, and
the script alternates GET /console/profiles?page=P (filters: none, kind, a name search)
with GET /v1/profiles?limit=50&offset=... of the same page, printing the median and p90
of each and the ratio console / API, with the machine it ran on. Not a test: figures
drift on a shared machine; compare ratios.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import statistics
import tempfile
import time
from pathlib import Path

from service.runtime import configure_process

configure_process()

# isort: split
from fastapi.testclient import TestClient  # noqa: E402

from models.encoders import HashingEncoder  # noqa: E402
from service.accounts import service as accounts  # noqa: E402
from service.app import create_app  # noqa: E402
from service.auth import create_key  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.store.db import transaction  # noqa: E402

KINDS = ("firm", "university", "trading_company", "research_institute")


def _profiles(n: int) -> bytes:
    lines = []
    for i in range(n):
        lines.append(
            json.dumps(
                {
                    "id": f"org-{i:06d}",
                    "name": f"株式会社ベンチ{i:06d}",
                    "kind": KINDS[i % len(KINDS)],
                    "country": "JP" if i % 3 else "IT",
                    "cluster": f"C{i % 20:02d}",
                    "description": "精密部品の製造と検査 " * 5,
                    "offers": ["精密加工", "検査"],
                    "needs": ["販路開拓"],
                },
                ensure_ascii=False,
            )
        )
    return "\n".join(lines).encode()


def _time(client: TestClient, url: str, headers: dict[str, str] | None = None) -> float:
    started = time.perf_counter()
    r = client.get(url, headers=headers or {})
    elapsed = time.perf_counter() - started
    assert r.status_code == 200, (url, r.status_code, r.text[:300])
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--profiles", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(  # capacity is measured, not the abuse limits (service.ops.guard)
            data_dir=Path(tmp) / "data",
            rate_limit_per_key=0,
            rate_limit_per_ip=0,
            index_save_interval_s=0,
            log_level="WARNING",
            native_ranker=False,
            sync_import_rows=args.profiles,
            _env_file=None,  # type: ignore[call-arg]
        )
        app = create_app(settings, encoder=HashingEncoder(dim=64))
        with TestClient(app) as client:
            while not app.state.engine.ready:
                time.sleep(0.05)
            with transaction(app.state.sessions) as s:
                _, key = create_key(s, "organizer", name="bench")
                user = accounts.create_user(s, email="bench@example.jp", role="organizer")
                accounts.set_password(
                    s, accounts.issue_password_link(s, user), "bench password long enough"
                )
            api = {"Authorization": f"Bearer {key}"}
            started = time.perf_counter()
            r = client.post(
                "/v1/profiles/import",
                content=_profiles(args.profiles),
                headers=api,
                params={"format": "jsonl"},
            )
            assert r.status_code == 200, r.text[:300]
            print(f"imported {args.profiles:,} profiles in {time.perf_counter() - started:.1f} s")
            page = client.get("/console/sign-in").text
            token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page)
            assert token
            signed = client.post(
                "/console/sign-in",
                data={
                    "email": "bench@example.jp",
                    "password": "bench password long enough",
                    "csrf_token": token.group(1),
                },
                follow_redirects=False,
            )
            assert signed.status_code == 303
            cases = {
                "all, page 100": ("page=100", "offset=4950"),
                "kind filter, page 20": ("kind=university&page=20", "kind=university&offset=950"),
            }
            print(
                f"machine: {platform.machine()}, {os.cpu_count()} CPUs, {platform.python_version()}"
            )
            for label, (console_q, api_q) in cases.items():
                console_t: list[float] = []
                api_t: list[float] = []
                for _ in range(args.rounds):
                    console_t.append(_time(client, f"/console/profiles?{console_q}"))
                    api_t.append(_time(client, f"/v1/profiles?limit=50&{api_q}", api))
                c50, a50 = statistics.median(console_t), statistics.median(api_t)
                c90 = statistics.quantiles(console_t, n=10)[-1]
                a90 = statistics.quantiles(api_t, n=10)[-1]
                print(
                    f"{label:>22}: console p50 {c50 * 1000:6.1f} ms p90 {c90 * 1000:6.1f} ms | "
                    f"API p50 {a50 * 1000:6.1f} ms p90 {a90 * 1000:6.1f} ms | "
                    f"ratio p50 {c50 / a50:.2f}"
                )
            search = [_time(client, "/console/profiles?q=ベンチ0099") for _ in range(args.rounds)]
            print(f"{'name search':>22}: console p50 {statistics.median(search) * 1000:6.1f} ms")


if __name__ == "__main__":
    main()
