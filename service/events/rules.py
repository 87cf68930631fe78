"""Who may be suggested to meet whom at an event: the event's own rules, applied before a
pair is proposed (issue 19, item 5). A suggestion the solver could only drop, or that
asks an organizer to override a refusal, wastes the organizer's attention.

A pair may be suggested when both are participants, their groups may meet (`allow`), the
pair is not `blocked`, has not met before (`met_before`, unless `allow_repeat`), and
neither side nor the organizer said `no` to it (a `no` wish or a `no` override).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from models.events import Event, parse_event

PairRule = Callable[[str, str], bool]


def suggestable(event: Event) -> PairRule:
    """A predicate (a, b) -> whether the pair may be suggested (see the module docstring)."""
    blocked = {frozenset(p) for p in event.blocked}
    met = set() if event.allow_repeat else {frozenset(p) for p in event.met_before}
    refused = {frozenset((w.source, w.target)) for w in event.wishes if w.level == "no"}
    refused |= {frozenset((o.a, o.b)) for o in event.overrides if o.level == "no"}

    def may(a: str, b: str) -> bool:
        if a == b or not (event.has_participant(a) and event.has_participant(b)):
            return False
        pair = frozenset((a, b))
        if pair in blocked or pair in met or pair in refused:
            return False
        return event.groups_may_meet(event.participant(a).group, event.participant(b).group)

    return may


def suggestable_in(doc: dict[str, Any]) -> PairRule:
    """`suggestable` for an event document (a stored one is valid; raises
    `EventValidationError` otherwise)."""
    return suggestable(parse_event(doc))
