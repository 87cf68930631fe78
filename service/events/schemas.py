"""What the API answers about events."""

from __future__ import annotations

from typing import Any

from models.events import parse_event
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
