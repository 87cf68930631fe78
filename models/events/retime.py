"""Re-timing agreed meetings for the fewest idle breaks (the B2B meeting scheduling
problem of Bofill et al., JAIR 2022): once the organizer has agreed which meetings happen,
keep every one of them and choose slots and tables so that participants wait as little as
possible between meetings, fairly spread (max - min breaks <= d).

The event is mapped to a B2B instance: participants and agreed meetings in order; a
participant's unavailable slots become forbidden slots; locked meetings become fixed;
meetings before `morning_slots` / after are left free (session "either"). The B2B model has
one meeting per participant per slot and interchangeable tables, so events where someone
holds parallel meetings, or whose tables differ in size or availability, are refused.
"""

from __future__ import annotations

from collections.abc import Sequence

from models.b2b import B2BResult, solve
from models.b2b.instance import make_instance
from models.events.model import Event, Meeting


class RetimeError(ValueError):
    """The event does not fit the fewest-breaks model (the message says why)."""


def retime(
    event: Event,
    meetings: Sequence[Meeting],
    *,
    fairness: int = 2,
    time_limit: float = 60.0,
    morning_slots: int = 0,
) -> tuple[list[Meeting], B2BResult]:
    if any(p.attendees > 1 for p in event.participants):
        raise RetimeError("fewest-breaks re-timing needs one meeting at a time per participant")
    if any(t.capacity is not None or t.available is not None for t in event.tables):
        raise RetimeError(
            "fewest-breaks re-timing needs interchangeable tables "
            "(no capacities or table availability)"
        )
    if not meetings:
        raise RetimeError("there are no agreed meetings to re-time")
    number = {p.id: i for i, p in enumerate(event.participants, 1)}
    missing = sorted({x for m in meetings for x in (m.a, m.b)} - set(number))
    if missing:
        raise RetimeError(f"meetings name unknown participants: {', '.join(missing[:5])}")
    locked = {m.pair: m.slot for m in event.locked}
    instance = make_instance(
        n_participants=len(event.participants),
        requested=[(number[m.a], number[m.b], 3) for m in meetings],
        n_tables=len(event.tables),
        n_slots=event.slots,
        n_morning_slots=morning_slots,
        forbidden=[
            []
            if p.available is None
            else [t + 1 for t in range(event.slots) if t not in p.available]
            for p in event.participants
        ],
        fixed=[locked[m.pair] + 1 if m.pair in locked else None for m in meetings],
        precedences=[[] for _ in meetings],
        name=event.name or event.id,
    )
    result = solve(instance, fairness=fairness, time_limit=time_limit)
    placed = [
        Meeting(meetings[m - 1].a, meetings[m - 1].b, t - 1, event.tables[k - 1].id)
        for m, t, k in result.meetings
    ]
    return placed, result
