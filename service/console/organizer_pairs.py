"""Organizer pages on an event's pairs: suggestions (generate from matching; accept as
want or must, reject, pin — see `service.events.suggestions` for what each writes) and
wishes (entered for any participant toward any other; listed and removed, with the
organizer's overrides beside them). Access is the API's (another organizer's event: 404).
"""

from __future__ import annotations

import re
from typing import Annotated, cast

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.events.model import LEVELS, Level
from service.console.i18n import negotiate
from service.console.organizer_events import Organizer, event_for
from service.console.pages import ConsoleRoute, render
from service.deps import EngineDep, SessionDep
from service.errors import ValidationFailed
from service.events import organizer_wishes, suggestions
from service.store.tables import EventRow

router = APIRouter(route_class=ConsoleRoute)
FormText = Annotated[str, Form()]
MAX_PER_PARTICIPANT = 20
_DONE = {"generated", "decided", "pinned", "unpinned", "added", "removed"}


def _names(event: EventRow) -> dict[str, str]:
    return {p["id"]: p.get("name") or p["id"] for p in event.data.get("participants", [])}


# Reasons of the domain's validation -> a message key (the form's field first).
_CONFLICTS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"contradicts wishes\["), "level", "organizer.wishes.error.contradicts"),
    (re.compile(r"cannot (?:wish to )?meet itself"), "target", "organizer.wishes.error.self"),
    (re.compile(r"override contradicts the 'no' wish"), "level", "organizer.wishes.error.override"),
    (re.compile(r"locked meeting contradicts"), "level", "organizer.wishes.error.locked"),
    (re.compile(r"override on the blocked pair"), "level", "organizer.wishes.error.blocked"),
    (re.compile(r"unknown participant"), "source", "organizer.wishes.error.unknown"),
]


def conflicts(exc: ValidationFailed) -> tuple[dict[str, str], list[str]]:
    """(field -> message key, reasons no pattern knows)."""
    fields: dict[str, str] = {}
    rest: list[str] = []
    for item in exc.extra.get("errors", []):
        reason = str(item.get("reason") or "")
        path = str(item.get("field") or "")
        for pattern, name, key in _CONFLICTS:
            if pattern.search(reason):
                if name == "source" and path.endswith(".to"):
                    name = "target"
                fields.setdefault(name, key)
                break
        else:
            rest.append(f"{path}: {reason}" if path else reason)
    return fields, rest


# ---------------------------------------------------------------------------- suggestions


def _suggestions_page(
    request: Request,
    event: EventRow,
    *,
    status: int = 200,
    error: str | None = None,
    error_detail: list[str] | None = None,
    per_participant: str = "3",
) -> Response:
    done = request.query_params.get("done", "")
    return render(
        request,
        "organizer_suggestions.html",
        status,
        event=event,
        items=suggestions.listing(event),
        names=_names(event),
        participant_count=len(event.data.get("participants", [])),
        error=error,
        error_detail=error_detail or [],
        per_participant=per_participant,
        done=done if done in _DONE else "",
        n=request.query_params.get("n", ""),
    )


@router.get("/events/{event_id}/suggestions", response_class=HTMLResponse)
def suggestions_page(
    request: Request, viewer: Organizer, session: SessionDep, event_id: str
) -> Response:
    return _suggestions_page(request, event_for(session, viewer, event_id))


@router.post("/events/{event_id}/suggestions/generate", response_class=HTMLResponse)
def suggestions_generate(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    engine: EngineDep,
    event_id: str,
    per_participant: FormText = "3",
) -> Response:
    event = event_for(session, viewer, event_id)
    text = per_participant.strip()[:6]
    if not text.isdigit() or not 1 <= int(text) <= MAX_PER_PARTICIPANT:
        return _suggestions_page(
            request, event, status=400, error="organizer.suggestions.error.count",
            per_participant=text,
        )  # fmt: skip
    if not engine.ready:
        return _suggestions_page(
            request, event, status=503, error="organizer.profiles.index_loading",
            per_participant=text,
        )  # fmt: skip
    count = suggestions.generate(
        session, engine, viewer.principal, event.id, int(text), negotiate(request)
    )
    return RedirectResponse(
        f"/console/events/{event.id}/suggestions?done=generated&n={count}", status_code=303
    )


def _pair_known(event: EventRow, a: str, b: str) -> bool:
    names = _names(event)
    return a in names and b in names and a != b


@router.post("/events/{event_id}/suggestions/decide", response_class=HTMLResponse)
def suggestions_decide(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    a: FormText = "",
    b: FormText = "",
    decision: FormText = "",
) -> Response:
    event = event_for(session, viewer, event_id)
    if not _pair_known(event, a, b) or decision not in ("want", "must", "no", "undo"):
        return _suggestions_page(
            request, event, status=400, error="organizer.suggestions.error.pair"
        )
    level = None if decision == "undo" else cast(suggestions.Decision, decision)
    try:
        suggestions.decide(session, viewer.principal, event.id, a, b, level)
    except ValidationFailed as exc:
        fields, rest = conflicts(exc)
        key = next(iter(fields.values()), "organizer.suggestions.error.invalid")
        return _suggestions_page(request, event, status=400, error=key, error_detail=rest)
    return RedirectResponse(
        f"/console/events/{event.id}/suggestions?done=decided#s-{_anchor(a, b)}", status_code=303
    )


def _anchor(a: str, b: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "_", f"{a}--{b}")[:200]


@router.post("/events/{event_id}/suggestions/pin", response_class=HTMLResponse)
def suggestions_pin(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    a: FormText = "",
    b: FormText = "",
    on: FormText = "1",
) -> Response:
    event = event_for(session, viewer, event_id)
    if not _pair_known(event, a, b):
        return _suggestions_page(
            request, event, status=400, error="organizer.suggestions.error.pair"
        )
    suggestions.pin(session, viewer.principal, event.id, a, b, on == "1")
    done = "pinned" if on == "1" else "unpinned"
    return RedirectResponse(f"/console/events/{event.id}/suggestions?done={done}", status_code=303)


# ---------------------------------------------------------------------------- wishes


def _wishes_page(
    request: Request,
    event: EventRow,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    others: list[str] | None = None,
) -> Response:
    done = request.query_params.get("done", "")
    people = sorted(_names(event).items(), key=lambda item: item[1])
    return render(
        request,
        "organizer_wishes.html",
        status,
        event=event,
        people=people,
        names=_names(event),
        wishes=event.data.get("wishes") or [],
        overrides=event.data.get("overrides") or [],
        values=values or {"source": "", "target": "", "level": "want", "priority": "3"},
        errors=errors or {},
        others=others or [],
        levels=LEVELS,
        done=done if done in _DONE else "",
    )


@router.get("/events/{event_id}/wishes", response_class=HTMLResponse)
def wishes_page(
    request: Request, viewer: Organizer, session: SessionDep, event_id: str
) -> Response:
    return _wishes_page(request, event_for(session, viewer, event_id))


@router.post("/events/{event_id}/wishes/add", response_class=HTMLResponse)
def wishes_add(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    source: FormText = "",
    target: FormText = "",
    level: FormText = "",
    priority: FormText = "3",
) -> Response:
    event = event_for(session, viewer, event_id)
    values = {
        "source": source[:200],
        "target": target[:200],
        "level": level[:10],
        "priority": priority[:3],
    }
    names = _names(event)
    errors: dict[str, str] = {}
    if source not in names:
        errors["source"] = "organizer.wishes.error.choose"
    if target not in names:
        errors["target"] = "organizer.wishes.error.choose"
    elif source == target:
        errors["target"] = "organizer.wishes.error.self"
    if level not in LEVELS:
        errors["level"] = "organizer.wishes.error.level"
    if priority not in {"1", "2", "3", "4", "5"}:
        errors["priority"] = "organizer.wishes.error.priority"
    others: list[str] = []
    if not errors:
        try:
            organizer_wishes.add(
                session, viewer.principal, event.id, source, target,
                cast(Level, level), int(priority),
            )  # fmt: skip
        except ValidationFailed as exc:
            errors, others = conflicts(exc)
        else:
            return RedirectResponse(
                f"/console/events/{event.id}/wishes?done=added", status_code=303
            )
    return _wishes_page(request, event, status=400, values=values, errors=errors, others=others)


@router.post("/events/{event_id}/wishes/remove", response_class=HTMLResponse)
def wishes_remove(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    source: FormText = "",
    target: FormText = "",
    level: FormText = "",
) -> Response:
    event = event_for(session, viewer, event_id)
    organizer_wishes.remove(session, viewer.principal, event.id, source, target, level)
    return RedirectResponse(f"/console/events/{event.id}/wishes?done=removed", status_code=303)


@router.post("/events/{event_id}/overrides/remove", response_class=HTMLResponse)
def overrides_remove(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    a: FormText = "",
    b: FormText = "",
) -> Response:
    event = event_for(session, viewer, event_id)
    organizer_wishes.remove_override(session, viewer.principal, event.id, a, b)
    return RedirectResponse(f"/console/events/{event.id}/wishes?done=removed", status_code=303)
