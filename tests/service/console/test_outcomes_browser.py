"""Outcomes in a real Chromium: a member firm records the outcome of a meeting from its
agenda and answers the 3-month follow-up; the organizer reads both sides on the event's
Outcomes tab, downloads the follow-up sheet and uploads a filled one with a bad row,
which is listed and not read. Screenshots go to tests/.artifacts/screens/outcomes-*.png."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import pytest

from tests.support.browser import shot
from tests.support.outcomes import owned_event

pytestmark = pytest.mark.browser


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def sign_in(page: Any, email: str, password: str, landing: str) -> None:
    page.goto(landing)
    page.get_by_label(re.compile("メールアドレス|Email")).fill(email)
    page.get_by_label(re.compile("^(パスワード|Password)$")).fill(password)
    page.get_by_role("button", name=re.compile("サインイン|Sign in")).click()
    _expect()(page).to_have_url(re.compile(re.escape(landing) + "$"))


def test_member_records_and_organizer_reads_outcomes(live_server: Any, new_page: Any) -> None:
    expect = _expect()
    org_email, org_password = live_server.user("organizer", name="主催 太郎")
    event_id = owned_event(live_server.sessions, org_email)
    email, password = live_server.user("member", profile_id="jp-1", name="精密 花子")

    member = new_page("ja-JP")
    sign_in(member, email, password, f"/console/me/events/{event_id}")
    agenda = member.locator("table.member-agenda")
    expect(agenda).to_contain_text("Veneto")
    member.get_by_role("link", name="=Veneto との商談結果を記録").click()
    expect(member.get_by_role("heading", level=1)).to_contain_text("商談結果の記録")
    member.get_by_label("実施状況").select_option("held")
    member.get_by_label("関心度").select_option("strong")
    member.get_by_label("次のステップ").select_option("samples_or_quote")
    member.get_by_label("メモ（自社と主催者だけに表示）").fill("見積依頼あり。来月に工場見学。")
    member.get_by_role("button", name="記録する").click()
    expect(member.get_by_role("status").first).to_contain_text("商談結果を記録しました")
    expect(member.locator(".out-history li")).to_have_count(1)

    # the 3-month round: a bad amount is shown by its field, then a good answer
    round3 = member.locator(".out-round").first
    round3.get_by_label("段階").select_option("contract")
    round3.get_by_label("金額（円、任意）").fill("たくさん")
    round3.get_by_role("button", name="回答する").click()
    expect(member.locator(".out-round").first.locator(".field-error")).to_contain_text(
        "金額は円の数字で"
    )
    round3 = member.locator(".out-round").first
    round3.get_by_label("金額（円、任意）").fill("120万円")
    round3.get_by_role("button", name="回答する").click()
    expect(member.get_by_role("status").first).to_contain_text("フォローアップの回答を記録しました")
    expect(member.locator(".out-round").first).to_contain_text("¥1,200,000")
    shot(member, "outcomes-01-member-recorded-ja")
    member.goto(f"/console/me/events/{event_id}")
    expect(member.locator("table.member-agenda")).to_contain_text("記録済み")
    shot(member, "outcomes-02-member-agenda-ja")

    organizer = new_page("ja-JP")
    sign_in(organizer, org_email, org_password, f"/console/events/{event_id}/outcomes")
    expect(organizer.get_by_role("heading", level=1)).to_contain_text("商談結果")
    table = organizer.locator("table.out-meetings")
    expect(table).to_contain_text("見積依頼あり")
    expect(table).to_contain_text("強い関心")
    expect(table).to_contain_text("受注・契約")
    expect(organizer.locator(".out-round-lines")).to_contain_text("回答待ち")
    shot(organizer, "outcomes-03-organizer-ja")

    with organizer.expect_download() as download:
        organizer.get_by_role("link", name="CSV（日本語）").click()
    data = download.value.path().read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    header = rows[0]
    for row in rows[1:]:
        if (row[3], row[5]) == ("veneto", "gear"):
            row[header.index("出欠")] = "実施"
            row[header.index("関心度")] = "とても"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    organizer.get_by_label("記入したシート（CSV または XLSX）").set_input_files(
        {"name": "filled.csv", "mimeType": "text/csv", "buffer": out.getvalue().encode("cp932")}
    )
    organizer.get_by_role("button", name="取り込む").click()
    expect(organizer.locator("#report")).to_contain_text("何も取り込んでいません")
    expect(organizer.locator("table.out-errors")).to_contain_text("J 関心度")
    organizer.locator("#report").scroll_into_view_if_needed()
    shot(organizer, "outcomes-04-organizer-import-errors-ja")

    english = new_page("en-US")
    sign_in(english, org_email, org_password, f"/console/events/{event_id}/outcomes")
    expect(english.get_by_role("heading", level=1)).to_contain_text("Outcomes")
    expect(english.locator("table.out-meetings")).to_contain_text("Strong interest")
    shot(english, "outcomes-05-organizer-en")
