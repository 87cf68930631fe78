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
