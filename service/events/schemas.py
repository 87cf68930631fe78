"""What the API answers about events."""

from __future__ import annotations

from typing import Any

from service.store.tables import EventRow, iso_utc


def event_out(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "event": row.data,
        "schedule": row.schedule,
        "created_at": iso_utc(row.created_at),
        "updated_at": iso_utc(row.updated_at),
    }


def event_summary(row: EventRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "name": row.name,
        "participants": len(row.data.get("participants", [])),
        "scheduled": row.schedule is not None,
    }
