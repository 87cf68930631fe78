"""A member firm's own meeting wishes for an event: must / want / no towards other
participants, sent by the member's participant (`Membership.me`) until the event's
`wish_deadline` (the organizer can still change every wish afterwards, through the
event document).

A change edits the event document's `wishes` for that source only, is re-validated
with `parse_event` as every event write is (an organizer's override or a locked meeting
that a `no` would contradict is refused with the path of the rule), and is stored like
the API's PUT of the document (the schedule is kept). A member reads only its own
wishes: never another participant's, nor those sent to it.

Refusals:
    WishRefused (409)       the deadline has passed, or the pair cannot meet by the
                            organizer's rules (blocked, an organizer's `no`, groups)
    ValidationFailed (422)  a bad field, or the document no longer validates
    NotFound (404)          not the member's event
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from models.events import EventValidationError, Participant, Wish, parse_event
from models.events.model import DEFAULT_PRIORITY, LEVELS, Level
from service.auth import Principal
from service.errors import Conflict, ValidationFailed
from service.events.agenda import Membership, membership
from service.events.service import MAX_WISHES
from service.store.db import Session
from service.store.tables import utcnow

RefusalCode = Literal["deadline", "blocked", "organizer_no", "groups"]


class WishRefused(Conflict):
    """The wish cannot be sent now or to this participant; `code` says why."""

    def __init__(self, code: RefusalCode, detail: str) -> None:
        super().__init__(detail, code=code)
        self.code: RefusalCode = code


def is_open(m: Membership, now: dt.datetime | None = None) -> bool:
    """Whether the member may still send or change its wishes."""
    deadline = m.event.wish_deadline
    return deadline is None or (now or utcnow()) < deadline


def my_wishes(m: Membership) -> list[Wish]:
    """The wishes the member's participant sent, in the document's order."""
    return [w for w in m.event.wishes if w.source == m.me.id]


def targets(m: Membership) -> list[Participant]:
    """The participants the member may send a wish to (all but its own)."""
    return [p for p in m.event.participants if p.id not in m.mine]


def _check_open(m: Membership, now: dt.datetime | None) -> None:
    if not is_open(m, now):
        raise WishRefused("deadline", "the deadline for wishes has passed")


def _check_pair(m: Membership, target: Participant, level: Level) -> None:
    """A meeting the organizer's rules rule out cannot be asked for (a `no` always can,
    unless the organizer set the meeting: parse_event refuses that)."""
    if level == "no":
        return
    pair = frozenset((m.me.id, target.id))
    if any(frozenset(b) == pair for b in m.event.blocked):
        raise WishRefused("blocked", "the organizer has ruled out this meeting")
    organizer = [o.level for o in m.event.overrides if frozenset((o.a, o.b)) == pair]
    if "no" in organizer:
        raise WishRefused("organizer_no", "the organizer has ruled out this meeting")
    if not organizer and not m.event.groups_may_meet(m.me.group, target.group):
        raise WishRefused(
            "groups",
            f"the event's rules do not pair the groups {m.me.group!r} and {target.group!r}",
        )


def _store(session: Session, m: Membership, wishes: list[dict[str, Any]], new_at: int) -> None:
    """Validate the document with these wishes and store it; a problem is reported on
    the form's fields (`level` for the new wish and the rules it contradicts)."""
    if len(wishes) > MAX_WISHES:
        raise ValidationFailed(
            "the event has too many wishes",
            errors=[{"field": "target", "reason": f"at most {MAX_WISHES} wishes per event"}],
        )
    doc = {**m.row.data, "wishes": wishes}
    try:
        parse_event(doc)
    except EventValidationError as exc:
        errors = []
        for issue in exc.issues:
            field, code = "level", "invalid"
            if issue.path.startswith(f"wishes[{new_at}]"):
                tail = issue.path[len(f"wishes[{new_at}]") :]
                field = {".to": "target", ".priority": "priority"}.get(tail, "level")
            elif issue.path.startswith("overrides"):
                code = "organizer_set"
            elif issue.path.startswith("locked"):
                code = "locked"
            errors.append({"field": field, "reason": issue.reason, "code": code})
        raise ValidationFailed("the wish contradicts the event", errors=errors) from exc
    m.row.data = doc
    m.row.updated_at = utcnow()


def _others(m: Membership, target_id: str) -> list[dict[str, Any]]:
    """The document's wishes without the member's wish(es) to `target_id`."""
    return [
        w
        for w in m.row.data.get("wishes", [])
        if not (isinstance(w, dict) and w.get("from") == m.me.id and w.get("to") == target_id)
    ]


def set_wish(
    session: Session,
    caller: Principal,
    event_id: str,
    target_id: str,
    level: str,
    priority: int = DEFAULT_PRIORITY,
    *,
    now: dt.datetime | None = None,
) -> Wish:
    """Send (or change) the member's wish to `target_id`."""
    m = membership(session, caller, event_id, for_update=True)
    _check_open(m, now)
    errors = []
    target = next((p for p in targets(m) if p.id == target_id), None)
    if target is None:
        errors.append({"field": "target", "reason": "not another participant of this event"})
    if level not in LEVELS:
        errors.append({"field": "level", "reason": f"must be one of {', '.join(LEVELS)}"})
    if not 1 <= priority <= 5:
        errors.append({"field": "priority", "reason": "must be from 1 (highest) to 5"})
    if errors:
        raise ValidationFailed("the wish is invalid", errors=errors)
    assert target is not None
    wish = Wish(m.me.id, target.id, level, priority)  # type: ignore[arg-type]
    _check_pair(m, target, wish.level)
    others = _others(m, target.id)
    item = {"from": wish.source, "to": wish.target, "level": wish.level, "priority": priority}
    _store(session, m, [*others, item], len(others))
    return wish


def remove_wish(
    session: Session,
    caller: Principal,
    event_id: str,
    target_id: str,
    *,
    now: dt.datetime | None = None,
) -> bool:
    """Withdraw the member's wish to `target_id`; False when there was none."""
    m = membership(session, caller, event_id, for_update=True)
    _check_open(m, now)
    others = _others(m, target_id)
    if len(others) == len(m.row.data.get("wishes", [])):
        return False
    _store(session, m, others, len(others))
    return True
