"""The result of solving a B2B instance, and the table assignment shared by the engines."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Literal

from models.b2b.instance import B2BInstance

__all__ = ["B2BResult", "Status", "assign_tables", "breaks_per_participant"]

Status = Literal["optimal", "feasible", "infeasible", "unknown"]


@dataclass(frozen=True)
class B2BResult:
    """The outcome of :func:`solve`. ``meetings`` holds ``(meeting, slot, table)``
    triples, all 1-based, sorted by meeting; ``bound`` is the best proven lower bound on
    the total breaks (None when nothing is proven, e.g. for "infeasible")."""

    status: Status
    breaks: int | None
    bound: int | None
    time_s: float
    meetings: tuple[tuple[int, int, int], ...] = ()
    per_participant_breaks: tuple[int, ...] = ()
    fairness: int = 2
    engine: str = "maxsat"
    message: str = ""
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "breaks": self.breaks,
            "bound": self.bound,
            "meetings": [{"meeting": m, "slot": t, "table": k} for m, t, k in self.meetings],
            "time_s": round(self.time_s, 3),
            "fairness": self.fairness,
            "per_participant_breaks": list(self.per_participant_breaks),
            "engine": self.engine,
            "message": self.message,
        }


def assign_tables(slot_of: dict[int, int]) -> tuple[tuple[int, int, int], ...]:
    """Give the meetings of each slot tables 1, 2, ... in meeting order."""
    next_table: dict[int, int] = {}
    out: list[tuple[int, int, int]] = []
    for m in sorted(slot_of):
        t = slot_of[m]
        k = next_table.get(t, 0) + 1
        next_table[t] = k
        out.append((m, t, k))
    return tuple(out)


def breaks_per_participant(inst: B2BInstance, slot_of: dict[int, int]) -> tuple[int, ...]:
    out = []
    for p in range(1, inst.n_participants + 1):
        busy = sorted(slot_of[m] for m in inst.meetings_of(p))
        out.append(sum(1 for a, b in itertools.pairwise(busy) if b > a + 1))
    return tuple(out)
