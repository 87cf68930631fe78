"""The spreadsheet files of the exchange pages (service.io.spreadsheets, one neutralising
rule with exports.neutralize_cell), and the exchange pages' pure helpers: the search form
parser and the highlighting of reasons."""

from __future__ import annotations

import csv
import io

import pytest

from service.console.exchange import marked, parse_search
from service.io.exports import neutralize_cell
from service.io.spreadsheets import csv_bytes, safe_cell, sheet_title, xlsx_bytes

FORMULAS = [
    "=1+1",
    " =1+1",
    "  \n=1+1",
    "\u3000=1+1",
    "＝1+1",
    "＋1",
    "@SUM(A1)",
    "＠SUM(A1)",
    "-2+3",
    "+1",
    "\t=1",
    "\r=1",
    '=HYPERLINK("http://evil","x")',
]
HARMLESS = ["1+1", "メモ =1+1", "a-b", "email@example.jp", "", "２＋３", "日本語"]


@pytest.mark.parametrize("value", FORMULAS)
def test_formula_like_text_gets_a_quote(value: str) -> None:
    assert neutralize_cell(value) == "'" + value
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", HARMLESS)
def test_other_text_is_left_alone(value: str) -> None:
    assert neutralize_cell(value) == value


def test_csv_is_utf8_with_a_bom_crlf_and_reads_back() -> None:
    rows = [[i, value, None, 2.5] for i, value in enumerate(FORMULAS + HARMLESS)]
    data = csv_bytes(["No.", "メモ Note", "空", "数"], rows)
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    assert back[0] == ["No.", "メモ Note", "空", "数"]
    for line, value in zip(back[1:], FORMULAS + HARMLESS, strict=True):
        expected = "'" + value if value in FORMULAS else value
        assert line[1] == expected and line[2] == "" and line[3] == "2.5"
    assert csv_bytes(["a"], [["x\x00y\x1b"]]).decode("utf-8-sig").splitlines()[1] == "xy"


def test_xlsx_has_no_formula_and_reads_back() -> None:
    from openpyxl import load_workbook

    rows = [[i, value, None] for i, value in enumerate(FORMULAS + HARMLESS, 1)]
    data = xlsx_bytes(["No.", "メモ Note", "空"], rows, title="イタリア/訪問団:2025?")
    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    assert sheet.title == "イタリア 訪問団 2025"
    assert sheet.freeze_panes == "A2" and sheet["A1"].font.b
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    for line, value in zip(values[1:], FORMULAS + HARMLESS, strict=True):
        expected = "'" + value if value in FORMULAS else value
        assert line[1] == (expected.replace("\r", "\n") or None)  # (XML reads CR as LF)
        assert line[2] is None
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert isinstance(values[1][0], int)
    assert xlsx_bytes(["a"], [["x\x00y"]])  # control characters never break the file


def test_sheet_titles_are_always_valid() -> None:
    assert sheet_title("") == "Sheet1"
    assert sheet_title("'[]'") == "Sheet1"
    assert len(sheet_title("長" * 40)) == 31


# ---------------------------------------------------------------------------- helpers


def test_marked_flags_every_item_that_meets_without_overlaps() -> None:
    text = "Your need “gears” ↔ their offer “precision gears”"
    pieces = marked(text, {"query_item": "gears", "candidate_item": "precision gears"})
    assert "".join(p for p, _ in pieces) == text
    assert [p for p, hit in pieces if hit] == ["gears", "precision gears"]
    shared = marked("共通の分野: 自動車, 機械", {"values": ["機械", "自動車", 3]})
    assert [p for p, hit in shared if hit] == ["自動車", "機械"]
    assert marked("<b>", {"value": ""}) == [("<b>", False)]


def test_parse_search_keeps_the_input_and_names_bad_fields() -> None:
    form, errors = parse_search({})
    assert not form.asked and errors == {} and form.from_country == "JP"
    assert form.purpose == "overseas" and form.k == 20
    form, errors = parse_search(
        {"text": ["精密"], "country": ["it", "kr", ""], "kind": ["firm"], "from_country": [""]}
    )
    assert errors == {} and form.countries == ["IT", "KR"] and form.from_country == ""
    assert ("country", "IT") in form.query()
    form, errors = parse_search(
        {"text": [""], "country": ["Italy"], "kind": ["x"], "purpose": ["y"], "k": ["-1"]}
    )
    assert set(errors) == {"text", "country", "kind", "purpose", "k"}
    assert form.countries == ["Italy"]  # as typed, to show it back
