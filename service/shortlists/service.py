"""Shortlists: named lists of candidate profiles that exchange staff collect across
searches, with a note per candidate; exported to spreadsheets and sent to an event as its
participants.

Who sees what: organizers their own lists (owned by their key number, `Principal.key_pk`),
admins every list; anyone else's list is a 404, as for one that does not exist, even a
colleague's of the same office. Unlike events, which belong to an office, a shortlist is
one staff member's working list, with private notes, of candidates from any office; the
office gets what comes of it by sending it to one of its events (the events' rule then:
service.events.service.get) or by an export. Members have none (403). Functions take a
session and never commit.

Bad input raises `ValidationFailed` whose errors carry `field`, `reason` and a `code`
(`shortlist.*`) that a page can turn into words of its own language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from models.events import parse_event
from models.events.model import DEFAULT_GROUP
from models.profile import MAX_ID
from service.auth import Principal
from service.errors import NotFound, ValidationFailed
from service.events import participants
from service.events import service as events
from service.store import profiles as profile_rows
from service.store import shortlists as repo
from service.store.db import Session
from service.store.shortlists import EntryView
from service.store.tables import ShortlistEntryRow, ShortlistRow, utcnow

__all__ = [
    "MAX_ENTRIES",
    "MAX_LISTS",
    "MAX_NAME",
    "MAX_NOTE",
    "EntryView",
    "SendOutcome",
    "Summary",
]

MAX_NAME = 200
MAX_NOTE = 2_000
MAX_GROUP = 64
MAX_LISTS = 200
"""Lists per owner."""
MAX_ENTRIES = 500
"""Candidates per list."""
MAX_LISTED = 1_000


def _invalid(field_name: str, code: str, reason: str) -> ValidationFailed:
    return ValidationFailed(reason, errors=[{"field": field_name, "reason": reason, "code": code}])


def _has_control(text: str, allowed: str = "") -> bool:
    return any((ord(c) < 0x20 or ord(c) == 0x7F) and c not in allowed for c in text)


def clean_name(name: str) -> str:
    """A list's name, trimmed; raises ValidationFailed (field `name`)."""
    value = name.strip()
    if not value:
        raise _invalid("name", "shortlist.name_blank", "a shortlist needs a name")
    if len(value) > MAX_NAME:
        raise _invalid("name", "shortlist.name_too_long", f"at most {MAX_NAME} characters")
    if _has_control(value):
        raise _invalid("name", "shortlist.name_invalid", "no control characters")
    return value


def clean_note(note: str) -> str:
    """A note, trimmed (line breaks kept, CRLF as LF); raises ValidationFailed (`note`)."""
    value = note.replace("\r\n", "\n").replace("\r", "\n").strip()
    if len(value) > MAX_NOTE:
        raise _invalid("note", "shortlist.note_too_long", f"at most {MAX_NOTE} characters")
    if _has_control(value, "\n\t"):
        raise _invalid("note", "shortlist.note_invalid", "no control characters")
    return value


def clean_group(group: str) -> str:
    value = group.strip() or DEFAULT_GROUP
    if len(value) > MAX_GROUP or _has_control(value):
        raise _invalid("group", "shortlist.group_invalid", f"1 to {MAX_GROUP} characters")
    return value


# ---------------------------------------------------------------------------- lists


@dataclass(frozen=True)
class Summary:
    pk: int
    name: str
    owner_key: int
    owner: str
    entries: int
    created_at: dt.datetime
    updated_at: dt.datetime


def get(session: Session, caller: Principal, pk: int) -> ShortlistRow:
    """A list the caller may see (organizers: their own; admins: all); else 404."""
    caller.require("admin", "organizer")
    row = repo.get(session, pk) if 0 < pk < 2**31 else None
    if row is None or (not caller.is_admin() and row.owner_key != caller.key_pk):
        raise NotFound(f"no shortlist with id {pk}")
    return row


def listing(session: Session, caller: Principal) -> list[Summary]:
    """The caller's lists (every list for admins), most recently changed first."""
    caller.require("admin", "organizer")
    owner = None if caller.is_admin() else caller.key_pk
    found = repo.listing(session, owner, MAX_LISTED)
    names = repo.key_names(session, [row.owner_key for row, _ in found])
    return [
        Summary(
            row.pk,
            row.name,
            row.owner_key,
            names.get(row.owner_key, f"#{row.owner_key}"),
            n,
            row.created_at,
            row.updated_at,
        )
        for row, n in found
    ]


def key_name(session: Session, key: int) -> str:
    """Who a key number stands for (a console user's name, else the API key's)."""
    return repo.key_names(session, [key]).get(key, f"#{key}")


def create(session: Session, caller: Principal, name: str) -> ShortlistRow:
    caller.require("admin", "organizer")
    value = clean_name(name)
    if repo.by_name(session, caller.key_pk, value) is not None:
        raise _invalid("name", "shortlist.name_taken", "you have a shortlist of this name")
    if repo.count_of_owner(session, caller.key_pk) >= MAX_LISTS:
        raise _invalid("name", "shortlist.too_many_lists", f"at most {MAX_LISTS} shortlists")
    now = utcnow()
    return repo.add(
        session, ShortlistRow(owner_key=caller.key_pk, name=value, created_at=now, updated_at=now)
    )


def rename(session: Session, caller: Principal, pk: int, name: str) -> ShortlistRow:
    row = get(session, caller, pk)
    value = clean_name(name)
    other = repo.by_name(session, row.owner_key, value)
    if other is not None and other.pk != row.pk:
        raise _invalid("name", "shortlist.name_taken", "the owner has a shortlist of this name")
    row.name, row.updated_at = value, utcnow()
    return row


def delete(session: Session, caller: Principal, pk: int) -> None:
    repo.remove(session, get(session, caller, pk))


# ---------------------------------------------------------------------------- entries


@dataclass(frozen=True)
class Added:
    added: list[str]
    already: list[str]


def entries(session: Session, caller: Principal, pk: int) -> list[EntryView]:
    return repo.entries(session, get(session, caller, pk).pk)


def added_by_names(session: Session, items: Sequence[EntryView]) -> dict[int, str]:
    """Who added each entry (key number -> a user's or a key's name, else "#number")."""
    keys = {e.added_by for e in items if e.added_by is not None}
    found = repo.key_names(session, keys)
    return {k: found.get(k, f"#{k}") for k in keys}


def check_candidates(session: Session, profile_ids: Sequence[str]) -> list[str]:
    """The ids, trimmed and each once, if there is one at least and all are stored
    profiles; else ValidationFailed (field `profile_id`). Writes nothing."""
    wanted = list(dict.fromkeys(p.strip() for p in profile_ids if p.strip()))
    if not wanted:
        raise _invalid("profile_id", "shortlist.no_profiles", "choose at least one profile")
    if len(wanted) > MAX_ENTRIES:
        raise _invalid(
            "profile_id", "shortlist.too_many_entries", f"at most {MAX_ENTRIES} per shortlist"
        )
    too_long = [p for p in wanted if len(p) > MAX_ID]
    unknown = too_long or sorted(set(wanted) - profile_rows.known_ids(session, wanted))
    if unknown:
        raise _invalid(
            "profile_id",
            "shortlist.profile_unknown",
            f"no profile with id '{unknown[0][:MAX_ID]}'",
        )
    return wanted


def add(
    session: Session,
    caller: Principal,
    pk: int,
    profile_ids: Sequence[str],
    note: str = "",
) -> Added:
    """Add profiles to a list (each once: those already on it are reported, not doubled);
    every id must be a stored profile. Nothing is written when anything is wrong."""
    row = get(session, caller, pk)
    wanted = check_candidates(session, profile_ids)
    text = clean_note(note)
    present = repo.profile_ids(session, row.pk)
    new = [p for p in wanted if p not in present]
    if len(present) + len(new) > MAX_ENTRIES:
        raise _invalid(
            "profile_id", "shortlist.too_many_entries", f"at most {MAX_ENTRIES} per shortlist"
        )
    now = utcnow()
    repo.add_entries(
        session,
        [
            ShortlistEntryRow(
                shortlist_pk=row.pk, profile_id=p, note=text, added_at=now, added_by=caller.key_pk
            )
            for p in new
        ],
    )
    if new:
        row.updated_at = now
    return Added(new, [p for p in wanted if p in present])


def _entry(session: Session, row: ShortlistRow, entry_pk: int) -> ShortlistEntryRow:
    found = repo.entry(session, row.pk, entry_pk) if 0 < entry_pk < 2**31 else None
    if found is None:
        raise NotFound(f"no entry {entry_pk} on this shortlist")
    return found


def set_note(session: Session, caller: Principal, pk: int, entry_pk: int, note: str) -> None:
    row = get(session, caller, pk)
    entry = _entry(session, row, entry_pk)
    entry.note = clean_note(note)
    row.updated_at = utcnow()


def remove(session: Session, caller: Principal, pk: int, entry_pk: int) -> str:
    """Take a candidate off the list; its profile id."""
    row = get(session, caller, pk)
    entry = _entry(session, row, entry_pk)
    profile_id = entry.profile_id
    repo.remove_entry(session, entry)
    row.updated_at = utcnow()
    return profile_id


# ---------------------------------------------------------------------------- export

EXPORT_HEADER = (
    "No.",
    "プロフィールID Profile ID",
    "名称 Name",
    "英語名 Name (English)",
    "種別 Kind",
    "国 Country",
    "メモ Note",
    "追加日時 Added",
    "追加者 Added by",
)


def export_rows(
    session: Session, caller: Principal, pk: int, time_zone: str = "Asia/Tokyo"
) -> tuple[ShortlistRow, list[list[Any]]]:
    """The list and its rows for a spreadsheet (under EXPORT_HEADER); times in
    `time_zone`. A candidate whose profile was deleted keeps its id and note."""
    row = get(session, caller, pk)
    items = repo.entries(session, row.pk)
    who = added_by_names(session, items)
    try:
        zone = ZoneInfo(time_zone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    out: list[list[Any]] = []
    for i, e in enumerate(items, 1):
        added = e.added_at if e.added_at.tzinfo else e.added_at.replace(tzinfo=dt.UTC)
        out.append(
            [
                i,
                e.profile_id,
                e.name or "",
                e.name_en or "",
                e.kind or "",
                e.country or "",
                e.note,
                added.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
                who.get(e.added_by, "") if e.added_by is not None else "",
            ]
        )
    return row, out


# ---------------------------------------------------------------------------- to an event


@dataclass(frozen=True)
class SendOutcome:
    event_id: str
    event_name: str
    added: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    """Already taking part (as a participant of that id, or one with that profile)."""
    missing: list[str] = field(default_factory=list)
    """Their profiles were deleted since they were shortlisted."""
    participants: int = 0
    """The event's participants afterwards."""
    group_meets_no_one: bool = False
    """The event has who-meets-whom rules and none names the group."""


def send_to_event(
    session: Session, caller: Principal, pk: int, event_id: str, group: str = DEFAULT_GROUP
) -> SendOutcome:
    """Add the list's candidates to one of the caller's events as participants (id = the
    profile's id, its name, `profile_id`, `group`, the event's default min / max), skipping
    those already in it: `service.events.participants.add_profiles`, which stores through
    the events service, so the event is validated as any write is (ValidationFailed,
    nothing changed, when the result would be invalid). A candidate whose profile was
    deleted since is reported as missing."""
    row = get(session, caller, pk)
    value = clean_group(group)
    items = repo.entries(session, row.pk)
    event = events.get(session, caller, event_id)  # (404 before anything else)
    present = {
        str(p["profile_id"])
        for p in event.data.get("participants") or []
        if isinstance(p, dict) and p.get("profile_id")
    }
    wanted = [e.profile_id for e in items if e.name is not None and e.profile_id not in present]
    added, already = participants.add_profiles(session, caller, event.id, wanted, value)
    doc = events.get(session, caller, event.id).data
    rules = parse_event(doc).allow  # (the stored document is valid)
    lonely = rules is not None and not any(value in pair for pair in rules)
    return SendOutcome(
        event.id,
        event.name,
        added,
        [e.profile_id for e in items if e.profile_id in present] + already,
        [e.profile_id for e in items if e.name is None and e.profile_id not in present],
        participants=len(doc.get("participants") or []),
        group_meets_no_one=bool(added) and lonely,
    )
