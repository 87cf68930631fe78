"""The schedule solver on small hand-made events whose best schedule is known, one test per
hard rule (each fails if the solver breaks it), and a brute-force cross-check."""

from __future__ import annotations

import itertools
import json
import random
from collections import Counter
from typing import Any

import pytest

from models.events import (
    Event,
    EventValidationError,
    Override,
    Wish,
    build_problem,
    pair_value,
    solve,
    solve_event_file,
)
from tests.support.events import check_schedule, event, pairs, people, wish

MUTUAL_MUST = 10_800  # 10,000 + 2 × 400 (priority 3)
ONE_SIDED_MUST = 6_400
MUTUAL_WANT = 3_400
ONE_SIDED_WANT = 1_700


def run(ev: Event, **kw: Any) -> Any:
    result = solve(ev, time_limit=kw.pop("time_limit", 5.0), **kw)
    check_schedule(ev, result)
    return result


def unplaced(result: Any) -> dict[frozenset[str], Any]:
    return {frozenset((u.a, u.b)): u for u in result.unplaced}


# --- values ----------------------------------------------------------------------------


def test_value_tiers_are_strictly_ordered_whatever_priority_and_score() -> None:
    def w(level: str, priority: int) -> Wish:
        return Wish("x", "y", level, priority)  # type: ignore[arg-type]

    best_of = {
        "organizer must": pair_value(None, None, Override("x", "y", "must", 5), None)[0],
        "mutual must": pair_value(w("must", 5), w("must", 5), None, None)[0],
        "must": pair_value(w("must", 1), w("want", 1), None, 1.0)[0],
        "mutual want": pair_value(w("want", 1), w("want", 1), None, 1.0)[0],
        "want": pair_value(w("want", 1), None, None, 1.0)[0],
        "suggested": pair_value(None, None, None, 1.0)[0],
    }
    worst_of = {
        "organizer must": pair_value(None, None, Override("x", "y", "must", 5), None)[0],
        "mutual must": pair_value(w("must", 5), w("must", 5), None, None)[0],
        "must": pair_value(w("must", 5), None, None, None)[0],
        "mutual want": pair_value(w("want", 5), w("want", 5), None, None)[0],
        "want": pair_value(w("want", 5), None, None, None)[0],
        "suggested": pair_value(None, None, None, 0.0)[0],
    }
    tiers = list(best_of)
    for higher, lower in itertools.pairwise(tiers):
        assert worst_of[higher] > best_of[lower], (higher, lower)
    assert (
        pair_value(w("want", 1), None, None, None)[0]
        > pair_value(w("want", 2), None, None, None)[0]
    )
    assert pair_value(None, None, None, 0.9)[0] > pair_value(None, None, None, 0.1)[0]


# --- a known optimum ----------------------------------------------------------------------


def test_known_optimum_two_slots_one_table() -> None:
    ev = event(
        slots=2,
        participants=people("a", "b", "c", "d"),
        wishes=[
            wish("a", "b", "must"),
            wish("b", "a", "must"),
            wish("b", "d", "must"),
            wish("c", "d"),
            wish("a", "c"),
        ],
    )
    result = run(ev)
    assert result.status == "OPTIMAL"
    assert result.objective == MUTUAL_MUST + ONE_SIDED_MUST == result.bound
    assert result.gap == 0
    assert pairs(result) == {frozenset("ab"), frozenset("bd")}
    assert {m.slot for m in result.meetings} == {0, 1}
    missing = unplaced(result)
    assert set(missing) == {frozenset("cd"), frozenset("ac")}
    assert all(u.code in ("lower_priority", "table_capacity") for u in missing.values())


def test_solve_event_file_contract() -> None:
    data = {
        "slots": 3,
        "tables": [{"id": "T1"}],
        "participants": [
            {"id": "p1", "group": "buyer"},
            {"id": "p2", "group": "supplier"},
            {"id": "p3", "group": "supplier", "profile_id": "org-3"},
        ],
        "allow": [["buyer", "supplier"]],
        "wishes": [
            {"from": "p1", "to": "p2", "level": "must"},
            {"from": "p2", "to": "p3", "level": "want"},
        ],
        "suggestions": [{"a": "p1", "b": "p3", "score": 0.8, "reason": "same field"}],
        "locked": [{"a": "p1", "b": "p2", "slot": 2, "table": "T1"}],
    }
    out = solve_event_file(data, time_limit=5)
    json.dumps(out)  # JSON-ready
    for key in ("meetings", "objective", "bound", "gap", "greedy_objective", "unplaced"):
        assert key in out
    assert {"a": "p1", "b": "p2", "slot": 2, "table": "T1"} in out["meetings"]
    assert any({m["a"], m["b"]} == {"p1", "p3"} for m in out["meetings"])  # suggestion fills
    assert out["unplaced"] == [
        {
            "a": "p2",
            "b": "p3",
            "level": "want",
            "code": "group_rule",
            "reason": "group rule: supplier and supplier may not meet",
        }
    ]
    with pytest.raises(EventValidationError):
        solve_event_file({"slots": 2, "tables": []}, time_limit=1)


def test_empty_event() -> None:
    result = run(event(participants=people("a", "b")))
    assert result.meetings == () and result.objective == 0 and result.status == "OPTIMAL"


# --- one test per hard rule ---------------------------------------------------------------


def test_nobody_in_two_meetings_at_once() -> None:
    ev = event(
        slots=1,
        tables=[{"id": "T1"}, {"id": "T2"}, {"id": "T3"}],
        participants=people("a", "b", "c", "d"),
        wishes=[wish("a", "b", "must"), wish("a", "c", "must", priority=1), wish("a", "d", "must")],
    )
    result = run(ev)
    assert pairs(result) == {frozenset("ac")}
    reason = unplaced(result)[frozenset("ab")]
    assert reason.code == "lower_priority"
    # (texts count slots from 1)
    assert reason.reason.startswith("lower priority than a–c (slot 1")


def test_a_table_holds_one_meeting_per_slot() -> None:
    ev = event(
        slots=1,
        participants=people("a", "b", "c", "d"),
        wishes=[wish("a", "b", "must"), wish("b", "a", "must"), wish("c", "d")],
    )
    result = run(ev)
    assert pairs(result) == {frozenset("ab")}
    assert unplaced(result)[frozenset("cd")].code == "table_capacity"


def test_availability() -> None:
    ev = event(
        slots=3,
        participants=[
            {"id": "a"},
            {"id": "b", "available": [2]},
            {"id": "c", "available": [0]},
            {"id": "d", "available": [1]},
        ],
        wishes=[wish("a", "b"), wish("c", "d", "must")],
    )
    result = run(ev)
    assert [(m.pair, m.slot) for m in result.meetings] == [(frozenset("ab"), 2)]
    u = unplaced(result)[frozenset("cd")]
    assert u.code == "no_common_slot" and u.reason.startswith("no common free slot")


def test_group_rules() -> None:
    ev = event(
        participants=[
            {"id": "b1", "group": "buyer"},
            {"id": "b2", "group": "buyer"},
            {"id": "s1", "group": "supplier"},
            {"id": "r1", "group": "researcher"},
        ],
        allow=[["buyer", "supplier"], ["researcher", "researcher"]],
        wishes=[wish("b1", "b2", "must"), wish("b1", "s1"), wish("s1", "r1", "must")],
    )
    result = run(ev)
    assert pairs(result) == {frozenset(("b1", "s1"))}
    assert unplaced(result)[frozenset(("b1", "b2"))].code == "group_rule"
    assert unplaced(result)[frozenset(("s1", "r1"))].code == "group_rule"


def test_blocked_pair() -> None:
    ev = event(
        participants=people("a", "b", "c"),
        blocked=[["a", "b"]],
        wishes=[wish("a", "b", "must"), wish("b", "a", "must"), wish("a", "c")],
        suggestions=[{"a": "b", "b": "a", "score": 1.0}],
    )
    result = run(ev)
    assert pairs(result) == {frozenset("ac")}
    assert unplaced(result)[frozenset("ab")].code == "blocked"


def test_a_no_wish_forbids_the_pair() -> None:
    ev = event(
        participants=people("a", "b", "c"),
        wishes=[wish("a", "b", "must"), wish("b", "a", "no"), wish("c", "a", "no")],
        suggestions=[{"a": "a", "b": "c", "score": 0.9}],
    )
    result = run(ev)
    assert result.meetings == ()
    u = unplaced(result)[frozenset("ab")]
    assert u.code == "declined" and "b does not want to meet a" in u.reason
    assert frozenset("ac") not in unplaced(result)  # nobody asked for it: no reason needed


def test_met_before_excluded_unless_repeats_allowed_or_organizer_says_so() -> None:
    common: dict[str, Any] = {
        "participants": people("a", "b", "c", "d"),
        "met_before": [["a", "b"], ["c", "d"]],
        "wishes": [wish("a", "b", "must")],
        "overrides": [{"a": "c", "b": "d", "level": "want"}],
        "tables": [{"id": "T1"}, {"id": "T2"}],
    }
    result = run(event(**common))
    assert pairs(result) == {frozenset("cd")}
    assert unplaced(result)[frozenset("ab")].code == "met_before"
    again = run(event(**common, allow_repeat=True))
    assert pairs(again) == {frozenset("ab"), frozenset("cd")}


def test_max_meetings() -> None:
    ev = event(
        slots=4,
        tables=[{"id": "T1"}, {"id": "T2"}],
        participants=[{"id": "a", "max": 2}, *people("b", "c", "d")],
        wishes=[wish("a", "b", "must", 1), wish("a", "c", "must", 2), wish("a", "d", "must", 3)],
    )
    result = run(ev)
    assert pairs(result) == {frozenset("ab"), frozenset("ac")}
    u = unplaced(result)[frozenset("ad")]
    assert u.code == "max_meetings" and "a (2)" in u.reason


def test_minimum_meetings_come_before_value() -> None:
    ev = event(
        slots=2,
        participants=[*people("a", "b", "c", "d", "f"), {"id": "e", "min": 1}],
        wishes=[
            wish("a", "b", "must"),
            wish("b", "a", "must"),
            wish("c", "d", "must"),
            wish("d", "c", "must"),
            wish("e", "f"),
        ],
    )
    result = run(ev)
    assert frozenset("ef") in pairs(result)
    assert result.objective == MUTUAL_MUST + ONE_SIDED_WANT
    assert result.max_shortfall == 0 and not result.per_participant["e"].below_min
    # without the minimum the two mutual musts win
    free = run(event(slots=2, participants=people(*"abcdef"), wishes=[w for w in ev_wishes(ev)]))
    assert pairs(free) == {frozenset("ab"), frozenset("cd")}


def ev_wishes(ev: Event) -> list[dict[str, Any]]:
    return [wish(w.source, w.target, w.level, w.priority) for w in ev.wishes]


def test_an_unreachable_minimum_is_capped_and_hurts_nobody() -> None:
    ev = event(
        slots=3,
        participants=[{"id": "e", "min": 3}, *people("f", "a", "b")],
        wishes=[wish("e", "f"), wish("a", "b", "must"), wish("b", "a", "must")],
    )
    result = run(ev)
    stats = result.per_participant["e"]
    assert (stats.meetings, stats.min, stats.effective_min, stats.below_min) == (1, 3, 1, True)
    assert result.max_shortfall == 0
    assert pairs(result) == {frozenset("ef"), frozenset("ab")}


def test_locked_meetings_are_kept_exactly() -> None:
    ev = event(
        slots=2,
        participants=people("a", "b", "c", "d"),
        wishes=[wish("a", "b", "must"), wish("b", "a", "must"), wish("a", "c", "must")],
        locked=[{"a": "c", "b": "d", "slot": 0, "table": "T1"}],
    )
    result = run(ev)
    assert [(m.a, m.b, m.slot, m.table) for m in result.meetings] == [
        ("c", "d", 0, "T1"),
        ("a", "b", 1, "T1"),
    ]
    assert unplaced(result)[frozenset("ac")].code == "lower_priority"


def test_locked_meeting_without_table_gets_one() -> None:
    ev = event(
        slots=1,
        tables=[{"id": "T1"}, {"id": "T2"}],
        participants=people(*"abcd"),
        wishes=[wish("a", "b")],
        locked=[{"a": "c", "b": "d", "slot": 0}],
    )
    result = run(ev)
    assert {m.table for m in result.meetings} == {"T1", "T2"}


def test_attendees_hold_parallel_meetings() -> None:
    ev = event(
        slots=1,
        tables=[{"id": "T1"}, {"id": "T2"}, {"id": "T3"}],
        participants=[{"id": "a", "attendees": 2}, *people("b", "c", "d")],
        wishes=[wish("b", "a", "must"), wish("c", "a", "must"), wish("d", "a", "must")],
    )
    result = run(ev)
    assert len(result.meetings) == 2
    assert all("a" in m.pair and m.slot == 0 for m in result.meetings)


def test_table_capacity_classes() -> None:
    ev = event(
        slots=1,
        tables=[{"id": "small", "capacity": 2}, {"id": "big", "capacity": 6}],
        participants=[
            {"id": "D", "party_size": 4},
            {"id": "E", "party_size": 4},
            *people("x", "y", "z", "w"),
        ],
        wishes=[
            wish("y", "z", "must"),
            wish("D", "x", "must"),
            wish("E", "w", "want"),
            wish("D", "E", "must"),
        ],
    )
    result = run(ev)
    at = {m.pair: m.table for m in result.meetings}
    assert at == {frozenset("Dx"): "big", frozenset("yz"): "small"}
    missing = unplaced(result)
    assert missing[frozenset("Ew")].code == "table_capacity"
    assert missing[frozenset("DE")].code == "table_capacity"
    assert "no free table seats 8" in missing[frozenset("DE")].reason


def test_priority_decides_between_equal_levels() -> None:
    ev = event(
        slots=1,
        tables=2,
        participants=people("a", "b", "c"),
        wishes=[wish("a", "b", "must", 5), wish("a", "c", "must", 1)],
    )
    assert pairs(run(ev)) == {frozenset("ac")}


def test_suggestions_fill_free_slots_by_score() -> None:
    ev = event(
        slots=1,
        participants=people("a", "b", "c"),
        suggestions=[{"a": "a", "b": "b", "score": 0.2}, {"a": "a", "b": "c", "score": 0.9}],
    )
    result = run(ev)
    assert pairs(result) == {frozenset("ac")}
    assert result.unplaced == ()  # suggestions are not requests


def test_fewer_idle_gaps() -> None:
    ev = event(
        slots=4,
        participants=[{"id": "a"}, {"id": "b"}, {"id": "c", "available": [3]}],
        wishes=[wish("a", "b"), wish("a", "c")],
    )
    result = run(ev)
    slots = {m.pair: m.slot for m in result.meetings}
    assert slots == {frozenset("ab"): 2, frozenset("ac"): 3}
    assert result.idle_gaps == 0


def test_bound_and_gap_reported_when_stopped_early() -> None:
    rng = random.Random(3)
    ids = [f"p{i}" for i in range(40)]
    wishes = []
    for pid in ids:
        for other in rng.sample([o for o in ids if o != pid], 6):
            wishes.append(wish(pid, other, rng.choice(["must", "want", "want"])))
    ev = event(
        slots=8, tables=8, participants=[{"id": pid, "min": 2} for pid in ids], wishes=wishes
    )
    result = run(ev, time_limit=2.0)
    assert result.time_s < 6
    assert result.objective >= result.greedy_objective
    assert result.bound >= result.objective and result.gap == pytest.approx(
        (result.bound - result.objective) / result.bound
    )
    assert result.max_shortfall == 0
    assert [s.name for s in result.stages][:2] == ["fairness", "value"]


# --- brute force ------------------------------------------------------------------------


def _feasible(ev: Event, assignment: dict[frozenset[str], int]) -> bool:
    busy: Counter[tuple[str, int]] = Counter()
    count: Counter[str] = Counter()
    per_slot: dict[int, list[int]] = {}
    for pair, slot in assignment.items():
        for pid in pair:
            p = ev.participant(pid)
            if not p.is_available(slot):
                return False
            busy[(pid, slot)] += 1
            count[pid] += 1
            if busy[(pid, slot)] > p.attendees or count[pid] > ev.max_meetings(p):
                return False
        per_slot.setdefault(slot, []).append(sum(ev.participant(x).party_size for x in pair))
    for slot, needs in per_slot.items():  # seat the largest first on the smallest that fits
        free = sorted((t.capacity or 99) for t in ev.tables if t.is_available(slot))
        for need in sorted(needs, reverse=True):
            fit = [c for c in free if c >= need]
            if not fit:
                return False
            free.remove(fit[0])
    return True


def brute_force(ev: Event) -> tuple[int, int, int]:
    """(worst shortfall, total shortfall, -value) of the best schedule, by enumeration."""
    wishes = {(w.source, w.target): w for w in ev.wishes}
    scores = {frozenset((s.a, s.b)): s.score for s in ev.suggestions}
    candidates = {frozenset((w.source, w.target)) for w in ev.wishes} | set(scores)
    refused = {frozenset((w.source, w.target)) for w in ev.wishes if w.level == "no"}
    blocked = {frozenset(p) for p in ev.blocked}
    values = {}
    for pair in candidates - refused - blocked:
        a, b = sorted(pair)
        value = pair_value(wishes.get((a, b)), wishes.get((b, a)), None, scores.get(pair))[0]
        values[pair] = value
    effmin = build_problem(ev).effective_min
    options = list(values)
    best = None
    for choice in itertools.product(range(-1, ev.slots), repeat=len(options)):
        assignment = {pair: s for pair, s in zip(options, choice, strict=True) if s >= 0}
        if not _feasible(ev, assignment):
            continue
        count = Counter(pid for pair in assignment for pid in pair)
        short = [max(0, m - count[pid]) for pid, m in effmin.items()]
        key = (max(short, default=0), sum(short), -sum(values[p] for p in assignment))
        best = key if best is None or key < best else best
    assert best is not None
    return best


def random_tiny_event(seed: int) -> Event:
    rng = random.Random(seed)
    ids = ["a", "b", "c", "d", "e"]
    parts = []
    for pid in ids:
        p: dict[str, Any] = {"id": pid, "min": rng.choice([0, 0, 1, 2])}
        if rng.random() < 0.3:
            p["available"] = sorted(rng.sample(range(3), 2))
        if rng.random() < 0.2:
            p["attendees"] = 2
        if rng.random() < 0.2:
            p["party_size"] = 2
        if rng.random() < 0.3:
            p["max"] = max(p["min"], rng.choice([1, 2]))
        parts.append(p)
    all_pairs = list(itertools.combinations(ids, 2))
    rng.shuffle(all_pairs)
    wishes = []
    for a, b in all_pairs[:5]:
        src, dst = (a, b) if rng.random() < 0.5 else (b, a)
        wishes.append(wish(src, dst, rng.choice(["must", "want", "want", "no"]), rng.randint(1, 5)))
    tables = [{"id": "T1", "capacity": rng.choice([2, 3, 4])}]
    if rng.random() < 0.5:
        tables.append({"id": "T2"})
    return event(
        slots=3,
        tables=tables,
        participants=parts,
        wishes=wishes,
        blocked=[list(all_pairs[0])] if rng.random() < 0.3 else [],
        suggestions=[{"a": all_pairs[5][0], "b": all_pairs[5][1], "score": 0.5}],
    )


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force_on_tiny_events(seed: int) -> None:
    ev = random_tiny_event(seed)
    result = run(ev)
    expected = brute_force(ev)
    assert (result.max_shortfall, result.total_shortfall, -result.value) == expected
    assert result.status == "OPTIMAL" and result.gap == 0


@pytest.mark.parametrize("seed", range(4))
def test_cp_sat_alone_matches_brute_force(seed: int) -> None:
    ev = random_tiny_event(100 + seed)
    result = run(ev, use_lp=False)
    assert (result.max_shortfall, result.total_shortfall, -result.value) == brute_force(ev)
    assert result.status == "OPTIMAL"


def test_fairness_stage_repairs_a_poor_hint(monkeypatch: pytest.MonkeyPatch) -> None:
    # With an empty greedy hint nobody reaches their minimum; stage 1 (CP-SAT) must.
    import models.events.solver as solver_module

    monkeypatch.setattr(solver_module, "greedy", lambda *args, **kwargs: {})
    ev = event(
        slots=2,
        participants=[*people("a", "b", "c", "d", "f"), {"id": "e", "min": 2}],
        wishes=[wish("a", "b", "must"), wish("b", "a", "must"), wish("e", "f"), wish("e", "c")],
    )
    result = run(ev)
    assert result.greedy_objective == 0
    assert result.stages[0].name == "fairness" and result.stages[0].status == "OPTIMAL"
    assert result.per_participant["e"].meetings == 2 and result.max_shortfall == 0
    assert pairs(result) == {frozenset("ef"), frozenset("ce")}


def test_no_time_left_still_gives_the_greedy_schedule_with_a_valid_bound() -> None:
    ev = event(
        slots=2,
        participants=people("a", "b", "c", "d"),
        wishes=[wish("a", "b", "must"), wish("c", "d"), wish("a", "c")],
    )
    result = run(ev, time_limit=0)
    assert result.objective == result.greedy_objective > 0
    assert result.bound >= result.objective
    assert "NOT RUN (time limit)" in [s.status for s in result.stages]
