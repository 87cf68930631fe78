"""The independent validator: every hard rule is caught, breaks are recomputed correctly.

Each rule test starts from a schedule the validator accepts and breaks exactly one rule,
so it would fail if that rule were not checked."""

from __future__ import annotations

import pytest

from models.b2b import B2BInstance, participant_breaks, validate_schedule

# 6 participants, 2 morning + 2 afternoon slots, 2 tables.
# m1 = 1-2 (any), m2 = 1-3 (morning), m3 = 4-5 (afternoon), m4 = 2-6 (any, fixed to slot 2),
# m5 = 3-6 (any, after m2); participant 5 cannot make slot 4.
INST = B2BInstance.build(
    n_participants=6,
    meetings=[(1, 2, 3), (1, 3, 1), (4, 5, 2), (2, 6, 3), (3, 6, 3)],
    n_tables=2,
    n_slots=4,
    n_morning_slots=2,
    forbidden={5: [4]},
    fixed={4: 2},
    precedences={5: [2]},
)
# meeting -> (slot, table)
GOOD: dict[int, tuple[int, int]] = {1: (1, 1), 2: (2, 1), 3: (3, 1), 4: (2, 2), 5: (3, 2)}


def schedule(**changes: tuple[int, int]) -> dict[int, tuple[int, int]]:
    out = dict(GOOD)
    for key, value in changes.items():
        out[int(key.removeprefix("m"))] = value
    return out


def assert_has(violations: tuple[str, ...], *needles: str) -> None:
    """Each needle appears in some violation (other rules may be hit as well)."""
    assert violations, "expected a violation"
    for needle in needles:
        assert any(needle in v for v in violations), (needle, violations)


def test_good_schedule_passes() -> None:
    rep = validate_schedule(INST, GOOD, fairness=2)
    assert rep.ok and rep.fair, rep.violations
    assert rep.breaks == (0, 0, 0, 0, 0, 0)
    assert rep.total_breaks == 0
    # triples work too
    assert validate_schedule(INST, [(m, t, k) for m, (t, k) in GOOD.items()]).ok


def test_unplaced_meeting() -> None:
    sched = dict(GOOD)
    del sched[3]
    assert_has(validate_schedule(INST, sched).violations, "meeting 3 is not placed")


def test_meeting_placed_twice() -> None:
    triples = [(m, t, k) for m, (t, k) in GOOD.items()] + [(3, 4, 1)]
    assert_has(validate_schedule(INST, triples).violations, "meeting 3 is placed more than once")


def test_unknown_meeting() -> None:
    triples = [(m, t, k) for m, (t, k) in GOOD.items()] + [(9, 1, 2)]
    assert_has(validate_schedule(INST, triples).violations, "unknown meeting 9")


def test_participant_in_two_meetings_at_once() -> None:
    inst = B2BInstance.build(n_participants=3, meetings=[(1, 2), (1, 3)], n_tables=2, n_slots=2)
    assert validate_schedule(inst, {1: (1, 1), 2: (2, 1)}).ok
    rep = validate_schedule(inst, {1: (1, 1), 2: (1, 2)})
    assert rep.violations == ("participant 1: 2 meetings in slot 1",)


def test_more_meetings_than_tables() -> None:
    inst = B2BInstance.build(
        n_participants=6, meetings=[(1, 2), (3, 4), (5, 6)], n_tables=2, n_slots=2
    )
    ok = validate_schedule(inst, {1: (1, 1), 2: (1, 2), 3: (2, 1)})
    assert ok.ok, ok.violations
    rep = validate_schedule(inst, {1: (1, 1), 2: (1, 2), 3: (1, 3)})
    assert_has(rep.violations, "slot 1: 3 meetings but only 2 tables")


def test_same_table_twice_in_a_slot() -> None:
    rep = validate_schedule(INST, schedule(m5=(3, 1)))
    assert_has(rep.violations, "slot 3: table 1 is used by meetings 3 and 5")


def test_table_out_of_range() -> None:
    rep = validate_schedule(INST, schedule(m5=(3, 3)))
    assert_has(rep.violations, "meeting 5: table 3 is not in 1..2")


def test_slot_out_of_range() -> None:
    rep = validate_schedule(INST, schedule(m3=(5, 1)))
    assert_has(rep.violations, "meeting 3: slot 5 is not in 1..4")


def test_morning_only_meeting_in_the_afternoon() -> None:
    rep = validate_schedule(INST, schedule(m2=(3, 2), m5=(4, 2)))
    assert_has(rep.violations, "meeting 2: morning-only meeting placed in afternoon slot 3")


def test_afternoon_only_meeting_in_the_morning() -> None:
    rep = validate_schedule(INST, schedule(m3=(1, 2)))
    assert_has(rep.violations, "meeting 3: afternoon-only meeting placed in morning slot 1")


@pytest.mark.parametrize("side", ["p1", "p2"])
def test_forbidden_slot_of_either_participant(side: str) -> None:
    # participant 5 (second side of m3 = 4-5) forbids slot 4; mirror it for the first side
    inst = INST
    if side == "p1":
        inst = B2BInstance.build(
            n_participants=6,
            meetings=[(1, 2, 3), (1, 3, 1), (5, 4, 2), (2, 6, 3), (3, 6, 3)],
            n_tables=2,
            n_slots=4,
            n_morning_slots=2,
            forbidden={5: [4]},
            fixed={4: 2},
            precedences={5: [2]},
        )
    assert validate_schedule(inst, GOOD).ok
    rep = validate_schedule(inst, schedule(m3=(4, 1)))
    assert_has(rep.violations, "meeting 3: slot 4 is forbidden for participant 5")


def test_fixed_slot() -> None:
    rep = validate_schedule(INST, schedule(m4=(4, 1)))
    assert_has(rep.violations, "meeting 4: fixed to slot 2 but placed in slot 4")


def test_precedence_later_is_refused() -> None:
    # m2 sits in slot 2; m5 must come strictly later
    rep = validate_schedule(INST, schedule(m5=(1, 2)))
    assert rep.violations == (
        "precedence: meeting 2 (slot 2) must come strictly before meeting 5 (slot 1)",
    )


def test_precedence_same_slot_is_refused() -> None:
    inst = B2BInstance.build(
        n_participants=4, meetings=[(1, 2), (3, 4)], n_tables=2, n_slots=2, precedences={2: [1]}
    )
    assert validate_schedule(inst, {1: (1, 1), 2: (2, 1)}).ok
    rep = validate_schedule(inst, {1: (1, 1), 2: (1, 2)})
    assert rep.violations == (
        "precedence: meeting 1 (slot 1) must come strictly before meeting 2 (slot 1)",
    )


def test_breaks_are_recomputed_from_the_schedule() -> None:
    assert participant_breaks([]) == 0
    assert participant_breaks([3]) == 0
    assert participant_breaks([1, 2, 3]) == 0
    assert participant_breaks([1, 3, 4, 7]) == 2  # idle 2, idle 5-6
    assert participant_breaks([7, 1, 3]) == 2  # order does not matter
    # in INST: participant 1 meets in slots 1 and 4 -> one break (2-3 idle)
    inst = B2BInstance.build(
        n_participants=3, meetings=[(1, 2), (1, 3), (2, 3)], n_tables=1, n_slots=4
    )
    rep = validate_schedule(inst, {1: (1, 1), 2: (4, 1), 3: (2, 1)}, fairness=-1)
    assert rep.breaks == (1, 0, 1)  # participant 2: 1, 2; participant 3: 2, 4
    assert rep.total_breaks == 2
    assert rep.ok


def test_fairness() -> None:
    # participant 1 meets at 1 and 5 and 9 (two breaks); participant 4 has one meeting (0)
    inst = B2BInstance.build(
        n_participants=5, meetings=[(1, 2), (1, 3), (1, 5), (4, 5)], n_tables=2, n_slots=9
    )
    sched = {1: (1, 1), 2: (5, 1), 3: (9, 1), 4: (8, 1)}
    rep = validate_schedule(inst, sched, fairness=2)
    assert rep.breaks == (2, 0, 0, 0, 0) and rep.ok and rep.fair
    rep = validate_schedule(inst, sched, fairness=1)
    assert not rep.fair
    assert_has(rep.violations, "fairness: breaks range from 0", "more than d = 1 apart")
    # d < 0: no fairness constraint
    assert validate_schedule(inst, sched, fairness=-1).ok


def test_claimed_breaks_must_match() -> None:
    rep = validate_schedule(INST, GOOD, expected_breaks=3)
    assert_has(rep.violations, "claimed 3 breaks but the schedule has 0")
