"""Shortlists over the API (Bearer keys): the same service and rules as the console's
exchange pages, so a list made with a key is the key's, another organizer's is a 404,
members get 403, and the exports and the send to an event answer the same."""

from __future__ import annotations

import csv
import io

from tests.support.app import Api


def test_a_shortlist_over_the_api(api: Api) -> None:
    for p in (
        {"id": "jp-1", "name": "精密", "kind": "firm", "country": "JP"},
        {"id": "it-1", "name": "Veneto", "kind": "trading_company", "country": "IT"},
    ):
        assert api.put(f"/v1/profiles/{p['id']}", json=p, headers=api.h()).status_code == 201
    org = api.h("organizer")
    r = api.post("/v1/shortlists", json={"name": "イタリア"}, headers=org)
    assert r.status_code == 201
    pk = r.json()["id"]
    assert r.json()["entries"] == []
    r = api.post(
        f"/v1/shortlists/{pk}/entries",
        json={"profile_ids": ["it-1", "jp-1"], "note": "=x"},
        headers=org,
    )
    assert r.json() == {"added": ["it-1", "jp-1"], "already": []}
    bad = api.post(f"/v1/shortlists/{pk}/entries", json={"profile_ids": ["nope"]}, headers=org)
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["code"] == "shortlist.profile_unknown"
    listed = api.get("/v1/shortlists", headers=org).json()["items"]
    assert [(x["id"], x["entries"]) for x in listed] == [(pk, 2)]
    shown = api.get(f"/v1/shortlists/{pk}", headers=org).json()
    entry = shown["entries"][0]
    assert entry["profile_id"] == "it-1" and entry["country"] == "IT" and entry["note"] == "=x"
    r = api.patch(
        f"/v1/shortlists/{pk}/entries/{entry['id']}", json={"note": "面談済み"}, headers=org
    )
    assert r.json()["entries"][0]["note"] == "面談済み"
    # exports
    r = api.get(f"/v1/shortlists/{pk}/export", headers=org)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert [row[6] for row in rows[1:]] == ["面談済み", "'=x"]
    r = api.get(f"/v1/shortlists/{pk}/export", params={"format": "xlsx"}, headers=org)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    # to an event of the same key
    event = api.post(
        "/v1/events", json={"name": "E", "slots": 2, "tables": 1, "participants": []}, headers=org
    ).json()["id"]
    r = api.post(f"/v1/shortlists/{pk}/send", json={"event_id": event, "group": "g"}, headers=org)
    assert r.json()["added"] == ["it-1", "jp-1"] and r.json()["participants"] == 2
    assert len(api.get(f"/v1/events/{event}", headers=org).json()["event"]["participants"]) == 2
    # others: an admin sees it, a member may not, another organizer finds nothing
    assert api.get(f"/v1/shortlists/{pk}", headers=api.h()).status_code == 200
    assert api.get("/v1/shortlists", headers=api.h("member")).status_code == 403
    assert api.get(f"/v1/shortlists/{pk}", headers=api.h("member")).status_code == 403
    other = api.post(
        "/v1/shortlists", json={"name": "x"}, headers=api.h()
    )  # the admin's own list is its own
    assert other.status_code == 201
    assert len(api.get("/v1/shortlists", headers=org).json()["items"]) == 1
    assert api.get("/v1/shortlists/999999", headers=org).status_code == 404
    assert api.get("/v1/shortlists", headers={}).status_code == 401
    # rename, remove, delete
    assert api.patch(f"/v1/shortlists/{pk}", json={"name": "B"}, headers=org).json()["name"] == "B"
    assert api.delete(f"/v1/shortlists/{pk}/entries/{entry['id']}", headers=org).status_code == 204
    assert api.delete(f"/v1/shortlists/{pk}", headers=org).status_code == 204
    assert api.get(f"/v1/shortlists/{pk}", headers=org).status_code == 404
