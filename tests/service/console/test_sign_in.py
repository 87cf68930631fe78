"""Sign-in, cookies, CSRF, throttling, set-password links, sign-out and disabled users,
through the real app (TestClient, SQLite)."""

from __future__ import annotations

import datetime as dt
import re
from http.cookies import SimpleCookie

from service.accounts import service as accounts
from service.store.db import transaction
from service.store.tables import PasswordTokenRow
from tests.support.console import PASSWORD, Console, csrf_of


def _cookie_attrs(set_cookie: str, name: str) -> dict[str, str]:
    for header in set_cookie.split("\n"):
        jar: SimpleCookie = SimpleCookie()
        jar.load(header)
        if name in jar:
            m = jar[name]
            return {k: str(v) for k, v in m.items() if v} | {"value": m.value}
    raise AssertionError(f"no {name} cookie in {set_cookie!r}")


def _set_cookies(response: object) -> str:
    return "\n".join(response.headers.get_list("set-cookie"))  # type: ignore[attr-defined]


def test_sign_in_sets_a_strict_session_cookie_and_shows_home(console: Console) -> None:
    user = console.user("organizer", name="事務局 花子")
    client = console.client()
    assert client.get("/console").headers["location"] == "/console/sign-in"
    r = console.sign_in(client, user)
    assert r.status_code == 303 and r.headers["location"] == "/console"
    attrs = _cookie_attrs(_set_cookies(r), "cm_session")
    assert attrs["httponly"] and attrs["samesite"].lower() == "lax" and attrs["path"] == "/"
    assert "secure" not in attrs and "max-age" not in attrs
    home = client.get("/console")
    assert home.status_code == 200 and "事務局 花子" in home.text and "主催者" in home.text
    for header in ("content-security-policy", "x-content-type-options", "x-frame-options"):
        assert header in home.headers
    assert home.headers["cache-control"] == "no-store"


def test_cookies_are_secure_over_https(console: Console) -> None:
    user = console.user()
    client = console.client(https=True)
    page = client.get("/console/sign-in")
    assert _cookie_attrs(_set_cookies(page), "cm_presession")["secure"]
    r = console.sign_in(client, user)
    assert r.status_code == 303
    assert _cookie_attrs(_set_cookies(r), "cm_session")["secure"]


def test_forwarded_proto_counts_only_when_trusted(console: Console) -> None:
    client = console.client(headers={"X-Forwarded-Proto": "https"})
    page = client.get("/console/sign-in")
    assert "secure" not in _cookie_attrs(_set_cookies(page), "cm_presession")
    console.app.state.settings.trust_forwarded_proto = True
    try:
        page = console.client(headers={"X-Forwarded-Proto": "https"}).get("/console/sign-in")
        assert _cookie_attrs(_set_cookies(page), "cm_presession")["secure"]
    finally:
        console.app.state.settings.trust_forwarded_proto = False


def test_wrong_password_keeps_the_email_and_says_why(console: Console) -> None:
    user = console.user()
    client = console.client()
    r = console.sign_in(client, user, password="wrong password here")
    assert r.status_code == 400
    assert "メールアドレスまたはパスワードが正しくありません" in r.text
    assert f'value="{user.email}"' in r.text and "wrong password here" not in r.text
    r = console.sign_in(console.client(), user, password=PASSWORD + "x")
    assert r.status_code == 400 and "cm_session" not in _set_cookies(r)


def test_five_failures_then_429_with_retry_after(console: Console) -> None:
    user = console.user()
    client = console.client(headers={"Accept-Language": "en"})
    for _ in range(5):
        assert console.sign_in(client, user, password="nope nope nope").status_code == 400
    r = console.sign_in(client, user)  # even the right password
    assert r.status_code == 429
    assert 800 < int(r.headers["retry-after"]) <= 900
    assert "Too many failed sign-ins" in r.text and "15 minutes" in r.text
    assert "cm_session" not in _set_cookies(r)


def test_forms_without_a_valid_csrf_token_are_refused(console: Console) -> None:
    user = console.user()
    client = console.client()
    page = client.get("/console/sign-in")
    form = {"email": user.email, "password": PASSWORD}
    for data in (form, {**form, "csrf_token": "0" * 64}, {**form, "csrf_token": "x" * 5000}):
        r = client.post("/console/sign-in", data=data)
        assert r.status_code == 403 and r.headers["content-type"].startswith("text/html")
        assert "フォームの有効期限が切れました" in r.text
    # A token without its cookie (a forged cross-site form) is refused as well.
    r = console.client().post("/console/sign-in", data={**form, "csrf_token": csrf_of(page.text)})
    assert r.status_code == 403

    signed_in = console.signed_in(user)
    for data in ({}, {"csrf_token": csrf_of(page.text) + "0"}):
        assert signed_in.post("/console/sign-out", data=data).status_code == 403
    assert signed_in.get("/console").status_code == 200  # still signed in
    token = csrf_of(signed_in.get("/console").text)
    assert signed_in.post("/console/sign-out", headers={"X-CSRF-Token": token}).status_code == 303
    assert signed_in.get("/console").status_code == 303


def test_sign_out_ends_the_session_wherever_its_cookie_is(console: Console) -> None:
    user = console.user()
    browser = console.signed_in(user)
    other = console.signed_in(user)
    stolen = browser.cookies.get("cm_session")
    assert stolen
    r = browser.post(
        "/console/sign-out", data={"csrf_token": csrf_of(browser.get("/console").text)}
    )
    assert r.status_code == 303 and r.headers["location"] == "/console/sign-in?signed_out=1"
    assert 'cm_session=""' in _set_cookies(r) or "Max-Age=0" in _set_cookies(r)
    replay = console.client()
    replay.cookies.set("cm_session", stolen)
    assert replay.get("/console").headers["location"] == "/console/sign-in"
    assert other.get("/console").status_code == 200  # the other device stays signed in


def test_sign_out_everywhere(console: Console) -> None:
    user = console.user()
    a, b = console.signed_in(user), console.signed_in(user)
    r = a.post("/console/sign-out-everywhere", data={"csrf_token": csrf_of(a.get("/console").text)})
    assert r.headers["location"] == "/console/sign-in?signed_out=all"
    assert a.get("/console").status_code == 303 and b.get("/console").status_code == 303
    page = console.client().get("/console/sign-in?signed_out=all")
    assert "すべての端末でサインアウトしました" in page.text


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(console: Console) -> None:
    user = console.user()
    live = console.signed_in(user)
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, user.email)
        assert row is not None
        accounts.set_disabled(s, row, True)
    assert live.get("/console").headers["location"] == "/console/sign-in"
    r = console.sign_in(console.client(), user)
    assert r.status_code == 403 and "無効" in r.text


def test_set_password_link_works_once_and_keeps_input_on_errors(console: Console) -> None:
    user = console.user("organizer", password=None, name="山田")
    token = console.link(user)
    client = console.client(headers={"Accept-Language": "en"})
    page = client.get(f"/console/set-password/{token}")
    assert page.status_code == 200 and page.headers["referrer-policy"] == "no-referrer"
    assert user.email in page.text and 'value="山田"' in page.text
    csrf = csrf_of(page.text)

    r = client.post(
        f"/console/set-password/{token}",
        data={
            "display_name": "山田 太郎",
            "password": "short",
            "password_confirm": "different",
            "csrf_token": csrf,
        },
    )
    assert r.status_code == 400
    field = re.search(
        r'<div class="field has-error">\s*<label for="f-password">.*?</div>', r.text, re.S
    )
    assert field and "Use at least 12 characters." in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    assert "The two passwords differ." in r.text
    assert 'value="山田 太郎"' in r.text and "short" not in r.text and "different" not in r.text

    good = {"display_name": "山田 太郎", "password": PASSWORD, "password_confirm": PASSWORD}
    r = client.post(f"/console/set-password/{token}", data={**good, "csrf_token": csrf})
    assert r.status_code == 303 and r.headers["location"] == "/console?welcome=1"
    home = client.get("/console?welcome=1")
    assert "Your password is set" in home.text and "山田 太郎" in home.text

    again = console.client()
    page = again.get(f"/console/set-password/{token}")
    assert page.status_code == 410 and "このリンクは使えません" in page.text
    r = again.post(f"/console/set-password/{token}", data={**good, "csrf_token": csrf})
    assert r.status_code in (403, 410)  # no pre-session cookie here, or the used link


def test_an_expired_or_unknown_link_is_a_page_not_an_error(console: Console) -> None:
    user = console.user(password=None)
    token = console.link(user)
    with transaction(console.sessions) as s:
        for row in s.query(PasswordTokenRow):
            row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
    client = console.client()
    for path in (token, "nope", "x" * 500, "%00%2F..", "..%2F..%2Fetc"):
        r = client.get(f"/console/set-password/{path}")
        assert r.status_code in (404, 410), (path, r.status_code)
        assert r.headers["content-type"].startswith("text/html")


def test_sign_in_returns_to_the_page_asked_for_and_only_inside_the_console(
    console: Console,
) -> None:
    user = console.user()
    client = console.client()
    r = client.get("/console/profiles/jp-1?x=1")
    assert r.status_code == 303
    assert r.headers["location"] == "/console/sign-in?next=%2Fconsole%2Fprofiles%2Fjp-1%3Fx%3D1"
    page = client.get(r.headers["location"])
    assert 'name="next" value="/console/profiles/jp-1?x=1"' in page.text
    r = client.post(
        "/console/sign-in",
        data={
            "email": user.email,
            "password": PASSWORD,
            "next": "/console/profiles/jp-1?x=1",
            "csrf_token": csrf_of(page.text),
        },
    )
    assert r.headers["location"] == "/console/profiles/jp-1?x=1"
    for evil in ("https://evil.example", "//evil.example", "/console//evil", "/\\evil"):
        c = console.client()
        page = c.get("/console/sign-in", params={"next": evil})
        r = c.post(
            "/console/sign-in",
            data={
                "email": user.email,
                "password": PASSWORD,
                "next": evil,
                "csrf_token": csrf_of(page.text),
            },
        )
        assert r.headers["location"] == "/console", evil


def test_odd_requests_never_give_a_500(console: Console) -> None:
    client = console.client()
    page = client.get("/console/sign-in?next=" + "%FF" * 3000)
    assert page.status_code == 200
    csrf = csrf_of(page.text)
    odd = [
        {"data": {"email": "x" * 100_000, "password": "y" * 100_000, "csrf_token": csrf}},
        {
            "content": b"email=%00%ED%B2%80%FF&password=&csrf_token=" + csrf.encode(),
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        {"json": {"email": "a"}},
        {"content": b"\xff\xfe garbage", "headers": {"content-type": "multipart/form-data"}},
        {"files": {"email": ("a.txt", b"x")}, "data": {"csrf_token": csrf}},
    ]
    for kwargs in odd:
        r = client.post("/console/sign-in", **kwargs)  # type: ignore[arg-type]
        assert r.status_code < 500 and r.headers["content-type"].startswith("text/html"), kwargs
