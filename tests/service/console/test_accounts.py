"""service.accounts on the database (SQLite and PostgreSQL): the migration, users,
password links, throttling shared by workers, session timeouts, principals."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher

from service.accounts import passwords
from service.accounts import service as accounts
from service.auth import authenticate, create_key
from service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from service.store.tables import ApiKeyRow, Base, ConsoleSessionRow, ProfileRow, utcnow
from tests.support.console import PASSWORD
from tests.support.db import sessions_for

NOW = dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
POLICY = accounts.Policy(
    idle=dt.timedelta(minutes=30),
    lifetime=dt.timedelta(hours=2),
    max_failures=5,
    max_failures_per_ip=8,
    window=dt.timedelta(minutes=15),
)


def _profile(factory: Any, profile_id: str) -> None:
    with transaction(factory) as s:
        s.add(
            ProfileRow(
                id=profile_id,
                name=profile_id,
                kind="firm",
                data={"id": profile_id, "name": profile_id, "kind": "firm"},
                content_hash="x",
            )
        )


def _user(factory: Any, email: str, role: str = "organizer", **kw: Any) -> int:
    with transaction(factory) as s:
        row = accounts.create_user(s, email=email, role=role, **kw)
        token = accounts.issue_password_link(s, row, NOW)
        accounts.set_password(s, token, PASSWORD, now=NOW)
        return row.pk


def test_migration_matches_the_tables_and_downgrades(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from service.store.db import MIGRATIONS_DIR

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0003")
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_users_are_checked_and_get_a_key_number_of_their_own(db_url: str) -> None:
    factory = sessions_for(db_url)
    _profile(factory, "jp-1")
    with transaction(factory) as s:
        _, api_key = create_key(s, "organizer")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"email": "x@example.jp", "role": "god"}, "user.role_invalid"),
        ({"email": "x@example.jp", "role": "member"}, "user.profile_required"),
        ({"email": "x@example.jp", "role": "member", "profile_id": "nope"}, "user.profile_unknown"),
        (
            {"email": "x@example.jp", "role": "admin", "profile_id": "jp-1"},
            "user.profile_not_allowed",
        ),
        ({"email": "not an email", "role": "admin"}, "user.email_invalid"),
    ]
    for kwargs, code in bad:
        with pytest.raises(accounts.InvalidUser) as caught, transaction(factory) as s:
            accounts.create_user(s, **kwargs)
        assert caught.value.code == code
    _user(factory, "Taro@Example.JP", "member", profile_id="jp-1", display_name="精密 太郎")
    with pytest.raises(accounts.InvalidUser) as caught, transaction(factory) as s:
        accounts.create_user(s, email="taro@example.jp ", role="admin")
    assert caught.value.code == "user.email_taken"

    with factory() as s:
        user = accounts.find_user(s, "TARO@example.jp")
        assert user is not None and user.email == "taro@example.jp"
        principal = accounts.principal_for_user(user)
        assert (principal.role, principal.profile_id) == ("member", "jp-1")
        assert principal.owns("jp-1") and principal.sees_contact("jp-1")
        assert not principal.sees_contact("it-1")
        # Its key number is an api_keys row of its own that can never authenticate.
        api = authenticate(s, api_key)
        assert api is not None and api.key_pk != principal.key_pk
        key_row = s.get(ApiKeyRow, principal.key_pk)
        assert key_row is not None and key_row.revoked_at is not None


def test_password_links_work_once_and_expire(db_url: str) -> None:
    factory = sessions_for(db_url)
    with transaction(factory) as s:
        user = accounts.create_user(s, email="a@example.jp", role="admin")
        first = accounts.issue_password_link(s, user, NOW)
        second = accounts.issue_password_link(s, user, NOW)  # the first stops working
    with pytest.raises(accounts.TokenInvalid), transaction(factory) as s:
        accounts.set_password(s, first, PASSWORD, now=NOW)
    with pytest.raises(accounts.PasswordRejected) as caught, transaction(factory) as s:
        accounts.set_password(s, second, "short", now=NOW)
    assert caught.value.code == "password.too_short"
    with transaction(factory) as s:
        accounts.set_password(s, second, PASSWORD, now=NOW)
    with pytest.raises(accounts.TokenInvalid), transaction(factory) as s:
        accounts.set_password(s, second, PASSWORD + "!", now=NOW)
    with transaction(factory) as s:
        again = accounts.find_user(s, "a@example.jp")
        assert again is not None
        late = accounts.issue_password_link(s, again, NOW)
    with factory() as s:
        assert accounts.user_for_token(s, late, NOW + dt.timedelta(days=6, hours=23))
        with pytest.raises(accounts.TokenInvalid):
            accounts.user_for_token(s, late, NOW + dt.timedelta(days=7))


def test_password_rules() -> None:
    problem = passwords.password_problem
    assert problem("x" * 11) == "password.too_short"
    assert problem("x" * 12) is None
    assert problem("x" * 1025) == "password.too_long"
    assert problem(" " * 14) == "password.blank"
    assert problem("Alice@Example.jp", email="alice@example.jp") == "password.is_email"
    assert problem("日本語のながいパスフレーズです") is None


def test_sign_in_rehashes_a_password_hashed_with_older_parameters(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    factory = sessions_for(f"sqlite:///{tmp_path / 'a.db'}")
    _user(factory, "a@example.jp")
    with factory() as s:
        old = accounts.find_user(s, "a@example.jp").password_hash  # type: ignore[union-attr]
    monkeypatch.setattr(passwords, "HASHER", PasswordHasher(time_cost=2, memory_cost=2048))
    with transaction(factory) as s:
        outcome = accounts.sign_in(s, "a@example.jp", PASSWORD, "10.0.0.1", POLICY, NOW)
        assert outcome.user is not None
    with factory() as s:
        new = accounts.find_user(s, "a@example.jp").password_hash  # type: ignore[union-attr]
    assert new != old and "t=2" in new  # type: ignore[operator]
    assert passwords.verify(new, PASSWORD) == (True, None)


def test_throttling_is_shared_by_workers_and_ends_after_the_window(db_url: str) -> None:
    first = sessions_for(db_url)
    # A second engine on the same database: another worker process.
    other_worker = make_engine(first.kw["bind"].url.render_as_string(hide_password=False))
    second = make_sessionmaker(other_worker)
    _user(first, "a@example.jp")

    def attempt(factory: Any, password: str, at: dt.datetime, ip: str = "10.0.0.1") -> Any:
        with transaction(factory) as s:
            return accounts.sign_in(s, "A@example.jp", password, ip, POLICY, at)

    for i in range(5):
        outcome = attempt(first if i % 2 else second, "wrong", NOW + dt.timedelta(seconds=i))
        assert outcome.problem == "bad_credentials"
    refused = attempt(first, PASSWORD, NOW + dt.timedelta(seconds=10))
    assert refused.problem == "throttled" and refused.user is None
    assert 880 <= refused.retry_after_s <= 900
    # ... from another address too (the email is throttled, not just the address)
    assert attempt(second, PASSWORD, NOW + dt.timedelta(seconds=11), "10.9.9.9").problem == (
        "throttled"
    )
    later = NOW + dt.timedelta(seconds=901)
    assert attempt(second, PASSWORD, later).user is not None

    # Per address: failures on several emails from one address add up.
    for i in range(8):
        with transaction(first) as s:
            accounts.sign_in(s, f"u{i}@example.jp", "wrong", "10.7.7.7", POLICY, later)
    blocked = attempt(first, PASSWORD, later + dt.timedelta(seconds=1), "10.7.7.7")
    assert blocked.problem == "throttled"
    assert attempt(first, PASSWORD, later + dt.timedelta(seconds=1), "10.7.7.8").user
    other_worker.dispose()


def test_sessions_end_when_idle_or_too_old_and_on_sign_out(db_url: str) -> None:
    factory = sessions_for(db_url)
    pk = _user(factory, "a@example.jp")

    def resolve(cookie: str, at: dt.datetime) -> Any:
        with transaction(factory) as s:
            return accounts.resolve_session(s, cookie, POLICY, at)

    def open_one(at: dt.datetime) -> str:
        with transaction(factory) as s:
            user = accounts.find_user(s, "a@example.jp")
            assert user is not None
            return accounts.open_session(s, user, POLICY, at)[0]

    idle = open_one(NOW)
    assert resolve(idle, NOW + dt.timedelta(minutes=29))
    assert resolve(idle, NOW + dt.timedelta(minutes=58))  # seen at 29 min: still alive
    assert resolve(idle, NOW + dt.timedelta(minutes=90)) is None
    assert resolve(idle, NOW + dt.timedelta(minutes=91)) is None  # and it was deleted

    busy = open_one(NOW)
    at = NOW
    while at < NOW + dt.timedelta(hours=2) - dt.timedelta(minutes=20):
        at += dt.timedelta(minutes=20)
        assert resolve(busy, at), at
    assert resolve(busy, NOW + dt.timedelta(hours=2)) is None  # absolute end

    a, b = open_one(NOW), open_one(NOW)
    with transaction(factory) as s:
        assert accounts.sign_out(s, a)
    assert resolve(a, NOW) is None and resolve(b, NOW)
    with transaction(factory) as s:
        assert accounts.sign_out_everywhere(s, pk) == 1
    assert resolve(b, NOW) is None
    with factory() as s:
        assert s.query(ConsoleSessionRow).count() == 0
    # Only a hash of the cookie is stored.
    c = open_one(NOW)
    with factory() as s:
        assert all(c not in row.id_hash for row in s.query(ConsoleSessionRow))


def test_disabling_ends_sessions_and_refuses_sign_in(db_url: str) -> None:
    factory = sessions_for(db_url)
    _user(factory, "a@example.jp")
    with transaction(factory) as s:
        user = accounts.find_user(s, "a@example.jp")
        assert user is not None
        cookie, _ = accounts.open_session(s, user, POLICY, utcnow())
        accounts.set_disabled(s, user, True)
    with transaction(factory) as s:
        assert accounts.resolve_session(s, cookie, POLICY) is None
        assert accounts.sign_in(s, "a@example.jp", PASSWORD, "x", POLICY).problem == "disabled"
        assert accounts.sign_in(s, "a@example.jp", "wrong", "x", POLICY).problem == (
            "bad_credentials"
        )
