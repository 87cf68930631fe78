"""Offices (tenancy, issue 21.9): a deployment shared by several cluster offices lets each
manage its own. Through the real app, on SQLite and PostgreSQL: an office's API keys and
console users share its events (schedules, outcomes, jobs) and write its profiles;
another office's organizer reads and invites those profiles but gets 403 writing them
(its import rows are row errors, in the API, an XLSX sheet, a connector list and the
console's preview) and 404 on the events; a profile of no office is the admins'; an
admin moves a profile, an event or a programme between offices; keys and users take an
office from the command line and the admin pages."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.encoders import HashingEncoder
from service import cli
from service.accounts import passwords
from service.accounts import service as accounts
from service.auth import DEFAULT_OFFICE, clean_office, create_key
from service.events import service as events
from service.store.db import transaction
from tests.support.app import Api, make_settings, start_api
from tests.support.console import CHEAP_HASHER, Console, csrf_of
from tests.support.organizer import text_of, xlsx_book
from tests.support.samples import SAMPLE

NORTH = "north"
EVENT = {
    "name": "多摩商談会",
    "slots": 2,
    "tables": 1,
    "participants": [{"id": "a", "profile_id": "jp-1"}, {"id": "b", "profile_id": "it-1"}],
}


@pytest.fixture(autouse=True)
def cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(passwords, "HASHER", CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", None)


@pytest.fixture
def api(tmp_path: Path, db_url: str) -> Iterator[Api]:
    for running in start_api(make_settings(tmp_path, db_url), HashingEncoder(dim=64)):
        for p in SAMPLE:
            r = running.put(f"/v1/profiles/{p['id']}", json=p, headers=running.h())
            assert r.status_code == 201, r.text
        yield running


def key(api: Api, role: str = "organizer", **options: Any) -> dict[str, str]:
    with transaction(api.app.state.sessions) as s:
        _, secret = create_key(s, role, **options)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {secret}"}


def jsonl(*rows: dict[str, Any]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def office_of(api: Api, profile_id: str) -> str | None:
    r = api.get(f"/v1/profiles/{profile_id}", headers=api.h())
    assert r.status_code == 200, r.text
    office: str | None = r.json()["office"]
    return office


def test_office_names() -> None:
    assert clean_office(None) == clean_office("  ") == DEFAULT_OFFICE
    assert clean_office(" Kansai-2.West_ ") == "kansai-2.west_"
    for bad in ("関西", "-x", "a b", "x" * 65, "a\nb"):
        with pytest.raises(ValueError, match="an office is"):
            clean_office(bad)


def test_a_key_and_a_console_user_of_one_office_share_its_events_profiles_and_jobs(
    api: Api,
) -> None:
    """Keys and users made without an office are all of the default one: a single-office
    deployment works as before offices, except that its organizers no longer shut each
    other out of their events."""
    org = api.h("organizer")
    colleague = key(api)  # another key of the same (default) office
    console = Console(api)
    user = console.user("organizer", name="事務局 花子")
    browser = console.signed_in(user)
    with transaction(api.app.state.sessions) as s:
        row = accounts.find_user(s, user.email)
        assert row is not None and row.office == DEFAULT_OFFICE
        by_user = events.create(s, accounts.principal_for_user(row), {**EVENT, "name": "Web 会"})
        by_user_id = by_user.id
    by_key = api.post("/v1/events", json=EVENT, headers=org).json()
    assert by_key["office"] == DEFAULT_OFFICE
    # the console user opens the key's event; the keys open the console user's
    assert "多摩商談会" in browser.get("/console/events").text
    assert browser.get(f"/console/events/{by_key['id']}/wishes").status_code == 200
    for headers in (org, colleague):
        assert api.get(f"/v1/events/{by_user_id}", headers=headers).status_code == 200
    listed = {e["id"] for e in api.get("/v1/events", headers=colleague).json()["items"]}
    assert listed == {by_key["id"], by_user_id}
    changed = {**EVENT, "name": "多摩商談会（改）"}
    assert api.put(f"/v1/events/{by_key['id']}", json=changed, headers=colleague).is_success
    # a profile one of them made, the others write
    made = {"id": "new-1", "name": "新規 株式会社", "kind": "firm", "country": "JP"}
    r = api.post("/v1/profiles", json=made, headers=org)
    assert r.status_code == 201 and r.json()["office"] == DEFAULT_OFFICE
    r = api.patch("/v1/profiles/new-1", json={"description": "歯車"}, headers=colleague)
    assert r.status_code == 200, r.text
    # a job one of them started, the others watch
    r = api.post(f"/v1/events/{by_key['id']}/schedule", headers=colleague)
    assert r.status_code == 202, r.text
    job = r.json()["id"]
    assert api.get(f"/v1/jobs/{job}", headers=org).status_code == 200
    assert api.get(f"/v1/jobs/{job}", headers=key(api, office=NORTH)).status_code == 404


def test_another_offices_organizer_gets_403_on_profiles_and_404_on_events(api: Api) -> None:
    org, north = api.h("organizer"), key(api, office=NORTH)
    e = api.post("/v1/events", json=EVENT, headers=org).json()["id"]
    program = api.post("/v1/programs", json={"name": "TAMA", "fiscal_year": 2026}, headers=org)
    pk = program.json()["id"]
    assert program.json()["office"] == DEFAULT_OFFICE
    # the other office's events: not found, as if they did not exist
    for method, path in [
        ("GET", f"/v1/events/{e}"),
        ("PUT", f"/v1/events/{e}"),
        ("DELETE", f"/v1/events/{e}"),
        ("POST", f"/v1/events/{e}/schedule"),
        ("GET", f"/v1/events/{e}/outcomes"),
        ("GET", f"/v1/events/{e}/exports/schedule.csv"),
        ("GET", f"/v1/programs/{pk}"),
    ]:
        body = EVENT if method == "PUT" else None
        r = api.request(method, path, json=body, headers=north)
        assert r.status_code == 404, (method, path, r.status_code)
    assert api.get("/v1/events", headers=north).json()["items"] == []
    assert api.get("/v1/programs", headers=north).json()["items"] == []
    r = api.get("/v1/reports", params={"fiscal_year": 2026, "event": e}, headers=north)
    assert r.status_code == 404
    # its profiles: read, matched, invited; never written
    profile = next(p for p in SAMPLE if p["id"] == "jp-1")
    writes: list[tuple[str, Any]] = [("PUT", profile), ("PATCH", {"description": "x"})]
    for method, payload in [*writes, ("DELETE", None)]:
        r = api.request(method, "/v1/profiles/jp-1", json=payload, headers=north)
        assert r.status_code == 403, (method, r.text)
        assert "belongs to the office 'default'" in r.json()["detail"]
    assert api.get("/v1/profiles/jp-1", headers=north).status_code == 200
    assert api.get("/v1/profiles/jp-1/matches", headers=north).status_code == 200
    cross = {**EVENT, "name": "北の広域商談会"}
    mine = api.post("/v1/events", json=cross, headers=north)
    assert mine.status_code == 201 and mine.json()["office"] == NORTH
    assert api.patch("/v1/profiles/jp-1", json={"name": "x"}, headers=north).status_code == 403
    assert api.get(f"/v1/events/{mine.json()['id']}", headers=org).status_code == 404
    # what it creates is its office's, and the first office's organizer may not write it
    made = {"id": "n-1", "name": "北 株式会社", "kind": "firm", "country": "JP"}
    assert api.put("/v1/profiles/n-1", json=made, headers=north).status_code == 201
    assert office_of(api, "n-1") == NORTH
    assert api.patch("/v1/profiles/n-1", json={"name": "y"}, headers=org).status_code == 403
    assert api.patch("/v1/profiles/n-1", json={"name": "y"}, headers=north).status_code == 200
    # an admin writes both
    assert api.patch("/v1/profiles/n-1", json={"name": "z"}, headers=api.h()).status_code == 200
    assert api.patch("/v1/profiles/jp-1", json={"name": "z"}, headers=api.h()).status_code == 200


def test_import_rows_of_other_offices_profiles_are_row_errors(api: Api) -> None:
    """JSONL, an XLSX sheet and the console's preview: the rows of another office's
    profiles are bad rows, with the office named; the others import, of the importer's
    office; nothing of the refused rows is written."""
    north = key(api, office=NORTH)
    before = api.get("/v1/profiles/jp-1", headers=api.h()).json()
    rows = [{**SAMPLE[0], "name": "北が上書き"}, {"id": "n-2", "name": "北 2", "kind": "firm"}]
    r = api.post("/v1/profiles/import", content=jsonl(*rows), headers=north)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {
            "row": 1,
            "field": "id",
            "reason": "belongs to the office 'default', not yours: its organizers or an admin "
            "change it",
        }
    ]
    r = api.post("/v1/profiles/import?allow_partial=true", content=jsonl(*rows), headers=north)
    report = r.json()["report"]
    assert (report["created"], report["updated"], report["rejected"]) == (1, 0, 1)
    assert office_of(api, "n-2") == NORTH
    assert api.get("/v1/profiles/jp-1", headers=api.h()).json() == before
    book = xlsx_book(
        [["id", "name", "kind"], ["jp-1", "北が上書き", "firm"], ["n-3", "北 3", "firm"]]
    )
    r = api.post("/v1/profiles/import?format=xlsx", content=book, headers=north)
    assert r.status_code == 422 and [e["row"] for e in r.json()["errors"]] == [2]
    # the console: the preview lists the row, with the reason in the page's language
    console = Console(api)
    browser = console.signed_in(console.user("organizer", office=NORTH))
    page = browser.get("/console/profiles/import")
    csv = "id,name,kind\njp-1,北が上書き,firm\nn-4,北 4,firm\n".encode()
    staged = browser.post(
        "/console/profiles/import",
        data={"csrf_token": csrf_of(page.text)},
        files={"file": ("north.csv", csv, "text/csv")},
    )
    preview_url = staged.headers["location"]
    preview = browser.get(preview_url)
    assert "事務局「default」のプロフィールです" in text_of(preview.text)
    data = {"csrf_token": csrf_of(preview.text), "action": "all", "expected_good": "1"}
    assert browser.post(preview_url, data=data).status_code == 400
    done = browser.post(preview_url, data={**data, "action": "partial"})
    assert done.status_code == 303 and "created=1" in done.headers["location"]
    assert office_of(api, "n-4") == NORTH
    assert api.get("/v1/profiles/jp-1", headers=api.h()).json() == before


def test_a_profile_of_no_office_is_written_by_admins_alone(api: Api) -> None:
    """The shared directory: an admin's choice. Organizers read and invite its profiles;
    only admins write them, and the member bound to one keeps its own up to date."""
    org, member = api.h("organizer"), key(api, "member", profile_id="jp-2")
    r = api.put("/v1/profiles/jp-2/office", json={"office": None}, headers=api.h())
    assert r.status_code == 200 and r.json()["office"] is None
    r = api.patch("/v1/profiles/jp-2", json={"description": "x"}, headers=org)
    assert r.status_code == 403 and "shared directory" in r.json()["detail"]
    r = api.post("/v1/profiles/import", content=jsonl(SAMPLE[4]), headers=org)
    assert r.json()["errors"][0]["reason"].startswith("is in the shared directory")
    invited = {**EVENT, "participants": [{"id": "z", "profile_id": "jp-2"}]}
    assert api.post("/v1/events", json=invited, headers=org).status_code == 201
    assert api.patch("/v1/profiles/jp-2", json={"description": "y"}, headers=member).is_success
    assert api.patch("/v1/profiles/jp-2", json={"description": "z"}, headers=api.h()).is_success
    assert office_of(api, "jp-2") is None  # a write keeps the office


def test_an_admin_moves_a_profile_an_event_and_a_programme(api: Api) -> None:
    org, north = api.h("organizer"), key(api, office=NORTH)
    e = api.post("/v1/events", json=EVENT, headers=org).json()["id"]
    pk = api.post("/v1/programs", json={"name": "TAMA", "fiscal_year": 2026}, headers=org).json()[
        "id"
    ]
    moves = [f"/v1/events/{e}/office", f"/v1/programs/{pk}/office", "/v1/profiles/jp-1/office"]
    for path in moves:
        for who in (org, north, api.h("member")):
            assert api.put(path, json={"office": NORTH}, headers=who).status_code == 403
    r = api.put(f"/v1/events/{e}/office", json={"office": NORTH}, headers=api.h())
    assert r.status_code == 200 and r.json()["office"] == NORTH
    assert api.get(f"/v1/events/{e}", headers=north).status_code == 200
    assert api.get(f"/v1/events/{e}", headers=org).status_code == 404
    r = api.put(f"/v1/programs/{pk}/office", json={"office": NORTH}, headers=api.h())
    assert r.status_code == 200 and r.json()["office"] == NORTH
    assert api.get(f"/v1/programs/{pk}", headers=north).status_code == 200
    assert api.get(f"/v1/programs/{pk}", headers=org).status_code == 404
    r = api.put("/v1/profiles/jp-1/office", json={"office": NORTH}, headers=api.h())
    assert r.status_code == 200 and r.json()["office"] == NORTH
    assert api.patch("/v1/profiles/jp-1", json={"name": "北"}, headers=north).status_code == 200
    assert api.patch("/v1/profiles/jp-1", json={"name": "南"}, headers=org).status_code == 403
    # bad moves, by field
    for path, body in [
        (f"/v1/events/{e}/office", {"office": "Bad Office"}),
        (f"/v1/events/{e}/office", {"office": None}),
        (f"/v1/programs/{pk}/office", {}),
        ("/v1/profiles/jp-1/office", {"office": "north", "owner": 1}),
        ("/v1/profiles/jp-1/office", {"office": "x" * 65}),
    ]:
        r = api.put(path, json=body, headers=api.h())
        assert r.status_code == 422, (path, body, r.text)
        fields = {err["field"] for err in r.json()["errors"]}
        assert fields <= {"office", "owner"} and fields, r.json()
    assert (
        api.put("/v1/events/nope/office", json={"office": "x"}, headers=api.h()).status_code == 404
    )
    r = api.put("/v1/profiles/nope/office", json={"office": "x"}, headers=api.h())
    assert r.status_code == 404


def test_keys_users_and_imports_take_an_office_on_the_command_line(tmp_path: Path) -> None:
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path)]
    r = runner.invoke(cli.app, ["keys", "create", "--role", "organizer", "--office", "Kansai", *d])
    assert r.exit_code == 0, r.output
    assert "(office kansai;" in r.stderr
    r = runner.invoke(cli.app, ["keys", "create", "--role", "organizer", *d])
    assert r.exit_code == 0, r.output
    listed = runner.invoke(cli.app, ["keys", "list", *d]).stdout.strip().splitlines()
    assert [line.split("\t")[2] for line in listed] == ["kansai", DEFAULT_OFFICE]
    r = runner.invoke(cli.app, ["keys", "create", "--role", "organizer", "--office", "関西", *d])
    assert r.exit_code != 0 and "an office is" in r.output
    data = tmp_path / "p.jsonl"
    data.write_bytes(jsonl(*SAMPLE[:2]))
    r = runner.invoke(cli.app, ["import", str(data), "--office", "kansai", "--json", *d])
    assert r.exit_code == 0, r.output
    from service.store import profiles
    from service.store.db import make_engine, make_sessionmaker

    engine = make_engine(f"sqlite:///{tmp_path / 'clustermatch.db'}")
    with make_sessionmaker(engine)() as s:
        assert profiles.offices_of(s, ["jp-1", "it-1"]) == {"jp-1": "kansai", "it-1": "kansai"}
    engine.dispose()


def test_the_admin_pages_issue_keys_and_invite_users_of_an_office(api: Api) -> None:
    console = Console(api)
    admin = console.signed_in(console.user("admin"))
    page = admin.get("/console/admin/keys")
    assert 'name="office"' in page.text and 'value="default"' in page.text
    form = {"csrf_token": csrf_of(page.text), "name": "関西の受付", "role": "organizer"}
    r = admin.post("/console/admin/keys", data={**form, "office": "関西"})
    assert r.status_code == 400 and "事務局名は64文字以内" in r.text
    r = admin.post("/console/admin/keys", data={**form, "office": "Kansai"})
    assert r.status_code == 200, r.text
    secret = re.search(r"cm_[0-9a-f]{8}_[A-Za-z0-9_-]{20,}", r.text)
    assert secret is not None
    made = {"Authorization": f"Bearer {secret.group(0)}"}
    e = api.post("/v1/events", json=EVENT, headers=made).json()
    assert e["office"] == "kansai"
    assert "<code>kansai</code>" in admin.get("/console/admin/keys").text
    # a user of that office shares the key's event; the change form moves it
    page = admin.get("/console/admin/users")
    form = {"csrf_token": csrf_of(page.text), "role": "organizer", "display_name": ""}
    r = admin.post("/console/admin/users", data={**form, "email": "k@ex.jp", "office": "x y"})
    assert r.status_code == 400 and "事務局名は64文字以内" in r.text
    r = admin.post("/console/admin/users", data={**form, "email": "k@ex.jp", "office": "kansai"})
    assert r.status_code == 200, r.text
    with transaction(api.app.state.sessions) as s:
        row = accounts.find_user(s, "k@ex.jp")
        assert row is not None and row.office == "kansai"
        pk = row.pk
        assert events.get(s, accounts.principal_for_user(row), e["id"]).id == e["id"]
    r = admin.post(
        f"/console/admin/users/{pk}/role",
        data={"csrf_token": form["csrf_token"], "role": "organizer", "office": "north"},
    )
    assert r.status_code == 303, r.text
    with transaction(api.app.state.sessions) as s:
        row = accounts.find_user(s, "k@ex.jp")
        assert row is not None and row.office == NORTH
    r = admin.post(
        f"/console/admin/users/{pk}/role",
        data={"csrf_token": form["csrf_token"], "role": "organizer", "office": ""},
    )
    assert r.status_code == 303  # blank: the office stays
    with transaction(api.app.state.sessions) as s:
        row = accounts.find_user(s, "k@ex.jp")
        assert row is not None and row.office == NORTH


def test_a_write_cannot_name_an_office(api: Api) -> None:
    """A profile's office is not a field of the profile: a write naming one is refused
    with the route that moves it, even the admin's."""
    body = {**SAMPLE[0], "office": NORTH}
    for method in ("PUT", "PATCH"):
        r = api.request(method, "/v1/profiles/jp-1", json=body, headers=api.h())
        assert r.status_code == 422
        assert r.json()["errors"] == [
            {
                "field": "office",
                "reason": "is not part of the profile: an admin moves a profile to an office "
                "with PUT /v1/profiles/{id}/office",
            }
        ]
    assert office_of(api, "jp-1") == DEFAULT_OFFICE
