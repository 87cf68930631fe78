"""The two searches of the MaxSAT engine checked against each other.

The neighbourhood search (upper bounds) and RC2 (lower bounds) are run alone on the same
medium instances, too big to enumerate: each must prove the same optimum by its own
means, and every lower bound either reports along the way must stay at or below it."""

from __future__ import annotations

import random
import re

import pytest

import models.b2b.solver as solver_module
from models.b2b import B2BInstance, B2BResult, solve, validate_schedule
from models.b2b.encoding import EncodingOptions
from models.b2b.result import breaks_per_participant


def medium_instance(seed: int) -> B2BInstance:
    """10-14 participants, 20-30 meetings, 6-8 slots, scarce tables: breaks are forced."""
    rng = random.Random(seed)
    n_part = rng.randint(10, 14)
    n_slots = rng.randint(6, 8)
    pairs = [(a, b) for a in range(1, n_part + 1) for b in range(a + 1, n_part + 1)]
    rng.shuffle(pairs)
    degree = dict.fromkeys(range(1, n_part + 1), 0)
    chosen: list[tuple[int, int]] = []
    for a, b in pairs:  # at most n_slots - 2 meetings each, so forbidden slots still fit
        if len(chosen) < 28 and max(degree[a], degree[b]) < n_slots - 2:
            chosen.append((a, b))
            degree[a] += 1
            degree[b] += 1
    meetings = [(a, b, rng.choice((1, 2, 3, 3, 3, 3, 3))) for a, b in chosen]
    forbidden = {p: [rng.randint(1, n_slots)] for p in range(1, n_part + 1) if rng.random() < 0.3}
    return B2BInstance.build(
        n_participants=n_part,
        meetings=meetings,
        n_tables=(len(meetings) + n_slots - 1) // n_slots + 1,
        n_slots=n_slots,
        n_morning_slots=n_slots // 2 + 1,
        forbidden=forbidden,
    )


def _rc2_off(self: object, *args: object, **kwargs: object) -> None:
    raise solver_module._OutOfTime


def _never_started(*args: object, **kwargs: object) -> None:
    return None


@pytest.mark.parametrize("seed", range(6))
def test_neighbourhood_search_and_rc2_prove_the_same_optimum(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    inst = medium_instance(seed)
    with monkeypatch.context() as mp:
        mp.setattr(solver_module, "_upper_bound_process", _never_started)
        lower_only = solve(inst, fairness=-1, time_limit=60, workers=2)
    with monkeypatch.context() as mp:
        mp.setattr(solver_module._TimedRC2, "compute", _rc2_off)
        mp.setattr(solver_module, "_UB_START_MAX_S", 0.0)
        upper_only = solve(inst, fairness=-1, time_limit=60, workers=2)
    _same_optimum(inst, lower_only, upper_only)


def test_every_reported_lower_bound_is_valid() -> None:
    """Bounds are raised as soon as a core is found, before it is trimmed or minimized:
    none may exceed the optimum."""
    checked = 0
    for seed in range(10, 16):
        inst = medium_instance(seed)
        said: list[str] = []
        res = solve(inst, fairness=2, time_limit=60, progress=said.append)
        if res.status != "optimal" or res.breaks is None:
            continue
        bounds = [int(m.group(1)) for s in said if (m := re.match(r"lower bound (\d+)", s))]
        assert all(b <= res.breaks for b in bounds), (seed, bounds, res.breaks)
        checked += bool(bounds)
    assert checked, "no instance needed a lower bound: the generator no longer forces breaks"


def test_neighbourhoods() -> None:
    inst = medium_instance(3)
    rng = random.Random(0)
    slot_of = {m: (m % inst.n_slots) + 1 for m in range(1, inst.n_meetings + 1)}
    per_p = breaks_per_participant(inst, slot_of)
    kinds = set()
    for _ in range(40):
        kind, freed = solver_module._neighbourhood(inst, slot_of, 8, rng)
        kinds.add(kind)
        assert freed and freed <= set(slot_of)
        if kind == "window":  # every meeting of a run of consecutive slots
            slots = {slot_of[m] for m in freed}
            lo, hi = min(slots), max(slots)
            assert freed == {m for m, t in slot_of.items() if lo <= t <= hi}
        else:  # grown from a participant with a break
            assert any(
                per_p[p - 1] and all(m in freed for m in inst.meetings_of(p))
                for p in range(1, inst.n_participants + 1)
            )
    assert kinds == {"window", "participants"}


@pytest.mark.parametrize("seed", range(100, 112))
def test_the_search_encoding_keeps_the_optimum(seed: int) -> None:
    """Block starts and both capacity forms (the neighbourhood search's encoding) are
    implied constraints: alone, with RC2, they give the brute-force optimum."""
    from tests.models.b2b.test_solver import brute_force, random_instance

    rng = random.Random(seed)
    inst = random_instance(rng)
    d = rng.choice((-1, 0, 1, 2))
    expected = brute_force(inst, d)
    options = EncodingOptions(blocks=True, both_capacities=True)
    res = solve(inst, fairness=d, time_limit=20, workers=1, encoding_options=options)
    if expected is None:
        assert res.status == "infeasible", res
    else:
        assert (res.status, res.breaks) == ("optimal", expected), res


@pytest.mark.parametrize("seed", range(3))
def test_sideways_steps_keep_the_search_sound(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """With a sideways step after every failed neighbourhood (to a different schedule
    with as many breaks), the neighbourhood search alone still proves RC2's optimum and
    every schedule it offers is valid."""
    inst = medium_instance(seed)
    with monkeypatch.context() as mp:
        mp.setattr(solver_module, "_upper_bound_process", _never_started)
        lower_only = solve(inst, fairness=-1, time_limit=60, workers=2)
    said: list[str] = []
    with monkeypatch.context() as mp:
        mp.setattr(solver_module._TimedRC2, "compute", _rc2_off)
        mp.setattr(solver_module, "_UB_START_MAX_S", 0.0)
        mp.setattr(solver_module, "_SIDEWAYS_AFTER", 1)
        upper_only = solve(inst, fairness=-1, time_limit=60, workers=2, progress=said.append)
    _same_optimum(inst, lower_only, upper_only)


def test_sideways_step_moves_a_freed_meeting() -> None:
    """A sideways step keeps the breaks but changes the schedule: run in this process,
    the search reports steps to schedules with the same number of breaks."""
    import time

    from models.b2b.encoding import compute_domains, encode

    inst = medium_instance(4)
    first = solve(inst, fairness=-1, time_limit=5, workers=1)
    assert first.status == "optimal" and first.breaks is not None and first.breaks > 0
    slots = {m: t for m, t, _ in first.meetings}
    said: list[str] = []
    shared = solver_module._Shared(time.monotonic() + 3, said.append)
    shared.best_cost, shared.best_slots = first.breaks, slots
    shared.lower = 0  # RC2's optimum is not known to the search: it keeps looking
    enc = encode(inst, compute_domains(inst), -1, solver_module._lns_options(None))
    errors: list[BaseException] = []
    old = solver_module._SIDEWAYS_AFTER
    solver_module._SIDEWAYS_AFTER = 1
    try:
        solver_module._lns_search(inst, enc, shared, errors, 0.0, seed=1)
    finally:
        solver_module._SIDEWAYS_AFTER = old
    assert not errors
    steps = [s for s in said if s.startswith("sideways step")]
    assert steps, said
    assert all(int(s.split(", ")[1].split()[0]) == first.breaks for s in steps), steps
    assert shared.best_cost == first.breaks  # optimal already: nothing better was offered


def test_throttle_only_on_a_busy_machine_while_rc2_progresses() -> None:
    wanted = solver_module._throttle_wanted
    assert wanted(since_bound=1.0, stale_s=9.0, overloaded=True)
    assert not wanted(since_bound=10.0, stale_s=9.0, overloaded=True)  # RC2 stalls
    assert not wanted(since_bound=1.0, stale_s=9.0, overloaded=False)  # an idle core
    assert isinstance(solver_module._overloaded(), bool)


def _same_optimum(inst: B2BInstance, lower_only: B2BResult, upper_only: B2BResult) -> None:
    """RC2 alone and the search alone agree: both infeasible, or both optimal at the same
    number of breaks, the search's schedule valid."""
    if lower_only.status == "infeasible":
        assert upper_only.status == "infeasible"
        return
    assert lower_only.status == upper_only.status == "optimal", (lower_only, upper_only)
    assert upper_only.breaks == upper_only.bound == lower_only.breaks
    rep = validate_schedule(inst, upper_only.meetings, -1, expected_breaks=upper_only.breaks)
    assert rep.ok, rep.violations
