"""Console accounts: users, one-time password links, sign-in with throttling, and
server-side sessions. Functions take a SQLAlchemy session and never commit: the caller's
transaction decides (service.store.db.transaction). The SQL is in service.store.users.

A console user acts as a `Principal` (service.auth), the same object an API key yields,
so that the API's rules (`require`, `owns`, `sees_contact`, `runs` for an office's events
and profiles, `key_pk` for what is one person's) decide for both. Each user gets its own
key number (`UserRow.principal_key`, see there) and belongs to an office (`UserRow.office`,
mirrored on that key number's row).

Errors (raised for input the caller can show back; `code` is a message key):

    AccountError
    ├── InvalidUser        create/change: unknown role or profile, email taken or malformed,
    │                      an office name that is not one
    ├── TokenInvalid       a password link that is unknown, used or expired
    └── PasswordRejected   a new password that breaks a rule

A failed sign-in is not an exception: it must be recorded (and committed) before the
caller answers, so `sign_in` returns a `SignInOutcome`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import re
import secrets
from dataclasses import dataclass
from typing import Literal, cast

from service.accounts import passwords
from service.auth import ROLES, Principal, Role, clean_office, create_key
from service.settings import Settings
from service.store import keys
from service.store import users as repo
from service.store.db import Session
from service.store.tables import ConsoleSessionRow, UserRow, utcnow

TOKEN_DAYS = 7
TOUCH_EVERY = dt.timedelta(seconds=60)
"""A session's last-seen time is written at most this often (not on every request)."""
EMAIL_MAX = 254
NAME_MAX = 200
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(Exception):
    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(detail or code)
        self.code = code
        self.detail = detail or code


class InvalidUser(AccountError):
    pass


class TokenInvalid(AccountError):
    pass


class PasswordRejected(AccountError):
    pass


@dataclass(frozen=True)
class Policy:
    """The timeouts and throttle limits, from Settings."""

    idle: dt.timedelta = dt.timedelta(minutes=120)
    lifetime: dt.timedelta = dt.timedelta(hours=12)
    max_failures: int = 5
    max_failures_per_ip: int = 20
    window: dt.timedelta = dt.timedelta(seconds=900)

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        return cls(
            idle=dt.timedelta(minutes=settings.session_idle_minutes),
            lifetime=dt.timedelta(hours=settings.session_max_hours),
            max_failures=settings.signin_max_failures,
            max_failures_per_ip=settings.signin_max_failures_per_ip,
            window=dt.timedelta(seconds=settings.signin_window_s),
        )


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _utc(value: dt.datetime) -> dt.datetime:
    """SQLite gives back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def principal_for_user(user: UserRow) -> Principal:
    """The user as the API's authorization layer sees a caller."""
    role: Role = user.role  # type: ignore[assignment]
    profile = user.profile_id if role == "member" else None
    return Principal(user.principal_key, role, profile, user.office)


# ---------------------------------------------------------------------------- users


def normalize_email(email: str) -> str:
    value = email.strip().lower()
    if len(value) > EMAIL_MAX or not _EMAIL.match(value):
        raise InvalidUser("user.email_invalid", f"not an email address: {email[:80]!r}")
    return value


def create_user(
    session: Session,
    *,
    email: str,
    role: str,
    display_name: str = "",
    profile_id: str | None = None,
    time_zone: str = "Asia/Tokyo",
    office: str | None = None,
) -> UserRow:
    """A user without a password yet (see `issue_password_link`), of `office` (None or
    blank: the default office)."""
    address = normalize_email(email)
    if role not in ROLES:
        raise InvalidUser("user.role_invalid", f"role must be one of {', '.join(ROLES)}")
    office = check_office(office)
    if role == "member" and not profile_id:
        raise InvalidUser(
            "user.profile_required", "a member belongs to a profile: give its profile id"
        )
    if role != "member" and profile_id:
        raise InvalidUser("user.profile_not_allowed", "only a member belongs to a profile")
    if profile_id and not repo.profile_exists(session, profile_id):
        raise InvalidUser("user.profile_unknown", f"no profile with id '{profile_id[:128]}'")
    if repo.user_by_email(session, address) is not None:
        raise InvalidUser("user.email_taken", f"a user with the email {address} exists")
    name = display_name.strip()[:NAME_MAX] or address.split("@", 1)[0]
    key, _secret = create_key(
        session, cast(Role, role), name=f"console: {address}", profile_id=profile_id, office=office
    )
    key.revoked_at = utcnow()  # a key number for ownership only, never a usable key
    now = utcnow()
    return repo.add_user(
        session,
        UserRow(
            email=address,
            display_name=name,
            role=role,
            profile_id=profile_id,
            principal_key=key.pk,
            time_zone=time_zone,
            office=office,
            created_at=now,
            updated_at=now,
        ),
    )


def check_office(office: str | None) -> str:
    """The office's name as stored (service.auth.clean_office); InvalidUser otherwise."""
    try:
        return clean_office(office)
    except ValueError as exc:
        raise InvalidUser("user.office_invalid", str(exc)) from exc


def find_user(session: Session, email: str) -> UserRow | None:
    try:
        return repo.user_by_email(session, normalize_email(email))
    except InvalidUser:
        return None


def list_users(session: Session) -> list[UserRow]:
    return repo.all_users(session)


def set_office(session: Session, user: UserRow, office: str) -> None:
    """Move a user to another office (InvalidUser for a name that is not one), from their
    next request; its key number's row says the same. What they made stays where it was
    made: events and programmes with their office, shortlists with the user."""
    user.office, user.updated_at = check_office(office), utcnow()
    key = keys.get(session, user.principal_key)
    if key is not None:
        key.office = user.office


def set_disabled(session: Session, user: UserRow, disabled: bool) -> None:
    """Disabling also ends the user's sessions at once."""
    now = utcnow()
    user.disabled_at = now if disabled else None
    user.updated_at = now
    if disabled:
        repo.delete_user_sessions(session, user.pk)


# ---------------------------------------------------------------------------- password links


def issue_password_link(session: Session, user: UserRow, now: dt.datetime | None = None) -> str:
    """A new one-time token to set the password (valid TOKEN_DAYS, once); the user's
    earlier unused tokens stop working. Returns the token's secret (shown once)."""
    now = now or utcnow()
    token = secrets.token_urlsafe(32)
    repo.drop_unused_tokens(session, user.pk)
    repo.add_token(session, user.pk, _sha256(token), now, now + dt.timedelta(days=TOKEN_DAYS))
    return token


def user_for_token(session: Session, token: str, now: dt.datetime | None = None) -> UserRow:
    now = now or utcnow()
    if not token or len(token) > 200:
        raise TokenInvalid("token.invalid")
    row = repo.token_by_hash(session, _sha256(token))
    if row is None or row.used_at is not None or _utc(row.expires_at) <= now:
        raise TokenInvalid("token.invalid")
    user = repo.user_by_pk(session, row.user_pk)
    if user is None or user.disabled_at is not None:
        raise TokenInvalid("token.invalid")
    return user


def set_password(
    session: Session,
    token: str,
    password: str,
    *,
    display_name: str | None = None,
    now: dt.datetime | None = None,
) -> UserRow:
    """Use a password link: check the rules, store the hash, end the user's other
    sessions. Raises TokenInvalid or PasswordRejected (nothing changed then)."""
    now = now or utcnow()
    user = user_for_token(session, token, now)
    problem = passwords.password_problem(password, email=user.email)
    if problem:
        raise PasswordRejected(problem)
    row = repo.token_by_hash(session, _sha256(token))
    if row is None or not repo.use_token(session, row.pk, now):
        raise TokenInvalid("token.invalid")
    user.password_hash = passwords.hash_password(password)
    if display_name is not None and display_name.strip():
        user.display_name = display_name.strip()[:NAME_MAX]
    user.updated_at = now
    repo.delete_user_sessions(session, user.pk)
    return user


# ---------------------------------------------------------------------------- sign-in


@dataclass(frozen=True)
class SignInOutcome:
    user: UserRow | None
    problem: Literal["bad_credentials", "disabled", "throttled"] | None = None
    retry_after_s: int = 0


def _throttled(
    session: Session, scope: str, subject: str, limit: int, policy: Policy, now: dt.datetime
) -> int:
    """Seconds until (scope, subject) may try again; 0 if it may now."""
    count, oldest = repo.failures_since(session, scope, subject, now - policy.window)
    if count < limit or oldest is None:
        return 0
    return max(1, math.ceil((_utc(oldest) + policy.window - now).total_seconds()))


def sign_in(
    session: Session,
    email: str,
    password: str,
    client: str,
    policy: Policy,
    now: dt.datetime | None = None,
) -> SignInOutcome:
    """Check a sign-in. Refused without checking the password while the email or the
    client address has `max_failures` failures in the window; each failure is recorded
    for both. The caller commits whatever the outcome."""
    now = now or utcnow()
    address = email.strip().lower()[:EMAIL_MAX]
    by_email, by_ip = ("email", _sha256(address)), ("ip", _sha256(client))
    wait = max(
        _throttled(session, *by_email, policy.max_failures, policy, now),
        _throttled(session, *by_ip, policy.max_failures_per_ip, policy, now),
    )
    if wait:
        return SignInOutcome(None, "throttled", wait)
    user = repo.user_by_email(session, address) if address else None
    ok, new_hash = passwords.verify(user.password_hash if user else None, password[:2048])
    if not ok or user is None:
        repo.prune_failures(session, now - policy.window, ("email", "ip"))
        repo.add_failure(session, *by_email, now)
        repo.add_failure(session, *by_ip, now)
        return SignInOutcome(None, "bad_credentials")
    if user.disabled_at is not None:
        return SignInOutcome(None, "disabled")
    repo.clear_failures(session, *by_email)
    if new_hash:
        user.password_hash = new_hash
    return SignInOutcome(user)


# ---------------------------------------------------------------------------- sessions


def open_session(
    session: Session, user: UserRow, policy: Policy, now: dt.datetime | None = None
) -> tuple[str, ConsoleSessionRow]:
    """A new session; returns the cookie value (only its hash is stored) and the row."""
    now = now or utcnow()
    repo.prune_sessions(session, now, now - policy.idle)
    value = secrets.token_urlsafe(32)
    row = repo.add_session(
        session,
        ConsoleSessionRow(
            id_hash=_sha256(value),
            user_pk=user.pk,
            csrf_secret=secrets.token_hex(32),
            created_at=now,
            last_seen_at=now,
            expires_at=now + policy.lifetime,
        ),
    )
    return value, row


def resolve_session(
    session: Session, cookie: str, policy: Policy, now: dt.datetime | None = None
) -> tuple[ConsoleSessionRow, UserRow] | None:
    """The live session and its user for a cookie value, or None. An ended session
    (idle, too old, or its user disabled) is deleted."""
    if not cookie or len(cookie) > 200:
        return None
    now = now or utcnow()
    found = repo.session_with_user(session, _sha256(cookie))
    if found is None:
        return None
    row, user = found
    last_seen = _utc(row.last_seen_at)
    if _utc(row.expires_at) <= now or last_seen + policy.idle <= now or user.disabled_at:
        repo.delete_session(session, row.id_hash)
        return None
    if now - last_seen >= TOUCH_EVERY:
        repo.touch_session(session, row.pk, now)
    return row, user


def sign_out(session: Session, cookie: str) -> bool:
    """End the session of this cookie (in every process: the row is gone)."""
    if not cookie or len(cookie) > 200:
        return False
    return repo.delete_session(session, _sha256(cookie)) > 0


def sign_out_everywhere(session: Session, user_pk: int) -> int:
    """End all the user's sessions; returns how many there were."""
    return repo.delete_user_sessions(session, user_pk)


def session_count(session: Session, user_pk: int) -> int:
    return repo.count_user_sessions(session, user_pk)
