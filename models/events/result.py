"""What a solve returns: the schedule, its quality figures, and a reason for every requested
meeting that did not make it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from models.events.model import Meeting

UnplacedCode = Literal[
    "declined",  # a participant or the organizer said `no`
    "blocked",  # blocked pair (competitors)
    "group_rule",  # the groups may not meet
    "met_before",  # met at an earlier event, repeats not allowed
    "no_common_slot",  # no slot where both are available
    "table_capacity",  # no table seats them, or every table is taken
    "max_meetings",  # one side has reached its maximum
    "lower_priority",  # their common free slots went to other meetings
    "not_selected",  # a slot was free; the search stopped before using it
    "no_show",  # re-planning: a participant did not come
]


@dataclass(frozen=True)
class Unplaced:
    """A requested meeting (a `must` / `want` from either side or the organizer) that is
    not in the schedule. `code` is for grouping, `reason` for people."""

    a: str
    b: str
    level: str
    code: UnplacedCode
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "a": self.a,
            "b": self.b,
            "level": self.level,
            "code": self.code,
            "reason": self.reason,
        }


@dataclass(frozen=True)
class ParticipantStats:
    meetings: int
    min: int
    effective_min: int  # min capped by what the participant's own options allow
    max: int
    idle_gaps: int  # idle runs between its first and last meeting

    @property
    def below_min(self) -> bool:
        return self.meetings < self.min

    def to_dict(self) -> dict[str, Any]:
        return {
            "meetings": self.meetings,
            "min": self.min,
            "effective_min": self.effective_min,
            "max": self.max,
            "idle_gaps": self.idle_gaps,
            "below_min": self.below_min,
            "min_feasible": self.effective_min >= self.min,
        }


@dataclass(frozen=True)
class Stage:
    """One CP-SAT solve of the lexicographic sequence."""

    name: Literal["fairness", "value", "idle_gaps"]
    status: str
    objective: float | None  # None: the stage found no solution in its time
    bound: float | None
    time_s: float

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "status": self.status,
            "objective": self.objective,
            "bound": self.bound,
            "time_s": round(self.time_s, 3),
        }


@dataclass(frozen=True)
class ChangeReport:
    """Re-planning against a previous schedule. A meeting is `kept` in its slot (its table
    may change: `table_changed`), `moved` to another slot, or `dropped`; `added` ones are
    new."""

    kept: tuple[Meeting, ...]
    moved: tuple[tuple[Meeting, Meeting], ...]  # (before, after)
    dropped: tuple[tuple[Meeting, str], ...]  # (before, reason)
    added: tuple[Meeting, ...]
    table_changed: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "kept": len(self.kept),
            "moved": len(self.moved),
            "dropped": len(self.dropped),
            "added": len(self.added),
            "table_changed": self.table_changed,
            "moved_meetings": [
                {
                    "a": o.a,
                    "b": o.b,
                    "from_slot": o.slot,
                    "to_slot": n.slot,
                    "from_table": o.table,
                    "to_table": n.table,
                }
                for o, n in self.moved
            ],
            "dropped_meetings": [{**meeting_dict(m), "reason": r} for m, r in self.dropped],
            "added_meetings": [meeting_dict(m) for m in self.added],
        }


def meeting_dict(m: Meeting) -> dict[str, Any]:
    return {"a": m.a, "b": m.b, "slot": m.slot, "table": m.table}


@dataclass(frozen=True)
class Schedule:
    """A solved event. `objective` is the total value of the placed meetings (plus, when
    re-planning, the bonus for meetings left where they were); `bound` is CP-SAT's proven
    upper bound on it under the fairness result, `gap` = (bound - objective) / bound."""

    meetings: tuple[Meeting, ...]
    objective: int
    bound: int
    gap: float
    value: int
    greedy_objective: int
    status: str
    time_s: float
    unplaced: tuple[Unplaced, ...]
    per_participant: Mapping[str, ParticipantStats]
    max_shortfall: int  # worst participant's meetings below its effective minimum
    total_shortfall: int
    idle_gaps: int
    stages: tuple[Stage, ...] = ()
    changes: ChangeReport | None = None
    notes: tuple[str, ...] = field(default=())

    def meetings_of(self, pid: str) -> list[Meeting]:
        return sorted((m for m in self.meetings if pid in (m.a, m.b)), key=lambda m: m.slot)

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "meetings": [meeting_dict(m) for m in self.meetings],
            "objective": self.objective,
            "bound": self.bound,
            "gap": round(self.gap, 6),
            "value": self.value,
            "greedy_objective": self.greedy_objective,
            "status": self.status,
            "time_s": round(self.time_s, 3),
            "unplaced": [u.to_dict() for u in self.unplaced],
            "max_shortfall": self.max_shortfall,
            "total_shortfall": self.total_shortfall,
            "idle_gaps": self.idle_gaps,
            "per_participant": {pid: s.to_dict() for pid, s in self.per_participant.items()},
            "stages": [s.to_dict() for s in self.stages],
        }
        if self.changes is not None:
            out["changes"] = self.changes.to_dict()
        if self.notes:
            out["notes"] = list(self.notes)
        return out


def sorted_meetings(meetings: Sequence[Meeting]) -> tuple[Meeting, ...]:
    return tuple(sorted(meetings, key=lambda m: (m.slot, m.table or "", m.a, m.b)))
