"""The follow-up sheet (商談シート) over HTTP: CSV and XLSX out, safe for Excel; filled in
and read back from CSV (UTF-8, cp932) and XLSX with Japanese or English headers; every bad
row reported, nothing written unless a partial import is asked for; a re-import of the
same sheet adds no history."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from models.encoders import HashingEncoder
from service.io import followups
from tests.support.app import make_settings, start_api
from tests.support.organizer import xlsx_book
from tests.support.outcomes import World, world


def sheet(w: World, fmt: str = "csv", who: str = "organizer", **params: Any) -> Any:
    return w.api.get(
        f"/v1/events/{w.event_id}/exports/follow-ups.{fmt}", params=params, headers=w.h(who)
    )


def upload(w: World, data: bytes, who: str = "organizer", **params: Any) -> Any:
    return w.api.post(
        f"/v1/events/{w.event_id}/follow-ups/import",
        content=data,
        params=params,
        headers=w.h(who),
    )


def rows_of(body: bytes, encoding: str = "utf-8-sig") -> list[list[str]]:
    return list(csv.reader(io.StringIO(body.decode(encoding))))


def as_csv(rows: list[list[str]], encoding: str = "utf-8") -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return out.getvalue().encode(encoding)


def history(w: World, what: str = "outcomes") -> list[dict[str, Any]]:
    r = w.api.get(f"/v1/events/{w.event_id}/{what}/history", headers=w.h("organizer"))
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def fill(rows: list[list[str]], side: str, partner: str, **cells: str) -> None:
    """Fill the row of `side` meeting `partner` by header names."""
    header = rows[0]
    row = next(r for r in rows[1:] if r[3] == side and r[5] == partner)
    for name, value in cells.items():
        row[header.index(name)] = value


def test_the_sheet_is_safe_for_excel_and_lists_the_sides_to_ask(w: World) -> None:
    r = sheet(w)
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "filename*=UTF-8''" in r.headers["content-disposition"]
    assert r.content.startswith(b"\xef\xbb\xbf") and b"\r\n" in r.content
    rows = rows_of(r.content)
    assert rows[0][:8] == [
        "枠",
        "時刻",
        "テーブル",
        "回答者ID",
        "回答者",
        "相手ID",
        "相手先",
        "出欠",
    ]
    assert "段階（3か月後）" in rows[0] and "金額・円（12か月後）" in rows[0]
    assert rows[0][-1] == "未回答"
    # three meetings, both sides each (veneto–bio, a year from now, is not asked yet); the
    # formula-like name neutralised
    assert len(rows) == 1 + 6
    assert ("bio", "veneto") not in {(r[3], r[5]) for r in rows[1:]}
    assert {(r[3], r[5]) for r in rows[1:]} >= {("gear", "veneto"), ("veneto", "gear")}
    veneto = next(r for r in rows[1:] if r[3] == "veneto")
    assert veneto[4] == "'=Veneto"
    gear = next(r for r in rows[1:] if (r[3], r[5]) == ("gear", "veneto"))
    assert gear[0] == "1" and gear[2] == "ブース 1" and gear[-1] == "3か月後"
    assert gear[1].endswith("13:00")

    en = rows_of(sheet(w, lang="en").content)
    assert en[0][:4] == ["slot", "time", "table", "participant_id"]
    assert "stage_3m" in en[0] and en[0][-1] == "due"

    x = sheet(w, "xlsx")
    assert x.status_code == 200 and x.content.startswith(b"PK")
    book = load_workbook(io.BytesIO(x.content))
    ws = book.active
    assert ws is not None
    values = [[c.value for c in row] for row in ws.iter_rows()]
    assert values[0][3] == "回答者ID" and len(values) == 7
    names = [row[4] for row in values[1:]]
    assert "'=Veneto" in names
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # drop-downs on the columns that take labels: 出欠, 欠席者, 関心度, 次のステップ, 段階 x 2
    lists = {str(v.sqref).split(":")[0]: v.formula1 for v in ws.data_validations.dataValidation}
    assert lists["H2"] == '"実施,欠席,中止"' and lists["J2"] == '"なし,あり,強い"'
    assert len(lists) == 6 and all(
        v.errorStyle == "warning" for v in ws.data_validations.dataValidation
    )

    empty = upload(w, as_csv([["回答者ID", "相手ID", "出欠"]]))
    assert empty.status_code == 200 and "no data rows" in empty.json()["report"]["warnings"][0]


def test_a_filled_sheet_comes_back_and_a_second_import_changes_nothing(w_db: World) -> None:
    w = w_db
    rows = rows_of(sheet(w).content)
    fill(
        rows,
        "gear",
        "veneto",
        出欠="実施",
        関心度="強い",
        次のステップ="サンプル・見積",
        商談メモ="=見積依頼あり",
        **{"段階（3か月後）": "受注・契約", "金額・円（3か月後）": "120万円"},
    )
    fill(rows, "veneto", "gear", 出欠="実施", 関心度="あり")
    fill(rows, "uni", "bio", 出欠="欠席", 欠席者="相手")
    data = as_csv(rows, "cp932")
    r = upload(w, data)
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert report["encoding"] == "cp932" and report["rows"] == 6
    assert (report["outcomes_written"], report["follow_ups_written"]) == (3, 1)
    assert report["errors"] == [] and report["written"] is True

    items = {
        (m["a"], m["b"]): m
        for m in w.api.get(f"/v1/events/{w.event_id}/outcomes", headers=w.h("organizer")).json()[
            "items"
        ]
    }
    gear = items[("gear", "veneto")]["sides"]["gear"]
    assert (gear["interest"], gear["next_step"], gear["note"]) == (
        "strong",
        "samples_or_quote",
        "=見積依頼あり",
    )
    assert gear["source"] == "import" and gear["recorded_by"].startswith("key:")
    assert items[("bio", "uni")]["sides"]["uni"]["no_show"] == ["bio"]
    (answer,) = history(w, "follow-ups")
    assert (answer["stage"], answer["amount_yen"], answer["months"]) == ("contract", 1_200_000, 3)

    # the sheet downloaded again holds the answers; read back unchanged, it writes nothing
    again = sheet(w).content
    assert "受注・契約" in again.decode("utf-8-sig") and "'=見積依頼あり" in again.decode(
        "utf-8-sig"
    )
    r = upload(w, again)
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert (report["outcomes_written"], report["follow_ups_written"]) == (0, 0)
    assert report["unchanged"] == 3  # gear's outcome and answer, veneto's outcome
    # uni said bio did not come: bio–uni was not held, and is no longer asked about
    assert report["rows"] == 4
    assert len(history(w)) == 3 and len(history(w, "follow-ups")) == 1


def test_bad_rows_are_all_reported_and_nothing_is_written(w_db: World) -> None:
    w = w_db
    rows = rows_of(sheet(w).content)
    header = rows[0]
    fill(rows, "gear", "veneto", 出欠="実施", 関心度="強い")  # good (row 2)
    fill(rows, "veneto", "gear", 出欠="実施", 関心度="たぶん")  # bad label
    fill(rows, "gear", "uni", **{"金額・円（3か月後）": "たくさん"})  # bad amount, no stage
    fill(rows, "uni", "gear", 出欠="中止", 関心度="強い")  # interest of a cancelled meeting
    future = [""] * len(header)
    future[3], future[5], future[7] = "bio", "veneto", "実施"  # a year from now
    rows.append(future)
    ghost = [""] * len(header)
    ghost[3], ghost[5], ghost[7] = "gear", "ghost", "実施"
    rows.append(ghost)
    rows.append(list(rows[1]))  # the same side again
    data = as_csv(rows)

    r = upload(w, data)
    assert r.status_code == 422, r.text
    body = r.json()
    assert "nothing was imported" in body["detail"]
    errors = body["errors"]
    by_row: dict[int, list[str]] = {}
    for e in errors:
        assert e["reason"]
        by_row.setdefault(e["row"], []).append(e["field"])
    where = {rows[n - 1][3] + "-" + rows[n - 1][5]: fields for n, fields in by_row.items()}
    assert where["veneto-gear"] == ["J 関心度"]
    assert where["gear-uni"] == ["N 金額・円（3か月後）"]
    assert where["uni-gear"] == ["J 関心度"]
    assert where["bio-veneto"] == ["H 出欠"]
    assert where["gear-ghost"] == ["F 相手ID"]
    assert by_row[len(rows)] == ["D 回答者ID"]  # the repeated row, reported on the later row
    assert 2 not in by_row and len(by_row) == 6
    assert body["report"]["written"] is False
    assert body["report"]["rejected"] == 6
    assert history(w) == [] and history(w, "follow-ups") == []  # nothing written

    r = upload(w, data, allow_partial="true")
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert report["outcomes_written"] == 1 and report["rejected"] == 6
    assert len(report["errors"]) == len(errors)
    (only,) = history(w)
    assert (only["side"], only["b"], only["interest"]) == ("gear", "veneto", "strong")


def test_xlsx_with_english_headers_and_codes(w: World) -> None:
    book = load_workbook(io.BytesIO(sheet(w, "xlsx", lang="en").content))
    ws = book.active
    assert ws is not None
    rows = [[c.value if c.value is not None else "" for c in row] for row in ws.iter_rows()]
    header = rows[0]
    gear = next(r for r in rows[1:] if (r[3], r[5]) == ("gear", "veneto"))
    gear[header.index("attendance")] = "held"
    gear[header.index("interest")] = "Strong"
    gear[header.index("stage_12m")] = "new_business"
    gear[header.index("amount_yen_12m")] = 30_000_000  # a number cell
    gear[header.index("note_12m")] = "spin-off company"
    data = xlsx_book(rows)
    r = w.api.post(
        f"/v1/events/{w.event_id}/follow-ups/import",
        files={"file": ("filled.xlsx", data)},
        headers=w.h("organizer"),
    )
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert report["format"] == "xlsx"
    assert (report["outcomes_written"], report["follow_ups_written"]) == (1, 1)
    (answer,) = history(w, "follow-ups")
    assert (answer["months"], answer["stage"], answer["amount_yen"]) == (
        12,
        "new_business",
        30_000_000,
    )


def test_unreadable_sheets_name_the_file(w: World, monkeypatch: pytest.MonkeyPatch) -> None:
    header = ["回答者ID", "相手ID", "出欠", "段階（4か月後）"]
    r = upload(w, as_csv([header, ["gear", "veneto", "実施", "商談中"]]))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert "4-month round" in r.json()["errors"][0]["reason"]
    r = upload(w, as_csv([["回答者ID", "出欠"], ["gear", "実施"]]))
    assert r.status_code == 422 and "相手ID / partner_id" in r.json()["detail"]
    assert upload(w, b"").status_code == 422
    r = upload(w, b"PK\x03\x04 not really a zip", filename="x.xlsx")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    monkeypatch.setattr(followups, "MAX_SHEET_BYTES", 100)
    r = upload(w, as_csv([["回答者ID", "相手ID", "商談メモ"], ["gear", "veneto", "x" * 200]]))
    assert r.status_code == 422 and "at most 100" in r.json()["errors"][0]["reason"]
    assert history(w) == []


def test_only_the_organizer_sends_and_reads_sheets(w: World) -> None:
    data = as_csv([["回答者ID", "相手ID", "出欠"], ["gear", "veneto", "実施"]])
    for fmt in ("csv", "xlsx"):
        assert sheet(w, fmt, who="gear").status_code == 403
        assert sheet(w, fmt, who="other_org").status_code == 404
        assert sheet(w, fmt, who="admin").status_code == 200
    assert upload(w, data, who="gear").status_code == 403
    assert upload(w, data, who="other_org").status_code == 404
    assert history(w) == []
    r = upload(w, data, who="admin")
    assert r.status_code == 200 and r.json()["report"]["outcomes_written"] == 1


def test_cells_read_in_either_language() -> None:
    assert followups.column_of("段階 (3ヶ月後)") == ("stage", 3)
    assert followups.column_of("Stage 3m") == ("stage", 3)
    assert followups.column_of("金額（円）6か月後") == ("amount_yen", 6)
    assert followups.column_of("note_12m") == ("note", 12)
    assert followups.column_of("ＰＡＲＴＮＥＲ＿ＩＤ") == ("partner", None)
    assert followups.column_of("備考") is None
    assert followups.read_amount("1,200,000円") == 1_200_000
    assert followups.read_amount("¥３００") == 300
    assert followups.read_amount("120万円") == 1_200_000
    assert followups.read_amount("1.5億") == 150_000_000
    assert followups.read_amount("12.5") is None and followups.read_amount("-5") is None
    assert followups.read_code("stage", "ＮＤＡ締結") == "nda"
    assert followups.read_code("interest", "STRONG") == "strong"
    assert followups.no_show_ids("双方", "a", "b") == ["a", "b"]
    assert followups.no_show_ids("b", "a", "b") == ["b"]
    assert followups.no_show_ids("c", "a", "b") is None


def test_a_sheet_takes_the_upload_body_limit_not_the_json_one(
    tmp_path: Path, encoder: HashingEncoder
) -> None:
    """The guard lets a sheet through up to the upload limit (max_body_bytes), where a JSON
    body of that size is refused (max_json_body_bytes)."""
    settings = make_settings(tmp_path, max_json_body_bytes=4096)
    for api in start_api(settings, encoder):
        w = world(api)
        note = "x" * 1000
        rows = [["回答者ID", "相手ID", "出欠", "商談メモ"]]
        rows += [["gear", "veneto", "実施", note], ["veneto", "gear", "実施", note]]
        rows += [["gear", "uni", "実施", note], ["uni", "gear", "実施", note]]
        data = as_csv(rows)
        assert len(data) > 4096
        r = upload(w, data)
        assert r.status_code == 200, r.text
        assert r.json()["report"]["outcomes_written"] == 4
        body = {"a": "gear", "b": "veneto", "side": "gear", "attendance": "held", "note": note * 5}
        r = w.api.post(f"/v1/events/{w.event_id}/outcomes", json=body, headers=w.h("organizer"))
        assert r.status_code == 413
