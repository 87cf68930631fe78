"""The greedy baseline: first bring everybody up to their (feasible) minimum, then place
the remaining candidates in order of value. It is the figure the solver is compared with
and the solver's starting hint."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence

from models.events.candidates import Pair, Problem


class Occupancy:
    """Who is busy when, how many meetings each has, and how many tables of each seat class
    are used per slot. Shared by the greedy, the explanations and the tests."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        self.busy: Counter[tuple[str, int]] = Counter(problem.fixed_busy)
        self.count: Counter[str] = Counter(problem.fixed_count)
        self.used: dict[int, list[int]] = {
            t: [sum(1 for s in problem.untabled.get(t, ()) if s >= c) for c, _ in limits]
            for t, limits in problem.table_limits.items()
        }
        self.placed: dict[int, int] = {}
        self.at_slot: dict[int, set[int]] = {t: set() for t in problem.table_limits}
        self._attendees = {p.id: p.attendees for p in problem.event.participants}

    def free(self, pid: str, slot: int) -> bool:
        return self.busy[(pid, slot)] < self._attendees[pid]

    def at_max(self, pid: str) -> bool:
        return self.count[pid] >= self.problem.max[pid]

    def table_free(self, seats: int, slot: int) -> bool:
        limits = self.problem.table_limits[slot]
        return all(self.used[slot][i] < cap for i, (c, cap) in enumerate(limits) if c <= seats)

    def can_place(self, pair: Pair, slot: int) -> bool:
        return (
            self.free(pair.a, slot)
            and self.free(pair.b, slot)
            and self.table_free(pair.seats, slot)
        )

    def place(self, k: int, slot: int) -> None:
        pair = self.problem.pairs[k]
        self.placed[k] = slot
        self.at_slot[slot].add(k)
        for pid in (pair.a, pair.b):
            self.busy[(pid, slot)] += 1
            self.count[pid] += 1
        for i, (c, _) in enumerate(self.problem.table_limits[slot]):
            if c <= pair.seats:
                self.used[slot][i] += 1

    def remove(self, k: int) -> None:
        pair = self.problem.pairs[k]
        slot = self.placed.pop(k)
        self.at_slot[slot].discard(k)
        for pid in (pair.a, pair.b):
            self.busy[(pid, slot)] -= 1
            self.count[pid] -= 1
        for i, (c, _) in enumerate(self.problem.table_limits[slot]):
            if c <= pair.seats:
                self.used[slot][i] -= 1

    def best_slot(self, k: int, preferred: int | None = None) -> int | None:
        pair = self.problem.pairs[k]
        if self.at_max(pair.a) or self.at_max(pair.b):
            return None
        options = [t for t in pair.slots if self.can_place(pair, t)]
        if not options:
            return None
        if preferred in options:
            return preferred

        # next to the two sides' other meetings (fewer idle gaps), then earliest
        def adjacency(t: int) -> int:
            return sum(
                1 for pid in (pair.a, pair.b) for u in (t - 1, t + 1) if self.busy[(pid, u)] > 0
            )

        return max(options, key=lambda t: (adjacency(t), -t))


def greedy(
    problem: Problem,
    bonus: Mapping[int, int] | None = None,
    preferred: Mapping[int, int] | None = None,
    seeds: Sequence[tuple[int, int]] = (),
    priority: Mapping[int, float] | None = None,
) -> dict[int, int]:
    """Pair index -> slot. `bonus` raises a pair's rank, `preferred` names a slot to use when
    free (both for re-planning: previous meetings stay where they were). To round an LP
    solution, `seeds` (pair, slot) are placed first where possible and `priority` (the LP
    values) orders each participant's pairs while minimums are filled; then the rest go by
    value."""
    bonus = bonus or {}
    preferred = preferred or {}
    priority = priority or {}
    occ = Occupancy(problem)
    pairs = problem.pairs

    def rank(k: int) -> tuple[int, int, int]:
        return (-(pairs[k].value + bonus.get(k, 0)), len(pairs[k].slots), k)

    def rank_min(k: int) -> tuple[float, int, int, int]:
        return (-priority.get(k, 0.0), *rank(k))

    for k, t in seeds:
        pair = pairs[k]
        if k in occ.placed or occ.at_max(pair.a) or occ.at_max(pair.b):
            continue
        if occ.can_place(pair, t):
            occ.place(k, t)

    # Phase 1: minimums, most constrained participant first, its best pairs first.
    order = {p.id: i for i, p in enumerate(problem.event.participants)}
    progress = True
    while progress:
        progress = False
        short = [pid for pid, m in problem.effective_min.items() if occ.count[pid] < m]
        short.sort(
            key=lambda pid: (
                occ.count[pid] - problem.effective_min[pid],
                len(problem.of.get(pid, ())),
                order[pid],
            )
        )
        for pid in short:
            if occ.count[pid] >= problem.effective_min[pid]:
                continue
            for k in sorted(problem.of.get(pid, ()), key=rank_min):
                if k in occ.placed:
                    continue
                slot = occ.best_slot(k, preferred.get(k))
                if slot is not None:
                    occ.place(k, slot)
                    progress = True
                    break

    repair_minimums(occ, lambda k: pairs[k].value + bonus.get(k, 0))

    # Phase 2: value.
    for k in sorted(range(len(pairs)), key=rank):
        if k not in occ.placed:
            slot = occ.best_slot(k, preferred.get(k))
            if slot is not None:
                occ.place(k, slot)
    return occ.placed


def repair_minimums(occ: Occupancy, weight: Callable[[int], int]) -> None:
    """Bring participants still below their effective minimum up by moving others out of
    the way: for a missing meeting (p, q) in a slot where p is free, eject what blocks it
    (q's meeting in that slot, one of q's meetings if q is at its max, a meeting holding the
    last fitting table), never taking anyone below their own minimum; take the cheapest
    such move. Ejected meetings may be placed again by the value phase."""
    problem = occ.problem
    pairs = problem.pairs
    effmin = problem.effective_min

    def option(k: int, p: str, t: int) -> tuple[int, list[int]] | None:
        pair = pairs[k]
        q = pair.b if pair.a == p else pair.a
        ejected: list[int] = []

        def loss(r: str) -> int:
            return sum(1 for j in ejected if r in (pairs[j].a, pairs[j].b))

        def removable(j: int) -> bool:
            if p in (pairs[j].a, pairs[j].b):
                return False  # p must gain a meeting, or the repair could go round in circles
            for r in (pairs[j].a, pairs[j].b):
                gain = 1 if r in (p, q) else 0
                if occ.count[r] - loss(r) - 1 + gain < min(effmin[r], occ.count[r]):
                    return False
            return True

        def cheapest(candidates: Sequence[int]) -> int | None:
            ok = [j for j in candidates if j not in ejected and removable(j)]
            return min(ok, key=lambda j: (weight(j), j)) if ok else None

        if not occ.free(q, t):
            j = cheapest([j for j in occ.at_slot[t] if q in (pairs[j].a, pairs[j].b)])
            if j is None:
                return None
            ejected.append(j)
        if occ.count[q] - loss(q) >= problem.max[q]:
            j = cheapest([j for j in occ.placed if q in (pairs[j].a, pairs[j].b)])
            if j is None:
                return None
            ejected.append(j)
        limits = problem.table_limits[t]
        freed = [
            sum(1 for j in ejected if occ.placed[j] == t and pairs[j].seats >= c) for c, _ in limits
        ]
        if not all(
            occ.used[t][i] - freed[i] < cap for i, (c, cap) in enumerate(limits) if c <= pair.seats
        ):
            j = cheapest([j for j in occ.at_slot[t] if pairs[j].seats >= pair.seats])
            if j is None:
                return None
            ejected.append(j)
        return sum(weight(j) for j in ejected) - weight(k), ejected

    progress = True
    while progress:
        progress = False
        short = sorted(
            (pid for pid, m in effmin.items() if occ.count[pid] < m),
            key=lambda pid: occ.count[pid] - effmin[pid],
        )
        for p in short:
            best: tuple[int, int, int, list[int]] | None = None
            for k in problem.of.get(p, ()):
                if k in occ.placed:
                    continue
                for t in pairs[k].slots:
                    if not occ.free(p, t):
                        continue
                    found = option(k, p, t)
                    if found is not None and (best is None or found[0] < best[0]):
                        best = (found[0], k, t, found[1])
            if best is not None:
                _, k, t, ejected = best
                for j in ejected:
                    occ.remove(j)
                occ.place(k, t)
                progress = True
