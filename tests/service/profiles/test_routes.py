"""Profiles over HTTP through the ASGI app: CRUD, listing, imports, auth and errors."""

from __future__ import annotations

import json
from pathlib import Path

from models.encoders import HashingEncoder
from service.errors import PROBLEM_JSON
from tests.support.app import Api, make_settings, start_api
from tests.support.jobs import wait_for_job
from tests.support.samples import SAMPLE


def _jsonl(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def test_create_read_update_delete(api: Api) -> None:
    r = api.post("/v1/profiles", json=SAMPLE[0], headers=api.h())
    assert r.status_code == 201, r.text
    assert r.json()["name"] == "株式会社精密歯車"
    assert api.post("/v1/profiles", json=SAMPLE[0], headers=api.h()).status_code == 409

    got = api.get("/v1/profiles/jp-1", headers=api.h()).json()
    assert got["offers"] == ["precision gears", "bearing assembly"]
    assert got["contact"] == "sales@gear.example.jp"

    r = api.patch("/v1/profiles/jp-1", json={"cluster": "Greater Nagoya"}, headers=api.h())
    assert r.status_code == 200 and r.json()["cluster"] == "Greater Nagoya"
    assert r.json()["offers"] == SAMPLE[0]["offers"]

    body = {**SAMPLE[1], "description": "changed"}
    r = api.put("/v1/profiles/it-1", json=body, headers=api.h())
    assert r.status_code == 201
    r = api.put("/v1/profiles/it-1", json={**body, "description": "again"}, headers=api.h())
    assert r.status_code == 200 and r.json()["description"] == "again"

    assert api.delete("/v1/profiles/jp-1", headers=api.h()).status_code == 204
    r = api.get("/v1/profiles/jp-1", headers=api.h())
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON
    assert api.delete("/v1/profiles/jp-1", headers=api.h()).status_code == 404
    assert api.app.state.engine.record("jp-1") is None


def test_list_filters_and_paging(api: Api) -> None:
    api.post("/v1/profiles/import", content=_jsonl(SAMPLE), headers=api.h())
    r = api.get("/v1/profiles", params={"kind": "firm", "limit": 2}, headers=api.h()).json()
    assert r["total"] == 3 and len(r["items"]) == 2 and r["next_offset"] == 2
    r2 = api.get(
        "/v1/profiles", params={"kind": "firm", "limit": 2, "offset": 2}, headers=api.h()
    ).json()
    assert r2["next_offset"] is None and len(r2["items"]) == 1
    ids = {i["id"] for i in r["items"] + r2["items"]}
    assert ids == {"jp-1", "kr-1", "jp-2"}
    r = api.get(
        "/v1/profiles", params=[("country", "jp"), ("kind", "university")], headers=api.h()
    ).json()
    assert [i["id"] for i in r["items"]] == ["uni-1"]
    r = api.get("/v1/profiles", params={"cluster": "TAMA"}, headers=api.h()).json()
    assert {i["id"] for i in r["items"]} == {"jp-1", "uni-1"}


def test_contact_only_for_admin_and_owner(api: Api) -> None:
    api.post("/v1/profiles", json=SAMPLE[0], headers=api.h())
    assert "contact" not in api.get("/v1/profiles/jp-1", headers=api.h("organizer")).json()
    assert api.get("/v1/profiles/jp-1", headers=api.h("member")).json()["contact"]
    listed = api.get("/v1/profiles", headers=api.h("organizer")).json()["items"]
    assert listed and all("contact" not in i for i in listed)


def test_import_reports_bad_rows_and_imports_nothing(api: Api) -> None:
    rows = [SAMPLE[0], {**SAMPLE[1], "kind": "vendor"}, {"id": "x"}]
    r = api.post("/v1/profiles/import", content=_jsonl(rows), headers=api.h())
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert {(e["row"], e["field"]) for e in errors} >= {(2, "kind"), (3, "name")}
    assert api.get("/v1/profiles", headers=api.h()).json()["total"] == 0
    r = api.post(
        "/v1/profiles/import",
        params={"allow_partial": "true"},
        content=_jsonl(rows),
        headers=api.h(),
    )
    assert r.status_code == 200, r.text
    assert r.json()["report"]["created"] == 1 and r.json()["report"]["rejected"] == 2
    assert api.get("/v1/profiles", headers=api.h()).json()["total"] == 1


def test_reimport_changes_nothing(api: Api) -> None:
    data = _jsonl(SAMPLE)
    first = api.post("/v1/profiles/import", content=data, headers=api.h()).json()["report"]
    assert first["created"] == len(SAMPLE) and first["encoded_texts"] > 0
    before = api.get("/v1/profiles/jp-1", headers=api.h()).json()
    again = api.post("/v1/profiles/import", content=data, headers=api.h()).json()["report"]
    assert again["unchanged"] == len(SAMPLE)
    assert again["created"] == again["updated"] == again["encoded_texts"] == 0
    assert api.get("/v1/profiles/jp-1", headers=api.h()).json() == before


def test_import_cp932_csv_multipart(api: Api) -> None:
    csv_text = (
        "id,名称,種別,国,提供,ニーズ\r\njp-9,株式会社テスト,firm,JP,精密加工、表面処理,販路開拓\r\n"
    )
    files = {"file": ("members.csv", csv_text.encode("cp932"), "text/csv")}
    r = api.post("/v1/profiles/import", files=files, headers=api.h())
    assert r.status_code == 200, r.text
    assert r.json()["report"]["encoding"] == "cp932"
    got = api.get("/v1/profiles/jp-9", headers=api.h()).json()
    assert got["offers"] == ["精密加工", "表面処理"] and got["name"] == "株式会社テスト"


def test_unreadable_import_is_a_clear_error(api: Api) -> None:
    r = api.post("/v1/profiles/import", content=b"", headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    r = api.post(
        "/v1/profiles/import",
        content=b"\xff\xfe\x00garbage\x81",
        params={"encoding": "utf-8"},
        headers=api.h(),
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON
    assert "byte offset 0" in r.json()["detail"]


def test_large_import_runs_as_a_job_with_progress(tmp_path: Path, encoder: HashingEncoder) -> None:

    rows = [
        {
            "id": f"f-{i}",
            "name": f"Firm {i}",
            "kind": "firm",
            "country": "JP",
            "offers": [f"part {i % 7}"],
            "needs": [f"service {i % 5}"],
        }
        for i in range(40)
    ]
    for small in start_api(make_settings(tmp_path, sync_import_rows=10), encoder):
        r = small.post("/v1/profiles/import", content=_jsonl(rows), headers=small.h())
        assert r.status_code == 202
        location = r.headers["location"]
        job = wait_for_job(small, location)
        assert job["status"] == "succeeded", job
        assert job["report"]["created"] == 40
        assert job["progress"]["total"] > 0
        assert small.get(location, headers=small.h("organizer")).status_code == 404
        assert small.get("/v1/profiles", headers=small.h()).json()["total"] == 40


def test_put_with_an_invalid_id_is_422_with_the_pattern(api: Api) -> None:
    """Issue 19.8: PUT with a space or a 300-character id answered 404 "no profile"."""
    body = {"name": "x", "kind": "firm"}
    for bad in ("a%20b", "x" * 300, "-leading-dash"):
        r = api.put(f"/v1/profiles/{bad}", json=body, headers=api.h())
        assert r.status_code == 422, (bad, r.text)
        (error,) = r.json()["errors"]
        assert error["field"] == "id" and "[A-Za-z0-9._:@-]" in error["reason"]
        assert "1 to 128 characters" in error["reason"]
    assert api.put("/v1/profiles/ok-1", json=body, headers=api.h()).status_code == 201


def test_import_can_ignore_unknown_columns(api: Api) -> None:
    """Issue 19.9: the error suggested unknown_columns='ignore', which did not exist."""
    csv_data = "id,name,kind,備考,電話番号\nc-1,Chubu Gear,firm,memo,052-000\n".encode()
    r = api.post("/v1/profiles/import?format=csv", content=csv_data, headers=api.h())
    assert r.status_code == 422 and "unknown_columns='ignore'" in r.json()["detail"]
    r = api.post(
        "/v1/profiles/import?format=csv&unknown_columns=ignore", content=csv_data, headers=api.h()
    )
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert report["created"] == 1
    assert any("備考" in w and "電話番号" in w for w in report["warnings"])
    r = api.post("/v1/profiles/import?unknown_columns=drop", content=csv_data, headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "unknown_columns"


def test_country_names_in_japanese_and_english(api: Api) -> None:
    """Issue 19.10: 国=日本 was refused although 種別=企業 worked."""
    csv_data = "ID,名称,種別,国,市場\nn-1,名古屋ギア,企業,日本,イタリア、Germany\n".encode()
    r = api.post("/v1/profiles/import", content=csv_data, headers=api.h())
    assert r.status_code == 200, r.text
    got = api.get("/v1/profiles/n-1", headers=api.h()).json()
    assert got["country"] == "JP" and got["markets"] == ["IT", "DE"]
    r = api.put(
        "/v1/profiles/n-2", json={"name": "x", "kind": "firm", "country": "Italy"}, headers=api.h()
    )
    assert r.status_code == 201 and r.json()["country"] == "IT"
    listed = api.get("/v1/profiles", params={"country": "日本"}, headers=api.h()).json()
    assert [p["id"] for p in listed["items"]] == ["n-1"]
    r = api.get("/v1/profiles", params={"country": "Narnia"}, headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "country"


def test_header_only_csv_reports_zero_rows_with_a_warning(api: Api) -> None:
    """Issue 19.12: a header-only CSV succeeded with 0 rows and no warning."""
    r = api.post("/v1/profiles/import", content=b"id,name,kind\n", headers=api.h())
    assert r.status_code == 200, r.text
    report = r.json()["report"]
    assert report["rows"] == 0 and report["created"] == 0
    assert report["warnings"] == [
        "the file has no data rows (only a header row, or an empty list): nothing to import"
    ]


def test_import_options_in_the_form_are_refused(api: Api) -> None:
    """Issue 19.7: an import option sent as a form field was ignored without a word."""
    r = api.post(
        "/v1/profiles/import",
        files={"file": ("p.jsonl", _jsonl(SAMPLE[:1]))},
        data={"allow_partial": "true"},
        headers=api.h(),
    )
    assert r.status_code == 422
    assert r.json()["errors"][0]["field"] == "allow_partial"
    assert "query parameters" in r.json()["errors"][0]["reason"]


def test_contact_and_timestamps_read_the_same_everywhere(api: Api) -> None:
    """Issue 19.18: contact in GET vs the list; timestamps without a time zone."""
    api.post("/v1/profiles/import", content=_jsonl(SAMPLE), headers=api.h())
    for role in ("admin", "organizer"):
        h = api.h(role)
        one = api.get("/v1/profiles/kr-1", headers=h).json()
        listed = api.get("/v1/profiles?country=KR", headers=h).json()["items"][0]
        assert one == listed
        assert ("contact" in one) is (role == "admin")
        for stamp in (one["created_at"], one["updated_at"]):
            assert stamp.endswith("+00:00"), stamp


def test_an_import_line_nested_too_deeply_is_a_row_error_not_a_500(api: Api) -> None:
    deep = b'{"id": "a-2", "name": "B", "kind": "firm", "offers": ' + b"[" * 10_000
    deep += b"]" * 10_000 + b"}"
    data = _jsonl([SAMPLE[0]]) + b"\n" + deep
    r = api.post("/v1/profiles/import", content=data, headers=api.h())
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON
    assert r.json()["errors"] == [
        {"row": 2, "field": None, "reason": "arrays or objects nested too deeply"}
    ]
    r = api.post(
        "/v1/profiles/import", params={"allow_partial": True}, content=data, headers=api.h()
    )
    assert r.status_code == 200 and r.json()["report"]["created"] == 1


def test_a_member_keeps_its_profile_but_does_not_create_it(api: Api) -> None:
    """Issue 21.9: a member key for a profile that did not exist could create it."""
    member = api.h("member")  # the key of jp-1, which no one has created
    r = api.put("/v1/profiles/jp-1", json=SAMPLE[0], headers=member)
    assert r.status_code == 404 and "an admin or organizer creates" in r.json()["detail"]
    assert api.get("/v1/profiles/jp-1", headers=api.h()).status_code == 404
    assert api.put("/v1/profiles/jp-1", json=SAMPLE[0], headers=api.h()).status_code == 201
    changed = {**SAMPLE[0], "description": "精密歯車の設計"}
    assert api.put("/v1/profiles/jp-1", json=changed, headers=member).status_code == 200


def test_an_organizer_does_not_write_the_profiles_of_another_office(api: Api) -> None:
    """Issue 21.9: organizers could edit every profile, those of another organizer's event
    included. The tenancy (service.profiles.service): a profile is its office's to
    change, whether or not it takes part in an event; another office's organizer gets
    403 (and its import rows are row errors), even once it lists the profile in an event
    of its own; admins change all."""
    from service.auth import create_key
    from service.store.db import transaction

    for p in SAMPLE[:3]:
        assert api.put(f"/v1/profiles/{p['id']}", json=p, headers=api.h()).status_code == 201
    with transaction(api.app.state.sessions) as s:
        _, other_key = create_key(s, "organizer", name="another office", office="north")
    mine, other = api.h("organizer"), {"Authorization": f"Bearer {other_key}"}
    event = {
        "name": "TAMA",
        "slots": 2,
        "tables": 1,
        "participants": [
            {"id": "a", "profile_id": SAMPLE[0]["id"]},
            {"id": "b", "profile_id": SAMPLE[1]["id"]},
        ],
    }
    assert api.post("/v1/events", json=event, headers=mine).status_code == 201
    theirs, free = SAMPLE[0]["id"], SAMPLE[2]["id"]
    patch = {"description": "changed"}
    r = api.patch(f"/v1/profiles/{theirs}", json=patch, headers=other)
    assert r.status_code == 403 and "belongs to the office 'default'" in r.json()["detail"]
    assert api.put(f"/v1/profiles/{theirs}", json=SAMPLE[0], headers=other).status_code == 403
    assert api.delete(f"/v1/profiles/{theirs}", headers=other).status_code == 403
    r = api.post("/v1/profiles/import", content=_jsonl([SAMPLE[0]]), headers=other)
    assert r.status_code == 422
    assert r.json()["errors"][0]["reason"].startswith("belongs to the office 'default'")
    # a profile in no event is its office's too
    assert api.patch(f"/v1/profiles/{free}", json=patch, headers=other).status_code == 403
    # its office's organizer and an admin may
    assert api.patch(f"/v1/profiles/{theirs}", json=patch, headers=mine).status_code == 200
    assert api.patch(f"/v1/profiles/{theirs}", json=patch, headers=api.h()).status_code == 200
    assert api.patch(f"/v1/profiles/{free}", json=patch, headers=mine).status_code == 200
    # reading and matching stay open to every organizer: one directory
    assert api.get(f"/v1/profiles/{theirs}", headers=other).status_code == 200
    # listing it in an event of the other office's gives no right to write it
    shared = {**event, "participants": [{"id": "x", "profile_id": theirs}]}
    assert api.post("/v1/events", json=shared, headers=other).status_code == 201
    assert api.patch(f"/v1/profiles/{theirs}", json=patch, headers=other).status_code == 403
