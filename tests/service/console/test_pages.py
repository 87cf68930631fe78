"""Console pages: language, escaping, the profile page's contact rule (the API's),
error pages in the console's style, roles."""

from __future__ import annotations

import html
from typing import Annotated

import pytest
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from service.console.deps import Viewer, require_role
from service.console.pages import ConsoleRoute
from tests.support.console import NASTY, Console, csrf_of

ESCAPED = html.escape(NASTY, quote=True)  # &lt;script&gt;...&#x27;&amp;
RAW = "<script>alert(1)</script>"


def _escaped_in(page: str) -> bool:
    # Jinja writes &#34; and &#39; for the quotes; html.escape writes &quot; and &#x27;
    return (
        html.escape(NASTY, quote=False) in page
        or ESCAPED in page
        or ("&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;" in page)
    )


@pytest.mark.parametrize(
    ("accept", "lang", "phrase"),
    [
        ("ja,en;q=0.8", "ja", "サインイン"),
        ("ja-JP", "ja", "メールアドレス"),
        ("en-US,en;q=0.9,ja;q=0.5", "en", "Email address"),
        ("fr-FR,fr;q=0.9", "en", "Sign in"),
        ("en;q=0.2,ja;q=0.9", "ja", "パスワード"),
        ("", "ja", "サインイン"),
    ],
)
def test_language_follows_accept_language(
    console: Console, accept: str, lang: str, phrase: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    page = console.client(headers=headers).get("/console/sign-in")
    assert f'<html lang="{lang}">' in page.text and phrase in page.text


def test_language_switch_is_remembered(console: Console) -> None:
    user = console.user(name="佐藤")
    client = console.signed_in(user, headers={"Accept-Language": "ja"})
    assert "ようこそ、佐藤 さん" in client.get("/console").text
    r = client.get("/console?lang=en")
    assert '<html lang="en">' in r.text and "Welcome, 佐藤" in r.text
    assert "cm_lang=en" in r.headers["set-cookie"]
    again = client.get("/console/profiles/jp-1")  # no ?lang=: the cookie decides
    assert '<html lang="en">' in again.text and "Offers" in again.text
    assert 'href="/console/profiles/jp-1?lang=ja"' in again.text
    back = client.get("/console/profiles/jp-1?lang=ja")
    assert '<html lang="ja">' in back.text and "提供できること" in back.text
    assert client.get("/console?lang=xx").text.startswith("<!doctype html>")


def test_what_users_typed_is_escaped_everywhere_it_shows(console: Console) -> None:
    user = console.user("member", profile_id="nasty-1", name=NASTY)
    client = console.signed_in(user)
    for path in ("/console", "/console/profiles/nasty-1", "/console/nope"):
        page = client.get(path).text
        assert RAW not in page, path
        assert _escaped_in(page), path
    profile = client.get("/console/profiles/nasty-1").text
    assert profile.count("&lt;script&gt;") >= 3  # title, heading, description, header name
    japanese = client.get("/console/profiles/jp-1").text
    assert "株式会社精密歯車" in japanese and "精密歯車とベアリングの製造" in japanese


def test_set_password_page_escapes_the_display_name(console: Console) -> None:
    user = console.user(password=None, name=NASTY)
    page = console.client().get(f"/console/set-password/{console.link(user)}")
    assert RAW not in page.text and _escaped_in(page.text)


@pytest.mark.parametrize(
    ("role", "profile_id", "api_role", "sees"),
    [
        ("admin", None, "admin", True),
        ("organizer", None, "organizer", False),
        ("member", "jp-1", "member", True),  # the owner
        ("member", "it-1", None, False),  # another member
    ],
)
def test_contact_shows_exactly_where_the_api_shows_it(
    console: Console, role: str, profile_id: str | None, api_role: str | None, sees: bool
) -> None:
    user = console.user(role, profile_id=profile_id)
    page = console.signed_in(user).get("/console/profiles/jp-1")
    assert page.status_code == 200
    assert ("sales@gear.example.jp" in page.text) is sees
    assert ("連絡先は管理者と当該会員企業にのみ表示されます" in page.text) is not sees
    if api_role:  # the API with a key of the same role says the same
        api = console.api.get("/v1/profiles/jp-1", headers=console.api.h(api_role)).json()
        assert ("contact" in api) is sees


def test_profile_page_shows_every_field(console: Console) -> None:
    page = console.signed_in(console.user("admin")).get("/console/profiles/jp-1").text
    for text in (
        "Seimitsu Gear",
        "precision gears",
        "distributor in Europe",
        "automotive",
        "TAMA",
        'href="https://gear.example.jp"',
        "企業",
    ):
        assert text in page, text
    branch = console.signed_in(console.user("admin")).get("/console/profiles/jp-2").text
    assert 'href="https://www.gear.example.jp/branch"' in branch


def test_console_errors_are_pages_in_its_style(console: Console) -> None:
    client = console.signed_in(console.user(), headers={"Accept-Language": "en"})
    for path in (
        "/console/profiles/nope",
        "/console/profiles/" + "x" * 400,
        "/console/profiles/..%2F..%2Fetc",
        "/console/profiles/%00",
        "/console/nothing/here",
    ):
        r = client.get(path)
        assert r.status_code == 404, path
        assert r.headers["content-type"].startswith("text/html")
        assert "Page not found" in r.text and '<html lang="en">' in r.text
    assert client.get("/console/").headers["location"] == "/console"
    assert client.get("/console/static/console.css").status_code == 200
    r = client.post("/console/nothing", data={"csrf_token": csrf_of(client.get("/console").text)})
    assert r.status_code == 404
    assert client.get("/console/sign-out").status_code == 404  # POST only


def test_require_role_uses_the_api_rule(console: Console) -> None:
    # A throwaway page for organizers, mounted outside /console's catch-all.
    extra = APIRouter(prefix="/console-test", route_class=ConsoleRoute)

    @extra.get("/organizers", response_class=HTMLResponse)
    def organizers_only(
        request: Request, viewer: Annotated[Viewer, require_role("admin", "organizer")]
    ) -> str:
        return f"<p>hello {viewer.role}</p>"

    console.app.include_router(extra)
    member = console.signed_in(console.user("member", profile_id="jp-1"))
    r = member.get("/console-test/organizers")
    assert r.status_code == 403 and "アクセスできません" in r.text
    assert r.headers["content-type"].startswith("text/html")
    organizer = console.signed_in(console.user("organizer"))
    assert organizer.get("/console-test/organizers").text == "<p>hello organizer</p>"
    assert console.client().get("/console-test/organizers").status_code == 303


def test_the_api_is_unchanged_by_the_console(console: Console) -> None:
    r = console.api.get("/v1/profiles/nope", headers=console.api.h())
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    assert "/console" not in str(console.api.get("/openapi.json").json()["paths"])
