"""Matchmaking events: the event document (slots, tables, participants, rules, wishes,
locked meetings), suggested pairs from the matching engine, schedules solved as jobs,
re-planning and re-timing, and the exports an organizer hands out.

The document is the file format of `models.events` (also read by `clustermatch
schedule`); it is validated on every write, so a stored event always solves. An event
belongs to the office of whoever created it: every organizer of that office (any API key
or console user of it) sees and runs it, with its schedule, wishes, outcomes and exports;
another office's organizers get 404, as for an event that does not exist. Admins see all.
Its participants may be profiles of any office (a national or cross-office event): that
gives no right to write them (service.profiles.service, tenancy).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

import numpy as np

from models.events import (
    Event,
    EventValidationError,
    Issue,
    Meeting,
    apply_changes,
    parse_changes,
    parse_event,
    parse_previous,
    solve_event_file,
    unknown_keys,
)
from models.events.model import MAX_SLOTS
from models.matching import Lang
from models.names import unknown
from models.progress import Progress
from service.auth import Principal
from service.engine import Engine
from service.errors import BadRequest, Conflict, NotFound, ValidationFailed
from service.events import rules
from service.events.briefing import AgendaLang, agenda_notes
from service.events.progress import SolveClock
from service.events.setup import setup_issues
from service.events.staleness import refuse_stale
from service.io import exports
from service.jobs.service import Jobs, JobWork
from service.matching.service import require_ready
from service.store import events
from service.store.db import Session
from service.store.tables import UUID_LEN, EventRow, utcnow

MAX_NAME = 300
MAX_PARTICIPANTS = 5_000
MAX_WISHES = 200_000
"""The most wishes, and also the most overrides, suggestions, locked meetings, pairs
(blocked, met before, pinned) or re-plan changes of one kind in an event."""
MAX_TIME_LIMIT = 600.0
MAX_LISTED = 500
REPLAN_KEYS = ("previous", "changes")
MAX_ERRORS = 200
"""The most problems one answer lists (a list of a million bad slots would otherwise
answer a million lines)."""


def list_limits() -> dict[str, int]:
    """The lists of an event document held to a size before it is parsed (read at each
    call: tests lower MAX_PARTICIPANTS and MAX_WISHES)."""
    many = ("wishes", "overrides", "suggestions", "locked", "allow", "blocked", "met_before")
    return {"participants": MAX_PARTICIPANTS, **dict.fromkeys((*many, "pinned"), MAX_WISHES)}


def changes_limits() -> dict[str, int]:
    """The same for a re-plan's `changes`."""
    return {
        **dict.fromkeys(("no_shows", "late"), MAX_PARTICIPANTS),
        **dict.fromkeys(("wishes", "suggestions", "locked"), MAX_WISHES),
        "cancelled_slots": MAX_SLOTS,
    }


def _invalid(exc: EventValidationError) -> ValidationFailed:
    errors = [{"field": i.path, "reason": i.reason} for i in exc.issues]
    n = len(errors)
    detail = f"the event is invalid ({n} problems" + (
        f"; the first {MAX_ERRORS} are listed)" if n > MAX_ERRORS else ")"
    )
    return ValidationFailed(detail, errors=errors[:MAX_ERRORS])


def _size_errors(doc: Any, limits: dict[str, int], prefix: str = "") -> list[dict[str, Any]]:
    if not isinstance(doc, dict):
        return []
    return [
        {"field": prefix + key, "reason": f"at most {limit} items"}
        for key, limit in limits.items()
        if isinstance(doc.get(key), list) and len(doc[key]) > limit
    ]


def _check_size(doc: dict[str, Any]) -> None:
    errors = _size_errors(doc, list_limits())
    if _is_count(doc.get("slots")) and doc["slots"] > MAX_SLOTS:
        errors.append({"field": "slots", "reason": f"at most {MAX_SLOTS}"})
    if errors:
        raise ValidationFailed("the event is too large", errors=errors)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def integral(value: Any) -> Any:
    """`value` with every float that is a whole number (3.0) made an int: JSON Schema's
    integer admits it, as pydantic does for the other bodies, and the document is stored
    as the solver and the pages read it (`range(3.0)` fails)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [integral(v) for v in value]
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    return value


def _validated(body: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """The event's name and document from a body (the API's or the console's), or 422
    with every problem: the limits of service.events.schemas.event_body."""
    name = body.get("name")
    if not isinstance(name, str) or not name.strip() or len(name) > MAX_NAME:
        raise ValidationFailed(
            "the event needs a name",
            errors=[{"field": "name", "reason": f"1 to {MAX_NAME} characters"}],
        )
    doc = integral({k: v for k, v in body.items() if k not in ("name", "previous", "changes")})
    _check_size(doc)
    issues = setup_issues(doc)
    try:
        parse_event(doc)
    except EventValidationError as exc:
        issues = [*exc.issues, *issues]
    if issues:
        raise _invalid(EventValidationError(issues))
    return name.strip(), doc


def refuse_unknown_keys(body: dict[str, Any]) -> None:
    """422 naming, with the nearest known key, every key of an event document sent to the
    API that the format does not have (models.events `unknown_keys`). The console builds
    its documents itself and is not checked here. `previous` and `changes`, which
    `clustermatch schedule` reads from a file, are refused too: the API would drop them."""
    extra = unknown_keys(body)
    extra += [
        Issue(key, "a re-plan's key: POST /v1/events/{id}/replan takes the changes")
        for key in REPLAN_KEYS
        if key in body
    ]
    if extra:
        raise _invalid(EventValidationError(extra))


def get(session: Session, caller: Principal, event_id: str) -> EventRow:
    """An event the caller may see; 404 otherwise (as for one that does not exist)."""
    caller.require("admin", "organizer")
    row = events.get(session, event_id) if len(event_id) <= UUID_LEN else None
    if row is None or not caller.runs(row.office):
        raise NotFound.for_id("event", event_id, UUID_LEN)
    return row


def create(session: Session, caller: Principal, body: dict[str, Any]) -> EventRow:
    """A new event of the caller's office."""
    caller.require("admin", "organizer")
    name, doc = _validated(body)
    row = EventRow(
        id=str(uuid.uuid4()), name=name, owner_key=caller.key_pk, office=caller.office, data=doc
    )
    events.add(session, row)
    return row


def listing(session: Session, caller: Principal) -> list[EventRow]:
    """The events of the caller's office (all events for admins), oldest first."""
    caller.require("admin", "organizer")
    office = None if caller.is_admin() else caller.office
    return list(events.listing(session, office, MAX_LISTED))


def replace(session: Session, caller: Principal, event_id: str, body: dict[str, Any]) -> EventRow:
    """A new document for the event; its schedule is kept."""
    row = get(session, caller, event_id)
    name, doc = _validated(body)
    row.name, row.data, row.updated_at = name, doc, utcnow()
    return row


def delete(session: Session, caller: Principal, event_id: str) -> None:
    events.remove(session, get(session, caller, event_id))


def suggest_pairs(
    engine: Engine, doc: dict[str, Any], per_participant: int, lang: Lang = "en"
) -> list[dict[str, Any]]:
    """For each participant with a profile, the best other participants by the matching
    engine (purpose partner), as suggestions {a, b, score 0..1, reason}; only pairs the
    event's rules let meet (`service.events.rules`: allow, blocked, met before, `no`).
    Reasons are in `lang`."""
    may_suggest = rules.suggestable_in(doc)
    by_pk: dict[int, str] = {}
    for p in doc.get("participants", []):
        rec = engine.record(str(p.get("profile_id") or ""))
        if rec is not None:
            by_pk[rec.pk] = p["id"]
    within = np.asarray(sorted(by_pk), dtype=np.int64)
    # Ask for more than needed: the rules may turn some of the best down.
    k = min(len(by_pk), per_participant * 4 + 5)
    best: dict[frozenset[str], dict[str, Any]] = {}
    for pk, pid in by_pk.items():
        record = engine.records[pk]
        kept = 0
        for m in engine.matches_for(record, "partner", k=k, within=within, lang=lang):
            other = by_pk.get(m.record.pk)
            if other is None or other == pid or not may_suggest(pid, other):
                continue
            kept += 1
            if kept > per_participant:
                break
            key = frozenset((pid, other))
            score = float(np.clip(m.scored.score, 0.0, 1.0))
            if key not in best or best[key]["score"] < score:
                best[key] = {
                    "a": pid,
                    "b": other,
                    "score": round(score, 4),
                    "reason": "; ".join(r.text for r in m.reasons) or _SIMILAR[lang],
                }
    return sorted(best.values(), key=lambda s: -s["score"])


_SIMILAR: dict[Lang, str] = {"en": "similar profile", "ja": "プロフィールが近い"}


def suggest(
    session: Session,
    engine: Engine,
    caller: Principal,
    event_id: str,
    per_participant: int,
    lang: Lang = "en",
) -> list[dict[str, Any]]:
    """Fill the event's suggested pairs from matching (the index must be loaded)."""
    row = get(session, caller, event_id)
    found = suggest_pairs(require_ready(engine), row.data, per_participant, lang)
    row.data = {**row.data, "suggestions": found}
    row.updated_at = utcnow()
    return found


def _solve_work(event_id: str, doc: dict[str, Any], time_limit: float) -> JobWork:
    def work(session: Session, progress: Progress) -> dict[str, Any]:
        # (console schedule pages) the solver's steps and time as the job's progress
        with SolveClock(progress, time_limit) as clock:
            try:
                result = solve_event_file(doc, time_limit=time_limit, on_stage=clock.stage)
            except EventValidationError as exc:
                raise _invalid(exc) from exc
        progress("saving", clock.total - 1, clock.total)
        stored = events.get(session, event_id)
        if stored is None:
            raise NotFound("the event was deleted while it was being scheduled")
        stored.schedule = result
        stored.updated_at = utcnow()
        progress("saving", clock.total, clock.total)
        return {
            "event": event_id,
            "status": result.get("status"),
            "objective": result.get("objective"),
            "bound": result.get("bound"),
            "gap": result.get("gap"),
            "meetings": len(result.get("meetings", [])),
            "unplaced": len(result.get("unplaced", [])),
            "changes": result.get("changes"),
        }

    return work


def schedule(
    session: Session, jobs: Jobs, caller: Principal, event_id: str, time_limit: float
) -> str:
    """Queue the solve of the event's schedule; the job's id."""
    row = get(session, caller, event_id)
    work = _solve_work(row.id, dict(row.data), time_limit)
    return jobs.submit("schedule", work, total=1, created_by=caller.key_pk)


def replan(
    session: Session,
    jobs: Jobs,
    caller: Principal,
    event_id: str,
    body: dict[str, Any],
    time_limit: float,
) -> str:
    """Queue a re-plan from the current schedule after the changes in `body`; the job's id."""
    row = get(session, caller, event_id)
    if row.schedule is None:
        raise Conflict("the event has no schedule yet: solve it first")
    doc = replan_document(row.data, row.schedule, body)
    return jobs.submit(
        "replan", _solve_work(row.id, doc, time_limit), total=1, created_by=caller.key_pk
    )


def replan_document(
    data: dict[str, Any], schedule: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    """The document a re-plan solves: the event's, its schedule as `previous` and the
    body's `changes`; 422 with every problem of the body (service.events.schemas
    .replan_body states its limits), checked before anything is queued."""
    extra = set(body) - {"changes", "announced"}
    if extra:
        raise ValidationFailed(
            "unknown fields",
            errors=[
                {"field": f, "reason": unknown("field", f, ("changes", "announced"))}
                for f in sorted(extra)
            ],
        )
    issues = unknown_keys({"changes": body.get("changes")})
    if issues:
        raise _invalid(EventValidationError(issues))
    announced = body.get("announced", True)
    if not isinstance(announced, bool):
        raise ValidationFailed(
            "announced must be true or false",
            errors=[{"field": "announced", "reason": "must be true or false"}],
        )
    changes = integral(body.get("changes"))
    if changes is None:
        changes = {}
    errors = _size_errors(changes, changes_limits(), "changes.")
    if errors:
        raise ValidationFailed("the changes are too large", errors=errors)
    previous = [{**m, "announced": announced} for m in schedule.get("meetings", [])]
    try:
        parse_previous(previous)
        # the changes are checked now (422), not in the job: the solve alone is queued
        apply_changes(parse_event(data), parse_changes(changes))
    except EventValidationError as exc:
        raise _invalid(exc) from exc
    return {**data, "previous": previous, "changes": changes}


def retime(
    session: Session,
    jobs: Jobs,
    caller: Principal,
    event_id: str,
    *,
    fairness: int,
    morning_slots: int,
    time_limit: float,
) -> str:
    """Queue a re-timing of the agreed meetings for the fewest idle breaks; the job's id."""
    from models.events.retime import RetimeError
    from models.events.retime import retime as solve_retime

    row = get(session, caller, event_id)
    if row.schedule is None:
        raise Conflict("the event has no schedule yet: the agreed meetings come from it")
    event = parse_event(row.data)
    refuse_stale(row.id, event, row.schedule)  # re-time only meetings that can take place
    meetings, _ = parse_previous(row.schedule)
    if morning_slots > event.slots:
        raise ValidationFailed(
            "morning_slots is larger than the event",
            errors=[{"field": "morning_slots", "reason": f"at most {event.slots}"}],
        )
    event_pk = row.id
    breaks_before = total_breaks(meetings)

    def work(job_session: Session, progress: Progress) -> dict[str, Any]:
        # (console schedule pages) time as the job's progress; breaks before, for comparison
        with SolveClock(progress, time_limit) as clock:
            clock.stage("retime")
            try:
                placed, result = solve_retime(
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
            "breaks_before": breaks_before,
            "breaks": result.breaks,
            "bound": result.bound,
            "fairness": fairness,
            "time_s": round(result.time_s, 3),
        }
        if result.status in ("optimal", "feasible"):
            stored = events.get(job_session, event_pk)
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
        progress("saving", clock.total, clock.total)
        return {"event": event_pk, **summary}

    return jobs.submit("retime", work, total=1, created_by=caller.key_pk)


def total_breaks(meetings: list[Meeting]) -> int:
    """Idle breaks between each participant's first and last meeting, summed: what
    re-timing minimizes (models.b2b's definition), to compare before and after."""
    from models.b2b import participant_breaks

    slots: dict[str, list[int]] = {}
    for m in meetings:
        slots.setdefault(m.a, []).append(m.slot)
        slots.setdefault(m.b, []).append(m.slot)
    return sum(participant_breaks(busy) for busy in slots.values())


def current_schedule(session: Session, caller: Principal, event_id: str) -> dict[str, Any]:
    row = get(session, caller, event_id)
    if row.schedule is None:
        raise NotFound("the event has no schedule yet")
    return row.schedule


def _exportable(session: Session, caller: Principal, event_id: str) -> tuple[Event, list[Meeting]]:
    row = get(session, caller, event_id)
    if row.schedule is None:
        raise NotFound("the event has no schedule yet")
    # The stored document has no name (it is the row's), nor always an id: without them the
    # agendas and calendars said "event", and calendar UIDs were the same across events.
    event = parse_event({"id": row.id, **row.data, "name": row.name})
    refuse_stale(row.id, event, row.schedule)  # (the event was edited since it was solved)
    meetings, _ = parse_previous(row.schedule)
    return event, meetings


def schedule_csv(session: Session, caller: Principal, event_id: str) -> bytes:
    event, meetings = _exportable(session, caller, event_id)
    return exports.schedule_csv(meetings, event)


def participant_calendar(
    session: Session, caller: Principal, event_id: str, participant_id: str
) -> str:
    event, meetings = _exportable(session, caller, event_id)
    try:
        return exports.participant_ics(meetings, event, participant_id)
    except ValueError as exc:
        if "unknown participant" in str(exc):
            raise NotFound(str(exc)) from exc
        raise BadRequest(str(exc)) from exc


def agendas(
    session: Session,
    caller: Principal,
    event_id: str,
    *,
    by: Literal["participant", "table"],
    participant: str | None,
    table: str | None,
    engine: Engine | None = None,
    lang: AgendaLang = "auto",
) -> str:
    """Printable agendas: one participant's, one table's, or everyone's (by `by`), with
    the organizations and why each pair meets (service.events.briefing)."""
    event, meetings = _exportable(session, caller, event_id)
    notes = agenda_notes(session, engine, event, meetings, lang)
    try:
        if participant is not None:
            return exports.participant_agenda_html(meetings, event, participant, notes=notes)
        if table is not None:
            return exports.table_agenda_html(meetings, event, table, notes=notes)
        return exports.all_agendas_html(meetings, event, by=by, notes=notes)
    except ValueError as exc:
        raise NotFound(str(exc)) from exc
