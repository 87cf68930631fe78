"""Matchmaking events over HTTP: the event document (slots, tables, participants, rules,
wishes, locked meetings), suggested pairs from the matching engine, schedules solved as
jobs, re-planning, and exports an organizer can hand out (CSV for Excel, iCalendar per
participant, printable HTML agendas per participant and per table).

The document is the file format of `models.events` (also read by `clustermatch schedule`);
it is validated on every write, so a stored event always solves.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated, Any, Literal

import numpy as np
from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from models.events import EventValidationError, parse_event, parse_previous, solve_event_file
from service.auth import CallerDep, Principal
from service.engine import Engine
from service.errors import BadRequest, Conflict, NotFound, ValidationFailed
from service.io import exports
from service.matching.routes import ready_engine
from service.store.db import transaction
from service.store.tables import EventRow, utcnow

router = APIRouter(prefix="/v1/events", tags=["events"])

MAX_PARTICIPANTS = 5_000
MAX_WISHES = 200_000
MAX_SLOTS = 500
MAX_TIME_LIMIT = 600.0


def _invalid(exc: EventValidationError) -> ValidationFailed:
    errors = [{"field": i.path, "reason": i.reason} for i in exc.issues]
    return ValidationFailed(f"the event is invalid ({len(errors)} problems)", errors=errors)


def _check_size(doc: dict[str, Any]) -> None:
    limits = (
        ("participants", MAX_PARTICIPANTS),
        ("wishes", MAX_WISHES),
        ("suggestions", MAX_WISHES),
        ("locked", MAX_WISHES),
    )
    errors = [
        {"field": key, "reason": f"at most {limit} items"}
        for key, limit in limits
        if isinstance(doc.get(key), list) and len(doc[key]) > limit
    ]
    if isinstance(doc.get("slots"), int) and doc["slots"] > MAX_SLOTS:
        errors.append({"field": "slots", "reason": f"at most {MAX_SLOTS}"})
    if errors:
        raise ValidationFailed("the event is too large", errors=errors)


def _validated(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > 300:
        raise ValidationFailed(
            "the event needs a name", errors=[{"field": "name", "reason": "1 to 300 characters"}]
        )
    doc = {k: v for k, v in body.items() if k not in ("name", "previous", "changes")}
    _check_size(doc)
    try:
        parse_event(doc)
    except EventValidationError as exc:
        raise _invalid(exc) from exc
    return name.strip(), doc


def _load(request: Request, event_id: str, caller: Principal) -> EventRow:
    caller.require("admin", "organizer")
    with request.app.state.sessions() as session:
        row = session.get(EventRow, event_id[:36])
    if row is None or (not caller.is_admin() and row.owner_key != caller.key_pk):
        raise NotFound(f"no event with id '{event_id[:36]}'")
    return row


def _out(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "event": row.data,
        "schedule": row.schedule,
        "created_at": row.created_at.isoformat(),
        "updated_at": row.updated_at.isoformat(),
    }


@router.post("", status_code=201, summary="Create an event (the schedule file format, plus a name)")
def create_event(body: dict[str, Any], request: Request, caller: CallerDep) -> dict[str, Any]:
    caller.require("admin", "organizer")
    name, doc = _validated(body)
    row = EventRow(id=str(uuid.uuid4()), name=name, owner_key=caller.key_pk, data=doc)
    with transaction(request.app.state.sessions) as session:
        session.add(row)
    return _out(row)


@router.get("", summary="Events of this key (all events for admins)")
def list_events(request: Request, caller: CallerDep) -> dict[str, Any]:
    caller.require("admin", "organizer")
    stmt = select(EventRow).order_by(EventRow.created_at)
    if not caller.is_admin():
        stmt = stmt.where(EventRow.owner_key == caller.key_pk)
    with request.app.state.sessions() as session:
        rows = session.scalars(stmt.limit(500)).all()
    return {
        "items": [
            {
                "id": r.id,
                "name": r.name,
                "participants": len(r.data.get("participants", [])),
                "scheduled": r.schedule is not None,
            }
            for r in rows
        ]
    }


@router.get("/{event_id}", summary="An event and its current schedule")
def get_event(event_id: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    return _out(_load(request, event_id, caller))


@router.put("/{event_id}", summary="Replace an event's document (its schedule is kept)")
def put_event(
    event_id: str, body: dict[str, Any], request: Request, caller: CallerDep
) -> dict[str, Any]:
    row = _load(request, event_id, caller)
    name, doc = _validated(body)
    with transaction(request.app.state.sessions) as session:
        stored = session.get(EventRow, row.id)
        assert stored is not None
        stored.name, stored.data, stored.updated_at = name, doc, utcnow()
        row = stored
    return _out(row)


@router.delete("/{event_id}", status_code=204, summary="Delete an event")
def delete_event(event_id: str, request: Request, caller: CallerDep) -> Response:
    row = _load(request, event_id, caller)
    with transaction(request.app.state.sessions) as session:
        stored = session.get(EventRow, row.id)
        if stored is not None:
            session.delete(stored)
    return Response(status_code=204)


def suggest_pairs(
    engine: Engine, doc: dict[str, Any], per_participant: int
) -> list[dict[str, Any]]:
    """For each participant with a profile, the best other participants by the matching
    engine (purpose partner), as suggestions {a, b, score 0..1, reason}."""
    by_pk: dict[int, str] = {}
    for p in doc.get("participants", []):
        rec = engine.record(str(p.get("profile_id") or ""))
        if rec is not None:
            by_pk[rec.pk] = p["id"]
    within = np.asarray(sorted(by_pk), dtype=np.int64)
    best: dict[frozenset[str], dict[str, Any]] = {}
    for pk, pid in by_pk.items():
        record = engine.records[pk]
        for m in engine.matches_for(record, "partner", k=per_participant, within=within):
            other = by_pk.get(m.record.pk)
            if other is None or other == pid:
                continue
            key = frozenset((pid, other))
            score = float(np.clip(m.scored.score, 0.0, 1.0))
            if key not in best or best[key]["score"] < score:
                best[key] = {
                    "a": pid,
                    "b": other,
                    "score": round(score, 4),
                    "reason": "; ".join(r.text for r in m.reasons) or "similar profile",
                }
    return sorted(best.values(), key=lambda s: -s["score"])


@router.post("/{event_id}/suggestions", summary="Fill the event's suggested pairs from matching")
def suggestions(
    event_id: str,
    request: Request,
    caller: CallerDep,
    per_participant: Annotated[int, Query(ge=1, le=50)] = 5,
) -> dict[str, Any]:
    row = _load(request, event_id, caller)
    engine = ready_engine(request)
    found = suggest_pairs(engine, row.data, per_participant)
    with transaction(request.app.state.sessions) as session:
        stored = session.get(EventRow, row.id)
        assert stored is not None
        stored.data = {**stored.data, "suggestions": found}
        stored.updated_at = utcnow()
    return {"count": len(found), "suggestions": found}


def _solve_job(
    request: Request,
    row: EventRow,
    doc: dict[str, Any],
    time_limit: float,
    caller: Principal,
    response: Response,
    kind: str,
) -> dict[str, Any]:
    sessions = request.app.state.sessions

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        progress("solving", 0, 1)
        try:
            result = solve_event_file(doc, time_limit=time_limit)
        except EventValidationError as exc:
            raise _invalid(exc) from exc
        with transaction(sessions) as session:
            stored = session.get(EventRow, row.id)
            if stored is None:
                raise NotFound("the event was deleted while it was being scheduled")
            stored.schedule = result
            stored.updated_at = utcnow()
        progress("solving", 1, 1)
        return {
            "event": row.id,
            "status": result.get("status"),
            "objective": result.get("objective"),
            "bound": result.get("bound"),
            "gap": result.get("gap"),
            "meetings": len(result.get("meetings", [])),
            "unplaced": len(result.get("unplaced", [])),
            "changes": result.get("changes"),
        }

    job_id = request.app.state.jobs.submit(kind, work, total=1, created_by=caller.key_pk)
    response.status_code = 202
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return {"status": "queued", "job": f"/v1/jobs/{job_id}", "id": job_id}


@router.post(
    "/{event_id}/schedule",
    status_code=202,
    summary="Solve the meeting schedule (a job; poll /v1/jobs/{id})",
)
def schedule(
    event_id: str,
    request: Request,
    caller: CallerDep,
    response: Response,
    time_limit: Annotated[float, Query(gt=0, le=MAX_TIME_LIMIT)] = 30.0,
) -> dict[str, Any]:
    row = _load(request, event_id, caller)
    return _solve_job(request, row, dict(row.data), time_limit, caller, response, "schedule")


@router.post(
    "/{event_id}/replan",
    status_code=202,
    summary="Re-plan after no-shows, late registrations or changed slots (a job)",
)
def replan(
    event_id: str,
    body: dict[str, Any],
    request: Request,
    caller: CallerDep,
    response: Response,
    time_limit: Annotated[float, Query(gt=0, le=MAX_TIME_LIMIT)] = 30.0,
) -> dict[str, Any]:
    row = _load(request, event_id, caller)
    if row.schedule is None:
        raise Conflict("the event has no schedule yet: solve it first")
    extra = set(body) - {"changes", "announced"}
    if extra:
        raise ValidationFailed(
            "unknown fields",
            errors=[{"field": f, "reason": "unknown field"} for f in sorted(extra)],
        )
    announced = body.get("announced", True)
    previous = [{**m, "announced": bool(announced)} for m in row.schedule.get("meetings", [])]
    doc = {**row.data, "previous": previous, "changes": body.get("changes", {})}
    try:
        parse_previous(previous)
    except EventValidationError as exc:
        raise _invalid(exc) from exc
    return _solve_job(request, row, doc, time_limit, caller, response, "replan")


@router.post(
    "/{event_id}/retime",
    status_code=202,
    summary="Keep the agreed meetings, re-time them for the fewest idle breaks (a job)",
)
def retime_schedule(
    event_id: str,
    request: Request,
    caller: CallerDep,
    response: Response,
    fairness: Annotated[int, Query(ge=-1, le=100, description="max - min breaks; -1: none")] = 2,
    morning_slots: Annotated[int, Query(ge=0, le=MAX_SLOTS)] = 0,
    time_limit: Annotated[float, Query(gt=0, le=MAX_TIME_LIMIT)] = 60.0,
) -> dict[str, Any]:
    from models.events.retime import RetimeError, retime

    row = _load(request, event_id, caller)
    if row.schedule is None:
        raise Conflict("the event has no schedule yet: the agreed meetings come from it")
    event = parse_event(row.data)
    meetings, _ = parse_previous(row.schedule)
    if morning_slots > event.slots:
        raise ValidationFailed(
            "morning_slots is larger than the event",
            errors=[{"field": "morning_slots", "reason": f"at most {event.slots}"}],
        )
    sessions = request.app.state.sessions

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        progress("solving", 0, 1)
        try:
            placed, result = retime(
                event,
                meetings,
                fairness=fairness,
                time_limit=time_limit,
                morning_slots=morning_slots,
            )
        except RetimeError as exc:
            raise BadRequest(str(exc)) from exc
        summary = {
            "status": result.status,
            "breaks": result.breaks,
            "bound": result.bound,
            "fairness": fairness,
            "time_s": round(result.time_s, 3),
        }
        if result.status in ("optimal", "feasible"):
            with transaction(sessions) as session:
                stored = session.get(EventRow, row.id)
                if stored is None:
                    raise NotFound("the event was deleted while it was being re-timed")
                stored.schedule = {
                    **(stored.schedule or {}),
                    "meetings": [
                        {"a": m.a, "b": m.b, "slot": m.slot, "table": m.table} for m in placed
                    ],
                    "idle_gaps": result.breaks,
                    "retime": summary,
                }
                stored.updated_at = utcnow()
        progress("solving", 1, 1)
        return {"event": row.id, **summary}

    job_id = request.app.state.jobs.submit("retime", work, total=1, created_by=caller.key_pk)
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return {"status": "queued", "job": f"/v1/jobs/{job_id}", "id": job_id}


@router.get("/{event_id}/schedule", summary="The current schedule (JSON)")
def get_schedule(event_id: str, request: Request, caller: CallerDep) -> dict[str, Any]:
    row = _load(request, event_id, caller)
    if row.schedule is None:
        raise NotFound("the event has no schedule yet")
    return row.schedule


def _exportable(request: Request, event_id: str, caller: Principal) -> tuple[Any, Any]:
    row = _load(request, event_id, caller)
    if row.schedule is None:
        raise NotFound("the event has no schedule yet")
    event = parse_event(row.data)
    meetings, _ = parse_previous(row.schedule)
    return event, meetings


@router.get("/{event_id}/exports/schedule.csv", summary="All meetings as CSV for Excel")
def export_csv(event_id: str, request: Request, caller: CallerDep) -> Response:
    event, meetings = _exportable(request, event_id, caller)
    return Response(
        exports.schedule_csv(meetings, event),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="schedule.csv"'},
    )


@router.get(
    "/{event_id}/exports/participants/{participant_id}.ics",
    summary="A participant's meetings as an iCalendar file",
)
def export_ics(event_id: str, participant_id: str, request: Request, caller: CallerDep) -> Response:
    event, meetings = _exportable(request, event_id, caller)
    try:
        body = exports.participant_ics(meetings, event, participant_id)
    except ValueError as exc:
        if "unknown participant" in str(exc):
            raise NotFound(str(exc)) from exc
        raise BadRequest(str(exc)) from exc
    return Response(body.encode("utf-8"), media_type="text/calendar; charset=utf-8")


@router.get("/{event_id}/exports/agendas.html", summary="Printable agendas of everyone")
def export_agendas(
    event_id: str,
    request: Request,
    caller: CallerDep,
    by: Literal["participant", "table"] = "participant",
    participant: Annotated[str | None, Query(max_length=200)] = None,
    table: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    event, meetings = _exportable(request, event_id, caller)
    try:
        if participant is not None:
            page = exports.participant_agenda_html(meetings, event, participant)
        elif table is not None:
            page = exports.table_agenda_html(meetings, event, table)
        else:
            page = exports.all_agendas_html(meetings, event, by=by)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc
    return Response(page, media_type="text/html; charset=utf-8")
