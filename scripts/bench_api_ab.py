"""API latency of two versions side by side: the same store served by a baseline checkout
and by this one at once, the client alternating bursts between them, so that both meet the
same machine (absolute timings drift by tens of percent on a shared 2-core machine).

    .venv/bin/python scripts/bench_api_ab.py --base ../base --data-dir D \
        [--workers 2] [--fresh-connections] [--levels 1,2,4] [--bursts 6] [--requests 80] \
        [--hide-in-base httptools,uvloop] [--warm 200]

`--data-dir` is a store that `bench_core.py --workdir W` left (W/api-data), or any data
directory of synthetic profiles `org-000000`...; the script adds an admin key to it.
`--base` is another checkout (e.g. `git worktree add ../base <commit>`), served with this
virtual environment; `--hide-in-base` makes modules unimportable there (a dependency the
baseline did not have). Prints p50 / p90 / p99, requests/s and the client's CPU per
request for each version and concurrency level, and the ratios new / base.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from service.runtime import configure_process

configure_process()  # first: one OpenBLAS thread, as in the servers it measures

# isort: split
import numpy as np  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from _bench_util import KEY_ENV  # noqa: E402
from bench_core import _free_port, _stop, _wait_ready, log, serve_command  # noqa: E402


def admin_key(data_dir: Path) -> str:
    from service.auth import create_key
    from service.settings import Settings
    from service.store.db import make_engine, make_sessionmaker, transaction

    settings = Settings(data_dir=data_dir, _env_file=None)  # type: ignore[call-arg]
    db = make_engine(settings.resolved_database_url)
    try:
        with transaction(make_sessionmaker(db)) as s:
            _, key = create_key(s, "admin", name="bench_api_ab")
    finally:
        db.dispose()
    return key


def start(
    checkout: Path, data_dir: Path, args: argparse.Namespace, port: int, hide: Path | None
) -> Any:
    env = dict(os.environ)
    path = [str(hide)] if hide else []
    env["PYTHONPATH"] = os.pathsep.join([*path, str(checkout)])
    logf = open(Path(tempfile.gettempdir()) / f"bench_api_ab-{port}.log", "wb")  # noqa: SIM115
    return subprocess.Popen(
        serve_command(checkout / "scripts" / "_bench_util.py", data_dir, port, args.workers),
        cwd=checkout,
        env=env,
        stdout=logf,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def ranker_status(url: str, key: str) -> dict[str, Any]:
    """GET /v1/ranker's method, and whether scoring runs compiled code (None: a version
    without that field); waits up to a minute for a background compile."""
    req = urllib.request.Request(f"{url}/v1/ranker", headers={"Authorization": f"Bearer {key}"})
    status: dict[str, Any] = {}
    for _ in range(60):
        with urllib.request.urlopen(req, timeout=10) as resp:
            status = json.load(resp)
        if status.get("native", True) or status["method"] != "learned":
            break
        time.sleep(1)
    return {"method": status.get("method"), "native": status.get("native")}


def burst(
    url: str,
    args: argparse.Namespace,
    key: str,
    level: int,
    out: Path,
    requests: int | None = None,
) -> dict[str, Any]:
    cmd = [
        sys.executable,
        str(HERE / "_bench_util.py"),
        "client",
        "--url",
        url,
        "--profiles",
        str(args.profiles),
        "--requests",
        str(requests or args.requests),
        "--concurrency",
        str(level),
        "--out",
        str(out),
        *(["--fresh"] if args.fresh_connections else []),
    ]
    subprocess.run(cmd, env={**os.environ, KEY_ENV: key}, check=True, timeout=1200)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def summary(runs: list[dict[str, Any]]) -> dict[str, float]:
    lat = np.concatenate([r["latencies_s"] for r in runs]) * 1e3
    return {
        "n": float(lat.size),
        "p50": float(np.percentile(lat, 50)),
        "p90": float(np.percentile(lat, 90)),
        "p99": float(np.percentile(lat, 99)),
        "rps": float(np.mean([r["rps"] for r in runs])),
        "errors": float(sum(r["errors"] for r in runs)),
        "client_cpu_ms": float(np.mean([r.get("cpu_ms_per_request", np.nan) for r in runs])),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--base", type=Path, required=True, help="baseline checkout")
    p.add_argument("--data-dir", type=Path, required=True, help="store both versions serve")
    p.add_argument(
        "--base-data-dir",
        type=Path,
        help="a copy of the store for the baseline, when its files differ (e.g. a re-ranker "
        "trained by the baseline's code); default: --data-dir",
    )
    p.add_argument("--profiles", type=int, default=100_000, help="profiles in the store")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--fresh-connections", action="store_true")
    p.add_argument("--levels", default="1,2,4", help="concurrency levels")
    p.add_argument("--bursts", type=int, default=6, help="bursts per version and level")
    p.add_argument("--requests", type=int, default=80, help="requests per burst")
    p.add_argument(
        "--warm",
        type=int,
        default=200,
        help="requests to each version before measuring, 2 in flight, not counted: the "
        "first requests of each filter build its blocks in the background (0: none)",
    )
    p.add_argument("--hide-in-base", default="", help="modules the baseline must not import")
    p.add_argument("--json-out", type=Path)
    args = p.parse_args(argv)
    levels = [int(v) for v in args.levels.split(",") if v.strip()]
    data_dirs = {"base": args.base_data_dir or args.data_dir, "new": args.data_dir}
    keys = {name: admin_key(d) for name, d in data_dirs.items()}
    work = Path(tempfile.mkdtemp(prefix="bench_api_ab-"))
    hide = None
    if args.hide_in_base:
        hide = work / "hidden"
        hide.mkdir()
        for name in args.hide_in_base.split(","):
            (hide / f"{name.strip()}.py").write_text('raise ImportError("hidden")\n')
    versions = {"base": args.base.resolve(), "new": HERE.parent}
    ports = {name: _free_port() for name in versions}
    t0 = time.perf_counter()
    servers = {
        name: start(path, data_dirs[name], args, ports[name], hide if name == "base" else None)
        for name, path in versions.items()
    }
    results: dict[int, dict[str, list[dict[str, Any]]]] = {}
    try:
        for name, server in servers.items():
            url = f"http://127.0.0.1:{ports[name]}"
            log(f"{name}: ready after {_wait_ready(server, url, t0, 900):.0f} s")
            log(f"{name}: ranking in use {ranker_status(url, keys[name])}")
            if args.warm:
                burst(url, args, keys[name], 2, work / f"{name}-warm.json", args.warm)
                log(f"{name}: warmed with {args.warm} requests")
        for level in levels:
            results[level] = {name: [] for name in versions}
            for b in range(args.bursts):
                order = list(versions) if b % 2 == 0 else list(versions)[::-1]
                for name in order:
                    out = work / f"{name}-{level}-{b}.json"
                    url = f"http://127.0.0.1:{ports[name]}"
                    results[level][name].append(burst(url, args, keys[name], level, out))
    finally:
        for server in servers.values():
            _stop(server)
    report: dict[str, Any] = {}
    print(f"\nworkers {args.workers}, fresh connections {args.fresh_connections}")
    print("level version     p50      p90      p99    req/s  errors  client ms/req")
    for level, by_version in results.items():
        rows = {name: summary(runs) for name, runs in by_version.items()}
        report[str(level)] = rows
        for name, s in rows.items():
            print(
                f"{level:5d} {name:7s} {s['p50']:6.1f}   {s['p90']:6.1f}   {s['p99']:6.1f}   "
                f"{s['rps']:6.1f}  {s['errors']:6.0f}  {s['client_cpu_ms']:6.1f}"
            )
        b, n = rows["base"], rows["new"]
        print(
            f"{level:5d} new/base {n['p50'] / b['p50']:6.2f}x  {n['p90'] / b['p90']:6.2f}x  "
            f"{n['p99'] / b['p99']:6.2f}x  {n['rps'] / b['rps']:6.2f}x"
        )
    if args.json_out:
        args.json_out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
