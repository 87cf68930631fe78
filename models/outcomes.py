"""Outcomes of meetings: what each side said right after a meeting, what came of it at the
follow-up stages, and the evidence the ranking learns from. Pure: no SQL, no HTTP.

The records are append-only. A correction is a new record for the same meeting and side
(or the same follow-up round) that supersedes the earlier one; `current` picks the latest,
and nothing is ever erased, so who said what and when stays known.

A meeting is named by its event and its pair of participant ids, the pair in canonical
order (`pair_of`); `side` is the participant whose view the record is. The organizer sees
both sides' records; a member sees its own side only.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar, get_args

Attendance = Literal["held", "no_show", "cancelled"]
ATTENDANCES: tuple[str, ...] = get_args(Attendance)

Interest = Literal["none", "some", "strong"]
INTERESTS: tuple[str, ...] = get_args(Interest)

NextStep = Literal["none", "another_meeting", "samples_or_quote", "nda", "joint_proposal"]
NEXT_STEPS: tuple[str, ...] = get_args(NextStep)

Stage = Literal[
    "no_progress",
    "negotiation",
    "nda",
    "joint_development",
    "contract",
    "new_business",
]
"""How far a pair got by a follow-up round, least to furthest. `contract` is an order or a
contract; `new_business` a new business launched (新事業創出)."""
STAGES: tuple[str, ...] = get_args(Stage)

Source = Literal["api", "console", "import"]
SOURCES: tuple[str, ...] = get_args(Source)

DEFAULT_FOLLOW_UP_MONTHS: tuple[int, ...] = (3, 6)
"""Follow-up rounds, in months after the event, unless the event sets its own."""

MAX_NOTE = 2000
MAX_AMOUNT_YEN = 10**13


def pair_of(a: str, b: str) -> tuple[str, str]:
    """A meeting's pair of participant ids in canonical (sorted) order."""
    if a == b:
        raise ValueError("a meeting needs two different participants")
    return (a, b) if a < b else (b, a)


@dataclass(frozen=True)
class MeetingOutcome:
    """One side's record of one meeting, made right after it.

    `no_show` names the participants who did not come (when `attendance` is "no_show"):
    the other side, this side, or both. `interest` and `next_step` are this side's view
    and only meaningful for a meeting that was held. `note` is private to this side and
    the organizer."""

    event_id: str
    a: str
    b: str
    side: str
    attendance: Attendance
    no_show: tuple[str, ...] = ()
    interest: Interest | None = None
    next_step: NextStep = "none"
    note: str = ""
    recorded_at: dt.datetime | None = None
    recorded_by: str = ""
    source: Source = "api"

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b)


@dataclass(frozen=True)
class FollowUp:
    """One side's answer at a follow-up round (`months` after the event)."""

    event_id: str
    a: str
    b: str
    side: str
    months: int
    stage: Stage
    amount_yen: int | None = None
    note: str = ""
    recorded_at: dt.datetime | None = None
    recorded_by: str = ""
    source: Source = "api"

    @property
    def pair(self) -> tuple[str, str]:
        return (self.a, self.b)


_R = TypeVar("_R", MeetingOutcome, FollowUp)


def _slot(record: MeetingOutcome | FollowUp) -> tuple[object, ...]:
    base: tuple[object, ...] = (record.event_id, record.a, record.b, record.side)
    return (*base, record.months) if isinstance(record, FollowUp) else base


def current(records: Iterable[_R]) -> list[_R]:
    """The records in force: for each meeting and side (and follow-up round), the last
    one given, in the order given (the store hands them over oldest first)."""
    latest: dict[tuple[object, ...], _R] = {}
    for r in records:
        latest[_slot(r)] = r
    return list(latest.values())


def stage_rank(stage: Stage) -> int:
    return STAGES.index(stage)


def furthest(follow_ups: Iterable[FollowUp]) -> Stage | None:
    """The furthest stage either side reported for a pair, over every round."""
    best: Stage | None = None
    for f in follow_ups:
        if best is None or stage_rank(f.stage) > stage_rank(best):
            best = f.stage
    return best


def held(outcomes: Sequence[MeetingOutcome]) -> bool | None:
    """Whether a meeting took place, from its sides' current records: held when a side
    says so, not held when the sides that answered all say otherwise, None when nobody
    answered."""
    if not outcomes:
        return None
    return any(o.attendance == "held" for o in outcomes)


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day `months` calendar months later, clamped to the month's last day
    (31 January + 1 month: 28 or 29 February), as people count "three months after"."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    month += 1
    following = dt.date(year + (month == 12), month % 12 + 1, 1)
    last = (following - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))
