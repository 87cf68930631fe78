"""The OR-Tools CP-SAT engine for B2B scheduling (``solve(..., engine="cpsat")``).

For comparison and as a second opinion; :mod:`models.b2b.solver` explains why MaxSAT is
the default. Same viewpoint as the MaxSAT encoding: Booleans ``x[m,t]``, busy
Booleans ``u[p,t] = Σ x`` (so a participant meets at most once per slot), break-end
Booleans ``h[p,t] ⇔ u[p,t] ∧ ¬u[p,t-1] ∧ (busy before t)``, objective ``Σ h``; the
same implied constraints (busy count, per-slot bounds, no-break windows, precedences on
propagated domains) and symmetry breaking (twins, time reversal); capacity stays a plain
linear constraint over meetings. The search is hinted with a complete schedule from one
CaDiCaL call on the hard clauses, and with two workers runs CP-SAT's ``core``
(OLL-style lower bounds, like MaxSAT) and ``default_lp`` subsolvers, which beat the
default two-worker portfolio (``default_lp`` + first-solution and LNS helpers):
tic-14crafa.original takes 1-5 s with them, 16-18 s with the default.
``encoding_options`` of :func:`models.b2b.solve` do not apply here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from ortools.sat.python import cp_model
from pysat.solvers import Solver

from models.b2b.encoding import compute_domains, encode, reversal_meeting, symmetry_breaks
from models.b2b.instance import B2BInstance
from models.b2b.result import B2BResult, assign_tables, breaks_per_participant

__all__ = ["solve_cpsat"]


def _first_schedule(inst: B2BInstance, fairness: int, budget_s: float) -> dict[int, int] | None:
    """A schedule satisfying the hard constraints (CaDiCaL, phases "no break"), or None."""
    domains = compute_domains(inst)
    enc = encode(inst, domains, fairness)
    deadline = time.monotonic() + budget_s
    with Solver(name="cadical195", bootstrap_with=enc.hard) as s:
        s.set_phases([-h for h in enc.holes])
        while time.monotonic() < deadline:
            s.conf_budget(20_000)
            res = s.solve_limited()
            if res is None:
                continue
            if not res:
                return None
            true = {lit for lit in s.get_model() if lit > 0}
            return {m: t for (m, t), v in enc.x.items() if v in true}
    return None


class _Progress(cp_model.CpSolverSolutionCallback):
    def __init__(self, say: Callable[[str], None]) -> None:
        super().__init__()
        self._say = say

    def on_solution_callback(self) -> None:
        self._say(
            f"schedule with {int(self.objective_value)} breaks "
            f"(bound {math.ceil(self.best_objective_bound - 1e-6)}, {self.wall_time:.1f} s)"
        )


def solve_cpsat(
    inst: B2BInstance,
    fairness: int,
    time_limit: float,
    workers: int,
    progress: Callable[[str], None] | None,
) -> B2BResult:
    """Solve with CP-SAT; same contract as :func:`models.b2b.solver.solve`."""
    t0 = time.monotonic()
    domains = compute_domains(inst)
    if domains.infeasible:
        return B2BResult(
            "infeasible",
            None,
            None,
            time.monotonic() - t0,
            fairness=fairness,
            engine="cpsat",
            message=domains.infeasible,
        )
    n_slots = inst.n_slots
    model = cp_model.CpModel()
    x: dict[tuple[int, int], Any] = {}
    start: dict[int, Any] = {}
    for m, dom in enumerate(domains.slots, start=1):
        for t in dom:
            x[m, t] = model.new_bool_var(f"x{m}_{t}")
        model.add_exactly_one([x[m, t] for t in dom])
        start[m] = sum(t * x[m, t] for t in dom)
    rev = reversal_meeting(inst, domains)
    if rev is not None:
        for t in domains.slots[rev - 1]:
            if 2 * t > n_slots + 1:
                model.add(x[rev, t] == 0)
    for m, preds in enumerate(inst.precedences, start=1):
        for b in preds:
            model.add(start[b] + 1 <= start[m])
    for m1, m2 in symmetry_breaks(inst):
        model.add(start[m1] + 1 <= start[m2])
    low = inst.n_meetings - (n_slots - 1) * inst.n_tables
    for t in range(1, n_slots + 1):
        lits = [x[m, t] for m in range(1, inst.n_meetings + 1) if (m, t) in x]
        if len(lits) > inst.n_tables:
            model.add(sum(lits) <= inst.n_tables)
        if low > 0:
            model.add(sum(lits) >= low)

    all_holes: list[Any] = []
    breaks: list[Any] = []
    zero_known = False
    for p in range(1, inst.n_participants + 1):
        ms = inst.meetings_of(p)
        n = len(ms)
        u: list[Any] = []
        for t in range(1, n_slots + 1):
            lits = [x[m, t] for m in ms if (m, t) in x]
            if not lits:
                u.append(None)
                continue
            v = model.new_bool_var("")
            model.add(sum(lits) == v)
            u.append(v)
        model.add(sum(v for v in u if v is not None) == n)
        holes, acc_list = _holes(model, u)
        if not holes:
            zero_known = True
            continue
        all_holes.extend(holes)
        breaks.append(sum(holes))
        # no-break window (see models.b2b.encoding)
        suffix: list[Any] = [None] * n_slots
        acc: Any = None
        for t in reversed(range(n_slots)):
            if u[t] is not None:
                acc = u[t] if acc is None else _or(model, acc, u[t])
            suffix[t] = acc
        z = model.new_bool_var("")
        model.add_bool_or([z, *holes])
        for h in holes:
            model.add_implication(z, h.negated())
        for t in range(n_slots):
            if acc_list[t] is not None and t + n < n_slots and suffix[t + n] is not None:
                model.add_bool_or([z.negated(), acc_list[t].negated(), suffix[t + n].negated()])
    if fairness >= 0 and breaks:
        lo = 0 if zero_known else model.new_int_var(0, n_slots, "lo")
        for b in breaks:
            model.add(b >= lo)
            model.add(b <= lo + fairness)
    model.minimize(sum(all_holes))

    say = progress or (lambda _msg: None)
    hint = _first_schedule(inst, fairness, max(0.1, 0.25 * time_limit))
    if hint is not None:
        for (m, t), var in x.items():
            model.add_hint(var, 1 if hint.get(m) == t else 0)
        say("hinted with a SAT schedule")
    solver = cp_model.CpSolver()
    params = solver.parameters
    params.max_time_in_seconds = max(0.1, time_limit - (time.monotonic() - t0))
    params.num_workers = max(1, workers)
    if workers == 2:
        params.subsolvers.extend(["core", "default_lp"])
    status = solver.solve(model, _Progress(say) if progress else None)
    elapsed = time.monotonic() - t0
    if status in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        slot_of = {m: t for (m, t), var in x.items() if solver.value(var)}
        per_p = breaks_per_participant(inst, slot_of)
        bound = math.ceil(solver.best_objective_bound - 1e-6)
        return B2BResult(
            "optimal" if status == cp_model.OPTIMAL else "feasible",
            sum(per_p),
            sum(per_p) if status == cp_model.OPTIMAL else bound,
            elapsed,
            assign_tables(slot_of),
            per_p,
            fairness,
            "cpsat",
            "" if status == cp_model.OPTIMAL else "time limit reached",
        )
    if status == cp_model.INFEASIBLE:
        return B2BResult(
            "infeasible",
            None,
            None,
            elapsed,
            fairness=fairness,
            engine="cpsat",
            message="no schedule satisfies the hard constraints",
        )
    if status == cp_model.MODEL_INVALID:
        raise RuntimeError(f"CP-SAT rejected the model: {model.validate()}")
    return B2BResult(
        "unknown",
        None,
        math.ceil(solver.best_objective_bound - 1e-6),
        elapsed,
        fairness=fairness,
        engine="cpsat",
        message="time limit reached",
    )


def _or(model: cp_model.CpModel, a: Any, b: Any) -> Any:
    v = model.new_bool_var("")
    model.add_bool_or([a, b, v.negated()])
    model.add_implication(a, v)
    model.add_implication(b, v)
    return v


def _holes(model: cp_model.CpModel, u: list[Any]) -> tuple[list[Any], list[Any]]:
    """Break-end Booleans and the "busy at or before t" prefix for one participant."""
    holes: list[Any] = []
    prefix: list[Any] = [None] * len(u)
    acc: Any = None
    for t, ut in enumerate(u):
        prev = u[t - 1] if t > 0 else None
        if ut is not None and acc is not None:
            h = model.new_bool_var("")
            if prev is not None:
                model.add_bool_or([prev, ut.negated(), acc.negated(), h])
                model.add_implication(h, prev.negated())
            else:
                model.add_bool_or([ut.negated(), acc.negated(), h])
            model.add_implication(h, ut)
            model.add_implication(h, acc)
            holes.append(h)
        if ut is not None:
            acc = ut if acc is None else _or(model, acc, ut)
        prefix[t] = acc
    return holes, prefix
