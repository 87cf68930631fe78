"""An independent checker for B2B meeting schedules.

Given an instance, a fairness bound and a schedule (meeting, slot, table) triples, it
checks every hard rule and recomputes each participant's breaks from the schedule alone.
It shares nothing with the solver's encoding on purpose: a solver bug cannot hide behind
the same mistake twice. Breaks are counted the plain way: list the slots a participant is
busy in, sorted, and count the gaps between consecutive busy slots (each gap is one
maximal idle run strictly between their first and last meeting).
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from models.b2b.instance import B2BInstance

__all__ = ["ValidationReport", "participant_breaks", "validate_schedule"]


@dataclass(frozen=True)
class ValidationReport:
    """What the validator found. ``ok`` means no hard rule and no fairness violation."""

    violations: tuple[str, ...]
    breaks: tuple[int, ...]
    """Per participant (index ``p - 1``), recomputed from the schedule."""
    total_breaks: int
    fairness_spread: int
    """max − min breaks over all participants (0 when there are none)."""
    fairness: int
    details: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.violations

    @property
    def fair(self) -> bool:
        return self.fairness < 0 or self.fairness_spread <= self.fairness


def participant_breaks(busy_slots: Iterable[int]) -> int:
    """Number of maximal idle runs strictly between the first and last busy slot."""
    slots = sorted(set(busy_slots))
    return sum(1 for a, b in itertools.pairwise(slots) if b - a > 1)


def _as_triples(
    schedule: Iterable[tuple[int, int, int]] | Mapping[int, tuple[int, int]],
) -> list[tuple[int, int, int]]:
    if isinstance(schedule, Mapping):
        return [(m, t, k) for m, (t, k) in schedule.items()]
    return [(m, t, k) for m, t, k in schedule]


def validate_schedule(
    instance: B2BInstance,
    schedule: Iterable[tuple[int, int, int]] | Mapping[int, tuple[int, int]],
    fairness: int = 2,
    expected_breaks: int | None = None,
) -> ValidationReport:
    """Check ``schedule`` (``(meeting, slot, table)`` triples or ``{meeting: (slot, table)}``,
    all 1-based) against every hard rule of ``instance`` and the fairness bound
    (``fairness < 0`` disables it). When ``expected_breaks`` is given (a solver's claimed
    objective), a mismatch with the recomputed total is a violation too."""
    inst = instance
    v: list[str] = []
    triples = _as_triples(schedule)

    placed: dict[int, tuple[int, int]] = {}
    for m, t, k in triples:
        if not 1 <= m <= inst.n_meetings:
            v.append(f"unknown meeting {m} (meetings are 1..{inst.n_meetings})")
            continue
        if m in placed:
            v.append(f"meeting {m} is placed more than once")
            continue
        placed[m] = (t, k)
    for m in range(1, inst.n_meetings + 1):
        if m not in placed:
            v.append(f"meeting {m} is not placed")

    by_slot: dict[int, list[int]] = defaultdict(list)
    busy: dict[int, list[int]] = defaultdict(list)  # participant -> slots
    for m, (t, k) in sorted(placed.items()):
        meeting = inst.meetings[m - 1]
        if not 1 <= t <= inst.n_slots:
            v.append(f"meeting {m}: slot {t} is not in 1..{inst.n_slots}")
            continue
        if not 1 <= k <= inst.n_tables:
            v.append(f"meeting {m}: table {k} is not in 1..{inst.n_tables}")
        morning = t <= inst.n_morning_slots
        if meeting.session == 1 and not morning:
            v.append(f"meeting {m}: morning-only meeting placed in afternoon slot {t}")
        if meeting.session == 2 and morning:
            v.append(f"meeting {m}: afternoon-only meeting placed in morning slot {t}")
        for p in (meeting.p1, meeting.p2):
            if t in inst.forbidden[p - 1]:
                v.append(f"meeting {m}: slot {t} is forbidden for participant {p}")
            busy[p].append(t)
        fixed = inst.fixed[m - 1]
        if fixed is not None and fixed != t:
            v.append(f"meeting {m}: fixed to slot {fixed} but placed in slot {t}")
        by_slot[t].append(m)

    for t, ms in sorted(by_slot.items()):
        if len(ms) > inst.n_tables:
            v.append(f"slot {t}: {len(ms)} meetings but only {inst.n_tables} tables")
        tables: dict[int, int] = {}
        for m in ms:
            k = placed[m][1]
            if k in tables:
                v.append(f"slot {t}: table {k} is used by meetings {tables[k]} and {m}")
            else:
                tables[k] = m
    for p, slots in sorted(busy.items()):
        seen: dict[int, int] = {}
        for t in slots:
            seen[t] = seen.get(t, 0) + 1
        for t, c in sorted(seen.items()):
            if c > 1:
                v.append(f"participant {p}: {c} meetings in slot {t}")

    for m in range(1, inst.n_meetings + 1):
        if m not in placed:
            continue
        for b in sorted(inst.precedences[m - 1]):
            if b in placed and not placed[b][0] < placed[m][0]:
                v.append(
                    f"precedence: meeting {b} (slot {placed[b][0]}) must come strictly "
                    f"before meeting {m} (slot {placed[m][0]})"
                )

    breaks = tuple(participant_breaks(busy.get(p, ())) for p in range(1, inst.n_participants + 1))
    total = sum(breaks)
    spread = (max(breaks) - min(breaks)) if breaks else 0
    if fairness >= 0 and spread > fairness:
        worst = max(range(len(breaks)), key=lambda i: breaks[i]) + 1
        best = min(range(len(breaks)), key=lambda i: breaks[i]) + 1
        v.append(
            f"fairness: breaks range from {min(breaks)} (participant {best}) to "
            f"{max(breaks)} (participant {worst}), more than d = {fairness} apart"
        )
    if expected_breaks is not None and expected_breaks != total:
        v.append(f"claimed {expected_breaks} breaks but the schedule has {total}")
    return ValidationReport(
        violations=tuple(v),
        breaks=breaks,
        total_breaks=total,
        fairness_spread=spread,
        fairness=fairness,
        details={"meetings_placed": len(placed), "slots_used": len(by_slot)},
    )
