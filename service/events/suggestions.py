"""An organizer's work on an event's suggested pairs: generate them from matching, then
accept, reject or pin each.

- Generating replaces the event's `suggestions` with the matching engine's (only pairs
  the event's rules let meet, see `service.events.rules`), keeping the pinned ones.
- Accept (want or must) and reject write an **override** `{a, b, level}`: the
  organizer's word on a pair, which models.events weighs above both participants' own
  wishes (`must` as "organizer must", `no` forbids the pair). An override and not a
  wish, because the request is the organizer's, not one participant's: a wish has a
  `from` and would put words in that participant's mouth (and show on its own wish
  page), and two one-sided wishes would count as a "mutual want" the firms never said.
  Undo removes the override.
- Pin marks a pair to keep at the top of the list and through re-generation: the
  console-owned `pinned` list of the document (`[[a, b], ...]`, ignored by the solver).
  A pin is a bookmark, not a request: the schedule changes only on accept.

Every change goes through `service.events.service.replace` (the API's validation): an
accept that contradicts a `no` wish or a blocked pair raises `ValidationFailed`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from models.matching import Lang
from service.auth import Principal
from service.engine import Engine
from service.events import service
from service.matching.service import require_ready
from service.store.db import Session
from service.store.tables import EventRow

Decision = Literal["want", "must", "no"]
PINNED_KEY = "pinned"


def _pair(a: str, b: str) -> frozenset[str]:
    return frozenset((a, b))


def pinned_pairs(doc: dict[str, Any]) -> set[frozenset[str]]:
    out: set[frozenset[str]] = set()
    for item in doc.get(PINNED_KEY) or []:
        if isinstance(item, list | tuple) and len(item) == 2:
            out.add(_pair(str(item[0]), str(item[1])))
    return out


def overrides_by_pair(doc: dict[str, Any]) -> dict[frozenset[str], str]:
    return {
        _pair(o["a"], o["b"]): o["level"]
        for o in doc.get("overrides") or []
        if isinstance(o, dict) and "a" in o and "b" in o
    }


@dataclass(frozen=True)
class SuggestionView:
    a: str
    b: str
    score: float
    reason: str
    decision: str | None  # the override's level, if any
    pinned: bool


def listing(row: EventRow) -> list[SuggestionView]:
    """The event's suggestions: pinned first, then by score."""
    doc = row.data
    pins = pinned_pairs(doc)
    decided = overrides_by_pair(doc)
    views = [
        SuggestionView(
            s["a"],
            s["b"],
            float(s.get("score", 0.0)),
            str(s.get("reason") or ""),
            decided.get(_pair(s["a"], s["b"])),
            _pair(s["a"], s["b"]) in pins,
        )
        for s in doc.get("suggestions") or []
    ]
    return sorted(views, key=lambda v: (not v.pinned, -v.score))


def _store(session: Session, caller: Principal, row: EventRow, doc: dict[str, Any]) -> EventRow:
    return service.replace(session, caller, row.id, {**doc, "name": row.name})


def generate(
    session: Session,
    engine: Engine,
    caller: Principal,
    event_id: str,
    per_participant: int,
    lang: Lang = "en",
) -> int:
    """New suggestions from matching (pinned ones kept); how many there are now."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    found = service.suggest_pairs(require_ready(engine), doc, per_participant, lang)
    pins = pinned_pairs(doc)
    fresh = {_pair(s["a"], s["b"]) for s in found}
    kept = [
        s
        for s in doc.get("suggestions") or []
        if _pair(s["a"], s["b"]) in pins and _pair(s["a"], s["b"]) not in fresh
    ]
    doc["suggestions"] = kept + found
    _store(session, caller, row, doc)
    return len(doc["suggestions"])


def decide(
    session: Session,
    caller: Principal,
    event_id: str,
    a: str,
    b: str,
    decision: Decision | None,
) -> EventRow:
    """Accept (want / must) or reject (no) the pair a–b as an override; None: undo."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    key = _pair(a, b)
    overrides = [
        o
        for o in doc.get("overrides") or []
        if not (isinstance(o, dict) and _pair(o["a"], o["b"]) == key)
    ]
    if decision is not None:
        overrides.append({"a": a, "b": b, "level": decision})
    doc["overrides"] = overrides
    return _store(session, caller, row, doc)


def pin(session: Session, caller: Principal, event_id: str, a: str, b: str, on: bool) -> EventRow:
    """Pin (on) or unpin the suggested pair a–b."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    key = _pair(a, b)
    pins = [p for p in doc.get(PINNED_KEY) or [] if _pair(str(p[0]), str(p[1])) != key]
    if on:
        pins.append([a, b])
    doc[PINNED_KEY] = pins
    return _store(session, caller, row, doc)
