"""`clustermatch backup` and `clustermatch restore`: a consistent snapshot of a running
service (the database, the vector index and the trained re-ranker) into a directory, and
back into a fresh data directory.

What is promised, as a database's and a search engine's snapshot/restore promise it:
- Every write acknowledged before the backup started is in it. The database copy is one
  instant (SQLite's online backup, pg_dump's snapshot); writes during the backup are in
  it or not, never half.
- The index is copied under the save lock that every server process takes to write one,
  so the copy is one whole generation. It is derived state: it may be a little older or
  newer than the database copy, and the restored server reconciles it with the database
  at startup (re-indexing only the difference, from the embedding cache in the database),
  so `/readyz` reports them in step without encoding everything again.
- `backup.json` lists every file with its size and SHA-256; restore checks them all before
  it touches anything, and refuses a target that already holds data unless forced.
- Restore runs the migrations afterwards: a backup made by an older version comes back
  on the current schema.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from service.engine.snapshot import CURRENT_FILE, RERANKER_FILE, save_lock
from service.settings import Settings
from service.store import backup as db_backup
from service.store.db import make_engine, upgrade

MANIFEST = "backup.json"
FORMAT = 1
INDEX_DIR = "index"


BackupError = db_backup.BackupError


@dataclass(frozen=True)
class BackupReport:
    path: str
    database: str
    revision: str | None
    profiles: int
    index_generation: str | None
    reranker: bool
    bytes: int
    seconds: float


@dataclass(frozen=True)
class RestoreReport:
    path: str
    database: str
    profiles: int
    index_generation: str | None
    seconds: float


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _files(root: Path) -> dict[str, dict[str, Any]]:
    return {
        str(p.relative_to(root)): {"bytes": p.stat().st_size, "sha256": _sha256(p)}
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != MANIFEST
    }


def _copy_index(index_dir: Path, dest: Path) -> tuple[str | None, bool]:
    """The current generation and the re-ranker, copied under the save lock."""
    if not index_dir.exists():
        return None, False
    with save_lock(index_dir):
        pointer = index_dir / CURRENT_FILE
        generation = pointer.read_text().strip() if pointer.exists() else None
        dest.mkdir(parents=True)
        if generation and (index_dir / generation).is_dir():
            shutil.copytree(index_dir / generation, dest / generation)
            (dest / CURRENT_FILE).write_text(generation)
        else:
            generation = None
        reranker = (index_dir / RERANKER_FILE).exists()
        if reranker:
            shutil.copy2(index_dir / RERANKER_FILE, dest / RERANKER_FILE)
    return generation, reranker


def backup(settings: Settings, dest: Path) -> BackupReport:
    """Write a snapshot of the service configured by `settings` into `dest` (a new or
    empty directory). Safe while servers run on the same data."""
    started = time.perf_counter()
    if dest.exists() and any(dest.iterdir()):
        raise BackupError(f"{dest} is not empty: back up into a new directory")
    dest.mkdir(parents=True, exist_ok=True)
    work = dest / ".partial"
    work.mkdir()
    try:
        copy = db_backup.dump(settings.resolved_database_url, work)
        generation, reranker = _copy_index(settings.index_dir, work / INDEX_DIR)
        files = _files(work)
        manifest = {
            "format": FORMAT,
            "created_at": dt.datetime.now(dt.UTC).isoformat(),
            "database": {
                "dialect": copy.dialect,
                "file": copy.file,
                "revision": copy.revision,
                "profiles": copy.profiles,
            },
            "index": {"generation": generation, "reranker": reranker, "model": settings.model},
            "files": files,
        }
        for name in list(work.iterdir()):
            name.rename(dest / name.name)
        # the manifest last: a directory without one is an unfinished backup
        (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return BackupReport(
        path=str(dest),
        database=copy.dialect,
        revision=copy.revision,
        profiles=copy.profiles,
        index_generation=generation,
        reranker=reranker,
        bytes=sum(int(f["bytes"]) for f in files.values()),
        seconds=round(time.perf_counter() - started, 3),
    )


def read_manifest(source: Path) -> dict[str, Any]:
    """The manifest of a finished backup, every file checked against it."""
    path = source / MANIFEST
    if not path.is_file():
        raise BackupError(f"{source} holds no finished backup ({MANIFEST} is missing)")
    try:
        manifest: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError) as exc:
        raise BackupError(f"{path} is not readable: {exc}") from exc
    if manifest.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {manifest.get('format')!r}")
    for name, fact in manifest.get("files", {}).items():
        file = source / name
        if not file.is_file():
            raise BackupError(f"{name} is missing from the backup")
        if file.stat().st_size != fact["bytes"] or _sha256(file) != fact["sha256"]:
            raise BackupError(f"{name} does not match its checksum: the backup is damaged")
    return manifest


def restore(settings: Settings, source: Path, *, force: bool = False) -> RestoreReport:
    """Bring the backup in `source` back into the database and data directory that
    `settings` name. Refuses a target holding data unless `force`. Stop the servers of
    the target first."""
    started = time.perf_counter()
    manifest = read_manifest(source)
    url = settings.resolved_database_url
    if not force and not db_backup.is_empty(url):
        raise BackupError("the target database holds data: restore into an empty one, or force")
    db = manifest["database"]
    db_backup.load(source / db["file"], db["dialect"], url)
    engine = make_engine(url)
    try:
        upgrade(engine)
    finally:
        engine.dispose()
    generation = manifest["index"]["generation"]
    index_dir = settings.index_dir
    copied = source / INDEX_DIR
    staged = index_dir.with_name(index_dir.name + ".restore")
    shutil.rmtree(staged, ignore_errors=True)
    if copied.is_dir():
        shutil.copytree(copied, staged)
    else:
        staged.mkdir(parents=True)
    old = index_dir.with_name(index_dir.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if index_dir.exists():
        index_dir.rename(old)
    staged.rename(index_dir)
    shutil.rmtree(old, ignore_errors=True)
    return RestoreReport(
        path=str(source),
        database=db["dialect"],
        profiles=int(db["profiles"]),
        index_generation=generation,
        seconds=round(time.perf_counter() - started, 3),
    )


def as_dict(report: BackupReport | RestoreReport) -> dict[str, Any]:
    return asdict(report)
