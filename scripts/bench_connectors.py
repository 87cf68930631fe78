"""Connector imports against the plain import of the same profiles, and the connector
counts, on the real lists in ../shared/data.

    .venv/bin/python scripts/bench_connectors.py [--shared ../shared] [--model hashing|default]

1. Counts: EDINET, then JPX, then the university list imported in that order into one
   fresh store (rows read, skipped, rejected, profiles made, rows merged and by which
   key, created / updated).
2. Throughput: the EDINET list through its connector (read cp932, map, plan the merges
   against the store, save, embed, index) against `profiles.service.import_file` of the
   same profiles written as JSONL (parse, validate, save, embed, index), each into a fresh
   store in this process, best of `--repeat`. With the hashing encoder (the default) the
   figure is the import machinery, not the model; `--model default` uses the real one.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from service.runtime import configure_process

configure_process()

# isort: split
from models.encoders import Encoder, HashingEncoder  # noqa: E402
from service.connectors.service import import_path, plan  # noqa: E402
from service.profiles.service import import_file  # noqa: E402
from service.resources import open_resources  # noqa: E402
from service.settings import Settings  # noqa: E402
from service.store.db import transaction  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LISTS = (
    ("edinet", ("data", "japan", "EdinetcodeDlInfo.csv")),
    ("jpx", ("data", "japan", "data_j.csv")),
    ("universities", ("data", "universities", "world_universities_and_domains.json")),
)


def _settings(root: Path) -> Settings:
    return Settings(
        data_dir=root,
        index_save_interval_s=0,
        log_level="WARNING",
        max_import_rows=1_000_000,
        _env_file=None,  # type: ignore[call-arg]
    )


def _encoder(name: str) -> Encoder | None:
    return HashingEncoder(dim=512) if name == "hashing" else None


def counts(shared: Path, model: str) -> None:
    with (
        tempfile.TemporaryDirectory() as tmp,
        open_resources(_settings(Path(tmp)), encoder=_encoder(model)) as res,
    ):
        res.engine.reconcile()
        print(
            "source        rows  skipped  rejected  profiles  merged (by key)"
            + " " * 14
            + "created  updated"
        )
        for source, parts in LISTS:
            path = shared.joinpath(*parts)
            r = import_path(
                res.engine,
                res.sessions,
                source,
                lambda p=path: p.open("rb"),  # type: ignore[misc]
                allow_partial=True,
            )
            by = ", ".join(f"{k} {v}" for k, v in r.merged_by.items()) or "-"
            print(
                f"{source:<12} {r.rows:>6} {r.skipped:>8} {r.rejected:>9} {r.profiles:>9}"
                f"  {r.merged:>5} ({by})".ljust(78)
                + f"{r.created:>8} {r.updated:>8}"
            )


def throughput(shared: Path, model: str, repeat: int) -> None:
    path = shared.joinpath(*LISTS[0][1])
    with tempfile.TemporaryDirectory() as tmp:
        with (
            open_resources(_settings(Path(tmp) / "p"), with_engine=False) as res,
            transaction(res.sessions) as s,
            path.open("rb") as f,
        ):
            planned = plan(s, "edinet", f)
        jsonl = "\n".join(p.model_dump_json() for p in planned.items.values()).encode()
        n = len(planned.items)
        best = {"connector": float("inf"), "jsonl": float("inf")}
        for i in range(repeat):
            for kind in ("jsonl", "connector"):
                store = _settings(Path(tmp) / f"{kind}{i}")
                with open_resources(store, encoder=_encoder(model)) as res:
                    res.engine.reconcile()
                    started = time.perf_counter()
                    if kind == "connector":
                        import_path(res.engine, res.sessions, "edinet", lambda: path.open("rb"))
                    else:
                        import_file(
                            res.engine, res.sessions, jsonl, format="jsonl", max_rows=1_000_000
                        )
                    best[kind] = min(best[kind], time.perf_counter() - started)
    size = path.stat().st_size
    print(f"\nEDINET list: {size / 1e6:.1f} MB cp932, {n} profiles; best of {repeat}")
    for kind, took in best.items():
        print(f"  {kind:<10} {took:6.2f} s  {n / took:8.0f} profiles/s")
    print(f"  connector / plain JSONL time: {best['connector'] / best['jsonl']:.2f}x")
    print(json.dumps({k: round(v, 3) for k, v in best.items()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    parser.add_argument("--model", choices=("hashing", "default"), default="hashing")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--skip-counts", action="store_true")
    args = parser.parse_args()
    for _, parts in LISTS:
        if not args.shared.joinpath(*parts).exists():
            sys.exit(f"{args.shared.joinpath(*parts)} not found (--shared)")
    if not args.skip_counts:
        counts(args.shared, args.model)
    throughput(args.shared, args.model, args.repeat)


if __name__ == "__main__":
    main()
