"""API keys and roles. Keys are random 256-bit secrets shown once; only their SHA-256 is
stored (a slow hash adds nothing for secrets of that entropy). Sent as
`Authorization: Bearer <key>`; `service.deps.CallerDep` turns the header into a `Principal`.

Roles: admin (everything), organizer (its office's profiles, imports and events), member
(bound to one profile: edits it and asks for its matches). Contact details are shown only to admins
and to the member who owns the profile.

Offices (tenancy): every key and console user belongs to one cluster office (`office`, a
short name; "default" unless told otherwise, so a deployment that serves one office never
names one). An organizer writes the profiles of its office and sees and runs its office's
events, whichever key or console user of the office made them; admins are above offices.
The rules themselves are in service.profiles.service and service.events.service.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import math
import re
import secrets
import time
from dataclasses import dataclass
from typing import Literal, get_args

from service.errors import Forbidden, TooManyRequests, Unauthorized
from service.store import keys, users
from service.store.db import Session, SessionFactory, transaction
from service.store.tables import ApiKeyRow, utcnow

Role = Literal["admin", "organizer", "member"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "cm_"
MAX_KEY_LENGTH = 200
"""Longer bearer tokens are refused without a lookup."""
KEY_FAILURE_SCOPE = "api-ip"
"""The `signin_failures.scope` of unknown API keys, counted per client address."""
DEFAULT_OFFICE = "default"
"""The office of keys and users made without one (and of everything before offices)."""
OFFICE_MAX = 64
OFFICE_PATTERN = r"^[a-z0-9][a-z0-9_.-]*$"
_OFFICE = re.compile(OFFICE_PATTERN)


def clean_office(office: str | None) -> str:
    """An office's name as stored: trimmed and lower-cased, 1 to 64 of a-z, 0-9 and
    `_.-`, starting with a letter or digit (blank: the default office). ValueError
    otherwise."""
    value = (office or "").strip().lower() or DEFAULT_OFFICE
    if len(value) > OFFICE_MAX or not _OFFICE.fullmatch(value):
        raise ValueError(
            f"an office is 1 to {OFFICE_MAX} of a-z, 0-9, '_', '.', '-', starting with a "
            f"letter or digit (got '{value[:80]}')"
        )
    return value


@dataclass(frozen=True)
class Principal:
    key_pk: int
    role: Role
    profile_id: str | None = None
    office: str = DEFAULT_OFFICE

    def is_admin(self) -> bool:
        return self.role == "admin"

    def runs(self, office: str | None) -> bool:
        """Whether the caller manages what belongs to `office`: admins every office (and
        what belongs to none), organizers their own; members none (their own profile is
        `owns`)."""
        return self.is_admin() or (self.role == "organizer" and office == self.office)

    def owns(self, profile_id: str) -> bool:
        return self.role == "member" and self.profile_id == profile_id

    def sees_contact(self, profile_id: str) -> bool:
        return self.is_admin() or self.owns(profile_id)

    def require(self, *roles: Role) -> None:
        if self.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}; the key is {self.role}")


def key_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def create_key(
    session: Session,
    role: Role,
    *,
    name: str = "",
    profile_id: str | None = None,
    secret: str | None = None,
    office: str | None = None,
) -> tuple[ApiKeyRow, str]:
    """Store a new key and return it with its plaintext (shown once). `office`: see
    `clean_office` (None: the default office)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    office = clean_office(office)
    if role == "member" and not profile_id:
        raise ValueError("a member key belongs to a profile: give its profile id")
    prefix = secrets.token_hex(4)
    key = secret or f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}"
    if secret:
        prefix = "fixed-" + key_digest(secret)[:16]
    row = keys.add(
        session,
        prefix=prefix,
        key_hash=key_digest(key),
        role=role,
        name=name,
        profile_id=profile_id,
        office=office,
    )
    return row, key


def ensure_key(session: Session, role: Role, secret: str, name: str) -> None:
    """Make sure a key with this exact secret exists (bootstrap for containers)."""
    if authenticate(session, secret, raise_errors=False) is None:
        create_key(session, role, name=name, secret=secret)


def authenticate(session: Session, key: str, *, raise_errors: bool = True) -> Principal | None:
    hashed = key_digest(key)
    prefix = None
    if key.startswith(KEY_PREFIX) and key.count("_") >= 2:
        prefix = key[len(KEY_PREFIX) :].split("_", 1)[0]
    for row in keys.active_with_prefix(session, prefix or "fixed-" + hashed[:16]):
        if hmac.compare_digest(row.key_hash, hashed):
            return Principal(row.pk, row.role, row.profile_id, row.office)  # type: ignore[arg-type]
    if raise_errors:
        raise Unauthorized("unknown or revoked API key")
    return None


@dataclass(frozen=True)
class KeyThrottle:
    """How many unknown keys one client address may send within `window_s` seconds."""

    max_failures: int
    window_s: int


def check_key(sessions: SessionFactory, key: str, client: str, throttle: KeyThrottle) -> Principal:
    """The principal of a bearer key sent from `client` (an address), in a transaction of
    its own. An unknown or revoked key is recorded against the address (in the database,
    as the console's failed sign-ins are: every worker sees the same count); once the
    address has `max_failures` of them in the window, it gets 429 without a look-up, even
    for a good key (else guessing would go on at full speed), until the oldest of them
    leaves the window. (A key the process trusts already, from its key cache, is not
    looked up and still passes: service.ops.guard.) Only the address's SHA-256 is
    stored."""
    subject = key_digest(client)
    now = utcnow()
    since = now - dt.timedelta(seconds=throttle.window_s)
    wait = 0
    found: Principal | None = None
    with transaction(sessions) as session:
        count, oldest = users.failures_since(session, KEY_FAILURE_SCOPE, subject, since)
        if count >= throttle.max_failures and oldest is not None:
            oldest = oldest.replace(tzinfo=dt.UTC) if oldest.tzinfo is None else oldest
            left = (oldest + dt.timedelta(seconds=throttle.window_s) - now).total_seconds()
            wait = max(1, math.ceil(left))
        else:
            if len(key) <= MAX_KEY_LENGTH:
                found = authenticate(session, key, raise_errors=False)
            if found is None:
                users.prune_failures(session, since, (KEY_FAILURE_SCOPE,))
                users.add_failure(session, KEY_FAILURE_SCOPE, subject, now)
    if wait:
        raise TooManyRequests(
            f"too many unknown API keys from this address; try again in {wait} s", wait
        )
    if found is None:
        raise Unauthorized("unknown or revoked API key")
    return found


def revoke_key(session: Session, key_pk: int) -> bool:
    row = keys.get(session, key_pk)
    if row is None or row.revoked_at is not None:
        return False
    row.revoked_at = utcnow()
    return True


class KeyCache:
    """Keys this process authenticated recently, by digest, each kept `ttl_s` seconds (so a
    key revoked elsewhere, e.g. by the CLI, stops working within that time); unknown keys
    are never cached. Saves a database read per request (~1 ms of a match's CPU)."""

    def __init__(self, ttl_s: float, max_entries: int = 10_000) -> None:
        self.ttl_s = ttl_s
        self.max_entries = max_entries
        self._hits: dict[str, tuple[Principal, float]] = {}

    def get(self, digest: str) -> Principal | None:
        hit = self._hits.get(digest)
        if hit is None or hit[1] < time.monotonic():
            return None
        return hit[0]

    def put(self, digest: str, found: Principal) -> None:
        if self.ttl_s <= 0:
            return
        if len(self._hits) >= self.max_entries:
            self._hits.clear()
        self._hits[digest] = (found, time.monotonic() + self.ttl_s)
