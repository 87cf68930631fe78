"""Connectors and exports over HTTP: a published list imported through its connector
(with a dry run), and the profiles exported for Excel."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from models.profile import Kind
from service.connectors import exports, service
from service.deps import CallerDep, EngineDep, JobsDep, SessionDep, SettingsDep
from service.errors import ValidationFailed
from service.io import spreadsheets
from service.io.connectors import SourceName
from service.io.imports import ImportFormatError
from service.io.media import CSV, JSON, XLSX, file_responses, upload_body
from service.io.uploads import read_upload
from service.jobs.schemas import job_accepted

router = APIRouter(prefix="/v1", tags=["connectors"])


@router.post(
    "/profiles/import/{source}",
    summary="Import a published list (edinet, jpx, universities), merged with the stored "
    "profiles; dry_run=true shows what would merge and writes nothing",
    responses={202: {"description": "large list: runs as a job; poll /v1/jobs/{id}"}},
    openapi_extra=upload_body(CSV, JSON),
)
async def import_source(
    source: SourceName,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    jobs: JobsDep,
    settings: SettingsDep,
    response: Response,
    encoding: Annotated[str | None, Query(max_length=32)] = None,
    allow_partial: bool = False,
    dry_run: bool = False,
) -> dict[str, Any]:
    caller.require("admin", "organizer")
    data, _ = await read_upload(request)
    if not data:
        raise ValidationFailed(
            "the import file is empty", errors=[{"field": "file", "reason": "is empty"}]
        )
    try:
        result = await run_in_threadpool(
            service.import_upload,
            session,
            engine,
            jobs,
            caller.key_pk,
            source,
            data,
            encoding=encoding,
            allow_partial=allow_partial,
            dry_run=dry_run,
            sync_rows=settings.sync_import_rows,
            max_rows=settings.max_import_rows,
            caller=caller,
        )
    except ImportFormatError as exc:
        raise ValidationFailed(
            f"the file cannot be read: {exc}", errors=[{"field": "file", "reason": str(exc)}]
        ) from exc
    if isinstance(result, str):
        return job_accepted(response, result)
    return {"status": "dry_run" if dry_run else "succeeded", "report": result.to_dict()}


@router.get(
    "/exports/profiles.{fmt}",
    responses=file_responses(CSV, XLSX),
    summary="The profiles for Excel: CSV (UTF-8 with BOM) or XLSX; filter by kind, country, "
    "cluster",
)
def export_profiles(
    fmt: Literal["csv", "xlsx"],
    caller: CallerDep,
    session: SessionDep,
    kind: Annotated[list[Kind] | None, Query()] = None,
    country: Annotated[list[str] | None, Query(max_length=20)] = None,
    cluster: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    head, rows = exports.for_caller(session, caller, kinds=kind, countries=country, cluster=cluster)
    if fmt == "xlsx":
        data = spreadsheets.xlsx_bytes(head, rows, title="profiles")
        media = spreadsheets.XLSX_MEDIA_TYPE
    else:
        data = spreadsheets.csv_bytes(head, rows)
        media = spreadsheets.CSV_MEDIA_TYPE
    disposition = spreadsheets.content_disposition("profiles", f"profiles.{fmt}")
    return Response(data, media_type=media, headers={"Content-Disposition": disposition})
