"""The two helper processes of `scripts/bench_core.py`, step 5 (started by it, not by hand):

    python scripts/_bench_util.py serve --data-dir DIR --port PORT [--workers N]
    python scripts/_bench_util.py client --url http://127.0.0.1:PORT --profiles N
        --requests R --concurrency C --budget-s S --out FILE      (API key in $KEY_ENV)

`serve` runs the real app (`create_app(settings, encoder=HashingEncoder(dim=512))`) under
uvicorn on 127.0.0.1 and reconciles from the index saved in DIR. `client` drives
`GET /v1/profiles/{id}/matches` over random profiles and purposes with an httpx async
client and writes latencies, statuses and its peak RSS as JSON. The client imports only
the standard library and httpx, so that it stays small and does not share the server's
interpreter (GIL).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import resource
import sys
import time
from pathlib import Path
from typing import Any

KEY_ENV = "CLUSTERMATCH_BENCH_KEY"
PURPOSES = ("partner", "buyer", "overseas", "academia")
SEED = 20240601
LOOPBACK = "http://127.0.0.1:"


def peak_rss_mib() -> float:
    """This process's peak RSS. VmHWM, not ru_maxrss: on Linux a process started by
    fork + exec inherits its parent's ru_maxrss."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


DATA_ENV = "CLUSTERMATCH_BENCH_DATA_DIR"


def bench_app() -> Any:
    """The app factory each uvicorn worker calls (data directory from $DATA_ENV)."""
    from models.encoders import HashingEncoder
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(  # capacity is measured, not the abuse limits (service.ops.guard)
        data_dir=Path(os.environ[DATA_ENV]),
        rate_limit_per_key=0,
        rate_limit_per_ip=0,
        index_save_interval_s=0,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )
    return create_app(settings, encoder=HashingEncoder(dim=512))


def serve(data_dir: Path, port: int, workers: int = 1) -> None:
    from service.runtime import configure_process

    configure_process()  # before the app factory loads numpy, as `clustermatch serve` does
    from service.cli import run_server

    os.environ[DATA_ENV] = str(data_dir)
    sys.path.insert(0, str(Path(__file__).resolve().parent))  # workers import this module
    run_server("_bench_util:bench_app", host="127.0.0.1", port=port, workers=workers)


async def _drive(args: argparse.Namespace, key: str) -> dict[str, Any]:
    import httpx

    rng = random.Random(SEED + 2)
    warm_n = 4 * args.concurrency
    plan = [
        (f"org-{rng.randrange(args.profiles):06d}", rng.choice(PURPOSES))
        for _ in range(args.requests + warm_n)
    ]
    warm, plan = plan[:warm_n], plan[warm_n:]
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    # Kept-alive connections stay with the worker process that accepted them: with a few
    # of them, several workers may end up serving one client unevenly. --fresh opens a
    # connection per request (many clients, or a proxy, spread over the workers).
    limits = httpx.Limits(
        max_connections=args.concurrency,
        max_keepalive_connections=0 if args.fresh else args.concurrency,
    )
    async with httpx.AsyncClient(
        base_url=args.url,
        headers={"Authorization": f"Bearer {key}"},
        limits=limits,
        timeout=60,
    ) as client:

        async def run(items: list[tuple[str, str]], record: bool) -> None:
            it = iter(items)
            deadline = time.perf_counter() + args.budget_s

            async def worker() -> None:
                for pid, purpose in it:
                    t0 = time.perf_counter()
                    if t0 > deadline:  # bounded in time as well as in count
                        break
                    try:
                        r = await client.get(
                            f"/v1/profiles/{pid}/matches", params={"purpose": purpose}
                        )
                        status = str(r.status_code)
                        if r.status_code == 200 and not r.json().get("count"):
                            status = "200-empty"
                    except httpx.HTTPError as exc:
                        status = type(exc).__name__
                    dt = time.perf_counter() - t0
                    if record:
                        latencies.append(dt)
                        statuses[status] = statuses.get(status, 0) + 1

            await asyncio.gather(*(worker() for _ in range(args.concurrency)))

        await run(warm, record=False)
        t0, cpu0 = time.perf_counter(), time.process_time()
        await run(plan, record=True)
        wall = time.perf_counter() - t0
        # the client shares the 2 cores with the server: what it takes is not the server's
        cpu = time.process_time() - cpu0
    return {
        "latencies_s": latencies,
        "statuses": statuses,
        "errors": sum(v for s, v in statuses.items() if s != "200"),
        "wall_s": wall,
        "rps": len(latencies) / wall if wall > 0 else 0.0,
        "cpu_ms_per_request": cpu * 1e3 / max(1, len(latencies)),
        "planned": len(plan),
        "capped": len(latencies) < len(plan),
    }


def client(args: argparse.Namespace) -> None:
    if not str(args.url).startswith(LOOPBACK):
        raise SystemExit("the benchmark client only talks to 127.0.0.1")
    out = asyncio.run(_drive(args, os.environ[KEY_ENV]))
    out["maxrss_mib"] = peak_rss_mib()
    Path(args.out).write_text(json.dumps(out))


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description="helper processes of scripts/bench_core.py")
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("serve")
    s.add_argument("--data-dir", type=Path, required=True)
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--workers", type=int, default=1)
    c = sub.add_parser("client")
    c.add_argument("--url", required=True)
    c.add_argument("--profiles", type=int, required=True)
    c.add_argument("--requests", type=int, default=2000)
    c.add_argument("--concurrency", type=int, default=8)
    c.add_argument("--budget-s", type=float, default=300)
    c.add_argument("--out", required=True)
    c.add_argument("--fresh", action="store_true", help="a new connection per request")
    args = p.parse_args(argv)
    if args.mode == "serve":
        serve(args.data_dir, args.port, args.workers)
    else:
        client(args)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
