"""Console fixtures: the real app (lifespan, SQLite, the HashingEncoder) with profiles,
users made through service.accounts, and browser-like clients with their own cookies.

Passwords are hashed with cheap argon2 parameters here (the real ones cost ~0.1 s and
64 MiB per hash); one test checks that a hash made with other parameters is replaced."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from models.encoders import HashingEncoder
from service.accounts import passwords
from tests.support.app import make_settings, start_api
from tests.support.console import CHEAP_HASHER, NASTY, Console
from tests.support.samples import SAMPLE


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", None)


@pytest.fixture
def console(tmp_path: Path) -> Iterator[Console]:
    for api in start_api(make_settings(tmp_path), HashingEncoder(dim=64)):
        profiles = [*SAMPLE, {**SAMPLE[3], "id": "nasty-1", "name": NASTY, "description": NASTY}]
        for p in profiles:
            r = api.put(f"/v1/profiles/{p['id']}", json=p, headers=api.h())
            assert r.status_code in (200, 201), r.text
        yield Console(api)


# ---------------------------------------------------------------------------- browser tests


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    from tests.support.browser import LiveServer, need_browser

    need_browser()  # no server either when the browser tests cannot run
    server = LiveServer(tmp_path_factory.mktemp("live"))
    try:
        server.put_profiles(
            [*SAMPLE, {**SAMPLE[3], "id": "nasty-1", "name": NASTY, "description": NASTY}]
        )
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from tests.support.browser import launch_browser, need_browser

    executable = need_browser()
    from playwright.sync_api import sync_playwright

    playwright = sync_playwright().start()
    try:
        chromium = launch_browser(playwright, executable)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()


@pytest.fixture
def new_page(browser: Any, live_server: Any) -> Iterator[Any]:
    """new_page(locale="ja-JP") -> a page in a fresh context (its own cookies) at
    1280x800, with the server's URL as base; contexts are closed after the test."""
    from tests.support.browser import VIEWPORT

    contexts: list[Any] = []

    def make(locale: str = "ja-JP") -> Any:
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
