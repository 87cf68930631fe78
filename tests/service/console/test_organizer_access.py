"""Every organizer route for every role: the owner organizer and admins may, another
organizer gets the 404 page for an event that is not theirs (as the API answers 404),
members get the 403 page, the signed-out are sent to sign in; and nothing changes for
those refused."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.console import Console, csrf_of
from tests.support.organizer import create_event

EVENT_GETS = [
    "/console/events/{eid}",
    "/console/events/{eid}/edit",
    "/console/events/{eid}/participants",
    "/console/events/{eid}/participants?q=a",
    "/console/events/{eid}/participants/jp-1/edit",
    "/console/events/{eid}/suggestions",
    "/console/events/{eid}/wishes",
]
EVENT_POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/console/events/{eid}/edit", {"name": "taken over"}),
    ("/console/events/{eid}/participants/add", {"profile_ids": ["it-1"], "group": "supplier"}),
    ("/console/events/{eid}/participants/upload", {}),
    (
        "/console/events/{eid}/participants/jp-1/edit",
        {"group": "buyer", "min": "0", "available": ["0"]},
    ),
    ("/console/events/{eid}/participants/jp-1/remove", {}),
    ("/console/events/{eid}/suggestions/generate", {"per_participant": "2"}),
    ("/console/events/{eid}/suggestions/decide", {"a": "jp-1", "b": "it-1", "decision": "must"}),
    ("/console/events/{eid}/suggestions/pin", {"a": "jp-1", "b": "it-1", "on": "1"}),
    ("/console/events/{eid}/wishes/add", {"source": "jp-1", "target": "it-1", "level": "no"}),
    ("/console/events/{eid}/wishes/remove", {"source": "jp-1", "target": "it-1", "level": "want"}),
    ("/console/events/{eid}/overrides/remove", {"a": "jp-1", "b": "it-1"}),
    ("/console/events/{eid}/delete", {"confirm": "{eid}"}),  # last
]
GENERAL_GETS = [
    "/console/profiles",
    "/console/profiles/import",
    "/console/events",
    "/console/events/new",
]
GENERAL_POSTS: list[tuple[str, dict[str, Any]]] = [
    ("/console/events/new", {"name": "x"}),
    ("/console/profiles/import", {}),
    ("/console/profiles/import/{token}", {"action": "all"}),
]
ROLES = ["owner", "other", "admin", "member", "signed_out"]


@pytest.fixture
def world(console: Console) -> dict[str, Any]:
    owner = console.signed_in(console.user("organizer", name="持ち主"))
    eid = create_event(owner, name="秘密の商談会")
    page = owner.get(f"/console/events/{eid}/participants?q=")
    owner.post(
        f"/console/events/{eid}/participants/add",
        data={"csrf_token": csrf_of(page.text), "profile_ids": ["jp-1"], "group": "buyer"},
    )
    page = owner.get(f"/console/events/{eid}/participants?q=")
    owner.post(
        f"/console/events/{eid}/participants/add",
        data={"csrf_token": csrf_of(page.text), "profile_ids": ["it-1"], "group": "supplier"},
    )
    page = owner.get(f"/console/events/{eid}/wishes")
    owner.post(
        f"/console/events/{eid}/wishes/add",
        data={"csrf_token": csrf_of(page.text), "source": "jp-1", "target": "it-1",
              "level": "want", "priority": "3"},
    )  # fmt: skip
    upload = owner.get("/console/profiles/import")
    staged = owner.post(
        "/console/profiles/import",
        data={"csrf_token": csrf_of(upload.text)},
        files={"file": ("a.csv", b"id,name,kind\nacc-1,Access,firm\n", "text/csv")},
    )
    token = staged.headers["location"].rsplit("/", 1)[1]
    clients = {
        "owner": owner,
        "other": console.signed_in(console.user("organizer", name="よその主催者", office="north")),
        "admin": console.signed_in(console.user("admin")),
        "member": console.signed_in(console.user("member", profile_id="jp-1")),
        "signed_out": console.client(),
    }
    return {"eid": eid, "token": token, "clients": clients, "console": console}


def _token(client: Any) -> str:
    page = client.get("/console/sign-in")
    if page.status_code == 303:  # signed in
        page = client.get("/console")
    return csrf_of(page.text)


def _doc(console: Console, eid: str) -> Any:
    return console.api.get(f"/v1/events/{eid}", headers=console.api.h()).json()


@pytest.mark.parametrize("role", ROLES)
def test_event_pages_by_role(world: dict[str, Any], role: str) -> None:
    client, eid, console = world["clients"][role], world["eid"], world["console"]
    before = _doc(console, eid)
    for template in EVENT_GETS:
        path = template.format(eid=eid)
        r = client.get(path)
        expected = {"owner": 200, "admin": 200, "other": 404, "member": 403, "signed_out": 303}
        assert r.status_code == expected[role], (role, path, r.status_code)
        if role == "signed_out":
            assert r.headers["location"].startswith("/console/sign-in?next=")
        elif role in ("other", "member"):
            assert "秘密の商談会" not in r.text and "株式会社精密歯車" not in r.text
            assert r.text.startswith("<!doctype html>")  # the console's page, not JSON
    token = _token(client)
    for template, data in EVENT_POSTS:
        path = template.format(eid=eid)
        body = {k: (v.format(eid=eid) if isinstance(v, str) else v) for k, v in data.items()}
        r = client.post(path, data={**body, "csrf_token": token})
        if role in ("owner", "admin"):
            assert r.status_code not in (403, 404, 500), (role, path, r.status_code)
        else:
            # (a signed-out post is refused before its body is read: README, Console)
            expected = {"other": 404, "member": 403, "signed_out": 403}
            assert r.status_code == expected[role], (role, path, r.status_code)
    if role in ("owner", "admin"):
        assert client.get(f"/console/events/{eid}").status_code == 404  # deleted, last
    else:
        assert _doc(console, eid) == before  # nothing changed


@pytest.mark.parametrize("role", ROLES)
def test_general_pages_by_role(world: dict[str, Any], role: str) -> None:
    client = world["clients"][role]
    for path in GENERAL_GETS:
        r = client.get(path)
        expected = {"owner": 200, "admin": 200, "other": 200, "member": 403, "signed_out": 303}
        assert r.status_code == expected[role], (role, path, r.status_code)
    token = _token(client)
    for template, data in GENERAL_POSTS:
        path = template.format(token=world["token"])
        r = client.post(path, data={**data, "csrf_token": token})
        if role in ("member", "signed_out"):  # (signed out: refused before the body is read)
            assert r.status_code == 403, (path, r.status_code)
        elif "{token}" in template and role != "owner":
            assert r.status_code == 410  # the staged file is the owner's session's alone
        else:
            assert r.status_code in (303, 400), (role, path, r.status_code)


def test_events_list_shows_only_ones_offices_admins_all(world: dict[str, Any]) -> None:
    """The owner's office: another organizer of it lists and opens the event too (an
    office's staff share its events); another office's does not."""
    clients, console = world["clients"], world["console"]
    colleague = console.signed_in(console.user("organizer", name="同じ事務局"))
    assert "秘密の商談会" in clients["owner"].get("/console/events").text
    assert "秘密の商談会" in clients["admin"].get("/console/events").text
    assert "秘密の商談会" in colleague.get("/console/events").text
    assert colleague.get(f"/console/events/{world['eid']}/wishes").status_code == 200
    assert "秘密の商談会" not in clients["other"].get("/console/events").text


def test_nav_links_for_organizers_and_admins_only(world: dict[str, Any]) -> None:
    clients = world["clients"]
    for role in ("owner", "admin"):
        home = clients[role].get("/console").text
        for href in ("/console/profiles", "/console/profiles/import", "/console/events"):
            assert f'<a href="{href}"' in home, (role, href)
    member = clients["member"].get("/console").text
    assert '<a href="/console/events"' not in member and '<a href="/console/profiles"' not in member
