"""Re-planning: keep locked and announced meetings where still possible, move as few as
possible, and report what moved, was dropped or added."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from models.events import (
    Changes,
    Event,
    EventValidationError,
    Meeting,
    Participant,
    Schedule,
    Wish,
    replan,
    solve,
    solve_event_file,
)
from tests.support.events import check_schedule, event, people, wish


def base_event(**extra: Any) -> Event:
    data: dict[str, Any] = {
        "slots": 4,
        "tables": [{"id": "T1"}, {"id": "T2"}],
        "participants": people("a", "b", "c", "d", "e", "f"),
        "wishes": [
            wish("a", "b", "must"),
            wish("b", "a", "must"),
            wish("c", "d"),
            wish("e", "f"),
            wish("a", "c"),
            wish("b", "e"),
            wish("d", "f", "must"),
        ],
        "locked": [{"a": "e", "b": "f", "slot": 3, "table": "T2"}],
    }
    data.update(extra)
    return event(**data)


@pytest.fixture(scope="module")
def first() -> tuple[Event, Schedule]:
    ev = base_event()
    result = solve(ev, time_limit=5)
    check_schedule(ev, result)
    return ev, result


def slots_of(result: Schedule) -> dict[frozenset[str], tuple[int, str | None]]:
    return {m.pair: (m.slot, m.table) for m in result.meetings}


def test_nothing_changed_nothing_moves(first: tuple[Event, Schedule]) -> None:
    ev, before = first
    for announced in (True, False):
        after = replan(ev, before.meetings, announced=announced, time_limit=5)
        check_schedule(ev, after)
        assert slots_of(after) == slots_of(before)
        assert after.changes is not None
        assert len(after.changes.kept) == len(before.meetings)
        assert (len(after.changes.moved), len(after.changes.dropped), len(after.changes.added)) == (
            0,
            0,
            0,
        )


def test_no_show_drops_their_meetings_and_keeps_the_rest(first: tuple[Event, Schedule]) -> None:
    ev, before = first
    after = replan(ev, before.meetings, Changes(no_shows=["b"]), time_limit=5)
    assert after.changes is not None
    dropped = {m.pair: why for m, why in after.changes.dropped}
    assert set(dropped) == {m.pair for m in before.meetings if "b" in m.pair}
    assert all(why == "no-show: b" for why in dropped.values())
    for m in before.meetings:
        if "b" not in m.pair:
            assert slots_of(after)[m.pair] == (m.slot, m.table)  # announced: kept exactly
    assert all("b" not in m.pair for m in after.meetings)
    assert not after.changes.moved


def test_changed_availability_moves_only_the_affected_meeting(
    first: tuple[Event, Schedule],
) -> None:
    ev, before = first
    cd = next(m for m in before.meetings if m.pair == frozenset("cd"))
    others = [m for m in before.meetings if m.pair != cd.pair]
    away = frozenset(range(4)) - {cd.slot}
    after = replan(ev, before.meetings, Changes(availability={"c": away}), time_limit=5)
    assert after.changes is not None
    moved = {old.pair: new for old, new in after.changes.moved}
    assert list(moved) == [cd.pair] and moved[cd.pair].slot != cd.slot
    for m in others:
        assert slots_of(after)[m.pair] == (m.slot, m.table)


def test_late_registration_is_added_around_announced_meetings(
    first: tuple[Event, Schedule],
) -> None:
    ev, before = first
    late = Changes(
        late=[Participant("g", min=1)],
        wishes=[Wish("g", "c", "must"), Wish("c", "g", "want")],
    )
    after = replan(ev, before.meetings, late, time_limit=5)
    assert after.changes is not None
    assert [m.pair for m in after.changes.added] == [frozenset("cg")]
    assert len(after.changes.kept) == len(before.meetings)
    assert after.per_participant["g"].meetings == 1


def test_cancelled_slot_moves_its_meetings(first: tuple[Event, Schedule]) -> None:
    ev, before = first
    slot = next(m.slot for m in before.meetings if m.pair == frozenset("ab"))
    after = replan(ev, before.meetings, Changes(cancelled_slots=[slot]), time_limit=5)
    assert all(m.slot != slot for m in after.meetings)
    assert after.changes is not None
    assert frozenset("ab") in {old.pair for old, _ in after.changes.moved}
    assert len(after.changes.kept) == sum(1 for m in before.meetings if m.slot != slot)


def test_locked_meeting_kept_when_replanning(first: tuple[Event, Schedule]) -> None:
    ev, before = first
    after = replan(ev, before.meetings, Changes(no_shows=["a"]), time_limit=5)
    assert Meeting("e", "f", 3, "T2") in after.meetings


def test_unannounced_meetings_move_as_little_as_possible() -> None:
    # The previous schedule leaves `a` an idle gap; closing it would move a meeting, and
    # moving costs more than a gap, so everything stays.
    ev = event(
        slots=3,
        tables=[{"id": "T1"}],
        participants=people("a", "b", "c"),
        wishes=[wish("a", "b"), wish("a", "c")],
    )
    previous = [Meeting("a", "b", 0, "T1"), Meeting("a", "c", 2, "T1")]
    assert solve(ev, time_limit=5).idle_gaps == 0  # from scratch: no gap
    after = replan(ev, previous, announced=False, time_limit=5)
    assert after.changes is not None
    assert len(after.changes.kept) == 2 and not after.changes.moved
    assert after.idle_gaps == 1


def test_announced_meeting_no_longer_possible_is_moved_not_lost() -> None:
    ev = event(
        slots=3,
        tables=[{"id": "T1"}],
        participants=people("a", "b", "c", "d"),
        wishes=[wish("a", "b"), wish("c", "d")],
    )
    previous = [Meeting("a", "b", 0, "T1"), Meeting("c", "d", 1, "T1")]
    changed = dataclasses.replace(
        ev, participants=[Participant("a", available=frozenset({1, 2})), *ev.participants[1:]]
    )
    after = replan(changed, previous, time_limit=5)
    check_schedule(changed, after)
    assert after.changes is not None
    assert [(o.slot, n.slot) for o, n in after.changes.moved] == [(0, 2)]
    assert [m.pair for m in after.changes.kept] == [frozenset("cd")]


def test_replan_through_the_file_format() -> None:
    data: dict[str, Any] = {
        "slots": 3,
        "tables": [{"id": "T1"}, {"id": "T2"}],
        "participants": people("a", "b", "c", "d"),
        "wishes": [wish("a", "b", "must"), wish("c", "d", "must"), wish("a", "d")],
    }
    first = solve_event_file(data, time_limit=5)
    data["previous"] = {"meetings": first["meetings"]}
    data["changes"] = {"no_shows": ["b"], "availability": {"d": [0, 1, 2]}}
    out = solve_event_file(data, time_limit=5)
    assert out["changes"]["dropped"] == 1
    assert out["changes"]["dropped_meetings"][0]["reason"] == "no-show: b"
    assert all("b" not in (m["a"], m["b"]) for m in out["meetings"])


def test_bad_changes_are_clear_errors(first: tuple[Event, Schedule]) -> None:
    ev, before = first
    with pytest.raises(EventValidationError) as info:
        replan(ev, before.meetings, Changes(no_shows=["zz"], cancelled_slots=[9]))
    assert [i.path for i in info.value.issues] == ["changes.no_shows[0]", "changes.cancelled_slots"]
    data = {
        "slots": 2,
        "tables": 1,
        "participants": people("a", "b"),
        "previous": [{"a": "a", "b": "b"}],
    }
    with pytest.raises(EventValidationError) as info:
        solve_event_file(data, time_limit=1)
    assert info.value.path == "previous[0].slot"
