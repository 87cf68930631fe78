"""Consistent copies of the database while the server runs, and their restore.

SQLite: the online backup API (`sqlite3.Connection.backup`) copies the database page by
page in a read transaction, so the copy is the database at one instant, writers carrying
on meanwhile (WAL). PostgreSQL: `pg_dump --format=custom`, one snapshot of one
transaction, restored with `pg_restore`. Only the schema the URL's `search_path` names is
dumped, where it names one; otherwise the whole database.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import NullPool

SQLITE_FILE = "database.sqlite"
PG_FILE = "database.pgdump"


class BackupError(RuntimeError):
    """A backup or restore that cannot be done; the message says why."""


@dataclass(frozen=True)
class DatabaseCopy:
    file: str  # name inside the backup directory
    dialect: str  # "sqlite" | "postgresql"
    revision: str | None  # the Alembic revision of the copied schema
    profiles: int


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(url.database)


def _schema(url: URL) -> str | None:
    """The schema a `options=-csearch_path=NAME` URL confines the connection to."""
    options = url.query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    if not options:
        return None
    for part in unquote(options).split():
        if part.startswith("-csearch_path="):
            return part.split("=", 1)[1].split(",")[0].strip('"') or None
    return None


def _libpq(url: URL) -> tuple[list[str], dict[str, str]]:
    """pg_dump / pg_restore connection arguments and environment for a SQLAlchemy URL
    (the password goes through the environment, never the command line)."""
    args = ["--no-password"]
    if url.host:
        args += ["--host", url.host]
    if url.port:
        args += ["--port", str(url.port)]
    if url.username:
        args += ["--username", url.username]
    env = dict(os.environ)
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(f"{name} is not installed (PostgreSQL client tools are needed)")
    return path


def _facts(url: str) -> tuple[str | None, int]:
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = set(inspect(conn).get_table_names())
            revision = (
                conn.execute(text("select version_num from alembic_version")).scalar()
                if "alembic_version" in tables
                else None
            )
            profiles = (
                int(conn.execute(text("select count(*) from profiles")).scalar_one())
                if "profiles" in tables
                else 0
            )
        return revision, profiles
    finally:
        engine.dispose()


def dump(database_url: str, dest: Path) -> DatabaseCopy:
    """Copy the database at `database_url` into the directory `dest`."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        target = dest / SQLITE_FILE
        with (
            sqlite3.connect(_sqlite_path(url), timeout=30) as src,
            sqlite3.connect(target) as dst,
        ):
            src.backup(dst, pages=4096)
        revision, profiles = _facts(f"sqlite:///{target}")
        return DatabaseCopy(SQLITE_FILE, "sqlite", revision, profiles)
    if url.get_backend_name() != "postgresql":
        raise BackupError(f"backups of {url.get_backend_name()} databases are not supported")
    args, env = _libpq(url)
    schema = _schema(url)
    cmd = [_tool("pg_dump"), *args, "--format=custom", "--no-owner", "--no-privileges"]
    if schema:
        cmd += ["--schema", schema]
    cmd += ["--file", str(dest / PG_FILE), url.database or "postgres"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_dump failed: {done.stderr.strip()[:500]}")
    # the facts of the dump's own instant are not available afterwards; these are read
    # right after it and only reported (restore checks the files, not these counts)
    revision, profiles = _facts(database_url)
    return DatabaseCopy(PG_FILE, "postgresql", revision, profiles)


def is_empty(database_url: str) -> bool:
    """Whether the target holds no ClusterMatch tables (safe to restore into)."""
    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        path = _sqlite_path(url)
        if not path.exists() or path.stat().st_size == 0:
            return True
    engine = create_engine(database_url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return "profiles" not in inspect(conn).get_table_names()
    finally:
        engine.dispose()


def load(copy_file: Path, dialect: str, database_url: str) -> None:
    """Restore a copy made by `dump` into `database_url` (which `is_empty`, or whose
    tables the caller agreed to replace). SQLite: the file is written beside the target
    and renamed over it, so a failed restore leaves the target as it was."""
    url = make_url(database_url)
    if url.get_backend_name() != dialect:
        raise BackupError(f"this backup is of a {dialect} database; the target is not")
    if dialect == "sqlite":
        target = _sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".restore")
        with sqlite3.connect(copy_file) as src, sqlite3.connect(tmp) as dst:
            src.backup(dst)
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(tmp, target)
        return
    args, env = _libpq(url)
    schema = _schema(url)
    if schema:  # the dump recreates its schema; an empty one made beforehand is in the way
        engine = create_engine(database_url, poolclass=NullPool)
        try:
            with engine.begin() as conn:
                conn.execute(text(f'drop schema if exists "{schema}" cascade'))
        finally:
            engine.dispose()
    cmd = [
        _tool("pg_restore"),
        *args,
        "--no-owner",
        "--no-privileges",
        "--exit-on-error",
        "--single-transaction",
        "--dbname",
        url.database or "postgres",
        str(copy_file),
    ]
    if not schema:
        cmd[-1:-1] = ["--clean", "--if-exists"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"pg_restore failed: {done.stderr.strip()[:500]}")
