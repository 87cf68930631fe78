"""Single-profile write time: `PUT /v1/profiles/{id}` over the ASGI app on a store of N
profiles, for this checkout and a baseline checkout side by side (issue 21's soak, issue
22's "writing one profile costs <= 0.5 s").

    .venv/bin/python scripts/bench_write.py --base ../base [--sizes 10000,100000]
        [--writes 20] [--rounds 2] [--lines default,on] [--workdir DIR]

1. Seeds each size once (scripts/bench_core.make_profiles through `save_profiles`,
   HashingEncoder(512), SQLite; the index saved).
2. For each size, line-vote setting and round, runs this checkout and `--base` (another
   checkout, e.g. `git worktree add ../base <commit>` or `git archive <commit> | tar -x`,
   run with this virtual environment), alternating which goes first, each in a process of
   its own on a fresh copy of the seeded store: the app started (index loaded), then
   `--writes` PUTs, half of them new profiles and half replacing seeded ones with a new
   description, one at a time, each timed from request to response.
3. Prints median / p90 / max per version and the ratio new / base.

`--lines default` keeps the line-vote gate (models.lines.LINES_MAX: at 10,000 synthetic
profiles the catalogue lists ~16,000 distinct segments, so the votes are off); `on` lifts
it (`LineVotes.set_limit`), so every write changes the segment index as it would below
the gate: the baseline rebuilt the whole index on every write, this checkout applies the
write's change.

The machine is shared: compare the two columns of one run, not absolute times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _settings(data_dir: Path) -> Any:
    from service.settings import Settings

    return Settings(
        data_dir=data_dir,
        rate_limit_per_key=0,
        rate_limit_per_ip=0,
        log_level="WARNING",
        native_ranker=False,
        index_save_interval_s=0,  # (no save in the middle of the timed writes)
        _env_file=None,  # type: ignore[call-arg]
    )


def seed(data_dir: Path, n: int) -> None:
    """`n` synthetic profiles in a fresh SQLite store under `data_dir`, the index saved."""
    sys.path.insert(0, str(HERE))
    from bench_core import make_profiles, open_store

    from models.encoders import HashingEncoder
    from service.profiles.service import save_profiles
    from service.resources import build_engine

    settings = _settings(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    db, sessions = open_store(settings.resolved_database_url)
    try:
        engine = build_engine(settings, HashingEncoder(dim=512), sessions)
        profiles = make_profiles(n)
        for start in range(0, n, 5000):
            save_profiles(engine, sessions, profiles[start : start + 5000])
        engine.save()
    finally:
        db.dispose()


def _body(i: int, pid: str) -> dict[str, Any]:
    return {
        "id": pid,
        "name": f"書き込み工業{i}",
        "kind": "firm",
        "country": "JP",
        "offers": [f"精密部品{i}", f"加工{i % 89}"],
        "needs": [f"販路{i % 53}"],
        "description": f"write bench company {i}.\nMakes parts of kind {i} for gear modules.",
    }


def measure(data_dir: Path, writes: int, lines: str, n: int) -> dict[str, Any]:
    """In this process (the checkout on sys.path): start the app on `data_dir`, time
    `writes` PUTs. Returns the figures."""
    from fastapi.testclient import TestClient

    from models.encoders import HashingEncoder
    from service.app import create_app
    from service.auth import create_key
    from service.store.db import transaction

    app = create_app(_settings(data_dir), encoder=HashingEncoder(dim=512))
    out: dict[str, Any] = {}
    with TestClient(app, raise_server_exceptions=False) as client:
        engine = app.state.engine
        deadline = time.monotonic() + 1800
        while not engine.ready and time.monotonic() < deadline:
            time.sleep(0.05)
        with transaction(app.state.sessions) as s:
            _, key = create_key(s, "admin", name="bench_write")
        headers = {"Authorization": f"Bearer {key}"}
        if lines == "on":
            engine.lines.set_limit(sys.maxsize)
            t = time.perf_counter()
            engine.lines.index()  # (built once, not timed as a write)
            out["lines_build_s"] = time.perf_counter() - t
        out["lines_on"] = bool(engine.lines.on())
        out["segments"] = int(engine.lines.segments())
        times: list[float] = []
        for i in range(writes):
            pid = f"bench-w-{i:04d}" if i % 2 == 0 else f"org-{(i * 7919) % n:06d}"
            t = time.perf_counter()
            r = client.put(f"/v1/profiles/{pid}", json=_body(i, pid), headers=headers)
            times.append(time.perf_counter() - t)
            if r.status_code not in (200, 201):
                raise RuntimeError(f"PUT {pid}: {r.status_code} {r.text[:300]}")
        out["times_s"] = times
    return out


def run_measure(
    checkout: Path, seeded: Path, work: Path, writes: int, lines: str, n: int
) -> dict[str, Any]:
    """`measure` in a process of its own with `checkout` first on the path, on a fresh
    copy of the seeded store."""
    data = work / "run-data"
    shutil.rmtree(data, ignore_errors=True)
    shutil.copytree(seeded, data)
    out = work / "run.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(checkout), str(HERE)])}
    cmd = [sys.executable, str(Path(__file__).resolve()), "--measure", str(data)]
    cmd += ["--writes", str(writes), "--lines", lines, "--n", str(n), "--out", str(out)]
    subprocess.run(cmd, env=env, cwd=checkout, check=True)
    result: dict[str, Any] = json.loads(out.read_text())
    shutil.rmtree(data, ignore_errors=True)
    return result


def _stats(times: list[float]) -> tuple[float, float, float]:
    s = sorted(times)
    p90 = s[min(len(s) - 1, round(0.9 * (len(s) - 1)))]
    return statistics.median(s), p90, s[-1]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    p.add_argument("--base", type=Path, help="the baseline checkout")
    p.add_argument("--sizes", default="10000")
    p.add_argument("--writes", type=int, default=20)
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--lines", default="default,on", help="default, on, or both")
    p.add_argument("--workdir", type=Path, default=None)
    p.add_argument("--measure", type=Path, default=None, help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, default=0, help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure is not None:  # a measuring process (run_measure)
        args.out.write_text(json.dumps(measure(args.measure, args.writes, args.lines, args.n)))
        return 0
    if args.base is None:
        p.error("--base is required")
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-write-"))
    work.mkdir(parents=True, exist_ok=True)
    versions = {"new": ROOT, "base": args.base.resolve()}
    rows: list[tuple[int, str, dict[str, list[float]], dict[str, Any]]] = []
    try:
        for n in [int(x) for x in args.sizes.split(",")]:
            seeded = work / f"seed-{n}"
            if not (seeded / "seeded.ok").exists():  # (a --workdir kept from a run)
                shutil.rmtree(seeded, ignore_errors=True)
                t = time.perf_counter()
                seed(seeded, n)
                (seeded / "seeded.ok").write_text(str(n))
                print(f"seeded {n} profiles in {time.perf_counter() - t:.0f} s", flush=True)
            for lines in args.lines.split(","):
                times: dict[str, list[float]] = {"new": [], "base": []}
                info: dict[str, Any] = {}
                for r in range(args.rounds):
                    order = ["base", "new"] if r % 2 == 0 else ["new", "base"]
                    for name in order:
                        got = run_measure(versions[name], seeded, work, args.writes, lines, n)
                        times[name] += got["times_s"]
                        info[name] = got
                        med = statistics.median(got["times_s"])
                        print(f"  {n} lines={lines} round {r + 1} {name}: median {med:.3f} s")
                rows.append((n, lines, times, info))
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    print(
        f"\nPUT /v1/profiles/{{id}}, one at a time, over the ASGI app (SQLite, HashingEncoder "
        f"512); {args.writes} writes x {args.rounds} rounds per version, alternating; "
        f"{platform.node()}, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}; "
        f"base {versions['base']}"
    )
    head = f"{'profiles':>9} {'lines':>8} {'segments':>9} {'votes':>5} "
    head += f"{'base median':>12} {'base p90':>9} {'new median':>11} {'new p90':>8} "
    head += f"{'new max':>8} {'median new/base':>16}"
    print(head)
    for n, lines, times, info in rows:
        bm, bp, _ = _stats(times["base"])
        nm, np_, nx = _stats(times["new"])
        on = "on" if info["new"]["lines_on"] else "off"
        print(
            f"{n:>9} {lines:>8} {info['new']['segments']:>9} {on:>5} {bm:>11.3f}s "
            f"{bp:>8.3f}s {nm:>10.3f}s {np_:>7.3f}s {nx:>7.3f}s {nm / bm:>15.3f}x"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
