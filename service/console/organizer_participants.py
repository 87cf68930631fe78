"""Organizer pages: an event's participants — add from profiles (search, pick several, one
group), or from an uploaded CSV list; change one's group, availability (slot checkboxes
with clock times) and min / max meetings; remove one. The work is
`service.events.participants`; access is the API's (another organizer's event: 404)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.profile import KINDS
from service.console.organizer_events import MAX_MEETINGS, Organizer, event_for
from service.console.pages import ConsoleRoute, render
from service.deps import SessionDep
from service.errors import NotFound, ValidationFailed
from service.events import participants, setup
from service.io.imports import ImportFormatError
from service.profiles import directory
from service.profiles.directory import MAX_NAME_QUERY
from service.store.tables import EventRow

router = APIRouter(route_class=ConsoleRoute)
FormText = Annotated[str, Form()]
SEARCH_LIMIT = 50
_DONE = {"added", "uploaded", "removed", "saved"}


def _base(event: EventRow) -> str:
    return f"/console/events/{event.id}/participants"


def _page(
    request: Request,
    session: SessionDep,
    viewer: Any,
    event: EventRow,
    *,
    status: int = 200,
    q: str = "",
    kind: str = "",
    cluster: str = "",
    list_errors: list[Any] | None = None,
    list_file_error: str | None = None,
    add_error: str | None = None,
) -> Response:
    doc = event.data
    people = doc.get("participants", [])
    present = {p["id"] for p in people}
    results: list[directory.ProfileSummary] = []
    searched = bool(q or kind or cluster)
    total = 0
    if searched:
        found = directory.browse(
            session,
            viewer.principal,
            kinds=[kind] if kind in KINDS else None,
            cluster=cluster or None,
            name=q or None,
            limit=SEARCH_LIMIT,
        )
        results, total = found.items, found.total
    labels = setup.slot_labels(doc)
    done = request.query_params.get("done", "")
    return render(
        request,
        "organizer_participants.html",
        status,
        event=event,
        people=people,
        present=present,
        groups=setup.groups_of(doc),
        slot_count=len(labels),
        results=results,
        total=total,
        searched=searched,
        q=q,
        kind=kind,
        cluster=cluster,
        kinds=KINDS,
        clusters=directory.clusters(session),
        list_errors=list_errors or [],
        list_file_error=list_file_error,
        add_error=add_error,
        done=done if done in _DONE else "",
        n=request.query_params.get("n", ""),
        m=request.query_params.get("m", ""),
    )


@router.get("/events/{event_id}/participants", response_class=HTMLResponse)
def participants_page(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    q: str = "",
    kind: str = "",
    cluster: str = "",
) -> Response:
    event = event_for(session, viewer, event_id)
    return _page(
        request, session, viewer, event,
        q=q.strip()[:MAX_NAME_QUERY], kind=kind[:40], cluster=cluster.strip()[:200],
    )  # fmt: skip


@router.post("/events/{event_id}/participants/add", response_class=HTMLResponse)
def participants_add(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    profile_ids: Annotated[list[str] | None, Form()] = None,
    group: FormText = "",
    q: FormText = "",
    kind: FormText = "",
    cluster: FormText = "",
) -> Response:
    event = event_for(session, viewer, event_id)
    chosen = [p[:200] for p in (profile_ids or [])][:1000]
    back = {"q": q.strip()[:MAX_NAME_QUERY], "kind": kind[:40], "cluster": cluster.strip()[:200]}

    def again(code: str) -> Response:
        return _page(
            request, session, viewer, event, status=400, add_error=code,
            q=back["q"], kind=back["kind"], cluster=back["cluster"],
        )  # fmt: skip

    if not chosen:
        return again("organizer.participants.error.none")
    if group not in setup.groups_of(event.data):
        return again("organizer.participants.error.group")
    try:
        added, _ = participants.add_profiles(session, viewer.principal, event.id, chosen, group)
    except ValidationFailed:
        return again("organizer.participants.error.invalid")
    query = urlencode({"done": "added", "n": len(added), **{k: v for k, v in back.items() if v}})
    return RedirectResponse(f"{_base(event)}?{query}", status_code=303)


@router.post("/events/{event_id}/participants/upload", response_class=HTMLResponse)
def participants_upload(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    file: Annotated[UploadFile | None, File()] = None,
) -> Response:
    event = event_for(session, viewer, event_id)
    if file is None or not file.filename:
        return _page(
            request,
            session,
            viewer,
            event,
            status=400,
            list_file_error="organizer.participants.error.no_file",
        )
    data = file.file.read(participants.MAX_LIST_BYTES + 1)
    try:
        parsed = participants.parse_list(
            session, data, groups=setup.groups_of(event.data), slots=int(event.data.get("slots", 1))
        )
    except ImportFormatError as exc:
        return _page(
            request, session, viewer, event, status=400,
            list_file_error="organizer.participants.error.unreadable",
            list_errors=[{"row": "", "field": "", "code": "file", "params": {"detail": str(exc)}}],
        )  # fmt: skip
    if parsed.problems:
        rows = [
            {"row": p.row, "field": p.field or "", "code": p.code, "params": p.params}
            for p in parsed.problems
        ]
        return _page(
            request, session, viewer, event, status=400,
            list_file_error="organizer.participants.error.bad_rows", list_errors=rows,
        )  # fmt: skip
    try:
        added, updated = participants.add_list(session, viewer.principal, event.id, parsed.rows)
    except ValidationFailed as exc:
        reasons = [
            {
                "row": "",
                "field": str(e.get("field") or ""),
                "code": "file",
                "params": {"detail": str(e.get("reason"))},
            }
            for e in exc.extra.get("errors", [])
        ]
        return _page(
            request, session, viewer, event, status=400,
            list_file_error="organizer.participants.error.invalid", list_errors=reasons,
        )  # fmt: skip
    query = urlencode({"done": "uploaded", "n": added, "m": updated})
    return RedirectResponse(f"{_base(event)}?{query}", status_code=303)


def _participant(event: EventRow, participant_id: str) -> dict[str, Any]:
    for p in event.data.get("participants", []):
        if p["id"] == participant_id:
            return dict(p)
    raise NotFound("no such participant")


def _edit_page(
    request: Request,
    event: EventRow,
    person: dict[str, Any],
    values: dict[str, Any],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
) -> Response:
    return render(
        request,
        "organizer_participant.html",
        status,
        event=event,
        person=person,
        values=values,
        groups=setup.groups_of(event.data),
        slot_labels=setup.slot_labels(event.data),
        errors=errors or {},
    )


@router.get("/events/{event_id}/participants/{participant_id}/edit", response_class=HTMLResponse)
def participant_page(
    request: Request, viewer: Organizer, session: SessionDep, event_id: str, participant_id: str
) -> Response:
    event = event_for(session, viewer, event_id)
    person = _participant(event, participant_id)
    slots = int(event.data.get("slots", 0))
    available = person.get("available")
    values = {
        "group": person.get("group") or "participant",
        "min": str(person.get("min", 0)),
        "max": "" if person.get("max") is None else str(person["max"]),
        "available": set(range(slots)) if available is None else set(available),
    }
    return _edit_page(request, event, person, values)


def _count(text: str, errors: dict[str, str], name: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or len(text) > 4 or int(text) > MAX_MEETINGS:
        errors[name] = "organizer.participants.error.count"
        return None
    return int(text)


@router.post("/events/{event_id}/participants/{participant_id}/edit", response_class=HTMLResponse)
def participant_save(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    participant_id: str,
    group: FormText = "",
    min: FormText = "",
    max: FormText = "",
    available: Annotated[list[str] | None, Form()] = None,
) -> Response:
    event = event_for(session, viewer, event_id)
    person = _participant(event, participant_id)
    slots = int(event.data.get("slots", 0))
    chosen = {int(s) for s in available or [] if s.isdigit() and int(s) < slots}
    values = {"group": group, "min": min[:10], "max": max[:10], "available": chosen}
    errors: dict[str, str] = {}
    if group not in setup.groups_of(event.data):
        errors["group"] = "organizer.participants.error.group"
    low = _count(min or "0", errors, "min")
    high = _count(max, errors, "max") if max.strip() else None
    if low is not None and high is not None and low > high:
        errors["min"] = "organizer.participants.error.min_over_max"
    if not chosen:
        errors["available"] = "organizer.participants.error.no_slots"
    elif low is not None and low > len(chosen):
        errors["min"] = "organizer.participants.error.min_over_slots"
    if not errors:
        try:
            participants.update(
                session, viewer.principal, event.id, participant_id,
                group=group, low=low or 0, high=high,
                available=None if len(chosen) == slots else sorted(chosen),
            )  # fmt: skip
        except ValidationFailed as exc:
            for item in exc.extra.get("errors", []):
                path = str(item.get("field") or "")
                name = "available" if "available" in path else "max" if "max" in path else "min"
                errors.setdefault(name, "organizer.participants.error.invalid")
        else:
            return RedirectResponse(f"{_base(event)}?done=saved", status_code=303)
    return _edit_page(request, event, person, values, status=400, errors=errors)


@router.post("/events/{event_id}/participants/{participant_id}/remove")
def participant_remove(
    request: Request, viewer: Organizer, session: SessionDep, event_id: str, participant_id: str
) -> Response:
    event = event_for(session, viewer, event_id)
    _participant(event, participant_id)
    dropped = participants.remove(session, viewer.principal, event.id, participant_id)
    return RedirectResponse(f"{_base(event)}?done=removed&n={dropped}", status_code=303)
