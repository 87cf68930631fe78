"""Organizer pages: the profile list, and importing profiles from a file.

The list (`/console/profiles`) pages through `service.profiles.directory` (one COUNT and
one SELECT of summaries a page, whatever the number of profiles), with filters and a name
search; "search by meaning" asks the matching engine (`engine.search_text`) instead.

The import is three steps, and nothing is written before the third:
1. upload (`/console/profiles/import`): CSV (UTF-8, UTF-8 with BOM, cp932 — detected by
   `service.io.imports`), XLSX (`service.io.xlsx`, the first sheet) or JSONL. The file is
   kept on the server (`service.io.staged`: a random token bound to the signed-in
   session, an hour at most) — never in the page;
2. preview (`/console/profiles/import/{token}`): the count of good rows, a sample of
   them, and every bad row with its row number, field and reason (in the page's language
   where the reason is known);
3. a choice: import everything (only offered when there is no bad row), import the good
   rows and skip the bad ones (an explicit button naming both counts), or cancel. Large
   files run as the API's import job, with a progress bar polled every second.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.profile import KINDS, Profile
from service.console import deps
from service.console.deps import Viewer, require_role
from service.console.errors import ConsoleProblem
from service.console.i18n import negotiate
from service.console.pages import ConsoleRoute, render
from service.deps import EngineDep, JobsDep, SessionDep
from service.errors import ValidationFailed
from service.io import staged, xlsx
from service.io.imports import ImportFormatError, ParsedFile, UnknownColumns, parse_profiles
from service.jobs import service as jobs_service
from service.profiles import directory
from service.profiles import service as profiles
from service.profiles.directory import MAX_NAME_QUERY

router = APIRouter(route_class=ConsoleRoute)
Organizer = Annotated[Viewer, require_role("admin", "organizer")]

PAGE_SIZE = 50
SAMPLE_ROWS = 10
MAX_SHOWN_ERRORS = 2_000
FORM_ROOM = 1024 * 1024
"""Room left in a request for the rest of the form: a file may be the body limit less this."""


def upload_limit(request: Request) -> int:
    """The largest import file the console takes (the settings' body limit, less room for
    the form), so that a larger file gets this page's answer, not the server's."""
    return max(1024, deps.settings(request).max_body_bytes - FORM_ROOM)


def _store(request: Request) -> staged.StagedUploads:
    return staged.StagedUploads(deps.settings(request).data_dir / "staged-imports")


def _owner(viewer: Viewer) -> str:
    return staged.owner_of(viewer.csrf_secret)


# ---------------------------------------------------------------------------- the list


def _page_url(params: dict[str, str], page: int) -> str:
    return "/console/profiles?" + urlencode({**params, "page": str(page)})


@router.get("/profiles", response_class=HTMLResponse)
def profile_list(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    engine: EngineDep,
    q: str = "",
    kind: str = "",
    country: str = "",
    cluster: str = "",
    meaning: str = "",
    page: int = 1,
) -> Response:
    q = q.strip()[:MAX_NAME_QUERY]
    kind = kind if kind in KINDS else ""
    country = country.strip().upper()[:2]
    country = country if re.fullmatch(r"[A-Z]{2}", country) else ""
    cluster = cluster.strip()[:200]
    page = max(1, min(page, 100_000))
    params = {
        k: v
        for k, v in (
            ("q", q),
            ("kind", kind),
            ("country", country),
            ("cluster", cluster),
            ("meaning", meaning and "1"),
        )
        if v
    }
    semantic = bool(meaning and q)
    notice = None
    items: list[directory.ProfileSummary] = []
    total = 0
    if semantic:
        if not engine.ready:
            notice = "organizer.profiles.index_loading"
        else:
            found = engine.search_text(
                q,
                "partner",
                kinds=[kind] if kind else None,
                countries=[country] if country else None,
                k=PAGE_SIZE,
                lang=negotiate(request),
                explain_results=False,
            )
            ids = [m.record.profile.id for m in found]
            by_id = directory.summaries(session, ids)
            items = [
                by_id[i] for i in ids if i in by_id and (not cluster or by_id[i].cluster == cluster)
            ]
            total = len(items)
    else:
        listing = directory.browse(
            session,
            viewer.principal,
            kinds=[kind] if kind else None,
            countries=[country] if country else None,
            cluster=cluster or None,
            name=q or None,
            limit=PAGE_SIZE,
            offset=(page - 1) * PAGE_SIZE,
        )
        items, total = listing.items, listing.total
    pages = max(1, -(-total // PAGE_SIZE)) if not semantic else 1
    return render(
        request,
        "organizer_profiles.html",
        items=items,
        total=total,
        page=page,
        pages=pages,
        prev_url=_page_url(params, page - 1) if page > 1 and not semantic else None,
        next_url=_page_url(params, page + 1) if page < pages and not semantic else None,
        q=q,
        kind=kind,
        country=country,
        cluster=cluster,
        meaning=bool(meaning),
        semantic=semantic,
        kinds=KINDS,
        clusters=directory.clusters(session),
        notice=notice,
    )


# ---------------------------------------------------------------------------- import

# Reasons the parsers give, in the page's language: (pattern, message key); the named
# groups fill the message. Reasons not listed are shown as the parser wrote them.
_REASONS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"^required field is missing or empty$"), "organizer.reason.missing"),
    (re.compile(r"^must not be empty$"), "organizer.reason.missing"),
    (re.compile(r"^duplicate id, first seen on row (?P<row>\d+)$"), "organizer.reason.duplicate"),
    (
        re.compile(r"^'(?P<value>[^']*)' is not an ISO 3166-1 alpha-2 country code$"),
        "organizer.reason.country",
    ),
    (
        re.compile(r"^Input should be a valid integer.*?(?:\(got (?P<value>.*)\))?$"),
        "organizer.reason.integer",
    ),
    (
        re.compile(r"^Input should be less than or equal to (?P<limit>[\d,]+)"),
        "organizer.reason.max",
    ),
    (
        re.compile(r"^Input should be greater than or equal to (?P<limit>[\d,]+)"),
        "organizer.reason.min",
    ),
    (
        re.compile(r"^String should have at most (?P<limit>[\d,]+) characters?"),
        "organizer.reason.too_long",
    ),
    (re.compile(r"^Input should be 'firm'.*\(got (?P<value>.*)\)$"), "organizer.reason.kind"),
    (
        re.compile(r"^must start with a letter or digit.*\(got (?P<value>.*)\)$"),
        "organizer.reason.id_pattern",
    ),
    (re.compile(r"^unknown field$"), "organizer.reason.unknown_field"),
    (
        re.compile(r"^value in column (?P<column>[A-Z]+), which has no header$"),
        "organizer.reason.no_header",
    ),
    (re.compile(r"^not a JSON object"), "organizer.reason.not_object"),
    (re.compile(r"^key given twice in this object$"), "organizer.reason.key_twice"),
    (
        re.compile(r"^belongs to the office '(?P<office>[^']*)', not yours"),
        "organizer.reason.other_office",
    ),
    (re.compile(r"^is in the shared directory"), "organizer.reason.shared_directory"),
]


def reason_text(t: Callable[..., str], reason: str) -> str:
    for pattern, key in _REASONS:
        match = pattern.match(reason)
        if match:
            return t(key, **{k: (v or "") for k, v in match.groupdict().items()})
    return reason


def field_label(t: Callable[..., str], field: str | None) -> str:
    if not field:
        return t("organizer.import.whole_row")
    base = field.split("[", 1)[0]
    label = t(f"organizer.field.{base}")
    return label if label != f"organizer.field.{base}" else field


def _parse(
    data: bytes, filename: str, max_rows: int, ignore_unknown: bool, limit: int
) -> tuple[ParsedFile[Profile], str]:
    """(the parsed file, its kind: csv / xlsx / jsonl)."""
    unknown: UnknownColumns = "ignore" if ignore_unknown else "error"
    if xlsx.is_xlsx(data, filename):
        return (
            xlsx.parse_profile_workbook(
                data,
                max_rows=max_rows,
                max_bytes=limit,
                max_unzipped=xlsx.MAX_UNZIPPED_BYTES,  # (read now: tests lower it)
                unknown_columns=unknown,
            ),
            "xlsx",
        )
    parsed = parse_profiles(
        data, filename=filename, max_rows=max_rows, max_bytes=limit, unknown_columns=unknown
    )
    return parsed, parsed.format


@router.get("/profiles/import", response_class=HTMLResponse)
def import_page(request: Request, viewer: Organizer) -> Response:
    return render(
        request,
        "organizer_import.html",
        errors={},
        file_error=None,
        limit_mb=upload_limit(request) // (1024 * 1024),
        ignore_unknown=False,
    )


@router.post("/profiles/import", response_class=HTMLResponse)
def import_upload(
    request: Request,
    viewer: Organizer,
    file: Annotated[UploadFile | None, File()] = None,
    ignore_unknown: Annotated[str, Form()] = "",
) -> Response:
    limit = upload_limit(request)
    settings = deps.settings(request)

    def again(status: int, code: str, **params: Any) -> Response:
        return render(
            request,
            "organizer_import.html",
            status,
            errors={"file": code},
            file_error=params.get("detail"),
            limit_mb=limit // (1024 * 1024),
            ignore_unknown=bool(ignore_unknown),
        )

    if file is None or not file.filename:
        return again(400, "organizer.import.error.no_file")
    if file.size is not None and file.size > limit:
        return again(413, "organizer.import.error.too_large", detail=None)
    data = file.file.read(limit + 1)
    if len(data) > limit:
        return again(413, "organizer.import.error.too_large")
    if not data.strip():
        return again(400, "organizer.import.error.empty")
    filename = (file.filename or "upload")[-200:]
    try:
        _parse(data, filename, settings.max_import_rows, bool(ignore_unknown), limit)
    except ImportFormatError as exc:
        return again(400, "organizer.import.error.unreadable", detail=str(exc))
    token = _store(request).put(
        _owner(viewer), data, {"filename": filename, "ignore_unknown": bool(ignore_unknown)}
    )
    return RedirectResponse(f"/console/profiles/import/{token}", status_code=303)


def _count(value: str) -> int:
    return int(value) if value.isdigit() and len(value) <= 9 else 0


@router.get("/profiles/import/done", response_class=HTMLResponse)
def import_done(
    request: Request,
    viewer: Organizer,
    created: str = "0",
    updated: str = "0",
    unchanged: str = "0",
    skipped: str = "0",
) -> Response:
    report = {
        "created": _count(created),
        "updated": _count(updated),
        "unchanged": _count(unchanged),
        "rejected": _count(skipped),
    }
    return render(request, "organizer_import_done.html", report=report)


def _staged(request: Request, viewer: Viewer, token: str) -> tuple[bytes, dict[str, Any]]:
    found = _store(request).get(_owner(viewer), token)
    if found is None:
        raise ConsoleProblem(410, "organizer.import.expired")
    return found


def _sample(parsed: ParsedFile[Profile]) -> list[dict[str, Any]]:
    return [
        {"row": row, **p.model_dump(include={"id", "name", "kind", "country", "cluster"})}
        for row, p in parsed.items[:SAMPLE_ROWS]
    ]


def _errors(parsed: ParsedFile[Profile], t: Callable[..., str]) -> list[dict[str, Any]]:
    return [
        {"row": e.row, "field": field_label(t, e.field), "reason": reason_text(t, e.reason)}
        for e in parsed.errors[:MAX_SHOWN_ERRORS]
    ]


def _preview(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    token: str,
    status: int = 200,
    **extra: Any,
) -> Response:
    data, meta = _staged(request, viewer, token)
    settings = deps.settings(request)
    try:
        parsed, kind = _parse(
            data,
            meta["filename"],
            settings.max_import_rows,
            meta.get("ignore_unknown", False),
            upload_limit(request),
        )
    except ImportFormatError as exc:  # (read before staging: only if the limits changed)
        raise ConsoleProblem(400, "organizer.import.unreadable_now", detail=str(exc)) from exc
    # the rows of profiles of another office are bad rows here already, as the import
    # will find them (service.profiles.service, tenancy)
    parsed = profiles.refuse_foreign(session, viewer.principal, parsed)
    from service.console.i18n import translator

    t = translator(negotiate(request))
    extra.setdefault("choice_error", None)
    return render(
        request,
        "organizer_import_preview.html",
        status,
        token=token,
        filename=meta["filename"],
        kind=kind,
        encoding=parsed.encoding,
        total=parsed.total_rows,
        good=len(parsed.items),
        bad_rows=len(parsed.error_rows),
        sample=_sample(parsed),
        errors=_errors(parsed, t),
        more_errors=max(0, len(parsed.errors) - MAX_SHOWN_ERRORS),
        warnings=parsed.warnings,
        **extra,
    )


@router.get("/profiles/import/{token}", response_class=HTMLResponse)
def import_preview(
    request: Request, viewer: Organizer, session: SessionDep, token: str
) -> Response:
    return _preview(request, viewer, session, token)


@router.post("/profiles/import/{token}", response_class=HTMLResponse)
def import_confirm(
    request: Request,
    viewer: Organizer,
    token: str,
    session: SessionDep,
    engine: EngineDep,
    jobs: JobsDep,
    action: Annotated[str, Form()] = "",
    expected_good: Annotated[str, Form()] = "",
) -> Response:
    store = _store(request)
    if action == "cancel":
        store.drop(_owner(viewer), token)
        return RedirectResponse("/console/profiles/import?cancelled=1", status_code=303)
    if action not in ("all", "partial"):
        return _preview(
            request, viewer, session, token, 400, choice_error="organizer.import.choose"
        )
    data, meta = _staged(request, viewer, token)
    settings = deps.settings(request)
    parsed, _ = _parse(
        data,
        meta["filename"],
        settings.max_import_rows,
        meta.get("ignore_unknown", False),
        upload_limit(request),
    )
    parsed = profiles.refuse_foreign(session, viewer.principal, parsed)
    if parsed.errors and action != "partial":
        # Never a partial import without the explicit choice.
        return _preview(
            request, viewer, session, token, 400, choice_error="organizer.import.has_bad_rows"
        )
    if action == "partial" and expected_good != str(len(parsed.items)):
        return _preview(
            request, viewer, session, token, 409, choice_error="organizer.import.changed"
        )
    try:
        result = profiles.import_upload(
            session,
            engine,
            jobs,
            viewer.principal,
            parsed,
            allow_partial=action == "partial",
            sync_rows=settings.sync_import_rows,
        )
    except ValidationFailed:
        return _preview(
            request, viewer, session, token, 400, choice_error="organizer.import.has_bad_rows"
        )
    store.drop(_owner(viewer), token)
    if isinstance(result, str):
        return RedirectResponse(f"/console/profiles/import/jobs/{result}", status_code=303)
    query = urlencode(
        {
            "created": result.created,
            "updated": result.updated,
            "unchanged": result.unchanged,
            "skipped": result.rejected,
        }
    )
    return RedirectResponse(f"/console/profiles/import/done?{query}", status_code=303)


def _job(session: SessionDep, viewer: Viewer, job_id: str) -> Any:
    row = jobs_service.get_job(session, viewer.principal, job_id)  # the API's rule: 404
    if row.kind != "import":
        raise ConsoleProblem(404, "error.404")
    return row


@router.get("/profiles/import/jobs/{job_id}", response_class=HTMLResponse)
def import_job(request: Request, viewer: Organizer, session: SessionDep, job_id: str) -> Response:
    return render(request, "organizer_import_job.html", job=_job(session, viewer, job_id))


@router.get("/profiles/import/jobs/{job_id}/status", response_class=HTMLResponse)
def import_job_status(
    request: Request, viewer: Organizer, session: SessionDep, job_id: str
) -> Response:
    """The progress block alone, for htmx to swap in every second while the job runs."""
    return render(request, "organizer_import_job_status.html", job=_job(session, viewer, job_id))
