"""Organizer pages: the profile list (filters, name search, paging, one COUNT and one
page query) and the import (preview with every bad row, nothing written before the
choice, partial import only when chosen, XLSX, size and zip-bomb guards, the job with its
progress bar)."""

from __future__ import annotations

import io
import re
import threading
import time
import zipfile
from typing import Any

import pytest
from sqlalchemy import event

from service.io import xlsx
from service.io.imports import ImportFormatError
from tests.support.console import NASTY, Console, csrf_of
from tests.support.organizer import (
    HEADER_JA,
    cp932_csv,
    firm_rows,
    text_of,
    xlsx_book,
)

RAW = "<script>alert(1)</script>"


def _profile_ids(console: Console) -> set[str]:
    r = console.api.get("/v1/profiles?limit=200", headers=console.api.h())
    return {p["id"] for p in r.json()["items"]}


def _upload(client: Any, data: bytes, filename: str, **form: str) -> Any:
    page = client.get("/console/profiles/import")
    assert page.status_code == 200
    return client.post(
        "/console/profiles/import",
        data={"csrf_token": csrf_of(page.text), **form},
        files={"file": (filename, data, "application/octet-stream")},
    )


def _choose(client: Any, preview_url: str, action: str, expected_good: str = "") -> Any:
    page = client.get(preview_url)
    good = re.search(r'name="expected_good" value="(\d+)"', page.text)
    return client.post(
        preview_url,
        data={
            "csrf_token": csrf_of(page.text),
            "action": action,
            "expected_good": expected_good or (good.group(1) if good else ""),
        },
    )


# ---------------------------------------------------------------------------- the list


def test_profile_list_filters_searches_and_escapes(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    page = client.get("/console/profiles")
    assert page.status_code == 200
    text = text_of(page.text)
    assert "株式会社精密歯車" in text and "Veneto Trading Srl" in text and "6 profiles" not in text
    assert "6 件" in text  # five samples and the nasty one, in Japanese by default
    assert RAW not in page.text and "&lt;script&gt;" in page.text
    assert 'href="/console/profiles/jp-1"' in page.text

    by_kind = text_of(client.get("/console/profiles?kind=university").text)
    assert "Tama University" in by_kind and "株式会社精密歯車" not in by_kind
    by_country = text_of(client.get("/console/profiles?country=it").text)
    assert "Veneto Trading Srl" in by_country and "Tama University" not in by_country
    by_cluster = text_of(client.get("/console/profiles?cluster=TAMA").text)
    assert "Tama University" in by_cluster and "Seoul Bio Co" not in by_cluster
    by_name = text_of(client.get("/console/profiles?q=精密").text)
    assert "株式会社精密歯車" in by_name and "Veneto" not in by_name
    assert "1 件" in by_name
    case = text_of(client.get("/console/profiles?q=veneto&lang=en").text)
    assert "Veneto Trading Srl" in case and "1 profiles" in case
    # % and _ are literal, not wildcards
    assert "0 profiles" in text_of(client.get("/console/profiles?q=%25&lang=en").text)
    nasty = client.get("/console/profiles?q=" + RAW)
    assert nasty.status_code == 200 and RAW not in nasty.text


def test_profile_list_pages_by_fifty_with_one_count_and_one_page_query(
    console: Console,
) -> None:
    items = [
        {"id": f"bulk-{i:03d}", "name": f"Bulk Firm {i:03d}", "kind": "firm", "country": "JP"}
        for i in range(120)
    ]
    r = console.api.post(
        "/v1/profiles/import",
        content="\n".join(__import__("json").dumps(p) for p in items).encode(),
        headers={**console.api.h(), "content-type": "application/x-ndjson"},
        params={"format": "jsonl"},
    )
    assert r.status_code == 200, r.text
    client = console.signed_in(console.user("organizer"))
    statements: list[str] = []
    engine = console.sessions.kw["bind"]

    def seen(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        # (not the change-feed follower's catch-up, which runs in asyncio's executor and,
        # on a busy machine, can fall in the middle of the request)
        if "FROM profiles" in statement and not threading.current_thread().name.startswith(
            "asyncio_"
        ):
            statements.append(f"{threading.current_thread().name}: {statement}")

    event.listen(engine, "before_cursor_execute", seen)
    try:
        page = client.get("/console/profiles?q=bulk&lang=en")
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    text = text_of(page.text)
    assert "120 profiles (page 1 of 3)" in text
    assert text.count("Bulk Firm") == 50
    assert "Bulk Firm 000" in text and "Bulk Firm 049" in text and "Bulk Firm 050" not in text
    listing = [s for s in statements if "DISTINCT" not in s]  # (the cluster filter's options)
    assert len(listing) == 2, statements  # one COUNT, one page
    assert "count(" in listing[0].lower() and "LIMIT" in listing[1]
    assert "data" not in listing[1].split("FROM")[0]  # the documents are not loaded
    last = text_of(client.get("/console/profiles?q=bulk&page=3&lang=en").text)
    assert "Bulk Firm 119" in last and last.count("Bulk Firm") == 20
    assert 'rel="prev"' in client.get("/console/profiles?q=bulk&page=3").text
    assert client.get("/console/profiles?page=abc").status_code == 400


def test_search_by_meaning_uses_the_engine(console: Console) -> None:
    client = console.signed_in(console.user("admin"))
    page = text_of(client.get("/console/profiles?q=precision+gears&meaning=1&lang=en").text)
    assert "closest in meaning first" in page
    assert "Seimitsu" in page or "株式会社精密歯車" in page or "Gear Branch Office" in page


# ---------------------------------------------------------------------------- import


def test_cp932_csv_with_two_bad_rows_preview_partial_and_fixed(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    before = _profile_ids(console)
    r = _upload(client, cp932_csv(38, bad=True), "参加企業.csv")
    assert r.status_code == 303, r.text
    preview_url = r.headers["location"]
    assert re.match(r"^/console/profiles/import/[A-Za-z0-9_-]{32,64}$", preview_url)

    page = client.get(preview_url)
    assert page.status_code == 200
    text = text_of(page.text)
    assert "cp932" in text and "CSV" in text
    assert "エラーのある行（2 行）" in text
    # both bad rows with their row number, field and reason, in Japanese
    assert re.search(r"3 国 「XX」は国コード", text), text
    assert re.search(r"6 名称 必須の項目が空です", text), text
    assert "取り込める行 38" in text
    assert "株式会社テスト01「多摩」" in text  # the sample
    assert "エラーのない 38 行だけ取り込み、2 行は飛ばす" in text
    assert 'value="all"' not in page.text  # no "import everything" with bad rows
    assert _profile_ids(console) == before  # nothing written yet

    # an import of everything is refused while there are bad rows
    refused = _choose(client, preview_url, "all")
    assert refused.status_code == 400
    assert "エラーのある行があります" in text_of(refused.text)
    assert _profile_ids(console) == before

    done = _choose(client, preview_url, "partial")
    assert done.status_code == 303, done.text
    assert done.headers["location"].startswith("/console/profiles/import/done?created=38")
    after = _profile_ids(console)
    assert after - before == {f"imp-{i:03d}" for i in range(1, 39)}
    assert "imp-bad1" not in after and "imp-bad2" not in after
    report = text_of(client.get(done.headers["location"]).text)
    assert "38 件のプロフィールを書き込みました" in report and "飛ばした行 2" in report
    # the staged file is gone once used
    assert client.get(preview_url).status_code == 410

    # the fixed file: all 40 rows, the 38 already there unchanged
    fixed = cp932_csv(38, bad=False) + (
        "imp-bad1,株式会社直した国,企業,JP,TAMA,部品,販路,製造業\r\n"
        "imp-bad2,株式会社名前あり,企業,JP,TAMA,部品,販路,製造業\r\n"
    ).encode("cp932")
    r = _upload(client, fixed, "参加企業_修正.csv")
    preview = client.get(r.headers["location"])
    assert "エラーのある行 0" in text_of(preview.text) and "エラーのある行（" not in preview.text
    assert 'value="all"' in preview.text and 'value="partial"' not in preview.text
    done = _choose(client, r.headers["location"], "all")
    assert done.status_code == 303
    assert "created=2" in done.headers["location"] and "unchanged=38" in done.headers["location"]
    assert {"imp-bad1", "imp-bad2"} <= _profile_ids(console)


def test_preview_in_english_and_cancel(console: Console) -> None:
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    r = _upload(client, cp932_csv(3, bad=True), "list.csv")
    text = text_of(client.get(r.headers["location"]).text)
    assert "Rows with errors (2)" in text
    assert "“XX” is not a country code" in text and "Required, but empty" in text
    gone = _choose(client, r.headers["location"], "cancel")
    assert gone.status_code == 303 and gone.headers["location"].endswith("cancelled=1")
    assert client.get(r.headers["location"]).status_code == 410
    assert "Nothing was written" in text_of(client.get(gone.headers["location"]).text)


def test_the_staged_file_belongs_to_the_session_that_uploaded_it(console: Console) -> None:
    user = console.user("organizer")
    mine = console.signed_in(user)
    r = _upload(mine, cp932_csv(2, bad=False), "a.csv")
    url = r.headers["location"]
    assert mine.get(url).status_code == 200
    # another organizer, and the same user in another browser, cannot use the token
    assert console.signed_in(console.user("organizer")).get(url).status_code == 410
    assert console.signed_in(user).get(url).status_code == 410
    page = console.signed_in(console.user("organizer")).get("/console/profiles/import")
    other = console.signed_in(console.user("organizer"))
    posted = other.post(
        url, data={"csrf_token": csrf_of(other.get("/console").text), "action": "all"}
    )
    assert posted.status_code == 410 and page.status_code == 200
    # and the bytes never travel in the page
    assert "imp-001" not in mine.get("/console/profiles/import").text


def test_xlsx_with_japanese_headers_imports(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    rows: list[list[Any]] = [
        ["識別子", "企業名", "種別", "国", "従業員数", "設立年", "提供"],
        ["xl-1", "株式会社エクセル", "企業", "JP", 120, 1987, "精密歯車; 検査"],
        [],
        ["xl-2", 'Quote "Works" <b>', "大学", "jp", 3000.0, "昭和62年", "研究"],
        ["xl-3", "名前だけ", "その他", None, None, None, None],
    ]
    r = _upload(client, xlsx_book(rows), "名簿.xlsx")
    assert r.status_code == 303, r.text
    page = client.get(r.headers["location"])
    text = text_of(page.text)
    assert "XLSX" in text and "取り込める行 3" in text
    assert "<b>" not in page.text and "&lt;b&gt;" in page.text
    done = _choose(client, r.headers["location"], "all")
    assert "created=3" in done.headers["location"]
    got = console.api.get("/v1/profiles/xl-2", headers=console.api.h()).json()
    assert got["name"] == 'Quote "Works" <b>' and got["kind"] == "university"
    assert got["employees"] == 3000 and got["founded"] == 1987
    first = console.api.get("/v1/profiles/xl-1", headers=console.api.h()).json()
    assert first["offers"] == ["精密歯車", "検査"] and first["employees"] == 120


def test_xlsx_bad_rows_carry_the_sheet_row_numbers(console: Console) -> None:
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    rows: list[list[Any]] = [
        [],
        ["id", "name", "kind", "country"],
        ["ok-1", "Fine", "firm", "JP"],
        [],
        ["ok-2", None, "firm", "ZZ"],
    ]
    r = _upload(client, xlsx_book(rows), "book.xlsx")
    text = text_of(client.get(r.headers["location"]).text)
    assert "Rows with errors (1)" in text
    assert re.search(r"5 Name Required, but empty", text), text
    assert re.search(r"5 Country “ZZ” is not a country code", text), text


def _bomb(unzipped: int) -> bytes:
    """A valid workbook plus one highly compressible part of `unzipped` bytes."""
    base = xlsx_book([["id", "name", "kind"], ["b-1", "Bomb", "firm"]])
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base)) as src, zipfile.ZipFile(out, "w") as dst:
        for item in src.infolist():
            dst.writestr(item, src.read(item.filename), compress_type=zipfile.ZIP_DEFLATED)
        dst.writestr("xl/media/padding.bin", b"\0" * unzipped, compress_type=zipfile.ZIP_DEFLATED)
    return out.getvalue()


def test_zip_bomb_and_oversize_workbooks_are_refused(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    bomb = _bomb(8 * 1024 * 1024)
    assert len(bomb) < 100_000  # small on the wire
    with pytest.raises(ImportFormatError, match="unzips to"):
        xlsx.xlsx_to_csv(bomb, max_unzipped=4 * 1024 * 1024)
    with pytest.raises(ImportFormatError, match="at most 1,000 are allowed"):
        xlsx.xlsx_to_csv(bomb, max_bytes=1_000)
    with pytest.raises(ImportFormatError, match=r"not a readable Excel workbook|not an Excel"):
        xlsx.xlsx_to_csv(b"PK\x03\x04 not really a zip")
    with pytest.raises(ImportFormatError, match=r"\.xls"):
        xlsx.xlsx_to_csv(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)

    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    monkeypatch.setattr(xlsx, "MAX_UNZIPPED_BYTES", 4 * 1024 * 1024)
    r = _upload(client, bomb, "bomb.xlsx")
    assert r.status_code == 400
    text = text_of(r.text)
    assert "This file cannot be read" in text and "the workbook unzips to 8," in text
    fake = _upload(client, b"id,name,kind\nx,y,firm\n", "renamed.xlsx")
    assert fake.status_code == 400 and "not an Excel workbook" in text_of(fake.text)

    # over the upload limit (the settings' body limit less room for the form)
    settings = console.app.state.settings
    monkeypatch.setattr(settings, "max_body_bytes", 1024 * 1024 + 50_000)
    big = _upload(client, b"id,name,kind\n" + b"x" * 60_000 + b",y,firm\n", "big.csv")
    assert big.status_code == 413
    assert "The file is too large" in text_of(big.text)


def test_unreadable_and_missing_files_answer_on_the_form(console: Console) -> None:
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    empty = _upload(client, b"   ", "empty.csv")
    assert empty.status_code == 400 and "The file is empty" in text_of(empty.text)
    header = _upload(client, "名前だけ,なにか\nx,y\n".encode(), "h.csv")
    assert header.status_code == 400 and "not a header row" in text_of(header.text)
    page = client.get("/console/profiles/import")
    none = client.post("/console/profiles/import", data={"csrf_token": csrf_of(page.text)})
    assert none.status_code == 400 and "Choose a file" in text_of(none.text)
    # extra columns: refused by default, ignored on request (and said so)
    extra = (HEADER_JA + ",備考\r\n" + firm_rows(1)[0] + ",メモ\r\n").encode("cp932")
    assert _upload(client, extra, "x.csv").status_code == 400
    ok = _upload(client, extra, "x.csv", ignore_unknown="1")
    assert ok.status_code == 303
    assert "ignored unknown column" in text_of(client.get(ok.headers["location"]).text)


def test_a_large_import_runs_as_a_job_with_a_progress_bar(
    console: Console, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(console.app.state.settings, "sync_import_rows", 0)
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    r = _upload(client, cp932_csv(5, bad=False, prefix="job"), "job.csv")
    done = _choose(client, r.headers["location"], "all")
    assert done.status_code == 303
    job_url = done.headers["location"]
    assert re.match(r"^/console/profiles/import/jobs/[0-9a-f-]{36}$", job_url)
    page = client.get(job_url)
    assert page.status_code == 200 and "<progress" in page.text
    deadline = time.monotonic() + 30
    status = client.get(job_url + "/status").text
    while "every 1s" in status and time.monotonic() < deadline:
        assert 'hx-get="' + job_url + '/status"' in status
        time.sleep(0.1)
        status = client.get(job_url + "/status").text
    assert "every 1s" not in status  # finished: the polling stops
    assert "5 profiles were written" in text_of(status)
    assert re.search(r'<progress id="import-progress" max="(\d+)" value="\1"', status), status
    # another office's organizer cannot watch it (the API's rule for jobs); another
    # organizer of the same office can
    other = console.signed_in(console.user("organizer", office="north"))
    assert other.get(job_url).status_code == 404
    colleague = console.signed_in(console.user("organizer"))
    assert colleague.get(job_url).status_code == 200


def test_nasty_names_in_an_import_preview_are_escaped(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    data = f'id,name,kind\nn-1,"{NASTY.replace(chr(34), chr(34) * 2)}",firm\n'.encode()
    r = _upload(client, data, "nasty.csv")
    page = client.get(r.headers["location"])
    assert RAW not in page.text and "&lt;script&gt;" in page.text


def test_post_without_csrf_is_refused(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    r = client.post(
        "/console/profiles/import",
        files={"file": ("a.csv", b"id,name,kind\na,b,firm\n", "text/csv")},
    )
    assert r.status_code == 403


def test_jsonl_import_with_a_bad_line(console: Console) -> None:
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    data = (
        '{"id": "js-1", "name": "JSON 株式会社", "kind": "firm"}\n'
        "not json\n"
        '{"id": "js-2", "name": "Second", "kind": "university", "country": "FR"}\n'
    ).encode()
    r = _upload(client, data, "profiles.jsonl")
    page = text_of(client.get(r.headers["location"]).text)
    assert "JSONL" in page and "Rows with errors (1)" in page
    assert re.search(r"2 Whole row Not a JSON object", page), page
    done = _choose(client, r.headers["location"], "partial")
    assert "created=2" in done.headers["location"] and "skipped=1" in done.headers["location"]
    assert {"js-1", "js-2"} <= _profile_ids(console)
