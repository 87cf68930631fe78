"""The console in a real Chromium against a real server (see browser.py). Screenshots go
to tests/.artifacts/screens/."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.support.browser import shot
from tests.support.console import NASTY

pytestmark = pytest.mark.browser


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _sign_in(page: Any, email: str, password: str, *, labels: tuple[str, str, str]) -> None:
    page.get_by_label(labels[0]).fill(email)
    page.get_by_label(labels[1], exact=True).fill(password)
    page.get_by_role("button", name=labels[2]).click()


JA = ("メールアドレス", "パスワード", "サインイン")
EN = ("Email address", "Password", "Sign in")


def test_member_signs_in_in_japanese_switches_to_english_and_signs_out(
    live_server: Any, new_page: Any
) -> None:
    expect = _expect()
    email, password = live_server.user("member", profile_id="jp-1", name="精密 太郎")
    page = new_page("ja-JP")
    page.goto("/console")
    expect(page).to_have_url(re.compile(r"/console/sign-in$"))
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    shot(page, "01-sign-in-ja")

    _sign_in(page, email, "まちがったパスワードです", labels=JA)
    expect(page.get_by_role("alert")).to_contain_text("正しくありません")
    expect(page.get_by_label("メールアドレス")).to_have_value(email)
    shot(page, "02-sign-in-error-ja")

    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    expect(page).to_have_url(re.compile(r"/console$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("ようこそ、精密 太郎 さん")
    shot(page, "03-home-ja")

    page.get_by_role("link", name="English").click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1)).to_have_text("Welcome, 精密 太郎")
    shot(page, "04-home-en")

    page.get_by_role("navigation", name="Main menu").get_by_role("link", name="Our profile").click()
    expect(page).to_have_url(re.compile(r"/console/profiles/jp-1$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("株式会社精密歯車")
    expect(page.locator("html")).to_have_attribute("lang", "en")  # remembered
    expect(page.get_by_text("sales@gear.example.jp")).to_be_visible()  # its own contact
    shot(page, "05-profile-en")

    page.get_by_role("button", name="Sign out", exact=True).click()
    expect(page).to_have_url(re.compile(r"/console/sign-in\?signed_out=1$"))
    expect(page.get_by_role("status")).to_have_text("You have signed out.")
    shot(page, "06-signed-out-en")
    page.goto("/console/profiles/jp-1")
    expect(page).to_have_url(re.compile(r"/console/sign-in\?next="))


def test_a_form_posted_without_its_csrf_token_is_refused(live_server: Any, new_page: Any) -> None:
    expect = _expect()
    email, password = live_server.user("organizer", name="事務局 花子")
    page = new_page("ja-JP")
    page.goto("/console/sign-in")
    _sign_in(page, email, password, labels=JA)
    expect(page.get_by_role("heading", level=1)).to_contain_text("事務局 花子")

    # The page's own sign-out form, with its token removed, submitted by the browser.
    page.locator("header form input[name=csrf_token]").evaluate("e => e.remove()")
    page.get_by_role("button", name="サインアウト", exact=True).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("フォームの有効期限が切れました")
    shot(page, "07-csrf-refused-ja")
    # ... and a request with the browser's cookies but no token
    r = page.context.request.post(live_server.url + "/console/sign-out", form={"x": "1"})
    assert r.status == 403
    page.goto("/console")
    expect(page.get_by_role("heading", level=1)).to_contain_text("事務局 花子")  # still in


def test_another_browser_without_the_cookie_sees_only_the_sign_in_page(
    live_server: Any, new_page: Any
) -> None:
    expect = _expect()
    email, password = live_server.user("admin", name="管理 一郎")
    mine = new_page("ja-JP")
    mine.goto("/console/sign-in")
    _sign_in(mine, email, password, labels=JA)
    expect(mine.get_by_role("heading", level=1)).to_contain_text("管理 一郎")

    other = new_page("en-US")
    for path in ("/console", "/console/profiles/jp-1"):
        other.goto(path)
        expect(other).to_have_url(re.compile(r"/console/sign-in"))
        expect(other.get_by_role("heading", level=1)).to_have_text("Sign in")
        assert "sales@gear.example.jp" not in other.content()
        assert "管理 一郎" not in other.content()
    shot(other, "08-other-context-en")


def test_sign_in_with_the_keyboard_only(live_server: Any, new_page: Any) -> None:
    expect = _expect()
    email, password = live_server.user("organizer", name="鍵盤 次郎")
    page = new_page("ja-JP")
    page.goto("/console/sign-in")

    def focused() -> str:
        return str(page.evaluate("document.activeElement.id || document.activeElement.className"))

    assert focused() == "f-email"  # the form is where the keyboard starts
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    assert focused() == "f-password"
    page.keyboard.type(password)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("ようこそ、鍵盤 次郎 さん")

    # On a page: the first Tab shows the skip link, then the header in reading order.
    page.keyboard.press("Tab")
    assert focused() == "skip-link"
    expect(page.locator(".skip-link")).to_be_in_viewport()
    outline = page.evaluate("getComputedStyle(document.activeElement).outlineStyle")
    assert outline == "solid"  # a visible focus ring
    shot(page, "09-keyboard-skip-link-ja")
    # (organizer: the header's links are read from the page, since each area appends its own)
    links = [t.strip() for t in page.locator("nav.main-nav a").all_text_contents()]
    assert links[0] == "ホーム"
    order = []
    for _ in range(5 + len(links)):
        page.keyboard.press("Tab")
        order.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert order == [
        "ClusterMatch産業クラスターのビジネスマッチング",
        *links,
        "日本語",
        "English",
        "サインアウト",
        "すべての端末からサインアウト",
    ]
    shot(page, "10-keyboard-focus-ring-ja")


def test_set_password_in_the_browser_shows_errors_by_the_field(
    live_server: Any, new_page: Any
) -> None:
    expect = _expect()
    email, _ = live_server.user("member", profile_id="nasty-1", name=NASTY, password=None)
    page = new_page("ja-JP")
    page.goto(live_server.link(email))
    expect(page.get_by_role("heading", level=1)).to_have_text("パスワードの設定")
    page.get_by_label("新しいパスワード", exact=True).fill("短い")
    page.get_by_label("新しいパスワード（確認）").fill("ちがう")
    page.get_by_role("button", name="パスワードを設定").click()
    expect(page.locator("#f-password-error")).to_have_text(re.compile("12文字以上"))
    expect(page.get_by_label("表示名")).to_have_value(NASTY)  # kept, and not run
    expect(page.get_by_label("新しいパスワード", exact=True)).to_have_value("")
    shot(page, "11-set-password-errors-ja")
    page.get_by_label("新しいパスワード", exact=True).fill("ながいながい合言葉ですよ")
    page.get_by_label("新しいパスワード（確認）").fill("ながいながい合言葉ですよ")
    page.get_by_role("button", name="パスワードを設定").click()
    expect(page.get_by_role("status")).to_contain_text("パスワードを設定し")
    page.get_by_role("link", name="自社プロフィール").first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NASTY)
    shot(page, "12-profile-escaped-ja")
    page.goto("/console/profiles/no-such-firm")
    expect(page.get_by_role("heading", level=1)).to_have_text("ページが見つかりません")
    shot(page, "13-not-found-ja")
