"""Exports parsed back: CSV (csv module), iCalendar (a small unfolding parser), HTML
(html.parser)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from models.events import Event, Meeting, parse_event
from service.io.exports import (
    all_agendas_html,
    escape_text,
    fold_line,
    neutralize_cell,
    participant_agenda_html,
    participant_ics,
    schedule_csv,
    table_agenda_html,
)

NAMES = {
    "p1": '=HYPERLINK("http://evil")',
    "p2": "株式会社テスト精機, 研究開発部; \\ R&D <b>",
    "p3": "@SUM(A1)",
    "p4": "Plain Co",
}


@pytest.fixture
def ev() -> Event:
    return parse_event(
        {
            "id": "ev-2025",
            "name": "TAMA 商談会 2025",
            "slots": 3,
            "tables": [{"id": "T1", "name": "Booth <A>"}, {"id": "T2"}],
            "participants": [{"id": "p1"}, {"id": "p2"}, {"id": "p3"}, {"id": "p4"}],
            "timezone": "Asia/Tokyo",
            "slot_times": ["2025-06-10T13:00", "2025-06-10T13:20", "2025-06-10T14:00"],
            "slot_minutes": 20,
        }
    )


MEETINGS = [
    Meeting("p1", "p2", 0, "T1"),
    Meeting("p3", "p4", 0, "T2"),
    Meeting("p2", "p3", 2, "T1"),
]


# --- CSV ------------------------------------------------------------------------------


def test_csv_for_excel(ev: Event) -> None:
    data = schedule_csv(MEETINGS, ev, NAMES)
    assert data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM for Excel
    text = data.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text, newline="")))
    assert rows[0][0] == "枠 Slot" and len(rows) == 4
    first = rows[1]
    assert first[:4] == ["1", "2025-06-10T13:00+09:00", "2025-06-10T13:20+09:00", "Booth <A>"]
    assert first[5] == '\'=HYPERLINK("http://evil")'  # formula neutralized
    assert first[7] == NAMES["p2"]  # commas and semicolons survive quoting
    assert rows[2][5] == "'@SUM(A1)"
    assert [r[0] for r in rows[1:]] == ["1", "1", "3"]  # slots count from 1 (issue 19.15)


@pytest.mark.parametrize("cell", ["=1+1", "+1", "-1", "@x", "\tx", "\rx"])
def test_neutralize_formula_cells(cell: str) -> None:
    assert neutralize_cell(cell) == "'" + cell
    assert neutralize_cell("x" + cell) == "x" + cell


def test_csv_without_slot_times(ev: Event) -> None:
    bare = parse_event({"slots": 3, "tables": 1, "participants": [{"id": "p1"}, {"id": "p2"}]})
    rows = list(
        csv.reader(
            io.StringIO(
                schedule_csv([Meeting("p1", "p2", 1, "T1")], bare).decode("utf-8-sig"), newline=""
            )
        )
    )
    assert rows[1] == ["2", "", "", "T1", "p1", "p1", "p2", "p2"]  # slot index 1: 枠 2


# --- iCalendar --------------------------------------------------------------------------


def unfold(text: str) -> list[str]:
    """RFC 5545 unfolding: CRLF followed by one space or tab continues the line."""
    assert "\n" not in text.replace("\r\n", "")  # only CRLF line ends
    lines: list[str] = []
    for raw in text.split("\r\n"):
        if raw[:1] in (" ", "\t") and lines:
            lines[-1] += raw[1:]
        elif raw:
            lines.append(raw)
    return lines


def unescape(value: str) -> str:
    out, i = "", 0
    while i < len(value):
        if value[i] == "\\" and i + 1 < len(value):
            nxt = value[i + 1]
            out += "\n" if nxt in "nN" else nxt
            i += 2
        else:
            out += value[i]
            i += 1
    return out


def events_of(lines: list[str]) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for line in lines:
        if line == "BEGIN:VEVENT":
            current = {}
        elif line == "END:VEVENT":
            assert current is not None
            found.append(current)
            current = None
        elif current is not None:
            name, _, value = line.partition(":")
            current[name] = value
    return found


def test_ics_per_participant(ev: Event) -> None:
    stamp = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    text = participant_ics(MEETINGS, ev, "p2", NAMES, dtstamp=stamp)
    assert text.endswith("\r\n")
    for raw in text.split("\r\n"):
        assert len(raw.encode("utf-8")) <= 75
    lines = unfold(text)
    assert lines[0] == "BEGIN:VCALENDAR" and lines[-1] == "END:VCALENDAR"
    assert "VERSION:2.0" in lines and any(line.startswith("PRODID:") for line in lines)
    vevents = events_of(lines)
    assert len(vevents) == 2  # p2 meets p1 (slot 0) and p3 (slot 2)
    first, second = vevents
    assert first["DTSTART"] == "20250610T040000Z" and first["DTEND"] == "20250610T042000Z"
    assert second["DTSTART"] == "20250610T050000Z"
    assert first["DTSTAMP"] == "20250601T090000Z"
    assert unescape(first["SUMMARY"]) == f"商談 Meeting: {NAMES['p1']}"
    assert unescape(first["LOCATION"]) == "Booth <A>"
    assert "相手 / Partner: =HYPERLINK" in unescape(first["DESCRIPTION"])
    assert first["UID"] != second["UID"] and first["UID"].endswith("@clustermatch")


def test_ics_escaping_and_folding(ev: Event) -> None:
    text = participant_ics(MEETINGS, ev, "p1", NAMES, dtstamp=datetime(2025, 1, 1, tzinfo=UTC))
    (vevent,) = events_of(unfold(text))
    raw = vevent["SUMMARY"]
    assert "\\," in raw and "\\;" in raw and "\\\\" in raw
    assert unescape(raw) == f"商談 Meeting: {NAMES['p2']}"
    assert "\\n" in vevent["DESCRIPTION"]
    assert escape_text("a,b;c\\d\ne") == "a\\,b\\;c\\\\d\\ne"


def test_fold_line_never_splits_a_character() -> None:
    line = "SUMMARY:" + "商談会" * 40
    folded = fold_line(line)
    parts = folded.split("\r\n")
    assert len(parts) > 1
    assert all(len(p.encode("utf-8")) <= 75 for p in parts)
    assert all(p.startswith(" ") for p in parts[1:])
    assert "".join([parts[0], *(p[1:] for p in parts[1:])]) == line


def test_uid_is_stable_across_replanning(ev: Event) -> None:
    moved = [Meeting("p2", "p1", 1, "T2")]
    before = events_of(unfold(participant_ics(MEETINGS, ev, "p1")))[0]["UID"]
    after = events_of(unfold(participant_ics(moved, ev, "p1")))[0]["UID"]
    assert before == after


def test_ics_needs_slot_times_and_a_known_participant(ev: Event) -> None:
    bare = parse_event({"slots": 3, "tables": 1, "participants": [{"id": "p1"}, {"id": "p2"}]})
    with pytest.raises(ValueError, match="slot_times"):
        participant_ics([], bare, "p1")
    with pytest.raises(ValueError, match="unknown participant"):
        participant_ics([], ev, "nobody")


# --- HTML ------------------------------------------------------------------------------


class _Cells(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self.headers: list[str] = []
        self.h1: list[str] = []
        self.title = ""
        self.sections = 0
        self._tag = ""
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._tag = tag
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []
        elif tag == "section":
            self.sections += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None:
            text = "".join(self._cell)
            (self.rows[-1] if tag == "td" else self.headers).append(text)
            self._cell = None
        self._tag = ""

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        elif self._tag == "h1":
            self.h1.append(data)
        elif self._tag == "title":
            self.title += data


def parse_html(text: str) -> _Cells:
    parser = _Cells()
    parser.feed(text)
    parser.close()
    return parser


def test_participant_agenda(ev: Event) -> None:
    text = participant_agenda_html(MEETINGS, ev, "p2", NAMES)
    assert "<b>" not in text and "&lt;b&gt;" in text  # names are escaped
    page = parse_html(text)
    assert page.headers == [
        "時間 / Time",
        "テーブル / Table",
        "商談相手 / Partner",
        "商談のきっかけ / Why you meet",
    ]
    body = [r for r in page.rows if r]
    assert body == [
        ["13:00–13:20", "Booth <A>", NAMES["p1"], ""],
        ["13:20–13:40", "", "空き / Free", ""],
        ["14:00–14:20", "Booth <A>", NAMES["p3"], ""],
    ]
    assert page.h1 == [f"{NAMES['p2']} — 商談スケジュール / Meeting schedule"]


def test_table_agenda(ev: Event) -> None:
    page = parse_html(table_agenda_html(MEETINGS, ev, "T1", NAMES))
    assert page.headers == ["時間 / Time", "参加者A / Participant A", "参加者B / Participant B"]
    body = [r for r in page.rows if r]
    assert body[0] == ["13:00–13:20", NAMES["p1"], NAMES["p2"]]
    assert body[1] == ["13:20–13:40", "空き / Free", ""]
    assert page.h1 == ["テーブル / Table Booth <A>"]
    with pytest.raises(ValueError, match="unknown table"):
        table_agenda_html(MEETINGS, ev, "T9")


def test_all_agendas_one_section_per_page(ev: Event) -> None:
    by_participant = parse_html(all_agendas_html(MEETINGS, ev, NAMES))
    assert by_participant.sections == 4
    by_table = parse_html(all_agendas_html(MEETINGS, ev, NAMES, by="table"))
    assert by_table.sections == 2
    unavailable = parse_event(
        {"slots": 2, "tables": 1, "participants": [{"id": "x", "available": [1]}, {"id": "y"}]}
    )
    page = parse_html(participant_agenda_html([], unavailable, "x"))
    assert next(r for r in page.rows if r) == ["枠 1 / Slot 1", "", "不在 / Not available", ""]


def test_participant_agenda_says_when_where_who_and_why() -> None:
    """Issue 19.19: agendas were subtitled "event", had no date, venue or clock time, and
    a partner was a bare name."""
    from service.io.exports import AgendaNotes, Organization

    ev = parse_event(
        {
            "name": "多摩商談会 2026",
            "venue": "立川市 多摩産業交流センター 3F",
            "slots": 3,
            "tables": [{"id": "T1", "name": "A-1"}],
            "timezone": "Asia/Tokyo",
            "slot_times": ["2026-06-10T13:00", "2026-06-10T13:25", "2026-06-10T13:50"],
            "participants": [
                {"id": "gear", "name": "営業部 山田"},
                {"id": "veneto"},
                {"id": "uni"},
            ],
            "wishes": [{"from": "uni", "to": "gear", "level": "want"}],
            "suggestions": [{"a": "gear", "b": "veneto", "score": 0.8, "reason": "stored"}],
        }
    )
    meetings = [Meeting("gear", "veneto", 0, "T1"), Meeting("gear", "uni", 2, "T1")]
    notes = AgendaNotes(
        organizations={
            "gear": Organization("株式会社精密歯車", "firm", "JP"),
            "veneto": Organization("Veneto Trading Srl", "trading_company", "IT"),
            "uni": Organization("Tama University", "university", "JP"),
        },
        langs={"gear": "ja", "veneto": "en", "uni": "ja"},
        why={("gear", "veneto"): "貴社のニーズ「欧州の販売代理店」↔ 先方の提供「distributor」"},
    )
    text = all_agendas_html(meetings, ev, notes=notes)
    gear, veneto, uni = text.split("<section>")[1:]
    for section in (gear, veneto, uni):
        assert "多摩商談会 2026" in section and "立川市 多摩産業交流センター 3F" in section
        assert "2026年6月10日（水） / Wed 10 Jun 2026" in section
    assert "<h1>営業部 山田 — 商談スケジュール / Meeting schedule</h1>" in gear
    assert '<p class="who">株式会社精密歯車 · 企業 · 日本</p>' in gear
    rows = [r for r in parse_html(gear).rows if r]
    assert rows[0] == [
        "13:00–13:20",
        "A-1",
        "Veneto Trading Srl商社 · イタリア",
        "貴社のニーズ「欧州の販売代理店」↔ 先方の提供「distributor」",
    ]
    assert rows[2][0] == "13:50–14:10" and rows[2][3] == "先方が貴社との商談を希望しています"
    # each reader reads its own line: Veneto in English, its partner described in English
    veneto_rows = [r for r in parse_html(veneto).rows if r]
    assert veneto_rows[0][2] == "株式会社精密歯車営業部 山田 · firm · Japan"
    assert veneto_rows[0][3] == "stored"  # the event's suggestion, where nothing is computed
    assert [r for r in parse_html(uni).rows if r][2][3] == "貴社からのご希望です"
    # one page per participant when printed
    assert text.count("<section>") == 3 and "break-after: page" in text
    # the table view: clock times, and who sits there
    table = [r for r in parse_html(all_agendas_html(meetings, ev, by="table", notes=notes)).rows]
    assert next(r for r in table if r) == [
        "13:00–13:20",
        "営業部 山田 (株式会社精密歯車)",
        "veneto (Veneto Trading Srl)",
    ]
