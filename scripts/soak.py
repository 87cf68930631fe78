"""Soak: a steady mixed load on a real server, bounded in time (issue 21).

    python scripts/soak.py [--profiles 10000] [--duration 1800] [--window 300]
        [--workers 2] [--users 8] [--warmup 60] [--encoder hashing|model] [--workdir DIR]

1. Seeds `--profiles` synthetic profiles (scripts/bench_core.make_profiles, ids
   org-000000...) into a fresh SQLite store in the work directory, through the service's
   own `save_profiles`, saves the index and makes an admin key (`--database-url`: an
   empty PostgreSQL database or schema instead). `--encoder hashing` (the
   default) uses HashingEncoder(512) in the server as in the benchmarks; `model` the
   configured embedding model (each worker loads it).
2. Starts the server as `clustermatch serve` does (service.cli.run_server, `--workers`
   uvicorn workers) with the abuse limits off (the load is from one address and one key:
   capacity is measured, not service.ops.guard), and waits for /readyz 200.
3. Runs locust headless (scripts/soak_locustfile.py, in its own process: gevent stays out
   of this one) for `--duration` seconds: ~80 % matches and searches, 15 % profile writes,
   5 % imports and event work (create, schedule, export, delete).
4. Prints requests and errors, p50 / p99 per route per `--window`, and the RSS of each
   worker when ready, after `--warmup` seconds of load (caches filled: the baseline of
   the growth), at the end of each window and at the end.

Exit status 1 when any request failed. The pytest test tests/service/ops/test_soak.py runs a
short version (`--json FILE` writes the figures for it). The machine is shared:
latencies are a loaded machine's.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA_ENV = "CLUSTERMATCH_SOAK_DATA_DIR"
ENCODER_ENV = "CLUSTERMATCH_SOAK_ENCODER"
DB_ENV = "CLUSTERMATCH_SOAK_DATABASE_URL"


def _settings(data_dir: Path) -> Any:
    from service.settings import Settings

    return Settings(  # capacity under a mixed load is measured, not the abuse limits
        data_dir=data_dir,
        database_url=os.environ.get(DB_ENV) or None,
        rate_limit_per_key=0,
        rate_limit_per_ip=0,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )


def _encoder(settings: Any) -> Any:
    if os.environ.get(ENCODER_ENV, "hashing") == "model":
        from service.resources import load_encoder

        return load_encoder(settings)
    from models.encoders import HashingEncoder

    return HashingEncoder(dim=512)


def soak_app() -> Any:
    """The app factory each uvicorn worker calls (data directory from $DATA_ENV)."""
    from service.app import create_app

    settings = _settings(Path(os.environ[DATA_ENV]))
    return create_app(settings, encoder=_encoder(settings))


def serve(data_dir: Path, port: int, workers: int) -> None:
    from service.runtime import configure_process

    configure_process()  # before numpy loads, as `clustermatch serve` does
    from service.cli import run_server

    os.environ[DATA_ENV] = str(data_dir)
    sys.path.insert(0, str(HERE))  # the workers import this module
    run_server("soak:soak_app", host="127.0.0.1", port=port, workers=workers)


def seed(data_dir: Path, n: int) -> str:
    """`n` profiles through save_profiles, the index saved; returns an admin key."""
    sys.path.insert(0, str(HERE))
    from bench_core import make_profiles, open_store

    from service.auth import create_key
    from service.profiles.service import save_profiles
    from service.resources import build_engine
    from service.store.db import transaction

    settings = _settings(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db, sessions = open_store(settings.resolved_database_url)
    try:
        engine = build_engine(settings, _encoder(settings), sessions)
        profiles = make_profiles(n)
        for start in range(0, n, 2000):
            save_profiles(engine, sessions, profiles[start : start + 2000])
        engine.save()
        with transaction(sessions) as s:
            _, key = create_key(s, "admin", name="soak")
    finally:
        db.dispose()
    return key


# ------------------------------------------------------------------ processes and memory


def _rss_mib(pid: int) -> float | None:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return None


def workers_of(pid: int) -> list[int]:
    """uvicorn's worker processes under the supervisor `pid` (multiprocessing spawns
    them; its resource tracker is not one)."""
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    cmd = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
                    if b"spawn_main" in cmd or b"soak.py" in cmd:
                        out.append(int(child))
    return sorted(out)


def rss_by_worker(pid: int) -> dict[int, float]:
    pids = workers_of(pid) or [pid]  # one worker: uvicorn serves in the supervisor itself
    return {p: v for p in pids if (v := _rss_mib(p)) is not None}


# ------------------------------------------------------------------ the report


@dataclass
class Result:
    samples: list[tuple[float, str, float, bool]]
    t0: float
    window_s: float
    rss: dict[str, dict[int, float]] = field(default_factory=dict)
    locust_rc: int = 0
    duration_s: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.samples)

    @property
    def errors(self) -> int:
        return sum(1 for s in self.samples if not s[3])

    def windows(self) -> list[tuple[int, str, int, int, float, float]]:
        """(window, route, requests, errors, p50 ms, p99 ms), by window then route."""
        import numpy as np

        groups: dict[tuple[int, str], list[tuple[float, bool]]] = {}
        # the requests that users finish after the time is up count in the last window
        last = max(0, -int(-self.duration_s // self.window_s) - 1) if self.duration_s else None
        for t, name, ms, ok in self.samples:
            w = max(0, int((t - self.t0) // self.window_s))
            w = min(w, last) if last is not None else w
            groups.setdefault((w, name), []).append((ms, ok))
        rows = []
        for (w, name), vals in sorted(groups.items()):
            ms_ = np.array([v[0] for v in vals])
            p50, p99 = np.percentile(ms_, [50, 99])
            errs = sum(1 for v in vals if not v[1])
            rows.append((w, name, len(vals), errs, float(p50), float(p99)))
        return rows

    def growth(self) -> dict[int, float]:
        """RSS growth per worker from after the warm-up to the end, in percent."""
        base, end = self.rss.get("after warm-up", {}), self.rss.get("end", {})
        return {p: 100 * (end[p] - base[p]) / base[p] for p in base if p in end and base[p]}

    def summary(self) -> dict[str, Any]:
        return {
            "requests": self.requests,
            "errors": self.errors,
            "locust_rc": self.locust_rc,
            "windows": self.windows(),
            "rss_mib": {label: list(snap.values()) for label, snap in self.rss.items()},
            "growth_pct": list(self.growth().values()),
        }

    def render(self) -> str:
        lines = [
            f"requests {self.requests}, errors {self.errors}"
            + (f" (locust exit status {self.locust_rc})" if self.locust_rc else ""),
            "",
            f"{'window':>14}  {'route':<42} {'requests':>8} {'errors':>6} "
            f"{'p50 ms':>8} {'p99 ms':>8}",
        ]
        for w, name, n, errs, p50, p99 in self.windows():
            span = f"{w * self.window_s / 60:g}-{(w + 1) * self.window_s / 60:g} min"
            lines.append(f"{span:>14}  {name:<42} {n:>8} {errs:>6} {p50:>8.1f} {p99:>8.1f}")
        lines += ["", "RSS per worker (MiB):"]
        pids = sorted({p for snap in self.rss.values() for p in snap})
        lines.append(f"{'':>16}" + "".join(f"{'pid ' + str(p):>14}" for p in pids))
        for label, snap in self.rss.items():
            cells = "".join(f"{snap.get(p, float('nan')):>14.0f}" for p in pids)
            lines.append(f"{label:>16}{cells}")
        growth = self.growth()
        cells = "".join(f"{growth.get(p, float('nan')):>13.1f}%" for p in pids)
        lines.append(f"{'growth':>16}{cells}  (after warm-up to end; goal < 10 %)")
        return "\n".join(lines)


def run(args: argparse.Namespace, work: Path) -> Result:
    data_dir = work / "data"
    t_seed = time.perf_counter()
    key = seed(data_dir, args.profiles)
    print(f"seeded {args.profiles} profiles in {time.perf_counter() - t_seed:.0f} s", flush=True)
    sys.path.insert(0, str(HERE))
    from bench_core import _free_port, _stop

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(HERE)])}
    with (work / "server.log").open("wb") as log:
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "--serve", str(data_dir),
             "--port", str(port), "--workers", str(args.workers)],
            env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        sys.path.insert(0, str(HERE))
        from bench_core import _wait_ready

        _wait_ready(server, url, time.perf_counter(), args.ready_timeout)
        rss: dict[str, dict[int, float]] = {"ready": rss_by_worker(server.pid)}
        samples_file = work / "samples.json"
        locust = shutil.which("locust", path=str(Path(sys.executable).parent)) or "locust"
        cmd = [
            locust, "-f", str(HERE / "soak_locustfile.py"), "--headless", "--only-summary",
            "--host", url, "-u", str(args.users), "-r", str(args.users),
            "-t", f"{int(args.duration)}s", "--stop-timeout", "30", "--loglevel", "WARNING",
        ]  # fmt: skip
        lenv = {**env, "SOAK_KEY": key, "SOAK_PROFILES": str(args.profiles)}
        lenv["SOAK_SAMPLES"] = str(samples_file)
        t0 = time.time()
        print(f"load: {args.users} users for {args.duration:.0f} s on {url}", flush=True)
        with (work / "locust.log").open("wb") as llog:
            load = subprocess.Popen(cmd, env=lenv, stdout=llog, stderr=subprocess.STDOUT)

            # RSS after the warm-up (the baseline of the growth), and at each window's end
            # (a leak grows window after window; caches filling level off)
            marks = [(min(args.warmup, args.duration / 2), "after warm-up")]
            w = 1
            while w * args.window < args.duration:
                marks.append((w * args.window, f"at {w * args.window / 60:g} min"))
                w += 1
            marks.sort(key=lambda m: m[0])
            started = time.monotonic()

            def sample() -> None:
                for at, label in marks:
                    time.sleep(max(0.0, started + at - time.monotonic()))
                    if load.poll() is not None:
                        return
                    rss[label] = rss_by_worker(server.pid)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            rc = load.wait(timeout=args.duration + 180)
            sampler.join(timeout=5)
        rss["end"] = rss_by_worker(server.pid)
        if server.poll() is not None:
            raise RuntimeError(f"the server died during the soak: {server.returncode}")
        samples = [tuple(s) for s in json.loads(samples_file.read_text())]
        return Result(samples, t0, args.window, rss, rc, args.duration)
    finally:
        _stop(server)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--profiles", type=int, default=10_000)
    p.add_argument("--duration", type=float, default=1800, help="seconds of load")
    p.add_argument("--window", type=float, default=300, help="seconds per latency window")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--users", type=int, default=8, help="concurrent locust users")
    p.add_argument("--warmup", type=float, default=60, help="seconds before the RSS baseline")
    p.add_argument("--encoder", choices=("hashing", "model"), default="hashing")
    p.add_argument(
        "--database-url", default=None, help="an empty database (default: SQLite in the workdir)"
    )
    p.add_argument("--ready-timeout", type=float, default=600)
    p.add_argument("--workdir", type=Path, default=None, help="kept; default: a temp dir")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--serve", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.serve is not None:  # the server process (started by run())
        serve(args.serve, args.port, args.workers)
        return 0
    os.environ[ENCODER_ENV] = args.encoder  # the seeding here, and the server's workers
    if args.database_url:
        os.environ[DB_ENV] = args.database_url
    work = args.workdir or Path(tempfile.mkdtemp(prefix="soak-"))
    try:
        result = run(args, work)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"soak: {args.profiles} profiles, {args.workers} workers, {args.users} users, "
        f"{args.duration:.0f} s, windows of {args.window:.0f} s, encoder {args.encoder}, "
        f"database {(args.database_url or 'sqlite').split(':')[0]}; "
        f"load average {os.getloadavg()[0]:.1f} (shared machine)"
    )
    print(result.render())
    if args.json is not None:
        args.json.write_text(json.dumps(result.summary()))
    return 1 if result.errors or result.locust_rc else 0


if __name__ == "__main__":
    sys.exit(main())
