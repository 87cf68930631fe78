"""The outcome tests' world: an event with a known schedule (tests/support/outcomes.py),
on SQLite (`w`), or on SQLite and PostgreSQL (`w_db`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from models.encoders import HashingEncoder
from tests.support.app import Api, make_settings, start_api
from tests.support.outcomes import World, world


@pytest.fixture
def w(api: Api) -> World:
    return world(api)


@pytest.fixture
def w_db(tmp_path: Path, encoder: HashingEncoder, db_url: str) -> Iterator[World]:
    """The world on SQLite and on PostgreSQL."""
    for api in start_api(make_settings(tmp_path, db_url), encoder):
        yield world(api)
