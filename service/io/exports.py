"""Exports of a meeting schedule: a CSV for Excel, an iCalendar file per participant, and
printable HTML agendas per participant and per table, labelled in Japanese and English.

Pure functions: they take the meetings (or a solved `Schedule`), the event and optional
display names (participant id -> name; default the participant's `name`, else its id)
and return text or bytes. Nothing here touches the network or the database.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from models.events import Event, Meeting, Schedule

CSV_HEADER = (
    "枠 Slot",
    "開始 Start",
    "終了 End",
    "テーブル Table",
    "参加者A ID",
    "参加者A Participant A",
    "参加者B ID",
    "参加者B Participant B",
)
# (console: full-width forms and leading blanks added for the shortlist exports)
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")
_LEADING_BLANKS = " \t\r\n\u3000"
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
PRODID = "-//ClusterMatch//Meeting schedule//EN"


def _meetings(schedule: Schedule | Sequence[Meeting]) -> list[Meeting]:
    items = schedule.meetings if isinstance(schedule, Schedule) else schedule
    return sorted(items, key=lambda m: (m.slot, m.table or "", m.a, m.b))


def _namer(event: Event, names: Mapping[str, str] | None) -> dict[str, str]:
    out = {p.id: p.name or p.id for p in event.participants}
    if names:
        out.update(names)
    return out


def _table_name(event: Event, table_id: str | None) -> str:
    if table_id is None:
        return ""
    for t in event.tables:
        if t.id == table_id:
            return t.name or t.id
    return table_id


def _local(event: Event, moment: datetime) -> datetime:
    return moment.astimezone(ZoneInfo(event.timezone))


def _slot_label(event: Event, slot: int) -> str:
    st = event.slot_time(slot)
    if st is None:
        return f"枠 {slot + 1} / Slot {slot + 1}"
    return f"{_local(event, st.start):%H:%M}–{_local(event, st.end):%H:%M}"


# ---------------------------------------------------------------------------------------
# CSV


def neutralize_cell(value: str) -> str:
    """Stop a spreadsheet from reading a cell as a formula (CSV injection): text beginning
    with = + - @ (or their full-width forms, which Japanese input methods type), a tab or
    a carriage return gets a leading single quote; so does such text after leading spaces
    or line breaks, which a spreadsheet may trim before it looks."""
    head = value.lstrip(_LEADING_BLANKS)
    starts = value.startswith(_FORMULA_START) or head.startswith(_FORMULA_START)
    return "'" + value if starts else value


def schedule_csv(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    names: Mapping[str, str] | None = None,
) -> bytes:
    """All meetings, one row each, for Excel: UTF-8 with a BOM, CRLF rows."""
    who = _namer(event, names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(CSV_HEADER)
    for m in _meetings(schedule):
        st = event.slot_time(m.slot)
        start = _local(event, st.start).isoformat(timespec="minutes") if st else ""
        end = _local(event, st.end).isoformat(timespec="minutes") if st else ""
        row = [
            str(m.slot),
            start,
            end,
            _table_name(event, m.table),
            m.a,
            who.get(m.a, m.a),
            m.b,
            who.get(m.b, m.b),
        ]
        writer.writerow([neutralize_cell(cell) for cell in row])
    return buf.getvalue().encode("utf-8-sig")


# ---------------------------------------------------------------------------------------
# iCalendar (RFC 5545)


def escape_text(value: str) -> str:
    """TEXT value escaping (RFC 5545 3.3.11): backslash, semicolon, comma, newlines."""
    value = _CONTROL.sub("", value)
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\n")


def fold_line(line: str) -> str:
    """Fold a content line at 75 octets (RFC 5545 3.1) without splitting a UTF-8
    character; continuation lines begin with one space."""
    out: list[str] = []
    current, size, limit = "", 0, 75
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += n
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _uid(event: Event, m: Meeting, domain: str) -> str:
    # Stable per event and pair, so a re-planned meeting updates the same calendar entry.
    a, b = sorted((m.a, m.b))
    digest = hashlib.sha256(f"{event.id}\x00{a}\x00{b}".encode()).hexdigest()[:32]
    return f"{digest}@{domain}"


def participant_ics(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    participant_id: str,
    names: Mapping[str, str] | None = None,
    *,
    dtstamp: datetime | None = None,
    domain: str = "clustermatch",
) -> str:
    """One VCALENDAR with a VEVENT per meeting of `participant_id`, times in UTC. Raises
    ValueError when the event has no slot times or the participant is unknown."""
    if event.slot_times is None:
        raise ValueError("the event has no slot_times: calendar entries need times")
    if not event.has_participant(participant_id):
        raise ValueError(f"unknown participant {participant_id!r}")
    who = _namer(event, names)
    stamp = _utc(dtstamp or datetime.now(UTC))
    me = who.get(participant_id, participant_id)
    title = f"{event.name or event.id} – {me}"
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODID}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        f"X-WR-CALNAME:{escape_text(title)}",
    ]
    for m in _meetings(schedule):
        if participant_id not in (m.a, m.b):
            continue
        partner = m.b if m.a == participant_id else m.a
        st = event.slot_time(m.slot)
        assert st is not None
        table = _table_name(event, m.table)
        description = (
            f"商談会 / Business matching: {event.name or event.id}\n"
            f"相手 / Partner: {who.get(partner, partner)}\n"
            f"テーブル / Table: {table}"
        )
        lines += [
            "BEGIN:VEVENT",
            f"UID:{_uid(event, m, domain)}",
            f"DTSTAMP:{stamp}",
            f"DTSTART:{_utc(st.start)}",
            f"DTEND:{_utc(st.end)}",
            f"SUMMARY:{escape_text(f'商談 Meeting: {who.get(partner, partner)}')}",
            f"LOCATION:{escape_text(table)}",
            f"DESCRIPTION:{escape_text(description)}",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + "\r\n" for line in lines)


# ---------------------------------------------------------------------------------------
# HTML agendas

_STYLE = """
body { font-family: "Hiragino Sans", "Noto Sans JP", "Yu Gothic", sans-serif; margin: 2em; }
h1 { font-size: 1.4em; margin-bottom: 0.2em; }
p.event { color: #444; margin-top: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { border: 1px solid #888; padding: 0.4em 0.6em; text-align: left; }
th { background: #eee; }
td.free { color: #888; }
section { page-break-after: always; break-after: page; }
section:last-child { page-break-after: auto; break-after: auto; }
@media print { body { margin: 0; } }
""".strip()


def _page(title: str, sections: Iterable[str]) -> str:
    return (
        '<!DOCTYPE html>\n<html lang="ja">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html.escape(title)}</title>\n<style>\n{_STYLE}\n</style>\n</head>\n<body>\n"
        + "\n".join(sections)
        + "\n</body>\n</html>\n"
    )


def _row(cells: Sequence[str], css: str | None = None) -> str:
    klass = f' class="{css}"' if css else ""
    return "<tr>" + "".join(f"<td{klass}>{html.escape(c)}</td>" for c in cells) + "</tr>"


def _participant_section(
    meetings: Sequence[Meeting], event: Event, pid: str, who: Mapping[str, str]
) -> str:
    p = event.participant(pid)
    mine: dict[int, list[Meeting]] = {}
    for m in meetings:
        if pid in (m.a, m.b):
            mine.setdefault(m.slot, []).append(m)
    rows = []
    for slot in range(event.slots):
        if slot in mine:
            for m in mine[slot]:
                partner = m.b if m.a == pid else m.a
                rows.append(
                    _row(
                        [
                            _slot_label(event, slot),
                            _table_name(event, m.table),
                            who.get(partner, partner),
                        ]
                    )
                )
        elif p.is_available(slot):
            rows.append(_row([_slot_label(event, slot), "", "空き / Free"], "free"))
        else:
            rows.append(_row([_slot_label(event, slot), "", "不在 / Not available"], "free"))
    name = who.get(pid, pid)
    return (
        f"<section>\n<h1>{html.escape(name)} — 商談スケジュール / Meeting schedule</h1>\n"
        f'<p class="event">{html.escape(event.name or event.id)}</p>\n'
        "<table>\n<thead><tr><th>時間 / Time</th><th>テーブル / Table</th>"
        "<th>商談相手 / Partner</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</section>"
    )


def _table_section(
    meetings: Sequence[Meeting], event: Event, table_id: str, who: Mapping[str, str]
) -> str:
    at = {m.slot: m for m in meetings if m.table == table_id}
    rows = []
    for slot in range(event.slots):
        m = at.get(slot)
        if m is None:
            rows.append(_row([_slot_label(event, slot), "空き / Free", ""], "free"))
        else:
            rows.append(_row([_slot_label(event, slot), who.get(m.a, m.a), who.get(m.b, m.b)]))
    name = _table_name(event, table_id)
    return (
        f"<section>\n<h1>テーブル / Table {html.escape(name)}</h1>\n"
        f'<p class="event">{html.escape(event.name or event.id)}</p>\n'
        "<table>\n<thead><tr><th>時間 / Time</th><th>参加者A / Participant A</th>"
        "<th>参加者B / Participant B</th></tr></thead>\n<tbody>\n"
        + "\n".join(rows)
        + "\n</tbody>\n</table>\n</section>"
    )


def participant_agenda_html(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    participant_id: str,
    names: Mapping[str, str] | None = None,
) -> str:
    """A printable page: the participant's slots with table and partner."""
    if not event.has_participant(participant_id):
        raise ValueError(f"unknown participant {participant_id!r}")
    who = _namer(event, names)
    section = _participant_section(_meetings(schedule), event, participant_id, who)
    return _page(f"{who.get(participant_id, participant_id)} — 商談スケジュール", [section])


def table_agenda_html(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    table_id: str,
    names: Mapping[str, str] | None = None,
) -> str:
    """A printable page for one table: who meets there in each slot."""
    if table_id not in {t.id for t in event.tables}:
        raise ValueError(f"unknown table {table_id!r}")
    who = _namer(event, names)
    section = _table_section(_meetings(schedule), event, table_id, who)
    return _page(f"テーブル / Table {_table_name(event, table_id)}", [section])


def all_agendas_html(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    names: Mapping[str, str] | None = None,
    *,
    by: str = "participant",
) -> str:
    """Every participant's (or, with by="table", every table's) agenda in one document,
    one per printed page."""
    who = _namer(event, names)
    meetings = _meetings(schedule)
    if by == "participant":
        sections = [_participant_section(meetings, event, p.id, who) for p in event.participants]
    elif by == "table":
        sections = [_table_section(meetings, event, t.id, who) for t in event.tables]
    else:
        raise ValueError("by must be 'participant' or 'table'")
    return _page(f"{event.name or event.id} — 商談スケジュール / Meeting schedules", sections)
