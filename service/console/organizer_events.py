"""Organizer pages: the events list, creating and editing an event, and its page.

An event is the API's (service.events.service): `create` / `replace` validate the
document as POST /v1/events does, and an organizer sees only its own events (admins: all)
— another organizer's event is a 404 page here as it is a 404 there. The form is the
set-up of `service.events.setup` (a day, a first slot, a slot length, a number of slots
and tables, groups and which groups meet, a wish deadline, default min / max meetings);
each problem the domain finds (`ValidationFailed` errors, by field path) is shown by the
form field it comes from, in the page's language.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from models.events.model import MAX_SLOTS, MAX_TABLES, MAX_VENUE
from service.console.deps import Viewer, require_role
from service.console.pages import ConsoleRoute, render
from service.deps import SessionDep
from service.errors import ValidationFailed
from service.events import service as events
from service.events import setup
from service.events.schemas import event_summary
from service.events.setup import EventSetup
from service.store.tables import EventRow

router = APIRouter(route_class=ConsoleRoute)
Organizer = Annotated[Viewer, require_role("admin", "organizer")]
FormText = Annotated[str, Form()]

MAX_NAME = 300
MAX_GROUPS = 10
MAX_GROUP_NAME = 40
MAX_MEETINGS = 200
FIELDS = (
    "name", "date", "venue", "time_zone", "start", "slot_minutes", "slots", "tables",
    "groups", "allow", "wish_deadline", "default_min", "default_max",
)  # fmt: skip


def event_for(session: SessionDep, viewer: Viewer, event_id: str) -> EventRow:
    """The event if the viewer may see it: the API's rule (404 otherwise)."""
    return events.get(session, viewer.principal, event_id)


# ---------------------------------------------------------------------------- the form


@dataclass
class EventForm:
    """What the form shows: the values as typed (strings), the allow pairs checked."""

    values: dict[str, str]
    allow: set[str]

    @staticmethod
    def of(found: EventSetup) -> EventForm:
        return EventForm(
            {
                "name": found.name,
                "date": found.date.isoformat(),
                "venue": found.venue,
                "time_zone": found.time_zone,
                "start": found.start.strftime("%H:%M"),
                "slot_minutes": str(found.slot_minutes),
                "slots": str(found.slots),
                "tables": str(found.tables),
                "groups": ", ".join(found.groups),
                "wish_deadline": found.wish_deadline.strftime("%Y-%m-%dT%H:%M")
                if found.wish_deadline
                else "",
                "default_min": str(found.default_min),
                "default_max": "" if found.default_max is None else str(found.default_max),
            },
            {pair_value(a, b) for a, b in found.allow},
        )


def pair_value(a: str, b: str) -> str:
    return f"{a}\u001f{b}"  # a separator no group name may hold


def split_groups(text: str) -> list[str]:
    parts = [p.strip() for p in re.split(r"[,，、;；\n]+", text)]
    return list(dict.fromkeys(p for p in parts if p))


def new_form() -> EventForm:
    today = dt.date.today() + dt.timedelta(days=30)
    groups = ["buyer", "supplier"]
    return EventForm.of(
        EventSetup(
            name="",
            date=today,
            start=dt.time(13, 0),
            slot_minutes=20,
            slots=12,
            tables=10,
            groups=groups,
            allow=[("buyer", "supplier")],
            wish_deadline=dt.datetime.combine(today - dt.timedelta(days=7), dt.time(17, 0)),
            default_min=0,
            default_max=None,
        )
    )


def _int(
    values: dict[str, str], name: str, low: int, high: int, errors: dict[str, str]
) -> int | None:
    text = values[name].strip()
    if not text:
        errors[name] = "organizer.event.error.required"
        return None
    if not re.fullmatch(r"-?\d{1,6}", text):
        errors[name] = "organizer.event.error.integer"
        return None
    value = int(text)
    if not low <= value <= high:
        errors[name] = f"organizer.event.error.range.{name}"
        return None
    return value


def parse_form(
    values: dict[str, str], allow: list[str]
) -> tuple[EventSetup | None, dict[str, str]]:
    """The set-up the form describes, or None and the errors by field (message keys)."""
    errors: dict[str, str] = {}
    name = values["name"].strip()
    if not name:
        errors["name"] = "organizer.event.error.required"
    elif len(name) > MAX_NAME:
        errors["name"] = "organizer.event.error.too_long"
    date = None
    try:
        date = dt.date.fromisoformat(values["date"].strip())
    except ValueError:
        errors["date"] = "organizer.event.error.date"
    venue = values["venue"].strip()
    if len(venue) > MAX_VENUE:
        errors["venue"] = "organizer.event.error.too_long"
    if values["time_zone"] not in setup.TIME_ZONES:
        errors["time_zone"] = "organizer.event.error.time_zone"
    start = None
    try:
        start = dt.time.fromisoformat(values["start"].strip())
    except ValueError:
        errors["start"] = "organizer.event.error.time"
    slot_minutes = _int(values, "slot_minutes", 5, 240, errors)
    slots = _int(values, "slots", 1, MAX_SLOTS, errors)
    tables = _int(values, "tables", 1, MAX_TABLES, errors)
    groups = split_groups(values["groups"])
    if len(groups) > MAX_GROUPS:
        errors["groups"] = "organizer.event.error.groups_many"
    elif any(len(g) > MAX_GROUP_NAME or "\u001f" in g for g in groups):
        errors["groups"] = "organizer.event.error.group_long"
    pairs: list[tuple[str, str]] = []
    known = {pair_value(a, b): (a, b) for a, b in setup.group_pairs(groups)}
    for value in allow:
        if value in known:
            pairs.append(known[value])
    if len(groups) > 1 and not pairs and "groups" not in errors:
        errors["allow"] = "organizer.event.error.allow_none"
    deadline = None
    if values["wish_deadline"].strip():
        try:
            deadline = dt.datetime.fromisoformat(values["wish_deadline"].strip())
            deadline = deadline.replace(tzinfo=None, second=0, microsecond=0)
        except ValueError:
            errors["wish_deadline"] = "organizer.event.error.datetime"
    low = _int(values, "default_min", 0, MAX_MEETINGS, errors)
    high = None
    if values["default_max"].strip():
        high = _int(values, "default_max", 0, MAX_MEETINGS, errors)
    if low is not None and high is not None and low > high:
        errors["default_min"] = "organizer.event.error.min_over_max"
    if (
        deadline is not None
        and date is not None
        and start is not None
        and deadline > dt.datetime.combine(date, start)
    ):
        errors["wish_deadline"] = "organizer.event.error.deadline_after"
    if errors or date is None or start is None or slot_minutes is None or slots is None:
        return None, errors
    assert tables is not None and low is not None
    return (
        EventSetup(
            name=name,
            date=date,
            start=start,
            slot_minutes=slot_minutes,
            slots=slots,
            tables=tables,
            groups=groups,
            allow=pairs,
            venue=venue,
            time_zone=values["time_zone"],
            wish_deadline=deadline,
            default_min=low,
            default_max=high,
        ),
        errors,
    )


# The domain's field paths -> the form's fields and the message shown there.
_PATHS: list[tuple[re.Pattern[str], str, str]] = [
    (re.compile(r"^name$"), "name", "organizer.event.error.name"),
    (re.compile(r"^slots$"), "slots", "organizer.event.error.slots"),
    (re.compile(r"^slot_times"), "start", "organizer.event.error.slot_times"),
    (re.compile(r"^slot_minutes"), "slot_minutes", "organizer.event.error.slot_minutes"),
    (re.compile(r"^timezone"), "time_zone", "organizer.event.error.time_zone"),
    (re.compile(r"^venue"), "venue", "organizer.event.error.too_long"),
    (re.compile(r"^wish_deadline"), "wish_deadline", "organizer.event.error.datetime"),
    (re.compile(r"^tables"), "tables", "organizer.event.error.tables"),
    (re.compile(r"^allow"), "allow", "organizer.event.error.allow"),
    (re.compile(r"^participants\[\d+\]\.available"), "slots", "organizer.event.error.availability"),
    (re.compile(r"^locked"), "slots", "organizer.event.error.locked"),
]


def map_problems(exc: ValidationFailed, errors: dict[str, str]) -> list[str]:
    """Put the domain's errors on the form's fields; the reasons no field takes."""
    rest: list[str] = []
    for item in exc.extra.get("errors", []):
        path = str(item.get("field") or "")
        for pattern, name, key in _PATHS:
            if pattern.match(path):
                errors.setdefault(name, key)
                break
        else:
            rest.append(f"{path}: {item.get('reason')}" if path else str(item.get("reason")))
    return rest


def _form_page(
    request: Request,
    form: EventForm,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    others: list[str] | None = None,
    row: EventRow | None = None,
) -> Response:
    groups = split_groups(form.values["groups"])
    return render(
        request,
        "organizer_event_form.html",
        status,
        form=form.values,
        allow=form.allow,
        pairs=[(pair_value(a, b), a, b) for a, b in setup.group_pairs(groups[:MAX_GROUPS])],
        time_zones=setup.TIME_ZONES,
        errors=errors or {},
        others=others or [],
        event=row,
    )


def _values(**given: str) -> dict[str, str]:
    return {k: (v or "")[:2000] for k, v in given.items()}


@router.get("/events", response_class=HTMLResponse)
def event_list(request: Request, viewer: Organizer, session: SessionDep) -> Response:
    rows = events.listing(session, viewer.principal)
    items = []
    for row in reversed(rows):  # newest first
        found = setup.setup_of(row.name, row.data)
        items.append({**event_summary(row), "date": found.date, "venue": found.venue})
    return render(request, "organizer_events.html", items=items)


@router.get("/events/new", response_class=HTMLResponse)
def event_new(request: Request, viewer: Organizer) -> Response:
    return _form_page(request, new_form())


def _submitted(
    name: str, date: str, venue: str, time_zone: str, start: str, slot_minutes: str,
    slots: str, tables: str, groups: str, wish_deadline: str, default_min: str,
    default_max: str,
) -> dict[str, str]:  # fmt: skip
    return _values(
        name=name, date=date, venue=venue, time_zone=time_zone, start=start,
        slot_minutes=slot_minutes, slots=slots, tables=tables, groups=groups,
        wish_deadline=wish_deadline, default_min=default_min, default_max=default_max,
    )  # fmt: skip


@router.post("/events/new", response_class=HTMLResponse)
def event_create(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    name: FormText = "",
    date: FormText = "",
    venue: FormText = "",
    time_zone: FormText = "",
    start: FormText = "",
    slot_minutes: FormText = "",
    slots: FormText = "",
    tables: FormText = "",
    groups: FormText = "",
    allow: Annotated[list[str] | None, Form()] = None,
    wish_deadline: FormText = "",
    default_min: FormText = "",
    default_max: FormText = "",
    refresh: FormText = "",
) -> Response:
    values = _submitted(
        name, date, venue, time_zone, start, slot_minutes, slots, tables, groups,
        wish_deadline, default_min, default_max,
    )  # fmt: skip
    form = EventForm(values, set(allow or []))
    if refresh:  # "update the pairs" after changing the groups: the form again, unsaved
        return _form_page(request, form)
    found, errors = parse_form(values, list(allow or []))
    others: list[str] = []
    if found is not None:
        try:
            row = events.create(
                session, viewer.principal, {**setup.document(found), "name": found.name}
            )
        except ValidationFailed as exc:
            others = map_problems(exc, errors)
        else:
            return RedirectResponse(f"/console/events/{row.id}?done=created", status_code=303)
    return _form_page(request, form, status=400, errors=errors, others=others)


@router.get("/events/{event_id}/edit", response_class=HTMLResponse)
def event_edit(request: Request, viewer: Organizer, session: SessionDep, event_id: str) -> Response:
    row = event_for(session, viewer, event_id)
    return _form_page(request, EventForm.of(setup.setup_of(row.name, row.data)), row=row)


@router.post("/events/{event_id}/edit", response_class=HTMLResponse)
def event_update(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    name: FormText = "",
    date: FormText = "",
    venue: FormText = "",
    time_zone: FormText = "",
    start: FormText = "",
    slot_minutes: FormText = "",
    slots: FormText = "",
    tables: FormText = "",
    groups: FormText = "",
    allow: Annotated[list[str] | None, Form()] = None,
    wish_deadline: FormText = "",
    default_min: FormText = "",
    default_max: FormText = "",
    refresh: FormText = "",
) -> Response:
    row = event_for(session, viewer, event_id)
    values = _submitted(
        name, date, venue, time_zone, start, slot_minutes, slots, tables, groups,
        wish_deadline, default_min, default_max,
    )  # fmt: skip
    form = EventForm(values, set(allow or []))
    if refresh:
        return _form_page(request, form, row=row)
    found, errors = parse_form(values, list(allow or []))
    others: list[str] = []
    if found is not None:
        stale = _participants_outside(row.data, found.groups)
        if stale:
            errors["groups"] = "organizer.event.error.group_in_use"
        else:
            try:
                events.replace(
                    session,
                    viewer.principal,
                    row.id,
                    {**setup.document(found, row.data), "name": found.name},
                )
            except ValidationFailed as exc:
                others = map_problems(exc, errors)
            else:
                return RedirectResponse(f"/console/events/{row.id}?done=saved", status_code=303)
    return _form_page(request, form, status=400, errors=errors, others=others, row=row)


def _participants_outside(doc: dict[str, Any], groups: list[str]) -> list[str]:
    """Participants whose group the new set-up drops (they would meet nobody)."""
    if len(groups) <= 1:
        return []
    return [p["id"] for p in doc.get("participants", []) if p.get("group") not in groups]


_DONE = {"created", "saved", "deleted"}


@router.get("/events/{event_id}", response_class=HTMLResponse)
def event_page(
    request: Request, viewer: Organizer, session: SessionDep, event_id: str, done: str = ""
) -> Response:
    row = event_for(session, viewer, event_id)
    doc = row.data
    found = setup.setup_of(row.name, doc)
    people = doc.get("participants", [])
    by_group: dict[str, int] = {}
    for p in people:
        by_group[p.get("group") or "participant"] = (
            by_group.get(p.get("group") or "participant", 0) + 1
        )
    overrides = doc.get("overrides") or []
    levels = {
        lvl: sum(1 for o in overrides if o.get("level") == lvl) for lvl in ("must", "want", "no")
    }
    wishes = doc.get("wishes") or []
    return render(
        request,
        "organizer_event.html",
        event=row,
        setup=found,
        slot_labels=setup.slot_labels(doc),
        allow=doc.get("allow"),
        people=people[:12],
        participant_count=len(people),
        by_group=by_group,
        wish_count=len(wishes),
        wish_levels={
            lvl: sum(1 for w in wishes if w.get("level") == lvl) for lvl in ("must", "want", "no")
        },
        suggestion_count=len(doc.get("suggestions") or []),
        decided=levels,
        scheduled=row.schedule is not None,
        done=done if done in _DONE else "",
    )


@router.post("/events/{event_id}/delete")
def event_delete(
    request: Request,
    viewer: Organizer,
    session: SessionDep,
    event_id: str,
    confirm: FormText = "",
) -> Response:
    row = event_for(session, viewer, event_id)
    if confirm != row.id:
        return RedirectResponse(f"/console/events/{row.id}", status_code=303)
    events.delete(session, viewer.principal, row.id)
    return RedirectResponse("/console/events?done=deleted", status_code=303)
