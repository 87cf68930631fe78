"""Re-planning: a schedule already made, plus what changed (no-shows, late registrations,
availability, cancelled slots, new locks), gives a new schedule that keeps locked and
announced meetings where still possible and moves as few others as possible."""

from __future__ import annotations

import dataclasses
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.events.model import (
    Event,
    EventValidationError,
    Issue,
    Meeting,
    Participant,
    Suggestion,
    Wish,
    _Collector,
    _get_list,
    _parse_participants,
    _parse_suggestions,
    _parse_wishes,
    _slot_set,
    parse_meetings,
    validate_event,
)
from models.events.result import Schedule
from models.events.solver import KEEP_BONUS, StageHook, solve


@dataclass(frozen=True)
class Changes:
    """What happened since the previous schedule. `availability` replaces a participant's
    available slots; `cancelled_slots` are taken from everybody and every table."""

    no_shows: Sequence[str] = ()
    late: Sequence[Participant] = ()
    wishes: Sequence[Wish] = ()
    suggestions: Sequence[Suggestion] = ()
    availability: Mapping[str, frozenset[int] | None] = field(default_factory=dict)
    cancelled_slots: Collection[int] = ()
    locked: Sequence[Meeting] = ()


def apply_changes(event: Event, changes: Changes) -> tuple[Event, list[str]]:
    """The event after `changes`, and notes on locks that had to be released. Raises
    `EventValidationError` for changes naming unknown participants or slots."""
    issues: list[Issue] = []
    known = {p.id for p in event.participants}
    for i, pid in enumerate(changes.no_shows):
        if pid not in known:
            issues.append(Issue(f"changes.no_shows[{i}]", f"unknown participant {pid!r}"))
    for pid in changes.availability:
        if pid not in known and pid not in {p.id for p in changes.late}:
            issues.append(Issue(f"changes.availability.{pid}", f"unknown participant {pid!r}"))
    for s in changes.cancelled_slots:
        if not 0 <= s < event.slots:
            issues.append(
                Issue("changes.cancelled_slots", f"slot {s} out of range 0..{event.slots - 1}")
            )
    if issues:
        raise EventValidationError(issues)

    gone = set(changes.no_shows)
    cancelled = frozenset(changes.cancelled_slots)
    all_slots = frozenset(range(event.slots))

    def trim(slots: frozenset[int] | None) -> frozenset[int] | None:
        if not cancelled:
            return slots
        return (all_slots if slots is None else slots) - cancelled

    participants = []
    for p in [*event.participants, *changes.late]:
        if p.id in gone:
            continue
        available = changes.availability.get(p.id, p.available)
        participants.append(dataclasses.replace(p, available=trim(available)))
    tables = [dataclasses.replace(t, available=trim(t.available)) for t in event.tables]

    def keep(*ids: str) -> bool:
        return not gone.intersection(ids)

    by_id = {p.id: p for p in participants}
    notes: list[str] = []
    locked: list[Meeting] = []
    for m in [*event.locked, *changes.locked]:
        if not keep(m.a, m.b):
            notes.append(f"lock {m.a}–{m.b} (slot {m.slot + 1}) released: no-show")
        elif not (by_id[m.a].is_available(m.slot) and by_id[m.b].is_available(m.slot)):
            notes.append(f"lock {m.a}–{m.b} (slot {m.slot + 1}) released: no longer available then")
        else:
            locked.append(m)
    new = dataclasses.replace(
        event,
        participants=participants,
        tables=tables,
        blocked=[pair for pair in event.blocked if keep(*pair)],
        met_before=[pair for pair in event.met_before if keep(*pair)],
        wishes=[w for w in [*event.wishes, *changes.wishes] if keep(w.source, w.target)],
        overrides=[o for o in event.overrides if keep(o.a, o.b)],
        suggestions=[s for s in [*event.suggestions, *changes.suggestions] if keep(s.a, s.b)],
        locked=locked,
    )
    validate_event(new)
    return new, notes


def replan(
    event: Event,
    previous: Sequence[Meeting],
    changes: Changes | None = None,
    *,
    announced: bool | Collection[frozenset[str]] = True,
    time_limit: float = 30.0,
    num_workers: int = 2,
    seed: int = 0,
    keep_bonus: int = KEEP_BONUS,
    on_stage: StageHook | None = None,
) -> Schedule:
    """A new schedule for `event` after `changes`, as close to `previous` as the changes
    allow. `announced` (all, or the pairs published) are kept exactly where still possible;
    the result's `changes` counts kept / moved / dropped / added meetings."""
    notes: list[str] = []
    if changes is not None:
        event, notes = apply_changes(event, changes)
    result = solve(
        event,
        time_limit=time_limit,
        num_workers=num_workers,
        seed=seed,
        previous=previous,
        announced=announced,
        keep_bonus=keep_bonus,
        on_stage=on_stage,
    )
    if notes:
        result = dataclasses.replace(result, notes=(*notes, *result.notes))
    return result


def parse_previous(data: Any) -> tuple[list[Meeting], set[frozenset[str]]]:
    """A previous schedule from the file format: a list of meetings, or `{"meetings": [..]}`
    (a solve's own output). A meeting is announced unless it says `"announced": false`."""
    issues = _Collector()
    items = data.get("meetings") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise EventValidationError([Issue("previous", "must be a list of meetings")])
    meetings = parse_meetings(items, "previous", issues)
    if issues.issues:
        raise EventValidationError(issues.issues)
    announced = {
        m.pair
        for m, item in zip(meetings, items, strict=False)
        if not (isinstance(item, Mapping) and item.get("announced") is False)
    }
    return meetings, announced


def parse_changes(data: Any) -> Changes:
    issues = _Collector()
    if not isinstance(data, Mapping):
        raise EventValidationError([Issue("changes", "must be an object")])
    no_shows = _get_list(data, "no_shows", issues, "changes")
    for i, pid in enumerate(no_shows):
        if not isinstance(pid, str):
            issues.add(f"changes.no_shows[{i}]", "must be a participant id")
    late = _parse_participants(_get_list(data, "late", issues, "changes"), "changes.late", issues)
    wishes = _parse_wishes(_get_list(data, "wishes", issues, "changes"), "changes.wishes", issues)
    availability: dict[str, frozenset[int] | None] = {}
    raw = data.get("availability", {})
    if not isinstance(raw, Mapping):
        issues.add("changes.availability", "must map participant ids to slot lists")
    else:
        for pid, slots in raw.items():
            availability[str(pid)] = _slot_set(slots, f"changes.availability.{pid}", issues)
    cancelled = _slot_set(data.get("cancelled_slots", []), "changes.cancelled_slots", issues)
    locked = parse_meetings(_get_list(data, "locked", issues, "changes"), "changes.locked", issues)
    suggestions = _parse_suggestions(
        _get_list(data, "suggestions", issues, "changes"), "changes.suggestions", issues
    )
    if issues.issues:
        raise EventValidationError(issues.issues)
    return Changes(
        no_shows=[pid for pid in no_shows if isinstance(pid, str)],
        late=late,
        wishes=wishes,
        suggestions=suggestions,
        availability=availability,
        cancelled_slots=cancelled or frozenset(),
        locked=locked,
    )
