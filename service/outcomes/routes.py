"""Outcomes of an event's meetings over HTTP (service.outcomes.service has the rules):

    POST /v1/events/{id}/outcomes                one side's outcome (a correction appends)
    GET  /v1/events/{id}/outcomes                every meeting, its sides' outcomes in force
    GET  /v1/events/{id}/outcomes/history        every version, with who and when
    POST /v1/events/{id}/follow-ups              one side's answer at a follow-up round
    GET  /v1/events/{id}/follow-ups              rounds, who is due, who answered
    GET  /v1/events/{id}/follow-ups/history      every version, with who and when
    GET  /v1/events/{id}/exports/follow-ups.csv  the sheet to send out (also .xlsx)
    POST /v1/events/{id}/follow-ups/import       the filled sheet back (CSV / XLSX)

The event's organizer and admins see and record both sides; a member firm its own side of
its own meetings (service.outcomes.access)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from service.auth import Principal
from service.deps import CallerDep, SessionDep
from service.errors import ValidationFailed
from service.io import spreadsheets
from service.io.media import CSV, XLSX, file_responses, upload_body
from service.io.uploads import read_upload
from service.ops.guard import JsonRoute
from service.outcomes import service, sheets
from service.outcomes.access import scope
from service.outcomes.schemas import (
    FollowUpBody,
    OutcomeBody,
    follow_up_out,
    outcome_out,
    status_out,
    view_out,
)
from service.outcomes.service import MAX_ID

router = APIRouter(prefix="/v1/events", tags=["outcomes"], route_class=JsonRoute)

PairQuery = Annotated[str | None, Query(max_length=MAX_ID)]


def recorded_by(caller: Principal) -> str:
    """Who an API call records as: its key."""
    return f"key:{caller.key_pk}"


def _pair(a: str | None, b: str | None) -> tuple[str, str] | None:
    if a is None and b is None:
        return None
    if not a or not b or a == b:
        field = "b" if a else "a"
        raise ValidationFailed(
            "a meeting is named by two participants",
            errors=[{"field": field, "reason": "give both a and b, two different participants"}],
        )
    return (a, b) if a < b else (b, a)


@router.post("/{event_id}/outcomes", status_code=201, summary="Record one side's meeting outcome")
def record_outcome(
    event_id: str, body: OutcomeBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    found = scope(session, caller, event_id)
    record = service.record_outcome(
        session, found, body.input(), recorded_by=recorded_by(caller), source="api"
    )
    return outcome_out(record)


@router.get("/{event_id}/outcomes", summary="Meetings and their sides' outcomes in force")
def list_outcomes(event_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    found = scope(session, caller, event_id)
    return {"items": [view_out(v) for v in service.outcome_views(session, found)]}


@router.get("/{event_id}/outcomes/history", summary="Every outcome record: who, when, what")
def outcome_history(
    event_id: str, caller: CallerDep, session: SessionDep, a: PairQuery = None, b: PairQuery = None
) -> dict[str, Any]:
    found = scope(session, caller, event_id)
    records = service.outcome_history(session, found, _pair(a, b))
    names = service.recorder_names(session, records)
    return {"items": [outcome_out(r, names) for r in records]}


@router.post("/{event_id}/follow-ups", status_code=201, summary="Record a follow-up answer")
def record_follow_up(
    event_id: str, body: FollowUpBody, caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    found = scope(session, caller, event_id)
    record = service.record_follow_up(
        session, found, body.input(), recorded_by=recorded_by(caller), source="api"
    )
    return follow_up_out(record)


@router.get("/{event_id}/follow-ups", summary="Follow-up rounds: who is due, who answered")
def follow_ups(event_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    found = scope(session, caller, event_id)
    return status_out(service.follow_up_status(session, found))


@router.get("/{event_id}/follow-ups/history", summary="Every follow-up record: who, when, what")
def follow_up_history(
    event_id: str, caller: CallerDep, session: SessionDep, a: PairQuery = None, b: PairQuery = None
) -> dict[str, Any]:
    found = scope(session, caller, event_id)
    records = service.follow_up_history(session, found, _pair(a, b))
    names = service.recorder_names(session, records)
    return {"items": [follow_up_out(r, names) for r in records]}


SheetLangQuery = Annotated[
    Literal["ja", "en"], Query(description="the headers' and labels' language")
]


def _sheet(session: SessionDep, caller: CallerDep, event_id: str, fmt: str, lang: str) -> Response:
    found = scope(session, caller, event_id)
    body = sheets.sheet_file(session, found, fmt, "en" if lang == "en" else "ja")
    name = f"{found.row.name} {'商談シート' if lang == 'ja' else 'follow-ups'}"
    media = spreadsheets.XLSX_MEDIA_TYPE if fmt == "xlsx" else spreadsheets.CSV_MEDIA_TYPE
    disposition = spreadsheets.content_disposition(name, f"follow-ups.{fmt}")
    return Response(body, media_type=media, headers={"Content-Disposition": disposition})


@router.get(
    "/{event_id}/exports/follow-ups.csv",
    summary="The follow-up sheet (商談シート) for Excel: one row per meeting side to ask",
    responses=file_responses(CSV),
)
def follow_up_csv(
    event_id: str, caller: CallerDep, session: SessionDep, lang: SheetLangQuery = "ja"
) -> Response:
    return _sheet(session, caller, event_id, "csv", lang)


@router.get(
    "/{event_id}/exports/follow-ups.xlsx",
    summary="The follow-up sheet as XLSX",
    responses=file_responses(XLSX),
)
def follow_up_xlsx(
    event_id: str, caller: CallerDep, session: SessionDep, lang: SheetLangQuery = "ja"
) -> Response:
    return _sheet(session, caller, event_id, "xlsx", lang)


@router.post(
    "/{event_id}/follow-ups/import",
    summary="Read a filled follow-up sheet back (CSV in UTF-8 or cp932, or XLSX)",
    openapi_extra=upload_body(CSV, XLSX),
)
async def import_follow_ups(
    event_id: str,
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    allow_partial: bool = False,
    encoding: Annotated[str | None, Query(max_length=32)] = None,
    filename: Annotated[str | None, Query(max_length=255)] = None,
) -> dict[str, Any]:
    found = await run_in_threadpool(scope, session, caller, event_id)
    sheets.require_organizer(found)  # before the upload is read
    data, upload_name = await read_upload(request)
    report = await run_in_threadpool(
        lambda: sheets.import_sheet(
            session,
            found,
            data,
            filename=filename or upload_name,
            encoding=encoding,
            allow_partial=allow_partial,
            recorded_by=recorded_by(caller),
        )
    )
    return {"report": report.to_dict()}
