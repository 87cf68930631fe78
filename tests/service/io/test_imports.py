"""Reading profile and interaction files: encodings, CSV as Japanese offices write it, JSONL,
row numbers and field paths in errors, and the whole-file guards."""

from __future__ import annotations

import json
from datetime import date

import pytest

from service.io.imports import (
    ImportFormatError,
    RowError,
    decode,
    detect_format,
    parse_interactions,
    parse_profiles,
)
from tests.support.env import need_shared

JA_CSV = (
    "ID,企業名,英文名称,種別,国,都道府県,事業内容,提供,ニーズ,業種,販売先国,言語,従業員数,設立年\r\n"
    "K001,株式会社テスト精工,Test Seiko Co.,企業,JP,愛知県,精密加工,"
    '"切削加工、溶接；金型",販路開拓,製造業,"US, CN",ja;en,"1,200人",昭和62年\r\n'
    "K002,東海大学,,大学,ＪＰ,静岡県,,,共同研究,,,,,\r\n"
)


def csv_bytes(*lines: str, encoding: str = "utf-8") -> bytes:
    return "\r\n".join(lines).encode(encoding) + b"\r\n"


def jsonl_bytes(*objects: object) -> bytes:
    return "\n".join(json.dumps(o, ensure_ascii=False) for o in objects).encode()


def profile(**fields: object) -> dict[str, object]:
    return {"id": "p1", "name": "Acme", "kind": "firm", **fields}


def fields_of(errors: list[RowError], row: int) -> list[str | None]:
    return [e.field for e in errors if e.row == row]


# --- decoding -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp932", "cp932")],
)
def test_japanese_csv_is_detected_in_each_encoding(encoding: str, expected: str) -> None:
    parsed = parse_profiles(JA_CSV.encode(encoding))
    assert parsed.encoding == expected
    assert parsed.format == "csv"
    assert parsed.errors == []
    assert [row for row, _ in parsed.items] == [2, 3]
    first = parsed.items[0][1]
    assert first.name == "株式会社テスト精工"  # no BOM glued to anything, no mojibake
    assert first.id == "K001"


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932"])
def test_forced_encoding_is_used(encoding: str) -> None:
    parsed = parse_profiles(JA_CSV.encode(encoding), encoding=encoding)
    assert parsed.encoding == encoding
    assert len(parsed.items) == 2


def test_forced_utf8_on_bom_file_drops_the_bom() -> None:
    text, used = decode("id,名称\r\n".encode("utf-8-sig"), "utf-8")
    assert text.startswith("id,")
    assert used == "utf-8-sig"


def test_cp932_extensions_need_cp932_not_shift_jis() -> None:
    data = "髙橋製作所①".encode("cp932")
    assert decode(data) == ("髙橋製作所①", "cp932")
    with pytest.raises(ImportFormatError, match=r"offset 0.*cp932"):
        decode(data, "shift_jis")


def test_euc_jp_is_not_mistaken_for_cp932() -> None:
    # These bytes also decode as cp932, into half-width katakana mojibake.
    data = "名古屋市の会社".encode("euc-jp")
    assert decode(data) == ("名古屋市の会社", "euc_jp")


def test_wrong_forced_encoding_names_the_byte_offset() -> None:
    data = b"id,name\r\n" + "あ".encode("cp932")
    with pytest.raises(ImportFormatError, match=r"utf-8.*byte offset 9 \(line 2\)"):
        decode(data, "utf-8")


def test_unknown_encoding_name() -> None:
    with pytest.raises(ImportFormatError, match="unknown encoding 'klingon'"):
        decode(b"abc", "klingon")


def test_binary_file_is_undecodable() -> None:
    with pytest.raises(ImportFormatError, match=r"encoding.*offset"):
        parse_profiles(bytes(range(256)) * 4)


def test_nul_bytes_are_not_text() -> None:
    with pytest.raises(ImportFormatError, match="U\\+0000"):
        decode(b"id,name\x00\r\n", "utf-8")


def test_utf16_with_bom_is_read() -> None:
    data = "id\tname\tkind\r\nu1\t浜松ホトニクス\tfirm\r\n".encode("utf-16")
    parsed = parse_profiles(data)
    assert parsed.encoding == "utf-16"
    assert parsed.items[0][1].name == "浜松ホトニクス"


def test_detect_format() -> None:
    assert detect_format("id,name", "x.jsonl") == "jsonl"
    assert detect_format('{"id": 1}', "x.CSV") == "csv"
    assert detect_format(' {"id": 1}') == "jsonl"
    assert detect_format("[{}]", "upload.txt") == "jsonl"
    assert detect_format("id,name,kind") == "csv"


# --- CSV ----------------------------------------------------------------------------------


def test_japanese_aliases_lists_and_numbers() -> None:
    parsed = parse_profiles(JA_CSV.encode("cp932"))
    p = parsed.items[0][1]
    assert (p.name_en, p.kind, p.country, p.region) == ("Test Seiko Co.", "firm", "JP", "愛知県")
    assert p.description == "精密加工"
    assert p.offers == ["切削加工", "溶接", "金型"]  # 、 and ； both separate
    assert p.needs == ["販路開拓"]
    assert p.industries == ["製造業"]
    assert p.markets == ["US", "CN"]
    assert p.languages == ["ja", "en"]
    assert (p.employees, p.founded) == (1200, 1987)
    second = parsed.items[1][1]
    assert (second.kind, second.country, second.needs) == ("university", "JP", ["共同研究"])


def test_headers_are_case_and_width_insensitive() -> None:
    data = csv_bytes(" ＩＤ ,NAME, Kind ,Name En,名称（英語）", "a,A,firm,,B")
    with pytest.raises(ImportFormatError, match="both mean 'name_en'"):
        parse_profiles(data)
    parsed = parse_profiles(
        csv_bytes(" ＩＤ ,NAME, Kind ,名称（英語）", "a,A,Research Institute,B")
    )
    p = parsed.items[0][1]
    assert (p.id, p.name, p.kind, p.name_en) == ("a", "A", "research_institute", "B")


@pytest.mark.parametrize(
    ("cell", "field", "expected"),
    [
        ("1200", "employees", 1200),
        ("１，２００名", "employees", 1200),
        ("約50人", "employees", 50),
        ("-", "employees", None),
        ("1987年4月1日", "founded", 1987),
        ("1987/04/01", "founded", 1987),
        ("平成元年", "founded", 1989),
        ("令和3年", "founded", 2021),
    ],
)
def test_spreadsheet_numbers(cell: str, field: str, expected: int | None) -> None:
    parsed = parse_profiles(csv_bytes(f"id,name,kind,{field}", f'a,A,firm,"{cell}"'))
    assert parsed.errors == []
    assert getattr(parsed.items[0][1], field) == expected


def test_bad_rows_have_row_numbers_and_fields() -> None:
    data = csv_bytes(
        "id,name,kind,country,employees,name_en",
        "ok1,Good,firm,JP,10,",
        "r3,Bad kind,vendor,JP,,",  # row 3
        "r4,Bad country,firm,XX,,",  # row 4
        "r5,,firm,JP,,",  # row 5: name missing
        f"r6,Long,firm,JP,,{'x' * 301}",  # row 6: name_en too long
        "r7,Bad employees,firm,JP,many,",  # row 7
        "r8,Two problems,firm,ZZ,-5,",  # row 8: two fields at once
    )
    parsed = parse_profiles(data)
    assert [row for row, _ in parsed.items] == [2]
    assert parsed.total_rows == 7
    by_row = {e.row: e for e in parsed.errors}
    assert by_row[3].field == "kind" and "'vendor'" in by_row[3].reason
    assert by_row[4].field == "country" and "'XX'" in by_row[4].reason
    assert by_row[5].field == "name" and "missing" in by_row[5].reason
    assert by_row[6].field == "name_en" and "at most 300" in by_row[6].reason
    assert by_row[7].field == "employees" and "'many'" in by_row[7].reason
    assert fields_of(parsed.errors, 8) == ["country", "employees"]
    assert parsed.error_rows == [3, 4, 5, 6, 7, 8]
    assert all(not e.reason.startswith("Value error") for e in parsed.errors)


def test_bad_id_reason_is_readable() -> None:
    parsed = parse_profiles(csv_bytes("id,name,kind", "-x y,A,firm"))
    assert parsed.errors[0].field == "id"
    assert "letters, digits" in parsed.errors[0].reason


def test_duplicate_id_is_reported_on_the_later_row() -> None:
    parsed = parse_profiles(
        csv_bytes("id,name,kind", "a,First,firm", "b,Other,firm", "a,Again,firm")
    )
    assert [row for row, _ in parsed.items] == [2, 3]
    assert parsed.errors == [RowError(4, "id", "duplicate id, first seen on row 2")]


def test_multiline_cells_keep_spreadsheet_row_numbers() -> None:
    data = csv_bytes(
        "id,name,kind,description,offers",
        'a,A,firm,"line one\r\nline two","加工\r\n組立"',
        "b,B,bogus,,",  # physical line 6, spreadsheet row 3
    )
    parsed = parse_profiles(data)
    p = parsed.items[0][1]
    assert p.description == "line one\nline two"
    assert p.offers == ["加工", "組立"]
    assert parsed.errors[0].row == 3


def test_empty_rows_are_skipped_but_counted_in_row_numbers() -> None:
    data = csv_bytes("id,name,kind", "a,A,firm", ",,", "", "b,B,nope")
    parsed = parse_profiles(data)
    assert parsed.total_rows == 2
    assert parsed.errors[0].row == 5


def test_header_only_csv_is_empty_not_an_error() -> None:
    parsed = parse_profiles(csv_bytes("id,name,kind"))
    assert (parsed.items, parsed.errors, parsed.total_rows) == ([], [], 0)


@pytest.mark.parametrize("data", [b"", b"\n\n", b"   \r\n", "\ufeff".encode()])
def test_empty_interactions_file_is_no_history_not_an_error(data: bytes) -> None:
    """Issue 20.2: a new cluster office has no interactions yet; an empty file is that."""
    parsed = parse_interactions(data, filename="history.jsonl")
    assert (parsed.items, parsed.errors, parsed.total_rows) == ([], [], 0)
    assert parsed.warnings and "no data rows" in parsed.warnings[0]
    # an empty profile file stays an error: a catalogue import of nothing is a mistake
    with pytest.raises(ImportFormatError, match="empty"):
        parse_profiles(data, filename="profiles.jsonl")


def test_unknown_column_is_a_file_error_with_a_suggestion() -> None:
    with pytest.raises(ImportFormatError, match=r"'nmae' \(column B; did you mean 'name'\?\)"):
        parse_profiles(csv_bytes("id,nmae,kind", "a,A,firm"))


def test_unknown_columns_can_be_ignored_with_a_warning() -> None:
    parsed = parse_profiles(
        csv_bytes("id,name,kind,備考", "a,A,firm,メモ"), unknown_columns="ignore"
    )
    assert len(parsed.items) == 1
    assert "備考" in parsed.warnings[0]


def test_missing_required_column() -> None:
    with pytest.raises(ImportFormatError, match=r"missing required column.*kind"):
        parse_profiles(csv_bytes("id,name", "a,A"))


def test_csv_without_header() -> None:
    with pytest.raises(ImportFormatError, match="row 1 is not a header row"):
        parse_profiles(csv_bytes("a,Acme,firm"), format="csv")


def test_value_under_a_column_without_header_is_a_row_error() -> None:
    parsed = parse_profiles(csv_bytes("id,name,kind,", "a,A,firm,", "b,B,firm,stray"))
    assert [row for row, _ in parsed.items] == [2]
    assert parsed.errors == [RowError(3, None, "value in column D, which has no header")]


def test_unclosed_quote_is_a_file_error() -> None:
    with pytest.raises(ImportFormatError, match=r"line 2.*never closed"):
        parse_profiles(csv_bytes("id,name,kind", 'a,"Acme,firm', "b,B,firm"))


def test_excel_sep_line_and_tab_delimiter() -> None:
    parsed = parse_profiles(b"sep=;\r\nid;name;kind\r\na;A;firm\r\nb;B;bad\r\n")
    assert [row for row, _ in parsed.items] == [2]
    assert parsed.errors[0].row == 3
    parsed = parse_profiles(b"id\tname\tkind\na\tA, Inc.\tfirm\n")
    assert parsed.items[0][1].name == "A, Inc."


# --- JSONL --------------------------------------------------------------------------------


def test_jsonl_with_blank_and_broken_lines() -> None:
    data = b"\n".join(
        [
            json.dumps(profile(id="a")).encode(),
            b"",
            b'{"id": "b", "name": ',  # line 3
            b"[1, 2]",  # line 4
            json.dumps(profile(id="c", offers=["x", 3], colour="red")).encode(),  # line 5
            json.dumps(profile(id="a")).encode(),  # line 6
        ]
    )
    parsed = parse_profiles(data)
    assert parsed.format == "jsonl"
    assert [row for row, _ in parsed.items] == [1]
    assert parsed.total_rows == 5
    errors = {(e.row, e.field): e.reason for e in parsed.errors}
    assert errors[(3, None)].startswith("not a JSON object:")
    assert errors[(4, None)] == "not a JSON object: got an array"
    assert errors[(5, "offers[1]")].startswith("Input should be a valid string")
    assert errors[(5, "colour")] == "unknown field"
    assert errors[(6, "id")] == "duplicate id, first seen on row 1"


def test_json_array_rows_are_positions() -> None:
    data = json.dumps([profile(id="a"), profile(id="b", kind="x"), 7]).encode()
    parsed = parse_profiles(data, filename="upload.json")
    assert [row for row, _ in parsed.items] == [1]
    assert fields_of(parsed.errors, 2) == ["kind"]
    assert fields_of(parsed.errors, 3) == [None]


def test_pretty_printed_single_object() -> None:
    parsed = parse_profiles(json.dumps(profile(), indent=2).encode())
    assert len(parsed.items) == 1


def test_json_lists_given_as_text_are_split() -> None:
    parsed = parse_profiles(jsonl_bytes(profile(offers="a; b\nc")))
    assert parsed.items[0][1].offers == ["a", "b", "c"]


def test_broken_json_array_is_a_file_error() -> None:
    with pytest.raises(ImportFormatError, match=r"not valid JSON.*line 1"):
        parse_profiles(b'[{"id": "a"},')


def test_non_json_forced_as_jsonl_is_a_file_error() -> None:
    with pytest.raises(ImportFormatError, match="not JSONL"):
        parse_profiles(csv_bytes("id,name,kind", "a,A,firm"), format="jsonl")


def test_duplicate_key_in_one_object() -> None:
    parsed = parse_profiles(b'{"id": "a", "name": "A", "name": "B", "kind": "firm"}')
    assert parsed.errors == [RowError(1, "name", "key given twice in this object")]


# --- interactions -------------------------------------------------------------------------


def test_interactions_jsonl() -> None:
    data = jsonl_bytes(
        {"a": "p1", "b": "p2", "kind": "meeting", "at": "2024-05-01"},
        {"a": "p1", "b": "p1", "kind": "deal"},  # line 2: a == b
        {"a": "p1", "b": "p3", "kind": "handshake"},  # line 3
        {"a": "p1", "b": "p3", "kind": "deal", "at": "2024-13-40"},  # line 4
        {"a": "p2", "b": "p3", "kind": "follow_up", "at": "2024-06-02T09:30:00+09:00"},
        {"a": "p2", "b": "p3", "kind": "deal", "note": "x"},  # line 6
    )
    parsed = parse_interactions(data)
    assert [row for row, _ in parsed.items] == [1, 5]
    assert parsed.items[0][1].at == date(2024, 5, 1)
    assert parsed.items[1][1].at == date(2024, 6, 2)
    assert parsed.items[1][1].context == ""
    errors = {(e.row, e.field): e.reason for e in parsed.errors}
    assert errors[(2, "b")] == "a and b are the same profile"
    assert "'handshake'" in errors[(3, "kind")]
    assert "ISO date" in errors[(4, "at")]
    assert errors[(6, "note")] == "unknown field"


def test_interactions_csv_with_excel_dates() -> None:
    data = csv_bytes(
        "a,b,kind,日付,context",
        'p1,p2,Follow Up,2024/1/2,"商談\r\n継続"',
        "p1,p2,meeting,2024年3月4日,",
        f"p1,p2,meeting,,{'x' * 1001}",
        encoding="cp932",
    )
    parsed = parse_interactions(data)
    assert [(row, i.kind, i.at) for row, i in parsed.items] == [
        (2, "follow_up", date(2024, 1, 2)),
        (3, "meeting", date(2024, 3, 4)),
    ]
    assert parsed.items[0][1].context == "商談\n継続"
    assert parsed.errors[0].row == 4 and parsed.errors[0].field == "context"


# --- whole-file guards --------------------------------------------------------------------


def test_max_rows_guard() -> None:
    rows = [f"p{i},N{i},firm" for i in range(11)]
    assert len(parse_profiles(csv_bytes("id,name,kind", *rows), max_rows=11).items) == 11
    with pytest.raises(ImportFormatError, match="at most 10"):
        parse_profiles(csv_bytes("id,name,kind", *rows), max_rows=10)
    lines = [{"a": "x", "b": f"y{i}", "kind": "meeting"} for i in range(4)]
    with pytest.raises(ImportFormatError, match="at most 3"):
        parse_interactions(jsonl_bytes(*lines), max_rows=3)
    with pytest.raises(ImportFormatError, match="at most 3"):
        parse_interactions(json.dumps(lines).encode(), max_rows=3)


def test_max_bytes_guard() -> None:
    with pytest.raises(ImportFormatError, match="at most 10 are allowed"):
        parse_profiles(csv_bytes("id,name,kind", "a,A,firm"), max_bytes=10)


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b" \r\n\r\n"])
@pytest.mark.parametrize("fmt", ["auto", "csv", "jsonl"])
def test_empty_file(data: bytes, fmt: str) -> None:
    with pytest.raises(ImportFormatError, match="empty"):
        parse_profiles(data, format=fmt)  # type: ignore[arg-type]


def test_unknown_format_name() -> None:
    with pytest.raises(ImportFormatError, match="unknown format"):
        parse_profiles(b"x", format="xml")  # type: ignore[arg-type]


# --- real files ---------------------------------------------------------------------------


@pytest.mark.shared
def test_edinet_code_list_is_detected_as_cp932() -> None:
    edinet = need_shared("data", "japan", "EdinetcodeDlInfo.csv")
    text, used = decode(edinet.read_bytes())
    assert used == "cp932"
    assert "\r\n" in text
    assert "Submitter Name" in text.split("\n", 2)[1]
    assert "株式会社" in text


@pytest.mark.parametrize("where", ["first", "last"])
def test_a_line_nested_too_deeply_is_a_row_error(where: str) -> None:
    """Issue 21.6: 10,000 nested arrays on one JSONL line raised RecursionError (a 500)."""
    good = json.dumps({"id": "a-1", "name": "A", "kind": "firm", "country": "JP"}).encode()
    deep = b'{"id": "a-2", "name": "B", "kind": "firm", "offers": ' + b"[" * 10_000
    deep += b"]" * 10_000 + b"}"
    data = good + b"\n" + deep if where == "last" else deep + b"\n" + good
    parsed = parse_profiles(data, format="jsonl")
    assert [p.id for _, p in parsed.items] == ["a-1"]
    ((row, field, reason),) = [(e.row, e.field, e.reason) for e in parsed.errors]
    assert (row, field) == (2 if where == "last" else 1, None)
    assert reason == "arrays or objects nested too deeply"
    whole = parse_profiles(b"[" * 10_000 + b"]" * 10_000, format="jsonl")
    assert [e.reason for e in whole.errors] == ["arrays or objects nested too deeply"]
