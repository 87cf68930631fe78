"""Profiles: create, read, update, delete, list, and bulk import (API and CLI).

Writes go to the database in one transaction first (all-or-nothing), then the engine
embeds and indexes what changed. An unchanged profile (same content hash) is skipped, so
re-importing a file changes nothing and encodes nothing.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import ValidationError
from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from models.profile import ID_PATTERN, MAX_ID, Kind, Profile, profile_hash
from service.auth import CallerDep, Principal
from service.engine import Engine, Progress, org_key
from service.errors import BadRequest, Conflict, NotFound, ValidationFailed
from service.io.imports import (
    FileFormat,
    ImportFormatError,
    ParsedFile,
    RowError,
    parse_profiles,
)
from service.store.db import transaction
from service.store.tables import ProfileRow, utcnow
from service.sync import PROFILE, record_changes

router = APIRouter(prefix="/v1", tags=["profiles"])


# ---------------------------------------------------------------------------- service


@dataclass
class ImportReport:
    format: str = "json"
    encoding: str = "utf-8"
    rows: int = 0
    valid: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    encoded_texts: int = 0
    took_s: float = 0.0
    errors: list[dict[str, Any]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


# A write of this many profiles saves the index at once; smaller ones leave it to the
# periodic save (CLUSTERMATCH_INDEX_SAVE_INTERVAL_S) and the one at shutdown. Saving is a
# full write of the index (1.1 GB, 4.4 s at 100k profiles: a single PUT took 5.3 s), and
# the database stays the source of truth: startup re-indexes what the saved index missed,
# from cached vectors.
SAVE_AFTER_ROWS = 1_000


def _row_values(p: Profile, h: str) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "country": p.country,
        "cluster": p.cluster,
        "org_key": org_key(p.website),
        "data": p.model_dump(mode="json"),
        "content_hash": h,
    }


def _keys_of(session: Session, ids: Sequence[str]) -> dict[str, tuple[int, str]]:
    """id -> (key, content hash) of the stored profiles among `ids`."""
    out: dict[str, tuple[int, str]] = {}
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(ProfileRow.id, ProfileRow.pk, ProfileRow.content_hash).where(
                ProfileRow.id.in_(ids[start : start + 500])
            )
        )
        out.update({i: (pk, h) for i, pk, h in rows})
    return out


def save_profiles(
    engine: Engine,
    session_factory: Any,
    profiles: Sequence[Profile],
    report: ImportReport | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Upsert profiles by id in one transaction, then embed and index the changed ones."""
    report = report or ImportReport()
    started = time.perf_counter()
    with engine.write_lock:
        changed: list[tuple[int, Profile, str]] = []
        with transaction(session_factory) as session:
            existing = _keys_of(session, [p.id for p in profiles])
            inserts: list[tuple[Profile, str]] = []
            updates: list[tuple[int, Profile, str]] = []
            now = utcnow()
            for p in profiles:
                h = profile_hash(p)
                if p.id not in existing:
                    inserts.append((p, h))
                elif existing[p.id][1] != h:
                    updates.append((existing[p.id][0], p, h))
                else:
                    report.unchanged += 1
            if inserts:
                # A plain executemany, then the new keys by id: INSERT .. RETURNING over many
                # rows grew quadratically on SQLite (4.3 s for 10k rows, 27 s for 30k).
                session.execute(
                    insert(ProfileRow.metadata.tables["profiles"]),
                    [
                        {**_row_values(p, h), "created_at": now, "updated_at": now}
                        for p, h in inserts
                    ],
                )
                pk_of = _keys_of(session, [p.id for p, _ in inserts])
                changed += [(pk_of[p.id][0], p, h) for p, h in inserts]
            if updates:
                session.execute(
                    update(ProfileRow),
                    [{"pk": pk, **_row_values(p, h), "updated_at": now} for pk, p, h in updates],
                )
                changed += updates
            report.created += len(inserts)
            report.updated += len(updates)
            record_changes(session, PROFILE, [pk for pk, _, _ in changed])
        report.encoded_texts += engine.ingest(changed, progress)
        if len(changed) >= SAVE_AFTER_ROWS:
            engine.save()
    report.took_s = round(time.perf_counter() - started, 3)
    return report


def import_file(
    engine: Engine,
    session_factory: Any,
    data: bytes,
    *,
    format: FileFormat = "auto",
    encoding: str | None = None,
    filename: str | None = None,
    allow_partial: bool = False,
    max_rows: int = 100_000,
    progress: Progress | None = None,
) -> ImportReport:
    """Parse, validate and store a JSONL / CSV file. With bad rows nothing is stored unless
    `allow_partial`; raises ValidationFailed with the per-row report."""
    parsed = parse_profiles(
        data, format=format, encoding=encoding, filename=filename, max_rows=max_rows
    )
    return import_parsed(
        engine, session_factory, parsed, allow_partial=allow_partial, progress=progress
    )


def checked_report(parsed: ParsedFile[Profile], *, allow_partial: bool) -> ImportReport:
    """The report of a parsed file; raises ValidationFailed when it has invalid rows and
    the caller did not ask for the valid ones alone."""
    report = ImportReport(
        format=parsed.format,
        encoding=parsed.encoding,
        rows=parsed.total_rows,
        valid=len(parsed.items),
        rejected=len({e.row for e in parsed.errors}),
        errors=[row_error(e) for e in parsed.errors[:1000]],
    )
    if parsed.errors and not allow_partial:
        raise ValidationFailed.rows(report.rejected, report.rows, report.errors, report.to_dict())
    return report


def import_parsed(
    engine: Engine,
    session_factory: Any,
    parsed: ParsedFile[Profile],
    *,
    allow_partial: bool,
    progress: Progress | None = None,
) -> ImportReport:
    report = checked_report(parsed, allow_partial=allow_partial)
    return save_profiles(engine, session_factory, [p for _, p in parsed.items], report, progress)


def row_error(e: RowError) -> dict[str, Any]:
    return {"row": e.row, "field": e.field, "reason": e.reason}


def delete_profile(engine: Engine, session_factory: Any, profile_id: str) -> bool:
    with engine.write_lock:
        with transaction(session_factory) as session:
            pk = session.scalar(select(ProfileRow.pk).where(ProfileRow.id == profile_id))
            if pk is None:
                return False
            session.execute(delete(ProfileRow).where(ProfileRow.pk == pk))
            record_changes(session, PROFILE, [pk])
        engine.remove([pk])
    return True


# ---------------------------------------------------------------------------- HTTP


def _engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    return engine


def _out(row: ProfileRow, caller: Principal) -> dict[str, Any]:
    data = dict(row.data)
    if not caller.sees_contact(row.id):
        data.pop("contact", None)
    data["created_at"] = row.created_at.isoformat() if row.created_at else None
    data["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
    return data


def _check_id(profile_id: str) -> None:
    if len(profile_id) > MAX_ID or not re.match(ID_PATTERN, profile_id):
        raise NotFound(f"no profile with id '{profile_id[:MAX_ID]}'")


def _get_row(session: Session, profile_id: str) -> ProfileRow:
    _check_id(profile_id)
    row = session.scalar(select(ProfileRow).where(ProfileRow.id == profile_id))
    if row is None:
        raise NotFound(f"no profile with id '{profile_id}'")
    return row


def _validate(data: Any) -> Profile:
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailed.from_pydantic("the profile is invalid", exc) from exc


@router.post("/profiles", status_code=201, summary="Create a profile")
def create_profile(body: dict[str, Any], request: Request, caller: CallerDep) -> dict[str, Any]:
    caller.require("admin", "organizer")
    profile = _validate(body)
    sessions = request.app.state.sessions
    with sessions() as session:
        if session.scalar(select(ProfileRow.pk).where(ProfileRow.id == profile.id)):
            raise Conflict(f"a profile with id '{profile.id}' exists; use PUT to replace it")
    save_profiles(_engine(request), sessions, [profile])
    with sessions() as session:
        return _out(_get_row(session, profile.id), caller)


@router.put("/profiles/{profile_id}", summary="Create or replace a profile (upsert by id)")
def put_profile(
    profile_id: str, body: dict[str, Any], request: Request, response: Response, caller: CallerDep
) -> dict[str, Any]:
    if not caller.owns(profile_id):
        caller.require("admin", "organizer")
    _check_id(profile_id)
    if "id" in body and body["id"] != profile_id:
        raise BadRequest("the id in the body differs from the id in the path")
    profile = _validate({**body, "id": profile_id})
    sessions = request.app.state.sessions
    report = save_profiles(_engine(request), sessions, [profile])
    response.status_code = 201 if report.created else 200
    with sessions() as session:
        return _out(_get_row(session, profile_id), caller)


@router.patch("/profiles/{profile_id}", summary="Change some fields of a profile")
def patch_profile(
    profile_id: str, body: dict[str, Any], request: Request, caller: CallerDep
) -> dict[str, Any]:
    if not caller.owns(profile_id):
        caller.require("admin", "organizer")
    if "id" in body and body["id"] != profile_id:
        raise BadRequest("a profile's id cannot be changed")
    sessions = request.app.state.sessions
    with sessions() as session:
        current = dict(_get_row(session, profile_id).data)
    profile = _validate({**current, **body})
    save_profiles(_engine(request), sessions, [profile])
    with sessions() as session:
        return _out(_get_row(session, profile_id), caller)


@router.get("/profiles/{profile_id}", summary="Read a profile")
def get_profile(profile_id: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    with request.app.state.sessions() as session:
        return _out(_get_row(session, profile_id), caller)


@router.delete("/profiles/{profile_id}", status_code=204, summary="Delete a profile")
def remove_profile(profile_id: str, request: Request, caller: CallerDep) -> Response:
    caller.require("admin", "organizer")
    _check_id(profile_id)
    if not delete_profile(_engine(request), request.app.state.sessions, profile_id):
        raise NotFound(f"no profile with id '{profile_id}'")
    return Response(status_code=204)


@router.get("/profiles", summary="List profiles (filter by kind, country, cluster; paged)")
def list_profiles(
    request: Request,
    caller: CallerDep,
    kind: Annotated[list[Kind] | None, Query()] = None,
    country: Annotated[list[str] | None, Query(max_length=20)] = None,
    cluster: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    stmt = select(ProfileRow)
    if kind:
        stmt = stmt.where(ProfileRow.kind.in_(kind))
    if country:
        stmt = stmt.where(ProfileRow.country.in_([c.upper() for c in country]))
    if cluster:
        stmt = stmt.where(ProfileRow.cluster == cluster)
    with request.app.state.sessions() as session:
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        rows = session.scalars(stmt.order_by(ProfileRow.pk).limit(limit).offset(offset)).all()
        items = [_out(r, caller) for r in rows]
    nxt = offset + limit if offset + limit < total else None
    return {"items": items, "total": total, "limit": limit, "offset": offset, "next_offset": nxt}


async def read_upload(request: Request) -> tuple[bytes, str | None]:
    """The file of an import: a multipart form field `file`, or the raw request body."""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        form = await request.form(max_files=1, max_fields=10)
        upload = form.get("file")
        if upload is None or isinstance(upload, str):
            raise BadRequest("send the file in a multipart field named 'file'")
        return await upload.read(), upload.filename
    return await request.body(), None


async def parse_upload(
    request: Request,
    parser: Callable[..., Any],
    format: str,
    encoding: str | None,
    *,
    filename: str | None = None,
    **kwargs: Any,
) -> Any:
    """Read an uploaded import file and parse it off the event loop; an empty or unreadable
    file is a 422 naming the field `file`."""
    from starlette.concurrency import run_in_threadpool

    data, upload_name = await read_upload(request)
    if not data:
        raise ValidationFailed(
            "the import file is empty", errors=[{"field": "file", "reason": "is empty"}]
        )
    try:
        return await run_in_threadpool(
            parser,
            data,
            format=format,
            encoding=encoding,
            filename=filename or upload_name,
            **kwargs,
        )
    except ImportFormatError as exc:
        raise ValidationFailed(
            f"the file cannot be read: {exc}", errors=[{"field": "file", "reason": str(exc)}]
        ) from exc


@router.post(
    "/profiles/import",
    summary="Bulk import a JSONL or CSV file (UTF-8, UTF-8 with BOM, or cp932/Shift_JIS)",
    responses={202: {"description": "large file: runs as a job; poll /v1/jobs/{id}"}},
)
async def import_profiles(
    request: Request,
    caller: CallerDep,
    response: Response,
    format: Literal["auto", "jsonl", "csv"] = "auto",
    encoding: Annotated[str | None, Query(max_length=32)] = None,
    allow_partial: bool = False,
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    caller.require("admin", "organizer")
    from starlette.concurrency import run_in_threadpool

    state = request.app.state
    parsed = await parse_upload(
        request,
        parse_profiles,
        format,
        encoding,
        filename=filename,
        max_rows=state.settings.max_import_rows,
    )
    checked_report(parsed, allow_partial=allow_partial)  # refuse bad rows before any job
    if len(parsed.items) <= state.settings.sync_import_rows:
        report = await run_in_threadpool(
            import_parsed, state.engine, state.sessions, parsed, allow_partial=allow_partial
        )
        return {"status": "succeeded", "report": report.to_dict()}

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return import_parsed(
            state.engine, state.sessions, parsed, allow_partial=allow_partial, progress=progress
        ).to_dict()

    job_id = state.jobs.submit("import", work, total=len(parsed.items), created_by=caller.key_pk)
    response.status_code = 202
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return {"status": "queued", "job": f"/v1/jobs/{job_id}", "id": job_id}
