"""The test databases: SQLite files under tmp_path, and PostgreSQL at
CLUSTERMATCH_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
where each test gets a schema of its own that is dropped when it ends."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TypeAlias

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from service.store.db import make_engine, make_sessionmaker, upgrade
from tests.support.env import flag

PG_URL = os.environ.get(
    "CLUSTERMATCH_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)

Sessions: TypeAlias = "sessionmaker[Session]"


def sessions_for(url: str) -> Sessions:
    """A session factory on `url`, its schema migrated to the newest revision."""
    eng = make_engine(url)
    upgrade(eng)
    return make_sessionmaker(eng)


_pg_ok: bool | None = None


def _require_postgres() -> None:
    """Return if the test PostgreSQL answers, else skip (fail under
    CLUSTERMATCH_REQUIRE_POSTGRES). Asked once per session."""
    global _pg_ok
    if _pg_ok is None:
        try:
            eng = create_engine(PG_URL, connect_args={"connect_timeout": 3}, poolclass=NullPool)
            with eng.connect() as conn:
                conn.execute(text("select 1"))
            eng.dispose()
            _pg_ok = True
        except Exception as exc:  # any connection failure means "not here"
            _pg_ok = False
            reason = f"PostgreSQL not reachable at {PG_URL}: {type(exc).__name__}"
            if flag("CLUSTERMATCH_REQUIRE_POSTGRES"):
                pytest.fail(reason + " (CLUSTERMATCH_REQUIRE_POSTGRES is set)")
            pytest.skip(reason)
    if not _pg_ok:
        if flag("CLUSTERMATCH_REQUIRE_POSTGRES"):
            pytest.fail(f"PostgreSQL not reachable at {PG_URL}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}")


def _schema_url(schema: str) -> str:
    """PG_URL with `schema` as the search path. The connections also carry the schema's
    name as their application_name, so that the teardown can find the ones a test left
    inside a transaction (which would block the drop)."""
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}&application_name={schema}"


def _drop(admin: Engine, schema: str) -> None:
    """Drop `schema` and everything in it. Connections of the test still open inside a
    transaction hold locks that would make the drop wait: those are ended first, and if a
    lock still stands in the way after a few seconds, every connection of the schema."""
    states = "('idle in transaction', 'idle in transaction (aborted)')"
    for attempt in ("stuck", "all"):
        with admin.begin() as conn:
            only = f"and state in {states}" if attempt == "stuck" else ""
            conn.execute(
                text(
                    "select pg_terminate_backend(pid) from pg_stat_activity "
                    f"where application_name = :schema and pid <> pg_backend_pid() {only}"
                ),
                {"schema": schema},
            )
        try:
            with admin.begin() as conn:
                conn.execute(text("set local lock_timeout = '5s'"))
                conn.execute(text(f'drop schema if exists "{schema}" cascade'))
            return
        except OperationalError:  # lock_timeout: something of the test still holds a lock
            if attempt == "all":
                raise


@contextmanager
def postgres_schema() -> Iterator[str]:
    """The URL of a new, empty schema on the test PostgreSQL, dropped (CASCADE) when the
    block ends, whether the test passed or not. Skips where there is no PostgreSQL (fails
    under CLUSTERMATCH_REQUIRE_POSTGRES)."""
    _require_postgres()
    schema = "t_" + uuid.uuid4().hex[:12]
    admin = create_engine(PG_URL, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'create schema "{schema}"'))
        try:
            yield _schema_url(schema)
        finally:
            _drop(admin, schema)
    finally:
        admin.dispose()
