"""The solver on tiny instances with known optima, cross-checked by brute force."""

from __future__ import annotations

import dataclasses
import itertools
import random
from pathlib import Path

import pytest

from models.b2b import B2BInstance, read_dzn, solve, solve_file, validate_schedule
from models.b2b.encoding import (
    EncodingOptions,
    compute_domains,
    reversal_meeting,
    symmetry_breaks,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "b2b"


def check(inst: B2BInstance, d: int, expected: int | None, engine: str = "maxsat") -> None:
    """Solve and compare with a known optimum (None = infeasible); validate the schedule."""
    res = solve(inst, fairness=d, time_limit=20, engine=engine)  # type: ignore[arg-type]
    if expected is None:
        assert res.status == "infeasible", res
        assert res.breaks is None and res.meetings == ()
        return
    assert res.status == "optimal", res
    assert res.breaks == expected and res.bound == expected
    rep = validate_schedule(inst, res.meetings, d, expected_breaks=res.breaks)
    assert rep.ok, rep.violations
    assert res.per_participant_breaks == rep.breaks


def triangle(n_slots: int) -> B2BInstance:
    return B2BInstance.build(
        n_participants=3, meetings=[(1, 2), (2, 3), (1, 3)], n_tables=3, n_slots=n_slots
    )


@pytest.mark.parametrize("engine", ["maxsat", "cpsat"])
def test_fixtures_with_known_optima(engine: str) -> None:
    check(read_dzn(DATA / "small.dzn"), 2, 1, engine)
    check(read_dzn(DATA / "k4.dzn"), 2, 0, engine)
    check(read_dzn(DATA / "triangle_infeasible.dzn"), 2, None, engine)


def test_triangle() -> None:
    # any two of the three meetings share a participant: the first and last one's
    # shared participant waits through the middle slot
    check(triangle(3), 2, 1)
    # with five slots, d = 0 forces everyone to have the same number of breaks: spreading
    # the meetings over slots 1, 3, 5 gives each participant exactly one
    check(triangle(5), 0, 3)
    check(triangle(5), 1, 1)
    check(triangle(5), -1, 1)


def test_forced_break_and_fairness() -> None:
    # participant 1 cannot make slot 2 and meets 2 and 3: one break, others have none
    star = B2BInstance.build(
        n_participants=3, meetings=[(1, 2), (1, 3)], n_tables=1, n_slots=3, forbidden={1: [2]}
    )
    check(star, 2, 1)
    check(star, 1, 1)
    check(star, 0, None)  # 1 - 0 > 0
    check(star, -1, 1)


def test_capacity_and_tables() -> None:
    # K4 round robin needs 2 tables per slot; with 1 table it cannot fit in 3 slots
    k4 = read_dzn(DATA / "k4.dzn")
    one_table = B2BInstance.build(
        n_participants=4, meetings=[(m.p1, m.p2) for m in k4.meetings], n_tables=1, n_slots=3
    )
    check(one_table, 2, None)
    res = solve(k4, time_limit=20)
    per_slot: dict[int, set[int]] = {}
    for _, t, k in res.meetings:
        per_slot.setdefault(t, set()).add(k)
    assert per_slot and all(tables == {1, 2} for tables in per_slot.values())


def test_sessions_precedences_and_fixed() -> None:
    inst = B2BInstance.build(
        n_participants=4,
        meetings=[(1, 2, 2), (1, 3, 3), (1, 4, 1)],
        n_tables=2,
        n_slots=4,
        n_morning_slots=2,
        fixed={2: 2},
        precedences={1: [2]},
    )
    res = solve(inst, time_limit=20)
    slots = {m: t for m, t, _ in res.meetings}
    assert slots[2] == 2 and slots[3] in (1, 2) and slots[1] in (3, 4)
    check(inst, 2, 0)  # 4-1 at 1, 3-1 at 2, 2-1 at 3


def test_domain_infeasibility_is_explained() -> None:
    no_afternoon = B2BInstance.build(
        n_participants=2, meetings=[(1, 2, 2)], n_tables=1, n_slots=3, n_morning_slots=3
    )
    res = solve(no_afternoon, time_limit=5)
    assert res.status == "infeasible"
    assert "meeting 1" in res.message and "no possible slot" in res.message
    too_busy = B2BInstance.build(
        n_participants=4,
        meetings=[(1, 2), (1, 3), (1, 4)],
        n_tables=3,
        n_slots=3,
        forbidden={1: [3]},
    )
    res = solve(too_busy, time_limit=5)
    assert res.status == "infeasible" and "participant 1 has 3 meetings" in res.message
    chain = B2BInstance.build(
        n_participants=6,
        meetings=[(1, 2), (3, 4), (5, 6)],
        n_tables=3,
        n_slots=2,
        precedences={2: [1], 3: [2]},
    )
    assert solve(chain, time_limit=5).status == "infeasible"


def test_to_json_and_solve_file() -> None:
    res = solve_file(DATA / "small.dzn", fairness=2, time_limit=20)
    out = res.to_json()
    assert {"status", "breaks", "bound", "meetings"} <= set(out)
    assert out["status"] == "optimal" and out["breaks"] == 1 and out["bound"] == 1
    assert len(out["meetings"]) == 5
    assert all(set(row) == {"meeting", "slot", "table"} for row in out["meetings"])
    assert [row["meeting"] for row in out["meetings"]] == [1, 2, 3, 4, 5]
    assert out["per_participant_breaks"] == [0, 0, 1, 0, 0]
    infeasible = solve_file(DATA / "triangle_infeasible.dzn").to_json()
    assert infeasible["status"] == "infeasible"
    assert infeasible["breaks"] is None and infeasible["bound"] is None
    assert infeasible["meetings"] == []


def test_progress_and_argument_checks() -> None:
    lines: list[str] = []
    solve(triangle(4), progress=lines.append, time_limit=10)
    assert any("encoded" in line for line in lines)
    assert any("breaks" in line for line in lines)
    with pytest.raises(ValueError, match="time_limit"):
        solve(triangle(3), time_limit=0)
    with pytest.raises(ValueError, match="engine"):
        solve(triangle(3), engine="glpk")  # type: ignore[arg-type]


def test_symmetry_detection() -> None:
    # participants 2, 3 and 4 each have a single meeting, with 1: twins
    star = B2BInstance.build(
        n_participants=5, meetings=[(1, 2), (1, 3), (1, 4), (4, 5)], n_tables=2, n_slots=4
    )
    assert symmetry_breaks(star) == [(1, 2)]  # 2 and 3 (4 also meets 5)
    doms = compute_domains(star)
    assert reversal_meeting(star, doms) == 3  # not a twin's meeting, busiest participants
    star_prec = B2BInstance.build(
        n_participants=5,
        meetings=[(1, 2), (1, 3), (1, 4), (4, 5)],
        n_tables=2,
        n_slots=4,
        precedences={4: [3]},
    )
    assert reversal_meeting(star_prec, compute_domains(star_prec)) is None


# --------------------------------------------------------------------------- brute force


def brute_force(inst: B2BInstance, d: int) -> int | None:
    """Optimal total breaks by enumeration (None when infeasible), independent code."""
    doms = [inst.allowed_slots(m) for m in range(1, inst.n_meetings + 1)]
    best: int | None = None
    for slots in itertools.product(*doms):
        load: dict[int, int] = {}
        busy: dict[int, set[int]] = {p: set() for p in range(1, inst.n_participants + 1)}
        ok = True
        for m, t in enumerate(slots, start=1):
            load[t] = load.get(t, 0) + 1
            mt = inst.meetings[m - 1]
            for p in (mt.p1, mt.p2):
                if t in busy[p]:
                    ok = False
                busy[p].add(t)
            if any(slots[b - 1] >= t for b in inst.precedences[m - 1]):
                ok = False
        if not ok or max(load.values()) > inst.n_tables:
            continue
        breaks = []
        for ts in busy.values():
            s = sorted(ts)
            breaks.append(sum(1 for a, b in itertools.pairwise(s) if b > a + 1))
        if d >= 0 and max(breaks) - min(breaks) > d:
            continue
        if best is None or sum(breaks) < best:
            best = sum(breaks)
    return best


def random_instance(rng: random.Random) -> B2BInstance:
    n_part = rng.randint(3, 6)
    n_slots = rng.randint(3, 5)
    n_meet = rng.randint(3, min(6, n_part * (n_part - 1) // 2))
    pairs = [(a, b) for a in range(1, n_part + 1) for b in range(a + 1, n_part + 1)]
    if rng.random() < 0.4:  # a star: leaves that meet only the hub are twins
        pairs = [(1, b) for b in range(2, n_part + 1)] + pairs
        chosen = pairs[:n_meet]
    else:
        chosen = rng.sample(pairs, n_meet)
    plain = rng.random() < 0.4  # no extra rules: time reversal applies
    meetings = [(a, b, 3 if plain else rng.choice((1, 2, 3, 3, 3, 3))) for a, b in chosen]
    forbidden: dict[int, list[int]] = {}
    fixed: dict[int, int] = {}
    precedences: dict[int, list[int]] = {}
    if not plain:
        for p in range(1, n_part + 1):
            if rng.random() < 0.3:
                forbidden[p] = [rng.randint(1, n_slots)]
        for m in range(1, n_meet + 1):
            if rng.random() < 0.1:
                fixed[m] = rng.randint(1, n_slots)
            if m > 1 and rng.random() < 0.2:
                precedences[m] = [rng.randint(1, m - 1)]
    return B2BInstance.build(
        n_participants=n_part,
        meetings=meetings,
        n_tables=rng.choice((1, 2, 2, 3)),
        n_slots=n_slots,
        n_morning_slots=rng.randint(1, n_slots),
        forbidden=forbidden,
        fixed=fixed,
        precedences=precedences,
    )


@pytest.mark.parametrize("seed", range(40))
def test_matches_brute_force(seed: int) -> None:
    rng = random.Random(seed)
    inst = random_instance(rng)
    d = rng.choice((-1, 0, 1, 2))
    expected = brute_force(inst, d)
    check(inst, d, expected)
    if seed % 8 == 0:
        check(inst, d, expected, engine="cpsat")


@pytest.mark.parametrize("part", [f.name for f in dataclasses.fields(EncodingOptions)])
def test_optional_encoding_parts_do_not_change_the_optimum(part: str) -> None:
    options = EncodingOptions(**{part: False})
    for seed in range(100, 112):
        rng = random.Random(seed)
        inst = random_instance(rng)
        d = rng.choice((-1, 0, 1, 2))
        expected = brute_force(inst, d)
        res = solve(inst, fairness=d, time_limit=20, encoding_options=options)
        if expected is None:
            assert res.status == "infeasible", (seed, res)
        else:
            assert (res.status, res.breaks) == ("optimal", expected), (seed, res)


def test_time_limit_before_any_schedule_gives_unknown() -> None:
    res = solve(read_dzn(DATA / "k4.dzn"), time_limit=1e-9)
    assert res.status == "unknown"
    assert res.breaks is None and res.meetings == ()
    assert res.to_json()["status"] == "unknown"


def test_time_limit_during_optimization_keeps_the_first_schedule(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import models.b2b.solver as solver_module

    def out_of_time(self: object, *args: object, **kwargs: object) -> None:
        raise solver_module._OutOfTime

    monkeypatch.setattr(solver_module._TimedRC2, "compute", out_of_time)
    inst = triangle(5)
    res = solve(inst, fairness=0, time_limit=5, workers=1)
    assert res.status == "feasible" and res.message == "time limit reached"
    assert res.breaks is not None and res.bound == 0
    report = validate_schedule(inst, res.meetings, 0, expected_breaks=res.breaks)
    assert report.ok, report.violations
