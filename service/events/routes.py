"""Matchmaking events over HTTP: the event document, suggested pairs, schedules solved as
jobs, re-planning, and exports (CSV for Excel, iCalendar per participant, printable HTML
agendas per participant and per table)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Response

from models.events.model import MAX_SLOTS
from service.deps import CallerDep, EngineDep, JobsDep, SessionDep
from service.errors import problems
from service.events import service
from service.events.schemas import event_body, event_out, event_summary, replan_body
from service.events.service import MAX_TIME_LIMIT
from service.io.media import CSV, file_responses
from service.jobs.schemas import job_accepted
from service.ops.guard import JsonRoute

router = APIRouter(prefix="/v1/events", tags=["events"], route_class=JsonRoute)


@router.post(
    "",
    status_code=201,
    summary="Create an event (the schedule file format, plus a name)",
    openapi_extra=event_body(),
)
def create_event(body: dict[str, Any], caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    caller.require("admin", "organizer")
    service.refuse_unknown_keys(body)
    return event_out(service.create(session, caller, body))


@router.get("", summary="Events of this key's office (all events for admins)")
def list_events(caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return {"items": [event_summary(r) for r in service.listing(session, caller)]}


@router.get("/{event_id}", summary="An event and its current schedule")
def get_event(event_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return event_out(service.get(session, caller, event_id))


@router.put(
    "/{event_id}",
    summary="Replace an event's document (its schedule is kept)",
    openapi_extra=event_body(),
)
def put_event(
    event_id: str, body: dict[str, Any], caller: CallerDep, session: SessionDep
) -> dict[str, Any]:
    caller.require("admin", "organizer")
    service.refuse_unknown_keys(body)
    return event_out(service.replace(session, caller, event_id, body))


@router.delete("/{event_id}", status_code=204, summary="Delete an event")
def delete_event(event_id: str, caller: CallerDep, session: SessionDep) -> Response:
    service.delete(session, caller, event_id)
    return Response(status_code=204)


@router.post(
    "/{event_id}/suggestions",
    summary="Fill the event's suggested pairs from matching",
    responses=problems(503),
)
def suggestions(
    event_id: str,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    per_participant: Annotated[int, Query(ge=1, le=50)] = 5,
) -> dict[str, Any]:
    found = service.suggest(session, engine, caller, event_id, per_participant)
    return {"count": len(found), "suggestions": found}


@router.post(
    "/{event_id}/schedule",
    status_code=202,
    summary="Solve the meeting schedule (a job; poll /v1/jobs/{id})",
)
def schedule(
    event_id: str,
    caller: CallerDep,
    session: SessionDep,
    jobs: JobsDep,
    response: Response,
    time_limit: Annotated[float, Query(gt=0, le=MAX_TIME_LIMIT)] = 30.0,
) -> dict[str, Any]:
    return job_accepted(response, service.schedule(session, jobs, caller, event_id, time_limit))


@router.post(
    "/{event_id}/replan",
    status_code=202,
    summary="Re-plan after no-shows, late registrations or changed slots (a job)",
    responses=problems(409),
    openapi_extra=replan_body(),
)
def replan(
    event_id: str,
    body: dict[str, Any],
    caller: CallerDep,
    session: SessionDep,
    jobs: JobsDep,
    response: Response,
    time_limit: Annotated[float, Query(gt=0, le=MAX_TIME_LIMIT)] = 30.0,
) -> dict[str, Any]:
    job_id = service.replan(session, jobs, caller, event_id, body, time_limit)
    return job_accepted(response, job_id)


@router.post(
    "/{event_id}/retime",
    status_code=202,
    summary="Keep the agreed meetings, re-time them for the fewest idle breaks (a job)",
    responses=problems(409),
)
def retime_schedule(
    event_id: str,
    caller: CallerDep,
    session: SessionDep,
    jobs: JobsDep,
    response: Response,
    fairness: Annotated[int, Query(ge=-1, le=100, description="max - min breaks; -1: none")] = 2,
    morning_slots: Annotated[int, Query(ge=0, le=MAX_SLOTS)] = 0,
    time_limit: Annotated[float, Query(gt=0, le=MAX_TIME_LIMIT)] = 60.0,
) -> dict[str, Any]:
    job_id = service.retime(
        session,
        jobs,
        caller,
        event_id,
        fairness=fairness,
        morning_slots=morning_slots,
        time_limit=time_limit,
    )
    return job_accepted(response, job_id)


@router.get("/{event_id}/schedule", summary="The current schedule (JSON)")
def get_schedule(event_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return service.current_schedule(session, caller, event_id)


@router.get(
    "/{event_id}/exports/schedule.csv",
    summary="All meetings as CSV for Excel",
    responses={**file_responses(CSV), **problems(409)},
)
def export_csv(event_id: str, caller: CallerDep, session: SessionDep) -> Response:
    return Response(
        service.schedule_csv(session, caller, event_id),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="schedule.csv"'},
    )


@router.get(
    "/{event_id}/exports/participants/{participant_id}.ics",
    summary="A participant's meetings as an iCalendar file",
    responses={**file_responses("text/calendar"), **problems(400, 409)},  # 400: no times
)
def export_ics(
    event_id: str, participant_id: str, caller: CallerDep, session: SessionDep
) -> Response:
    body = service.participant_calendar(session, caller, event_id, participant_id)
    return Response(body.encode("utf-8"), media_type="text/calendar; charset=utf-8")


@router.get(
    "/{event_id}/exports/agendas.html",
    summary="Printable agendas of everyone",
    responses={**file_responses("text/html"), **problems(409)},
)
def export_agendas(
    event_id: str,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    by: Literal["participant", "table"] = "participant",
    participant: Annotated[str | None, Query(max_length=200)] = None,
    table: Annotated[str | None, Query(max_length=200)] = None,
    lang: Annotated[
        Literal["auto", "ja", "en"],
        Query(description="the reasons' language; auto: each participant's (JP: ja)"),
    ] = "auto",
) -> Response:
    page = service.agendas(
        session,
        caller,
        event_id,
        by=by,
        participant=participant,
        table=table,
        engine=engine,
        lang=lang,
    )
    return Response(page, media_type="text/html; charset=utf-8")
