"""Issue 17, flow 2, in a real Chromium: a member firm signs in with the page in
Japanese, reads its buyer matches with reasons in Japanese, opens the "why", sends
wishes for an event before its deadline and, once the organizer has scheduled the event
(through the API here), sees them in its agenda with clock times. Screenshots of every
page go to tests/.artifacts/screens/member-*.png."""

from __future__ import annotations

import re
import time
from typing import Any

import httpx
import pytest

from tests.support.browser import shot

pytestmark = pytest.mark.browser

EVENT = {
    "name": "TAMA 商談会 2030 春",
    "venue": "立川市 産業会館 3階",
    "slots": 4,
    "tables": [{"id": "T1", "name": "テーブル1"}, {"id": "T2", "name": "テーブル2"}],
    "timezone": "Asia/Tokyo",
    "slot_times": ["2030-06-10T13:00", "2030-06-10T13:20", "2030-06-10T13:40", "2030-06-10T14:00"],
    "slot_minutes": 20,
    "wish_deadline": "2099-06-03T17:00",
    "participants": [
        {"id": "gear", "group": "supplier", "profile_id": "jp-1"},
        {"id": "veneto", "group": "buyer", "profile_id": "it-1"},
        {"id": "uni", "group": "researcher", "profile_id": "uni-1"},
        {"id": "bio", "group": "supplier", "profile_id": "kr-1"},
    ],
    "suggestions": [
        {
            "a": "gear",
            "b": "veneto",
            "score": 0.8,
            "reason": "先方のニーズ「precision gears from Japan」↔ 貴社の提供「precision gears」",
        }
    ],
}


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _api(live_server: Any) -> httpx.Client:
    return httpx.Client(
        base_url=live_server.url,
        headers={"Authorization": f"Bearer {live_server.admin_key}"},
        timeout=30,
    )


def _schedule(live_server: Any, event_id: str) -> None:
    with _api(live_server) as api:
        r = api.post(f"/v1/events/{event_id}/schedule", params={"time_limit": 5})
        assert r.status_code == 202, r.text
        location = r.headers["location"]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            job = api.get(location).json()
            if job["status"] in ("succeeded", "failed"):
                assert job["status"] == "succeeded", job
                return
            time.sleep(0.1)
    raise AssertionError("the schedule job did not finish")


def test_member_reads_matches_sends_wishes_and_sees_its_agenda(
    live_server: Any, new_page: Any
) -> None:
    expect = _expect()
    with _api(live_server) as api:
        r = api.post("/v1/events", json=EVENT)
        assert r.status_code == 201, r.text
        event_id = r.json()["id"]
    email, password = live_server.user("member", profile_id="jp-1", name="精密 花子")
    page = new_page("ja-JP")

    page.goto("/console/me/matches")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    expect(page).to_have_url(re.compile(r"/console/me/matches$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.get_by_role("heading", level=1)).to_have_text("マッチ候補")
    shot(page, "member-01-matches-partner-ja")

    # Buyer matches, with reasons in Japanese and the items that meet marked.
    tabs = page.get_by_role("navigation", name="目的")
    tabs.get_by_role("link", name=re.compile("バイヤー")).click()
    expect(page).to_have_url(re.compile(r"purpose=buyer"))
    first = page.locator(".member-result").first
    expect(first.get_by_role("link", name="Veneto Trading Srl")).to_be_visible()
    reason = first.get_by_text(re.compile("先方のニーズ「precision gears from Japan」"))
    expect(reason).to_be_visible()
    expect(first.locator("mark").first).to_be_visible()
    assert first.locator("mark").count() >= 2
    why = first.locator("details.member-why")
    expect(why.locator("table")).to_be_hidden()
    # The "why" opens from the keyboard.
    why.locator("summary").focus()
    page.keyboard.press("Enter")
    expect(why.locator("table")).to_be_visible()
    expect(why.get_by_role("rowheader", name="先方の需要")).to_be_visible()
    assert why.locator("meter").count() >= 5
    shot(page, "member-02-matches-buyer-why-ja")

    # A filter that leaves nothing, then the country that has the buyer.
    page.get_by_label("国（国コード、複数可）").fill("FR")
    page.get_by_role("button", name="絞り込む").click()
    expect(page.get_by_text("この条件に合う候補はありません")).to_be_visible()
    page.get_by_label("国（国コード、複数可）").fill("IT")
    page.get_by_role("button", name="絞り込む").click()
    expect(page.locator(".member-result")).to_have_count(1)

    # Free-text search.
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="検索").click()
    page.get_by_label("探している相手").fill("欧州の販売代理店 distributor in Europe")
    page.get_by_label("目的").select_option("overseas")
    page.get_by_role("button", name="検索する").click()
    expect(page.locator(".member-result").first).to_contain_text("Veneto Trading Srl")
    shot(page, "member-03-search-ja")

    # The profile editor: a bad country is shown by the field, the input kept.
    page.goto("/console/profiles/jp-1")
    page.get_by_role("link", name="プロフィールを編集").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("自社プロフィールの編集")
    page.get_by_label("国", exact=True).fill("ZZ")
    page.get_by_role("button", name="保存する").click()
    expect(page.locator("#f-country-error")).to_contain_text("国コードではありません")
    expect(page.get_by_label("国", exact=True)).to_have_value("ZZ")
    shot(page, "member-04-profile-error-ja")
    page.get_by_label("国", exact=True).fill("JP")
    needs = "distributor in Europe\nsteering assist research\n共同研究の相手"
    page.get_by_label("求めていること", exact=True).fill(needs)
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_contain_text("プロフィールを保存しました")
    shot(page, "member-05-profile-saved-ja")

    # Events: the member's event, its wishes before the deadline.
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="商談会").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("参加する商談会")
    expect(page.get_by_text("2030年6月10日 13:00–14:20 (JST)")).to_be_visible()
    shot(page, "member-06-events-ja")
    page.get_by_role("link", name="TAMA 商談会 2030 春").click()
    expect(page.get_by_text("スケジュールはまだ作成されていません")).to_be_visible()
    page.get_by_label("相手").select_option(label="Veneto Trading Srl — 商社, IT")
    page.get_by_label("希望", exact=True).select_option("must")
    page.get_by_label("優先度").select_option("1")
    page.get_by_role("button", name="希望を送る").click()
    expect(page.get_by_role("status")).to_have_text("希望を保存しました。")
    page.get_by_label("相手").select_option(label="Tama University — 大学, JP")
    page.get_by_label("希望", exact=True).select_option("want")
    page.get_by_role("button", name="希望を送る").click()
    wishes = page.locator("table.member-wishes tbody tr")
    expect(wishes).to_have_count(2)
    expect(wishes.first).to_contain_text("必ず会いたい")
    shot(page, "member-07-wishes-ja")

    # The organizer schedules the event (the API); the agenda shows the meetings.
    _schedule(live_server, event_id)
    page.get_by_role("navigation", name="メインメニュー").get_by_role("link", name="商談会").click()
    page.get_by_role("link", name="TAMA 商談会 2030 春").click()
    agenda = page.locator("table.member-agenda tbody tr")
    expect(agenda.first).to_be_visible()
    assert agenda.count() >= 2
    expect(page.locator("table.member-agenda")).to_contain_text("Veneto Trading Srl")
    expect(page.locator("table.member-agenda")).to_contain_text("Tama University")
    times = page.locator("table.member-agenda .member-time").all_inner_texts()
    assert all(re.fullmatch(r"1[34]:[0-5]0–1[34]:[0-5]0", t) for t in times), times
    expect(page.locator("table.member-agenda")).to_contain_text("先方のニーズ「precision gears")
    expect(page.locator("table.member-wishes")).to_contain_text("予定に入りました")
    shot(page, "member-08-agenda-ja")

    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=2, name="Your agenda")).to_be_visible()
    shot(page, "member-09-agenda-en")
