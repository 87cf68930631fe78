"""Console fixtures: the real app (lifespan, SQLite, the HashingEncoder) with profiles,
users made through service.accounts, and browser-like clients with their own cookies.

Passwords are hashed with cheap argon2 parameters here (the real ones cost ~0.1 s and
64 MiB per hash); one test checks that a hash made with other parameters is replaced."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from models.encoders import HashingEncoder
from service.accounts import passwords
from service.accounts import service as accounts
from service.store.db import transaction
from tests.support.app import Api, make_settings, start_api
from tests.support.samples import SAMPLE

PASSWORD = "correct horse battery staple"
NASTY = "<script>alert(1)</script>\"'&"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", None)


def csrf_of(html: str) -> str:
    found = CSRF.search(html)
    assert found, "no CSRF field on the page"
    return found.group(1)


@dataclass
class User:
    email: str
    password: str
    pk: int


class Console:
    """The running app with sample profiles, and helpers to make users and clients."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.app: Any = api.client.app
        self._n = 0

    @property
    def sessions(self) -> Any:
        return self.app.state.sessions

    def user(
        self,
        role: str = "organizer",
        *,
        profile_id: str | None = None,
        name: str = "",
        password: str | None = PASSWORD,
        email: str | None = None,
    ) -> User:
        """A user; with a password set unless `password` is None."""
        self._n += 1
        email = email or f"{role}{self._n}@example.jp"
        with transaction(self.sessions) as s:
            row = accounts.create_user(
                s, email=email, role=role, display_name=name, profile_id=profile_id
            )
            token = accounts.issue_password_link(s, row)
            if password is not None:
                accounts.set_password(s, token, password)
            pk = row.pk
        return User(email, password or "", pk)

    def link(self, user: User) -> str:
        """A fresh one-time token for the user."""
        with transaction(self.sessions) as s:
            row = accounts.find_user(s, user.email)
            assert row is not None
            return accounts.issue_password_link(s, row)

    def client(self, *, https: bool = False, headers: dict[str, str] | None = None) -> TestClient:
        """A new 'browser' (its own cookie jar) on the same running app."""
        base = "https://testserver" if https else "http://testserver"
        return TestClient(
            self.app,
            base_url=base,
            raise_server_exceptions=False,
            follow_redirects=False,
            headers=headers or {},
        )

    def sign_in(self, client: TestClient, user: User, password: str | None = None) -> Any:
        page = client.get("/console/sign-in")
        assert page.status_code == 200, page.text
        return client.post(
            "/console/sign-in",
            data={
                "email": user.email,
                "password": password if password is not None else user.password,
                "csrf_token": csrf_of(page.text),
            },
        )

    def signed_in(self, user: User, **kwargs: Any) -> TestClient:
        client = self.client(**kwargs)
        r = self.sign_in(client, user)
        assert r.status_code == 303, r.text
        return client


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
    from tests.service.console.browser import LiveServer, need_browser

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
    from tests.service.console.browser import launch_browser, need_browser

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
    from tests.service.console.browser import VIEWPORT

    contexts: list[Any] = []

    def make(locale: str = "ja-JP") -> Any:
        context = browser.new_context(base_url=live_server.url, viewport=VIEWPORT, locale=locale)
        context.set_default_timeout(15_000)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()
