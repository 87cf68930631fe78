"""Events over HTTP: create, validate, suggested pairs from matching, schedule as a job,
re-plan, and the exports parsed back."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.support.app import Api
from tests.support.jobs import wait_for_job
from tests.support.samples import SAMPLE

EVENT = {
    "name": "TAMA 商談会 2026",
    "slots": 4,
    "tables": [{"id": "T1"}, {"id": "T2"}],
    "timezone": "Asia/Tokyo",
    "slot_times": ["2026-06-10T13:00", "2026-06-10T13:20", "2026-06-10T13:40", "2026-06-10T14:00"],
    "slot_minutes": 20,
    "participants": [
        {"id": "gear", "group": "supplier", "profile_id": "jp-1", "name": "精密歯車"},
        {"id": "veneto", "group": "buyer", "profile_id": "it-1", "name": "=Veneto"},
        {"id": "uni", "group": "researcher", "profile_id": "uni-1"},
        {"id": "bio", "group": "supplier", "profile_id": "kr-1"},
    ],
    "wishes": [
        {"from": "veneto", "to": "gear", "level": "must"},
        {"from": "gear", "to": "uni", "level": "want"},
        {"from": "bio", "to": "veneto", "level": "no"},
    ],
    "locked": [{"a": "gear", "b": "veneto", "slot": 2, "table": "T2"}],
}


@pytest.fixture
def event_api(api: Api) -> tuple[Api, str]:
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in SAMPLE).encode()
    api.post("/v1/profiles/import", content=data, headers=api.h())
    r = api.post("/v1/events", json=EVENT, headers=api.h("organizer"))
    assert r.status_code == 201, r.text
    return api, r.json()["id"]


def test_event_lifecycle_and_exports(event_api: tuple[Api, str]) -> None:
    api, eid = event_api
    h = api.h("organizer")
    assert api.get(f"/v1/events/{eid}/schedule", headers=h).status_code == 404
    sug = api.post(f"/v1/events/{eid}/suggestions", headers=h).json()
    assert sug["count"] >= 1
    pairs = {frozenset((s["a"], s["b"])) for s in sug["suggestions"]}
    assert all(len(p) == 2 for p in pairs) and all(0 <= s["score"] <= 1 for s in sug["suggestions"])
    r = api.post(f"/v1/events/{eid}/schedule", params={"time_limit": 5}, headers=h)
    assert r.status_code == 202
    job = wait_for_job(api, r.headers["location"], "organizer")
    assert job["status"] == "succeeded", job
    sched = api.get(f"/v1/events/{eid}/schedule", headers=h).json()
    meetings = sched["meetings"]
    assert {"a": "gear", "b": "veneto", "slot": 2, "table": "T2"}.items() <= next(
        m for m in meetings if {m["a"], m["b"]} == {"gear", "veneto"}
    ).items()
    assert not any({m["a"], m["b"]} == {"bio", "veneto"} for m in meetings)  # a "no" wish
    busy = [(m["slot"], p) for m in meetings for p in (m["a"], m["b"])]
    assert len(busy) == len(set(busy))  # nobody in two meetings at once
    assert sched["gap"] is not None and sched["bound"] >= sched["objective"] - 1e-6

    csv_bytes = api.get(f"/v1/events/{eid}/exports/schedule.csv", headers=h).content
    assert csv_bytes.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    assert len(rows) == len(meetings) + 1
    assert any("'=Veneto" in row for row in rows)  # formula neutralised
    ics = api.get(f"/v1/events/{eid}/exports/participants/gear.ics", headers=h)
    assert ics.status_code == 200 and ics.text.startswith("BEGIN:VCALENDAR")
    assert ics.text.count("BEGIN:VEVENT") == sum("gear" in (m["a"], m["b"]) for m in meetings)
    page = api.get(f"/v1/events/{eid}/exports/agendas.html", params={"by": "table"}, headers=h)
    assert page.status_code == 200 and "テーブル" in page.text
    one = api.get(
        f"/v1/events/{eid}/exports/agendas.html", params={"participant": "gear"}, headers=h
    )
    assert one.status_code == 200 and "精密歯車" in one.text and "Veneto" in one.text
    assert api.get(f"/v1/events/{eid}/exports/participants/ghost.ics", headers=h).status_code == 404

    # re-plan after a no-show: the locked / announced meeting stays where it was
    r = api.post(
        f"/v1/events/{eid}/replan",
        json={"changes": {"no_shows": ["uni"]}},
        params={"time_limit": 5},
        headers=h,
    )
    assert r.status_code == 202
    job = wait_for_job(api, r.headers["location"], "organizer")
    assert job["status"] == "succeeded", job
    after = api.get(f"/v1/events/{eid}/schedule", headers=h).json()
    assert not any("uni" in (m["a"], m["b"]) for m in after["meetings"])
    kept = next(m for m in after["meetings"] if {m["a"], m["b"]} == {"gear", "veneto"})
    assert (kept["slot"], kept["table"]) == (2, "T2")
    assert after["changes"] is not None


def test_event_errors_and_ownership(event_api: tuple[Api, str]) -> None:
    api, eid = event_api
    h = api.h("organizer")
    bad = {
        **EVENT,
        "wishes": [{"from": "gear", "to": "ghost", "level": "must"}],
        "tables": [{"id": "T1", "capacity": 0}],
    }
    r = api.post("/v1/events", json=bad, headers=h)
    assert r.status_code == 422
    fields = {e["field"] for e in r.json()["errors"]}
    assert any(f.startswith("wishes[0]") for f in fields) and any(
        f.startswith("tables[0]") for f in fields
    )
    r = api.post("/v1/events", json={**EVENT, "name": ""}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "name"
    r = api.post("/v1/events", json={**EVENT, "slots": 10_000}, headers=h)
    assert r.status_code == 422
    assert api.post("/v1/events", json=EVENT, headers=api.h("member")).status_code == 403
    assert api.get(f"/v1/events/{eid}", headers=api.h()).status_code == 200  # admin sees all
    assert api.get("/v1/events/nope", headers=h).status_code == 404
    r = api.post(f"/v1/events/{eid}/replan", json={"changes": {}}, headers=h)
    assert r.status_code == 409
    r = api.post(f"/v1/events/{eid}/schedule", params={"time_limit": 0}, headers=h)
    assert r.status_code == 422
    changed = {**EVENT, "name": "renamed", "slots": 5, "slot_times": None}
    r = api.put(f"/v1/events/{eid}", json=changed, headers=h)
    assert r.status_code == 200 and r.json()["name"] == "renamed"
    listed = api.get("/v1/events", headers=h).json()["items"]
    assert [e["id"] for e in listed] == [eid]
    assert api.delete(f"/v1/events/{eid}", headers=h).status_code == 204
    assert api.get(f"/v1/events/{eid}", headers=h).status_code == 404


def test_retime_agreed_meetings_for_fewest_breaks(api: Api) -> None:
    """Agreed meetings a-b, a-c, a-d placed with gaps; re-timing packs a's day (0 breaks)
    without adding, dropping or double-booking anyone."""

    h = api.h("organizer")
    doc = {
        "name": "retime",
        "slots": 6,
        "tables": [{"id": "T1"}, {"id": "T2"}],
        "participants": [{"id": x} for x in "abcd"],
        "wishes": [{"from": "a", "to": x, "level": "must"} for x in "bcd"],
    }
    eid = api.post("/v1/events", json=doc, headers=h).json()["id"]
    assert api.post(f"/v1/events/{eid}/retime", headers=h).status_code == 409
    job = wait_for_job(
        api,
        api.post(f"/v1/events/{eid}/schedule", params={"time_limit": 5}, headers=h).headers[
            "location"
        ],
        "organizer",
    )
    assert job["status"] == "succeeded"
    r = api.post(f"/v1/events/{eid}/retime", params={"fairness": 2, "time_limit": 10}, headers=h)
    assert r.status_code == 202
    job = wait_for_job(api, r.headers["location"], "organizer")
    assert job["status"] == "succeeded" and job["report"]["status"] == "optimal", job
    assert job["report"]["breaks"] == 0
    sched = api.get(f"/v1/events/{eid}/schedule", headers=h).json()
    pairs = sorted("".join(sorted((m["a"], m["b"]))) for m in sched["meetings"])
    assert pairs == ["ab", "ac", "ad"]
    a_slots = sorted(m["slot"] for m in sched["meetings"])
    assert a_slots == list(range(a_slots[0], a_slots[0] + 3))  # consecutive: no idle gap
    assert sched["retime"]["breaks"] == 0
    r = api.post(f"/v1/events/{eid}/retime", params={"morning_slots": 99}, headers=h)
    assert r.status_code == 422


def test_retime_refuses_events_outside_the_model(api: Api) -> None:
    h = api.h("organizer")
    doc = {
        "name": "parallel",
        "slots": 3,
        "tables": [{"id": "T1", "capacity": 4}],
        "participants": [{"id": "a"}, {"id": "b"}],
        "wishes": [{"from": "a", "to": "b", "level": "must"}],
    }
    eid = api.post("/v1/events", json=doc, headers=h).json()["id"]
    wait_for_job(
        api,
        api.post(f"/v1/events/{eid}/schedule", params={"time_limit": 5}, headers=h).headers[
            "location"
        ],
        "organizer",
    )
    location = api.post(f"/v1/events/{eid}/retime", headers=h).headers["location"]
    job = wait_for_job(api, location, "organizer")
    assert job["status"] == "failed" and "interchangeable tables" in job["error"]


def test_unknown_event_keys_are_refused_with_the_nearest_name(api: Api) -> None:
    """Issue 19.7: a typo such as `prioritty` in an event file was dropped silently."""
    doc = {
        **EVENT,
        "slotz": 4,
        "wishes": [{"from": "veneto", "to": "gear", "level": "must", "prioritty": 1}],
    }
    r = api.post("/v1/events", json=doc, headers=api.h("organizer"))
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert errors["slotz"] == "unknown key 'slotz'; did you mean 'slots'?"
    assert errors["wishes[0].prioritty"] == "unknown key 'prioritty'; did you mean 'priority'?"


def test_unknown_replan_keys_are_refused_with_the_nearest_name(
    event_api: tuple[Api, str],
) -> None:
    """Issue 19.7, in a re-plan's changes: `no_show` (for `no_shows`) was ignored."""
    api, eid = event_api
    h = api.h("organizer")
    r = api.post(f"/v1/events/{eid}/schedule", params={"time_limit": 5}, headers=h)
    assert wait_for_job(api, r.headers["location"], "organizer")["status"] == "succeeded"
    body = {"changes": {"no_show": ["uni"], "late": [{"id": "x", "grup": "buyer"}]}}
    r = api.post(f"/v1/events/{eid}/replan", json=body, headers=h)
    assert r.status_code == 422, r.text
    errors = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert errors == {
        "changes.no_show": "unknown key 'no_show'; did you mean 'no_shows'?",
        "changes.late[0].grup": "unknown key 'grup'; did you mean 'group'?",
    }
    r = api.post(f"/v1/events/{eid}/replan", json={"anounced": True}, headers=h)
    assert r.json()["errors"][0]["reason"] == "unknown field 'anounced'; did you mean 'announced'?"


def test_slot_times_error_says_what_is_expected(api: Api) -> None:
    """Issue 19.16: `slot_times: 1 slot times for 6 slots` did not say what to give."""
    doc = {**EVENT, "slot_times": ["2026-06-10T13:00"]}
    r = api.post("/v1/events", json=doc, headers=api.h("organizer"))
    assert r.status_code == 422
    (error,) = r.json()["errors"]
    assert error["field"] == "slot_times"
    assert error["reason"].startswith("1 slot time for 4 slots: give one start time")
    assert "4 in all" in error["reason"]


def test_printed_agendas_name_the_event_and_say_why_in_the_readers_language(
    event_api: tuple[Api, str],
) -> None:
    """Issue 19.19: every agenda was subtitled "event"; a partner was a bare name; no line
    said why they meet."""
    api, eid = event_api
    h = api.h("organizer")
    r = api.post(f"/v1/events/{eid}/schedule", params={"time_limit": 5}, headers=h)
    assert wait_for_job(api, r.headers["location"], "organizer")["status"] == "succeeded"
    page = api.get(f"/v1/events/{eid}/exports/agendas.html", headers=h).text
    gear = next(s for s in page.split("<section>") if "精密歯車 — 商談スケジュール" in s)
    veneto = next(s for s in page.split("<section>") if "=Veneto — 商談スケジュール" in s)
    assert '<p class="event">TAMA 商談会 2026</p>' in gear and ">event<" not in page
    assert "2026年6月10日（水） / Wed 10 Jun 2026" in gear
    assert '<p class="who">株式会社精密歯車 · 企業 · 日本</p>' in gear
    # the partner's organization, kind and country, in the reader's language
    assert "Veneto Trading Srl" in gear and "商社 · イタリア" in gear
    assert "firm · Japan" in veneto
    # why they meet, from each side: the match reason computed for the reader
    assert "貴社のニーズ「distributor in Europe」↔ 先方の提供「distributor in Europe」" in gear
    assert "Their need “distributor in Europe” ↔ your offer “distributor in Europe”" in veneto
    # lang=en for everyone
    page = api.get(f"/v1/events/{eid}/exports/agendas.html?lang=en", headers=h).text
    assert "Your need “distributor in Europe” ↔ their offer “distributor in Europe”" in page
    table = api.get(f"/v1/events/{eid}/exports/agendas.html?by=table", headers=h).text
    assert "13:00–13:20" in table and "TAMA 商談会 2026" in table
