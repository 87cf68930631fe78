"""The events domain behind the schedule pages, without HTTP: which rule a hand move
breaks (service.events.moves), where a meeting may go, the grid and agenda views
(service.events.grid), breaks counted as re-timing counts them, and the solve clock that
turns a silent solver into a progress bar (service.events.progress)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from models.events import Meeting, parse_event
from service.events import grid as views
from service.events.moves import check_move, free_places
from service.events.progress import SolveClock
from service.events.service import total_breaks
from service.store.tables import EventRow

PEOPLE: list[dict[str, Any]] = [
    {"id": "a", "group": "buyer"},
    {"id": "b", "group": "supplier"},
    {"id": "c", "group": "buyer", "available": [0, 1]},
    {"id": "d", "group": "supplier", "attendees": 2},
    {"id": "e", "group": "supplier", "party_size": 3},
]
MEETINGS = [
    Meeting("a", "b", 0, "T1"),
    Meeting("c", "d", 0, "T2"),
    Meeting("a", "d", 1, "T1"),
    Meeting("b", "c", 1, "T2"),
]


def _event(**extra: Any) -> Any:
    doc = {
        "slots": 3,
        "tables": [{"id": "T1"}, {"id": "T2", "capacity": 4}, {"id": "T3", "available": [2]}],
        "participants": PEOPLE,
        **extra,
    }
    return parse_event(doc)


def rules(event: Any, meeting: Meeting, slot: int, table: str) -> list[str]:
    return [r.rule for r in check_move(event, MEETINGS, meeting, slot, table)]


def test_an_allowed_move_breaks_nothing() -> None:
    assert rules(_event(), MEETINGS[0], 2, "T1") == []
    assert rules(_event(), MEETINGS[0], 0, "T3") == ["table_unavailable"]


def test_each_rule_of_a_move() -> None:
    ev = _event()
    assert rules(ev, MEETINGS[0], 0, "T1") == ["unchanged"]
    assert rules(ev, MEETINGS[0], 7, "T1") == ["slot_range"]
    assert rules(ev, MEETINGS[0], 1, "T9") == ["unknown_table"]
    found = check_move(ev, MEETINGS, MEETINGS[0], 1, "T3")
    assert [(r.rule, dict(r.params)) for r in found] == [
        ("participant_busy", {"participant": "a", "slot": 1, "partner": "d"}),
        ("participant_busy", {"participant": "b", "slot": 1, "partner": "c"}),
        ("table_unavailable", {"table": "T3", "slot": 1}),
    ]
    # c is away in slot 2; d has two attendees, so a second meeting in its slot is fine
    assert rules(ev, MEETINGS[1], 2, "T1") == ["participant_unavailable"]
    assert rules(ev, Meeting("b", "d", 2, "T1"), 1, "T3") == [
        "participant_busy",
        "table_unavailable",
    ]
    assert rules(ev, MEETINGS[0], 1, "T2") == [
        "participant_busy",
        "participant_busy",
        "table_taken",
    ]


def test_seats_availability_and_locks() -> None:
    ev = _event()
    big = Meeting("a", "e", 2, "T1")  # 1 + 3 seats
    assert rules(ev, big, 2, "T2") == []
    ev = _event(tables=[{"id": "T1"}, {"id": "T2", "capacity": 2}])
    found = check_move(ev, [*MEETINGS, big], big, 2, "T2")
    assert [(r.rule, dict(r.params)) for r in found] == [
        ("table_capacity", {"table": "T2", "capacity": 2, "seats": 4})
    ]
    locked = _event(locked=[{"a": "a", "b": "b", "slot": 0, "table": "T1"}])
    assert rules(locked, MEETINGS[0], 2, "T1") == ["locked"]
    assert free_places(locked, MEETINGS, MEETINGS[0]) == []


@pytest.mark.parametrize(
    ("extra", "rule", "params"),
    [
        ({"wishes": [{"from": "b", "to": "a", "level": "no"}]}, "declined", {"by": "b"}),
        ({"overrides": [{"a": "a", "b": "b", "level": "no"}]}, "organizer_no", {}),
        ({"blocked": [["a", "b"]]}, "blocked", {}),
        ({"met_before": [["a", "b"]]}, "met_before", {}),
        (
            {"allow": [["buyer", "buyer"]]},
            "group_rule",
            {"group_a": "buyer", "group_b": "supplier"},
        ),
    ],
)
def test_who_may_meet_whom_is_the_solvers_rule(
    extra: dict[str, Any], rule: str, params: dict[str, Any]
) -> None:
    found = check_move(_event(**extra), MEETINGS, MEETINGS[0], 2, "T1")
    assert [(r.rule, dict(r.params)) for r in found] == [(rule, params)]


def test_an_organizer_must_overrides_group_rules_and_repeats() -> None:
    ev = _event(
        allow=[["buyer", "buyer"]],
        met_before=[["a", "b"]],
        overrides=[{"a": "a", "b": "b", "level": "must"}],
    )
    assert rules(ev, MEETINGS[0], 2, "T1") == []


def test_free_places_follow_the_same_rules() -> None:
    ev = _event()
    places = free_places(ev, MEETINGS, MEETINGS[0])
    assert places == [(2, ["T1", "T2", "T3"])]
    for slot, tables in places:
        for table in tables:
            assert check_move(ev, MEETINGS, MEETINGS[0], slot, table) == []
    # same slot, another table: a move too
    assert free_places(ev, MEETINGS[:1], MEETINGS[0]) == [
        (0, ["T2"]),
        (1, ["T1", "T2"]),
        (2, ["T1", "T2", "T3"]),
    ]


def _row(doc: dict[str, Any], schedule: dict[str, Any] | None) -> EventRow:
    return EventRow(id="e1", name="商談会", owner_key=1, data=doc, schedule=schedule)


def test_the_grid_puts_each_meeting_in_its_cell_with_times_in_the_events_zone() -> None:
    doc = {
        "slots": 3,
        "tables": [{"id": "T1", "name": "卓 1"}, {"id": "T2", "available": [0, 2]}],
        "participants": [{"id": p["id"], "name": f"社{p['id']}"} for p in PEOPLE],
        "timezone": "Europe/Rome",
        "slot_times": ["2026-06-10T23:40", "2026-06-11T00:00", "2026-06-11T00:20"],
        "locked": [{"a": "a", "b": "b", "slot": 0, "table": "T1"}],
    }
    meetings = [
        {"a": "a", "b": "b", "slot": 0, "table": "T1"},
        {"a": "c", "b": "d", "slot": 0, "table": "T2"},
        {"a": "a", "b": "d", "slot": 2, "table": "T2"},
        {"a": "b", "b": "e", "slot": 1, "table": None},
    ]
    v = views.view(_row(doc, {"meetings": meetings, "objective": 10, "bound": 12, "gap": 1 / 6}))
    g = views.grid(v)
    assert [s.label for s in g.slots] == ["23:40–00:00", "00:00–00:20", "00:20–00:40"]
    assert [s.new_day for s in g.slots] == [True, True, False]  # midnight in Rome
    assert [t.name for t in g.tables] == ["卓 1", "T2"]
    assert g.rows[0] == [views.Cell("a", "b", True), views.Cell("c", "d", False)]
    assert g.rows[1] == [None, views.CLOSED]
    assert g.rows[2] == [None, views.Cell("a", "d", False)]
    assert g.loose == [Meeting("b", "e", 1, None)]
    figures = views.solve_figures(v)
    assert figures is not None and (figures.objective, figures.bound, figures.locked) == (10, 12, 1)


def test_an_agenda_has_the_reasons_each_meeting_was_asked_for() -> None:
    doc = {
        "slots": 2,
        "tables": 2,
        "participants": PEOPLE,
        "wishes": [{"from": "a", "to": "b", "level": "must", "priority": 1}],
        "overrides": [{"a": "d", "b": "a", "level": "want"}],
        "suggestions": [
            {"a": "b", "b": "a", "score": 0.4, "reason": "x"},
            {"a": "a", "b": "b", "score": 0.7, "reason": "y"},
        ],
        "locked": [{"a": "a", "b": "d", "slot": 1}],
    }
    schedule = {
        "meetings": [
            {"a": "a", "b": "d", "slot": 1, "table": "T2"},
            {"a": "a", "b": "b", "slot": 0, "table": "T1"},
        ],
        "unplaced": [
            {"a": "a", "b": "c", "level": "want", "code": "lower_priority", "reason": "r"}
        ],
    }
    v = views.view(_row(doc, schedule))
    items = views.agenda(v, "a")
    assert [(i.slot.index, i.partner, i.locked) for i in items] == [(0, "b", False), (1, "d", True)]
    assert items[0].reasons == (
        views.Reason("wish", by="a", level="must", priority=1),
        views.Reason("suggested", score=0.7, text="y"),
    )
    assert [r.kind for r in items[1].reasons] == ["organizer", "locked"]
    assert [u.b for u in views.unplaced(v, "a")] == ["c"] and views.unplaced(v, "b") == []
    with pytest.raises(KeyError):
        views.agenda(v, "nobody")


def test_breaks_are_counted_as_retiming_counts_them() -> None:
    meetings = [
        Meeting("a", "b", 0),
        Meeting("a", "c", 2),
        Meeting("a", "d", 5),
        Meeting("b", "c", 1),
    ]
    # a: 0, 2, 5 -> two breaks; b: 0, 1 -> none; c: 1, 2 -> none; d: one meeting
    assert total_breaks(meetings) == 2


def test_the_solve_clock_reports_stages_and_time_below_the_total() -> None:
    reports: list[tuple[str, int, int]] = []
    lock = threading.Lock()

    def progress(phase: str, done: int, total: int) -> None:
        with lock:
            reports.append((phase, done, total))

    with SolveClock(progress, time_limit=0.3, tick_s=0.05) as clock:
        clock.stage("lp")
        time.sleep(0.2)
        clock.stage("value")
        time.sleep(0.25)  # past the limit: done stays below total
    count = len(reports)
    time.sleep(0.15)
    assert len(reports) == count, "the clock's thread stopped with the work"
    assert reports[0][0] == "preparing" and reports[1][0] == "solving:lp"
    assert {phase for phase, *_ in reports} == {"preparing", "solving:lp", "solving:value"}
    assert all(total == 300 and 0 <= done <= 299 for _, done, total in reports)
    assert [done for _, done, _ in reports] == sorted(done for _, done, _ in reports)
    assert reports[-1][1] == 299 and count >= 6
