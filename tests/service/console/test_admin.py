"""The admin pages through the real app (TestClient, SQLite): users (invite with a
one-time link that works, roles, disabling, new links), API keys (listed without
secrets, issued once, revoked after a confirmation), the ranker's status and retraining
with its progress; every route for every role; bad input and escaping."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.accounts import service as accounts
from service.store.db import transaction
from service.store.tables import ApiKeyRow
from tests.support.console import NASTY, PASSWORD, Console, User, csrf_of

RAW = "<script>alert(1)</script>"
LINK = re.compile(r"http://testserver/console/set-password/([A-Za-z0-9_-]{20,})")
SECRET = re.compile(r"cm_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}")


def admin_client(console: Console, name: str = "管理 一郎") -> tuple[User, TestClient]:
    user = console.user("admin", name=name)
    return user, console.signed_in(user)


def token(client: TestClient, path: str = "/console/admin/users") -> str:
    return csrf_of(client.get(path).text)


def invite(client: TestClient, **form: str) -> Any:
    data = {"email": "new@example.jp", "display_name": "", "role": "organizer", **form}
    return client.post("/console/admin/users", data={"csrf_token": token(client), **data})


def user_pk(console: Console, email: str) -> int:
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, email)
        assert row is not None
        return row.pk


# ---------------------------------------------------------------------------- users


def test_invite_shows_a_one_time_link_that_sets_the_password(console: Console) -> None:
    _, admin = admin_client(console)
    r = invite(admin, email="Hanako@Example.JP", display_name="交流 花子", role="organizer")
    assert r.status_code == 200
    assert (
        r.headers["referrer-policy"] == "no-referrer" and r.headers["cache-control"] == "no-store"
    )
    assert "hanako@example.jp を招待しました。" in r.text
    found = LINK.search(r.text)
    assert found, r.text
    link_token = found.group(1)
    listing = admin.get("/console/admin/users").text
    assert "hanako@example.jp" in listing and "招待中（パスワード未設定）" in listing
    assert link_token not in listing  # shown once
    # the link works: set a password through it, then sign in
    newcomer = console.client()
    page = newcomer.get(f"/console/set-password/{link_token}")
    assert page.status_code == 200 and "hanako@example.jp" in page.text
    r = newcomer.post(
        f"/console/set-password/{link_token}",
        data={
            "csrf_token": csrf_of(page.text),
            "display_name": "交流 花子",
            "password": PASSWORD,
            "password_confirm": PASSWORD,
        },
    )
    assert r.status_code == 303 and r.headers["location"] == "/console?welcome=1"
    again = console.client()
    assert console.sign_in(again, User("hanako@example.jp", PASSWORD, 0)).status_code == 303
    assert "ようこそ、交流 花子 さん" in again.get("/console").text
    assert console.client().get(f"/console/set-password/{link_token}").status_code == 410
    assert "有効" in admin.get("/console/admin/users").text


def test_a_member_is_invited_with_its_profile(console: Console) -> None:
    _, admin = admin_client(console)
    r = invite(admin, email="firm@example.jp", role="member", profile_id="jp-1")
    assert r.status_code == 200 and "<code>jp-1</code>" in r.text
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, "firm@example.jp")
        assert row is not None and row.role == "member" and row.profile_id == "jp-1"


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"email": "not-an-email"}, "email", "メールアドレスの形式が正しくありません。"),
        (
            {"email": "admin1@example.jp"},
            "email",
            "このメールアドレスのユーザーはすでに存在します。",
        ),
        ({"role": "owner"}, "role", "権限は管理者・主催者・会員企業のいずれかです。"),
        ({"role": "member"}, "profile_id", "会員企業のユーザーにはプロフィールの指定が必要です。"),
        (
            {"role": "member", "profile_id": "nope"},
            "profile_id",
            "そのIDのプロフィールはありません。",
        ),
        (
            {"profile_id": "jp-1"},
            "profile_id",
            "プロフィールを指定できるのは会員企業のユーザーだけです。",
        ),
        ({"display_name": "名" * 201}, "display_name", "長すぎます（200文字まで）。"),
    ],
)
def test_bad_invitations_name_the_field_and_keep_the_input(
    console: Console, form: dict[str, str], field: str, message: str
) -> None:
    _, admin = admin_client(console)  # admin1@example.jp
    r = invite(admin, **{"display_name": "残す名前", **form})
    assert r.status_code == 400
    assert message in r.text and f'href="#f-{field}"' in r.text
    assert f'id="f-{field}-error"' in r.text
    kept = form.get("display_name", "残す名前")[:200]
    assert kept in r.text
    assert LINK.search(r.text) is None
    with transaction(console.sessions) as s:
        assert len(accounts.list_users(s)) == 1  # only the admin


def test_change_role_applies_at_the_next_request(console: Console) -> None:
    _, admin = admin_client(console)
    staff = console.user("organizer", name="職員")
    staff_client = console.signed_in(staff)
    assert staff_client.get("/console/exchange/search").status_code == 200
    pk = user_pk(console, staff.email)
    r = admin.post(
        f"/console/admin/users/{pk}/role",
        data={"csrf_token": token(admin), "role": "member", "profile_id": ""},
    )
    assert r.status_code == 400
    assert "会員企業のユーザーにはプロフィールの指定が必要です。" in r.text
    assert f'href="#user-{pk}"' in r.text
    r = admin.post(
        f"/console/admin/users/{pk}/role",
        data={"csrf_token": token(admin), "role": "member", "profile_id": "jp-1"},
    )
    assert r.status_code == 303
    assert "の権限を変更しました。" in admin.get(r.headers["location"]).text
    assert staff_client.get("/console/exchange/search").status_code == 403
    assert "自社プロフィール" in staff_client.get("/console").text
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, staff.email)
        assert row is not None
        key = s.get(ApiKeyRow, row.principal_key)
        assert key is not None and (key.role, key.profile_id) == ("member", "jp-1")
        assert key.revoked_at is not None  # still never a usable key


def test_an_admin_cannot_lock_themself_out(console: Console) -> None:
    me, admin = admin_client(console)
    pk = user_pk(console, me.email)
    page = admin.get("/console/admin/users").text
    assert f'action="/console/admin/users/{pk}/role"' not in page  # not offered
    for path, data in (("role", {"role": "member", "profile_id": "jp-1"}), ("disable", {})):
        r = admin.post(
            f"/console/admin/users/{pk}/{path}", data={"csrf_token": token(admin), **data}
        )
        assert r.status_code == 400 and f'href="#user-{pk}"' in r.text
    assert "自分自身" in r.text
    assert admin.get("/console").status_code == 200  # still an admin, still signed in


def test_disable_ends_the_sessions_and_enable_lets_them_back(console: Console) -> None:
    _, admin = admin_client(console)
    staff = console.user("organizer")
    staff_client = console.signed_in(staff)
    pk = user_pk(console, staff.email)
    r = admin.post(f"/console/admin/users/{pk}/disable", data={"csrf_token": token(admin)})
    assert r.status_code == 303
    assert "サインイン中のセッションも終了しました" in admin.get(r.headers["location"]).text
    assert staff_client.get("/console").status_code == 303  # signed out
    assert console.sign_in(console.client(), staff).status_code == 403
    r = admin.post(f"/console/admin/users/{pk}/link", data={"csrf_token": token(admin)})
    assert r.status_code == 400 and "無効なユーザーにはリンクを発行できません" in r.text
    r = admin.post(f"/console/admin/users/{pk}/enable", data={"csrf_token": token(admin)})
    assert r.status_code == 303
    assert console.sign_in(console.client(), staff).status_code == 303


def test_a_new_link_replaces_the_earlier_one(console: Console) -> None:
    _, admin = admin_client(console)
    first = LINK.search(invite(admin).text)
    assert first
    pk = user_pk(console, "new@example.jp")
    r = admin.post(f"/console/admin/users/{pk}/link", data={"csrf_token": token(admin)})
    assert r.status_code == 200 and "以前のリンクは使えなくなりました" in r.text
    second = LINK.search(r.text)
    assert second and second.group(1) != first.group(1)
    assert console.client().get(f"/console/set-password/{first.group(1)}").status_code == 410
    assert console.client().get(f"/console/set-password/{second.group(1)}").status_code == 200


def test_what_admins_typed_is_escaped(console: Console) -> None:
    _, admin = admin_client(console, name=NASTY)
    r = invite(admin, display_name=NASTY)
    assert RAW not in r.text and "&lt;script&gt;" in r.text
    r = admin.post(
        "/console/admin/keys",
        data={"csrf_token": token(admin), "name": NASTY, "role": "organizer", "profile_id": ""},
    )
    assert r.status_code == 200 and RAW not in r.text and "&lt;script&gt;" in r.text
    for path in ("/console/admin/users", "/console/admin/keys", "/console/admin/ranker"):
        page = admin.get(path).text
        assert RAW not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page, path


# ---------------------------------------------------------------------------- API keys


def test_keys_are_listed_without_secrets_or_console_users(console: Console) -> None:
    _, admin = admin_client(console)
    console.user("organizer", email="hidden@example.jp")
    page = admin.get("/console/admin/keys").text
    assert "console: " not in page and "hidden@example.jp" not in page
    with transaction(console.sessions) as s:
        rows = s.query(ApiKeyRow).all()
        hashes = [k.key_hash for k in rows]
        api_keys = [k for k in rows if not k.name.startswith("console: ")]
    assert page.count('id="key-') == len(api_keys) == 3  # the test app's keys
    assert not any(h in page for h in hashes)
    assert not any(secret in page for secret in console.api.keys.values())


def test_a_key_is_shown_once_works_and_is_revoked_after_a_confirmation(
    console: Console,
) -> None:
    _, admin = admin_client(console)
    r = admin.post(
        "/console/admin/keys",
        data={"csrf_token": token(admin), "name": "受発注連携キー 2025", "role": "organizer"},
    )
    assert r.status_code == 200 and r.headers["referrer-policy"] == "no-referrer"
    found = SECRET.search(r.text)
    assert found
    secret = found.group(0)
    listing = admin.get("/console/admin/keys").text
    assert "受発注連携キー 2025" in listing and secret not in listing
    number = int(re.search(r"キー (\d+) を発行しました", r.text).group(1))  # type: ignore[union-attr]
    # (the key has not been used yet, so no process has it cached when it is revoked)
    confirm = admin.get(f"/console/admin/keys/{number}/revoke")
    assert confirm.status_code == 200 and "受発注連携キー 2025" in confirm.text
    with transaction(console.sessions) as s:
        row = s.get(ApiKeyRow, number)
        assert row is not None and row.revoked_at is None  # not by the GET
    r = admin.post(
        f"/console/admin/keys/{number}/revoke", data={"csrf_token": csrf_of(confirm.text)}
    )
    assert r.status_code == 303
    assert f"キー {number} を失効させました。" in admin.get(r.headers["location"]).text
    api = console.api.get("/v1/ranker", headers={"Authorization": f"Bearer {secret}"})
    assert api.status_code == 401
    assert (
        "このキーはすでに失効しています。" in admin.get(f"/console/admin/keys/{number}/revoke").text
    )


def test_an_issued_key_works_on_the_api(console: Console) -> None:
    _, admin = admin_client(console)
    r = admin.post(
        "/console/admin/keys",
        data={"csrf_token": token(admin), "name": "", "role": "member", "profile_id": "jp-1"},
    )
    found = SECRET.search(r.text)
    assert found
    headers = {"Authorization": f"Bearer {found.group(0)}"}
    assert console.api.get("/v1/profiles/jp-1", headers=headers).json()["contact"]
    assert console.api.get("/v1/ranker", headers=headers).status_code == 200


def test_a_console_users_key_number_cannot_be_revoked(console: Console) -> None:
    me, admin = admin_client(console)
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, me.email)
        assert row is not None
        number = row.principal_key
    assert admin.get(f"/console/admin/keys/{number}/revoke").status_code == 404
    r = admin.post(f"/console/admin/keys/{number}/revoke", data={"csrf_token": token(admin)})
    assert r.status_code == 404
    assert admin.get("/console/admin/keys/99999/revoke").status_code == 404
    assert admin.get("/console/admin/keys/abc/revoke").status_code == 404


@pytest.mark.parametrize(
    ("form", "field", "message"),
    [
        ({"role": "root"}, "role", "権限は管理者・主催者・会員企業のいずれかです。"),
        ({"role": "member"}, "profile_id", "会員企業のユーザーにはプロフィールの指定が必要です。"),
        (
            {"role": "member", "profile_id": "nope"},
            "profile_id",
            "そのIDのプロフィールはありません。",
        ),
        ({"name": "n" * 201}, "name", "名前は200文字以内で"),
    ],
)
def test_bad_keys_name_the_field(
    console: Console, form: dict[str, str], field: str, message: str
) -> None:
    _, admin = admin_client(console)
    data = {"name": "残す", "role": "organizer", "profile_id": "", **form}
    r = admin.post(
        "/console/admin/keys", data={"csrf_token": token(admin, "/console/admin/keys"), **data}
    )
    assert r.status_code == 400 and message in r.text and f'href="#f-{field}"' in r.text
    assert SECRET.search(r.text) is None
    assert data["name"][:200] in r.text


# ---------------------------------------------------------------------------- ranker


def test_ranker_status_and_a_retraining_with_progress(console: Console) -> None:
    _, admin = admin_client(console)
    page = admin.get("/console/admin/ranker")
    assert page.status_code == 200
    status = console.api.get("/v1/ranker", headers=console.api.h()).json()
    assert "既定の重み（学習なし）" in page.text and status["method"] == "hand"
    assert f"<dd>{status['interactions']}</dd>" in page.text
    for bad, field in (({"seed": "-1"}, "seed"), ({"max_queries": "5"}, "max_queries")):
        r = admin.post(
            "/console/admin/ranker/train",
            data={"csrf_token": csrf_of(page.text), "seed": "0", "max_queries": "100", **bad},
        )
        assert r.status_code == 400 and f'id="f-{field}-error"' in r.text
        assert f'value="{bad[field]}"' in r.text  # kept
    r = admin.post(
        "/console/admin/ranker/train",
        data={"csrf_token": csrf_of(page.text), "seed": "3", "max_queries": "100"},
    )
    assert r.status_code == 303
    location = r.headers["location"]
    job_id = location.rsplit("/", 1)[1]
    job = admin.get(location)
    assert job.status_code == 200 and "<progress" in job.text
    deadline = time.monotonic() + 60
    while True:
        fragment = admin.get(f"{location}/progress")
        assert fragment.status_code == 200 and "<html" not in fragment.text
        if 'data-status="succeeded"' in fragment.text or 'data-status="failed"' in fragment.text:
            break
        assert 'hx-trigger="every 1s"' in fragment.text  # polling while it runs
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert 'data-status="succeeded"' in fragment.text
    assert "hx-trigger" not in fragment.text  # the polling stops
    assert "結果" in fragment.text and 'value="100"' in fragment.text
    api_job = console.api.get(f"/v1/jobs/{job_id}", headers=console.api.h()).json()
    assert api_job["kind"] == "train" and api_job["report"]["seed"] == 3
    assert f"<dd>{api_job['report']['queries']}</dd>" in fragment.text


def test_only_training_jobs_show_on_the_ranker_pages(console: Console) -> None:
    _, admin = admin_client(console)
    assert admin.get("/console/admin/ranker/jobs/no-such-job").status_code == 404
    assert admin.get("/console/admin/ranker/jobs/no-such-job/progress").status_code == 404
    assert admin.get("/console/admin/ranker/jobs/" + "x" * 300).status_code == 404


# ---------------------------------------------------------------------------- who may


def _routes(user: int, key: int, job: str) -> list[tuple[str, str, dict[str, str]]]:
    return [
        ("GET", "/console/admin/users", {}),
        ("GET", "/console/admin/keys", {}),
        ("GET", "/console/admin/ranker", {}),
        ("GET", f"/console/admin/keys/{key}/revoke", {}),
        ("GET", f"/console/admin/ranker/jobs/{job}", {}),
        ("GET", f"/console/admin/ranker/jobs/{job}/progress", {}),
        ("POST", "/console/admin/users", {"email": "x@example.jp", "role": "organizer"}),
        ("POST", f"/console/admin/users/{user}/role", {"role": "admin"}),
        ("POST", f"/console/admin/users/{user}/link", {}),
        ("POST", f"/console/admin/users/{user}/disable", {}),
        ("POST", f"/console/admin/users/{user}/enable", {}),
        ("POST", "/console/admin/keys", {"name": "k", "role": "organizer"}),
        ("POST", f"/console/admin/keys/{key}/revoke", {}),
        ("POST", "/console/admin/ranker/train", {"seed": "0", "max_queries": "10"}),
    ]


EXPECTED = {
    "admin": [200] * 6 + [200, 303, 200, 303, 303, 200, 303, 303],
    "organizer": [403] * 14,
    "member": [403] * 14,
    "signed_out": [303] * 6 + [403] * 8,
}


@pytest.mark.parametrize("who", list(EXPECTED))
def test_every_admin_route_for_every_role(console: Console, who: str) -> None:
    _, admin = admin_client(console)
    target = console.user("organizer", name="対象")
    target_pk = user_pk(console, target.email)
    with transaction(console.sessions) as s:
        key = s.query(ApiKeyRow).filter(ApiKeyRow.role == "organizer").first()
        assert key is not None and not key.name.startswith("console: ")
        key_pk = key.pk
    r = admin.post(
        "/console/admin/ranker/train",
        data={"csrf_token": token(admin), "seed": "0", "max_queries": "10"},
    )
    job = r.headers["location"].rsplit("/", 1)[1]
    client = {
        "admin": lambda: admin,
        "organizer": lambda: console.signed_in(console.user("organizer")),
        "member": lambda: console.signed_in(console.user("member", profile_id="jp-1")),
        "signed_out": lambda: console.client(),
    }[who]()
    home = client.get("/console")
    csrf = csrf_of(home.text) if home.status_code == 200 else "none"
    statuses = []
    for method, path, data in _routes(target_pk, key_pk, job):
        if method == "GET":
            r = client.get(path)
        else:
            r = client.post(path, data={"csrf_token": csrf, **data})
        statuses.append(r.status_code)
        if who != "admin":
            assert "対象" not in r.text
            assert LINK.search(r.text) is None and SECRET.search(r.text) is None
    assert statuses == EXPECTED[who], who
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, target.email)
        assert row is not None
        key_row = s.get(ApiKeyRow, key_pk)
        assert key_row is not None
        if who == "admin":
            assert row.role == "admin" and key_row.revoked_at is not None
        else:
            assert row.role == "organizer" and row.disabled_at is None
            assert key_row.revoked_at is None
            assert accounts.find_user(s, "x@example.jp") is None
    if who != "admin":  # the nav shows admins' pages to admins only
        assert 'href="/console/admin/users"' not in home.text
    else:
        assert all(f'href="/console/admin/{p}"' in home.text for p in ("users", "keys", "ranker"))
