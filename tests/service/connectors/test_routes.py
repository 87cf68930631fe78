"""Connectors and exports over HTTP (real ASGI app, SQLite, FAISS, hashing encoder) and
the CLI: a dry run writes nothing, EDINET and JPX rows of one firm become one profile,
bad rows are refused with their row numbers, and exports keep contact details for
admins and never let a cell be a formula."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

from models.encoders import HashingEncoder
from service import cli
from service.resources import open_resources
from service.settings import Settings
from service.store import audit as audit_store
from service.store.db import transaction
from tests.service.io.test_connectors import GOOD, JPX, _edinet
from tests.support.app import Api, make_settings, start_api

BAD = GOOD.replace('"E00004"', '"X1"')


def test_dry_run_then_import_merges_edinet_and_jpx(api: Api) -> None:
    h = api.h()
    r = api.post("/v1/profiles/import/edinet?dry_run=true", content=_edinet(GOOD), headers=h)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "dry_run" and body["report"]["created"] == 1
    assert api.get("/v1/profiles", headers=h).json()["total"] == 0  # nothing written

    r = api.post("/v1/profiles/import/edinet", files={"file": ("e.csv", _edinet(GOOD))}, headers=h)
    assert r.status_code == 200 and r.json()["report"]["created"] == 1

    jpx = JPX.replace("20260131,1301,極洋", "20260131,1376,カネコ種苗").encode()
    plan = api.post(
        "/v1/profiles/import/jpx?dry_run=true&allow_partial=true", content=jpx, headers=h
    )
    merges = plan.json()["report"]["merges"]
    assert merges == [
        {
            "row": 2,
            "id": "jpx:1376",
            "into": "edinet:E00004",
            "into_row": None,
            "key": "securities_code",
            "value": "1376",
        }
    ]
    assert plan.json()["report"]["updated"] == 1
    assert api.get("/v1/profiles/edinet:E00004", headers=h).json()["registry"].get("market") is None

    r = api.post("/v1/profiles/import/jpx?allow_partial=true", content=jpx, headers=h)
    report = r.json()["report"]
    assert (report["merged"], report["rejected"], report["skipped"]) == (1, 2, 2)
    one = api.get("/v1/profiles/edinet:E00004", headers=h).json()
    assert (
        one["registry"]["market"] == "プライム（内国株式）"
        and one["registry"]["sources"] == "edinet jpx"
    )
    assert one["name"] == "カネコ種苗株式会社"  # EDINET's name, first stored, is kept
    assert api.get("/v1/profiles/jpx:1376", headers=h).status_code == 404
    matches = api.get("/v1/profiles/jpx:130A/matches", headers=h)
    assert matches.status_code == 200  # the merged and new profiles are indexed


def test_bad_rows_unknown_source_and_roles(api: Api) -> None:
    r = api.post("/v1/profiles/import/edinet", content=_edinet(GOOD, BAD), headers=api.h())
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert errors == [
        {"row": 4, "field": "edinet_code", "reason": "not an EDINET code E + 5 digits (got 'X1')"}
    ]
    assert api.get("/v1/profiles", headers=api.h()).json()["total"] == 0  # nothing half-written
    r = api.post(
        "/v1/profiles/import/edinet?allow_partial=true", content=_edinet(GOOD, BAD), headers=api.h()
    )
    assert r.json()["report"]["created"] == 1 and r.json()["report"]["rejected"] == 1
    r = api.post("/v1/profiles/import/edinet", content=b"id,name\nx,y\n", headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "file"
    assert api.post("/v1/profiles/import/teikoku", content=b"x", headers=api.h()).status_code == 422
    r = api.post("/v1/profiles/import/edinet", content=_edinet(GOOD), headers=api.h("member"))
    assert r.status_code == 403


def test_exports_csv_and_xlsx(api: Api) -> None:
    rows = [
        {
            "id": "jp-1",
            "name": '=HYPERLINK("http://x")',
            "kind": "firm",
            "country": "JP",
            "offers": ["歯車", "軸受"],
            "contact": "sales@example.jp",
            "cluster": "TAMA",
        },
        {"id": "it-1", "name": "Ingranaggi", "kind": "trading_company", "country": "IT"},
    ]
    body = "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()
    assert api.post("/v1/profiles/import", content=body, headers=api.h()).status_code == 200

    r = api.get("/v1/exports/profiles.csv", headers=api.h())
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    table = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [t["id"] for t in table] == ["jp-1", "it-1"]
    assert table[0]["name"].startswith("'=") and table[0]["offers"] == "歯車; 軸受"
    assert table[0]["contact"] == "sales@example.jp"

    r = api.get("/v1/exports/profiles.xlsx?country=JP", headers=api.h("organizer"))
    assert r.status_code == 200
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert "contact" not in values[0]  # organizers never get contact details
    assert len(values) == 2 and values[1][0] == "jp-1"
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)

    assert (
        api.get("/v1/exports/profiles.csv?kind=university", headers=api.h()).content.count(b"\r\n")
        == 1
    )
    assert api.get("/v1/exports/profiles.csv", headers=api.h("member")).status_code == 403
    assert api.get("/v1/exports/profiles.pdf", headers=api.h()).status_code == 422


def test_xlsx_member_list_through_the_import_route(api: Api) -> None:
    from tests.service.io.test_xlsx_tables import HEADER, _book

    data = _book([["会員名簿"], HEADER, ["m-1", "株式会社テスト", "企業", "日本", "機械"]])
    r = api.post("/v1/profiles/import", files={"file": ("members.xlsx", data)}, headers=api.h())
    assert r.status_code == 200, r.text
    assert r.json()["report"]["created"] == 1
    assert any("row(s) above the table" in w for w in r.json()["report"]["warnings"])


@pytest.fixture
def fast_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "models.encoders.SentenceTransformerEncoder", lambda *a, **k: HashingEncoder()
    )


def test_cli_dry_run_import_and_export(tmp_path: Path, fast_model: None) -> None:
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path / "d")]
    lst = tmp_path / "EdinetcodeDlInfo.csv"
    lst.write_bytes(_edinet(GOOD))
    r = runner.invoke(
        cli.app, ["import", "--source", "edinet", str(lst), "--dry-run", "--json", *d]
    )
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["created"] == 1
    r = runner.invoke(cli.app, ["export", str(tmp_path / "p.csv"), *d])
    assert r.exit_code == 0 and "0 profiles" in r.output  # the dry run wrote nothing
    r = runner.invoke(cli.app, ["import", "--source", "edinet", str(lst), *d])
    assert r.exit_code == 0 and "1 created" in r.output
    settings = Settings(data_dir=tmp_path / "d", _env_file=None)  # type: ignore[call-arg]
    with (
        open_resources(settings, with_engine=False) as res,
        transaction(res.sessions) as s,
    ):
        entries = audit_store.query(s, audit_store.AuditFilter(actor="cli"), limit=10)
        assert [e.route for e in entries] == ["clustermatch import"]  # a dry run writes nothing
    r = runner.invoke(cli.app, ["export", str(tmp_path / "p.xlsx"), "--kind", "firm", *d])
    assert r.exit_code == 0 and "1 profiles" in r.output
    assert load_workbook(tmp_path / "p.xlsx").active["B2"].value == "カネコ種苗株式会社"
    bad = tmp_path / "bad.csv"
    bad.write_bytes(_edinet(BAD))
    r = runner.invoke(cli.app, ["import", "--source", "edinet", str(bad), *d])
    assert r.exit_code == 1 and "row 3: edinet_code" in r.output
    r = runner.invoke(cli.app, ["import", "--source", "nope", str(bad), *d])
    assert r.exit_code == 2


def test_merge_and_dry_run_on_sqlite_and_postgresql(tmp_path: Path, db_url: str) -> None:
    jpx = JPX.replace("20260131,1301,極洋", "20260131,1376,カネコ種苗").encode()
    for api in start_api(make_settings(tmp_path, db_url), HashingEncoder(dim=64)):
        h = api.h()
        assert api.post("/v1/profiles/import/edinet", content=_edinet(GOOD), headers=h).is_success
        dry = api.post(
            "/v1/profiles/import/jpx?dry_run=true&allow_partial=true", content=jpx, headers=h
        )
        assert dry.json()["report"]["merged_by"] == {"securities_code": 1}
        assert api.get("/v1/profiles", headers=h).json()["total"] == 1
        r = api.post("/v1/profiles/import/jpx?allow_partial=true", content=jpx, headers=h)
        assert r.json()["report"]["created"] == 1 and r.json()["report"]["updated"] == 1
        one = api.get("/v1/profiles/edinet:E00004", headers=h).json()
        assert one["registry"]["sources"] == "edinet jpx"
        export = api.get("/v1/exports/profiles.csv?kind=financial_institution", headers=h)
        assert export.content.decode("utf-8-sig").splitlines()[1].startswith("jpx:130A,ベリテ")


def test_a_list_over_the_row_limit_is_refused(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, max_import_rows=1)
    for api in start_api(settings, HashingEncoder(dim=64)):
        r = api.post("/v1/profiles/import/edinet", content=_edinet(GOOD, GOOD), headers=api.h())
        assert r.status_code == 422 and "more than 1 data rows" in r.json()["errors"][0]["reason"]
        assert api.get("/v1/profiles", headers=api.h()).json()["total"] == 0


def test_a_list_takes_the_upload_body_limit_not_the_json_one(tmp_path: Path) -> None:
    rows = [GOOD.replace("E00004", f"E{n:05d}").replace("5070001000715", "") for n in range(40)]
    data = _edinet(*rows)
    settings = make_settings(tmp_path, max_json_body_bytes=1024)
    assert len(data) > 4 * 1024
    for api in start_api(settings, HashingEncoder(dim=64)):
        r = api.post("/v1/profiles/import/edinet?dry_run=true", content=data, headers=api.h())
        assert r.status_code == 200, r.text
        assert r.json()["report"]["profiles"] == 1  # one firm: the same securities code


def test_an_organizer_list_does_not_merge_into_another_offices_profiles(api: Api) -> None:
    """The tenancy rule of imports (service.profiles.service, tenancy) holds for a list: a
    row that merges into a profile of another office is a bad row, even one in an event
    of the caller's; an admin's import merges it."""
    from service.auth import create_key
    from service.store.db import transaction

    assert api.post("/v1/profiles/import/edinet", content=_edinet(GOOD), headers=api.h()).is_success
    with transaction(api.app.state.sessions) as s:
        _, other_key = create_key(s, "organizer", name="another office", office="north")
    other = {"Authorization": f"Bearer {other_key}"}
    event = {
        "name": "TAMA",
        "slots": 2,
        "tables": 1,
        "participants": [{"id": "a", "profile_id": "edinet:E00004"}],
    }
    assert api.post("/v1/events", json=event, headers=other).status_code == 201
    jpx = JPX.replace("20260131,1301,極洋", "20260131,1376,カネコ種苗").encode()
    r = api.post("/v1/profiles/import/jpx", content=jpx, headers=other)
    assert r.status_code == 422
    refused = [e for e in r.json()["errors"] if e["field"] == "id"]
    assert refused == [
        {
            "row": 2,
            "field": "id",
            "reason": "is 'edinet:E00004', which belongs to the office 'default', not yours: "
            "its organizers or an admin change it",
        }
    ]
    r = api.post("/v1/profiles/import/jpx?allow_partial=true", content=jpx, headers=other)
    assert r.json()["report"]["merged"] == 0 and r.json()["report"]["created"] == 1
    one = api.get("/v1/profiles/edinet:E00004", headers=api.h()).json()
    assert "market" not in one["registry"]  # untouched
    r = api.post("/v1/profiles/import/jpx?allow_partial=true", content=jpx, headers=api.h())
    assert r.json()["report"]["merged"] == 1
