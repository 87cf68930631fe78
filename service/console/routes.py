"""The console's pages so far: sign-in, sign-out, setting a password, home, a profile.

Routes are sync functions (FastAPI runs them in a thread): they read the database and
hash passwords, which must stay off the event loop.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from service.accounts import passwords
from service.accounts import service as accounts
from service.accounts.service import NAME_MAX
from service.console import admin, deps, exchange, member, organizer, reports, schedule, security
from service.console.deps import SignedIn
from service.console.errors import ConsoleProblem
from service.console.pages import NAV, STATIC_DIR, ConsoleRoute, NavItem, render, safe_next
from service.deps import SessionDep
from service.profiles import service as profiles
from service.profiles.schemas import profile_out

__all__ = ["STATIC_DIR", "router"]

router = APIRouter(
    prefix="/console",
    include_in_schema=False,
    route_class=ConsoleRoute,
    dependencies=[Depends(security.csrf_guard)],
)

FormText = Annotated[str, Form()]
log = logging.getLogger("clustermatch.console")

# What each role can do, as message keys with the page that does it (the home page).
CAN: dict[str, list[tuple[str, str]]] = {
    "admin": [
        ("can.everything", "/console/events"),
        ("can.users", "/console/admin/users"),
        ("can.keys", "/console/admin/keys"),
        ("can.ranker", "/console/admin/ranker"),
        ("can.reports", "/console/reports"),
    ],
    "organizer": [
        ("can.profiles", "/console/profiles"),
        ("can.events", "/console/events"),
        ("can.schedule", "/console/events"),
        ("can.exchange", "/console/exchange/search"),
        ("can.reports", "/console/reports"),
    ],
    "member": [
        ("can.own_profile", "/console/me/profile"),
        ("can.matches", "/console/me/matches"),
        ("can.wishes", "/console/me/events"),
        ("can.agenda", "/console/me/events"),
    ],
}


def _client(request: Request) -> str:
    """The client address (uvicorn puts a trusted proxy's X-Forwarded-For here)."""
    return request.client.host if request.client else "unknown"


# ---------------------------------------------------------------------------- sign-in


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(
    request: Request, viewer: deps.ViewerDep, next: str = "", signed_out: str = ""
) -> Response:
    if viewer is not None:
        return RedirectResponse(safe_next(next), status_code=303)
    notice = {"1": "sign_in.signed_out", "all": "sign_in.signed_out_all"}.get(signed_out)
    return render(
        request, "sign_in.html", next=safe_next(next), email="", error=None, notice=notice
    )


@router.post("/sign-in", response_class=HTMLResponse)
def sign_in_submit(
    request: Request,
    session: SessionDep,
    email: FormText = "",
    password: FormText = "",
    next: FormText = "",
) -> Response:
    policy = deps.policy(request)
    target = safe_next(next)
    email = email[:300]
    cookie = ""
    # A refusal is committed too (SessionDep commits when the route returns): it counts.
    outcome = accounts.sign_in(session, email, password, _client(request), policy)
    if outcome.user is not None:
        old = request.cookies.get(security.SESSION_COOKIE, "")
        if old:
            accounts.sign_out(session, old)
        cookie, _ = accounts.open_session(session, outcome.user, policy)
    if outcome.user is None:
        # No email in the log: failures are counted in the database, by its hash.
        log.info("sign-in refused", extra={"reason": outcome.problem, "client": _client(request)})
        status, headers, params = 400, {}, {}
        if outcome.problem == "throttled":
            minutes = max(1, -(-outcome.retry_after_s // 60))
            status, params = 429, {"minutes": minutes}
            headers = {"Retry-After": str(outcome.retry_after_s)}
        elif outcome.problem == "disabled":
            status = 403
        return render(
            request,
            "sign_in.html",
            status,
            headers,
            next=target,
            email=email,
            error=f"sign_in.error.{outcome.problem}",
            error_params=params,
            notice=None,
        )
    log.info("signed in", extra={"user": outcome.user.pk, "client": _client(request)})
    response = RedirectResponse(target, status_code=303)
    security.set_cookie(response, request, security.SESSION_COOKIE, cookie)
    security.clear_cookie(response, request, security.PRESESSION_COOKIE)
    return response


@router.post("/sign-out")
def sign_out(request: Request, session: SessionDep) -> Response:
    cookie = request.cookies.get(security.SESSION_COOKIE, "")
    if cookie:
        accounts.sign_out(session, cookie)
    response = RedirectResponse("/console/sign-in?signed_out=1", status_code=303)
    security.clear_cookie(response, request, security.SESSION_COOKIE)
    return response


@router.post("/sign-out-everywhere")
def sign_out_everywhere(request: Request, viewer: SignedIn, session: SessionDep) -> Response:
    accounts.sign_out_everywhere(session, viewer.user_pk)
    response = RedirectResponse("/console/sign-in?signed_out=all", status_code=303)
    security.clear_cookie(response, request, security.SESSION_COOKIE)
    return response


# ---------------------------------------------------------------------------- set password

_NO_REFERRER = {"Referrer-Policy": "no-referrer"}  # the token is in the URL


@router.get("/set-password/{token}", response_class=HTMLResponse)
def set_password_page(request: Request, token: str, session: SessionDep) -> Response:
    try:
        user = accounts.user_for_token(session, token)
    except accounts.TokenInvalid as exc:
        raise ConsoleProblem(410, "token.invalid", _NO_REFERRER) from exc
    return render(
        request,
        "set_password.html",
        headers=_NO_REFERRER,
        email=user.email,
        display_name=user.display_name,
        errors={},
    )


@router.post("/set-password/{token}", response_class=HTMLResponse)
def set_password_submit(
    request: Request,
    token: str,
    session: SessionDep,
    display_name: FormText = "",
    password: FormText = "",
    password_confirm: FormText = "",
) -> Response:
    errors: dict[str, str] = {}  # field -> message key, in the form's order
    display_name = display_name.strip()
    cookie = ""
    try:
        user = accounts.user_for_token(session, token)
        email = user.email
        if len(display_name) > NAME_MAX:
            errors["display_name"] = "field.too_long"
        problem = passwords.password_problem(password, email=email)
        if problem:
            errors["password"] = problem
        if password != password_confirm:
            errors["password_confirm"] = "password.mismatch"
        if not errors:
            accounts.set_password(session, token, password, display_name=display_name or None)
            old = request.cookies.get(security.SESSION_COOKIE, "")
            if old:  # whoever was signed in in this browser is not any more
                accounts.sign_out(session, old)
            cookie, _ = accounts.open_session(session, user, deps.policy(request))
    except accounts.TokenInvalid as exc:
        raise ConsoleProblem(410, "token.invalid", _NO_REFERRER) from exc
    if errors:
        return render(
            request,
            "set_password.html",
            400,
            _NO_REFERRER,
            email=email,
            display_name=display_name,
            errors=errors,
        )
    response = RedirectResponse("/console?welcome=1", status_code=303)
    security.set_cookie(response, request, security.SESSION_COOKIE, cookie)
    security.clear_cookie(response, request, security.PRESESSION_COOKIE)
    return response


# ---------------------------------------------------------------------------- pages


@router.get("", response_class=HTMLResponse)
def home(request: Request, viewer: SignedIn, welcome: str = "") -> Response:
    return render(request, "home.html", can=CAN.get(viewer.role, []), welcome=welcome == "1")


# The areas' pages, each in its own module, before the catch-all below.
# (organizer: and before the profile page, so that /console/profiles/import is a page of
# its own, not a profile id)
for _area in (member, organizer, schedule, exchange, admin, reports):
    router.include_router(_area.router)


def _nav_rank(item: NavItem) -> int:
    """The header's order, whatever order the areas were imported in: the shell's links,
    then a member's pages, an organizer's own work, exchange staff's, the admin's."""
    for rank, prefix in enumerate(("member.", "nav.organizer.", "exchange.", "admin.")):
        if item.key.startswith(prefix):
            return rank + 1
    return 0


NAV.sort(key=_nav_rank)  # stable: each area keeps its own order


@router.get("/profiles/{profile_id}", response_class=HTMLResponse)
def profile_page(
    request: Request, profile_id: str, viewer: SignedIn, session: SessionDep
) -> Response:
    # The API's own read and presentation (404 for an unknown or impossible id; contact
    # only where the API shows it).
    data: dict[str, Any] = profile_out(profiles.get(session, profile_id), viewer.principal)
    return render(
        request,
        "profile.html",
        profile=data,
        owner=viewer.principal.owns(profile_id),
        website_href=web_link(data.get("website")),
    )


def web_link(value: str | None) -> str | None:
    """A website as a link only when it is plainly http(s) (never `javascript:`)."""
    if not value or any(c.isspace() or c in "<>\"'" for c in value):
        return None
    if value.lower().startswith(("http://", "https://")):
        return value
    host = value.split("/", 1)[0]
    if ":" not in host and "." in host:
        return "https://" + value
    return None


@router.api_route("/{rest:path}", methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"])
def not_found(request: Request, rest: str) -> Response:
    """Anything else under /console: the console's 404 page (not the API's JSON)."""
    if rest == "":
        return RedirectResponse("/console", status_code=307)
    raise ConsoleProblem(404, "error.404")
