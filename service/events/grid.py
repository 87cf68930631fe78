"""An event's current schedule as people read it: a slots × tables grid with clock times
in the event's time zone, one participant's meetings with the reasons each was asked
for, the solve's figures, and every requested meeting left out with its reason.

Read-only views over a stored event (`EventRow`): the document is parsed by the events
model (so the rules and times are the solver's), the meetings are the stored schedule's.
Names are the participants' own (`name`, else the id), as on the exports.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from models.events import Event, Meeting, parse_event, parse_previous
from models.events.explain import idle_gaps
from service.store.tables import EventRow

ReasonKind = Literal["wish", "organizer", "suggested", "locked", "previous"]


@dataclass(frozen=True)
class SlotView:
    index: int
    number: int  # 1-based, for people
    start: datetime | None  # in the event's time zone
    end: datetime | None
    new_day: bool  # the first slot of a day (or of the event): show the date

    @property
    def label(self) -> str:
        """ "13:00–13:20", or "" when the event has no slot times."""
        if self.start is None or self.end is None:
            return ""
        return f"{self.start:%H:%M}–{self.end:%H:%M}"


@dataclass(frozen=True)
class TableView:
    id: str
    name: str
    capacity: int | None


@dataclass(frozen=True)
class Cell:
    """A meeting in the grid; `None` in a row: a free table, `CLOSED`: not available."""

    a: str
    b: str
    locked: bool


CLOSED = "closed"


@dataclass(frozen=True)
class Reason:
    """Why a meeting was on the list: a participant's wish (`by`, level, priority), the
    organizer's word, the matching engine's suggestion (score, its reason text), a lock."""

    kind: ReasonKind
    by: str = ""
    level: str = ""
    priority: int = 0
    score: float = 0.0
    text: str = ""


@dataclass(frozen=True)
class AgendaItem:
    slot: SlotView
    table: TableView | None
    partner: str
    locked: bool
    reasons: tuple[Reason, ...]


@dataclass(frozen=True)
class UnplacedView:
    a: str
    b: str
    level: str
    code: str
    detail: str  # the solver's own sentence (English, with participant ids)


@dataclass
class ScheduleView:
    """An event and its current schedule (None before the first solve)."""

    row: EventRow
    event: Event
    schedule: Mapping[str, Any] | None
    meetings: list[Meeting]
    locked: dict[frozenset[str], Meeting]
    names: dict[str, str] = field(default_factory=dict)
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))

    @property
    def slots(self) -> list[SlotView]:
        out: list[SlotView] = []
        last_day = None
        for t in range(self.event.slots):
            st = self.event.slot_time(t)
            start = st.start.astimezone(self.zone) if st else None
            end = st.end.astimezone(self.zone) if st else None
            day = start.date() if start else None
            out.append(SlotView(t, t + 1, start, end, new_day=day is not None and day != last_day))
            last_day = day
        return out

    @property
    def tables(self) -> list[TableView]:
        return [TableView(t.id, t.name or t.id, t.capacity) for t in self.event.tables]

    def name(self, pid: str) -> str:
        return self.names.get(pid, pid)

    def is_locked(self, m: Meeting) -> bool:
        lock = self.locked.get(m.pair)
        return lock is not None and lock.slot == m.slot

    def meeting(self, a: str, b: str) -> Meeting | None:
        pair = frozenset((a, b))
        return next((m for m in self.meetings if m.pair == pair), None)


def view(row: EventRow) -> ScheduleView:
    """The view of a stored event (its document is valid: it is validated on write)."""
    event = parse_event(row.data)
    meetings: list[Meeting] = []
    if row.schedule is not None:
        meetings, _ = parse_previous(row.schedule)
    return ScheduleView(
        row=row,
        event=event,
        schedule=row.schedule,
        meetings=meetings,
        locked={m.pair: m for m in event.locked},
        names={p.id: p.name or p.id for p in event.participants},
        zone=ZoneInfo(event.timezone),
    )


# ---------------------------------------------------------------------------- the grid


@dataclass(frozen=True)
class Grid:
    slots: list[SlotView]
    tables: list[TableView]
    rows: list[list[Cell | str | None]]  # per slot, per table: Cell, CLOSED or None
    loose: list[Meeting]  # meetings without a table (none after a solve; kept visible)


def grid(v: ScheduleView) -> Grid:
    tables = v.tables
    column = {t.id: i for i, t in enumerate(tables)}
    rows: list[list[Cell | str | None]] = [
        [None if t.is_available(s) else CLOSED for t in v.event.tables]
        for s in range(v.event.slots)
    ]
    loose: list[Meeting] = []
    for m in v.meetings:
        i = column.get(m.table) if m.table is not None else None
        if i is None or not 0 <= m.slot < v.event.slots:
            loose.append(m)
            continue
        rows[m.slot][i] = Cell(m.a, m.b, v.is_locked(m))
    return Grid(v.slots, tables, rows, loose)


# ---------------------------------------------------------------------------- one participant


def reasons(event: Event, a: str, b: str) -> tuple[Reason, ...]:
    """Why the pair was asked for: each side's wish, the organizer's word, the matching
    engine's suggestion."""
    out: list[Reason] = []
    for o in event.overrides:
        if {o.a, o.b} == {a, b}:
            out.append(Reason("organizer", level=o.level, priority=o.priority))
    for w in event.wishes:
        if (w.source, w.target) in ((a, b), (b, a)):
            out.append(Reason("wish", by=w.source, level=w.level, priority=w.priority))
    best = None
    for s in event.suggestions:
        if {s.a, s.b} == {a, b} and (best is None or s.score > best.score):
            best = s
    if best is not None:
        out.append(Reason("suggested", score=best.score, text=best.reason))
    return tuple(out)


def agenda(v: ScheduleView, pid: str) -> list[AgendaItem]:
    """The participant's meetings in time order (KeyError for an unknown participant)."""
    v.event.participant(pid)
    slots = v.slots
    tables = {t.id: t for t in v.tables}
    out = []
    for m in sorted(v.meetings, key=lambda m: (m.slot, m.table or "")):
        if pid not in (m.a, m.b) or not 0 <= m.slot < v.event.slots:
            continue
        partner = m.b if m.a == pid else m.a
        found = reasons(v.event, m.a, m.b)
        locked = v.is_locked(m)
        if locked:
            found = (*found, Reason("locked"))
        out.append(
            AgendaItem(
                slots[m.slot],
                tables.get(m.table) if m.table else None,
                partner,
                locked,
                found,
            )
        )
    return out


@dataclass(frozen=True)
class ParticipantFigures:
    meetings: int
    min: int
    max: int | None
    idle_gaps: int
    available: int  # slots it is there for


def figures(v: ScheduleView, pid: str) -> ParticipantFigures:
    p = v.event.participant(pid)
    slots = [m.slot for m in v.meetings if pid in (m.a, m.b)]
    return ParticipantFigures(
        meetings=len(slots),
        min=p.min,
        max=p.max,
        idle_gaps=idle_gaps(v.event, pid, slots),
        available=v.event.slots if p.available is None else len(p.available),
    )


def schedule_idle_gaps(event: Event, meetings: Sequence[Meeting]) -> int:
    """Idle gaps of everyone, summed (the solver's `idle_gaps`, recomputed after edits)."""
    slots: dict[str, list[int]] = defaultdict(list)
    for m in meetings:
        slots[m.a].append(m.slot)
        slots[m.b].append(m.slot)
    return sum(idle_gaps(event, pid, s) for pid, s in slots.items() if event.has_participant(pid))


# ---------------------------------------------------------------------------- left out


def unplaced(v: ScheduleView, pid: str | None = None) -> list[UnplacedView]:
    """Requested meetings not in the schedule, with the solver's reason code and sentence
    (those of one participant when `pid` is given)."""
    if v.schedule is None:
        return []
    out = []
    for item in v.schedule.get("unplaced", []):
        if not isinstance(item, Mapping):
            continue
        a, b = str(item.get("a", "")), str(item.get("b", ""))
        if pid is not None and pid not in (a, b):
            continue
        out.append(
            UnplacedView(
                a,
                b,
                str(item.get("level", "")),
                str(item.get("code", "")),
                str(item.get("reason", "")),
            )
        )
    return out


@dataclass(frozen=True)
class Figures:
    """The solve's figures: `objective` the total value placed, `bound` the proven upper
    bound on it, `gap` = (bound - objective) / bound."""

    status: str
    meetings: int
    objective: float | None
    bound: float | None
    gap: float | None
    greedy_objective: float | None
    idle_gaps: int | None
    time_s: float | None
    unplaced: int
    locked: int


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def solve_figures(v: ScheduleView) -> Figures | None:
    s = v.schedule
    if s is None:
        return None
    gaps = s.get("idle_gaps")
    return Figures(
        status=str(s.get("status", "")),
        meetings=len(v.meetings),
        objective=_number(s.get("objective")),
        bound=_number(s.get("bound")),
        gap=_number(s.get("gap")),
        greedy_objective=_number(s.get("greedy_objective")),
        idle_gaps=gaps if isinstance(gaps, int) else None,
        time_s=_number(s.get("time_s")),
        unplaced=len(s.get("unplaced", []) or []),
        locked=len(v.locked),
    )
