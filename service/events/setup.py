"""An event's set-up as a coordinator thinks of it — a day, a first slot, a slot length, a
number of slots and tables, groups and which groups meet, a wish deadline, default
minimum and maximum meetings — and the event document (models.events) built from it.

`document(setup, current)` writes the set-up into a document, keeping everything else in
it (participants, wishes, overrides, suggestions, locked meetings, a table list whose
length did not change). `setup_of(name, doc)` reads a set-up back for the edit form.

The set-up's own values that the solver does not read (the groups, the defaults for new
participants) are kept in the document under `setup`, which models.events ignores:
    "setup": {"groups": ["buyer", "supplier"], "default_min": 0, "default_max": 8}
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from itertools import combinations_with_replacement
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.events.model import DEFAULT_GROUP, DEFAULT_SLOT_MINUTES, MAX_COUNT, MAX_ID, Issue
from models.names import unknown

SETUP_KEY = "setup"
SETUP_KEYS = ("groups", "default_min", "default_max")
MAX_SETUP_GROUPS = 100

TIME_ZONES: tuple[str, ...] = (
    "Asia/Tokyo",
    "Asia/Seoul",
    "Asia/Shanghai",
    "Asia/Taipei",
    "Asia/Hong_Kong",
    "Asia/Singapore",
    "Asia/Bangkok",
    "Asia/Ho_Chi_Minh",
    "Asia/Jakarta",
    "Asia/Kolkata",
    "Asia/Dubai",
    "Australia/Sydney",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Rome",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "America/Sao_Paulo",
    "UTC",
)
"""The time zones the console offers (the API takes any IANA name)."""
DEFAULT_TIME_ZONE = "Asia/Tokyo"


def group_pairs(groups: list[str]) -> list[tuple[str, str]]:
    """Every pair of groups, a group with itself included, in the groups' order."""
    return list(combinations_with_replacement(groups, 2))


@dataclass
class EventSetup:
    name: str
    date: dt.date
    start: dt.time
    slot_minutes: int
    slots: int
    tables: int
    groups: list[str] = field(default_factory=list)
    allow: list[tuple[str, str]] = field(default_factory=list)
    venue: str = ""
    time_zone: str = DEFAULT_TIME_ZONE
    wish_deadline: dt.datetime | None = None  # naive: in the event's time zone
    default_min: int = 0
    default_max: int | None = None

    def slot_starts(self) -> list[dt.datetime]:
        first = dt.datetime.combine(self.date, self.start)
        step = dt.timedelta(minutes=self.slot_minutes)
        return [first + i * step for i in range(self.slots)]


def _setup_dict(doc: dict[str, Any]) -> dict[str, Any]:
    stored = doc.get(SETUP_KEY)
    return stored if isinstance(stored, dict) else {}


def _zone_name(doc: dict[str, Any]) -> str:
    name = doc.get("timezone")
    return name if isinstance(name, str) else "UTC"


def _iso_minutes(moment: dt.datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


def document(setup: EventSetup, current: dict[str, Any] | None = None) -> dict[str, Any]:
    """The event document with this set-up, over `current` (kept where the set-up does
    not speak). The body for `service.events.service.create` / `replace` is this with
    the name added."""
    doc = dict(current or {})
    doc["slots"] = setup.slots
    old_tables = doc.get("tables")
    if not (isinstance(old_tables, list) and len(old_tables) == setup.tables):
        doc["tables"] = setup.tables
    doc["timezone"] = setup.time_zone
    doc["slot_minutes"] = setup.slot_minutes
    doc["slot_times"] = [_iso_minutes(s) for s in setup.slot_starts()]
    doc["venue"] = setup.venue
    if setup.wish_deadline is not None:
        doc["wish_deadline"] = _iso_minutes(setup.wish_deadline)
    else:
        doc.pop("wish_deadline", None)
    groups = setup.groups or [DEFAULT_GROUP]
    if len(groups) > 1:
        doc["allow"] = [list(pair) for pair in setup.allow]
    else:
        doc.pop("allow", None)  # one group: everyone may meet everyone
    doc[SETUP_KEY] = {
        **_setup_dict(doc),
        "groups": groups,
        "default_min": setup.default_min,
        "default_max": setup.default_max,
    }
    return doc


def setup_issues(doc: dict[str, Any]) -> list[Issue]:
    """What is wrong with a document's `setup` (absent or null: nothing): an object of
    `groups` (at most MAX_SETUP_GROUPS names of at most MAX_ID characters), `default_min`
    and `default_max` (0 to MAX_COUNT; the maximum may be null), and no other key."""
    stored = doc.get(SETUP_KEY)
    if stored is None:
        return []
    if not isinstance(stored, dict):
        return [Issue(SETUP_KEY, "must be an object")]
    issues = [
        Issue(f"{SETUP_KEY}.{key}", unknown("key", str(key), SETUP_KEYS))
        for key in stored
        if key not in SETUP_KEYS
    ]
    groups = stored.get("groups")
    if groups is not None and (
        not isinstance(groups, list)
        or len(groups) > MAX_SETUP_GROUPS
        or not all(isinstance(g, str) and g.strip() and len(g) <= MAX_ID for g in groups)
    ):
        issues.append(
            Issue(
                f"{SETUP_KEY}.groups",
                f"must be a list of at most {MAX_SETUP_GROUPS} group names "
                f"of 1 to {MAX_ID} characters",
            )
        )
    for key in ("default_min", "default_max"):
        value = stored.get(key)
        if value is None or (type(value) is int and 0 <= value <= MAX_COUNT):
            continue
        issues.append(Issue(f"{SETUP_KEY}.{key}", f"must be a whole number from 0 to {MAX_COUNT}"))
    return issues


def groups_of(doc: dict[str, Any]) -> list[str]:
    """The event's groups: those of its set-up, then any other a participant is in."""
    stored = _setup_dict(doc).get("groups")
    groups = [g for g in stored or [] if isinstance(g, str)]
    for p in doc.get("participants", []):
        group = p.get("group") or DEFAULT_GROUP
        if group not in groups:
            groups.append(group)
    return groups or [DEFAULT_GROUP]


def defaults_of(doc: dict[str, Any]) -> tuple[int, int | None]:
    """(min, max) meetings given to new participants."""
    stored = _setup_dict(doc)
    low = stored.get("default_min", 0)
    high = stored.get("default_max")
    return (low if isinstance(low, int) else 0), (high if isinstance(high, int) else None)


def _parse_local(value: Any, zone: ZoneInfo | None) -> dt.datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None and zone is not None:
        moment = moment.astimezone(zone)
    return moment.replace(tzinfo=None)


def setup_of(name: str, doc: dict[str, Any]) -> EventSetup:
    """The set-up a stored document holds (for the edit form)."""
    tz_name = _zone_name(doc)
    try:
        zone: ZoneInfo | None = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    times = doc.get("slot_times") or []
    first = times[0] if times else None
    if isinstance(first, dict):
        first = first.get("start")
    start = _parse_local(first, zone) or dt.datetime.combine(dt.date.today(), dt.time(13, 0))
    tables = doc.get("tables")
    groups = groups_of(doc)
    allow_raw = doc.get("allow")
    if isinstance(allow_raw, list):
        allow = [(p[0], p[1]) for p in allow_raw if isinstance(p, list | tuple) and len(p) == 2]
    else:
        allow = group_pairs(groups)
    low, high = defaults_of(doc)
    return EventSetup(
        name=name,
        date=start.date(),
        start=start.time(),
        slot_minutes=int(doc.get("slot_minutes") or DEFAULT_SLOT_MINUTES),
        slots=int(doc.get("slots") or 1),
        tables=len(tables) if isinstance(tables, list) else int(tables or 1),
        groups=groups,
        allow=allow,
        venue=doc.get("venue") or "",
        time_zone=tz_name,
        wish_deadline=_parse_local(doc.get("wish_deadline"), zone),
        default_min=low,
        default_max=high,
    )


def slot_labels(doc: dict[str, Any]) -> list[str]:
    """'13:00–13:20' for each slot of the document (by slot index), in the event's zone;
    'Slot N' where the event has no times."""
    tz_name = _zone_name(doc)
    try:
        zone: ZoneInfo | None = ZoneInfo(tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        zone = None
    slots = int(doc.get("slots") or 0)
    minutes = int(doc.get("slot_minutes") or DEFAULT_SLOT_MINUTES)
    times = doc.get("slot_times") or []
    labels: list[str] = []
    for i in range(slots):
        item = times[i] if i < len(times) else None
        start_raw = item.get("start") if isinstance(item, dict) else item
        start = _parse_local(start_raw, zone)
        end = _parse_local(item.get("end"), zone) if isinstance(item, dict) else None
        if start is None:
            labels.append(f"#{i + 1}")
            continue
        end = end or start + dt.timedelta(minutes=minutes)
        labels.append(f"{start:%H:%M}–{end:%H:%M}")
    return labels
