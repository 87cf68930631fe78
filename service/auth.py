"""API keys and roles. Keys are random 256-bit secrets shown once; only their SHA-256 is
stored (a slow hash adds nothing for secrets of that entropy). Sent as
`Authorization: Bearer <key>`; `service.deps.CallerDep` turns the header into a `Principal`.

Roles: admin (everything), organizer (profiles and imports, own events), member (bound to
one profile: edits it and asks for its matches). Contact details are shown only to admins
and to the member who owns the profile.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Literal, get_args

from service.errors import Forbidden, Unauthorized
from service.store import keys
from service.store.db import Session, SessionFactory
from service.store.tables import ApiKeyRow, utcnow

Role = Literal["admin", "organizer", "member"]
ROLES: tuple[str, ...] = get_args(Role)
KEY_PREFIX = "cm_"


@dataclass(frozen=True)
class Principal:
    key_pk: int
    role: Role
    profile_id: str | None = None

    def is_admin(self) -> bool:
        return self.role == "admin"

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
) -> tuple[ApiKeyRow, str]:
    """Store a new key and return it with its plaintext (shown once)."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
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
            return Principal(row.pk, row.role, row.profile_id)  # type: ignore[arg-type]
    if raise_errors:
        raise Unauthorized("unknown or revoked API key")
    return None


def lookup(sessions: SessionFactory, key: str) -> Principal:
    """The principal of a bearer key, in a session of its own: the caller is checked
    before anything else of a request, including on routes that open no session."""
    with sessions() as session:
        return authenticate(session, key)  # type: ignore[return-value]


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
