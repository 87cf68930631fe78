"""Rendering: the Jinja2 environment, the page context every template gets, the
navigation, and `ConsoleRoute`, the route class that turns every failure of a console
route into a page in the console's style.

A template sees: `t(key, **params)` (the page's language), `lang`, `viewer` (None before
sign-in), `csrf_field()` (the hidden input every form must carry), `csrf_token()`,
`nav`, `lang_url(code)`, `static(name)`, `dt(value)` (a date-time in the viewer's zone)
and what the route passes.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request, Response
from fastapi.dependencies.models import Dependant
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.routing import APIRoute
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from service.auth import Role
from service.console import deps, i18n, security
from service.console.errors import ConsoleProblem, SignInRequired
from service.errors import ClusterMatchError

log = logging.getLogger("clustermatch.console")

HERE = Path(__file__).resolve().parent
TEMPLATES_DIR = HERE / "templates"
STATIC_DIR = HERE / "static"
HTMX = "htmx-2.0.11.min.js"
SIGN_IN = "/console/sign-in"

env = Environment(
    loader=FileSystemLoader(TEMPLATES_DIR),
    autoescape=select_autoescape(default=True, default_for_string=True),
    undefined=StrictUndefined,  # a misspelt variable fails the test, not the page silently
    trim_blocks=True,
    lstrip_blocks=True,
)

# Headers on every console page. The policy allows scripts and styles from this origin
# only (htmx is served from it; no inline script or style anywhere).
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


# ---------------------------------------------------------------------------- navigation


@dataclass(frozen=True)
class NavItem:
    """A link in the header for the given roles. `href` may name `{profile_id}`."""

    key: str
    href: str
    roles: tuple[Role, ...] = ("admin", "organizer", "member")


NAV: list[NavItem] = [
    NavItem("nav.home", "/console"),
    NavItem("nav.my_profile", "/console/profiles/{profile_id}", roles=("member",)),
]
"""Page authors append their pages here (in order of appearance)."""


@dataclass(frozen=True)
class NavLink:
    key: str
    href: str
    current: bool


def nav_for(viewer: deps.Viewer | None, path: str) -> list[NavLink]:
    if viewer is None:
        return []
    links = []
    for item in NAV:
        if viewer.role not in item.roles:
            continue
        href = item.href.format(profile_id=viewer.profile_id or "")
        links.append(NavLink(item.key, href, current=path == href))
    return links


# ---------------------------------------------------------------------------- rendering


@cache
def _fingerprint(name: str) -> str:
    return hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:10]


def static_url(name: str) -> str:
    """A static file's URL with its content hash (so a new version is never stale)."""
    return f"/console/static/{name}?v={_fingerprint(name)}"


def context(request: Request, **extra: Any) -> dict[str, Any]:
    """What every template sees (blocking: may read the session)."""
    lang = i18n.negotiate(request)
    viewer = deps.current_viewer(request)
    zone = viewer.time_zone if viewer else "Asia/Tokyo"

    def csrf_token() -> str:
        return security.form_token(request)

    def csrf_field() -> Markup:
        token = csrf_token()
        return Markup('<input type="hidden" name="{}" value="{}">').format(
            security.CSRF_FIELD, token
        )

    def lang_url(code: str) -> str:
        params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"]
        return request.url.path + "?" + urlencode([*params, ("lang", code)])

    return {
        "request": request,
        "lang": lang,
        "t": i18n.translator(lang),
        "viewer": viewer,
        "nav": nav_for(viewer, request.url.path),
        "csrf_token": csrf_token,
        "csrf_field": csrf_field,
        "lang_url": lang_url,
        "static": static_url,
        "htmx": HTMX,
        "dt": lambda value: i18n.format_datetime(value, lang, zone),
        **extra,
    }


def render(
    request: Request,
    template: str,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    **values: Any,
) -> HTMLResponse:
    """A page. Call from sync routes (they run in a thread): it may read the session."""
    html = env.get_template(template).render(context(request, **values))
    return HTMLResponse(html, status_code=status, headers=dict(headers or {}))


def error_page(
    request: Request,
    status: int,
    code: str,
    headers: Mapping[str, str] | None = None,
    **params: Any,
) -> HTMLResponse:
    try:
        return render(
            request, "error.html", status, headers, code=code, status_code=status, params=params
        )
    except Exception:  # the page itself failed (e.g. the database is gone): plain text
        log.exception("rendering the error page failed")
        t = i18n.translator(i18n.negotiate(request))
        return HTMLResponse(t("error.500.title"), status_code=status, headers=dict(headers or {}))


def sign_in_redirect(request: Request) -> RedirectResponse:
    target = request.url.path
    if request.url.query:
        target += "?" + request.url.query
    query = urlencode({"next": target}) if target != "/console" else ""
    return RedirectResponse(SIGN_IN + ("?" + query if query else ""), status_code=303)


def safe_next(value: str | None) -> str:
    """A path inside the console to go back to after sign-in; anything else -> home."""
    if (
        not value
        or len(value) > 2000
        or not value.startswith("/console")
        or value.startswith(SIGN_IN)
        or "//" in value
        or "\\" in value
        or any(ord(c) < 0x20 for c in value)
    ):
        return "/console"
    return value


_STATUS_CODES = {400, 403, 404, 405, 409, 410, 413, 422, 429, 503}


async def _failure_page(request: Request, exc: Exception) -> Response:
    if isinstance(exc, SignInRequired):
        return sign_in_redirect(request)
    if isinstance(exc, ConsoleProblem):
        return await run_in_threadpool(
            error_page, request, exc.status, exc.code, exc.headers, **exc.params
        )
    if isinstance(exc, ClusterMatchError):
        status = exc.status if exc.status in _STATUS_CODES else 500
        headers = exc.response_headers()  # (429: Retry-After)
        return await run_in_threadpool(error_page, request, status, f"error.{status}", headers)
    if isinstance(exc, RequestValidationError):
        return await run_in_threadpool(error_page, request, 400, "error.400")
    if isinstance(exc, StarletteHTTPException):
        status = exc.status_code if exc.status_code in _STATUS_CODES else 500
        return await run_in_threadpool(error_page, request, status, f"error.{status}")
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return await run_in_threadpool(error_page, request, 500, "error.500")


def _finish(request: Request, response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    lang = request.query_params.get("lang")
    if lang in i18n.LANGS and request.cookies.get(i18n.LANG_COOKIE) != lang:
        security.set_cookie(response, request, i18n.LANG_COOKIE, lang, max_age=365 * 86400)
    nonce = getattr(request.state, "new_presession", None)
    if nonce is not None:
        security.set_cookie(response, request, security.PRESESSION_COOKIE, nonce)
    return response


def _depends_on(dependant: Dependant, call: Callable[..., Any]) -> bool:
    """Whether `call` is among the dependencies of `dependant`, at any depth."""
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


class ConsoleRoute(APIRoute):
    """Every console route: an unsafe request passes `security.before_body` (origin,
    sign-in, a header token) before a byte of its body is read; failures become console
    pages, and every response gets the security headers and the cookies the page needs
    (language, pre-session nonce)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        needs_viewer = _depends_on(self.dependant, deps.signed_in)

        async def run(request: Request) -> Response:
            try:
                if request.method in security.UNSAFE_METHODS:
                    # (FastAPI reads a form before any dependency runs)
                    await security.before_body(request, needs_viewer=needs_viewer)
                response = await handler(request)
            except Exception as exc:
                response = await _failure_page(request, exc)
            return _finish(request, response)

        return run
