"""The audit log: every write through the API, the console and the CLI is recorded with
who, when, what and from where; refused attempts too; secrets in paths are redacted;
reads are not recorded; admins list and filter it, nobody can change it."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from service.accounts import passwords
from service.audit.service import record_cli
from service.cli import app as cli
from service.store import audit as audit_store
from service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from service.store.tables import AuditRow
from tests.support.app import Api
from tests.support.console import CHEAP_HASHER, Console, csrf_of
from tests.support.samples import SAMPLE


def _entries(api: Api, **params: object) -> list[dict[str, object]]:
    r = api.get("/v1/audit", params=params, headers=api.h("admin"))
    assert r.status_code == 200, r.text
    items: list[dict[str, object]] = r.json()["items"]
    return items


def test_api_writes_are_recorded_with_who_what_when_and_where(api: Api) -> None:
    before = dt.datetime.now(dt.UTC)
    r = api.put("/v1/profiles/jp-1", json=SAMPLE[0], headers=api.h("admin"))
    assert r.status_code in (200, 201)
    refused = api.put("/v1/profiles/it-1", json=SAMPLE[1], headers=api.h("member"))
    assert refused.status_code == 403
    api.post("/v1/search", json={"text": "gears"}, headers=api.h("admin"))  # a read
    api.get("/v1/profiles/jp-1", headers=api.h("admin"))  # a read

    items = _entries(api)
    # newest first: the refused write, then the write; no entry for the two reads
    assert [(i["method"], i["route"], i["status"]) for i in items] == [
        ("PUT", "/v1/profiles/{profile_id}", 403),
        ("PUT", "/v1/profiles/{profile_id}", r.status_code),
    ]
    done = items[1]
    assert done["target"] == {"profile_id": "jp-1"}
    assert done["path"] == "/v1/profiles/jp-1"
    assert done["role"] == "admin" and str(done["actor"]).startswith("key:")
    assert done["ip"] == "testclient"
    assert done["request_id"] == r.headers["x-request-id"]
    at = dt.datetime.fromisoformat(str(done["at"]))
    assert before - dt.timedelta(seconds=1) <= at <= dt.datetime.now(dt.UTC)
    assert items[0]["role"] == "member"

    # an unauthenticated attempt is recorded as anonymous
    assert api.delete("/v1/profiles/jp-1").status_code == 401
    assert _entries(api, limit=1)[0]["actor"] == "anonymous"


def test_admins_filter_and_page_and_nobody_changes_it(api: Api) -> None:
    for p in SAMPLE[:3]:
        api.put(f"/v1/profiles/{p['id']}", json=p, headers=api.h("admin"))
    api.put("/v1/profiles/jp-1", json=SAMPLE[0], headers=api.h("organizer"))
    api.delete("/v1/profiles/it-1", headers=api.h("member"))

    assert len(_entries(api, route="/v1/profiles")) == 5
    assert [i["status"] for i in _entries(api, status_min=400)] == [403]
    assert {i["role"] for i in _entries(api, method="PUT")} == {"admin", "organizer"}
    assert [i["target"] for i in _entries(api, path="it-1")] == [
        {"profile_id": "it-1"},
        {"profile_id": "it-1"},
    ]
    actor = _entries(api, method="DELETE")[0]["actor"]
    assert len(_entries(api, actor=actor)) == 1
    first = _entries(api, limit=2)
    page = api.get("/v1/audit", params={"limit": 2}, headers=api.h("admin")).json()
    rest = _entries(api, before=page["next_before"])
    every = [int(str(i["id"])) for i in _entries(api)]
    assert [int(str(i["id"])) for i in first + rest] == every == sorted(every, reverse=True)
    assert len(first) == 2 and len(every) == 5
    assert _entries(api, since="2999-01-01T00:00:00Z") == []

    for role in ("organizer", "member"):
        assert api.get("/v1/audit", headers=api.h(role)).status_code == 403
    for method in ("put", "patch", "delete", "post"):
        r = getattr(api, method)("/v1/audit", headers=api.h("admin"))
        assert r.status_code == 405, (method, r.status_code)
    bad = api.get("/v1/audit", params={"method": "GET"}, headers=api.h("admin"))
    assert bad.status_code == 422 and "method" in bad.text


def test_console_writes_name_the_user_and_secrets_in_paths_are_redacted(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(passwords, "HASHER", CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", None)
    console = Console(api)
    user = console.user("organizer")
    client = console.signed_in(user)
    page = client.get("/console")
    r = client.post("/console/sign-out-everywhere", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303
    entry = _entries(api, route="/console/sign-out-everywhere")[0]
    assert (entry["actor"], entry["role"], entry["status"]) == (f"user:{user.pk}", "organizer", 303)

    token = console.link(user)
    fresh = console.client()
    form = fresh.get(f"/console/set-password/{token}")
    fresh.post(
        f"/console/set-password/{token}",
        data={
            "password": "another long passphrase",
            "password_confirm": "another long passphrase",
            "csrf_token": csrf_of(form.text),
        },
    )
    entry = _entries(api, route="/console/set-password")[0]
    assert token not in str(entry) and entry["target"] == {"token": "[redacted]"}
    assert entry["path"] == "/console/set-password/[redacted]"


def test_cli_writes_are_recorded(tmp_path: Path) -> None:
    data = tmp_path / "data"
    runner = CliRunner()
    created = runner.invoke(cli, ["keys", "create", "--role", "organizer", "--data-dir", str(data)])
    assert created.exit_code == 0, created.output
    sessions = make_sessionmaker(make_engine(f"sqlite:///{data / 'clustermatch.db'}"))
    with sessions() as s:
        rows = audit_store.query(s, audit_store.AuditFilter(actor="cli"), limit=10)
        assert [(r.route, r.method, r.role) for r in rows] == [
            ("clustermatch keys create", "CLI", "admin")
        ]
        assert rows[0].detail is not None and rows[0].detail["role"] == "organizer"
        assert created.stdout.strip() not in str(rows[0].detail)  # never the secret


def test_the_store_keeps_entries_on_both_databases(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with transaction(sessions) as s:
        record_cli(s, "import", {"rows": 3})
        record_cli(s, "train", {"seed": 0})
    with sessions() as s:
        rows = audit_store.query(s, audit_store.AuditFilter(route="clustermatch i"), limit=10)
        assert [r.detail for r in rows] == [{"rows": 3}]
        assert s.query(AuditRow).count() == 2
    engine.dispose()
