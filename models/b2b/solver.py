"""Optimal B2B meeting schedules: minimize the total breaks subject to fairness d.

Engine choice — figures of ``scripts/bench_b2b.py`` on a shared 2-core machine (load
average 4-5), 60 s limit, on the instances of Bofill et al., JAIR 74 (2022):

* **MaxSAT, the default.** The encoding of :mod:`models.b2b.encoding` solved by
  core-guided MaxSAT (python-sat's RC2: OLL with core trimming, minimization, exhaustion
  and at-most-one detection) over CaDiCaL 1.9.5. All 110 (instance, d) rows of the
  paper's Tables 5-11 end with the published optimum proven (or infeasibility proven),
  in two full runs: slowest row 42 s / 23 s (machine load 4-5 / 2-3), total 440 s /
  276 s; the 11 originals at d = 2 take at most 17 s / 12 s (forum-14, ticf-14crafa).
* **CP-SAT, ``engine="cpsat"``, for comparison.** Same viewpoint, domains, implied
  constraints and symmetry breaking in OR-Tools 9.15, ``num_workers=2`` with the ``core``
  and ``default_lp`` subsolvers (they beat the default two-worker portfolio), hinted with
  the first SAT schedule. Originals at d = 2: 8/11 proven within 60 s (forum-14 in 50 s
  vs 15 s); tic-14crafc,
  forumt-14crafe and ticf-14crafa stay open at 5, 8 and 36 breaks (optima 0, 5, 0). Its
  lower bounds come fast; what it lacks is the CDCL search of a modern SAT solver to find
  the low-break schedules, whose core is a pure feasibility problem (every participant's
  meetings in one block). The paper reports the same ordering (MaxSAT ≫ Chuffed, MIP).

Pipeline of :func:`solve`:

1. domains: session, forbidden, fixed and precedence-propagated slots; an empty domain or
   a participant with more meetings than usable slots is proven infeasible at once;
2. a first SAT call on the hard clauses only (phases set to "no break") gives a valid
   schedule (upper bound) or proves infeasibility;
3. RC2 raises the lower bound core by core until the optimum is reached; it is run in
   conflict-budgeted slices so the time limit is honoured (CaDiCaL cannot be interrupted).
   Each core raises the reported bound as soon as it is found (trimming and minimizing
   it come after), and cores of more than 64 literals are not minimized;
4. with ``workers >= 2`` a second process (not a thread: python-sat holds the GIL while
   CaDiCaL runs) runs a large-neighbourhood search (see :func:`_lns_search`) from the
   best schedule: fewer breaks with most meetings kept in place, on one incremental
   CaDiCaL; whichever proves optimality first stops the other. It is spawned after 5 %
   of the time limit (at most 2 s), so the events RC2 proves at once never start it.
   On a busy machine it yields the CPU while RC2's bound is moving and takes its full
   share once RC2 stalls (see :func:`_upper_bound_process`).
   As with any spawned process, the calling program's main module must be importable
   without side effects (``if __name__ == "__main__":``);
5. tables are assigned per slot afterwards: with at most L meetings in a slot any
   bijection onto 1..L is valid, so they are not part of the model.

Why the neighbourhood search (forum-13crafc, added to the benchmark after unseen siblings
of it stalled): it has 12 tables, and a schedule without any break exists with 13 (the
SAT call for it takes 60k conflicts) but not with 12. Every low-break schedule is then a
tight packing, the lower bound 1 is a global capacity argument over most participants
(its core holds ~500 break literals), and the whole-problem SAT call for "fewer breaks"
stalls; it used to end at 71 breaks against the optimum 1. A break, though, is a local
defect that a neighbourhood of a few dozen meetings can repair: on the loaded machine
the same 60 s now end 2-14 breaks above the optimum instead of 39-87, and the variants
with fixed meetings are proven (README, Benchmarks). Not enough yet for the optimum 1.
With sideways steps and the throttle of :func:`_upper_bound_process` in place of
niceness 10 (2026-12-07, load average 7, one run each): the six rows of optimum 1 end at
3-12 breaks (10, 4, 12, 12, 5, 3) where the niceness-10 search ended at 7-29 and 18-57
in two runs the same hour (alternated runs: original 39, 43 against 12, 6; forb0003
38, 38 against 3, 3); the whole benchmark (120 rows) keeps every other row proven,
slowest 51.8 s (forum-14.prec15), total 896 s (niceness 10 right after: 27.3 s and
694 s at a lower load; see :func:`_upper_bound_process` for the throttle's cost).
"""

from __future__ import annotations

import dataclasses
import multiprocessing
import os
import random
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Literal

from pysat.card import ITotalizer
from pysat.examples.rc2 import RC2
from pysat.formula import WCNF
from pysat.solvers import Solver

from models.b2b.dzn import read_dzn
from models.b2b.encoding import BoolEncoding, EncodingOptions, compute_domains, encode
from models.b2b.instance import B2BInstance, Meeting
from models.b2b.result import B2BResult, Status, assign_tables, breaks_per_participant

__all__ = ["B2BResult", "Status", "assign_tables", "solve", "solve_file"]

Engine = Literal["maxsat", "cpsat"]
Progress = Callable[[str], None]

_SAT_SOLVER = "cadical195"
_MIN_SLICE = 10_000
_MAX_SLICE = 1_000_000
LNS_EXTRAS = True
"""Give the neighbourhood search the block starts and both capacity forms (they are off
in the encoding RC2 gets, see :class:`~models.b2b.encoding.EncodingOptions`)."""
_STALE_S = 0.15  # fraction of the time limit: RC2 "stalls" after this long without a bound
_STALE_MIN_S = 8.0  # ... and at least this many seconds
_THROTTLE_SLEEP = 2.0  # while RC2 progresses on a busy machine: sleep this x the work
_MINIMIZE_MAX = 64  # larger cores are not minimized (see _TimedRC2.minimize_core)
_UB_START = 0.05  # fraction of the time limit before the upper-bound process starts
_UB_START_MAX_S = 2.0  # ... and at most this many seconds
_SIDEWAYS_AFTER = 5
"""Failed neighbourhood steps in a row before the search accepts a step to a different
schedule with as many breaks (see :func:`_lns_search`)."""


class _OutOfTime(Exception):
    pass


class _Shared:
    """State shared by the lower-bound (RC2) and upper-bound (linear search) threads."""

    def __init__(self, deadline: float, progress: Progress | None) -> None:
        self.deadline = deadline
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.best_cost: int | None = None
        self.best_slots: dict[int, int] | None = None
        self.started = time.monotonic()
        self.best_time = 0.0
        """Seconds from the start to the best schedule so far."""
        self.lower = 0
        self.lower_time = self.started
        """When the lower bound last rose (monotonic seconds)."""
        self.optimal = False
        self.progress = progress

    def expired(self) -> bool:
        return self.stop.is_set() or time.monotonic() >= self.deadline

    def pause(self, worked: float) -> None:
        """Called by the neighbourhood search after each step that took ``worked``
        seconds; its process version yields the CPU (see :func:`_upper_bound_process`)."""

    def say(self, msg: str) -> None:
        if self.progress is not None:
            self.progress(msg)

    def offer(self, cost: int, slots: dict[int, int], source: str) -> None:
        with self.lock:
            if self.best_cost is None or cost < self.best_cost:
                self.best_cost = cost
                self.best_slots = slots
                self.best_time = time.monotonic() - self.started
                self.say(f"schedule with {cost} breaks ({source})")
            if self.best_cost is not None and self.best_cost <= self.lower:
                self.optimal = True
                self.stop.set()

    def raise_lower(self, lb: int) -> None:
        with self.lock:
            if lb > self.lower:
                self.lower = lb
                self.lower_time = time.monotonic()
                self.say(f"lower bound {lb}")
            if self.best_cost is not None and self.best_cost <= self.lower:
                self.optimal = True
                self.stop.set()


def _budgeted_solve(solver: Any, shared: _Shared, assumptions: list[int] | None = None) -> bool:
    """Solve in conflict-limited slices, raising :class:`_OutOfTime` at the deadline.

    CaDiCaL keeps its learnt clauses between calls, so slicing costs little as long as
    slices are not tiny: 1,000-conflict slices make forum-14's last RC2 call 3x slower,
    10,000 and more cost nothing measurable. Slices are sized from the measured conflict
    rate to last about a second (less near the deadline), so the time limit is honoured
    to within about a second."""
    budget = _MIN_SLICE
    while True:
        if shared.expired():
            raise _OutOfTime
        solver.conf_budget(budget)
        start = time.monotonic()
        res = solver.solve_limited(assumptions=assumptions or [])
        if res is not None:
            return bool(res)
        took = max(time.monotonic() - start, 1e-3)
        left = shared.deadline - time.monotonic()
        target = min(1.0, max(left, 0.0))
        budget = int(min(_MAX_SLICE, max(_MIN_SLICE, budget / took * target)))


def _sliced_solve(solver: Any, shared: _Shared, assumptions: list[int], budget: int) -> bool | None:
    """Up to ``budget`` conflicts in slices of about a second (as in
    :func:`_budgeted_solve`), so the deadline and a stop are seen; None when the budget
    or the time runs out."""
    left, slice_ = budget, _MIN_SLICE
    while left > 0 and not shared.expired():
        n = min(left, slice_)
        solver.conf_budget(n)
        start = time.monotonic()
        res = solver.solve_limited(assumptions=assumptions)
        if res is not None:
            return bool(res)
        left -= n
        took = max(time.monotonic() - start, 1e-3)
        target = min(1.0, max(shared.deadline - time.monotonic(), 0.0))
        slice_ = int(min(_MAX_SLICE, max(1_000, n / took * target)))
    return None


class _TimedRC2(RC2):
    """RC2 whose unbounded oracle calls are cut into conflict-budgeted slices."""

    def __init__(self, formula: WCNF, shared: _Shared, **kwargs: Any) -> None:
        self._shared = shared
        self._minimizing = False
        super().__init__(formula, **kwargs)

    def get_core(self) -> None:
        # A core proves one more unit of cost at once; say so before trimming and
        # minimizing it, which on a large core (forum-13crafc: ~500 break literals, a
        # capacity argument over most participants) takes longer than finding it.
        core = self.oracle.get_core()
        if core:
            self._shared.raise_lower(int(self.cost) + min(self.wght[lit] for lit in core))
        super().get_core()

    def minimize_core(self) -> None:
        # deletion-based minimization tries every literal with up to 1,000 conflicts:
        # cheap on the small local cores of fixed meetings, minutes on a global one
        if len(self.core) > _MINIMIZE_MAX:
            return
        self._minimizing = True
        try:
            super().minimize_core()
        finally:
            self._minimizing = False

    def _call_oracle(self, assumptions: Any = (), expect_interrupt: bool = False) -> Any:
        self._shared.raise_lower(int(self.cost))
        if self._minimizing:  # RC2 sets its own 1000-conflict budget for this call
            if self._shared.expired():
                raise _OutOfTime
            return self.oracle.solve_limited(assumptions=list(assumptions))
        return _budgeted_solve(self.oracle, self._shared, list(assumptions))


def _decode(enc: BoolEncoding, model: list[int]) -> dict[int, int]:
    true = {lit for lit in model if lit > 0}
    return {m: t for (m, t), v in enc.x.items() if v in true}


def _lower_bound_thread(enc: BoolEncoding, shared: _Shared, errors: list[BaseException]) -> None:
    wcnf = WCNF()
    wcnf.extend(enc.hard)
    for h in enc.holes:
        wcnf.append([-h], weight=1)
    rc2: _TimedRC2 | None = None
    try:
        rc2 = _TimedRC2(
            wcnf, shared, solver=_SAT_SOLVER, adapt=True, exhaust=True, minz=True, trim=5
        )
        model = rc2.compute()
        if model is None:
            return  # hard part unsatisfiable: the caller's first SAT call already said so
        slots = _decode(enc, model)
        shared.raise_lower(int(rc2.cost))
        shared.offer(int(rc2.cost), slots, "core-guided optimum")
        with shared.lock:
            shared.optimal = True
        shared.stop.set()
    except _OutOfTime:
        pass
    except BaseException as exc:  # surfaced by the caller
        errors.append(exc)
        shared.stop.set()
    finally:
        if rc2 is not None:
            rc2.delete()


def _lns_search(
    inst: B2BInstance,
    enc: BoolEncoding,
    shared: _Shared,
    errors: list[BaseException],
    delay: float,
    seed: int = 0,
) -> None:
    """Upper bounds by large-neighbourhood search on one incremental SAT solver.

    Each step keeps the best schedule's slot for every meeting outside a neighbourhood
    (as assumptions ``x[m, slot]``, so nothing is re-encoded and learnt clauses carry
    over), asks for strictly fewer breaks through a totalizer over all break variables,
    and gives the call a small conflict budget. Neighbourhoods are the meetings around a
    participant who has a break (grown over the meeting graph) or every meeting in a
    window of consecutive slots. Their size adapts: a neighbourhood proven unable to
    improve grows the next one, a call that runs out of budget shrinks it; at full size
    a step is the plain SAT-UNSAT linear search, so this also proves optimality when
    the lower-bound thread cannot.

    Sideways steps: after ``_SIDEWAYS_AFTER`` failed steps in a row, one step asks for
    as many breaks (not fewer) with at least one freed meeting in another slot, and the
    search goes on from that schedule (the best one stays what is reported). In the end
    game of forum-13crafc (2-5 breaks, neighbourhoods of 70-150 of the 154 meetings, most
    proven unable to improve in milliseconds) the search otherwise circles around one
    schedule. Measured on the search alone, forum-13crafc.original d = 2, 60 s, seeds
    2-4, load average 7: 3 / 2 / 2 breaks with them against 2 / 5 / 7 without (noisy:
    one run each).

    Why: on the crafted events with a scarce table count (forum-13crafc: 12 tables,
    where 13 would allow a schedule without any break) the schedules with a handful of
    breaks are rare and the whole-problem SAT call for "fewer breaks" stalls, while a
    break is a local defect that a small neighbourhood can repair."""
    if shared.stop.wait(timeout=delay):
        return
    if not enc.holes:
        return
    rng = random.Random(seed)
    n_meet = inst.n_meetings
    tot: ITotalizer | None = None
    try:
        with Solver(name=_SAT_SOLVER, bootstrap_with=enc.hard) as s:
            with shared.lock:
                first = shared.best_cost
            if first is None or first == 0:
                return
            tot = ITotalizer(lits=enc.holes, ubound=first, top_id=enc.n_vars)
            top = tot.top_id
            for cl in tot.cnf.clauses:
                s.add_clause(cl)
            size = max(8, n_meet // 10)
            budget = 2_000
            step = 0
            spent_at_full = 0  # conflicts of the solver when the last whole step ended
            # the schedule the search moves from: the best one, or after a sideways
            # step one as good as it (see _SIDEWAYS_AFTER)
            here: dict[int, int] = {}
            here_cost: int | None = None
            failed = 0  # steps without a better or sideways schedule
            while not shared.expired():
                with shared.lock:
                    ub = shared.best_cost
                    best = dict(shared.best_slots or {})
                    lower = shared.lower
                if ub is None or ub <= lower:
                    return
                if here_cost is None or ub < here_cost:
                    here, here_cost = best, ub
                cur = here
                step += 1
                s.set_phases([enc.x[m, t] for m, t in cur.items()])
                # every 20th step searches the whole schedule, guided by the best one
                # (the phases above), with as many conflicts as the 19 before it took:
                # half of the effort at most, however long the run
                full = size >= n_meet or step % 20 == 0
                sideways = not full and failed >= _SIDEWAYS_AFTER
                conflicts = int(s.accum_stats().get("conflicts", 0))
                full_budget = max(5_000, conflicts - spent_at_full)
                assumptions = [-tot.rhs[ub if sideways else ub - 1]]
                if full:
                    kind, freed = "all", set(range(1, n_meet + 1))
                else:
                    kind, freed = _neighbourhood(inst, cur, size, rng)
                    assumptions += [enc.x[m, t] for m, t in cur.items() if m not in freed]
                if sideways:
                    # as many breaks as now, but some freed meeting elsewhere
                    top += 1
                    sel = top
                    s.add_clause([-sel, *(-enc.x[m, cur[m]] for m in freed)])
                    assumptions.append(sel)
                began = time.monotonic()
                res = _sliced_solve(s, shared, assumptions, full_budget if full else budget)
                shared.pause(time.monotonic() - began)
                model = s.get_model() if res is True else None
                if sideways:
                    s.add_clause([-sel])  # (after get_model: a new clause resets the state)
                if full:
                    spent_at_full = int(s.accum_stats().get("conflicts", 0))
                if model is not None:
                    cost = _model_cost(enc, model)
                    failed = 0
                    if cost < ub:
                        shared.offer(cost, _decode(enc, model), f"neighbourhood search, {kind}")
                    else:
                        here, here_cost = _decode(enc, model), cost
                        shared.say(f"sideways step, {cost} breaks ({kind})")
                    if sideways:
                        continue
                else:
                    failed += 1
                if res is False:
                    if full:
                        shared.raise_lower(ub)
                        return
                    size = min(n_meet, int(size * 1.2) + 1)
                elif res is True:
                    pass
                elif full:
                    if size >= n_meet:
                        size = max(8, int(size * 0.85))
                else:
                    size = max(8, int(size * 0.85))
                    budget = min(50_000, int(budget * 1.1))
    except BaseException as exc:
        errors.append(exc)
        shared.stop.set()
    finally:
        if tot is not None:
            tot.delete()


class _ChildShared(_Shared):
    """The neighbourhood search's view in its own process: what it finds goes to the
    parent through ``conn``; the parent's ``stop`` event ends it."""

    def __init__(self, deadline: float, conn: Connection, stop: Any, throttle: Any) -> None:
        super().__init__(deadline, None)
        self._conn = conn
        self._mp_stop = stop
        self._throttle = throttle

    def pause(self, worked: float) -> None:
        if self._throttle.is_set():
            self._mp_stop.wait(min(worked * _THROTTLE_SLEEP, 5.0))

    def expired(self) -> bool:
        return self._mp_stop.is_set() or super().expired()

    def offer(self, cost: int, slots: dict[int, int], source: str) -> None:
        improved = self.best_cost is None or cost < self.best_cost
        super().offer(cost, slots, source)
        if improved:
            self._conn.send(("best", cost, slots, source))

    def raise_lower(self, lb: int) -> None:
        super().raise_lower(lb)
        self._conn.send(("lower", lb))


def _instance_data(inst: B2BInstance) -> dict[str, Any]:
    """The instance as plain picklable data (see :func:`_lns_worker`)."""
    return {
        "n_participants": inst.n_participants,
        "meetings": [(m.p1, m.p2, m.session) for m in inst.meetings],
        "n_tables": inst.n_tables,
        "n_slots": inst.n_slots,
        "n_morning_slots": inst.n_morning_slots,
        "forbidden": [sorted(f) for f in inst.forbidden],
        "fixed": list(inst.fixed),
        "precedences": [sorted(p) for p in inst.precedences],
        "name": inst.name,
    }


def _lns_worker(
    data: dict[str, Any],
    fairness: int,
    options: EncodingOptions | None,
    first: dict[int, int],
    seconds: float,
    conn: Connection,
    stop: Any,
    throttle: Any,
    seed: int,
) -> None:
    """Entry point of the neighbourhood-search process. It runs at normal priority and
    yields the CPU itself while ``throttle`` is set (see :func:`_upper_bound_process`)."""
    try:
        inst = B2BInstance(
            n_participants=data["n_participants"],
            meetings=tuple(Meeting(a, b, sess) for a, b, sess in data["meetings"]),
            n_tables=data["n_tables"],
            n_slots=data["n_slots"],
            n_morning_slots=data["n_morning_slots"],
            forbidden=tuple(frozenset(f) for f in data["forbidden"]),
            fixed=tuple(data["fixed"]),
            precedences=tuple(frozenset(p) for p in data["precedences"]),
            name=data["name"],
        )
        shared = _ChildShared(time.monotonic() + seconds, conn, stop, throttle)
        shared.best_cost = sum(breaks_per_participant(inst, first))
        shared.best_slots = first
        enc = encode(inst, compute_domains(inst), fairness, _lns_options(options))
        errors: list[BaseException] = []
        _lns_search(inst, enc, shared, errors, 0.0, seed)
        if errors:
            conn.send(("error", repr(errors[0])))
    except BaseException as exc:
        conn.send(("error", repr(exc)))
    finally:
        conn.close()


def _upper_bound_process(
    inst: B2BInstance,
    fairness: int,
    options: EncodingOptions | None,
    shared: _Shared,
    errors: list[BaseException],
    delay: float,
) -> None:
    """Run :func:`_lns_search` in a process of its own and relay what it finds.

    A process, not a thread: python-sat holds the GIL while CaDiCaL runs (measured: a
    pure-Python loop in another thread stands still during a 1.5 s ``solve``), so a
    second solver thread only takes turns with RC2 and two cores do the work of one.
    The process is spawned only if RC2 has not finished after ``delay`` seconds.

    Sharing the CPU: on a machine with an idle core the two processes do not compete. On
    a busy one (1-minute load average above the cores + 0.5) the search sleeps twice as
    long as it works while RC2's bound is moving (it rose less than 15 % of the time
    limit, at least 8 s, ago), and runs flat out once RC2 stalls: a stalled RC2 is
    typically stuck in one SAT call for "cost = bound" that the search is better at.
    Before, the search ran at niceness 10 throughout, which on this shared machine (load
    average 7, CPU shares by niceness weight) leaves it a few per cent of a core:
    forum-13crafc.original ended at 15-43 breaks against the optimum 1, 10 with the
    throttle. The price: RC2's last SAT call (the one that finds the optimum) is slowed
    too once its bound has stalled, forum-14.prec15 in 32-35 s against 24-25 s
    (alternated runs, load 7-9; README, B2B)."""
    if shared.stop.wait(timeout=delay):
        return
    with shared.lock:
        first = dict(shared.best_slots or {})
        cost = shared.best_cost
    if not first or not cost:
        return
    ctx = multiprocessing.get_context("spawn")
    recv, send = ctx.Pipe(duplex=False)
    stop = ctx.Event()
    throttle = ctx.Event()
    seconds = shared.deadline - time.monotonic()
    proc = ctx.Process(
        target=_lns_worker,
        args=(_instance_data(inst), fairness, options, first, seconds, send, stop, throttle, 0),
        daemon=True,
    )
    proc.start()
    send.close()
    stale_s = max(_STALE_MIN_S, _STALE_S * (shared.deadline - shared.started))
    spawned = time.monotonic()
    try:
        while not shared.expired():
            since = time.monotonic() - max(shared.lower_time, spawned)
            if _throttle_wanted(since, stale_s, _overloaded()):
                throttle.set()
            else:
                throttle.clear()
            if not recv.poll(0.1):
                if not proc.is_alive():
                    break
                continue
            try:
                msg = recv.recv()
            except EOFError:
                break
            if msg[0] == "best":
                shared.offer(msg[1], msg[2], msg[3])
            elif msg[0] == "lower":
                shared.raise_lower(msg[1])
            elif msg[0] == "error":
                errors.append(RuntimeError(f"neighbourhood search failed: {msg[1]}"))
                shared.stop.set()
    finally:
        stop.set()
        proc.join(timeout=1)
        if proc.is_alive():
            proc.terminate()
            proc.join()
        recv.close()


def _throttle_wanted(since_bound: float, stale_s: float, overloaded: bool) -> bool:
    """Whether the neighbourhood search should yield to RC2: only on a machine without an
    idle core, and only while RC2's bound rose less than ``stale_s`` seconds ago (or the
    search started less than that ago)."""
    return overloaded and since_bound < stale_s


def _overloaded() -> bool:
    """More runnable work than cores (1-minute load average), so that the two solver
    processes take CPU time from each other rather than from idle cores."""
    try:
        return os.getloadavg()[0] > (os.cpu_count() or 1) + 0.5
    except OSError:
        return False


def _neighbourhood(
    inst: B2BInstance, slot_of: dict[int, int], size: int, rng: random.Random
) -> tuple[str, set[int]]:
    """About ``size`` meetings to set free (see :func:`_lns_search`): half of the time
    those around a participant with a break, grown over the meeting graph; otherwise
    every meeting of a run of consecutive slots, grown from one of the idle slots of a
    participant with a break (a random slot when there is none)."""
    per_p = breaks_per_participant(inst, slot_of)
    with_breaks = [p for p, b in enumerate(per_p, start=1) if b]
    if with_breaks and rng.random() < 0.5:
        seeds = [rng.choice(with_breaks)]
        freed: set[int] = set()
        seen = set(seeds)
        queue = list(seeds)
        while queue and len(freed) < size:
            p = queue.pop(rng.randrange(len(queue)))
            for m in inst.meetings_of(p):
                freed.add(m)
                mt = inst.meetings[m - 1]
                q = mt.p2 if mt.p1 == p else mt.p1
                if q not in seen:
                    seen.add(q)
                    queue.append(q)
        return "participants", freed
    n_slots = inst.n_slots
    per_slot = [0] * (n_slots + 2)
    for t in slot_of.values():
        per_slot[t] += 1
    a = rng.randint(1, n_slots)
    if with_breaks:
        busy = {slot_of[m] for m in inst.meetings_of(rng.choice(with_breaks))}
        idle = [t for t in range(min(busy), max(busy)) if t not in busy]
        a = rng.choice(idle)
    b, count = a, per_slot[a]
    while count < size and (a > 1 or b < n_slots):
        if b < n_slots and (a == 1 or rng.random() < 0.5):
            b += 1
            count += per_slot[b]
        else:
            a -= 1
            count += per_slot[a]
    return "window", {m for m, t in slot_of.items() if a <= t <= b}


def _lns_options(options: EncodingOptions | None) -> EncodingOptions:
    """The neighbourhood search's encoding: the caller's, plus the block starts and both
    capacity forms unless ``LNS_EXTRAS`` is off (see :data:`LNS_EXTRAS`)."""
    base = options or EncodingOptions()
    if not LNS_EXTRAS:
        return base
    return dataclasses.replace(base, blocks=True, both_capacities=True)


def _model_cost(enc: BoolEncoding, model: list[int]) -> int:
    """Number of break variables true in a model (= the schedule's total breaks)."""
    true = {lit for lit in model if lit > 0}
    return sum(1 for h in enc.holes if h in true)


def _solve_maxsat(
    inst: B2BInstance,
    fairness: int,
    time_limit: float,
    workers: int,
    progress: Progress | None,
    options: EncodingOptions | None,
) -> B2BResult:
    t0 = time.monotonic()
    shared = _Shared(t0 + time_limit, progress)

    def result(status: Status, message: str = "", **stats: Any) -> B2BResult:
        slots = shared.best_slots
        meetings = assign_tables(slots) if slots is not None else ()
        per_p = breaks_per_participant(inst, slots) if slots is not None else ()
        return B2BResult(
            status=status,
            breaks=sum(per_p) if slots is not None else None,
            bound=None if status == "infeasible" else shared.lower,
            time_s=time.monotonic() - t0,
            meetings=meetings,
            per_participant_breaks=per_p,
            fairness=fairness,
            engine="maxsat",
            message=message,
            stats={**stats, "time_to_best_s": shared.best_time} if slots is not None else stats,
        )

    domains = compute_domains(inst)
    if domains.infeasible:
        return result("infeasible", domains.infeasible)
    enc = encode(inst, domains, fairness, options)
    shared.say(
        f"encoded: {enc.n_vars} variables, {len(enc.hard)} clauses, "
        f"{len(enc.holes)} break variables"
    )
    stats: dict[str, Any] = {"vars": enc.n_vars, "clauses": len(enc.hard)}

    # 1. any valid schedule (an upper bound), or a proof that none exists
    try:
        with Solver(name=_SAT_SOLVER, bootstrap_with=enc.hard) as s:
            s.set_phases([-h for h in enc.holes])
            if not _budgeted_solve(s, shared):
                return result("infeasible", "no schedule satisfies the hard constraints", **stats)
            model = s.get_model()
        shared.offer(_model_cost(enc, model), _decode(enc, model), "first SAT call")
    except _OutOfTime:
        return result("unknown", "time limit reached before any schedule was found", **stats)
    if shared.optimal:
        return result("optimal", **stats)

    # 2. lower bound (RC2) and, with a spare worker, upper bound (linear search)
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_lower_bound_thread, args=(enc, shared, errors))]
    if workers >= 2:
        delay = min(_UB_START * time_limit, _UB_START_MAX_S)
        threads.append(
            threading.Thread(
                target=_upper_bound_process,
                args=(inst, fairness, options, shared, errors, delay),
            )
        )
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    if shared.optimal:
        return result("optimal", **stats)
    return result("feasible", "time limit reached", **stats)


def solve(
    instance: B2BInstance,
    fairness: int = 2,
    time_limit: float = 60.0,
    workers: int = 2,
    progress: Callable[[str], None] | None = None,
    *,
    engine: Engine = "maxsat",
    encoding_options: EncodingOptions | None = None,
) -> B2BResult:
    """Minimize the total breaks of ``instance`` subject to fairness ``d`` (max − min
    breaks ≤ d over all participants; ``d < 0`` disables it), within ``time_limit``
    seconds. ``workers`` ≥ 2 adds an upper-bound thread (MaxSAT) or CP-SAT workers.
    ``progress`` receives short human-readable lines as the search advances (possibly
    from a worker thread).
    ``encoding_options`` switches off parts of the MaxSAT encoding (for measurements)."""
    if time_limit <= 0:
        raise ValueError("time_limit must be positive")
    if engine == "cpsat":
        from models.b2b.cpsat import solve_cpsat

        return solve_cpsat(instance, fairness, time_limit, workers, progress)
    if engine != "maxsat":
        raise ValueError(f"unknown engine {engine!r}")
    return _solve_maxsat(instance, fairness, time_limit, workers, progress, encoding_options)


def solve_file(path: Path, fairness: int = 2, time_limit: float = 60.0) -> B2BResult:
    """Read a .dzn instance (raises :class:`~models.b2b.dzn.DznError`) and solve it."""
    return solve(read_dzn(path), fairness=fairness, time_limit=time_limit)
