"""A running app for HTTP tests: test settings, and the app started (lifespan entered,
index ready) with an API key for each role."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from models.encoders import Encoder
from service.app import create_app
from service.auth import create_key
from service.settings import Settings
from service.store.db import transaction


def make_settings(tmp_path: Path, db_url: str | None = None, **overrides: Any) -> Settings:
    """Test settings: the re-ranker is compiled only where a test asks for it
    (`native_ranker=True`), not in the background of every test that trains one."""
    return Settings(
        data_dir=tmp_path / "data",
        database_url=db_url,
        _env_file=None,  # type: ignore[call-arg]
        **{
            "native_ranker": False,
            "log_level": "WARNING",
            "index_save_interval_s": 0,
            **overrides,
        },
    )


class Api:
    """A running app (lifespan entered) with keys for each role."""

    def __init__(self, client: TestClient, keys: dict[str, str]) -> None:
        self.client = client
        self.keys = keys

    def h(self, role: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.keys[role]}"}

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def wait_ready(client: TestClient, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if client.app.state.engine.ready:  # type: ignore[attr-defined]
            return
        time.sleep(0.02)
    raise AssertionError("engine did not become ready")


def start_api(settings: Settings, encoder: Encoder) -> Iterator[Api]:
    """The app on `settings`, yielded once it is ready; it shuts down when the generator
    is resumed or closed."""
    app = create_app(settings, encoder=encoder)
    with TestClient(app, raise_server_exceptions=False) as client:
        wait_ready(client)
        keys: dict[str, str] = {}
        with transaction(app.state.sessions) as s:
            for role in ("admin", "organizer"):
                _, keys[role] = create_key(s, role)
            _, keys["member"] = create_key(s, "member", profile_id="jp-1")
        yield Api(client, keys)
