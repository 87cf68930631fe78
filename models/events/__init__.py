"""Meeting schedules for business-matching events (商談会): the event model, the CP-SAT
solver with its greedy baseline, re-planning, and explanations for unplaced meetings.

File format (what `solve_event_file` reads; `unknown_keys` names keys it does not have,
which the API and `clustermatch schedule` refuse; the README's "The event file" has a
complete example)::

    {"slots": 12,                                   # slot indexes 0..11
     "tables": [{"id": "T1", "capacity": 4, "available": [0, 1, ...]}],  # or a number
     "participants": [{"id": "p1", "group": "buyer", "available": [0, 1, 2],
                       "min": 2, "max": 6, "attendees": 1, "party_size": 1,
                       "profile_id": "...", "name": "..."}],
     "allow": [["buyer", "supplier"]],              # default: any group with any
     "blocked": [["p1", "p2"]], "met_before": [["p1", "p3"]], "allow_repeat": false,
     "wishes": [{"from": "p1", "to": "p2", "level": "must", "priority": 1}],
     "overrides": [{"a": "p1", "b": "p4", "level": "must"}],
     "suggestions": [{"a": "p1", "b": "p5", "score": 0.8, "reason": "..."}],
     "locked": [{"a": "p1", "b": "p2", "slot": 3, "table": "T1"}],
     "timezone": "Asia/Tokyo", "slot_minutes": 20,
     "slot_times": ["2025-06-10T13:00", {"start": "...", "end": "..."}],
     "name": "多摩商談会 2026", "venue": "...",         # shown on agendas and pages
     "wish_deadline": "2025-06-03T17:00",           # participants' own wishes close then
     "program": "TAMA 2026", "follow_up_months": [3, 6],  # reports; follow-up rounds
     "previous": [...meetings...], "changes": {...}}  # optional: re-plan

Priorities run 1 (first choice) to 5; default 3. `attendees` is how many meetings a
participant can hold at once; a meeting needs a table seating party_size(a) + party_size(b).

Errors: every problem in the input raises `EventValidationError` (a `ValueError`) whose
`issues` each carry a field `path` and a `reason`. `SeatingError` would mean a bug.
"""

from __future__ import annotations

from typing import Any

from models.events.candidates import Pair, Problem, build_problem, pair_value
from models.events.greedy import greedy
from models.events.model import (
    Event,
    EventValidationError,
    Issue,
    Level,
    Meeting,
    Override,
    Participant,
    SlotTime,
    Suggestion,
    Table,
    Wish,
    parse_event,
    unknown_keys,
    validate_event,
)
from models.events.replan import Changes, apply_changes, parse_changes, parse_previous, replan
from models.events.result import ChangeReport, ParticipantStats, Schedule, Stage, Unplaced
from models.events.seating import SeatingError
from models.events.solver import StageHook, solve

__all__ = [
    "ChangeReport",
    "Changes",
    "Event",
    "EventValidationError",
    "Issue",
    "Level",
    "Meeting",
    "Override",
    "Pair",
    "Participant",
    "ParticipantStats",
    "Problem",
    "Schedule",
    "SeatingError",
    "SlotTime",
    "Stage",
    "StageHook",
    "Suggestion",
    "Table",
    "Unplaced",
    "Wish",
    "apply_changes",
    "build_problem",
    "greedy",
    "pair_value",
    "parse_changes",
    "parse_event",
    "parse_previous",
    "replan",
    "solve",
    "solve_event_file",
    "unknown_keys",
    "validate_event",
]


def solve_event_file(
    data: dict[str, Any], time_limit: float = 30.0, on_stage: StageHook | None = None
) -> dict[str, Any]:
    """Parse an event file, solve it (or re-plan it when it carries `previous`), and return
    the schedule as a JSON-ready dict: meetings, objective, bound, gap, greedy_objective,
    unplaced (with reasons), status, time_s, per_participant, stages, and `changes` when
    re-planning. Raises `EventValidationError` on bad input. `on_stage` is told each step
    of the solve as it starts (see `models.events.solver.StageHook`)."""
    event = parse_event(data)
    if data.get("previous") is None:
        return solve(event, time_limit=time_limit, on_stage=on_stage).to_dict()
    previous, announced = parse_previous(data["previous"])
    changes = parse_changes(data["changes"]) if data.get("changes") is not None else None
    return replan(
        event, previous, changes, announced=announced, time_limit=time_limit, on_stage=on_stage
    ).to_dict()
