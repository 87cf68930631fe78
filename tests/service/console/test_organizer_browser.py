"""The organizer's flow in a real Chromium (issue 17's flow 1): sign in, import 40
participants from a cp932 CSV with two bad rows (both shown; the file fixed and uploaded
again; imported), create an event, add the imported profiles as participants, generate
suggestions and accept some, schedule with the progress bar, open the grid, lock a meeting,
re-plan after a no-show, and download the printable agendas and one participant's ICS.
Screenshots of every page go to
tests/.artifacts/screens/organizer-*.png."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from tests.support.browser import SCREENS, shot
from tests.support.organizer import cp932_csv

pytestmark = pytest.mark.browser

PREFIX = "br"


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def view(page: Any, name: str) -> None:
    """What a 1280x800 screen shows (the full-page `shot` of a long page is too tall to
    judge): the viewport as it is scrolled."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENS / f"{name}.png"), full_page=False)


def _fixed_file() -> bytes:
    return cp932_csv(38, bad=False, prefix=PREFIX) + (
        f"{PREFIX}-bad1,株式会社直した国,商社,JP,TAMA,販路開拓,精密歯車,商社\r\n"
        f"{PREFIX}-bad2,株式会社名前あり,企業,JP,TAMA,精密歯車,販路開拓,製造業\r\n"
    ).encode("cp932")


def test_organizer_imports_creates_an_event_adds_participants_and_accepts_suggestions(
    live_server: Any, new_page: Any
) -> None:
    expect = _expect()
    email, password = live_server.user("organizer", name="事務局 花子")
    page = new_page("ja-JP")
    page.goto("/console/sign-in")
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("事務局 花子")

    # --- import: the file with two bad rows
    nav = page.get_by_role("navigation", name="メインメニュー")
    nav.get_by_role("link", name="取り込み").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("プロフィールの取り込み")
    shot(page, "organizer-01-import-ja")
    bad = cp932_csv(38, bad=True, prefix=PREFIX)
    page.get_by_label("ファイル").set_input_files(
        files=[{"name": "参加企業.csv", "mimeType": "text/csv", "buffer": bad}]
    )
    page.get_by_role("button", name="内容を確認する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("取り込み内容の確認")
    errors = page.locator("table.org-errors tbody tr")
    expect(errors).to_have_count(2)
    expect(errors.nth(0)).to_contain_text("3")
    expect(errors.nth(0)).to_contain_text("「XX」は国コード")
    expect(errors.nth(1)).to_contain_text("6")
    expect(errors.nth(1)).to_contain_text("必須の項目が空です")
    expect(page.get_by_role("button", name=re.compile("エラーのない 38 行だけ"))).to_be_visible()
    shot(page, "organizer-02-preview-bad-rows-ja")
    # not this one: fix the file instead
    page.get_by_role("button", name="取り込まない（ファイルを直す）").click()
    expect(page.get_by_role("status")).to_contain_text("何も書き込まれていません")

    # --- the fixed file
    page.get_by_label("ファイル").set_input_files(
        files=[{"name": "参加企業_修正.csv", "mimeType": "text/csv", "buffer": _fixed_file()}]
    )
    page.get_by_role("button", name="内容を確認する").click()
    expect(page.locator("table.org-errors")).to_have_count(0)
    shot(page, "organizer-03-preview-fixed-ja")
    page.get_by_role("button", name="40 行を取り込む").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("取り込みが終わりました")
    expect(page.get_by_role("status")).to_contain_text("40 件のプロフィールを書き込みました")
    shot(page, "organizer-04-import-done-ja")

    # --- the profile list
    nav.get_by_role("link", name="プロフィール", exact=True).click()
    page.get_by_label("名称で検索").fill("テスト")
    page.get_by_role("button", name="検索", exact=True).click()
    expect(page.locator(".org-count")).to_contain_text("38 件")
    shot(page, "organizer-05-profiles-ja")
    view(page, "organizer-05a-profiles-top-ja")

    # --- a new event, first with a mistake
    nav.get_by_role("link", name="商談会").click()
    shot(page, "organizer-06-events-empty-ja")
    page.get_by_role("link", name="商談会を作成").first.click()
    page.get_by_label("商談会の名称").fill("多摩ものづくり商談会 <2026>")
    page.get_by_label("開催日").fill("2026-06-10")
    page.get_by_label("会場").fill("立川市産業会館 3F 展示ホール")
    page.get_by_label("最初の枠の開始時刻").fill("13:00")
    page.get_by_label("枠の数").fill("0")
    page.get_by_label("希望の締め切り").fill("2026-06-03T17:00")
    page.get_by_role("button", name="作成する").click()
    expect(page.locator("#f-slots-error")).to_have_text(re.compile("1〜500 枠"))
    expect(page.get_by_label("会場")).to_have_value("立川市産業会館 3F 展示ホール")
    shot(page, "organizer-07-event-form-error-ja")
    page.get_by_label("枠の数").fill("8")
    page.get_by_label("テーブル数").fill("6")
    page.get_by_role("button", name="作成する").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("多摩ものづくり商談会 <2026>")
    expect(page.get_by_role("status")).to_contain_text("商談会を作成しました")
    shot(page, "organizer-08-event-ja")

    # --- participants: the imported firms, half as buyers, half as suppliers
    page.get_by_role("navigation", name="商談会のページ").get_by_role("link", name="参加者").click()
    for group, names in (("buyer", range(1, 21)), ("supplier", range(21, 39))):
        page.get_by_label("名称で検索").fill("テスト")
        page.get_by_role("button", name="検索", exact=True).click()
        for i in names:
            page.get_by_label(re.compile(f"株式会社テスト{i:02d}「多摩」")).check()
        page.get_by_label("グループ").select_option(group)
        shot(page, f"organizer-09-add-{group}-ja")
        page.get_by_role("button", name="選んだ組織を追加").click()
        expect(page.get_by_role("status")).to_contain_text("参加者を追加しました")
    page.get_by_label("名称で検索").fill("直した")
    page.get_by_role("button", name="検索", exact=True).click()
    page.get_by_label(re.compile("株式会社直した国")).check()
    page.get_by_label("グループ").select_option("supplier")
    page.get_by_role("button", name="選んだ組織を追加").click()
    expect(page.get_by_role("heading", name="参加者（39）")).to_be_visible()
    shot(page, "organizer-10-participants-ja")
    view(page, "organizer-10a-participants-top-ja")
    page.get_by_role("heading", name="参加者（39）").scroll_into_view_if_needed()
    view(page, "organizer-10b-participants-list-ja")

    # one participant's availability
    page.get_by_role("link", name=re.compile("編集 株式会社テスト01")).click()
    expect(page.get_by_text("13:00–13:20")).to_be_visible()
    page.get_by_label(re.compile("8 15:20–15:40")).uncheck()
    shot(page, "organizer-11-participant-ja")
    page.get_by_role("button", name="保存する").click()
    expect(page.get_by_role("status")).to_contain_text("参加者の設定を保存しました")

    # --- suggestions: generate, accept three, reject one, pin one
    page.get_by_role("navigation", name="商談会のページ").get_by_role(
        "link", name="推薦ペア"
    ).click()
    page.get_by_label("1参加者あたりの推薦数").fill("2")
    page.get_by_role("button", name="マッチングから推薦を作る").click()
    expect(page.get_by_role("status")).to_contain_text("推薦を作りました")
    cards = page.locator(".org-suggestion")
    assert cards.count() >= 5
    shot(page, "organizer-12-suggestions-ja")
    view(page, "organizer-12a-suggestions-top-ja")
    for _ in range(3):
        page.locator(".org-suggestion:not([class*=decided])").first.get_by_role(
            "button", name=re.compile("^採用（希望）")
        ).click()
        expect(page.get_by_role("status")).to_contain_text("判断を保存しました")
    expect(page.locator(".org-suggestion.decided-want")).to_have_count(3)
    page.locator(".org-suggestion:not([class*=decided])").first.get_by_role(
        "button", name=re.compile("^見送り")
    ).click()
    page.locator(".org-suggestion:not([class*=decided])").last.get_by_role(
        "button", name=re.compile("^ピン留め")
    ).click()
    expect(page.locator(".org-suggestion").first).to_have_class(re.compile("pinned"))
    shot(page, "organizer-13-suggestions-decided-ja")
    page.evaluate("window.scrollTo(0, 0)")
    view(page, "organizer-13a-suggestions-decided-top-ja")

    # --- the wishes page shows the decisions; the event page sums it all up
    page.get_by_role("navigation", name="商談会のページ").get_by_role("link", name="希望").click()
    expect(page.get_by_role("heading", name="主催者の指定（4）")).to_be_visible()
    shot(page, "organizer-14-wishes-ja")
    page.get_by_role("navigation", name="商談会のページ").get_by_role("link", name="概要").click()
    expect(page.get_by_text("必須 0・希望 3・不可 1")).to_be_visible()
    expect(page.get_by_role("link", name="スケジュールへ")).to_have_attribute(
        "href", re.compile(r"/console/events/[0-9a-f-]{36}/schedule$")
    )
    schedule_href = page.get_by_role("link", name="スケジュールへ").get_attribute("href")
    assert schedule_href is not None
    shot(page, "organizer-15-event-summary-ja")
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", name="Preparation")).to_be_visible()
    shot(page, "organizer-16-event-summary-en")
    page.get_by_role("navigation", name="Event pages").get_by_role(
        "link", name="Suggestions"
    ).click()
    shot(page, "organizer-17-suggestions-en")
    view(page, "organizer-17a-suggestions-top-en")
    page.goto("/console/profiles/import")
    shot(page, "organizer-18-import-en")

    # --- the second half of flow 1, on the same event: schedule with the progress bar,
    # the grid, lock a meeting, a no-show re-planned, the agendas and one ICS downloaded
    page.get_by_role("link", name="日本語").click()
    page.goto(schedule_href)
    page.get_by_label("計算時間の上限（秒）").fill("8")
    page.get_by_role("button", name=re.compile("スケジュールを作成")).click()
    expect(page).to_have_url(re.compile(r"\?notice=solved$"), timeout=90_000)
    shot(page, "organizer-19-scheduled-ja")
    page.get_by_role("navigation", name="スケジュールのメニュー").get_by_role(
        "link", name="スケジュール表"
    ).click()
    cells = page.locator("table.sched-grid td.meeting")
    assert cells.count() > 1
    absent = cells.last.get_by_role("link").first.inner_text().strip()
    cells.first.get_by_role("link", name=re.compile("^操作")).click()
    page.get_by_role("button", name="この枠とテーブルに固定").click()
    expect(page.get_by_role("status").first).to_contain_text("商談を固定しました")
    page.get_by_role("navigation", name="スケジュールのメニュー").get_by_role(
        "link", name="当日の組み直し"
    ).click()
    page.get_by_label(f"{absent} は欠席", exact=True).check()
    page.get_by_label("計算時間の上限（秒）").fill("8")
    page.get_by_role("button", name="組み直す").click()
    expect(page).to_have_url(re.compile(r"/changes\?notice=replanned$"), timeout=90_000)
    expect(page.locator(".sched-counts")).to_contain_text("件は中止")
    dropped = page.locator(".sched-counts").inner_text()
    assert not re.search(r"(^|\s)0\s*件は中止", dropped), dropped  # the absentee's meetings went
    shot(page, "organizer-20-replanned-ja")
    page.get_by_role("navigation", name="スケジュールのメニュー").get_by_role(
        "link", name="作成と概要"
    ).click()
    with page.expect_download() as caught:
        page.get_by_role("link", name="全参加者の予定表（印刷用 HTML）").click()
    agendas = Path(caught.value.path()).read_text(encoding="utf-8")
    assert agendas.count("<section>") >= 39 and "商談スケジュール" in agendas
    with page.expect_download() as caught:
        page.get_by_role("button", name="カレンダー（ICS）をダウンロード").click()
    ics = Path(caught.value.path()).read_text(encoding="utf-8")
    assert ics.startswith("BEGIN:VCALENDAR") and "END:VCALENDAR" in ics


def test_the_import_works_with_the_keyboard_alone(live_server: Any, new_page: Any) -> None:
    expect = _expect()
    email, password = live_server.user("organizer", name="鍵盤 三郎")
    page = new_page("en-US")
    page.goto("/console/sign-in")
    page.get_by_label("Email address").fill(email)
    page.get_by_label("Password", exact=True).fill(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("鍵盤 三郎")
    page.goto("/console/events/new")
    expect(page.locator("input[autofocus]")).to_be_focused()  # the name field, on load
    page.keyboard.type("Keyboard fair")
    for _ in range(30):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.textContent.trim()") == "Create":
            break
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"
    shot(page, "organizer-19-keyboard-create-en")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Keyboard fair")
