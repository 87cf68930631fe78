"""Exports of a meeting schedule: a CSV for Excel, an iCalendar file per participant, and
printable HTML agendas per participant and per table, labelled in Japanese and English.

Pure functions: they take the meetings (or a solved `Schedule`), the event and optional
display names (participant id -> name; default the participant's `name`, else its id)
and return text or bytes. Nothing here touches the network or the database.

A participant's printed agenda is the one page each participant holds on the day: the
event's name, date and venue; the participant's name and organization; per meeting the
clock time (or "枠 N / Slot N", counted from 1, without slot times), the table, the
partner's organization with its kind and country, and one line on why they meet, in the
reader's language (`AgendaNotes`: the match reason from the reader's side, else the
event's suggestion, else who asked for the meeting); one printed page per participant.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from models.codes import country_label
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
            str(m.slot + 1),  # counted from 1, as on the agendas (the JSON `slot` is the index)
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

Lang = Literal["ja", "en"]

KIND_LABELS: dict[str, tuple[str, str]] = {
    "firm": ("企業", "firm"),
    "university": ("大学", "university"),
    "research_institute": ("研究機関", "research institute"),
    "trading_company": ("商社", "trading company"),
    "financial_institution": ("金融機関", "financial institution"),
    "public_body": ("公的機関", "public body"),
    "support_org": ("支援機関", "support organization"),
    "other": ("その他", "other"),
}


@dataclass(frozen=True)
class Organization:
    """The organization behind a participant (its profile): name, kind and country."""

    name: str
    kind: str | None = None
    country: str | None = None

    def describe(self, lang: Lang) -> str:
        """The kind and the country: "商社 · イタリア" / "trading company · Italy"."""
        parts = []
        if self.kind:
            ja, en = KIND_LABELS.get(self.kind, (self.kind, self.kind))
            parts.append(ja if lang == "ja" else en)
        if self.country:
            parts.append(country_label(self.country, lang))
        return " · ".join(parts)


@dataclass(frozen=True)
class AgendaNotes:
    """What a printed agenda says beyond the schedule (service.events.briefing fills it):
    each participant's organization, the language each participant reads, and why a
    reader meets a partner, keyed (reader, partner), already in the reader's language."""

    organizations: Mapping[str, Organization] = field(default_factory=dict)
    langs: Mapping[str, Lang] = field(default_factory=dict)
    why: Mapping[tuple[str, str], str] = field(default_factory=dict)

    def lang(self, pid: str) -> Lang:
        return self.langs.get(pid, "ja")


_WISHED: dict[str, dict[Lang, str]] = {
    "mine": {"ja": "貴社からのご希望です", "en": "You asked for this meeting"},
    "theirs": {"ja": "先方が貴社との商談を希望しています", "en": "They asked to meet you"},
    "both": {"ja": "双方のご希望です", "en": "You both asked for this meeting"},
    "organizer": {"ja": "事務局がおすすめする商談です", "en": "Arranged by the organizer"},
}
_WEEKDAYS = ("月", "火", "水", "木", "金", "土", "日")


def why_line(event: Event, notes: AgendaNotes, reader: str, partner: str) -> str:
    """One line on why `reader` meets `partner`, in the reader's language: the match
    reason from the reader's side, else the event's suggestion of the pair, else who
    asked for it; "" when none of these is known."""
    line = notes.why.get((reader, partner))
    if line:
        return line
    pair = frozenset((reader, partner))
    for s in event.suggestions:
        if frozenset((s.a, s.b)) == pair and s.reason:
            return s.reason
    lang = notes.lang(reader)
    asked = {w.source for w in event.wishes if w.level != "no" and {w.source, w.target} == pair}
    if asked == {reader, partner}:
        return _WISHED["both"][lang]
    if reader in asked:
        return _WISHED["mine"][lang]
    if partner in asked:
        return _WISHED["theirs"][lang]
    if any(frozenset((o.a, o.b)) == pair and o.level != "no" for o in event.overrides) or any(
        m.pair == pair for m in event.locked
    ):
        return _WISHED["organizer"][lang]
    return ""


def event_date(event: Event) -> str:
    """The event's day(s) from its slot times, in its time zone, in both languages
    ("2026年6月10日（水） / Wed 10 Jun 2026"); "" without slot times."""
    if not event.slot_times:
        return ""
    days = sorted({_local(event, st.start).date() for st in event.slot_times})

    def both(d: date) -> str:
        return f"{d.year}年{d.month}月{d.day}日（{_WEEKDAYS[d.weekday()]}） / {d:%a %d %b %Y}"

    first = both(days[0])
    return first if len(days) == 1 else f"{first} – {both(days[-1])}"


_STYLE = """
@page { size: A4; margin: 14mm 12mm; }
body { font-family: "Hiragino Sans", "Noto Sans CJK JP", "Noto Sans JP", "Yu Gothic", sans-serif;
       margin: 2em; color: #111; }
header { border-bottom: 2px solid #333; margin-bottom: 0.8em; padding-bottom: 0.4em; }
p.event { font-size: 1.15em; font-weight: bold; margin: 0; }
p.when { color: #333; margin: 0.2em 0 0; }
h1 { font-size: 1.4em; margin: 0.6em 0 0.1em; }
p.who { color: #333; margin: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 1em; }
th, td { border: 1px solid #888; padding: 0.4em 0.6em; text-align: left; vertical-align: top; }
th { background: #eee; }
td.time { white-space: nowrap; width: 1%; }
th.table { width: 12%; }
th.why { width: 38%; }
td.free { color: #888; }
span.meta { display: block; color: #555; font-size: 0.85em; }
td.why { font-size: 0.9em; }
tr { break-inside: avoid; page-break-inside: avoid; }
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


def _event_header(event: Event) -> str:
    """The event's name, and its date and venue, atop every agenda."""
    when = " · ".join(x for x in (event_date(event), event.venue) if x)
    return f'<p class="event">{html.escape(event.name or event.id)}</p>\n' + (
        f'<p class="when">{html.escape(when)}</p>\n' if when else ""
    )


def _participant_section(
    meetings: Sequence[Meeting],
    event: Event,
    pid: str,
    who: Mapping[str, str],
    notes: AgendaNotes | None = None,
) -> str:
    notes = notes or AgendaNotes()
    lang = notes.lang(pid)
    p = event.participant(pid)
    mine: dict[int, list[Meeting]] = {}
    for m in meetings:
        if pid in (m.a, m.b):
            mine.setdefault(m.slot, []).append(m)
    rows = []
    for slot in range(event.slots):
        time = f'<td class="time">{html.escape(_slot_label(event, slot))}</td>'
        if slot in mine:
            for m in mine[slot]:
                partner = m.b if m.a == pid else m.a
                org = notes.organizations.get(partner)
                name = org.name if org else who.get(partner, partner)
                meta = org.describe(lang) if org else ""
                if org and who.get(partner, partner) not in (partner, org.name):
                    meta = " · ".join(x for x in (who[partner], meta) if x)
                rows.append(
                    "<tr>"
                    + time
                    + f"<td>{html.escape(_table_name(event, m.table))}</td>"
                    + f"<td>{html.escape(name)}"
                    + (f'<span class="meta">{html.escape(meta)}</span>' if meta else "")
                    + "</td>"
                    + f'<td class="why">{html.escape(why_line(event, notes, pid, partner))}</td>'
                    + "</tr>"
                )
        else:
            free = "空き / Free" if p.is_available(slot) else "不在 / Not available"
            rows.append(
                "<tr>" + time + '<td class="free"></td>'
                f'<td class="free">{free}</td><td class="free"></td></tr>'
            )
    name = who.get(pid, pid)
    own = notes.organizations.get(pid)
    who_line = ""
    if own:
        parts = [x for x in (own.name if own.name != name else "", own.describe(lang)) if x]
        who_line = f'<p class="who">{html.escape(" · ".join(parts))}</p>\n' if parts else ""
    return (
        "<section>\n<header>\n"
        + _event_header(event)
        + f"<h1>{html.escape(name)} — 商談スケジュール / Meeting schedule</h1>\n"
        + who_line
        + "</header>\n"
        '<table>\n<thead><tr><th>時間 / Time</th><th class="table">テーブル / Table</th>'
        '<th>商談相手 / Partner</th><th class="why">商談のきっかけ / Why you meet</th>'
        "</tr></thead>\n"
        "<tbody>\n" + "\n".join(rows) + "\n</tbody>\n</table>\n</section>"
    )


def _table_section(
    meetings: Sequence[Meeting],
    event: Event,
    table_id: str,
    who: Mapping[str, str],
    notes: AgendaNotes | None = None,
) -> str:
    notes = notes or AgendaNotes()

    def label(pid: str) -> str:
        org = notes.organizations.get(pid)
        name = who.get(pid, pid)
        return f"{name} ({org.name})" if org and org.name != name else name

    at = {m.slot: m for m in meetings if m.table == table_id}
    rows = []
    for slot in range(event.slots):
        m = at.get(slot)
        time = f'<td class="time">{html.escape(_slot_label(event, slot))}</td>'
        if m is None:
            rows.append(time + '<td class="free">空き / Free</td><td class="free"></td>')
        else:
            rows.append(
                time + f"<td>{html.escape(label(m.a))}</td><td>{html.escape(label(m.b))}</td>"
            )
    name = _table_name(event, table_id)
    return (
        "<section>\n<header>\n"
        + _event_header(event)
        + f"<h1>テーブル / Table {html.escape(name)}</h1>\n</header>\n"
        "<table>\n<thead><tr><th>時間 / Time</th><th>参加者A / Participant A</th>"
        "<th>参加者B / Participant B</th></tr></thead>\n<tbody>\n"
        + "\n".join(f"<tr>{r}</tr>" for r in rows)
        + "\n</tbody>\n</table>\n</section>"
    )


def participant_agenda_html(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    participant_id: str,
    names: Mapping[str, str] | None = None,
    notes: AgendaNotes | None = None,
) -> str:
    """A printable page: the participant's slots with table, partner and why they meet."""
    if not event.has_participant(participant_id):
        raise ValueError(f"unknown participant {participant_id!r}")
    who = _namer(event, names)
    section = _participant_section(_meetings(schedule), event, participant_id, who, notes)
    return _page(f"{who.get(participant_id, participant_id)} — 商談スケジュール", [section])


def table_agenda_html(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    table_id: str,
    names: Mapping[str, str] | None = None,
    notes: AgendaNotes | None = None,
) -> str:
    """A printable page for one table: who meets there at each time."""
    if table_id not in {t.id for t in event.tables}:
        raise ValueError(f"unknown table {table_id!r}")
    who = _namer(event, names)
    section = _table_section(_meetings(schedule), event, table_id, who, notes)
    return _page(f"テーブル / Table {_table_name(event, table_id)}", [section])


def all_agendas_html(
    schedule: Schedule | Sequence[Meeting],
    event: Event,
    names: Mapping[str, str] | None = None,
    *,
    by: str = "participant",
    notes: AgendaNotes | None = None,
) -> str:
    """Every participant's (or, with by="table", every table's) agenda in one document,
    one per printed page."""
    who = _namer(event, names)
    meetings = _meetings(schedule)
    if by == "participant":
        sections = [
            _participant_section(meetings, event, p.id, who, notes) for p in event.participants
        ]
    elif by == "table":
        sections = [_table_section(meetings, event, t.id, who, notes) for t in event.tables]
    else:
        raise ValueError("by must be 'participant' or 'table'")
    return _page(f"{event.name or event.id} — 商談スケジュール / Meeting schedules", sections)
