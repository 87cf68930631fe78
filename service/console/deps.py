"""What console routes take from the app, in one place.

`sessions(request)` is the console's only way to the database: when the typed
`SessionDep` (service/deps.py) lands, this function is the one to change.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from service import accounts
from service.auth import Principal, Role
from service.console.errors import SignInRequired
from service.settings import Settings
from service.store.db import transaction


def sessions(request: Request) -> sessionmaker[Session]:
    """The database sessions (integration point: becomes SessionDep)."""
    factory: sessionmaker[Session] = request.app.state.sessions
    return factory


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


def current_viewer(request: Request) -> Viewer | None:
    """The viewer from the session cookie, or None; looked up once per request (blocking:
    call it from a thread, as sync routes are)."""
    if hasattr(request.state, "console_viewer"):
        found: Viewer | None = request.state.console_viewer
        return found
    from service.console.security import SESSION_COOKIE

    viewer = None
    cookie = request.cookies.get(SESSION_COOKIE, "")
    if cookie:
        with transaction(sessions(request)) as s:
            resolved = accounts.resolve_session(s, cookie, policy(request))
            if resolved is not None:
                row, user = resolved
                principal = accounts.principal_for_user(user)
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


async def signed_in(request: Request) -> Viewer:
    viewer = await run_in_threadpool(current_viewer, request)
    if viewer is None:
        raise SignInRequired()
    return viewer


SignedIn = Annotated[Viewer, Depends(signed_in)]
"""A route parameter `viewer: SignedIn` makes the page need a signed-in user."""


def require_role(*roles: Role) -> Any:
    """`Annotated[Viewer, require_role("admin", "organizer")]`: the API's own check
    (Principal.require), so a 403 here is a 403 there."""

    async def dependency(request: Request) -> Viewer:
        viewer = await signed_in(request)
        viewer.principal.require(*roles)
        return viewer

    return Depends(dependency)
