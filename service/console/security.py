"""Cookies and CSRF for the console.

- `cm_session`: the session id (service.accounts), HttpOnly, SameSite=Lax, Path=/,
  Secure when the request came over HTTPS; no Max-Age, so it ends with the browser too.
- CSRF: every form carries `csrf_token` (or an htmx request the `X-CSRF-Token` header).
  Signed in, the token is an HMAC of the session's own secret (stored with the session).
  Before sign-in (the sign-in and set-password forms) it is an HMAC, under a server key
  kept in the database (deps.server_key), of a random nonce in the `cm_presession` cookie; a forged
  cross-site form has neither the cookie (SameSite) nor the token.
  `csrf_guard` checks it on every POST/PUT/PATCH/DELETE under /console.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from service.console import deps
from service.console.deps import SESSION_COOKIE, ViewerDep
from service.console.errors import ConsoleProblem

__all__ = ["SESSION_COOKIE", "csrf_guard", "form_token", "set_cookie"]

PRESESSION_COOKIE = "cm_presession"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_NONCE = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def is_https(request: Request) -> bool:
    if request.url.scheme == "https":
        return True
    if deps.settings(request).trust_forwarded_proto:
        proto = request.headers.get("x-forwarded-proto", "")
        return proto.split(",")[0].strip().lower() == "https"
    return False


def set_cookie(
    response: Response,
    request: Request,
    name: str,
    value: str,
    *,
    max_age: int | None = None,
    http_only: bool = True,
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/",
        httponly=http_only,
        samesite="lax",
        secure=is_https(request),
    )


def clear_cookie(response: Response, request: Request, name: str) -> None:
    response.delete_cookie(name, path="/", httponly=True, samesite="lax", secure=is_https(request))


def session_token(csrf_secret: str) -> str:
    return hmac.new(csrf_secret.encode(), b"cm-csrf-v1", hashlib.sha256).hexdigest()


def _presession_nonce(request: Request) -> str | None:
    value = request.cookies.get(PRESESSION_COOKIE, "")
    return value if _NONCE.match(value) else None


def presession_token(request: Request) -> str:
    """The token for a form shown before sign-in. Makes the nonce when the browser has
    none; `ConsoleRoute` then sets the cookie on the response."""
    nonce = _presession_nonce(request) or getattr(request.state, "new_presession", None)
    if nonce is None:
        nonce = secrets.token_urlsafe(32)
        request.state.new_presession = nonce
    return _presession_mac(request, nonce)


def _presession_mac(request: Request, nonce: str) -> str:
    return hmac.new(deps.server_key(request), b"pre:" + nonce.encode(), hashlib.sha256).hexdigest()


def form_token(request: Request) -> str:
    """The CSRF token for a form on this page: the session's when signed in."""
    viewer = deps.current_viewer(request)
    return session_token(viewer.csrf_secret) if viewer else presession_token(request)


async def csrf_guard(request: Request, viewer: ViewerDep) -> None:
    """Router dependency: refuse (403) an unsafe request without a valid token. (It also
    makes every console request resolve its viewer.)"""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER, "")
    if not sent and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()  # parsed once: FastAPI's own parse reuses it
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else ""
    if viewer is None and request.url.path == "/console/sign-out":
        return  # nothing to sign out of: the route only redirects
    expected: list[str] = []
    if viewer is not None:
        expected.append(session_token(viewer.csrf_secret))
    nonce = _presession_nonce(request)
    if nonce is not None:
        expected.append(await run_in_threadpool(_presession_mac, request, nonce))
    if not sent or len(sent) > 128 or not any(hmac.compare_digest(sent, e) for e in expected):
        raise ConsoleProblem(403, "error.csrf")
