"""Programmes and reports over HTTP, on SQLite and PostgreSQL: exact figures from seeded
outcomes (worked out by hand below), the exports' contents, and who may see what on
every route."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook

from models.encoders import HashingEncoder
from models.outcomes import FollowUp, MeetingOutcome
from models.reports import TABLE_HEADER
from service.auth import create_key
from service.store import outcomes as store
from service.store.db import transaction
from service.store.tables import EventRow
from tests.support.app import Api, make_settings, start_api

PROFILES = [
    {"id": "jp-1", "name": "精密", "kind": "firm", "country": "JP"},  # the member key's
    {"id": "it-1", "name": "Veneto", "kind": "trading_company", "country": "IT"},
    {"id": "uni-1", "name": "大学", "kind": "university", "country": "JP"},
    {"id": "kr-1", "name": "Busan", "kind": "firm", "country": "KR"},
]


def _event(name: str, day: str, participants: dict[str, str], **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "program": "TAMA",
        "slots": 2,
        "tables": 2,
        "timezone": "Asia/Tokyo",
        "slot_times": [f"{day}T10:00", f"{day}T10:30"],
        "participants": [{"id": p, "profile_id": prof} for p, prof in participants.items()],
        **extra,
    }


def _schedule(api: Api, event_id: str, pairs: list[tuple[str, str]]) -> None:
    with transaction(api.app.state.sessions) as s:
        row = s.get(EventRow, event_id)
        assert row is not None
        row.schedule = {
            "meetings": [
                {"a": a, "b": b, "slot": i, "table": "T1"} for i, (a, b) in enumerate(pairs)
            ]
        }


def _record(api: Api, *records: MeetingOutcome | FollowUp) -> None:
    with transaction(api.app.state.sessions) as s:
        for r in records:
            if isinstance(r, MeetingOutcome):
                store.add_outcome(s, r)
            else:
                store.add_follow_up(s, r)


class World:
    def __init__(self, api: Api) -> None:
        self.api = api
        with transaction(api.app.state.sessions) as s:
            _, self.other_organizer = create_key(s, "organizer", office="north")
        for p in PROFILES:
            assert api.put(f"/v1/profiles/{p['id']}", json=p, headers=api.h()).status_code == 201
        org = api.h("organizer")
        # A: 31 March 2027 in Tokyo, the last day of FY2026; the organizer's
        a = _event(
            "A",
            "2027-03-31",
            {"p1": "jp-1", "p2": "it-1", "p3": "uni-1"},
            wishes=[{"from": "p1", "to": "p2", "level": "want"}],
            suggestions=[{"a": "p1", "b": "p3", "score": 0.7}],
        )
        self.a = api.post("/v1/events", json=a, headers=org).json()["id"]
        _schedule(api, self.a, [("p1", "p2"), ("p1", "p3")])
        # B: 1 April 2027, FY2027; the organizer's
        b = _event("B", "2027-04-01", {"p1": "jp-1", "p2": "it-1"})
        self.b = api.post("/v1/events", json=b, headers=org).json()["id"]
        _schedule(api, self.b, [("p1", "p2")])
        # C: 1 June 2026, FY2026, same programme, but an event of another office (the
        # admin's, moved there)
        c = _event("C", "2026-06-01", {"q1": "kr-1", "q2": "uni-1"})
        self.c = api.post("/v1/events", json=c, headers=api.h()).json()["id"]
        moved = api.put(f"/v1/events/{self.c}/office", json={"office": "south"}, headers=api.h())
        assert moved.status_code == 200, moved.text
        _schedule(api, self.c, [("q1", "q2")])
        _record(
            api,
            MeetingOutcome(self.a, "p1", "p2", side="p1", attendance="held", interest="strong"),
            MeetingOutcome(self.a, "p1", "p2", side="p2", attendance="held", interest="none"),
            MeetingOutcome(self.a, "p1", "p3", side="p3", attendance="no_show", no_show=("p1",)),
            FollowUp(self.a, "p1", "p2", side="p1", months=3, stage="negotiation"),
            FollowUp(
                self.a, "p1", "p2", side="p2", months=3, stage="contract", amount_yen=3_000_000
            ),
            MeetingOutcome(self.b, "p1", "p2", side="p1", attendance="held", interest="some"),
            MeetingOutcome(self.c, "q1", "q2", side="q1", attendance="held", interest="some"),
        )
        r = api.post(
            "/v1/programs",
            json={
                "name": "TAMA",
                "fiscal_year": 2026,
                "targets": {"meetings_held": 4, "contracts": 2},
            },
            headers=org,
        )
        assert r.status_code == 201, r.text
        self.program = r.json()["id"]


@pytest.fixture
def world(tmp_path: Path, db_url: str) -> Iterator[World]:
    for api in start_api(make_settings(tmp_path, db_url), HashingEncoder(dim=64)):
        yield World(api)


def _row(body: dict[str, Any], key: str) -> dict[str, Any]:
    return next(r for r in body["rows"] if r["key"] == key)


def test_the_organizers_programme_report_by_hand(world: World) -> None:
    api = world.api
    r = api.get(
        "/v1/reports", params={"fiscal_year": 2026, "by": "program"}, headers=api.h("organizer")
    )
    assert r.status_code == 200, r.text
    tama = _row(r.json(), "TAMA")
    f = tama["figures"]
    # the organizer's FY2026 events: A only (B is FY2027, C another office's)
    assert f["events"] == 1
    # requested: p1→p2; scheduled p1–p2 (wish), p1–p3 (suggestion)
    assert (f["requested"], f["scheduled"]) == (1, 2)
    assert f["scheduled_by_origin"] == {"wish": 1, "suggestion": 1, "both": 0, "other": 0}
    # held p1–p2; p3 reported p1 absent
    assert (f["held"], f["no_shows"], f["no_show_rate"]) == (1, 1, 1 / (1 + 1))
    assert f["interest_rate"] == 1.0  # p1 strong on the one held meeting
    # furthest stage of p1–p2: p2's contract over p1's negotiation; 3,000,000 yen
    assert (f["follow_ups"], f["contracts"], f["amount_yen"]) == (1, 1, 3_000_000)
    assert tama["attainment"]["meetings_held"] == {"actual": 1, "target": 4, "attainment": 0.25}
    assert tama["attainment"]["contracts"] == {"actual": 1, "target": 2, "attainment": 0.5}
    assert tama["previous_year"]["held"] == 0  # nothing in FY2025
    # the admin counts every event: A and C
    body = api.get(
        "/v1/reports", params={"fiscal_year": 2026, "by": "program"}, headers=api.h()
    ).json()
    tama = _row(body, "TAMA")
    assert (tama["figures"]["events"], tama["figures"]["held"]) == (2, 2)
    assert tama["attainment"]["meetings_held"]["attainment"] == 2 / 4
    # FY2027 holds B alone, against FY2026 a year before
    body = api.get(
        "/v1/reports", params={"fiscal_year": 2027, "by": "fiscal_year"}, headers=api.h("organizer")
    ).json()
    assert [(x["key"], x["figures"]["held"], x["previous_year"]["held"]) for x in body["rows"]] == [
        ("2027", 1, 1)
    ]
    # one event; another office's event is a 404
    one = api.get(
        "/v1/reports",
        params={"fiscal_year": 2026, "by": "event", "event": world.a},
        headers=api.h("organizer"),
    ).json()
    assert [(x["label"], x["figures"]["held"]) for x in one["rows"]] == [("A", 1)]
    r = api.get(
        "/v1/reports", params={"fiscal_year": 2026, "event": world.c}, headers=api.h("organizer")
    )
    assert r.status_code == 404


def test_kind_and_country_pairs_over_the_api(world: World) -> None:
    api = world.api
    body = api.get(
        "/v1/reports", params={"fiscal_year": 2026, "by": "kind_pair"}, headers=api.h()
    ).json()
    # A: p1–p2 firm–trading_company (held), p1–p3 firm–university (no-show);
    # C: q1–q2 firm–university (held)
    assert {x["key"]: (x["figures"]["held"], x["figures"]["no_shows"]) for x in body["rows"]} == {
        "firm–trading_company": (1, 0),
        "firm–university": (1, 1),
    }
    body = api.get(
        "/v1/reports", params={"fiscal_year": 2026, "by": "country_pair"}, headers=api.h()
    ).json()
    assert {x["key"]: x["figures"]["scheduled"] for x in body["rows"]} == {
        "IT–JP": 1,
        "JP–JP": 1,
        "JP–KR": 1,
    }


def test_csv_xlsx_and_charts(world: World) -> None:
    api = world.api
    org = api.h("organizer")
    params = {"fiscal_year": 2026, "by": "program"}
    r = api.get("/v1/reports/export", params=params, headers=org)
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    assert r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"), newline="")))
    assert tuple(rows[0]) == TABLE_HEADER
    tama = dict(zip(rows[0], rows[1], strict=True))
    assert (tama["group"], tama["held"], tama["no_show_rate"], tama["amount_yen"]) == (
        "TAMA",
        "1",
        "0.5",
        "3000000",
    )
    assert (tama["target_meetings_held"], tama["attainment_meetings_held"]) == ("4", "0.25")
    assert rows[2][0] == "total"
    r = api.get("/v1/reports/export", params={**params, "format": "xlsx"}, headers=org)
    assert r.status_code == 200 and r.content[:2] == b"PK"
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert tuple(values[0]) == TABLE_HEADER
    assert values[1][0] == "TAMA" and values[1][TABLE_HEADER.index("held")] == 1
    assert values[1][TABLE_HEADER.index("amount_yen")] == 3_000_000
    png = api.get("/v1/reports/chart", params=params, headers=org)
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    svg = api.get(
        "/v1/reports/chart",
        params={**params, "format": "svg", "chart": "groups", "lang": "en"},
        headers=org,
    )
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert b"<svg" in svg.content


def test_a_formula_in_a_programme_name_stays_text(world: World) -> None:
    api = world.api
    doc = _event(
        "D",
        "2026-07-01",
        {"x": "jp-1", "y": "it-1"},
        program="=HYPERLINK(1)",
        wishes=[{"from": "x", "to": "y", "level": "want"}],  # a pair: a row
    )
    assert api.post("/v1/events", json=doc, headers=api.h()).status_code == 201
    r = api.get("/v1/reports/export", params={"fiscal_year": 2026}, headers=api.h())
    groups = [row[0] for row in csv.reader(io.StringIO(r.content.decode("utf-8-sig")))]
    assert "'=HYPERLINK(1)" in groups and "=HYPERLINK(1)" not in groups
    r = api.get(
        "/v1/reports/export", params={"fiscal_year": 2026, "format": "xlsx"}, headers=api.h()
    )
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert sheet is not None
    cells = [row[0].value for row in sheet.iter_rows()]
    assert "'=HYPERLINK(1)" in cells


def test_an_organizations_own_figures(world: World) -> None:
    api = world.api
    r = api.get(
        "/v1/reports/organizations/jp-1",
        params={"fiscal_year": 2026, "by": "total"},
        headers=api.h("member"),
    )
    assert r.status_code == 200, r.text
    f = r.json()["total"]["figures"]
    # jp-1 is p1 in A: its own records only. p1–p2 held (its strong interest); p1–p3 has
    # no record of p1's (p3's no-show report is p3's); its follow-up says negotiation
    # (p2's contract and amount are p2's)
    assert (f["scheduled"], f["held"], f["no_shows"], f["interested"]) == (2, 1, 0, 1)
    assert (f["follow_ups"], f["contracts"], f["amount_yen"]) == (1, 0, 0)
    # the admin sees it-1's own: held, no interest, the contract of 3,000,000 yen
    r = api.get(
        "/v1/reports/organizations/it-1",
        params={"fiscal_year": 2026, "by": "total"},
        headers=api.h(),
    )
    f = r.json()["total"]["figures"]
    assert (f["held"], f["interested"], f["contracts"], f["amount_yen"]) == (1, 0, 1, 3_000_000)
    r = api.get(
        "/v1/reports/organizations/jp-1/export",
        params={"fiscal_year": 2026},
        headers=api.h("member"),
    )
    assert r.status_code == 200 and r.content.startswith(b"\xef\xbb\xbf")
    bad = api.get(
        "/v1/reports/organizations/jp-1", params={"by": "program"}, headers=api.h("member")
    )
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "by"


def test_programmes_are_their_offices(world: World) -> None:
    api = world.api
    org, other = api.h("organizer"), {"Authorization": f"Bearer {world.other_organizer}"}
    pk = world.program
    listed = api.get("/v1/programs", headers=org).json()["items"]
    assert [(p["name"], p["fiscal_year"], p["targets"]["contracts"]) for p in listed] == [
        ("TAMA", 2026, 2)
    ]
    assert api.get("/v1/programs", headers=other).json()["items"] == []
    assert len(api.get("/v1/programs", headers=api.h()).json()["items"]) == 1
    body = {"name": "TAMA", "fiscal_year": 2026, "targets": {"meetings_held": 5}}
    r = api.put(f"/v1/programs/{pk}", json=body, headers=org)
    assert r.status_code == 200 and r.json()["targets"] == {
        "meetings_held": 5,
        "follow_ups": None,
        "contracts": None,
        "new_businesses": None,
    }
    assert api.post("/v1/programs", json=body, headers=other).status_code == 409  # taken
    bad = api.post("/v1/programs", json={**body, "targets": {"contract": 1}}, headers=org)
    assert bad.status_code == 422 and "contract" in bad.text
    bad = api.post("/v1/programs", json={**body, "fiscal_year": 1999}, headers=org)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "fiscal_year"
    bad = api.post("/v1/programs", json={**body, "name": " "}, headers=org)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "name"
    bad = api.post("/v1/programs", json={**body, "targets": {"contracts": -1}}, headers=org)
    assert bad.status_code == 422
    r = api.get("/v1/reports", params={"fiscal_year": 2026, "bye": "program"}, headers=org)
    assert r.status_code == 422 and "by" in r.text  # a typo is named, not ignored
    assert api.delete(f"/v1/programs/{pk}", headers=org).status_code == 204
    assert api.get(f"/v1/programs/{pk}", headers=org).status_code == 404


ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("GET", "/v1/programs", None),
    ("POST", "/v1/programs", {"name": "X", "fiscal_year": 2026}),
    ("GET", "/v1/programs/{program}", None),
    ("PUT", "/v1/programs/{program}", {"name": "Y", "fiscal_year": 2026}),
    ("DELETE", "/v1/programs/{program}", None),
    ("GET", "/v1/reports?fiscal_year=2026", None),
    ("GET", "/v1/reports/export?fiscal_year=2026", None),
    ("GET", "/v1/reports/chart?fiscal_year=2026&format=svg", None),
    ("GET", "/v1/reports/organizations/it-1?fiscal_year=2026", None),
    ("GET", "/v1/reports/organizations/it-1/export?fiscal_year=2026", None),
]


def test_who_may_call_every_report_route(world: World) -> None:
    """401 without a key; members 403 except on their own organization; organizers 403
    on an organization's figures and 404 on another office's programme; admins all."""
    api = world.api
    other = {"Authorization": f"Bearer {world.other_organizer}"}
    expect = {
        # route: (no key, member jp-1, another office's organizer, owner organizer)
        "GET /v1/programs": (401, 403, 200, 200),
        "POST /v1/programs": (401, 403, 201, 201),
        "GET /v1/programs/{program}": (401, 403, 404, 200),
        "PUT /v1/programs/{program}": (401, 403, 404, 200),
        "DELETE /v1/programs/{program}": (401, 403, 404, 204),
        "GET /v1/reports?fiscal_year=2026": (401, 403, 200, 200),
        "GET /v1/reports/export?fiscal_year=2026": (401, 403, 200, 200),
        "GET /v1/reports/chart?fiscal_year=2026&format=svg": (401, 403, 200, 200),
        "GET /v1/reports/organizations/it-1?fiscal_year=2026": (401, 403, 403, 403),
        "GET /v1/reports/organizations/it-1/export?fiscal_year=2026": (401, 403, 403, 403),
    }
    for method, path, body in ROUTES:
        url = path.replace("{program}", str(world.program))
        got: list[int] = []
        for headers in ({}, api.h("member"), other, api.h("organizer")):
            payload = None if body is None else {**body, "name": f"{body['name']}{len(got)}"}
            got.append(api.request(method, url, json=payload, headers=headers).status_code)
        assert tuple(got) == expect[f"{method} {path}"], (method, path, got)
    # the other organizer's report counts none of the first organizer's events
    r = api.get("/v1/reports", params={"fiscal_year": 2026, "by": "program"}, headers=other)
    assert r.json()["total"]["figures"]["events"] == 0
    # the member's own organization: 200; the admin: any organization
    r = api.get("/v1/reports/organizations/jp-1", headers=api.h("member"))
    assert r.status_code == 200
    r = api.get("/v1/reports/organizations/jp-1/export", headers=api.h("member"))
    assert r.status_code == 200
    for path in ("/v1/reports/organizations/it-1", "/v1/reports/organizations/it-1/export"):
        assert api.get(path, headers=api.h()).status_code == 200


def test_a_report_past_its_event_limit_is_refused_not_cut(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.reports import service

    monkeypatch.setattr(service, "MAX_EVENTS", 2)  # the admin has three events
    r = world.api.get("/v1/reports", params={"fiscal_year": 2026}, headers=world.api.h())
    assert r.status_code == 413 and "?event=" in r.json()["detail"]
    one = world.api.get(
        "/v1/reports", params={"fiscal_year": 2026, "event": world.c}, headers=world.api.h()
    )
    assert one.status_code == 200


def test_an_event_counts_on_its_first_slots_day_in_its_own_zone() -> None:
    import dataclasses
    import datetime as dt

    from models.events.model import parse_event
    from service.reports.service import event_date

    doc = {
        "slots": 1,
        "tables": 1,
        "participants": [],
        "timezone": "Asia/Tokyo",
        "slot_times": ["2027-04-01T08:00"],
    }
    created = dt.datetime(2027, 3, 20, 12, 0, tzinfo=dt.UTC)
    row = EventRow(id="e", name="E", data=doc, created_at=created)
    # 1 April 08:00 in Tokyo is still 31 March in UTC: the event's own zone decides (FY2027)
    assert event_date(parse_event(doc), row) == dt.date(2027, 4, 1)
    # without slot times, the day it was created, in Japan: 31 March 20:00 UTC is 1 April
    plain = dataclasses.replace(parse_event(doc), slot_times=None)
    row.created_at = dt.datetime(2027, 3, 31, 20, 0, tzinfo=dt.UTC)
    assert event_date(plain, row) == dt.date(2027, 4, 1)
