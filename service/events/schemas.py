"""What the API answers about events, and the schema of what it takes: the event
document (POST and PUT /v1/events) and a re-plan's changes, as JSON Schema for the OpenAPI
document."""

from __future__ import annotations

import sys
import zoneinfo
from typing import Any

from models.events import model, parse_event
from service.events import service, setup
from service.events.staleness import stale_reasons, stale_summary
from service.store.tables import EventRow, iso_utc


def event_out(row: EventRow) -> dict[str, Any]:
    """The event; `schedule_stale` says why its schedule no longer fits the document (an
    edit since the solve: service.events.staleness), null while it fits."""
    reasons = stale_reasons(parse_event(row.data), row.schedule) if row.schedule else []
    return {
        "id": row.id,
        "name": row.name,
        "event": row.data,
        "schedule": row.schedule,
        "schedule_stale": stale_summary(row.id, reasons),
        "office": row.office,
        "created_at": iso_utc(row.created_at),
        "updated_at": iso_utc(row.updated_at),
    }


def event_summary(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "participants": len(row.data.get("participants", [])),
        "scheduled": row.schedule is not None,
        "office": row.office,
    }


# ------------------------------------------------------------------- the request bodies


def _blank_class() -> str:
    """What Python's str.strip() removes, as a regex class body (\\uXXXX ranges, which
    ECMA-262 and Python read alike)."""
    spaces = [c for c in range(sys.maxunicode + 1) if chr(c).isspace()]
    runs: list[tuple[int, int]] = []
    for c in spaces:
        if runs and runs[-1][1] == c - 1:
            runs[-1] = (runs[-1][0], c)
        else:
            runs.append((c, c))
    return "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}" for a, b in runs)


NON_BLANK = f"[^{_blank_class()}]"
"""A text with something left once trimmed (the parser strips ids and names)."""

DIGIT = "[0-9]"
DAY = "((0[1-9]|1[0-2])-(0[1-9]|[12][0-9])|(0[13-9]|1[0-2])-30|(0[13578]|1[02])-31)"
"""A month and a day of it (the 29th of February in any year)."""
DATE_TIME = (
    f"^(19|2{DIGIT}){DIGIT}{{2}}-{DAY}"
    f"([T ]([01]{DIGIT}|2[0-3]):[0-5]{DIGIT}(:[0-5]{DIGIT}(\\.{DIGIT}{{1,6}})?)?"
    f"(Z|[+-]([01]{DIGIT}|2[0-3]):[0-5]{DIGIT})?)?$"
)
"""An ISO 8601 date-time as the parser reads it (datetime.fromisoformat), in the years
models.events.model.YEARS allows: `2026-06-10T13:00`, with seconds, a fraction, `Z` or
an offset. (Digits as [0-9]: a regex's \\d also takes other scripts' digits.) The one
date it admits and the parser refuses: the 29th of February of a common year."""


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    return {"anyOf": [schema, {"type": "null"}]}


def _object(
    properties: dict[str, Any], required: tuple[str, ...] = (), description: str = ""
) -> dict[str, Any]:
    schema: dict[str, Any] = {
        "type": "object",
        "properties": properties,
        "additionalProperties": False,
    }
    if required:
        schema["required"] = list(required)
    if description:
        schema["description"] = description
    return schema


def _array(items: dict[str, Any], most: int, **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, "maxItems": most, **extra}


def _count(low: int, description: str = "") -> dict[str, Any]:
    schema = {"type": "integer", "minimum": low, "maximum": model.MAX_COUNT}
    return _nullable(schema | ({"description": description} if description else {}))


def _id(description: str = "") -> dict[str, Any]:
    schema = {"type": "string", "minLength": 1, "maxLength": model.MAX_ID, "pattern": NON_BLANK}
    return schema | ({"description": description} if description else {})


def _document_parts() -> dict[str, dict[str, Any]]:
    """The pieces of the event file format (models.events) as JSON Schema, from the
    limits its parser checks (models.events.model) and those the service checks before it
    (service.events.service): the same constants, so that neither can move alone."""
    wishes = service.MAX_WISHES
    text = {"type": "string"}
    slot = {"type": "integer", "minimum": 0, "maximum": model.MAX_SLOTS - 1}
    slots = _nullable(
        _array(
            slot,
            model.MAX_SLOTS,
            uniqueItems=True,
            description="slot indexes (0: the first); null or absent: every slot",
        )
    )
    level = {"type": "string", "enum": list(model.LEVELS)}
    priority = _nullable(
        {"type": "integer", "minimum": 1, "maximum": 5, "description": "1: first choice"}
    )
    pair = {
        "anyOf": [
            _array(_id(), 2, minItems=2),
            _object({"a": _id(), "b": _id()}, ("a", "b")),
        ]
    }
    participant = _object(
        {
            "id": _id(),
            "name": _nullable(text),
            "group": _nullable(_id(f"default {model.DEFAULT_GROUP!r}")),
            "available": slots,
            "min": _count(0, "meetings at least"),
            "max": _count(0, "meetings at most; null: as many as its slots allow"),
            "attendees": _count(1, "meetings it can hold at once (default 1)"),
            "party_size": _count(1, "seats it takes at each meeting (default 1)"),
            "profile_id": _nullable(_id("its profile (suggestions, agendas)")),
        },
        ("id",),
    )
    wish = _object(
        {"from": _id(), "to": _id(), "level": level, "priority": priority},
        ("from", "to", "level"),
    )
    suggestion = _object(
        {
            "a": _id(),
            "b": _id(),
            "score": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.5},
            "reason": _nullable(text),
        },
        ("a", "b"),
    )
    meeting = _object(
        {"a": _id(), "b": _id(), "slot": slot, "table": _nullable(_id())}, ("a", "b", "slot")
    )
    date_time = {"type": "string", "pattern": DATE_TIME}
    return {
        "pair": pair,
        "participant": participant,
        "wish": wish,
        "suggestion": suggestion,
        "meeting": meeting,
        "slots": slots,
        "date_time": date_time,
        "table": _object(
            {
                "id": _id(),
                "name": _nullable(text),
                "capacity": _count(2, "seats; null: any meeting fits"),
                "available": slots,
            },
            ("id",),
        ),
        "override": _object(
            {"a": _id(), "b": _id(), "level": level, "priority": priority}, ("a", "b", "level")
        ),
        "slot_time": {
            "anyOf": [
                date_time,
                _object({"start": date_time, "end": _nullable(date_time)}, ("start",)),
            ]
        },
        "changes": _object(
            {
                "no_shows": _array(_id(), service.MAX_PARTICIPANTS),
                "late": _array(participant, service.MAX_PARTICIPANTS),
                "wishes": _array(wish, wishes),
                "suggestions": _array(suggestion, wishes),
                "availability": {
                    "type": "object",
                    "additionalProperties": slots,
                    "description": "a participant's id: its available slots from now on",
                },
                "cancelled_slots": slots,
                "locked": _array(meeting, wishes),
            },
            description="what changed since the schedule was made (models.events.replan)",
        ),
    }


def event_document_schema() -> dict[str, Any]:
    """The event document as the API takes it (POST and PUT /v1/events): the file format
    of models.events, with the name it needs. The parser's own checks are stated here:
    types, ranges, lengths, enums, list sizes, unknown keys refused. What JSON Schema
    cannot say is checked too and answered 422 with the field: ids that refer to a
    participant or a table, duplicate ids, one slot time per slot, min <= max, a lock
    that fits, a real calendar day. A file's `previous` and `changes` are not taken
    (the re-plan route takes changes)."""
    parts = _document_parts()
    wishes = service.MAX_WISHES
    pairs = _array(parts["pair"], wishes)
    return _object(
        {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": service.MAX_NAME,
                "pattern": NON_BLANK,
                "description": "the event's name (agendas, exports, pages)",
            },
            "id": _nullable(_id("the file's own id; the API's is the event's")),
            "slots": {"type": "integer", "minimum": 1, "maximum": model.MAX_SLOTS},
            "tables": {
                "anyOf": [
                    {
                        "type": "integer",
                        "minimum": 1,
                        "maximum": model.MAX_TABLES,
                        "description": "so many interchangeable tables, T1, T2 ...",
                    },
                    _array(parts["table"], model.MAX_TABLES, minItems=1),
                ]
            },
            "participants": _array(parts["participant"], service.MAX_PARTICIPANTS),
            "allow": _nullable(
                _array(
                    parts["pair"],
                    wishes,
                    description="pairs of groups that may meet; null: any with any",
                )
            ),
            "blocked": pairs,
            "met_before": pairs,
            "allow_repeat": {"type": "boolean", "default": False},
            "wishes": _array(parts["wish"], wishes),
            "overrides": _array(parts["override"], wishes),
            "suggestions": _array(parts["suggestion"], wishes),
            "locked": _array(parts["meeting"], wishes),
            "timezone": {
                "type": "string",
                "enum": sorted(zoneinfo.available_timezones()),
                "default": "UTC",
                "description": "IANA time zone of the times without an offset",
            },
            "slot_minutes": _nullable(
                {
                    "type": "integer",
                    "minimum": 1,
                    "maximum": model.MAX_SLOT_MINUTES,
                    "default": model.DEFAULT_SLOT_MINUTES,
                }
            ),
            "slot_times": _nullable(
                _array(
                    parts["slot_time"],
                    model.MAX_SLOTS,
                    description="one per slot, in order: a start, or {start, end}",
                )
            ),
            "wish_deadline": _nullable(parts["date_time"]),
            "venue": {"type": "string", "maxLength": model.MAX_VENUE},
            "program": {"type": "string", "maxLength": model.MAX_PROGRAM},
            "follow_up_months": _nullable(
                _array(
                    {"type": "integer", "minimum": 1, "maximum": model.MAX_FOLLOW_UP_MONTHS},
                    model.MAX_FOLLOW_UPS,
                    uniqueItems=True,
                    description="follow-up rounds, months after the event",
                )
            ),
            "setup": _nullable(
                _object(
                    {
                        "groups": _nullable(_array(_id(), setup.MAX_SETUP_GROUPS)),
                        "default_min": _count(0),
                        "default_max": _count(0),
                    },
                    description="the console's set-up (groups, defaults for new participants)",
                )
            ),
            "pinned": _array(parts["pair"], wishes, description="the console's bookmarks"),
        },
        ("name", "slots", "tables"),
    )


def event_body() -> dict[str, Any]:
    """`openapi_extra=` of POST and PUT /v1/events: the routes read the JSON themselves
    (service.events.service names the nearest key of an unknown one), so FastAPI would
    declare any object."""
    schema = event_document_schema()
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


def replan_body() -> dict[str, Any]:
    """`openapi_extra=` of POST /v1/events/{id}/replan."""
    schema = _object(
        {
            "changes": _nullable(_document_parts()["changes"]),
            "announced": {
                "type": "boolean",
                "default": True,
                "description": "the current meetings were announced: keep them where possible",
            },
        }
    )
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}
