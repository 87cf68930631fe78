"""The console's test helpers: users made through service.accounts, browser-like clients
with their own cookies on the running app, the CSRF field of a page, and a name that
tries every kind of escaping."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from argon2 import PasswordHasher
from fastapi.testclient import TestClient

from service.accounts import service as accounts
from service.store.db import transaction
from tests.support.app import Api

PASSWORD = "correct horse battery staple"
NASTY = "<script>alert(1)</script>\"'&"
CSRF = re.compile(r'name="csrf_token" value="([0-9a-f]+)"')

CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)


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
        office: str | None = None,
    ) -> User:
        """A user (of `office`: the default office unless given); with a password set
        unless `password` is None."""
        self._n += 1
        email = email or f"{role}{self._n}@example.jp"
        with transaction(self.sessions) as s:
            row = accounts.create_user(
                s,
                email=email,
                role=role,
                display_name=name,
                profile_id=profile_id,
                office=office,
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
