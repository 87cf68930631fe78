"""The admin pages (admin role only; anyone else gets the 403 page):

- GET  /console/admin/users                  users; POST: a new one (role, profile, office)
                                             -> its one-time link
- POST /console/admin/users/{pk}/role        change a role (and a member's profile) and
                                             the office
- POST /console/admin/users/{pk}/disable|enable
- POST /console/admin/users/{pk}/link        a new one-time link to set the password
- GET  /console/admin/keys                   API keys (never a secret); POST: a new one
                                             (role, profile, office), its secret shown once
- GET|POST /console/admin/keys/{pk}/revoke   a confirmation, then the revocation
- GET  /console/admin/ranker                 the ranker's status (GET /v1/ranker)
- POST /console/admin/ranker/train           retrain (POST /v1/ranker/train) -> the job
- GET  /console/admin/ranker/jobs/{id}       its progress (htmx polls .../progress each
                                             second) and its report
- GET  /console/admin/audit                  the audit log, filtered (GET /v1/audit)

The work is the API's and the CLI's: service.accounts (users, links), its `management`
module (roles, keys), service.ranker and service.jobs.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.profile import MAX_ID
from service.accounts import management
from service.accounts import service as accounts
from service.accounts.service import EMAIL_MAX, NAME_MAX, AccountError
from service.audit import service as audit
from service.auth import DEFAULT_OFFICE, OFFICE_MAX, ROLES
from service.console import pages
from service.console.deps import Viewer, require_role
from service.console.errors import ConsoleProblem
from service.console.messages import EN
from service.console.pages import ConsoleRoute, render
from service.deps import EngineDep, JobsDep, SessionDep
from service.errors import NotFound
from service.jobs import service as jobs_service
from service.jobs.schemas import job_out
from service.ranker import service as ranker
from service.store.audit import AuditFilter

router = APIRouter(prefix="/admin", route_class=ConsoleRoute)

Admin = Annotated[Viewer, require_role("admin")]
FormText = Annotated[str, Form()]

pages.NAV.extend(
    [
        pages.NavItem("admin.nav.users", "/console/admin/users", ("admin",)),
        pages.NavItem("admin.nav.keys", "/console/admin/keys", ("admin",)),
        pages.NavItem("admin.nav.ranker", "/console/admin/ranker", ("admin",)),
        pages.NavItem("admin.nav.audit", "/console/admin/audit", ("admin",)),
    ]
)

_NO_REFERRER = {"Referrer-Policy": "no-referrer"}  # a page that shows a secret or a link
SEED_MAX = 2**31
QUERIES_MIN, QUERIES_MAX = 10, 20_000


def _message(code: str) -> str:
    """An accounts error code as a message key (the shell's own `user.*` keys, else ours)."""
    return code if code in EN else f"admin.error.{code}"


def _pk(value: str) -> int:
    if not value.isdigit() or len(value) > 9:
        raise ConsoleProblem(404, "error.404")
    return int(value)


# ---------------------------------------------------------------------------- users


def _users_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
    row_errors: dict[int, str] | None = None,
    row_values: dict[int, dict[str, str]] | None = None,
) -> HTMLResponse:
    params = request.query_params
    return render(
        request,
        "admin_users.html",
        status,
        users=accounts.list_users(session),
        roles=ROLES,
        errors=errors or {},
        values=values
        or {
            "email": "",
            "display_name": "",
            "role": "organizer",
            "profile_id": "",
            "office": DEFAULT_OFFICE,
        },
        row_errors=row_errors or {},
        row_values=row_values or {},
        changed=params.get("changed", "")[:300],
        done=params.get("done", "")[:20],
    )


@router.get("/users", response_class=HTMLResponse)
def users_page(request: Request, viewer: Admin, session: SessionDep) -> Response:
    return _users_page(request, viewer, session)


def _link(request: Request, token: str) -> str:
    """The one-time link at the address the admin uses the console from."""
    return f"{str(request.base_url).rstrip('/')}/console/set-password/{token}"


@router.post("/users", response_class=HTMLResponse)
def create_user(
    request: Request,
    viewer: Admin,
    session: SessionDep,
    email: FormText = "",
    display_name: FormText = "",
    role: FormText = "",
    profile_id: FormText = "",
    office: FormText = "",
) -> Response:
    values = {
        "email": email[: EMAIL_MAX + 1],
        "display_name": display_name[: NAME_MAX + 1],
        "role": role[:20],
        "profile_id": profile_id[: MAX_ID + 1],
        "office": office[: OFFICE_MAX + 1],
    }
    errors: dict[str, str] = {}
    if len(values["display_name"].strip()) > NAME_MAX:
        errors["display_name"] = "field.too_long"
    field_of = {
        "user.email_invalid": "email",
        "user.email_taken": "email",
        "user.role_invalid": "role",
        "user.office_invalid": "office",
    }
    if not errors:
        try:
            # the same two calls as `clustermatch users create`
            user = accounts.create_user(
                session,
                email=values["email"],
                role=values["role"],
                display_name=values["display_name"],
                profile_id=values["profile_id"].strip() or None,
                office=values["office"],
            )
            token = accounts.issue_password_link(session, user)
        except AccountError as exc:
            errors[field_of.get(exc.code, "profile_id")] = _message(exc.code)
    if errors:
        return _users_page(request, viewer, session, status=400, errors=errors, values=values)
    return render(
        request,
        "admin_link.html",
        headers=_NO_REFERRER,
        user=user,
        link=_link(request, token),
        created=True,
    )


@router.post("/users/{user_id}/role", response_class=HTMLResponse)
def change_role(
    request: Request,
    user_id: str,
    viewer: Admin,
    session: SessionDep,
    role: FormText = "",
    profile_id: FormText = "",
    office: FormText = "",
) -> Response:
    pk = _pk(user_id)
    value = {
        "role": role[:20],
        "profile_id": profile_id[: MAX_ID + 1],
        "office": office[: OFFICE_MAX + 1],
    }
    try:
        row = management.change_role(
            session,
            viewer.principal,
            pk,
            value["role"],
            value["profile_id"],
            value["office"] if value["office"].strip() else None,  # blank: unchanged
        )
    except AccountError as exc:
        return _users_page(
            request,
            viewer,
            session,
            status=400,
            row_errors={pk: _message(exc.code)},
            row_values={pk: value},
        )
    return _done("role", row.email, pk)


def _done(what: str, email: str, pk: int) -> Response:
    query = urlencode({"done": what, "changed": email})
    return RedirectResponse(f"/console/admin/users?{query}#user-{pk}", status_code=303)


def _disable(
    request: Request, user_id: str, viewer: Viewer, session: SessionDep, disabled: bool
) -> Response:
    pk = _pk(user_id)
    try:
        row = management.set_user_disabled(session, viewer.principal, pk, disabled)
    except AccountError as exc:
        return _users_page(
            request, viewer, session, status=400, row_errors={pk: _message(exc.code)}
        )
    return _done("disabled" if disabled else "enabled", row.email, pk)


@router.post("/users/{user_id}/disable", response_class=HTMLResponse)
def disable_user(request: Request, user_id: str, viewer: Admin, session: SessionDep) -> Response:
    return _disable(request, user_id, viewer, session, True)


@router.post("/users/{user_id}/enable", response_class=HTMLResponse)
def enable_user(request: Request, user_id: str, viewer: Admin, session: SessionDep) -> Response:
    return _disable(request, user_id, viewer, session, False)


@router.post("/users/{user_id}/link", response_class=HTMLResponse)
def new_link(request: Request, user_id: str, viewer: Admin, session: SessionDep) -> Response:
    """A new one-time link (the user's earlier unused links stop working), as
    `clustermatch users reset-password` prints."""
    user = management.user(session, viewer.principal, _pk(user_id))
    if user.disabled_at is not None:
        return _users_page(
            request, viewer, session, status=400, row_errors={user.pk: "admin.error.disabled_link"}
        )
    token = accounts.issue_password_link(session, user)
    return render(
        request,
        "admin_link.html",
        headers=_NO_REFERRER,
        user=user,
        link=_link(request, token),
        created=False,
    )


# ---------------------------------------------------------------------------- API keys


def _keys_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin_keys.html",
        status,
        keys=management.api_keys(session, viewer.principal),
        roles=ROLES,
        errors=errors or {},
        values=values
        or {"name": "", "role": "organizer", "profile_id": "", "office": DEFAULT_OFFICE},
        revoked=request.query_params.get("revoked", "")[:12],
    )


@router.get("/keys", response_class=HTMLResponse)
def keys_page(request: Request, viewer: Admin, session: SessionDep) -> Response:
    return _keys_page(request, viewer, session)


@router.post("/keys", response_class=HTMLResponse)
def create_key(
    request: Request,
    viewer: Admin,
    session: SessionDep,
    name: FormText = "",
    role: FormText = "",
    profile_id: FormText = "",
    office: FormText = "",
) -> Response:
    values = {
        "name": name[: management.KEY_NAME_MAX + 1],
        "role": role[:20],
        "profile_id": profile_id[: MAX_ID + 1],
        "office": office[: OFFICE_MAX + 1],
    }
    field_of = {
        "key_name_invalid": "name",
        "user.role_invalid": "role",
        "user.office_invalid": "office",
    }
    try:
        new = management.create_api_key(
            session,
            viewer.principal,
            values["role"],
            values["name"],
            values["profile_id"],
            values["office"],
        )
    except AccountError as exc:
        errors = {field_of.get(exc.code, "profile_id"): _message(exc.code)}
        return _keys_page(request, viewer, session, status=400, errors=errors, values=values)
    return render(
        request, "admin_key_created.html", headers=_NO_REFERRER, key=new.row, secret=new.secret
    )


@router.get("/keys/{key_id}/revoke", response_class=HTMLResponse)
def revoke_confirm(request: Request, key_id: str, viewer: Admin, session: SessionDep) -> Response:
    key = management.api_key(session, viewer.principal, _pk(key_id))
    return render(request, "admin_key_revoke.html", key=key)


@router.post("/keys/{key_id}/revoke")
def revoke(key_id: str, viewer: Admin, session: SessionDep) -> Response:
    row = management.revoke_api_key(session, viewer.principal, _pk(key_id))
    return RedirectResponse(f"/console/admin/keys?revoked={row.pk}", status_code=303)


# ---------------------------------------------------------------------------- ranker


def _ranker_page(
    request: Request,
    engine: EngineDep,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> HTMLResponse:
    return render(
        request,
        "admin_ranker.html",
        status,
        ranker=ranker.status(engine),
        errors=errors or {},
        values=values or {"seed": "0", "max_queries": "1500"},
    )


@router.get("/ranker", response_class=HTMLResponse)
def ranker_page(request: Request, viewer: Admin, engine: EngineDep) -> Response:
    return _ranker_page(request, engine)


def _bounded(value: str, low: int, high: int) -> int | None:
    text = value.strip()
    if not text.isdigit() or len(text) > 12:
        return None
    number = int(text)
    return number if low <= number <= high else None


@router.post("/ranker/train", response_class=HTMLResponse)
def retrain(
    request: Request,
    viewer: Admin,
    engine: EngineDep,
    jobs: JobsDep,
    seed: FormText = "0",
    max_queries: FormText = "1500",
) -> Response:
    values = {"seed": seed[:20], "max_queries": max_queries[:20]}
    errors: dict[str, str] = {}
    seed_n = _bounded(seed, 0, SEED_MAX)
    queries_n = _bounded(max_queries, QUERIES_MIN, QUERIES_MAX)
    if seed_n is None:
        errors["seed"] = "admin.ranker.error.seed"
    if queries_n is None:
        errors["max_queries"] = "admin.ranker.error.max_queries"
    if errors or seed_n is None or queries_n is None:
        return _ranker_page(request, engine, status=400, errors=errors, values=values)
    job_id = ranker.retrain(jobs, engine, viewer.principal, seed_n, queries_n)
    return RedirectResponse(f"/console/admin/ranker/jobs/{job_id}", status_code=303)


def _job(session: SessionDep, viewer: Viewer, job_id: str) -> dict[str, Any]:
    try:
        job = job_out(jobs_service.get_job(session, viewer.principal, job_id))
    except NotFound as exc:
        raise ConsoleProblem(404, "error.404") from exc
    if job["kind"] != "train":
        raise ConsoleProblem(404, "error.404")
    progress = job["progress"]
    job["percent"] = round(100 * progress["fraction"]) if progress["fraction"] is not None else None
    job["finished"] = job["status"] in ("succeeded", "failed")
    return job


@router.get("/ranker/jobs/{job_id}", response_class=HTMLResponse)
def job_page(
    request: Request, job_id: str, viewer: Admin, session: SessionDep, engine: EngineDep
) -> Response:
    return render(
        request, "admin_job.html", job=_job(session, viewer, job_id), ranker=ranker.status(engine)
    )


@router.get("/ranker/jobs/{job_id}/progress", response_class=HTMLResponse)
def job_progress(
    request: Request, job_id: str, viewer: Admin, session: SessionDep, engine: EngineDep
) -> Response:
    """The progress block alone, for htmx to swap in (it stops polling once finished),
    with the ranker's status as it is now (the new model once the training is done)."""
    return render(
        request,
        "admin_job_progress.html",
        job=_job(session, viewer, job_id),
        ranker=ranker.status(engine),
    )


# ---------------------------------------------------------------------------- audit log

AUDIT_PAGE = 50
AUDIT_METHODS = ("POST", "PUT", "PATCH", "DELETE", "CLI")


def _day(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value.strip()) if value.strip() else None
    except ValueError:
        raise ConsoleProblem(400, "admin.audit.error.date") from None


@router.get("/audit", response_class=HTMLResponse)
def audit_page(request: Request, viewer: Admin, session: SessionDep) -> Response:
    """Newest first, 50 a page; filters as query parameters, so a filtered view can be
    bookmarked and shared; `before` pages back."""
    q = request.query_params
    values = {
        "actor": q.get("actor", "")[:64].strip(),
        "route": q.get("route", "")[:200].strip(),
        "method": q.get("method", "") if q.get("method", "") in AUDIT_METHODS else "",
        "path": q.get("path", "")[:200].strip(),
        "since": q.get("since", "")[:10],
        "until": q.get("until", "")[:10],
        "failed": "1" if q.get("failed") == "1" else "",
    }
    since, until = _day(values["since"]), _day(values["until"])
    before_text = q.get("before", "")
    before = int(before_text) if before_text.isdigit() and len(before_text) <= 12 else None
    where = AuditFilter(
        actor=values["actor"] or None,
        route=values["route"] or None,
        method=values["method"] or None,
        status_min=400 if values["failed"] else None,
        target=values["path"] or None,
        since=dt.datetime.combine(since, dt.time(), dt.UTC) if since else None,
        until=dt.datetime.combine(until, dt.time(), dt.UTC) + dt.timedelta(days=1)
        if until
        else None,
    )
    rows = audit.entries(session, viewer.principal, where, limit=AUDIT_PAGE, before=before)
    older = None
    if len(rows) == AUDIT_PAGE:
        older = "?" + urlencode({**{k: v for k, v in values.items() if v}, "before": rows[-1].pk})
    return render(
        request,
        "admin_audit.html",
        entries=rows,
        values=values,
        methods=AUDIT_METHODS,
        older=older,
        paged=before is not None,
    )
