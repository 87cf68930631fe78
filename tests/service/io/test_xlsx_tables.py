"""Member lists in Excel as offices keep them: a title above the table, merged cells in
the header, across columns, and down a column."""

from __future__ import annotations

import io

import pytest
from openpyxl import Workbook

from service.io.imports import ImportFormatError
from service.io.xlsx import parse_profile_upload, parse_profile_workbook

HEADER: list[object] = ["ID", "名称", "種別", "国", "業種"]


def _book(rows: list[list[object]], merges: tuple[str, ...] = ()) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    for ref in merges:
        sheet.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_title_rows_above_the_table_are_skipped_and_rows_keep_sheet_numbers() -> None:
    data = _book(
        [
            ["会員名簿 2026年度"],
            ["作成日", "2026-04-01"],
            [],
            HEADER,
            ["m-1", "株式会社テスト", "企業", "日本", "機械"],
            ["m-2", "", "企業", "日本", "機械"],
        ],
        merges=("A1:E1",),  # a title banner over the table: part of the title
    )
    parsed = parse_profile_workbook(data)
    assert [(row, p.id) for row, p in parsed.items] == [(5, "m-1")]
    assert [(e.row, e.field) for e in parsed.errors] == [(6, "name")]
    assert any(
        "the header is row 4; 2 row(s) above the table were skipped" in w for w in parsed.warnings
    )


def test_a_vertical_merge_fills_every_row_it_covers() -> None:
    data = _book(
        [
            HEADER,
            ["m-1", "A社", "企業", "日本", "機械"],
            ["m-2", "B社", "企業", "日本", None],
            ["m-3", "C社", "企業", "日本", None],
        ],
        merges=("E2:E4",),
    )
    parsed = parse_profile_workbook(data)
    assert [p.industries for _, p in parsed.items] == [["機械"]] * 3
    assert "merged cells E2:E4: the value of E2 is used for rows 2-4" in parsed.warnings


@pytest.mark.parametrize(
    ("merge", "reason"),
    [
        ("B1:C1", "merged cells B1:C1 in the header row 1"),
        ("B2:C2", "merged cells B2:C2 (row 2, columns B-C) span several columns"),
    ],
)
def test_merges_that_cannot_be_read_are_refused_naming_the_range(merge: str, reason: str) -> None:
    data = _book([HEADER, ["m-1", "A社", "企業", "日本", "機械"]], merges=(merge,))
    with pytest.raises(ImportFormatError, match=reason.replace("(", r"\(").replace(")", r"\)")):
        parse_profile_workbook(data)


def test_no_header_near_the_top_is_reported_by_the_csv_rules() -> None:
    data = _book([["会員名簿"], ["nmae", "kndi"], ["x", "y"]])
    with pytest.raises(ImportFormatError, match="row 1 is not a header row"):
        parse_profile_workbook(data)


def test_upload_dispatch_by_content() -> None:
    data = _book([HEADER, ["m-1", "A社", "企業", "日本", "機械"]])
    assert [p.id for _, p in parse_profile_upload(data, filename="members.xlsx").items] == ["m-1"]
    csv = "ID,名称,種別\nm-2,B社,企業\n".encode("cp932")
    assert [p.id for _, p in parse_profile_upload(csv, filename="m.csv").items] == ["m-2"]
