"""Locking a scheduled meeting where it is, and unlocking it.

A lock is an entry of the event document's `locked` list ({a, b, slot, table}): every
later solve and re-plan keeps the meeting exactly there (models.events). Locks are
written through `service.replace`, so the document is validated as on every write (a
lock that contradicts the event's rules is refused with the model's reasons).
"""

from __future__ import annotations

from typing import Any

from models.events import Meeting, parse_previous
from service.auth import Principal
from service.errors import NotFound
from service.events import service as events
from service.store.db import Session


def _scheduled(session: Session, caller: Principal, event_id: str, a: str, b: str) -> Meeting:
    row = events.get(session, caller, event_id)
    if row.schedule is None:
        raise NotFound("the event has no schedule yet")
    meetings, _ = parse_previous(row.schedule)
    pair = frozenset((a, b))
    found = next((m for m in meetings if m.pair == pair), None)
    if found is None:
        raise NotFound(f"no meeting of {a!r} and {b!r} in the schedule")
    return found


def _without(items: list[Any], pair: frozenset[str]) -> list[Any]:
    return [
        item
        for item in items
        if not (isinstance(item, dict) and frozenset((item.get("a"), item.get("b"))) == pair)
    ]


def lock(session: Session, caller: Principal, event_id: str, a: str, b: str) -> Meeting:
    """Lock the scheduled meeting of `a` and `b` at its slot and table (replacing an
    earlier lock of the pair). Raises NotFound, or ValidationFailed from the document's
    validation."""
    m = _scheduled(session, caller, event_id, a, b)
    row = events.get(session, caller, event_id)
    entry: dict[str, Any] = {"a": m.a, "b": m.b, "slot": m.slot}
    if m.table is not None:
        entry["table"] = m.table
    locked = [*_without(list(row.data.get("locked", [])), m.pair), entry]
    events.replace(session, caller, event_id, {**row.data, "name": row.name, "locked": locked})
    return m


def unlock(session: Session, caller: Principal, event_id: str, a: str, b: str) -> bool:
    """Remove the pair's lock; False when it had none."""
    row = events.get(session, caller, event_id)
    before = list(row.data.get("locked", []))
    after = _without(before, frozenset((a, b)))
    if len(after) == len(before):
        return False
    events.replace(session, caller, event_id, {**row.data, "name": row.name, "locked": after})
    return True
