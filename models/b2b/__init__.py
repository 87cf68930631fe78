"""B2B meeting scheduling (matchmaking events): instances, .dzn reader, solver, validator.

Public API::

    B2BInstance, Meeting          the problem (build one with B2BInstance.build)
    read_dzn, parse_dzn           MiniZinc data files (Bofill et al., JAIR 2022 format)
    solve, solve_file, B2BResult  minimize total breaks subject to fairness d
    validate_schedule             independent check of any schedule

Errors: ``B2BError`` (a ``ValueError``) ← ``InvalidInstanceError`` ← ``DznError``.
"""

from __future__ import annotations

from models.b2b.dzn import DznError, parse_dzn, read_dzn
from models.b2b.instance import B2BError, B2BInstance, InvalidInstanceError, Meeting
from models.b2b.solver import B2BResult, assign_tables, solve, solve_file
from models.b2b.validate import ValidationReport, participant_breaks, validate_schedule

__all__ = [
    "B2BError",
    "B2BInstance",
    "B2BResult",
    "DznError",
    "InvalidInstanceError",
    "Meeting",
    "ValidationReport",
    "assign_tables",
    "parse_dzn",
    "participant_breaks",
    "read_dzn",
    "solve",
    "solve_file",
    "validate_schedule",
]
