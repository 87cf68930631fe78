"""Parsing and validation of events: every bad input gets an EventValidationError naming
the field and the reason."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from models.events import (
    Event,
    EventValidationError,
    Meeting,
    Participant,
    Table,
    parse_event,
    validate_event,
)
from tests.support.events import people, wish


def base(**extra: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "slots": 4,
        "tables": [{"id": "T1"}, {"id": "T2"}],
        "participants": people("a", "b", "c"),
    }
    data.update(extra)
    return data


def issue_of(data: Any) -> EventValidationError:
    with pytest.raises(EventValidationError) as info:
        parse_event(data)
    return info.value


def test_minimal_event_and_defaults() -> None:
    ev = parse_event(base(wishes=[wish("a", "b")]))
    assert ev.slots == 4
    assert [t.id for t in ev.tables] == ["T1", "T2"]
    a = ev.participant("a")
    assert (a.group, a.available, a.min, a.max, a.attendees, a.party_size) == (
        "participant",
        None,
        0,
        None,
        1,
        1,
    )
    assert ev.max_meetings(a) == 4
    assert ev.groups_may_meet("x", "y")  # no allow rules: anyone meets anyone
    assert ev.wishes[0].priority == 3


def test_table_count_shorthand_and_extra_keys_ignored() -> None:
    ev = parse_event(base(tables=3, comment="ignored"))
    assert [t.id for t in ev.tables] == ["T1", "T2", "T3"]


def test_slot_times_parse_in_the_event_time_zone() -> None:
    ev = parse_event(
        base(
            timezone="Asia/Tokyo",
            slot_minutes=15,
            slot_times=[
                "2025-06-10T13:00",
                "2025-06-10T13:20",
                {"start": "2025-06-10T14:00", "end": "2025-06-10T14:30"},
                "2025-06-10T14:30",
            ],
        )
    )
    times = ev.slot_times
    assert times is not None
    assert times[0].start.utcoffset() == timedelta(hours=9)
    assert times[0].end - times[0].start == timedelta(minutes=15)
    assert times[2].end.hour == 14 and times[2].end.minute == 30


def test_the_error_is_a_value_error_listing_every_issue() -> None:
    err = issue_of(base(tables=[], participants=[{"id": "a", "min": 3, "max": 1}]))
    assert isinstance(err, ValueError)
    paths = {i.path for i in err.issues}
    assert {"tables", "participants[0].min"} <= paths
    assert err.path == err.issues[0].path and err.reason == err.issues[0].reason
    assert "no tables" in str(err)


@pytest.mark.parametrize(
    ("extra", "path", "reason"),
    [
        ({"slots": 0}, "slots", "positive integer"),
        ({"slots": "3"}, "slots", "positive integer"),
        ({"tables": []}, "tables", "no tables"),
        ({"tables": [{"id": "T1", "capacity": 0}]}, "tables[0].capacity", "capacity 0"),
        ({"tables": [{"id": "T1"}, {"id": "T1"}]}, "tables[1].id", "duplicate table"),
        ({"tables": [{"id": "T1", "available": [9]}]}, "tables[0].available", "out of range"),
        ({"participants": people("a", "a")}, "participants[1].id", "duplicate participant"),
        ({"participants": [{"id": "a", "min": 2, "max": 1}]}, "participants[0].min", "greater"),
        ({"participants": [{"id": "a", "min": -1}]}, "participants[0].min", "at least 0"),
        (
            {"participants": [{"id": "a", "available": [0, 7]}]},
            "participants[0].available",
            "out of range",
        ),
        (
            {"participants": [{"id": "a", "available": [1, 1]}]},
            "participants[0].available[1]",
            "duplicate slot",
        ),
        (
            {"participants": [{"id": "a", "attendees": 0}]},
            "participants[0].attendees",
            "at least 1",
        ),
        ({"participants": [{"group": "buyer"}]}, "participants[0].id", "required"),
        ({"wishes": [wish("a", "zz")]}, "wishes[0].to", "unknown participant 'zz'"),
        ({"wishes": [wish("zz", "a")]}, "wishes[0].from", "unknown participant"),
        ({"wishes": [wish("a", "a")]}, "wishes[0]", "itself"),
        ({"wishes": [{"from": "a", "to": "b", "level": "maybe"}]}, "wishes[0].level", "one of"),
        (
            {"wishes": [{"from": "a", "to": "b", "level": "want", "priority": 9}]},
            "wishes[0].priority",
            "1 (highest) to 5",
        ),
        ({"wishes": [wish("a", "b", "want"), wish("a", "b", "no")]}, "wishes[1]", "contradicts"),
        ({"blocked": [["a", "zz"]]}, "blocked[0]", "unknown participant"),
        ({"blocked": [["a"]]}, "blocked[0]", "pair of two ids"),
        ({"met_before": [["zz", "a"]]}, "met_before[0]", "unknown participant"),
        ({"suggestions": [{"a": "a", "b": "b", "score": 1.5}]}, "suggestions[0].score", "0 to 1"),
        ({"suggestions": [{"a": "a", "b": "q"}]}, "suggestions[0].b", "unknown participant"),
        ({"locked": [{"a": "a", "b": "zz", "slot": 0}]}, "locked[0].b", "unknown participant"),
        ({"locked": [{"a": "a", "b": "b", "slot": 4}]}, "locked[0].slot", "out of range"),
        (
            {"locked": [{"a": "a", "b": "b", "slot": 0, "table": "T9"}]},
            "locked[0].table",
            "unknown table",
        ),
        ({"locked": [{"a": "a", "b": "b"}]}, "locked[0].slot", "integer slot"),
        ({"timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"allow_repeat": "yes"}, "allow_repeat", "true or false"),
    ],
)
def test_bad_input_names_field_and_reason(extra: dict[str, Any], path: str, reason: str) -> None:
    err = issue_of(base(**extra))
    assert any(i.path == path and reason in i.reason for i in err.issues), err.issues


def test_not_an_object() -> None:
    assert issue_of([1, 2]).reason == "the event must be a JSON object"


def test_locked_meeting_on_a_blocked_pair() -> None:
    err = issue_of(base(blocked=[["a", "b"]], locked=[{"a": "a", "b": "b", "slot": 0}]))
    assert err.path == "locked[0]" and "blocked pair" in err.reason


def test_locked_meeting_against_a_no_wish() -> None:
    err = issue_of(base(wishes=[wish("b", "a", "no")], locked=[{"a": "a", "b": "b", "slot": 0}]))
    assert err.path == "locked[0]" and "'no' wish of 'b'" in err.reason


def test_locked_meeting_outside_availability() -> None:
    err = issue_of(
        base(
            participants=[{"id": "a", "available": [1, 2]}, {"id": "b"}],
            locked=[{"a": "a", "b": "b", "slot": 0}],
        )
    )
    assert err.path == "locked[0].slot" and "'a' is not available in slot 0" in err.reason


def test_two_locked_meetings_at_the_same_table_and_slot() -> None:
    err = issue_of(
        base(
            participants=people("a", "b", "c", "d"),
            locked=[
                {"a": "a", "b": "b", "slot": 1, "table": "T1"},
                {"a": "c", "b": "d", "slot": 1, "table": "T1"},
            ],
        )
    )
    assert err.path == "locked[1].table" and "already taken by locked[0]" in err.reason


def test_participant_locked_twice_in_one_slot() -> None:
    err = issue_of(
        base(
            locked=[
                {"a": "a", "b": "b", "slot": 1, "table": "T1"},
                {"a": "a", "b": "c", "slot": 1, "table": "T2"},
            ]
        )
    )
    assert err.path == "locked[1].slot" and "more locked meetings in slot 1" in err.reason


def test_more_locked_meetings_than_tables_in_a_slot() -> None:
    err = issue_of(
        base(
            tables=[{"id": "T1"}],
            participants=people("a", "b", "c", "d"),
            locked=[{"a": "a", "b": "b", "slot": 0}, {"a": "c", "b": "d", "slot": 0}],
        )
    )
    assert err.path == "locked" and "only 1 tables" in err.reason


def test_locked_table_too_small_or_unavailable() -> None:
    err = issue_of(
        base(
            tables=[{"id": "T1", "capacity": 2, "available": [1]}],
            participants=[{"id": "a", "party_size": 2}, {"id": "b"}],
            locked=[{"a": "a", "b": "b", "slot": 0, "table": "T1"}],
        )
    )
    reasons = {i.reason for i in err.issues}
    assert any("not available in slot 0" in r for r in reasons)
    assert any("seats 2, the meeting needs 3" in r for r in reasons)


def test_locked_meetings_above_max() -> None:
    err = issue_of(
        base(
            participants=[{"id": "a", "max": 1}, {"id": "b"}, {"id": "c"}],
            locked=[{"a": "a", "b": "b", "slot": 0}, {"a": "a", "b": "c", "slot": 1}],
        )
    )
    assert err.path == "locked[1]" and "max (1)" in err.reason


def test_override_contradictions() -> None:
    err = issue_of(
        base(
            blocked=[["a", "b"]],
            wishes=[wish("c", "a", "no")],
            overrides=[
                {"a": "a", "b": "b", "level": "must"},
                {"a": "a", "b": "c", "level": "want"},
            ],
        )
    )
    assert [i.path for i in err.issues] == ["overrides[0]", "overrides[1]"]


@pytest.mark.parametrize(
    ("times", "reason"),
    [
        (
            ["2025-06-10T13:00", "2025-06-10T13:00", "2025-06-10T14:00", "2025-06-10T15:00"],
            "duplicate slot",
        ),
        (
            ["2025-06-10T13:00", "2025-06-10T13:10", "2025-06-10T14:00", "2025-06-10T15:00"],
            "overlaps slot 0",
        ),
        (
            ["2025-06-10T13:00", "2025-06-10T12:00", "2025-06-10T14:00", "2025-06-10T15:00"],
            "out of order",
        ),
        (["2025-06-10T13:00"], "1 slot time for 4 slots: give one start time"),
        (
            [
                {"start": "2025-06-10T13:00", "end": "2025-06-10T12:00"},
                "2025-06-10T14:00",
                "2025-06-10T15:00",
                "2025-06-10T16:00",
            ],
            "ends before it starts",
        ),
        (["13h", "2025-06-10T14:00", "2025-06-10T15:00", "2025-06-10T16:00"], "not an ISO 8601"),
    ],
)
def test_overlapping_or_duplicate_slot_times(times: list[Any], reason: str) -> None:
    err = issue_of(base(slot_times=times))
    assert any(reason in i.reason for i in err.issues), err.issues


def test_validate_event_checks_events_built_in_code() -> None:
    ev = Event(
        slots=2,
        tables=[Table("T1")],
        participants=[Participant("a", min=2, max=1), Participant("b")],
        locked=[Meeting("a", "b", 5)],
    )
    with pytest.raises(EventValidationError) as info:
        validate_event(ev)
    assert {i.path for i in info.value.issues} == {"participants[0].min", "locked[0].slot"}


def test_venue_and_wish_deadline_are_read_in_the_event_time_zone() -> None:
    base = {"slots": 2, "tables": 1, "participants": [{"id": "a"}, {"id": "b"}]}
    doc = {**base, "timezone": "Asia/Tokyo", "venue": "立川 会議室A"}
    event = parse_event({**doc, "wish_deadline": "2026-06-03T17:00"})
    assert event.venue == "立川 会議室A"
    assert event.wish_deadline is not None
    assert event.wish_deadline.isoformat() == "2026-06-03T17:00:00+09:00"
    assert parse_event(base).wish_deadline is None and parse_event(base).venue == ""
    with pytest.raises(EventValidationError) as err:
        parse_event({**base, "venue": "x" * 301, "wish_deadline": "next week"})
    assert {i.path for i in err.value.issues} == {"venue", "wish_deadline"}
