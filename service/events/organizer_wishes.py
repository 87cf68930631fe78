"""Wishes an organizer enters for any participant of an event (`from` asks to meet `to`:
must / want, or refuses: no), and their removal; the organizer's overrides listed with
them can be removed here too.

The deadline for wishes (`wish_deadline`) binds participants only: the organizer may
enter wishes at any time. A new wish goes through the API's validation
(`service.events.service.replace`): a second wish from A to B with another level, a wish
to oneself, or a `no` against an organizer's must / a locked meeting raises
`ValidationFailed`, whose errors name the new wish's path (`wishes[N]`) or the item it
contradicts.
"""

from __future__ import annotations

from typing import Any

from models.events.model import DEFAULT_PRIORITY, Level
from service.auth import Principal
from service.events import service
from service.store.db import Session
from service.store.tables import EventRow


def _store(session: Session, caller: Principal, row: EventRow, doc: dict[str, Any]) -> EventRow:
    return service.replace(session, caller, row.id, {**doc, "name": row.name})


def add(
    session: Session,
    caller: Principal,
    event_id: str,
    source: str,
    target: str,
    level: Level,
    priority: int = DEFAULT_PRIORITY,
) -> int:
    """Append the wish; its index in the document's `wishes`. Raises `ValidationFailed`
    (see the module docstring); the same wish given again is a no-op."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    wishes = [dict(w) for w in doc.get("wishes") or []]
    for i, w in enumerate(wishes):
        same = (w.get("from"), w.get("to"), w.get("level")) == (source, target, level)
        if same and w.get("priority", DEFAULT_PRIORITY) == priority:
            return i
    wishes.append({"from": source, "to": target, "level": level, "priority": priority})
    doc["wishes"] = wishes
    _store(session, caller, row, doc)
    return len(wishes) - 1


def remove(
    session: Session, caller: Principal, event_id: str, source: str, target: str, level: str
) -> bool:
    """Remove the wish from `source` to `target` at `level`; False when there is none."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    wishes = list(doc.get("wishes") or [])
    for i, w in enumerate(wishes):
        if (w.get("from"), w.get("to"), w.get("level")) == (source, target, level):
            del wishes[i]
            doc["wishes"] = wishes
            _store(session, caller, row, doc)
            return True
    return False


def remove_override(session: Session, caller: Principal, event_id: str, a: str, b: str) -> bool:
    """Remove the organizer's override on the pair a–b; False when there is none."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    overrides = list(doc.get("overrides") or [])
    kept = [o for o in overrides if {o.get("a"), o.get("b")} != {a, b}]
    if len(kept) == len(overrides):
        return False
    doc["overrides"] = kept
    _store(session, caller, row, doc)
    return True
