"""Large imports: memory against the file's size, and encoding throughput against the
plain encoder (and Ray) in the same run.

    .venv/bin/python scripts/bench_import.py [--sizes 50000,200000] [--format csv|jsonl]
        [--sample 2000] [--ray-workers 2] [--skip-memory] [--skip-model] [--workdir DIR]

1. Memory (HashingEncoder, dim 64: the import's own work, not the model's). For each
   size, a CSV (or JSONL) of synthetic profiles (scripts/bench_core.ProfileGen) is
   imported into a fresh SQLite store, each run in a process of its own:
   - streamed: the import as `clustermatch import` runs it now (service.io.bulk: a check
     pass, then chunks of `CHUNK_ROWS` rows stored, encoded and indexed);
   - whole (the baseline: what `clustermatch import` did before, and what
     `profiles.service.import_file` still does for the demo and the evaluation): the file
     read, parsed and validated whole, stored in one call and indexed in one call;
   - steady: a process that loads the store the streamed run left (the saved index,
     reconciled with the database) and holds what serving those profiles holds.
   It prints each run's peak RSS (VmHWM) and time, and the peak over the steady RSS: what
   the import needs beyond what the profiles it made need anyway. That must not grow with
   the file; the whole file's does.
2. Throughput (the real default model, `--sample` rows): the streamed import into a fresh
   store, then the plain encoder (`model.encode`) over exactly the texts the import
   encoded (recorded as they went to the model), in the same process; then, where Ray is
   installed, the same texts on a local Ray cluster of `--ray-workers` workers (one
   thread each) against the plain encoder with one thread and with the default two, and
   the largest difference between the Ray and the in-process vectors.
Timings are noisy on a shared machine: compare the ratios of one run.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))


def _rss_mib(field: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) / 1024
    return 0.0


def write_file(path: Path, n: int, fmt: str) -> None:
    """`n` synthetic profiles (bench_core.ProfileGen), written as they are made."""
    from bench_core import ProfileGen

    gen = ProfileGen(20260601)
    websites: list[str] = []
    columns = ["id", "name", "kind", "country", "region", "cluster", "description"]
    lists = ["offers", "needs", "industries", "markets", "languages"]
    with path.open("w", encoding="utf-8", newline="") as out:
        if fmt == "csv":
            import csv

            writer = csv.writer(out)
            writer.writerow(columns + lists)
            for i in range(n):
                p = gen.profile(i, websites)
                writer.writerow(
                    [p.get(c) or "" for c in columns] + ["; ".join(p.get(c) or []) for c in lists]
                )
        else:
            for i in range(n):
                out.write(json.dumps(gen.profile(i, websites), ensure_ascii=False) + "\n")


# ------------------------------------------------------------------------ child runs


def _store(data: Path, encoder: Any) -> tuple[Any, Any]:
    from service.engine import Engine
    from service.store.db import make_engine, make_sessionmaker, upgrade

    db = make_engine(f"sqlite:///{data / 'db.sqlite'}")
    upgrade(db)
    sessions = make_sessionmaker(db)
    engine = Engine(encoder, sessions, data / "index")
    engine.reconcile()
    return engine, sessions


def child(mode: str, file: Path, data: Path) -> dict[str, Any]:
    """One measured run, in this process (see the module docstring)."""
    from service.runtime import configure_process

    configure_process()
    from models.encoders import HashingEncoder
    from service.io.bulk import check_profiles
    from service.profiles.service import import_checked, import_file

    data.mkdir(parents=True, exist_ok=True)
    engine, sessions = _store(data, HashingEncoder(dim=64))
    started = time.perf_counter()
    if mode == "streamed":
        check = check_profiles(lambda: file.open("rb"), max_rows=10**8)
        report = import_checked(
            engine, sessions, lambda: file.open("rb"), check, allow_partial=False
        )
        engine.save()
    elif mode == "whole":
        report = import_file(engine, sessions, file.read_bytes(), max_rows=10**8)
        engine.save()
    else:  # steady: the store loaded (engine.reconcile above), nothing imported
        import gc

        gc.collect()
        return {
            "rss_mib": _rss_mib("VmRSS"),
            "peak_mib": _rss_mib("VmHWM"),
            "profiles": len(engine),
        }
    return {
        "peak_mib": _rss_mib("VmHWM"),
        "rss_mib": _rss_mib("VmRSS"),
        "took_s": time.perf_counter() - started,
        "created": report.created,
    }


def _run_child(mode: str, file: Path, data: Path) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, __file__, "--child", mode, "--file", str(file), "--data", str(data)],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        check=False,
    )
    if out.returncode != 0:
        raise SystemExit(f"{mode} run failed:\n{out.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def memory(sizes: Sequence[int], fmt: str, work: Path) -> None:
    print(f"\n1. memory (HashingEncoder dim 64, SQLite, {fmt}); RSS in MiB")
    print(
        f"{'rows':>9} {'file MB':>8} | {'streamed peak':>13} {'time s':>7} | {'steady':>7} "
        f"{'peak-steady':>11} | {'whole peak':>10} {'time s':>7} {'peak-steady':>11}"
    )
    for n in sizes:
        file = work / f"profiles-{n}.{fmt}"
        if not file.exists():
            write_file(file, n, fmt)
        for old in (work / f"streamed-{n}", work / f"whole-{n}"):
            shutil.rmtree(old, ignore_errors=True)  # (each run into a fresh store)
        streamed = _run_child("streamed", file, work / f"streamed-{n}")
        steady = _run_child("steady", file, work / f"streamed-{n}")
        whole = _run_child("whole", file, work / f"whole-{n}")
        print(
            f"{n:>9,} {file.stat().st_size / 1e6:>8.1f} | {streamed['peak_mib']:>13.0f} "
            f"{streamed['took_s']:>7.0f} | {steady['rss_mib']:>7.0f} "
            f"{streamed['peak_mib'] - steady['rss_mib']:>11.0f} | {whole['peak_mib']:>10.0f} "
            f"{whole['took_s']:>7.0f} {whole['peak_mib'] - steady['rss_mib']:>11.0f}",
            flush=True,
        )


# ------------------------------------------------------------------------ throughput


class Recording:
    """An encoder passing every text it encodes on to `inner`, and keeping them."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.texts: list[str] = []

    @property
    def model_id(self) -> str:
        return str(self.inner.model_id)

    @property
    def dim(self) -> int:
        return int(self.inner.dim)

    def encode(self, texts: Sequence[str], **kw: Any) -> Any:
        self.texts.extend(texts)
        return self.inner.encode(texts, **kw)


def _timed(fn: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - started


def throughput(sample: int, fmt: str, work: Path, ray_workers: int) -> None:
    from service.runtime import configure_process

    configure_process()
    import numpy as np

    from models.encoders import SentenceTransformerEncoder
    from models.ray_encoder import RayEncoder, ray_available
    from service.io.bulk import check_profiles
    from service.profiles.service import CHUNK_ROWS, import_checked

    file = work / f"sample-{sample}.{fmt}"
    write_file(file, sample, fmt)
    (model, loaded) = _timed(lambda: SentenceTransformerEncoder(threads=2))
    print(
        f"\n2. throughput: the real model ({model.model_id}, loaded in {loaded:.1f} s), "
        f"{sample:,} rows"
    )
    recording = Recording(model)
    data = work / "model-store"
    engine, sessions = _store(data, recording)

    def opener() -> Any:
        return file.open("rb")

    check = check_profiles(opener)
    # (the plain encoder before and after the import: the machine's load moves meanwhile)
    report, took = _timed(
        lambda: import_checked(engine, sessions, opener, check, allow_partial=False)
    )
    texts = recording.texts
    _, plain = _timed(lambda: model.encode(texts, batch_size=64))
    rate = len(texts) / plain
    print(
        f"  import (streamed, chunks of {CHUNK_ROWS:,}): {report.created:,} profiles, "
        f"{len(texts):,} texts "
        f"encoded, {took:.1f} s = {report.created / took:.1f} profiles/s, {len(texts) / took:.1f} "
        f"texts/s\n  plain encoder, same texts (threads=2), right after: {plain:.1f} s = "
        f"{rate:.1f} texts/s\n  import / plain encoder: {took / plain:.2f}x the time",
        flush=True,
    )
    if not ray_available():
        print("  Ray: not installed (pip install -e '.[ray]'): skipped")
        return
    one = SentenceTransformerEncoder(threads=1)
    remote = RayEncoder(
        model,
        functools.partial(SentenceTransformerEncoder, threads=1),
        workers=ray_workers,
        threads=1,
    )
    try:
        _, start = _timed(lambda: remote.encode(texts[: remote.min_texts]))  # cluster, models
        # in turns, so that each sees the same load: in-process (2 threads, 1 thread), Ray
        vectors, on_ray = _timed(lambda: remote.encode(texts, batch_size=64))
        _, plain_two = _timed(lambda: model.encode(texts, batch_size=64))
        _, plain_one = _timed(lambda: one.encode(texts, batch_size=64))
        again, on_ray_again = _timed(lambda: remote.encode(texts, batch_size=64))
        reference = model.encode(texts, batch_size=64)
        diff = float(max(np.abs(vectors - reference).max(), np.abs(again - reference).max()))
    finally:
        remote.close()
    best = min(on_ray, on_ray_again)
    print(
        f"  in turns: Ray {on_ray:.1f} s, in-process (threads=2) {plain_two:.1f} s, "
        f"in-process (threads=1) {plain_one:.1f} s, Ray {on_ray_again:.1f} s\n"
        f"  in-process: {len(texts) / plain_two:.1f} texts/s with 2 threads, "
        f"{len(texts) / plain_one:.1f} with 1\n"
        f"  Ray, local cluster of {ray_workers} workers x 1 thread (the better of 2): "
        f"{len(texts) / best:.1f} texts/s = {len(texts) / best / ray_workers:.1f} per worker "
        f"(cluster start and model loads: {start:.1f} s, not counted)\n"
        f"  Ray / in-process (threads=2): {best / plain_two:.2f}x the time; Ray / one thread: "
        f"{best / plain_one:.2f}x; largest |difference| of a vector component: {diff:.2e}",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="50000,200000")
    parser.add_argument("--format", choices=("csv", "jsonl"), default="csv")
    parser.add_argument("--sample", type=int, default=2000)
    parser.add_argument("--ray-workers", type=int, default=2)
    parser.add_argument("--skip-memory", action="store_true")
    parser.add_argument("--skip-model", action="store_true")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--child", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--file", type=Path, default=None, help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.file, args.data)))
        return
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-import-"))
    work.mkdir(parents=True, exist_ok=True)
    print(
        f"bench_import: {platform.node()}, {os.cpu_count()} CPUs, load average "
        f"{os.getloadavg()[0]:.1f}, python {platform.python_version()}, work {work}"
    )
    if not args.skip_memory:
        memory([int(s) for s in args.sizes.split(",")], args.format, work)
    if not args.skip_model:
        throughput(args.sample, args.format, work, args.ray_workers)


if __name__ == "__main__":
    main()
