"""The programme report pages through the real app (TestClient, SQLite): the figures of
tests/support/reports.py worked out by hand, the downloads, the targets form, bad input,
and who may open what."""

from __future__ import annotations

import csv
import html
import io
import re

from openpyxl import load_workbook

from service.accounts import service as accounts
from service.store.db import transaction
from tests.support.console import Console, User, csrf_of
from tests.support.reports import seed_programme


def _seed(console: Console, user: User) -> dict[str, str]:
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, user.email)
        assert row is not None
        caller = accounts.principal_for_user(row)
    return seed_programme(console.sessions, caller)


def _cells(page: str, key: str) -> list[str]:
    """The texts of the cells of the row `data-key="key"` (its heading first)."""
    row = re.search(rf'<tr data-key="{re.escape(key)}"[^>]*>(.*?)</tr>', page, re.S)
    assert row, f"no row {key}"
    return [html.unescape(re.sub(r"<[^>]+>", "", c)).strip()
            for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row.group(1), re.S)]  # fmt: skip


def test_the_report_page_by_hand(console: Console) -> None:
    organizer = console.user("organizer")
    _seed(console, organizer)
    client = console.signed_in(organizer)
    page = client.get("/console/reports", params={"fiscal_year": "2026", "lang": "en"})
    assert page.status_code == 200, page.text
    text = page.text
    # meetings held: p1–p2 and p1–p3 = 2 (the year before: 1); target 4 -> 50.0%
    assert _cells(text, "meetings_held") == ["Meetings held", "1", "2", "4", "50.0%"]
    # follow-ups: p1–p2 contract and p1–p3 negotiation both got somewhere = 2 of 2
    assert _cells(text, "follow_ups") == ["Follow-ups", "0", "2", "2", "100.0%"]
    assert _cells(text, "contracts") == ["Contracts", "0", "1", "2", "50.0%"]
    assert _cells(text, "new_businesses") == ["New businesses", "0", "0", "1", "0.0%"]
    # no-show rate 1 / (2 + 1); interest: p1–p2 strong, p1–p3 none -> 1 of 2
    assert re.search(r'id="no-show-rate">33\.3%<', text)
    assert re.search(r'id="interest-rate">50\.0%<', text)
    assert "¥2,500,000" in text
    # by programme: requested 1 (p1→p2), scheduled 3; p1–p3 held came from a suggestion
    assert _cells(text, "TAMA") == [
        "TAMA", "1", "3", "2", "33.3%", "50.0%", "2", "1", "0", "2,500,000", "1", "1", "1"
    ]  # fmt: skip
    # the charts are drawn by the vendored Chart.js from the page's figures
    assert 'src="/console/static/chart-4.6.1.umd.min.js?v=' in text
    assert 'id="report-data"' in text and "<canvas" in text
    # pairs of kinds named in the page's language
    page = client.get(
        "/console/reports", params={"fiscal_year": "2026", "by": "kind_pair", "lang": "ja"}
    )
    assert _cells(page.text, "firm–trading_company")[0] == "企業–商社"


def test_downloads(console: Console) -> None:
    organizer = console.user("organizer")
    _seed(console, organizer)
    client = console.signed_in(organizer)
    q = {"fiscal_year": "2026", "by": "event"}
    r = client.get("/console/reports/export.csv", params=q)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    first = dict(zip(rows[0], rows[1], strict=True))
    assert (first["group"], first["held"], first["amount_yen"]) == ("春の商談会", "2", "2500000")
    r = client.get("/console/reports/export.xlsx", params=q)
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None and sheet["A2"].value == "春の商談会"
    r = client.get("/console/reports/chart.png", params={**q, "chart": "groups"})
    assert r.status_code == 200 and r.content.startswith(b"\x89PNG")
    r = client.get("/console/reports/chart.svg", params=q)
    assert r.status_code == 200 and b"<svg" in r.content
    assert client.get("/console/reports/chart.png", params={"chart": "pie"}).status_code == 400
    assert client.get("/console/reports/export.csv", params={"by": "x"}).status_code == 400


def test_bad_conditions_are_named_and_the_page_still_shows(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    page = client.get("/console/reports", params={"fiscal_year": "20x6", "by": "nope"})
    assert page.status_code == 400
    assert "2000〜2100 の年度を選んでください" in page.text
    assert "集計単位を一覧から選んでください" in page.text
    assert "この条件の商談はまだありません。" in page.text


def test_programmes_form(console: Console) -> None:
    organizer = console.user("organizer")
    client = console.signed_in(organizer)
    page = client.get("/console/reports/programs")
    token = csrf_of(page.text)
    bad = client.post(
        "/console/reports/programs",
        data={"csrf_token": token, "name": " ", "fiscal_year": "26", "contracts": "-3"},
    )
    assert bad.status_code == 400
    for message in ("1〜200 文字の名前を入れてください", "2000〜2100 の年度を入れてください",
                    "0 以上の整数を入れてください"):  # fmt: skip
        assert message in bad.text
    assert 'value="-3"' in bad.text  # what was typed stays
    ok = client.post(
        "/console/reports/programs",
        data={"csrf_token": token, "name": "TAMA", "fiscal_year": "2026",
              "meetings_held": "1,200", "contracts": ""},
    )  # fmt: skip
    assert ok.status_code == 303
    listing = client.get(ok.headers["location"]).text
    assert "保存しました。" in listing and "1,200" in listing
    pk = re.search(r'href="/console/reports/programs/(\d+)"', listing)
    assert pk
    again = client.post(
        "/console/reports/programs",
        data={"csrf_token": token, "name": "TAMA", "fiscal_year": "2026"},
    )
    assert again.status_code == 400 and "この年度に同じ名前の事業があります" in again.text
    edit = client.get(f"/console/reports/programs/{pk.group(1)}")
    assert edit.status_code == 200 and 'value="1200"' in edit.text
    saved = client.post(
        f"/console/reports/programs/{pk.group(1)}",
        data={"csrf_token": token, "name": "TAMA", "fiscal_year": "2026", "contracts": "9"},
    )
    assert saved.status_code == 303
    # another office's organizer neither lists nor opens it
    other = console.signed_in(console.user("organizer", office="north"))
    assert "TAMA" not in other.get("/console/reports/programs").text
    assert other.get(f"/console/reports/programs/{pk.group(1)}").status_code == 404
    token2 = csrf_of(other.get("/console/reports/programs").text)
    gone = other.post(f"/console/reports/programs/{pk.group(1)}/delete",
                      data={"csrf_token": token2})  # fmt: skip
    assert gone.status_code == 404
    deleted = client.post(f"/console/reports/programs/{pk.group(1)}/delete",
                          data={"csrf_token": token})  # fmt: skip
    assert deleted.status_code == 303


def test_who_may_open_the_report_pages(console: Console) -> None:
    owner = console.user("organizer")
    _seed(console, owner)
    member = console.signed_in(console.user("member", profile_id="jp-1"))
    other = console.signed_in(console.user("organizer", office="north"))
    admin = console.signed_in(console.user("admin"))
    anonymous = console.client()
    paths = [
        "/console/reports?fiscal_year=2026",
        "/console/reports/export.csv?fiscal_year=2026",
        "/console/reports/export.xlsx?fiscal_year=2026",
        "/console/reports/chart.png?fiscal_year=2026",
        "/console/reports/chart.svg?fiscal_year=2026",
        "/console/reports/programs",
    ]
    for path in paths:
        assert anonymous.get(path).status_code == 303, path  # to the sign-in page
        assert member.get(path).status_code == 403, path
        assert other.get(path).status_code == 200, path
        assert admin.get(path).status_code == 200, path
    # a member may not write a programme either (the form's token is its own page's)
    token = csrf_of(member.get("/console").text)
    data = {"csrf_token": token, "name": "X", "fiscal_year": "2026"}
    assert member.post("/console/reports/programs", data=data).status_code == 403
    assert member.post("/console/reports/programs/1", data=data).status_code == 403
    assert member.post("/console/reports/programs/1/delete", data=data).status_code == 403
    # the other organizer counts none of the owner's events; the admin counts them
    empty = other.get("/console/reports/export.csv?fiscal_year=2026&by=event").content
    assert "春の商談会" not in empty.decode("utf-8-sig")
    full = admin.get("/console/reports/export.csv?fiscal_year=2026&by=event").content
    assert "春の商談会" in full.decode("utf-8-sig")


def test_a_member_sees_its_own_results_only(console: Console) -> None:
    _seed(console, console.user("organizer"))
    jp = console.signed_in(console.user("member", profile_id="jp-1"))
    page = jp.get("/console/reports/mine", params={"fiscal_year": "2026", "lang": "en"})
    assert page.status_code == 200, page.text
    row = re.search(r'<tr data-key="([0-9a-f-]{36})"', page.text)
    assert row
    # jp-1 is p1: p1–p2 held by its own record (strong interest); p1–p3 has only p3's
    # record, which is p3's; its own follow-up says negotiation; p2's contract is p2's
    cells = _cells(page.text, row.group(1))
    assert cells[:4] == ["春の商談会", "2", "1", "100.0%"]
    assert cells[4:10] == ["0", "1", "0", "0", "0", "0"]  # no_progress .. new_business
    assert cells[10] == "0"
    it = console.signed_in(console.user("member", profile_id="it-1"))
    page = it.get("/console/reports/mine", params={"fiscal_year": "2026", "lang": "en"})
    cells = _cells(page.text, row.group(1))
    # it-1 is p2: no record of p1–p2's attendance of its own; its contract of 2,500,000
    assert cells[:3] == ["春の商談会", "2", "0"] and cells[8] == "1" and cells[10] == "2,500,000"
    for role in ("organizer", "admin"):
        client = console.signed_in(console.user(role))
        assert client.get("/console/reports/mine").status_code == 403
    assert "/console/reports/mine" in jp.get("/console").text  # in the member's header
