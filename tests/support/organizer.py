"""Helpers of the organizer page tests: import files (cp932 CSV with bad rows, XLSX with
Japanese headers), events made through the console's form, and a reader of pages."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from fastapi.testclient import TestClient

from tests.support.console import csrf_of

HEADER_JA = "識別子,企業名,種別,国,クラスター,提供,ニーズ,業種"
KINDS_JA = ("企業", "大学", "商社", "研究機関")
OFFERS = (
    "精密歯車",
    "樹脂成形",
    "表面処理",
    "検査装置",
    "ソフトウェア開発",
    "金型設計",
    "溶接加工",
    "センサー",
)


def firm_rows(n: int, prefix: str = "imp") -> list[str]:
    """n good CSV rows (Japanese headers of HEADER_JA): firms offering one thing and
    needing the next."""
    rows = []
    for i in range(1, n + 1):
        offer = OFFERS[i % len(OFFERS)]
        need = OFFERS[(i + 3) % len(OFFERS)]
        kind = KINDS_JA[i % len(KINDS_JA)]
        rows.append(
            f"{prefix}-{i:03d},株式会社テスト{i:02d}「多摩」,{kind},JP,TAMA,{offer},{need},製造業"
        )
    return rows


def cp932_csv(n_good: int, *, bad: bool, prefix: str = "imp") -> bytes:
    """A cp932 CSV of `n_good` good rows; with `bad`, rows 3 and 6 (spreadsheet rows) are
    broken: an unknown country code and an empty name."""
    rows = firm_rows(n_good, prefix)
    if bad:
        rows.insert(1, f"{prefix}-bad1,株式会社不明国,企業,XX,TAMA,部品,販路,製造業")
        rows.insert(4, f"{prefix}-bad2,,企業,JP,TAMA,部品,販路,製造業")
    return ("\r\n".join([HEADER_JA, *rows]) + "\r\n").encode("cp932")


def xlsx_book(rows: list[list[Any]]) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def text_of(page: str) -> str:
    """The page's text: tags dropped, entities decoded, spaces collapsed."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page))).strip()


def event_form(**changes: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "name": "多摩商談会 2026",
        "date": "2026-06-10",
        "venue": "立川市産業会館 3F",
        "time_zone": "Asia/Tokyo",
        "start": "13:00",
        "slot_minutes": "20",
        "slots": "6",
        "tables": "4",
        "groups": "buyer, supplier",
        "allow": ["buyer\u001fsupplier"],
        "wish_deadline": "2026-06-03T17:00",
        "default_min": "0",
        "default_max": "",
    }
    form.update(changes)
    return form


def post_form(client: TestClient, page_path: str, action: str, data: dict[str, Any]) -> Any:
    """Open `page_path` for its CSRF token, then post `data` to `action`."""
    page = client.get(page_path)
    assert page.status_code == 200, page.text
    return client.post(action, data={**data, "csrf_token": csrf_of(page.text)})


def create_event(client: TestClient, **changes: Any) -> str:
    r = post_form(client, "/console/events/new", "/console/events/new", event_form(**changes))
    assert r.status_code == 303, r.text
    found = re.match(r"^/console/events/([0-9a-f-]{36})\?done=created$", r.headers["location"])
    assert found, r.headers["location"]
    return found.group(1)
