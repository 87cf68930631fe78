"""The event model: slots, tables, participants, rules, wishes, locked meetings; its parsing
from the JSON file format and its validation.

Everything the solver reads is an immutable dataclass here. `parse_event` turns a JSON
object into an `Event` and `validate_event` checks what types alone cannot (unknown ids,
contradictions, slots out of range). Both raise one `EventValidationError` listing every
problem found, each with the path of the offending field ("wishes[3].to") and a reason.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal, TypeGuard, cast, get_args
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.names import unknown
from models.outcomes import DEFAULT_FOLLOW_UP_MONTHS

Level = Literal["must", "want", "no"]
LEVELS: tuple[str, ...] = get_args(Level)
DEFAULT_PRIORITY = 3  # priorities run 1 (first choice) .. 5 (least important)
DEFAULT_GROUP = "participant"
DEFAULT_SLOT_MINUTES = 20
MAX_SLOTS = 500
MAX_TABLES = 1_000
MAX_SLOT_MINUTES = 24 * 60
MAX_COUNT = 10_000
"""The most seats at a table, meetings of a participant, attendees or party members: more
than any event has, and few enough for the solver's integer arithmetic."""
MAX_VENUE = 300
MAX_PROGRAM = 200
MAX_FOLLOW_UPS = 6
MAX_FOLLOW_UP_MONTHS = 60
MAX_ID = 128
"""The longest id (a participant, a table) or group name, and a participant's profile_id
(models.profile's id has the same limit)."""
ID_KEYS = frozenset({"id", "from", "to", "a", "b", "table", "group", "profile_id"})
"""The keys `_get_str` holds to MAX_ID."""
YEARS = (1900, 2999)
"""The years a date-time may fall in (slot times, the wish deadline): a moment near the
ends of Python's calendar overflows when it is moved to another time zone."""


@dataclass(frozen=True)
class Issue:
    """One problem in an event: where (`path`, e.g. "participants[2].min") and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}" if self.path else self.reason


class EventValidationError(ValueError):
    """The event cannot be scheduled as given. `issues` lists every problem found;
    `path` and `reason` are those of the first, for callers that show one."""

    def __init__(self, issues: Sequence[Issue]) -> None:
        if not issues:
            raise ValueError("EventValidationError needs at least one issue")
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__("; ".join(str(i) for i in self.issues))

    @property
    def path(self) -> str:
        return self.issues[0].path

    @property
    def reason(self) -> str:
        return self.issues[0].reason


@dataclass(frozen=True)
class Table:
    """A table or room: one meeting per slot. `capacity` is the number of seats (None: any
    meeting fits); `available` the slots it can be used (None: all)."""

    id: str
    capacity: int | None = None
    available: frozenset[int] | None = None
    name: str | None = None

    def is_available(self, slot: int) -> bool:
        return self.available is None or slot in self.available

    def fits(self, seats: int) -> bool:
        return self.capacity is None or self.capacity >= seats


@dataclass(frozen=True)
class Participant:
    """A company, lab or delegation taking part.

    `attendees` is parallel capacity: a participant sending two people can hold two meetings
    in the same slot. `party_size` is how many of its people sit at each of its meetings
    (a delegation of four meeting together: attendees 1, party_size 4); a meeting needs a
    table with at least party_size(a) + party_size(b) seats. `max` None means no limit
    beyond the participant's slots and attendees.
    """

    id: str
    group: str = DEFAULT_GROUP
    available: frozenset[int] | None = None
    min: int = 0
    max: int | None = None
    attendees: int = 1
    party_size: int = 1
    profile_id: str | None = None
    name: str | None = None

    def is_available(self, slot: int) -> bool:
        return self.available is None or slot in self.available


@dataclass(frozen=True)
class Wish:
    """`source` asks to meet `target` (`must` / `want`) or refuses (`no`)."""

    source: str
    target: str
    level: Level
    priority: int = DEFAULT_PRIORITY


@dataclass(frozen=True)
class Override:
    """The organizer's word on a pair: replaces both participants' wishes. `no` forbids
    the pair; `must` / `want` make it a requested meeting even across group rules and
    `met_before` (but never across `blocked` or a participant's `no`)."""

    a: str
    b: str
    level: Level
    priority: int = DEFAULT_PRIORITY


@dataclass(frozen=True)
class Suggestion:
    """A pair proposed by the matching engine, `score` in 0..1."""

    a: str
    b: str
    score: float
    reason: str = ""


@dataclass(frozen=True)
class Meeting:
    """A meeting of `a` and `b` in `slot` at `table` (None in input: any table)."""

    a: str
    b: str
    slot: int
    table: str | None = None

    @property
    def pair(self) -> frozenset[str]:
        return frozenset((self.a, self.b))


@dataclass(frozen=True)
class SlotTime:
    start: datetime
    end: datetime


def _tuple(value: Iterable[Any]) -> tuple[Any, ...]:
    return value if isinstance(value, tuple) else tuple(value)


@dataclass(frozen=True)
class Event:
    """A business-matching event (商談会). Slots are 0..slots-1; a break is a slot nobody
    is available in. `allow` None means any group may meet any group (and its own)."""

    slots: int
    tables: Sequence[Table]
    participants: Sequence[Participant]
    allow: Sequence[tuple[str, str]] | None = None
    blocked: Sequence[tuple[str, str]] = ()
    met_before: Sequence[tuple[str, str]] = ()
    allow_repeat: bool = False
    wishes: Sequence[Wish] = ()
    overrides: Sequence[Override] = ()
    suggestions: Sequence[Suggestion] = ()
    locked: Sequence[Meeting] = ()
    id: str = "event"
    name: str = ""
    timezone: str = "UTC"
    slot_times: Sequence[SlotTime] | None = None
    venue: str = ""
    # The program (a cluster's matching programme) the event reports to; "" for none.
    program: str = ""
    # Follow-up rounds, months after the event (models.outcomes).
    follow_up_months: tuple[int, ...] = DEFAULT_FOLLOW_UP_MONTHS
    # After this instant participants can no longer send or change their own wishes (the
    # organizer still can); None: no deadline.
    wish_deadline: datetime | None = None
    _index: dict[str, Participant] = field(
        default_factory=dict, init=False, repr=False, compare=False
    )

    def __post_init__(self) -> None:
        for name in (
            "tables",
            "participants",
            "blocked",
            "met_before",
            "wishes",
            "overrides",
            "suggestions",
            "locked",
        ):
            object.__setattr__(self, name, _tuple(getattr(self, name)))
        if self.allow is not None:
            object.__setattr__(self, "allow", _tuple(self.allow))
        if self.slot_times is not None:
            object.__setattr__(self, "slot_times", _tuple(self.slot_times))
        object.__setattr__(self, "_index", {p.id: p for p in self.participants})

    def participant(self, pid: str) -> Participant:
        return self._index[pid]

    def has_participant(self, pid: str) -> bool:
        return pid in self._index

    def table(self, tid: str) -> Table:
        for t in self.tables:
            if t.id == tid:
                return t
        raise KeyError(tid)

    def max_meetings(self, p: Participant) -> int:
        """The participant's effective maximum: its `max`, or what its slots allow."""
        free = self.slots if p.available is None else len(p.available)
        cap = free * p.attendees
        return cap if p.max is None else min(p.max, cap)

    def groups_may_meet(self, g1: str, g2: str) -> bool:
        if self.allow is None:
            return True
        return any((x == g1 and y == g2) or (x == g2 and y == g1) for x, y in self.allow)

    def slot_time(self, slot: int) -> SlotTime | None:
        if self.slot_times is None:
            return None
        return self.slot_times[slot]


# ---------------------------------------------------------------------------------------
# Parsing: JSON object -> Event. Type errors are collected with their paths.


class _Collector:
    def __init__(self) -> None:
        self.issues: list[Issue] = []

    def add(self, path: str, reason: str) -> None:
        self.issues.append(Issue(path, reason))


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _get_int(
    obj: Mapping[str, Any],
    key: str,
    path: str,
    issues: _Collector,
    default: int | None,
    *,
    low: int | None = None,
    high: int | None = None,
) -> int | None:
    value = obj.get(key, default)
    if value is None:
        return None
    if not _is_int(value):
        issues.add(f"{path}.{key}" if path else key, "must be an integer")
        return default
    if low is not None and value < low:
        issues.add(f"{path}.{key}" if path else key, f"must be at least {low}")
        return default
    if high is not None and value > high:
        issues.add(f"{path}.{key}" if path else key, f"must be at most {high}")
        return default
    return int(value)


def _get_str(
    obj: Mapping[str, Any],
    key: str,
    path: str,
    issues: _Collector,
    *,
    required: bool = True,
    default: str | None = None,
) -> str | None:
    where = f"{path}.{key}" if path else key
    value = obj.get(key)
    if value is None:
        if required:
            issues.add(where, "is required")
        return default
    if not isinstance(value, str) or not value.strip():
        issues.add(where, "must be a non-empty string")
        return default
    value = value.strip()
    if len(value) > MAX_ID and key in ID_KEYS:
        issues.add(where, f"is longer than {MAX_ID} characters")
    return value


def _get_text(obj: Mapping[str, Any], key: str, path: str, issues: _Collector) -> str | None:
    """A free text (a name, a reason): absent or null is None; anything but a string is
    an issue."""
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        issues.add(f"{path}.{key}" if path else key, "must be a text")
        return None
    return value


def _get_list(obj: Mapping[str, Any], key: str, issues: _Collector, path: str = "") -> list[Any]:
    where = f"{path}.{key}" if path else key
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        issues.add(where, "must be a list")
        return []
    return value


def _objects(
    items: list[Any], where: str, issues: _Collector
) -> Iterator[tuple[int, str, Mapping[str, Any]]]:
    for i, item in enumerate(items):
        path = f"{where}[{i}]"
        if not isinstance(item, Mapping):
            issues.add(path, "must be an object")
            continue
        yield i, path, item


def _slot_set(value: Any, path: str, issues: _Collector) -> frozenset[int] | None:
    if value is None:
        return None
    if not isinstance(value, list):
        issues.add(path, "must be a list of slot indexes")
        return None
    seen: set[int] = set()
    for j, s in enumerate(value):
        if not _is_int(s):
            issues.add(f"{path}[{j}]", "must be an integer slot index")
        elif s in seen:
            issues.add(f"{path}[{j}]", f"duplicate slot {s}")
        else:
            seen.add(s)
    return frozenset(seen)


def _id_pairs(data: Mapping[str, Any], key: str, issues: _Collector) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for i, item in enumerate(_get_list(data, key, issues)):
        path = f"{key}[{i}]"
        if isinstance(item, Mapping):
            item = [item.get("a"), item.get("b")]
        if (
            not isinstance(item, list)
            or len(item) != 2
            or not all(isinstance(x, str) and x.strip() for x in item)
        ):
            issues.add(path, "must be a pair of two ids")
            continue
        if any(len(x.strip()) > MAX_ID for x in item):
            issues.add(path, f"an id is longer than {MAX_ID} characters")
            continue
        out.append((item[0].strip(), item[1].strip()))
    return out


def _priority(obj: Mapping[str, Any], path: str, issues: _Collector) -> int:
    value = obj.get("priority", DEFAULT_PRIORITY)
    if value is None:
        return DEFAULT_PRIORITY
    if not _is_int(value) or not 1 <= value <= 5:
        issues.add(f"{path}.priority", "must be an integer from 1 (highest) to 5")
        return DEFAULT_PRIORITY
    return int(value)


def _level(obj: Mapping[str, Any], path: str, issues: _Collector) -> Level | None:
    value = obj.get("level")
    if value not in LEVELS:
        issues.add(f"{path}.level", f"must be one of {', '.join(LEVELS)}")
        return None
    return cast(Level, value)


def _parse_time(value: Any, path: str, tz: ZoneInfo | None, issues: _Collector) -> datetime | None:
    if not isinstance(value, str):
        issues.add(path, "must be an ISO 8601 date-time string")
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        issues.add(path, f"not an ISO 8601 date-time: {value!r}")
        return None
    if not YEARS[0] <= moment.year <= YEARS[1]:
        issues.add(path, f"the year must be from {YEARS[0]} to {YEARS[1]}: {value!r}")
        return None
    if moment.tzinfo is None and tz is not None:
        moment = moment.replace(tzinfo=tz)
    return moment


def _parse_slot_times(
    data: Mapping[str, Any], tz: ZoneInfo | None, minutes: int, issues: _Collector
) -> list[SlotTime] | None:
    raw = data.get("slot_times")
    if raw is None:
        return None
    if not isinstance(raw, list):
        issues.add("slot_times", "must be a list of start times or {start, end} objects")
        return None
    if len(raw) > MAX_SLOTS:
        issues.add("slot_times", f"at most {MAX_SLOTS} slot times")
        return None
    length = timedelta(minutes=minutes)
    out: list[SlotTime] = []
    for i, item in enumerate(raw):
        path = f"slot_times[{i}]"
        if isinstance(item, Mapping):
            start = _parse_time(item.get("start"), f"{path}.start", tz, issues)
            end = (
                _parse_time(item.get("end"), f"{path}.end", tz, issues)
                if item.get("end") is not None
                else (start + length if start else None)
            )
        else:
            start = _parse_time(item, path, tz, issues)
            end = start + length if start else None
        if start is None or end is None:
            return None
        out.append(SlotTime(start, end))
    return out


def _parse_participants(items: list[Any], where: str, issues: _Collector) -> list[Participant]:
    participants: list[Participant] = []
    for _, path, item in _objects(items, where, issues):
        pid = _get_str(item, "id", path, issues)
        group = _get_str(item, "group", path, issues, required=False, default=DEFAULT_GROUP)
        available = _slot_set(item.get("available"), f"{path}.available", issues)
        pmin = _get_int(item, "min", path, issues, 0, low=0, high=MAX_COUNT) or 0
        pmax = _get_int(item, "max", path, issues, None, low=0, high=MAX_COUNT)
        attendees = _get_int(item, "attendees", path, issues, 1, low=1, high=MAX_COUNT) or 1
        party = _get_int(item, "party_size", path, issues, 1, low=1, high=MAX_COUNT) or 1
        profile_id = _get_str(item, "profile_id", path, issues, required=False)
        name = _get_text(item, "name", path, issues)
        if pid is not None:
            participants.append(
                Participant(
                    pid,
                    group or DEFAULT_GROUP,
                    available,
                    pmin,
                    pmax,
                    attendees,
                    party,
                    profile_id,
                    name,
                )
            )
    return participants


def _parse_wishes(items: list[Any], where: str, issues: _Collector) -> list[Wish]:
    wishes: list[Wish] = []
    for _, path, item in _objects(items, where, issues):
        src = _get_str(item, "from", path, issues)
        dst = _get_str(item, "to", path, issues)
        level = _level(item, path, issues)
        prio = _priority(item, path, issues)
        if src and dst and level:
            wishes.append(Wish(src, dst, level, prio))
    return wishes


def _parse_suggestions(items: list[Any], where: str, issues: _Collector) -> list[Suggestion]:
    suggestions: list[Suggestion] = []
    for _, path, item in _objects(items, where, issues):
        a = _get_str(item, "a", path, issues)
        b = _get_str(item, "b", path, issues)
        score = item.get("score", 0.5)
        if (
            not isinstance(score, int | float)
            or isinstance(score, bool)
            or not math.isfinite(score)
            or not 0 <= score <= 1
        ):
            issues.add(f"{path}.score", "must be a number from 0 to 1")
            continue
        reason = _get_text(item, "reason", path, issues)
        if a and b:
            suggestions.append(Suggestion(a, b, float(score), reason or ""))
    return suggestions


def parse_meetings(items: list[Any], where: str, issues: _Collector) -> list[Meeting]:
    """Meetings `{"a", "b", "slot", "table"?}` (locked ones, or a previous schedule)."""
    meetings: list[Meeting] = []
    for _, path, item in _objects(items, where, issues):
        a = _get_str(item, "a", path, issues)
        b = _get_str(item, "b", path, issues)
        slot = item.get("slot")
        if not _is_int(slot):
            issues.add(f"{path}.slot", "must be an integer slot index")
            continue
        table = _get_str(item, "table", path, issues, required=False)
        if a and b:
            meetings.append(Meeting(a, b, int(slot), table))
    return meetings


def parse_event(data: Any) -> Event:
    """Build and validate an `Event` from the JSON file format (see the package docstring).
    Raises `EventValidationError` with every problem found."""
    issues = _Collector()
    if not isinstance(data, Mapping):
        raise EventValidationError([Issue("", "the event must be a JSON object")])

    slots = data.get("slots")
    if not _is_int(slots) or slots < 1:
        issues.add("slots", "must be a positive integer (the number of time slots)")
        slots = 0
    elif slots > MAX_SLOTS:
        issues.add("slots", f"at most {MAX_SLOTS} slots")

    tables: list[Table] = []
    if "tables" in data and _is_int(data["tables"]):
        # shorthand: a number of interchangeable tables
        if data["tables"] > MAX_TABLES:
            issues.add("tables", f"at most {MAX_TABLES} tables")
        else:
            tables = [Table(f"T{i + 1}") for i in range(data["tables"])]
    else:
        listed = _get_list(data, "tables", issues)
        if len(listed) > MAX_TABLES:
            issues.add("tables", f"at most {MAX_TABLES} tables")
            listed = []
        for _, path, item in _objects(listed, "tables", issues):
            tid = _get_str(item, "id", path, issues)
            capacity = _get_int(item, "capacity", path, issues, None, high=MAX_COUNT)
            available = _slot_set(item.get("available"), f"{path}.available", issues)
            name = _get_text(item, "name", path, issues)
            if tid is not None:
                tables.append(Table(tid, capacity, available, name))

    participants = _parse_participants(
        _get_list(data, "participants", issues), "participants", issues
    )

    allow: list[tuple[str, str]] | None = None
    if data.get("allow") is not None:
        allow = _id_pairs(data, "allow", issues)
    blocked = _id_pairs(data, "blocked", issues)
    met_before = _id_pairs(data, "met_before", issues)
    _id_pairs(data, "pinned", issues)  # (the console's bookmarks: their shape only)
    allow_repeat = data.get("allow_repeat", False)
    if not isinstance(allow_repeat, bool):
        issues.add("allow_repeat", "must be true or false")
        allow_repeat = False

    wishes = _parse_wishes(_get_list(data, "wishes", issues), "wishes", issues)

    overrides: list[Override] = []
    for _, path, item in _objects(_get_list(data, "overrides", issues), "overrides", issues):
        a = _get_str(item, "a", path, issues)
        b = _get_str(item, "b", path, issues)
        level = _level(item, path, issues)
        prio = _priority(item, path, issues)
        if a and b and level:
            overrides.append(Override(a, b, level, prio))

    suggestions = _parse_suggestions(_get_list(data, "suggestions", issues), "suggestions", issues)

    locked = parse_meetings(_get_list(data, "locked", issues), "locked", issues)

    timezone = data.get("timezone", "UTC")
    tz: ZoneInfo | None = None
    if not isinstance(timezone, str):
        issues.add("timezone", "must be an IANA time zone name such as Asia/Tokyo")
        timezone = "UTC"
    else:
        try:
            tz = ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            issues.add("timezone", f"unknown time zone {timezone!r}")
            timezone = "UTC"
    minutes = _get_int(
        data, "slot_minutes", "", issues, DEFAULT_SLOT_MINUTES, low=1, high=MAX_SLOT_MINUTES
    )
    slot_times = _parse_slot_times(data, tz, minutes or DEFAULT_SLOT_MINUTES, issues)
    venue = data.get("venue", "")
    if not isinstance(venue, str) or len(venue) > MAX_VENUE:
        issues.add("venue", f"must be a text of at most {MAX_VENUE} characters")
        venue = ""
    program = data.get("program", "")
    if not isinstance(program, str) or len(program) > MAX_PROGRAM:
        issues.add("program", f"must be a text of at most {MAX_PROGRAM} characters")
        program = ""
    follow_up_months = _parse_follow_up_months(data.get("follow_up_months"), issues)
    wish_deadline = (
        _parse_time(data["wish_deadline"], "wish_deadline", tz, issues)
        if data.get("wish_deadline") is not None
        else None
    )

    event_id = _get_str(data, "id", "", issues, required=False, default="event")
    event_name = _get_text(data, "name", "", issues)
    if issues.issues:
        raise EventValidationError(issues.issues)
    event = Event(
        slots=int(slots),
        tables=tables,
        participants=participants,
        allow=allow,
        blocked=blocked,
        met_before=met_before,
        allow_repeat=allow_repeat,
        wishes=wishes,
        overrides=overrides,
        suggestions=suggestions,
        locked=locked,
        id=event_id or "event",
        name=event_name or "",
        timezone=timezone,
        slot_times=slot_times,
        venue=venue,
        program=program.strip(),
        follow_up_months=follow_up_months,
        wish_deadline=wish_deadline,
    )
    validate_event(event)
    return event


def _parse_follow_up_months(value: Any, issues: _Collector) -> tuple[int, ...]:
    """Months after the event at which follow-ups are asked: distinct whole numbers from 1
    to MAX_FOLLOW_UP_MONTHS, at most MAX_FOLLOW_UPS of them, kept in ascending order."""
    if value is None:
        return DEFAULT_FOLLOW_UP_MONTHS
    reason = (
        f"must be a list of at most {MAX_FOLLOW_UPS} distinct whole numbers of months "
        f"from 1 to {MAX_FOLLOW_UP_MONTHS}"
    )
    if not isinstance(value, list) or len(value) > MAX_FOLLOW_UPS:
        issues.add("follow_up_months", reason)
        return DEFAULT_FOLLOW_UP_MONTHS
    for i, m in enumerate(value):
        if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m <= MAX_FOLLOW_UP_MONTHS:
            issues.add(f"follow_up_months[{i}]", reason)
            return DEFAULT_FOLLOW_UP_MONTHS
    if len(set(value)) != len(value):
        issues.add("follow_up_months", reason)
        return DEFAULT_FOLLOW_UP_MONTHS
    return tuple(sorted(value))


# ---------------------------------------------------------------------------------------
# Validation: what types alone cannot catch.


def _check_slots(slots: frozenset[int] | None, n: int, path: str, issues: _Collector) -> None:
    if slots is None:
        return
    bad = sorted(s for s in slots if not 0 <= s < n)
    if bad:
        issues.add(path, f"slot {bad[0]} out of range 0..{n - 1}")


def _check_ids(
    ids: Iterable[tuple[str, str]], key: str, known: set[str], issues: _Collector
) -> None:
    for i, pair in enumerate(ids):
        for pid in pair:
            if pid not in known:
                issues.add(f"{key}[{i}]", f"unknown participant {pid!r}")
        if pair[0] == pair[1]:
            issues.add(f"{key}[{i}]", f"a participant cannot meet itself ({pair[0]!r})")


def validate_event(event: Event) -> None:
    """Raise `EventValidationError` listing every contradiction or dangling reference."""
    issues = _Collector()
    n = event.slots
    if not _is_int(n) or n < 1:
        issues.add("slots", "must be a positive integer (the number of time slots)")
        raise EventValidationError(issues.issues)

    # tables
    if not event.tables:
        issues.add("tables", "no tables: an event needs at least one table")
    table_ids: set[str] = set()
    for i, t in enumerate(event.tables):
        if t.id in table_ids:
            issues.add(f"tables[{i}].id", f"duplicate table id {t.id!r}")
        table_ids.add(t.id)
        if t.capacity is not None and t.capacity < 2:
            issues.add(
                f"tables[{i}].capacity", f"capacity {t.capacity}: a meeting needs at least 2 seats"
            )
        _check_slots(t.available, n, f"tables[{i}].available", issues)

    # participants
    seen: set[str] = set()
    for i, p in enumerate(event.participants):
        path = f"participants[{i}]"
        if p.id in seen:
            issues.add(f"{path}.id", f"duplicate participant id {p.id!r}")
        seen.add(p.id)
        _check_slots(p.available, n, f"{path}.available", issues)
        if p.min < 0:
            issues.add(f"{path}.min", "must be at least 0")
        if p.max is not None and p.max < 0:
            issues.add(f"{path}.max", "must be at least 0")
        if p.max is not None and p.min > p.max:
            issues.add(f"{path}.min", f"min {p.min} is greater than max {p.max}")
        if p.attendees < 1:
            issues.add(f"{path}.attendees", "must be at least 1")
        if p.party_size < 1:
            issues.add(f"{path}.party_size", "must be at least 1")
    known = {p.id for p in event.participants}

    _check_ids(event.blocked, "blocked", known, issues)
    _check_ids(event.met_before, "met_before", known, issues)
    blocked = {frozenset(pair) for pair in event.blocked}

    # wishes: unknown ids, self-wishes, the same wish given twice with different levels
    given: dict[tuple[str, str], tuple[int, str]] = {}
    refused: dict[frozenset[str], str] = {}
    for i, w in enumerate(event.wishes):
        path = f"wishes[{i}]"
        for name, pid in (("from", w.source), ("to", w.target)):
            if pid not in known:
                issues.add(f"{path}.{name}", f"unknown participant {pid!r}")
        if w.source == w.target:
            issues.add(path, f"a participant cannot wish to meet itself ({w.source!r})")
        if w.level not in LEVELS:
            issues.add(f"{path}.level", f"must be one of {', '.join(LEVELS)}")
        if not 1 <= w.priority <= 5:
            issues.add(f"{path}.priority", "must be from 1 (highest) to 5")
        key = (w.source, w.target)
        if key in given and given[key][1] != w.level:
            issues.add(
                path,
                f"contradicts wishes[{given[key][0]}]: {w.source!r} → {w.target!r} is "
                f"both {given[key][1]!r} and {w.level!r}",
            )
        given.setdefault(key, (i, w.level))
        if w.level == "no":
            refused.setdefault(frozenset(key), w.source)

    overridden: dict[frozenset[str], Level] = {}
    for i, o in enumerate(event.overrides):
        path = f"overrides[{i}]"
        for name, pid in (("a", o.a), ("b", o.b)):
            if pid not in known:
                issues.add(f"{path}.{name}", f"unknown participant {pid!r}")
        if o.a == o.b:
            issues.add(path, f"a participant cannot meet itself ({o.a!r})")
        pair = frozenset((o.a, o.b))
        if o.level != "no" and pair in blocked:
            issues.add(path, f"{o.level!r} override on the blocked pair {o.a!r}–{o.b!r}")
        if o.level != "no" and pair in refused:
            issues.add(path, f"{o.level!r} override contradicts the 'no' wish of {refused[pair]!r}")
        if pair in overridden and overridden[pair] != o.level:
            issues.add(path, f"contradicts an earlier override of {o.a!r}–{o.b!r}")
        overridden.setdefault(pair, o.level)

    for i, s in enumerate(event.suggestions):
        for name, pid in (("a", s.a), ("b", s.b)):
            if pid not in known:
                issues.add(f"suggestions[{i}].{name}", f"unknown participant {pid!r}")
        if s.a == s.b:
            issues.add(f"suggestions[{i}]", f"a participant cannot meet itself ({s.a!r})")
        if not 0 <= s.score <= 1:
            issues.add(f"suggestions[{i}].score", "must be from 0 to 1")

    _validate_locked(event, known, blocked, refused, overridden, issues)

    if event.slot_times is not None:
        _validate_slot_times(event, issues)
    try:
        ZoneInfo(event.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        issues.add("timezone", f"unknown time zone {event.timezone!r}")

    if issues.issues:
        raise EventValidationError(issues.issues)


def _validate_locked(
    event: Event,
    known: set[str],
    blocked: set[frozenset[str]],
    refused: dict[frozenset[str], str],
    overridden: dict[frozenset[str], Level],
    issues: _Collector,
) -> None:
    tables = {t.id: t for t in event.tables}
    at_table: dict[tuple[str, int], int] = {}
    pairs: dict[frozenset[str], int] = {}
    busy: dict[tuple[str, int], int] = defaultdict(int)
    count: dict[str, int] = defaultdict(int)
    for i, m in enumerate(event.locked):
        path = f"locked[{i}]"
        ok = True
        for name, pid in (("a", m.a), ("b", m.b)):
            if pid not in known:
                issues.add(f"{path}.{name}", f"unknown participant {pid!r}")
                ok = False
        if m.a == m.b:
            issues.add(path, f"a participant cannot meet itself ({m.a!r})")
            ok = False
        if not 0 <= m.slot < event.slots:
            issues.add(f"{path}.slot", f"slot {m.slot} out of range 0..{event.slots - 1}")
            ok = False
        if m.table is not None and m.table not in tables:
            issues.add(f"{path}.table", f"unknown table {m.table!r}")
            ok = False
        if not ok:
            continue
        pair = m.pair
        if pair in blocked:
            issues.add(path, f"locked meeting on the blocked pair {m.a!r}–{m.b!r}")
        if pair in refused:
            issues.add(path, f"locked meeting contradicts the 'no' wish of {refused[pair]!r}")
        elif overridden.get(pair) == "no":
            issues.add(path, f"locked meeting contradicts the organizer's 'no' on {m.a!r}–{m.b!r}")
        if pair in pairs:
            issues.add(path, f"{m.a!r}–{m.b!r} is already locked in locked[{pairs[pair]}]")
        pairs.setdefault(pair, i)
        for pid in (m.a, m.b):
            p = event.participant(pid)
            if not p.is_available(m.slot):
                issues.add(f"{path}.slot", f"{pid!r} is not available in slot {m.slot}")
            busy[(pid, m.slot)] += 1
            if busy[(pid, m.slot)] > p.attendees:
                issues.add(
                    f"{path}.slot",
                    f"{pid!r} has more locked meetings in slot {m.slot} "
                    f"than attendees ({p.attendees})",
                )
            count[pid] += 1
            if p.max is not None and count[pid] == p.max + 1:
                issues.add(path, f"{pid!r} has more locked meetings than its max ({p.max})")
        if m.table is not None:
            t = tables[m.table]
            if not t.is_available(m.slot):
                issues.add(f"{path}.table", f"table {m.table!r} is not available in slot {m.slot}")
            seats = event.participant(m.a).party_size + event.participant(m.b).party_size
            if not t.fits(seats):
                issues.add(
                    f"{path}.table",
                    f"table {m.table!r} seats {t.capacity}, the meeting needs {seats}",
                )
            key = (m.table, m.slot)
            if key in at_table:
                issues.add(
                    f"{path}.table",
                    f"table {m.table!r} in slot {m.slot} is already taken "
                    f"by locked[{at_table[key]}]",
                )
            at_table.setdefault(key, i)
    # Locked meetings without a table still need one: count them per slot.
    per_slot: dict[int, int] = Counter(m.slot for m in event.locked if 0 <= m.slot < event.slots)
    for slot, k in per_slot.items():
        free = sum(1 for t in event.tables if t.is_available(slot))
        if k > free:
            issues.add("locked", f"{k} locked meetings in slot {slot} but only {free} tables")


def _validate_slot_times(event: Event, issues: _Collector) -> None:
    times = event.slot_times or ()
    if len(times) != event.slots:
        issues.add(
            "slot_times",
            f"{len(times)} slot time{'s' if len(times) != 1 else ''} for {event.slots} slots: "
            f"give one start time (or {{start, end}}) per slot, {event.slots} in all, in "
            "order, or leave slot_times out",
        )
    for i, st in enumerate(times):
        if st.start.tzinfo is None or st.end.tzinfo is None:
            issues.add(f"slot_times[{i}]", "times need a time zone (set `timezone`)")
            return
        if st.end <= st.start:
            issues.add(f"slot_times[{i}]", "ends before it starts")
    for i in range(1, len(times)):
        prev, cur = times[i - 1], times[i]
        if cur.start == prev.start:
            issues.add(f"slot_times[{i}]", f"duplicate slot: starts with slot {i - 1}")
        elif cur.start < prev.start:
            issues.add(f"slot_times[{i}]", f"slots out of order: starts before slot {i - 1}")
        elif cur.start < prev.end:
            issues.add(f"slot_times[{i}]", f"overlaps slot {i - 1}")


# ---------------------------------------------------------------------------------------
# Unknown keys. The parser reads the keys it knows; an event file written by hand with a
# typo ("prioritty") would lose that value without a word, so files and API bodies are
# checked here first. (Stored documents are parsed without it: what the service itself
# stores need not be refused later.)

EVENT_KEYS: frozenset[str] = frozenset(
    {
        "id",
        "name",
        "venue",
        "program",
        "follow_up_months",
        "timezone",
        "slots",
        "slot_minutes",
        "slot_times",
        "tables",
        "participants",
        "allow",
        "blocked",
        "met_before",
        "allow_repeat",
        "wishes",
        "overrides",
        "suggestions",
        "locked",
        "wish_deadline",
        "previous",
        "changes",
        # kept for the console, ignored by the solver (service.events.setup, .suggestions)
        "setup",
        "pinned",
    }
)
ITEM_KEYS: dict[str, frozenset[str]] = {
    "tables": frozenset({"id", "name", "capacity", "available"}),
    "participants": frozenset(
        {"id", "name", "group", "available", "min", "max", "attendees", "party_size", "profile_id"}
    ),
    "wishes": frozenset({"from", "to", "level", "priority"}),
    "overrides": frozenset({"a", "b", "level", "priority"}),
    "suggestions": frozenset({"a", "b", "score", "reason"}),
    "locked": frozenset({"a", "b", "slot", "table"}),
    "slot_times": frozenset({"start", "end"}),
    "allow": frozenset({"a", "b"}),
    "blocked": frozenset({"a", "b"}),
    "met_before": frozenset({"a", "b"}),
    "pinned": frozenset({"a", "b"}),
}
"""The keys of the objects in each list of the event file."""
CHANGES_KEYS: frozenset[str] = frozenset(
    {"no_shows", "late", "wishes", "suggestions", "availability", "cancelled_slots", "locked"}
)
"""The keys of a re-plan's `changes`."""


def unknown_keys(data: Any) -> list[Issue]:
    """An issue, naming the nearest known key, for every key of the event file (and of
    the objects in its lists) that the format does not have."""
    if not isinstance(data, Mapping):
        return []
    issues = [
        Issue(str(key), unknown("key", str(key), EVENT_KEYS))
        for key in data
        if key not in EVENT_KEYS
    ]
    for list_key, keys in ITEM_KEYS.items():
        items = data.get(list_key)
        if not isinstance(items, list):
            continue
        for i, item in enumerate(items):
            if isinstance(item, Mapping):
                issues += [
                    Issue(f"{list_key}[{i}].{key}", unknown("key", str(key), keys))
                    for key in item
                    if key not in keys
                ]
    changes = data.get("changes")
    if isinstance(changes, Mapping):
        issues += [
            Issue(f"changes.{key}", unknown("key", str(key), CHANGES_KEYS))
            for key in changes
            if key not in CHANGES_KEYS
        ]
        for list_key in ("late", "wishes", "suggestions", "locked"):
            keys = ITEM_KEYS["participants" if list_key == "late" else list_key]
            items = changes.get(list_key)
            for i, item in enumerate(items if isinstance(items, list) else []):
                if isinstance(item, Mapping):
                    issues += [
                        Issue(f"changes.{list_key}[{i}].{key}", unknown("key", str(key), keys))
                        for key in item
                        if key not in keys
                    ]
    return issues
