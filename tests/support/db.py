"""The test databases: SQLite files under tmp_path, and PostgreSQL at
CLUSTERMATCH_TEST_POSTGRES_URL (default postgresql+psycopg://postgres@127.0.0.1:5432/test),
where each test gets a schema of its own."""

from __future__ import annotations

import os
import uuid
from typing import TypeAlias

import pytest
from sqlalchemy import create_engine, text
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


def postgres_url() -> str:
    """A fresh schema on the test PostgreSQL, or skip (fail under CI)."""
    _require_postgres()
    schema = "t_" + uuid.uuid4().hex[:12]
    eng = create_engine(PG_URL)
    with eng.begin() as conn:
        conn.execute(text(f'create schema "{schema}"'))
    eng.dispose()
    sep = "&" if "?" in PG_URL else "?"
    return f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
