"""Why a requested meeting is not in the schedule, and per-participant figures."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

from models.events.candidates import Problem
from models.events.greedy import Occupancy
from models.events.model import Event, Meeting
from models.events.result import ParticipantStats, Unplaced

MAX_LISTED = 5


def explain_unplaced(
    problem: Problem, placed: Mapping[int, int], meetings: Sequence[Meeting], optimal: bool
) -> list[Unplaced]:
    """A reason for every requested pair not placed: those excluded before solving (rules,
    availability) and those the solver left out (who took their common slots)."""
    occ = Occupancy(problem)
    for k, slot in placed.items():
        occ.place(k, slot)
    at: dict[tuple[str, int], list[Meeting]] = defaultdict(list)
    for m in meetings:
        at[(m.a, m.slot)].append(m)
        at[(m.b, m.slot)].append(m)
    levels = {p.key: p.level for p in problem.pairs}
    levels.update({f.meeting.pair: f.kind for f in problem.fixed})

    out = list(problem.excluded)
    for k, pair in enumerate(problem.pairs):
        if k in placed or not pair.requested:
            continue
        # Only a stated max is a reason; reaching the slot count shows up as busy slots.
        full = [
            pid
            for pid in (pair.a, pair.b)
            if occ.at_max(pid) and problem.participant(pid).max is not None
        ]
        if full:
            out.append(
                Unplaced(
                    pair.a,
                    pair.b,
                    pair.level,
                    "max_meetings",
                    "participant at max meetings: "
                    + ", ".join(f"{pid} ({problem.max[pid]})" for pid in full),
                )
            )
            continue
        blockers: dict[tuple[str, str, int], Meeting] = {}
        tables_full: list[int] = []
        free: list[int] = []
        for t in pair.slots:
            found = False
            for pid in (pair.a, pair.b):
                if not occ.free(pid, t):
                    found = True
                    for m in at[(pid, t)]:
                        blockers[(m.a, m.b, m.slot)] = m
            if found:
                continue
            if occ.table_free(pair.seats, t):
                free.append(t)
            else:
                tables_full.append(t)
        if free:
            why = (
                "a common slot is free"
                + (f" (slot {free[0] + 1})" if free else "")
                + (
                    "; the search stopped at the time limit before placing it"
                    if not optimal
                    else "; other meetings were worth more"
                )
            )
            out.append(Unplaced(pair.a, pair.b, pair.level, "not_selected", "not selected: " + why))
        elif blockers:
            listed = sorted(blockers.values(), key=lambda m: (m.slot, m.a, m.b))
            text = ", ".join(
                f"{m.a}–{m.b} (slot {m.slot + 1}, {levels.get(m.pair, 'meeting')})"
                for m in listed[:MAX_LISTED]
            )
            if len(listed) > MAX_LISTED:
                text += f" and {len(listed) - MAX_LISTED} more"
            if tables_full:
                text += (
                    "; all tables taken in slot"
                    + ("s " if len(tables_full) > 1 else " ")
                    + ", ".join(str(t + 1) for t in tables_full)
                )
            out.append(
                Unplaced(
                    pair.a, pair.b, pair.level, "lower_priority", f"lower priority than {text}"
                )
            )
        else:
            out.append(
                Unplaced(
                    pair.a,
                    pair.b,
                    pair.level,
                    "table_capacity",
                    "table capacity: all tables taken in their common slots "
                    + ", ".join(str(t + 1) for t in tables_full),
                )
            )
    return out


def idle_gaps(event: Event, pid: str, slots: Sequence[int]) -> int:
    """Idle runs between a participant's first and last meeting, over the slots it is
    available in (its own breaks are not idle time)."""
    p = event.participant(pid)
    busy = set(slots)
    if len(busy) < 2:
        return 0
    seq = [t for t in range(event.slots) if p.is_available(t) or t in busy]
    flags = [t in busy for t in seq]
    first, last = flags.index(True), len(flags) - 1 - flags[::-1].index(True)
    gaps = 0
    for i in range(first + 1, last + 1):
        if flags[i] and not flags[i - 1]:
            gaps += 1
    return gaps


def participant_stats(problem: Problem, meetings: Sequence[Meeting]) -> dict[str, ParticipantStats]:
    slots: dict[str, list[int]] = defaultdict(list)
    for m in meetings:
        slots[m.a].append(m.slot)
        slots[m.b].append(m.slot)
    event = problem.event
    return {
        p.id: ParticipantStats(
            meetings=len(slots[p.id]),
            min=p.min,
            effective_min=problem.effective_min[p.id],
            max=problem.max[p.id],
            idle_gaps=idle_gaps(event, p.id, slots[p.id]),
        )
        for p in event.participants
    }
