"""Moving a scheduled meeting by hand to another slot or table, refused with the rule it
would break.

`check_move` lists every rule a move would break, each as a `Refusal` (a rule code and
the ids and numbers a message needs), using the events model's own rules: who may meet
whom (`models.events.candidates.pair_forbidden`: a `no`, blocked pairs, group rules,
repeats), the participants' availability and parallel attendees, the tables'
availability and seats. `move` applies a move that breaks nothing to the stored schedule
(and, when asked, locks the meeting there, through the event document's validation) or
raises `MoveRefused` and changes nothing.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from models.events import Event, Meeting, parse_event, parse_previous
from models.events.candidates import pair_forbidden, seats_of
from service.auth import Principal
from service.errors import Conflict, NotFound
from service.events import locks
from service.events import service as events
from service.events.grid import schedule_idle_gaps
from service.store.db import Session
from service.store.tables import utcnow


@dataclass(frozen=True)
class Refusal:
    """One rule a move would break. `rule` is a code (see RULES); `params` holds the
    participant ids, slot indexes, table ids and numbers its message names."""

    rule: str
    params: Mapping[str, Any] = field(default_factory=dict)


RULES = (
    "unchanged",  # the meeting is there already
    "locked",  # a locked meeting is moved only after unlocking it
    "slot_range",  # no such slot
    "unknown_table",
    "participant_unavailable",  # {participant, slot}
    "participant_busy",  # {participant, slot, partner}: no attendee left in that slot
    "table_unavailable",  # {table, slot}
    "table_capacity",  # {table, capacity, seats}
    "table_taken",  # {table, slot, a, b}
    "declined",  # {by}: a participant's `no`
    "organizer_no",  # the organizer ruled the pair out
    "blocked",
    "group_rule",  # {group_a, group_b}
    "met_before",
)


class MoveRefused(Conflict):
    """The move breaks at least one rule; nothing was changed."""

    def __init__(self, refusals: Sequence[Refusal]) -> None:
        super().__init__(
            "the move breaks a rule: " + ", ".join(r.rule for r in refusals),
            errors=[{"rule": r.rule, **r.params} for r in refusals],
        )
        self.refusals = tuple(refusals)


def _pair_rules(event: Event, a: str, b: str) -> list[Refusal]:
    found = pair_forbidden(event, a, b)
    if found is None:
        return []
    code = found[0]
    if code == "declined":
        pair = {a, b}
        if any({o.a, o.b} == pair and o.level == "no" for o in event.overrides):
            return [Refusal("organizer_no")]
        by = next(
            (w.source for w in event.wishes if {w.source, w.target} == pair and w.level == "no"),
            a,
        )
        return [Refusal("declined", {"by": by})]
    if code == "group_rule":
        return [
            Refusal(
                "group_rule",
                {
                    "group_a": event.participant(a).group,
                    "group_b": event.participant(b).group,
                },
            )
        ]
    return [Refusal(code)]


def check_move(
    event: Event,
    meetings: Sequence[Meeting],
    meeting: Meeting,
    slot: int,
    table: str,
) -> list[Refusal]:
    """Every rule that moving `meeting` (one of `meetings`) to `slot` at `table` would
    break; empty when the move is allowed. Locks are the event's (`event.locked`)."""
    a, b = meeting.a, meeting.b
    if slot == meeting.slot and table == meeting.table:
        return [Refusal("unchanged")]
    lock = next((m for m in event.locked if m.pair == meeting.pair), None)
    if lock is not None:
        return [Refusal("locked", {"slot": lock.slot})]
    out: list[Refusal] = []
    if not 0 <= slot < event.slots:
        out.append(Refusal("slot_range", {"slot": slot, "slots": event.slots}))
    tables = {t.id: t for t in event.tables}
    if table not in tables:
        out.append(Refusal("unknown_table", {"table": table}))
    if out:
        return out
    others = [m for m in meetings if m.pair != meeting.pair]
    for pid in (a, b):
        p = event.participant(pid)
        if not p.is_available(slot):
            out.append(Refusal("participant_unavailable", {"participant": pid, "slot": slot}))
            continue
        busy = [m for m in others if m.slot == slot and pid in (m.a, m.b)]
        if len(busy) >= p.attendees:
            partner = busy[0].b if busy[0].a == pid else busy[0].a
            out.append(
                Refusal("participant_busy", {"participant": pid, "slot": slot, "partner": partner})
            )
    target = tables[table]
    if not target.is_available(slot):
        out.append(Refusal("table_unavailable", {"table": table, "slot": slot}))
    seats = seats_of(event, a, b)
    if not target.fits(seats):
        out.append(
            Refusal("table_capacity", {"table": table, "capacity": target.capacity, "seats": seats})
        )
    there = next((m for m in others if m.slot == slot and m.table == table), None)
    if there is not None:
        out.append(
            Refusal("table_taken", {"table": table, "slot": slot, "a": there.a, "b": there.b})
        )
    out += _pair_rules(event, a, b)
    return out


def free_places(
    event: Event, meetings: Sequence[Meeting], meeting: Meeting
) -> list[tuple[int, list[str]]]:
    """Where the meeting could go, by the same rules as `check_move`: (slot, the free
    tables there that seat it) for every slot with at least one, in slot order; empty
    for a locked meeting or a pair that may not meet."""
    if any(m.pair == meeting.pair for m in event.locked) or _pair_rules(
        event, meeting.a, meeting.b
    ):
        return []
    others = [m for m in meetings if m.pair != meeting.pair]
    taken = {(m.slot, m.table) for m in others}
    busy: Counter[tuple[str, int]] = Counter()
    for m in others:
        busy[(m.a, m.slot)] += 1
        busy[(m.b, m.slot)] += 1
    seats = seats_of(event, meeting.a, meeting.b)
    people = [event.participant(meeting.a), event.participant(meeting.b)]
    out = []
    for slot in range(event.slots):
        if not all(p.is_available(slot) and busy[(p.id, slot)] < p.attendees for p in people):
            continue
        fits = [
            t.id
            for t in event.tables
            if t.is_available(slot)
            and t.fits(seats)
            and (slot, t.id) not in taken
            and (slot, t.id) != (meeting.slot, meeting.table)
        ]
        if fits:
            out.append((slot, fits))
    return out


def move(
    session: Session,
    caller: Principal,
    event_id: str,
    a: str,
    b: str,
    slot: int,
    table: str,
    *,
    lock: bool = False,
) -> Meeting:
    """Move the scheduled meeting of `a` and `b`; with `lock`, lock it at its new place.
    Raises NotFound (no such event for the caller, no schedule, no such meeting) or
    MoveRefused with every rule it would break."""
    row = events.get(session, caller, event_id)
    if row.schedule is None:
        raise NotFound("the event has no schedule yet")
    event = parse_event(row.data)
    meetings, _ = parse_previous(row.schedule)
    pair = frozenset((a, b))
    current = next((m for m in meetings if m.pair == pair), None)
    if current is None:
        raise NotFound(f"no meeting of {a!r} and {b!r} in the schedule")
    refusals = check_move(event, meetings, current, slot, table)
    if refusals:
        raise MoveRefused(refusals)
    moved = Meeting(current.a, current.b, slot, table)
    after = [moved if m.pair == pair else m for m in meetings]
    stored = [
        {**item, "slot": slot, "table": table}
        if isinstance(item, Mapping) and frozenset((item.get("a"), item.get("b"))) == pair
        else item
        for item in row.schedule.get("meetings", [])
    ]
    history = list(row.schedule.get("moves", []))[-99:]
    history.append(
        {
            "a": current.a,
            "b": current.b,
            "from_slot": current.slot,
            "from_table": current.table,
            "to_slot": slot,
            "to_table": table,
            "at": utcnow().isoformat(),
        }
    )
    row.schedule = {
        **row.schedule,
        "meetings": stored,
        "idle_gaps": schedule_idle_gaps(event, after),
        "moves": history,
    }
    row.updated_at = utcnow()
    if lock:
        locks.lock(session, caller, event_id, a, b)
    return moved
