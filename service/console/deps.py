"""What console routes take from the app: the request's database session is the API's
`SessionDep` (service.deps: committed when the route returns, rolled back if it raises);
the signed-in viewer, role checks and settings are here.

Every console request resolves its viewer once (the router's CSRF check depends on it), in
the request's session; `current_viewer(request)` then reads it back without the database.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request

from service.accounts import service as accounts
from service.auth import Principal, Role
from service.console.errors import SignInRequired
from service.deps import SessionDep
from service.ops.guard import limit
from service.settings import Settings
from service.store import users as repo
from service.store.db import SessionFactory

SESSION_COOKIE = "cm_session"


SERVER_KEY = "console-presession-key"


def server_key(request: Request) -> bytes:
    """The key that signs pre-session CSRF tokens (security.py): made once, kept in the
    database so that every worker and machine shares it, cached per process. Made in a
    transaction of its own, before the request's session writes anything."""
    cached: bytes | None = getattr(request.app.state, "console_key", None)
    if cached is not None:
        return cached
    factory: SessionFactory = request.app.state.sessions
    value = repo.ensure_secret(factory, SERVER_KEY, lambda: secrets.token_hex(32))
    if value is None:
        raise RuntimeError("the console's server key could not be stored")
    key = bytes.fromhex(value)
    request.app.state.console_key = key
    return key


def settings(request: Request) -> Settings:
    value: Settings = request.app.state.settings
    return value


def policy(request: Request) -> accounts.Policy:
    cached: accounts.Policy | None = getattr(request.app.state, "console_policy", None)
    if cached is None:
        cached = accounts.Policy.of(settings(request))
        request.app.state.console_policy = cached
    return cached


@dataclass(frozen=True)
class Viewer:
    """The signed-in user of this request. `principal` is what the API's rules take."""

    user_pk: int
    email: str
    display_name: str
    role: Role
    profile_id: str | None
    time_zone: str
    principal: Principal
    csrf_secret: str
    session_expires_at: dt.datetime


def optional_viewer(request: Request, session: SessionDep) -> Viewer | None:
    """The viewer from the session cookie, or None (a sync dependency: it runs in a
    worker thread). An ended session is deleted, a live one's last-seen time kept."""
    if hasattr(request.state, "console_viewer"):
        cached: Viewer | None = request.state.console_viewer
        return cached
    server_key(request)  # (made now if need be, while `session` has written nothing)
    viewer = None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    resolved = accounts.resolve_session(session, cookie, policy(request)) if cookie else None
    # Committed now (the last-seen time, an ended session's deletion): a session that has
    # written holds SQLite's write lock until it commits, and a route that then waits for
    # the engine's write lock (a profile saved from the console) would keep the writer
    # holding that one from the database until SQLite's busy timeout ("database is
    # locked"). Nothing else has been written in this session yet.
    session.commit()
    if resolved is not None:
        row, user = resolved
        principal = accounts.principal_for_user(user)
        # the user's rate limit (the address's was the guard's: service.ops.guard)
        limit(request.app.state.limiter, "key", str(principal.key_pk), "user")
        viewer = Viewer(
            user_pk=user.pk,
            email=user.email,
            display_name=user.display_name,
            role=principal.role,
            profile_id=principal.profile_id,
            time_zone=user.time_zone,
            principal=principal,
            csrf_secret=row.csrf_secret,
            session_expires_at=row.expires_at,
        )
    request.state.console_viewer = viewer
    return viewer


ViewerDep = Annotated[Viewer | None, Depends(optional_viewer)]


def current_viewer(request: Request) -> Viewer | None:
    """The viewer `optional_viewer` found for this request (None before it ran)."""
    found: Viewer | None = getattr(request.state, "console_viewer", None)
    return found


async def signed_in(viewer: ViewerDep) -> Viewer:
    if viewer is None:
        raise SignInRequired()
    return viewer


SignedIn = Annotated[Viewer, Depends(signed_in)]
"""A route parameter `viewer: SignedIn` makes the page need a signed-in user."""


def require_role(*roles: Role) -> Any:
    """`Annotated[Viewer, require_role("admin", "organizer")]`: the API's own check
    (Principal.require), so a 403 here is a 403 there."""

    async def dependency(viewer: SignedIn) -> Viewer:
        viewer.principal.require(*roles)
        return viewer

    return Depends(dependency)
