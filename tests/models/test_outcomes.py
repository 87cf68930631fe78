from __future__ import annotations

import pytest

from models.events import EventValidationError
from models.events.model import parse_event
from models.outcomes import FollowUp, MeetingOutcome, current, furthest, held, pair_of


def test_pair_is_canonical_and_needs_two() -> None:
    assert pair_of("b", "a") == ("a", "b")
    with pytest.raises(ValueError):
        pair_of("a", "a")


def test_a_correction_supersedes_but_history_stays() -> None:
    first = MeetingOutcome("e", "a", "b", side="a", attendance="held", interest="some")
    other = MeetingOutcome("e", "a", "b", side="b", attendance="held", interest="none")
    fix = MeetingOutcome("e", "a", "b", side="a", attendance="held", interest="strong")
    records = [first, other, fix]
    assert current(records) == [fix, other]
    assert len(records) == 3  # nothing erased


def test_follow_up_rounds_are_separate_and_furthest_wins() -> None:
    m3 = FollowUp("e", "a", "b", side="a", months=3, stage="negotiation")
    m6 = FollowUp("e", "a", "b", side="a", months=6, stage="contract", amount_yen=1_200_000)
    m6b = FollowUp("e", "a", "b", side="b", months=6, stage="nda")
    assert current([m3, m6, m6b]) == [m3, m6, m6b]
    assert furthest([m3, m6, m6b]) == "contract"
    assert furthest([]) is None


def test_held_from_either_side() -> None:
    assert held([]) is None
    no = MeetingOutcome("e", "a", "b", side="a", attendance="no_show", no_show=("b",))
    yes = MeetingOutcome("e", "a", "b", side="b", attendance="held", interest="some")
    assert held([no]) is False
    assert held([no, yes]) is True


def _doc(**extra: object) -> dict[str, object]:
    return {"slots": 2, "tables": 1, "participants": [{"id": "p"}, {"id": "q"}], **extra}


def test_event_program_and_follow_up_months() -> None:
    plain = parse_event(_doc())
    assert plain.program == ""
    assert plain.follow_up_months == (3, 6)
    event = parse_event(_doc(program=" TAMA 2026 ", follow_up_months=[12, 1]))
    assert event.program == "TAMA 2026"
    assert event.follow_up_months == (1, 12)
    for bad in ([0], [3, 3], "3", [1.5], [True], list(range(1, 9))):
        with pytest.raises(EventValidationError) as err:
            parse_event(_doc(follow_up_months=bad))
        assert err.value.path.startswith("follow_up_months")


def test_months_after_an_event_are_calendar_months() -> None:
    import datetime as dt

    from models.outcomes import add_months

    assert add_months(dt.date(2026, 6, 10), 3) == dt.date(2026, 9, 10)
    assert add_months(dt.date(2026, 11, 30), 3) == dt.date(2027, 2, 28)  # clamped
    assert add_months(dt.date(2027, 11, 30), 3) == dt.date(2028, 2, 29)  # a leap year
    assert add_months(dt.date(2026, 12, 31), 12) == dt.date(2027, 12, 31)
    assert add_months(dt.date(2026, 1, 31), 0) == dt.date(2026, 1, 31)
