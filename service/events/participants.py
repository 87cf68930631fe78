"""An event's participants as an organizer manages them: added from stored profiles (the
participant's id is the profile's id), or from an uploaded list; their group,
availability and minimum / maximum meetings changed; removed.

Every change goes through `service.events.service.replace`, the API's own validation: a
change that would make the event invalid raises `ValidationFailed` and stores nothing.
Removing a participant also removes what names it (wishes, overrides, suggestions, pins,
blocked and met-before pairs, locked meetings), which would otherwise dangle.

The uploaded list (`parse_list`) is a CSV file (UTF-8, UTF-8 with BOM or cp932, detected
as for profile imports) with a header row; columns, English or Japanese:
    id (ID, 識別子) and/or profile_id (プロフィールID) — one of them is required;
    group (グループ, 区分); min (最小, 最小商談数); max (最大, 最大商談数);
    available (参加可能枠, 参加枠): slot numbers from 1 as on the pages, e.g. "1-4;6";
    name (名称, 企業名).
A row whose profile is stored gets the profile's name. A list with a bad row adds
nothing: every bad row is reported (`ListProblem`: row, field, code, params).
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from models.events.model import DEFAULT_GROUP, MAX_ID
from models.profile import ID_PATTERN
from service.auth import Principal
from service.errors import NotFound
from service.events import service, setup
from service.io.imports import ImportFormatError, decode
from service.profiles import directory
from service.store.db import Session
from service.store.tables import EventRow

MAX_LIST_ROWS = 5_000
MAX_LIST_BYTES = 2 * 1024 * 1024
_ID = re.compile(ID_PATTERN)


def participant_list(row: EventRow) -> list[dict[str, Any]]:
    return [dict(p) for p in row.data.get("participants", [])]


def _store(session: Session, caller: Principal, row: EventRow, doc: dict[str, Any]) -> EventRow:
    return service.replace(session, caller, row.id, {**doc, "name": row.name})


def add_profiles(
    session: Session,
    caller: Principal,
    event_id: str,
    profile_ids: Sequence[str],
    group: str,
) -> tuple[list[str], list[str]]:
    """Add stored profiles as participants of `group` with the event's default min / max;
    (the ids added, those already taking part). Unknown profile ids are ignored."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    people = participant_list(row)
    present = {p["id"] for p in people}
    found = directory.summaries(session, list(dict.fromkeys(profile_ids)))
    low, high = setup.defaults_of(doc)
    added, already = [], []
    for pid in dict.fromkeys(profile_ids):
        summary = found.get(pid)
        if summary is None:
            continue
        if pid in present:
            already.append(pid)
            continue
        entry: dict[str, Any] = {
            "id": pid,
            "profile_id": pid,
            "name": summary.name,
            "group": group or DEFAULT_GROUP,
            "min": low,
        }
        if high is not None:
            entry["max"] = high
        people.append(entry)
        added.append(pid)
    if added:
        doc["participants"] = people
        _store(session, caller, row, doc)
    return added, already


def update(
    session: Session,
    caller: Principal,
    event_id: str,
    participant_id: str,
    *,
    group: str,
    low: int,
    high: int | None,
    available: Sequence[int] | None,
) -> EventRow:
    """Change one participant's group, min, max and available slots (None: all)."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    people = participant_list(row)
    for p in people:
        if p["id"] == participant_id:
            p["group"] = group or DEFAULT_GROUP
            p["min"] = low
            if high is None:
                p.pop("max", None)
            else:
                p["max"] = high
            if available is None:
                p.pop("available", None)
            else:
                p["available"] = sorted(set(available))
            break
    else:
        raise NotFound(f"no participant '{participant_id[:MAX_ID]}' in this event")
    doc["participants"] = people
    return _store(session, caller, row, doc)


def _names(item: Any, participant_id: str) -> bool:
    if isinstance(item, dict):
        return participant_id in (item.get("a"), item.get("b"), item.get("from"), item.get("to"))
    if isinstance(item, list | tuple):
        return participant_id in item
    return False


def remove(session: Session, caller: Principal, event_id: str, participant_id: str) -> int:
    """Remove a participant and everything that names it; how many such items went."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    people = participant_list(row)
    kept = [p for p in people if p["id"] != participant_id]
    if len(kept) == len(people):
        raise NotFound(f"no participant '{participant_id[:MAX_ID]}' in this event")
    doc["participants"] = kept
    dropped = 0
    for key in ("wishes", "overrides", "suggestions", "pinned", "blocked", "met_before", "locked"):
        items = doc.get(key)
        if isinstance(items, list):
            left = [i for i in items if not _names(i, participant_id)]
            dropped += len(items) - len(left)
            doc[key] = left
    _store(session, caller, row, doc)
    return dropped


# ---------------------------------------------------------------------------- the list


@dataclass(frozen=True)
class ListProblem:
    """A bad row of an uploaded participant list: `code` names the reason (the console
    words it), `params` fill it."""

    row: int
    field: str | None
    code: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)


@dataclass
class ParsedList:
    rows: list[dict[str, Any]]
    problems: list[ListProblem]
    total: int


_LIST_COLUMNS: dict[str, tuple[str, ...]] = {
    "id": ("id", "識別子", "参加者id"),
    "profile_id": ("profile_id", "profile", "プロフィールid", "プロフィール"),
    "group": ("group", "グループ", "区分"),
    "min": ("min", "最小", "最小商談数", "最少"),
    "max": ("max", "最大", "最大商談数"),
    "available": ("available", "slots", "参加可能枠", "参加枠", "参加可能"),
    "name": ("name", "名称", "企業名", "会社名"),
}


def _key(text: str) -> str:
    return re.sub(r"[\s\-]+", "_", unicodedata.normalize("NFKC", text).strip().casefold())


_HEADER = {_key(alias): target for target, names in _LIST_COLUMNS.items() for alias in names}


def parse_slots(text: str, slots: int) -> list[int] | str:
    """'1-4;6' (slot numbers from 1) -> 0-based indexes, or the offending part."""
    out: set[int] = set()
    for part in re.split(r"[\s;；,，、]+", unicodedata.normalize("NFKC", text).strip()):
        if not part:
            continue
        match = re.fullmatch(r"(\d{1,4})(?:[-~〜](\d{1,4}))?", part)
        if not match:
            return part
        first = int(match.group(1))
        last = int(match.group(2) or first)
        if first < 1 or last > slots or first > last:
            return part
        out.update(range(first - 1, last))
    return sorted(out)


def _count(text: str) -> int | None:
    text = unicodedata.normalize("NFKC", text).strip()
    return int(text) if re.fullmatch(r"\d{1,4}", text) else None


def parse_list(session: Session, data: bytes, *, groups: Sequence[str], slots: int) -> ParsedList:
    """Read an uploaded participant list (see the module docstring). Raises
    `ImportFormatError` for a file that cannot be read at all."""
    if len(data) > MAX_LIST_BYTES:
        raise ImportFormatError(f"the list is larger than {MAX_LIST_BYTES:,} bytes")
    text, _ = decode(data)
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(reader, None)
        while header is not None and not any(c.strip() for c in header):
            header = next(reader, None)
        if header is None:
            raise ImportFormatError("the list is empty")
        columns = [_HEADER.get(_key(h)) for h in header]
        unknown = [h for h, c in zip(header, columns, strict=True) if c is None and h.strip()]
        if unknown:
            raise ImportFormatError(
                "unknown column(s): " + ", ".join(unknown) + "; known: " + ", ".join(_LIST_COLUMNS)
            )
        if "id" not in columns and "profile_id" not in columns:
            raise ImportFormatError("the list needs a column id or profile_id")
        records: list[tuple[int, dict[str, str]]] = []
        for number, cells in enumerate(reader, start=2):
            if not any(c.strip() for c in cells):
                continue
            if len(records) >= MAX_LIST_ROWS:
                raise ImportFormatError(f"more than {MAX_LIST_ROWS:,} rows")
            record = {c: cells[i].strip() for i, c in enumerate(columns) if c and i < len(cells)}
            records.append((number, record))
    except csv.Error as exc:
        raise ImportFormatError(f"CSV syntax error: {exc}") from None

    wanted = [r.get("profile_id") or r.get("id") or "" for _, r in records]
    stored = directory.summaries(session, [w for w in wanted if w])
    problems: list[ListProblem] = []
    rows: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    for number, record in records:
        bad = len(problems)
        profile_id = record.get("profile_id") or ""
        pid = unicodedata.normalize("NFKC", record.get("id") or profile_id).strip()
        if not pid:
            problems.append(ListProblem(number, "id", "missing"))
        elif len(pid) > MAX_ID or not _ID.match(pid):
            problems.append(ListProblem(number, "id", "bad_id", {"value": pid[:60]}))
        elif pid in seen:
            problems.append(ListProblem(number, "id", "duplicate", {"first": seen[pid]}))
        else:
            seen[pid] = number
        if profile_id and profile_id not in stored:
            problems.append(
                ListProblem(number, "profile_id", "unknown_profile", {"value": profile_id[:60]})
            )
        elif not profile_id and pid in stored:
            profile_id = pid  # an id that is a stored profile's: the participant is it
        group = record.get("group") or (groups[0] if groups else DEFAULT_GROUP)
        if group not in groups:
            problems.append(ListProblem(number, "group", "unknown_group", {"value": group[:60]}))
        low = _count(record["min"]) if record.get("min") else 0
        high = _count(record["max"]) if record.get("max") else None
        if low is None:
            problems.append(ListProblem(number, "min", "bad_count", {"value": record["min"]}))
        if record.get("max") and high is None:
            problems.append(ListProblem(number, "max", "bad_count", {"value": record["max"]}))
        if low is not None and high is not None and low > high:
            problems.append(ListProblem(number, "min", "min_over_max"))
        available: list[int] | None = None
        if record.get("available"):
            parsed = parse_slots(record["available"], slots)
            if isinstance(parsed, str):
                problems.append(
                    ListProblem(
                        number, "available", "bad_slots", {"value": parsed[:40], "slots": slots}
                    )
                )
            else:
                available = parsed
        if len(problems) > bad:
            continue
        entry: dict[str, Any] = {"id": pid, "group": group, "min": low or 0}
        if profile_id:
            entry["profile_id"] = profile_id
        name = record.get("name") or (stored[profile_id].name if profile_id in stored else "")
        if name:
            entry["name"] = name[:300]
        if high is not None:
            entry["max"] = high
        if available is not None:
            entry["available"] = available
        rows.append(entry)
    return ParsedList(rows, problems, len(records))


def add_list(
    session: Session, caller: Principal, event_id: str, rows: Sequence[dict[str, Any]]
) -> tuple[int, int]:
    """Add or update (by id) the participants of a parsed list; (added, updated)."""
    row = service.get(session, caller, event_id)
    doc = dict(row.data)
    people = participant_list(row)
    index = {p["id"]: i for i, p in enumerate(people)}
    added = updated = 0
    for entry in rows:
        if entry["id"] in index:
            people[index[entry["id"]]] = {**people[index[entry["id"]]], **entry}
            updated += 1
        else:
            index[entry["id"]] = len(people)
            people.append(dict(entry))
            added += 1
    doc["participants"] = people
    _store(session, caller, row, doc)
    return added, updated
