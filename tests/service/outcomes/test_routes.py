"""Meeting outcomes and follow-ups over HTTP: recording each side, corrections that keep
every version, what each role sees, who is due, re-plans, and bad input."""

from __future__ import annotations

from typing import Any

import pytest

from models.outcomes import add_months
from tests.support.app import Api
from tests.support.outcomes import PAST, World, set_schedule, world


def post(w: World, who: str, path: str, body: dict[str, Any]) -> Any:
    return w.api.post(f"/v1/events/{w.event_id}/{path}", json=body, headers=w.h(who))


def get(w: World, who: str, path: str, **params: Any) -> Any:
    return w.api.get(f"/v1/events/{w.event_id}/{path}", params=params, headers=w.h(who))


HELD = {"attendance": "held", "interest": "strong", "next_step": "samples_or_quote"}


def test_corrections_append_and_history_keeps_every_version(w_db: World) -> None:
    w = w_db
    r = post(w, "gear", "outcomes", {"a": "gear", "b": "veneto", **HELD, "note": "gear only"})
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["side"] == "gear" and first["source"] == "api"
    assert first["recorded_by"].startswith("key:") and first["recorded_at"].endswith("+00:00")
    r = post(
        w,
        "veneto",
        "outcomes",
        {
            "a": "veneto",
            "b": "gear",
            "attendance": "held",
            "interest": "some",
            "note": "veneto's secret",
        },
    )
    assert r.status_code == 201, r.text
    fix = {"a": "veneto", "b": "gear", "attendance": "held", "interest": "none"}
    r = post(w, "gear", "outcomes", {**fix, "note": "on reflection"})
    assert r.status_code == 201 and r.json()["interest"] == "none"
    # the organizer corrects veneto's side on its behalf: recorded as the organizer's key
    r = post(w, "organizer", "outcomes", {**fix, "side": "veneto", "interest": "strong"})
    assert r.status_code == 201

    items = get(w, "organizer", "outcomes").json()["items"]
    (meeting,) = [m for m in items if {m["a"], m["b"]} == {"gear", "veneto"}]
    assert meeting["held"] is True and meeting["status"] == "scheduled"
    assert meeting["sides"]["gear"]["interest"] == "none"
    assert meeting["sides"]["gear"]["note"] == "on reflection"
    assert meeting["sides"]["veneto"]["interest"] == "strong"
    assert meeting["versions"] == {"gear": 2, "veneto": 2}

    history = get(w, "organizer", "outcomes/history", a="veneto", b="gear").json()["items"]
    assert [(h["side"], h["interest"]) for h in history] == [
        ("gear", "strong"),
        ("veneto", "some"),
        ("gear", "none"),
        ("veneto", "strong"),
    ]
    assert history[0]["note"] == "gear only"  # the first version is still there
    assert [h["recorder"]["role"] for h in history] == ["member", "member", "member", "organizer"]
    assert history[0]["recorder"]["name"] == "gear"
    assert all(h["recorded_at"] for h in history)
    assert history[0]["recorded_at"] <= history[-1]["recorded_at"]


def test_a_member_sees_its_own_side_only(w: World) -> None:
    post(w, "gear", "outcomes", {"a": "gear", "b": "veneto", **HELD, "note": "gear's note"})
    r = post(
        w,
        "veneto",
        "outcomes",
        {
            "a": "gear",
            "b": "veneto",
            "attendance": "held",
            "interest": "none",
            "note": "veneto's secret",
        },
    )
    assert r.status_code == 201 and r.json()["side"] == "veneto"  # its own side by default

    for path in ("outcomes", "outcomes/history", "follow-ups", "follow-ups/history"):
        r = get(w, "gear", path)
        assert r.status_code == 200, (path, r.text)
        assert "veneto's secret" not in r.text, path
        assert '"side":"veneto"' not in r.text.replace(" ", ""), path
    items = get(w, "gear", "outcomes").json()["items"]
    assert {(m["a"], m["b"]) for m in items} == {("gear", "veneto"), ("gear", "uni")}
    (meeting,) = [m for m in items if m["b"] == "veneto"]
    assert list(meeting["sides"]) == ["gear"] and meeting["held"] is None
    history = get(w, "gear", "outcomes/history").json()["items"]
    assert [h["side"] for h in history] == ["gear"]
    # bio sees its own meetings only: with uni, and with veneto (not yet held)
    items = get(w, "bio", "outcomes").json()["items"]
    assert {(m["a"], m["b"]) for m in items} == {("bio", "uni"), ("bio", "veneto")}


def test_a_member_never_records_another_side_or_meeting(w: World) -> None:
    r = post(w, "gear", "outcomes", {"a": "gear", "b": "veneto", "side": "veneto", **HELD})
    assert r.status_code == 403
    r = post(w, "gear", "outcomes", {"a": "bio", "b": "uni", "side": "uni", **HELD})
    assert r.status_code == 403  # another meeting: refused, nothing said about it
    r = post(w, "gear", "outcomes", {"a": "bio", "b": "veneto", "attendance": "cancelled"})
    assert r.status_code == 403
    r = post(
        w,
        "gear",
        "follow-ups",
        {"a": "gear", "b": "veneto", "side": "veneto", "months": 3, "stage": "nda"},
    )
    assert r.status_code == 403
    r = get(w, "gear", "outcomes/history", a="bio", b="uni")
    assert r.status_code == 200 and r.json()["items"] == []
    assert get(w, "organizer", "outcomes/history").json()["items"] == []  # nothing written


ROUTES = [
    ("GET", "outcomes", None),
    ("GET", "outcomes/history", None),
    ("POST", "outcomes", {"a": "gear", "b": "veneto", "attendance": "held"}),
    ("GET", "follow-ups", None),
    ("GET", "follow-ups/history", None),
    ("POST", "follow-ups", {"a": "gear", "b": "veneto", "months": 3, "stage": "nda"}),
]


@pytest.mark.parametrize(("method", "path", "body"), ROUTES)
def test_other_events_are_not_found(
    w: World, method: str, path: str, body: dict[str, Any] | None
) -> None:
    url = f"/v1/events/{w.event_id}/{path}"
    if body is not None and method == "POST":
        body = {**body, "side": "gear"}
    for who in ("other_org",):
        r = w.api.request(method, url, json=body, headers=w.h(who))
        assert r.status_code == 404, (who, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    # a member of another event: a member key whose profile is not a participant
    from service.auth import create_key
    from service.store.db import transaction

    with transaction(w.api.client.app.state.sessions) as s:  # type: ignore[attr-defined]
        _, stranger = create_key(s, "member", profile_id="de-9")
    r = w.api.request(method, url, json=body, headers={"Authorization": f"Bearer {stranger}"})
    assert r.status_code == 404
    assert w.api.request(method, url, json=body).status_code == 401
    missing = f"/v1/events/00000000-0000-0000-0000-000000000000/{path}"
    assert w.api.request(method, missing, json=body, headers=w.h("admin")).status_code == 404
    ok = w.api.request(method, url, json=body, headers=w.h("admin"))
    assert ok.status_code in (200, 201), ok.text


def test_bad_input_names_the_field(w: World) -> None:
    base = {"a": "gear", "b": "veneto", "side": "gear"}
    cases: list[tuple[str, dict[str, Any], str]] = [
        ("outcomes", {**base, "attendance": "maybe"}, "attendance"),
        ("outcomes", {**base, "attendance": "no_show"}, "no_show"),
        ("outcomes", {**base, "attendance": "no_show", "no_show": ["bio"]}, "no_show[0]"),
        ("outcomes", {**base, "attendance": "held", "no_show": ["gear"]}, "no_show"),
        ("outcomes", {**base, "attendance": "cancelled", "interest": "some"}, "interest"),
        ("outcomes", {**base, "attendance": "cancelled", "next_step": "nda"}, "next_step"),
        ("outcomes", {**base, "attendance": "held", "note": "x" * 2001}, "note"),
        ("outcomes", {**base, "attendance": "held", "colour": "red"}, "colour"),
        ("outcomes", {**base, "a": "ghost", "attendance": "held"}, "a"),
        ("outcomes", {**base, "b": "bio", "attendance": "held"}, "b"),  # never scheduled
        ("outcomes", {**base, "side": "uni", "attendance": "held"}, "side"),
        ("outcomes", {"a": "gear", "b": "veneto", "attendance": "held"}, "side"),  # organizer
        ("follow-ups", {**base, "months": 4, "stage": "nda"}, "months"),
        ("follow-ups", {**base, "months": 3, "stage": "married"}, "stage"),
        ("follow-ups", {**base, "months": 3, "stage": "contract", "amount_yen": -1}, "amount_yen"),
        (
            "follow-ups",
            {**base, "months": 3, "stage": "contract", "amount_yen": 10**14},
            "amount_yen",
        ),
        (
            "follow-ups",
            {**base, "months": 3, "stage": "no_progress", "amount_yen": 5},
            "amount_yen",
        ),
    ]
    for path, body, field in cases:
        r = post(w, "organizer", path, body)
        assert r.status_code == 422, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        fields = [e["field"] for e in r.json()["errors"]]
        assert field in fields, (body, r.json())
    # a meeting that has not started: only a cancellation
    future = {"a": "veneto", "b": "bio", "side": "bio"}
    r = post(w, "organizer", "outcomes", {**future, "attendance": "held"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "attendance"
    assert "before then only 'cancelled'" in r.json()["errors"][0]["reason"]
    assert (
        post(w, "organizer", "outcomes", {**future, "attendance": "cancelled"}).status_code == 201
    )
    r = get(w, "organizer", "outcomes/history", a="gear")
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "b"
    assert len(get(w, "organizer", "outcomes/history").json()["items"]) == 1  # the cancellation


def test_replanned_meetings_keep_their_outcomes(w: World) -> None:
    r = post(
        w,
        "gear",
        "outcomes",
        {"a": "gear", "b": "uni", "attendance": "no_show", "no_show": ["uni"]},
    )
    assert r.status_code == 201, r.text
    # a re-plan drops gear–uni (uni did not come) and gear–veneto is gone from every schedule
    dropped = {"a": "gear", "b": "uni", "slot": 1, "table": "T2", "reason": "no_show"}
    set_schedule(
        w.api,
        w.event_id,
        {
            "meetings": [{"a": "bio", "b": "uni", "slot": 2, "table": "T1"}],
            "changes": {"dropped_meetings": [dropped]},
        },
    )
    items = {(m["a"], m["b"]): m for m in get(w, "organizer", "outcomes").json()["items"]}
    assert items[("gear", "uni")]["status"] == "dropped"
    assert items[("gear", "uni")]["sides"]["gear"]["no_show"] == ["uni"]
    assert ("gear", "veneto") not in items  # never recorded, no longer scheduled
    # the dropped meeting can still be recorded by its other side
    r = post(w, "uni", "outcomes", {"a": "gear", "b": "uni", "attendance": "cancelled"})
    assert r.status_code == 201, r.text
    r = post(w, "gear", "outcomes", {"a": "gear", "b": "veneto", "attendance": "held"})
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "b"
    # a later re-plan forgets the drop: the recorded meeting stays, as an earlier one
    set_schedule(w.api, w.event_id, {"meetings": [{"a": "bio", "b": "uni", "slot": 0}]})
    items = {(m["a"], m["b"]): m for m in get(w, "organizer", "outcomes").json()["items"]}
    assert items[("gear", "uni")]["status"] == "earlier"
    assert items[("gear", "uni")]["sides"]["uni"]["attendance"] == "cancelled"
    r = post(w, "gear", "outcomes", {"a": "gear", "b": "uni", "attendance": "cancelled"})
    assert r.status_code == 201  # and corrected


def test_follow_up_rounds_say_who_is_due_and_who_answered(w: World) -> None:
    post(w, "gear", "outcomes", {"a": "gear", "b": "veneto", **HELD})
    post(
        w, "bio", "outcomes", {"a": "bio", "b": "uni", "attendance": "no_show", "no_show": ["uni"]}
    )
    r = post(
        w, "gear", "follow-ups", {"a": "gear", "b": "veneto", "months": 3, "stage": "negotiation"}
    )
    assert r.status_code == 201, r.text
    r = post(
        w,
        "organizer",
        "follow-ups",
        {
            "a": "gear",
            "b": "veneto",
            "side": "veneto",
            "months": 3,
            "stage": "contract",
            "amount_yen": 1_200_000,
        },
    )
    assert r.status_code == 201 and r.json()["amount_yen"] == 1_200_000

    status = get(w, "organizer", "follow-ups").json()
    assert status["event_day"] == PAST.isoformat() and status["day_from"] == "slot_times"
    three, twelve = status["rounds"]
    assert three["due_on"] == add_months(PAST, 3).isoformat() and three["reached"] is True
    assert twelve["reached"] is False and twelve["due"] == 0
    # asked: both sides of gear–veneto and gear–uni (nothing recorded); bio–uni was not
    # held (bio says uni did not come) and veneto–bio has not started: nobody is asked
    asked = {(i["a"], i["b"], i["side"]) for i in status["items"]}
    assert asked == {
        ("gear", "veneto", "gear"),
        ("gear", "veneto", "veneto"),
        ("gear", "uni", "gear"),
        ("gear", "uni", "uni"),
    }
    assert (three["asked"], three["answered"], three["due"]) == (4, 2, 2)
    assert (twelve["asked"], twelve["answered"]) == (4, 0)
    gear = next(i for i in status["items"] if (i["b"], i["side"]) == ("veneto", "gear"))
    assert gear["answers"]["3"]["stage"] == "negotiation" and gear["due"] == []
    assert gear["attendance"] == "held"
    uni = next(i for i in status["items"] if i["side"] == "uni")
    assert uni["due"] == [3] and uni["answers"] == {"3": None, "12": None}

    r = get(w, "gear", "follow-ups")
    assert "1200000" not in r.text  # veneto's amount stays veneto's
    mine = r.json()
    assert {(i["a"], i["b"], i["side"]) for i in mine["items"]} == {
        ("gear", "veneto", "gear"),
        ("gear", "uni", "gear"),
    }
    assert mine["rounds"][0]["asked"] == 2 and mine["rounds"][0]["due"] == 1
    # a correction of the round: the newest answer is in force, both are in the history
    post(w, "gear", "follow-ups", {"a": "gear", "b": "veneto", "months": 3, "stage": "nda"})
    again = get(w, "gear", "follow-ups").json()
    gear = next(i for i in again["items"] if i["b"] == "veneto")
    assert gear["answers"]["3"]["stage"] == "nda"
    history = get(w, "gear", "follow-ups/history").json()["items"]
    assert [h["stage"] for h in history] == ["negotiation", "nda"]
    assert len(get(w, "organizer", "follow-ups/history").json()["items"]) == 3


def test_event_without_clock_times_counts_from_its_creation(api: Api) -> None:
    w = world(api, slot_times=None)
    status = get(w, "organizer", "follow-ups").json()
    assert status["day_from"] == "created_at"
    assert all(r["reached"] is False for r in status["rounds"])  # created today
    # without clock times no meeting is "not started yet"
    r = post(
        w, "organizer", "outcomes", {"a": "veneto", "b": "bio", "side": "bio", "attendance": "held"}
    )
    assert r.status_code == 201


def test_every_outcome_write_tells_the_other_servers_to_reload_their_evidence(w: World) -> None:
    """Outcomes are ranking evidence (models.evidence): each write adds a `history` row to
    the change feed, which every server process follows (service.sync)."""
    from sqlalchemy import func, select

    from service.store.tables import ChangeRow

    def history_rows() -> int:
        with w.api.client.app.state.sessions() as s:  # type: ignore[attr-defined]
            return int(s.scalar(select(func.count()).where(ChangeRow.kind == "history")) or 0)

    before = history_rows()
    assert post(w, "gear", "outcomes", {"a": "gear", "b": "veneto", **HELD}).status_code == 201
    assert history_rows() == before + 1
    answer = {"a": "gear", "b": "veneto", "months": 3, "stage": "negotiation"}
    assert post(w, "gear", "follow-ups", answer).status_code == 201
    assert history_rows() == before + 2
    refused = post(w, "gear", "outcomes", {"a": "gear", "b": "veneto", "attendance": "maybe"})
    assert refused.status_code == 422
    assert history_rows() == before + 2  # nothing written, nothing announced
