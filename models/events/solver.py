"""The schedule solver: CP-SAT over candidate pairs × their common free slots.

One boolean per (candidate pair, slot). Constraints: a pair meets at most once; a
participant holds at most `attendees` meetings per slot and at most `max` in all; per slot,
meetings needing at least c seats ≤ free tables seating c (tables are seated afterwards,
see `seating`). Goals, lexicographically, each a CP-SAT solve hinted with the last answer:

1. fairness: minimize the worst shortfall below a participant's effective minimum, then
   the total shortfall (skipped when the greedy hint already reaches every minimum);
2. value: maximize the total value of placed meetings (plus, when re-planning, a bonus for
   each previous meeting kept and for keeping it in its slot) — the reported objective,
   bound and gap are those of this stage. Before CP-SAT sees the full model, the LP
   relaxation (GLOP) gives a bound and a rounding (see `lp`); CP-SAT then solves the
   small problem near the LP solution (each pair only in the slots the LP gave it, the
   pairs of anyone short of a minimum in all their slots; RINS-like), and finally the
   full model runs, hinted with the best schedule so far, to improve or prove it;
3. idle gaps: re-time the chosen meetings (each exactly once, so value and fairness are
   unchanged) to minimize blocks of consecutive meetings per participant (= idle gaps + 1).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from time import perf_counter

from ortools.sat.python import cp_model

from models.events.candidates import Problem, build_problem
from models.events.explain import explain_unplaced, participant_stats
from models.events.greedy import greedy
from models.events.lp import solve_lp
from models.events.model import Event, Meeting, validate_event
from models.events.result import ChangeReport, Schedule, Stage, Unplaced, sorted_meetings
from models.events.seating import ToSeat, assign_tables

KEEP_BONUS = 4_000  # re-planning: a previous meeting still takes place ...
STAY_BONUS = 4_000  # ... and in the same slot
# Shares of the time left when each step starts.
FAIRNESS_SHARE = 0.25
LP_SHARE = 0.3
# Minimum constraints make the LP much more fractional and slow (GLOP re-solves do not
# warm-start here: 0.4 s at 100 participants, 5-10 s at 300, over a minute at 1,000), so the
# LP takes them only on small models; large ones get a slightly looser bound.
LP_MINIMUM_ROUNDS = 3
LP_MINIMUM_MAX_CELLS = 20_000
FINISH_SHARE = 0.6  # CP-SAT on what the LP left fractional
IDLE_GAP_SHARE = 0.5  # kept back from the value stage for stage 3
FINISH_RESERVE = 0.01  # of the time limit, for the work after the last stage
PRESOLVE_MAX_CELLS = 60_000  # larger full models are solved without CP-SAT's presolve


Weight = Callable[[int, int], int]
StageHook = Callable[[str], None]
"""Told the name of each step as it starts ("greedy", "fairness", "lp", "near_lp", "value",
"idle_gaps", "seating"), so that a caller can show where a long solve is."""


@dataclass
class _Vars:
    model: cp_model.CpModel
    cells: list[tuple[int, int, cp_model.IntVar]]  # (pair index, slot, var)
    weights: list[int]  # objective weight of each cell
    by_participant: dict[str, list[cp_model.IntVar]]
    by_participant_slot: dict[tuple[str, int], list[cp_model.IntVar]]

    def count(self, pid: str) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.sum(self.by_participant.get(pid, []))

    def value(self) -> cp_model.LinearExpr:
        return cp_model.LinearExpr.weighted_sum([var for _, _, var in self.cells], self.weights)

    def hint(self, placed: Mapping[int, int]) -> None:
        self.model.clear_hints()
        for k, t, var in self.cells:
            self.model.add_hint(var, placed.get(k) == t)

    def read(self, solver: cp_model.CpSolver) -> dict[int, int]:
        values = solver.response_proto.solution
        return {k: t for k, t, var in self.cells if values[var.index]}


def _build(problem: Problem, weight: Weight, exactly_one: bool = False) -> _Vars:
    """The CP-SAT model of `problem`: one boolean per (pair, slot); with `exactly_one`
    every pair must be placed (re-timing a selection)."""
    model = cp_model.CpModel()
    event = problem.event
    cells: list[tuple[int, int, cp_model.IntVar]] = []
    weights: list[int] = []
    by_p: dict[str, list[cp_model.IntVar]] = defaultdict(list)
    by_pt: dict[tuple[str, int], list[cp_model.IntVar]] = defaultdict(list)
    by_slot: dict[int, list[tuple[int, cp_model.IntVar]]] = defaultdict(list)
    for k, pair in enumerate(problem.pairs):
        own = []
        for t in pair.slots:
            var = model.new_bool_var(f"x{k}_{t}")
            own.append(var)
            cells.append((k, t, var))
            weights.append(weight(k, t))
            for pid in (pair.a, pair.b):
                by_p[pid].append(var)
                by_pt[(pid, t)].append(var)
            by_slot[t].append((pair.seats, var))
        if exactly_one:
            model.add_exactly_one(own)
        elif len(own) > 1:
            model.add_at_most_one(own)

    for (pid, t), xs in by_pt.items():
        room = event.participant(pid).attendees - problem.fixed_busy[(pid, t)]
        if len(xs) > room:
            model.add(cp_model.LinearExpr.sum(xs) <= room)
    for pid, xs in by_p.items():
        room = problem.max[pid] - problem.fixed_count[pid]
        if len(xs) > room:
            model.add(cp_model.LinearExpr.sum(xs) <= room)
    for t, items in by_slot.items():
        untabled = problem.untabled.get(t, [])
        for c, cap in problem.table_limits[t]:
            xs = [var for seats, var in items if seats >= c]
            fixed = sum(1 for s in untabled if s >= c)
            if len(xs) + fixed > cap:
                model.add(cp_model.LinearExpr.sum(xs) <= cap - fixed)
    return _Vars(model, cells, weights, dict(by_p), dict(by_pt))


def _need(problem: Problem) -> dict[str, int]:
    """Meetings each participant still needs beyond its fixed ones."""
    return {
        pid: m - problem.fixed_count[pid]
        for pid, m in problem.effective_min.items()
        if m - problem.fixed_count[pid] > 0
    }


def _add_fairness(v: _Vars, problem: Problem, shortfall: tuple[int, int] | None) -> None:
    """Stage 1's result as constraints: everybody at the effective minimum (None), or
    nobody more than `worst` short and at most `total` short in all."""
    need = _need(problem)
    if shortfall is None:
        for pid, n in need.items():
            v.model.add(v.count(pid) >= n)
        return
    worst, total = shortfall
    shorts = []
    for pid, n in need.items():
        short = v.model.new_int_var(0, min(worst, n), f"short_{pid}")
        v.model.add(v.count(pid) + short >= n)
        shorts.append(short)
    v.model.add(cp_model.LinearExpr.sum(shorts) <= total)


def _solver(
    limit: float, workers: int, seed: int, gap_limit: float, verbose: bool
) -> cp_model.CpSolver:
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = max(0.05, limit)
    solver.parameters.num_workers = workers
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = verbose
    if gap_limit > 0:
        solver.parameters.relative_gap_limit = gap_limit
    return solver


def _has_solution(status: cp_model.CpSolverStatus) -> bool:
    return status in (cp_model.OPTIMAL, cp_model.FEASIBLE)


def _shortfalls(problem: Problem, placed: Mapping[int, int]) -> dict[str, int]:
    count = dict(problem.fixed_count)
    for k in placed:
        pair = problem.pairs[k]
        count[pair.a] = count.get(pair.a, 0) + 1
        count[pair.b] = count.get(pair.b, 0) + 1
    return {pid: max(0, m - count.get(pid, 0)) for pid, m in problem.effective_min.items()}


def _worst_total(short: Mapping[str, int]) -> tuple[int, int]:
    return max(short.values(), default=0), sum(short.values())


@dataclass
class _IdleGaps:
    """Stage 3's extra variables, with what they mean so they can be hinted."""

    objective: cp_model.LinearExprT
    busy: list[tuple[cp_model.IntVar, str, int]]  # var == (pid busy in slot)
    starts: list[tuple[cp_model.IntVar, str, int, int | None]]  # busy in t, idle in prev


def _add_idle_gaps(problem: Problem, v: _Vars) -> _IdleGaps | None:
    """Blocks of consecutive meetings per participant (= idle gaps + 1 for anyone with a
    meeting), over the participant's available slots."""
    event, model = problem.event, v.model
    busy_vars: list[tuple[cp_model.IntVar, str, int]] = []
    starts: list[tuple[cp_model.IntVar, str, int, int | None]] = []
    constant = 0
    for p in event.participants:
        if problem.fixed_count[p.id] + len(problem.of.get(p.id, ())) < 2:
            continue
        prev_t: int | None = None
        prev_const, prev_expr = 0, None  # busy in the previous available slot
        for t in range(event.slots):
            if not p.is_available(t):
                continue
            xs = v.by_participant_slot.get((p.id, t), [])
            cur_expr: cp_model.LinearExprT | None
            if problem.fixed_busy[(p.id, t)] > 0:
                cur_const, cur_expr = 1, None
            elif not xs:
                cur_const, cur_expr = 0, None
            elif p.attendees == 1:
                cur_const, cur_expr = 0, cp_model.LinearExpr.sum(xs)
            else:
                b = model.new_bool_var(f"busy_{p.id}_{t}")
                model.add(cp_model.LinearExpr.sum(xs) >= b)
                model.add(cp_model.LinearExpr.sum(xs) <= p.attendees * b)
                busy_vars.append((b, p.id, t))
                cur_const, cur_expr = 0, b
            if cur_expr is None and prev_expr is None:
                constant += max(0, cur_const - prev_const)
            elif not (cur_expr is None and cur_const == 0):
                s = model.new_bool_var(f"start_{p.id}_{t}")
                cur = cur_expr if cur_expr is not None else cur_const
                prev = prev_expr if prev_expr is not None else prev_const
                model.add(s >= cur - prev)
                starts.append((s, p.id, t, prev_t))
            prev_t, prev_const, prev_expr = t, cur_const, cur_expr
    if not starts:
        return None
    return _IdleGaps(cp_model.LinearExpr.sum([s for s, *_ in starts]) + constant, busy_vars, starts)


def _hint_idle_gaps(
    model: cp_model.CpModel, problem: Problem, gaps: _IdleGaps, placed: Mapping[int, int]
) -> None:
    busy: set[tuple[str, int]] = {key for key, n in problem.fixed_busy.items() if n > 0}
    for k, t in placed.items():
        busy.add((problem.pairs[k].a, t))
        busy.add((problem.pairs[k].b, t))
    for var, pid, t in gaps.busy:
        model.add_hint(var, (pid, t) in busy)
    for var, pid, t, prev in gaps.starts:
        model.add_hint(var, (pid, t) in busy and (prev is None or (pid, prev) not in busy))


class _Search:
    """One solve: the problem, the objective weights, the clock, the stages run so far."""

    def __init__(
        self,
        problem: Problem,
        bonus: Mapping[int, int],
        stay: Mapping[int, int],
        deadline: float,
        workers: int,
        seed: int,
        gap_limit: float,
        verbose: bool,
    ) -> None:
        self.problem = problem
        self.bonus = bonus
        self.stay = stay
        self.deadline = deadline
        self.workers = workers
        self.seed = seed
        self.gap_limit = gap_limit
        self.verbose = verbose
        self.stages: list[Stage] = []
        self.notes: list[str] = []

    def weight(self, k: int, t: int) -> int:
        return (
            self.problem.pairs[k].value
            + self.bonus.get(k, 0)
            + (STAY_BONUS if self.stay.get(k) == t else 0)
        )

    def objective(self, placed: Mapping[int, int]) -> int:
        return self.problem.fixed_value + sum(self.weight(k, t) for k, t in placed.items())

    def left(self) -> float:
        return self.deadline - perf_counter()

    def solver(self, limit: float, gap_limit: float = 0.0) -> cp_model.CpSolver:
        return _solver(limit, self.workers, self.seed, gap_limit, self.verbose)

    def fair(self, placed: Mapping[int, int], shortfall: tuple[int, int] | None) -> bool:
        worst, total = _worst_total(_shortfalls(self.problem, placed))
        if shortfall is None:
            return worst == 0
        return worst <= shortfall[0] and total <= shortfall[1]

    def fairness(self, placed: dict[int, int]) -> tuple[tuple[int, int] | None, dict[int, int]]:
        """Stage 1: (worst, total) shortfall to keep (None: zero), and the schedule."""
        best = _worst_total(_shortfalls(self.problem, placed))
        if best == (0, 0):
            self.stages.append(Stage("fairness", "OPTIMAL (greedy)", 0, 0, 0.0))
            return None, placed
        if self.left() < 0.05:
            self.stages.append(Stage("fairness", "NOT RUN (time limit)", None, None, 0.0))
            return best, placed
        v = _build(self.problem, self.weight)
        need = _need(self.problem)
        short = {pid: v.model.new_int_var(0, n, f"short_{pid}") for pid, n in need.items()}
        for pid, n in need.items():
            v.model.add(v.count(pid) + short[pid] >= n)
        worst = v.model.new_int_var(0, max(need.values()), "worst_short")
        v.model.add_max_equality(worst, list(short.values()))
        weight = sum(need.values()) + 1
        v.model.minimize(weight * worst + cp_model.LinearExpr.sum(list(short.values())))
        v.hint(placed)
        solver = self.solver(self.left() * FAIRNESS_SHARE)
        started = perf_counter()
        status = solver.solve(v.model)
        if _has_solution(status):
            found = v.read(solver)
            mine = _worst_total(_shortfalls(self.problem, found))
            if mine <= best:
                best, placed = mine, found
        bound = solver.best_objective_bound if _has_solution(status) else 0.0
        self.stages.append(
            Stage(
                "fairness",
                solver.status_name(status),
                weight * best[0] + best[1],
                bound,
                perf_counter() - started,
            )
        )
        return (None if best == (0, 0) else best), placed

    def lp_round(
        self, placed: dict[int, int], shortfall: tuple[int, int] | None
    ) -> tuple[int | None, dict[int, int], dict[int, int], list[tuple[float, int, int]]]:
        """The LP bound, the best schedule so far, the rounding, and the LP's cells."""
        started = perf_counter()
        cells = [(k, t) for k, pair in enumerate(self.problem.pairs) for t in pair.slots]
        # Minimums go in only when stage 1 reached all of them and the model is small
        # (see LP_MINIMUM_ROUNDS); otherwise the rounding and its finishing see to them.
        lp = solve_lp(
            self.problem,
            cells,
            [self.weight(k, t) for k, t in cells],
            _need(self.problem) if shortfall is None else {},
            self.left() * LP_SHARE,
            max_rounds=LP_MINIMUM_ROUNDS if len(cells) <= LP_MINIMUM_MAX_CELLS else 1,
        )
        rounded: dict[int, int] = {}
        if lp.cells:
            lp_slot: dict[int, int] = {}
            lp_value: dict[int, float] = {}
            for value, k, t in lp.cells:
                lp_slot.setdefault(k, t)
                lp_value[k] = lp_value.get(k, 0.0) + value
            seeds = [(k, t) for value, k, t in lp.cells if value > 0.5]
            rounded = greedy(self.problem, self.bonus, {**lp_slot, **self.stay}, seeds, lp_value)
            if self.fair(rounded, shortfall) and self.objective(rounded) > self.objective(placed):
                placed = rounded
        self.notes.append(
            f"LP relaxation: bound {lp.bound}, {perf_counter() - started:.2f} s; "
            f"{sum(1 for c in lp.cells if c[0] > 1 - 1e-6)} of {len(lp.cells)} cells integral; "
            f"rounded to {self.objective(rounded)}"
        )
        return lp.bound, placed, rounded, lp.cells

    def finish_rounding(
        self,
        placed: dict[int, int],
        rounded: Mapping[int, int],
        lp_cells: Sequence[tuple[float, int, int]],
        shortfall: tuple[int, int] | None,
    ) -> dict[int, int]:
        """CP-SAT near the LP solution: each pair limited to the slots the LP or the
        rounding gave it (pairs the LP left out are out), except that the pairs of anyone
        the LP or the rounding left below its minimum (the LP may ignore minimums) keep all
        their slots. Small, so CP-SAT solves it quickly, with the minimums as hard
        constraints."""
        pairs = self.problem.pairs
        allowed: dict[int, set[int]] = defaultdict(set)
        for _, k, t in lp_cells:
            allowed[k].add(t)
        for k, t in rounded.items():
            allowed[k].add(t)
        mass: dict[str, float] = defaultdict(float)
        for value, k, _ in lp_cells:
            mass[pairs[k].a] += value
            mass[pairs[k].b] += value
        short = {pid for pid, n in _need(self.problem).items() if mass[pid] < n - 1e-6}
        short |= {pid for pid, n in _shortfalls(self.problem, rounded).items() if n > 0}
        for pid in short:
            for k in self.problem.of.get(pid, ()):
                allowed[k].update(pairs[k].slots)
        sub, kept = self.problem.restricted(allowed)
        if not sub.pairs:
            return placed
        v = _build(sub, lambda k, t: self.weight(kept[k], t))
        _add_fairness(v, sub, shortfall)
        v.model.maximize(v.value())
        back = {orig: k for k, orig in enumerate(kept)}
        v.hint({back[k]: t for k, t in rounded.items() if k in back})
        solver = self.solver(self.left() * FINISH_SHARE)
        started = perf_counter()
        status = solver.solve(v.model)
        if _has_solution(status):
            found = {kept[k]: t for k, t in v.read(solver).items()}
            if self.fair(found, shortfall) and self.objective(found) > self.objective(placed):
                placed = found
        self.notes.append(
            f"CP-SAT near the LP solution ({len(v.cells)} cells): "
            f"{solver.status_name(status)}, {self.objective(placed)}, "
            f"{perf_counter() - started:.1f} s"
        )
        return placed

    def value(
        self, placed: dict[int, int], shortfall: tuple[int, int] | None, lp_bound: int | None
    ) -> tuple[dict[int, int], float, bool, str]:
        """Stage 2 on the full model: (schedule, bound, optimal, status)."""
        started = perf_counter()
        bound = float(lp_bound) if lp_bound is not None else math.inf
        if lp_bound is not None and self.objective(placed) >= lp_bound:
            self.stages.append(
                Stage("value", "OPTIMAL (LP)", self.objective(placed), lp_bound, 0.0)
            )
            return placed, bound, True, "OPTIMAL"
        if not math.isfinite(bound):
            # No LP bound: fall back on every candidate placed at its best (valid, loose).
            bound = float(
                self.problem.fixed_value
                + sum(
                    max(self.weight(k, t) for t in pair.slots)
                    for k, pair in enumerate(self.problem.pairs)
                )
            )
        if self.left() < 0.05:
            self.stages.append(
                Stage("value", "NOT RUN (time limit)", self.objective(placed), bound, 0.0)
            )
            return placed, bound, self.objective(placed) >= bound, "FEASIBLE"
        v = _build(self.problem, self.weight)
        _add_fairness(v, self.problem, shortfall)
        v.model.maximize(v.value() + self.problem.fixed_value)
        v.hint(placed)
        solver = self.solver(self.left() * (1.0 - IDLE_GAP_SHARE), self.gap_limit)
        if len(v.cells) > PRESOLVE_MAX_CELLS:
            # Presolve alone outlasts the stage on big models (measured: no solution in 47 s
            # at 1,000 participants); without it CP-SAT starts from the hint at once.
            solver.parameters.cp_model_presolve = False
        status = solver.solve(v.model)
        if _has_solution(status) and math.isfinite(solver.best_objective_bound):
            bound = min(bound, solver.best_objective_bound)
        if _has_solution(status):
            found = v.read(solver)
            if self.objective(found) >= self.objective(placed):
                placed = found
        else:
            self.notes.append(f"value stage: {solver.status_name(status)}; kept the hint")
        optimal = status == cp_model.OPTIMAL or self.objective(placed) >= bound
        label = "OPTIMAL" if optimal else "FEASIBLE"
        self.stages.append(
            Stage(
                "value",
                solver.status_name(status),
                self.objective(placed),
                bound if math.isfinite(bound) else None,
                perf_counter() - started,
            )
        )
        return placed, bound, optimal, label

    def idle_gaps(self, placed: dict[int, int]) -> dict[int, int]:
        """Stage 3: re-time the chosen meetings to close idle gaps."""
        if self.left() < 0.2 or len(placed) < 2:
            return placed
        sub, kept = self.problem.restricted({k: self.problem.pairs[k].slots for k in placed})
        back = {orig: k for k, orig in enumerate(kept)}
        v = _build(sub, lambda k, t: self.weight(kept[k], t), exactly_one=True)
        gaps = _add_idle_gaps(sub, v)
        if gaps is None:
            return placed
        stay_cells = [var for k, t, var in v.cells if self.stay.get(kept[k]) == t]
        if stay_cells:  # re-planning: keep as many meetings in their old slot as now
            now = sum(1 for k, t in placed.items() if self.stay.get(k) == t)
            v.model.add(cp_model.LinearExpr.sum(stay_cells) >= now)
        v.model.minimize(gaps.objective)
        sub_placed = {back[k]: t for k, t in placed.items()}
        v.hint(sub_placed)
        _hint_idle_gaps(v.model, sub, gaps, sub_placed)
        solver = self.solver(self.left())
        # The hint is complete and feasible; presolve would spend the stage before using it
        # (measured: never reaching a solution in 13 s at 1,000 participants).
        solver.parameters.cp_model_presolve = False
        started = perf_counter()
        status = solver.solve(v.model)
        if _has_solution(status):
            placed = {kept[k]: t for k, t in v.read(solver).items()}
        self.stages.append(
            Stage(
                "idle_gaps",
                solver.status_name(status),
                solver.objective_value if _has_solution(status) else None,
                solver.best_objective_bound if _has_solution(status) else None,
                perf_counter() - started,
            )
        )
        return placed


def solve(
    event: Event,
    *,
    time_limit: float = 30.0,
    num_workers: int = 2,
    seed: int = 0,
    previous: Sequence[Meeting] | None = None,
    announced: bool | Collection[frozenset[str]] = True,
    keep_bonus: int = KEEP_BONUS,
    gap_limit: float = 0.0,
    use_lp: bool = True,
    verbose: bool = False,
    on_stage: StageHook | None = None,
) -> Schedule:
    """Schedule `event` within about `time_limit` seconds (plus model building).

    With `previous` (a schedule already made), re-plan: announced meetings that are still
    possible stay exactly (slot and, where it still exists, table); others are kept or left
    in their slot where the value allows (`keep_bonus` and STAY_BONUS each), and the result
    carries a `ChangeReport`. `gap_limit` lets CP-SAT stop at that relative gap; `use_lp`
    solves the LP relaxation first for a hint and a bound; `on_stage` is told each step.
    """
    stage: StageHook = on_stage or (lambda name: None)
    started = perf_counter()
    validate_event(event)
    problem = build_problem(event, previous, announced)
    pairs = problem.pairs
    index = {p.key: k for k, p in enumerate(pairs)}
    bonus = {index[key]: keep_bonus for key in problem.previous if key in index}
    stay = {
        index[key]: m.slot
        for key, m in problem.previous.items()
        if key in index and m.slot in pairs[index[key]].slots
    }
    search = _Search(
        problem,
        bonus,
        stay,
        # keep back a little for seating, explanations and statistics after the last stage
        started + time_limit - max(0.05, FINISH_RESERVE * time_limit),
        num_workers,
        seed,
        gap_limit,
        verbose,
    )
    stage("greedy")
    placed = greedy(problem, bonus, stay)
    greedy_objective = search.objective(placed)
    if not pairs:
        stage("seating")
        return _finish(
            search, placed, greedy_objective, greedy_objective, "OPTIMAL", True, previous, started
        )

    stage("fairness")
    shortfall, placed = search.fairness(placed)
    lp_bound: int | None = None
    if use_lp:
        stage("lp")
        lp_bound, placed, rounded, lp_cells = search.lp_round(placed, shortfall)
        if lp_cells and lp_bound is not None and search.objective(placed) < lp_bound:
            stage("near_lp")
            placed = search.finish_rounding(placed, rounded, lp_cells, shortfall)
    stage("value")
    placed, bound, optimal, status = search.value(placed, shortfall, lp_bound)
    if not math.isfinite(bound):
        bound = float(search.objective(placed))
    stage("idle_gaps")
    placed = search.idle_gaps(placed)
    stage("seating")
    return _finish(search, placed, greedy_objective, bound, status, optimal, previous, started)


def _finish(
    search: _Search,
    placed: Mapping[int, int],
    greedy_objective: int,
    bound: float,
    status: str,
    optimal: bool,
    previous: Sequence[Meeting] | None,
    started: float,
) -> Schedule:
    problem = search.problem
    event = problem.event
    previous_table = {m.pair: m.table for m in problem.previous.values()}
    items = [
        ToSeat(
            f.meeting.a,
            f.meeting.b,
            f.meeting.slot,
            f.seats,
            f.meeting.table,
            required=f.meeting.table is not None,
        )
        for f in problem.fixed
    ]
    for k, t in placed.items():
        pair = problem.pairs[k]
        items.append(ToSeat(pair.a, pair.b, t, pair.seats, previous_table.get(pair.key)))
    meetings = sorted_meetings(assign_tables(event, items))

    objective = search.objective(placed)
    value = problem.fixed_value + sum(problem.pairs[k].value for k in placed)
    bound_int = max(objective, math.floor(bound + 1e-6))
    gap = (bound_int - objective) / bound_int if bound_int > 0 else 0.0
    unplaced = explain_unplaced(problem, placed, meetings, optimal)
    stats = participant_stats(problem, meetings)
    shortfalls = _shortfalls(problem, placed)

    changes: ChangeReport | None = None
    if previous is not None:
        changes = _change_report(problem, previous, meetings, unplaced)
    return Schedule(
        meetings=meetings,
        objective=objective,
        bound=bound_int,
        gap=gap,
        value=value,
        greedy_objective=greedy_objective,
        status=status,
        time_s=perf_counter() - started,
        unplaced=tuple(unplaced),
        per_participant=stats,
        max_shortfall=max(shortfalls.values(), default=0),
        total_shortfall=sum(shortfalls.values()),
        idle_gaps=sum(s.idle_gaps for s in stats.values()),
        stages=tuple(search.stages),
        changes=changes,
        notes=tuple(search.notes),
    )


def _change_report(
    problem: Problem,
    previous: Sequence[Meeting],
    meetings: Sequence[Meeting],
    unplaced: Sequence[Unplaced],
) -> ChangeReport:
    now = {m.pair: m for m in meetings}
    reasons = {frozenset((u.a, u.b)): u.reason for u in unplaced}
    reasons.update({m.pair: why for m, why in problem.previous_dropped})
    before_keys: set[frozenset[str]] = set()
    kept: list[Meeting] = []
    moved: list[tuple[Meeting, Meeting]] = []
    dropped: list[tuple[Meeting, str]] = []
    table_changed = 0
    for m in previous:
        if m.pair in before_keys:
            continue
        before_keys.add(m.pair)
        new = now.get(m.pair)
        if new is None:
            dropped.append((m, reasons.get(m.pair, "replaced by meetings worth more")))
        elif new.slot == m.slot:
            kept.append(new)
            table_changed += m.table is not None and new.table != m.table
        else:
            moved.append((m, new))
    added = [m for m in meetings if m.pair not in before_keys]
    return ChangeReport(tuple(kept), tuple(moved), tuple(dropped), tuple(added), table_changed)
