"""Cookies and CSRF for the console.

- `cm_session`: the session id (service.accounts), HttpOnly, SameSite=Lax, Path=/,
  Secure when the request came over HTTPS; no Max-Age, so it ends with the browser too.
- CSRF: every form carries `csrf_token` (or an htmx request the `X-CSRF-Token` header).
  Signed in, the token is an HMAC of the session's own secret (stored with the session).
  Before sign-in (the sign-in and set-password forms) it is an HMAC, under a server key
  kept in the database (deps.server_key), of a random nonce in the `cm_presession` cookie; a forged
  cross-site form has neither the cookie (SameSite) nor the token.
  `csrf_guard` checks it on every POST/PUT/PATCH/DELETE under /console.

Before the body. FastAPI reads and parses a route's form before it runs any dependency
(the form is a parameter), so `ConsoleRoute` (service.console.pages) calls `before_body`
first, on every unsafe request, as service.ops.guard checks an API key before the body:
- a cross-origin request from a browser is refused (403 error.csrf): `Sec-Fetch-Site`
  (sent by every current browser) must be same-origin or none, or, without it, `Origin`
  must be this host (net/http's CrossOriginProtection, Go 1.25). A request with neither
  is not a browser's, so it carries no victim's cookies;
- a route that needs a signed-in user resolves the session cookie now; without a live
  session the answer is 403, the "form expired" page (what the token check answered
  before: a form's token is its session's), and not a byte of the body is read;
- a token sent in the `X-CSRF-Token` header (htmx) is checked now. A token in the form
  itself can only be checked once the form is read: `csrf_guard` does, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from urllib.parse import urlsplit

from fastapi import Request, Response
from starlette.concurrency import run_in_threadpool

from service.console import deps
from service.console.deps import SESSION_COOKIE, ViewerDep
from service.console.errors import ConsoleProblem
from service.store.db import transaction

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


def is_cross_origin(request: Request) -> bool:
    """A browser's request from another origin (see the module's docstring)."""
    site = request.headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = request.headers.get("origin")
    if origin is None:
        return False
    return urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def _viewer_now(request: Request) -> deps.Viewer | None:
    """The request's viewer, resolved in a transaction of its own (the route's session
    does not exist yet); `deps.optional_viewer` keeps it for the route's dependencies."""
    with transaction(request.app.state.sessions) as session:
        return deps.optional_viewer(request, session)


async def before_body(request: Request, *, needs_viewer: bool) -> None:
    """What an unsafe request passes before its body is read (the module's docstring):
    the origin, the sign-in where the route needs one, a token sent as a header."""
    if is_cross_origin(request):
        raise ConsoleProblem(403, "error.csrf")
    if not needs_viewer:
        return
    viewer = await run_in_threadpool(_viewer_now, request)
    if viewer is None:
        raise ConsoleProblem(403, "error.csrf")
    sent = request.headers.get(CSRF_HEADER, "")
    if sent and not await _token_ok(request, viewer, sent):
        raise ConsoleProblem(403, "error.csrf")


async def _token_ok(request: Request, viewer: deps.Viewer | None, sent: str) -> bool:
    expected: list[str] = []
    if viewer is not None:
        expected.append(session_token(viewer.csrf_secret))
    nonce = _presession_nonce(request)
    if nonce is not None:
        expected.append(await run_in_threadpool(_presession_mac, request, nonce))
    return bool(sent) and len(sent) <= 128 and any(hmac.compare_digest(sent, e) for e in expected)


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
    if not await _token_ok(request, viewer, sent):
        raise ConsoleProblem(403, "error.csrf")
