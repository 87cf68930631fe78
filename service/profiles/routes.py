"""Profiles over HTTP: create, read, update, delete, list, and bulk import."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from models.profile import Kind
from service.deps import CallerDep, EngineDep, JobsDep, SessionDep, SettingsDep
from service.errors import problems
from service.io.imports import UnknownColumns
from service.io.media import CSV, NDJSON, XLSX, upload_body
from service.io.uploads import spool_upload
from service.jobs.schemas import job_accepted
from service.ops.guard import JsonRoute
from service.profiles import service
from service.profiles.schemas import profile_body, profile_out, profile_page

router = APIRouter(prefix="/v1", tags=["profiles"], route_class=JsonRoute)


@router.post(
    "/profiles",
    status_code=201,
    summary="Create a profile",
    responses=problems(409),
    openapi_extra=profile_body(id_required=True),
)
def create_profile(
    body: dict[str, Any], caller: CallerDep, session: SessionDep, engine: EngineDep
) -> dict[str, Any]:
    return profile_out(service.create(session, engine, caller, body), caller)


@router.put(
    "/profiles/{profile_id}",
    summary="Create or replace a profile (upsert by id)",
    responses={201: {"description": "created", "content": {"application/json": {}}}},
    openapi_extra=profile_body(id_required=False),
)
def put_profile(
    profile_id: str,
    body: dict[str, Any],
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    response: Response,
) -> dict[str, Any]:
    row, created = service.replace(session, engine, caller, profile_id, body)
    response.status_code = 201 if created else 200
    return profile_out(row, caller)


@router.patch(
    "/profiles/{profile_id}",
    summary="Change some fields of a profile",
    openapi_extra=profile_body(id_required=False, partial=True),
)
def patch_profile(
    profile_id: str,
    body: dict[str, Any],
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
) -> dict[str, Any]:
    return profile_out(service.patch(session, engine, caller, profile_id, body), caller)


@router.get("/profiles/{profile_id}", summary="Read a profile")
def get_profile(profile_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return profile_out(service.get(session, profile_id), caller)


@router.delete("/profiles/{profile_id}", status_code=204, summary="Delete a profile")
def remove_profile(
    profile_id: str, caller: CallerDep, session: SessionDep, engine: EngineDep
) -> Response:
    service.remove(session, engine, caller, profile_id)
    return Response(status_code=204)


@router.get("/profiles", summary="List profiles (filter by kind, country, cluster; paged)")
def list_profiles(
    caller: CallerDep,
    session: SessionDep,
    kind: Annotated[list[Kind] | None, Query()] = None,
    country: Annotated[list[str] | None, Query(max_length=20)] = None,
    cluster: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    total, rows = service.listing(
        session, kinds=kind, countries=country, cluster=cluster, limit=limit, offset=offset
    )
    return profile_page(rows, total, limit, offset, caller)


@router.post(
    "/profiles/import",
    summary="Bulk import a JSONL, CSV (UTF-8, UTF-8 with BOM, or cp932/Shift_JIS) or XLSX file",
    responses={202: {"description": "large file: runs as a job; poll /v1/jobs/{id}"}},
    openapi_extra=upload_body(CSV, NDJSON, XLSX),
)
async def import_profiles(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    jobs: JobsDep,
    settings: SettingsDep,
    response: Response,
    format: Literal["auto", "jsonl", "csv", "xlsx"] = "auto",
    encoding: Annotated[str | None, Query(max_length=32)] = None,
    allow_partial: bool = False,
    filename: Annotated[str | None, Query(max_length=255)] = None,
    unknown_columns: Annotated[
        UnknownColumns,
        Query(description="error, or ignore: import a CSV with extra columns (備考 ...)"),
    ] = "error",
) -> dict[str, Any]:
    caller.require("admin", "organizer")
    upload = await spool_upload(request, settings.data_dir / "uploads")
    try:
        result = await run_in_threadpool(
            service.import_spooled,
            session,
            engine,
            jobs,
            caller,
            upload,
            allow_partial=allow_partial,
            sync_rows=settings.sync_import_rows,
            settings=settings,
            format=format,
            encoding=encoding,
            filename=filename or upload.filename,
            unknown_columns=unknown_columns,
        )
    finally:
        if not upload.taken:  # (a job closes it when it ends)
            upload.close()
    if isinstance(result, str):
        return job_accepted(response, result)
    return {"status": "succeeded", "report": result.to_dict()}
