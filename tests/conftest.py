"""Shared fixtures. The expensive real model loads once per session; most tests use the
deterministic HashingEncoder through the same code paths. Plain helpers and data live in
tests/support.

Environment:
- CLUSTERMATCH_TEST_POSTGRES_URL: PostgreSQL for the `postgres` tests
  (default postgresql+psycopg://postgres@127.0.0.1:5432/test).
- CLUSTERMATCH_REQUIRE_POSTGRES=1 / CLUSTERMATCH_REQUIRE_SHARED=1 (set by .ci/run): a
  missing PostgreSQL or ../shared fails instead of skipping.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")  # see service/__init__.py

from collections.abc import Iterator
from pathlib import Path

import pytest

from models.encoders import Encoder, HashingEncoder
from tests.support.app import Api, make_settings, start_api
from tests.support.db import postgres_schema


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Runs a test once on SQLite and once on PostgreSQL (in a schema of its own, dropped
    afterwards)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'test.db'}"
        return
    with postgres_schema() as url:
        yield url


@pytest.fixture
def encoder() -> HashingEncoder:
    return HashingEncoder(dim=64)


@pytest.fixture
def api(tmp_path: Path, encoder: HashingEncoder) -> Iterator[Api]:
    yield from start_api(make_settings(tmp_path), encoder)


@pytest.fixture(scope="session")
def real_encoder() -> Encoder:
    from models.encoders import SentenceTransformerEncoder

    return SentenceTransformerEncoder()
