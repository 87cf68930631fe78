"""Backup and restore times at scale, against a plain copy of the same files in the same run.

    .venv/bin/python scripts/bench_backup.py [--n 100000] [--database-url URL] [--workdir DIR]

Fills a fresh store with `--n` synthetic profiles (scripts/bench_core.make_profiles; the
HashingEncoder(512) stands in for the model: what is measured is copying, not encoding),
saves the index, then times:
1. `service.ops.backup.backup` (SQLite online backup or pg_dump, the index under the save
   lock, SHA-256 of every file) against `cp -r` of the data directory (SQLite only: the
   plain copy of a database in use is not a consistent backup, it is only the floor);
2. `service.ops.backup.restore` into a fresh data directory (and, on PostgreSQL, a fresh
   database) against the same plain copy;
3. the restored service's first start to a ready index, against the original's restart
   (both load the saved index and reconcile it with the database).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.runtime import configure_process

configure_process()

# isort: split
from bench_core import make_profiles  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

from models.encoders import HashingEncoder  # noqa: E402
from service.ops.backup import backup, restore  # noqa: E402
from service.profiles.service import save_profiles  # noqa: E402
from service.resources import open_resources  # noqa: E402
from service.settings import Settings  # noqa: E402


def settings_for(data_dir: Path, url: str | None) -> Settings:
    return Settings(
        data_dir=data_dir,
        database_url=url,
        index_save_interval_s=0,
        native_ranker=False,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )


def start_seconds(settings: Settings) -> tuple[float, int]:
    t0 = time.perf_counter()
    with open_resources(settings, encoder=HashingEncoder(dim=512)) as res:
        res.engine.reconcile(None)
        return time.perf_counter() - t0, len(res.engine)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--database-url", default=None, help="PostgreSQL URL (default: SQLite)")
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-backup-"))
    live = settings_for(work / "live", args.database_url)
    print(f"filling {args.n} profiles into {live.resolved_database_url}", file=sys.stderr)
    with open_resources(live, encoder=HashingEncoder(dim=512)) as res:
        profiles = make_profiles(args.n)
        for start in range(0, args.n, 10_000):
            save_profiles(res.engine, res.sessions, profiles[start : start + 10_000])
            print(f"  {start + 10_000}", file=sys.stderr)
        res.engine.save()
    t0 = time.perf_counter()
    subprocess.run(["cp", "-r", str(work / "live"), str(work / "plain-copy")], check=True)
    plain = time.perf_counter() - t0

    report = backup(live, work / "backup")
    target_url: str | None = None
    admin = None
    if args.database_url:
        name = "bench_restore_" + uuid.uuid4().hex[:8]
        admin = create_engine(args.database_url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text(f'create database "{name}"'))
        target_url = make_url(args.database_url).set(database=name).render_as_string(False)
    try:
        restored = settings_for(work / "restored", target_url)
        back = restore(restored, work / "backup")
        t_orig, n_orig = start_seconds(live)
        t_rest, n_rest = start_seconds(restored)
    finally:
        if admin is not None and target_url is not None:
            with admin.connect() as conn:
                conn.execute(
                    text(f'drop database if exists "{make_url(target_url).database}" with (force)')
                )
    mb = report.bytes / 1e6
    print(f"\nbackup / restore of {report.profiles} profiles ({report.database}), {mb:.0f} MB")
    print(f"{'step':<34}{'seconds':>10}{'baseline':>10}{'ratio':>8}")
    print(
        f"{'backup (consistent, checksummed)':<34}{report.seconds:>10.1f}{plain:>10.1f}"
        f"{report.seconds / plain:>8.2f}   baseline: cp -r of the data directory"
    )
    print(
        f"{'restore':<34}{back.seconds:>10.1f}{plain:>10.1f}{back.seconds / plain:>8.2f}"
        "   baseline: cp -r of the data directory"
    )
    print(
        f"{'start to ready, restored':<34}{t_rest:>10.1f}{t_orig:>10.1f}{t_rest / t_orig:>8.2f}"
        f"   baseline: restart of the original; index {n_rest} vs {n_orig}"
    )
    if args.workdir is None:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
