"""Organizer pages: events (form errors by field with the input kept, the document the
form builds, edit), participants (from profiles, from a list, availability, remove),
suggestions (generated within the event's rules; accept, reject, pin) and wishes
(entered for anyone, contradictions by field), with escaping."""

from __future__ import annotations

import re
from typing import Any

from tests.support.console import NASTY, Console, csrf_of
from tests.support.organizer import (
    create_event,
    event_form,
    post_form,
    text_of,
)

RAW = "<script>alert(1)</script>"


def _doc(console: Console, event_id: str) -> dict[str, Any]:
    r = console.api.get(f"/v1/events/{event_id}", headers=console.api.h())
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()["event"]
    return body


def _post(client: Any, page: str, action: str, data: dict[str, Any]) -> Any:
    return post_form(client, page, action, data)


# ---------------------------------------------------------------------------- events


def test_create_an_event_builds_the_document(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    eid = create_event(client, slots="4", slot_minutes="25", default_max="6")
    doc = _doc(console, eid)
    assert doc["slots"] == 4 and doc["tables"] == 4 and doc["timezone"] == "Asia/Tokyo"
    assert doc["slot_times"] == [
        "2026-06-10T13:00",
        "2026-06-10T13:25",
        "2026-06-10T13:50",
        "2026-06-10T14:15",
    ]
    assert doc["allow"] == [["buyer", "supplier"]]
    assert doc["wish_deadline"] == "2026-06-03T17:00" and doc["venue"] == "立川市産業会館 3F"
    assert doc["setup"] == {"groups": ["buyer", "supplier"], "default_min": 0, "default_max": 6}
    page = client.get(f"/console/events/{eid}?done=created")
    text = text_of(page.text)
    assert "多摩商談会 2026" in text and "商談会を作成しました" in text
    assert "13:00–13:25 … 14:15–14:40" in text and "buyer ↔ supplier" in text
    assert f'href="/console/events/{eid}/schedule"' in page.text
    listing = text_of(client.get("/console/events").text)
    assert "多摩商談会 2026" in listing and "2026-06-10" in listing


def test_event_form_errors_are_shown_by_field_with_the_input_kept(console: Console) -> None:
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    bad = event_form(
        name="  ",
        date="2026-13-40",
        venue="会場 " + NASTY,
        time_zone="Mars/Olympus",
        start="25:99",
        slot_minutes="3",
        slots="abc",
        tables="0",
        groups="buyer, supplier",
        allow=[],
        wish_deadline="someday",
        default_min="5",
        default_max="2",
    )
    r = _post(client, "/console/events/new", "/console/events/new", bad)
    assert r.status_code == 400
    page = r.text
    for field, message in (
        ("name", "Required."),
        ("date", "Enter a date as YYYY-MM-DD."),
        ("time_zone", "Choose a time zone from the list."),
        ("start", "Enter a time as HH:MM."),
        ("slot_minutes", "5 to 240 minutes."),
        ("slots", "Enter a whole number."),
        ("tables", "1 to 1000 tables."),
        ("allow", "Choose at least one pair of groups that meet."),
        ("wish_deadline", "Enter a valid date and time."),
        ("default_min", "The minimum is above the maximum."),
    ):
        assert re.search(rf'id="f-{field}-error">[^<]*{re.escape(message)}', page), field
    # what was typed is kept (escaped)
    assert 'value="2026-13-40"' in page and 'value="abc"' in page and 'value="someday"' in page
    assert RAW not in page and "会場 &lt;script&gt;" in page
    assert "Event name: Required." in text_of(page)  # the summary links each field
    # Japanese
    ja = _post(client, "/console/events/new?lang=ja", "/console/events/new", {**bad, "name": "ok"})
    assert ja.status_code == 400 and "日付を YYYY-MM-DD で入力してください。" in ja.text


def test_the_domain_validation_is_mapped_to_the_form(console: Console) -> None:
    """What only the events domain checks (here: slots past midnight are fine, but a
    deadline after the start is the form's, and a participant's slots beyond a shorter
    event are the domain's) lands on a field."""
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    late = _post(
        client,
        "/console/events/new",
        "/console/events/new",
        event_form(wish_deadline="2026-06-11T09:00"),
    )
    assert late.status_code == 400
    assert "The deadline must be before the event starts." in late.text
    eid = create_event(client, slots="6")
    _add(client, eid, ["jp-1", "it-1"], "buyer")
    _post(
        client,
        f"/console/events/{eid}/participants/jp-1/edit",
        f"/console/events/{eid}/participants/jp-1/edit",
        {"group": "buyer", "min": "0", "max": "", "available": ["4", "5"]},
    )
    shorter = _post(
        client, f"/console/events/{eid}/edit", f"/console/events/{eid}/edit", event_form(slots="3")
    )
    assert shorter.status_code == 400
    assert re.search(r'id="f-slots-error">[^<]*available in slots beyond', shorter.text)
    assert _doc(console, eid)["slots"] == 6  # nothing stored
    dropped = _post(
        client, f"/console/events/{eid}/edit", f"/console/events/{eid}/edit",
        event_form(groups="seller, maker", allow=["seller\u001fmaker"]),
    )  # fmt: skip
    assert dropped.status_code == 400 and "change their group first" in dropped.text


def test_edit_keeps_participants_and_updates_pairs(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    eid = create_event(client)
    _add(client, eid, ["jp-1"], "buyer")
    form = client.get(f"/console/events/{eid}/edit")
    assert 'value="多摩商談会 2026"' in form.text and 'value="buyer, supplier"' in form.text
    assert 'value="buyer\x1fsupplier" checked' in form.text
    assert 'value="buyer\x1fbuyer">' in form.text  # offered, not checked
    # changing the groups and asking for the pairs again shows the new pairs, unsaved
    refresh = _post(
        client, f"/console/events/{eid}/edit", f"/console/events/{eid}/edit",
        event_form(groups="buyer, supplier, academia", refresh="1"),
    )  # fmt: skip
    assert refresh.status_code == 200 and "academia ↔ academia" in refresh.text
    saved = _post(
        client, f"/console/events/{eid}/edit", f"/console/events/{eid}/edit",
        event_form(
            name="改名 " + NASTY, groups="buyer, supplier, academia",
            allow=["buyer\x1fsupplier", "buyer\x1facademia"], tables="8",
        ),
    )  # fmt: skip
    assert saved.status_code == 303
    doc = _doc(console, eid)
    assert doc["allow"] == [["buyer", "supplier"], ["buyer", "academia"]]
    assert doc["tables"] == 8 and [p["id"] for p in doc["participants"]] == ["jp-1"]
    for path in (f"/console/events/{eid}", "/console/events", f"/console/events/{eid}/wishes"):
        page = client.get(path).text
        assert RAW not in page and "改名 &lt;script&gt;" in page, path


def test_delete_needs_the_confirmation(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    eid = create_event(client)
    page = f"/console/events/{eid}"
    assert _post(client, page, f"{page}/delete", {}).status_code == 303
    assert client.get(page).status_code == 200  # still there
    gone = _post(client, page, f"{page}/delete", {"confirm": eid})
    assert gone.headers["location"] == "/console/events?done=deleted"
    assert client.get(page).status_code == 404


# ---------------------------------------------------------------------------- participants


def _add(client: Any, eid: str, ids: list[str], group: str) -> Any:
    page = f"/console/events/{eid}/participants?q="
    r = _post(
        client,
        page,
        f"/console/events/{eid}/participants/add",
        {"profile_ids": ids, "group": group},
    )
    assert r.status_code == 303, r.text
    return r


def test_add_participants_from_profiles_and_edit_them(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    eid = create_event(client, default_min="1", default_max="4")
    search = client.get(f"/console/events/{eid}/participants?q=精密")
    assert 'value="jp-1"' in search.text and 'value="it-1"' not in search.text
    _add(client, eid, ["jp-1", "uni-1", "nasty-1", "no-such-profile"], "buyer")
    _add(client, eid, ["it-1", "jp-1"], "supplier")  # jp-1 is in already: kept as it was
    doc = _doc(console, eid)
    people = {p["id"]: p for p in doc["participants"]}
    assert list(people) == ["jp-1", "uni-1", "nasty-1", "it-1"]
    assert people["jp-1"] == {
        "id": "jp-1", "profile_id": "jp-1", "name": "株式会社精密歯車",
        "group": "buyer", "min": 1, "max": 4,
    }  # fmt: skip
    assert people["it-1"]["group"] == "supplier"
    page = client.get(f"/console/events/{eid}/participants")
    assert RAW not in page.text and "&lt;script&gt;" in page.text
    assert "株式会社精密歯車" in page.text
    # already there: the box is disabled
    again = client.get(f"/console/events/{eid}/participants?q=Tama")
    assert re.search(r'value="uni-1" disabled', again.text)

    edit = client.get(f"/console/events/{eid}/participants/jp-1/edit")
    assert edit.status_code == 200
    assert "13:00–13:20" in edit.text and "14:40–15:00" in edit.text
    assert edit.text.count('name="available"') == 6 and edit.text.count("checked") == 6
    url = f"/console/events/{eid}/participants/jp-1/edit"
    bad = _post(client, url, url, {"group": "nobody", "min": "5", "max": "2", "available": []})
    assert bad.status_code == 400
    assert "この商談会のグループから選んでください" in bad.text
    assert "最少が最多を超えています" in bad.text and "参加できる枠を1つ以上" in bad.text
    ok = _post(
        client,
        url,
        url,
        {"group": "supplier", "min": "2", "max": "3", "available": ["0", "2", "5"]},
    )
    assert ok.status_code == 303
    jp = next(p for p in _doc(console, eid)["participants"] if p["id"] == "jp-1")
    assert jp["available"] == [0, 2, 5] and jp["min"] == 2 and jp["max"] == 3
    assert jp["group"] == "supplier"
    listed = text_of(client.get(f"/console/events/{eid}/participants").text)
    assert "3 / 6 枠" in listed
    # all slots again: no `available` (the model's "all")
    _post(
        client,
        url,
        url,
        {"group": "supplier", "min": "0", "max": "", "available": [str(i) for i in range(6)]},
    )
    jp = next(p for p in _doc(console, eid)["participants"] if p["id"] == "jp-1")
    assert "available" not in jp and "max" not in jp


def test_upload_a_participant_list(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    eid = create_event(client)
    page = f"/console/events/{eid}/participants"
    bad = (
        "プロフィールID,グループ,最小,最大,参加可能枠\n"
        "jp-1,buyer,1,3,1-3\nghost,buyer,,,\nit-1,martians,x,,9\n"
    )
    token = csrf_of(client.get(page).text)
    r = client.post(
        f"{page}/upload",
        data={"csrf_token": token},
        files={"file": ("list.csv", bad.encode("cp932"), "text/csv")},
    )
    assert r.status_code == 400
    text = text_of(r.text)
    assert "名簿にエラーがあるため、誰も追加していません" in text
    assert "行 3 · profile_id: プロフィール「ghost」は登録されていません" in text
    assert "行 4 · group: グループ「martians」はこの商談会にありません" in text
    assert "行 4 · min: 整数で入力してください（x）" in text
    assert "行 4 · available: 枠「9」が正しくありません（1〜6）" in text
    assert _doc(console, eid).get("participants", []) == []
    good = "プロフィールID,グループ,最小,最大,参加可能枠\njp-1,buyer,1,3,1-3;6\nit-1,supplier,,,\n"
    r = client.post(
        f"{page}/upload",
        data={"csrf_token": token},
        files={"file": ("list.csv", good.encode("cp932"), "text/csv")},
    )
    assert r.status_code == 303 and "n=2" in r.headers["location"]
    people = {p["id"]: p for p in _doc(console, eid)["participants"]}
    assert people["jp-1"]["available"] == [0, 1, 2, 5] and people["jp-1"]["max"] == 3
    assert people["it-1"]["name"] == "Veneto Trading Srl"


def test_remove_a_participant_and_what_names_it(console: Console) -> None:
    client = console.signed_in(console.user("organizer"))
    eid = create_event(client)
    _add(client, eid, ["jp-1", "uni-1"], "buyer")
    _add(client, eid, ["it-1"], "supplier")
    wishes = f"/console/events/{eid}/wishes"
    r = _post(
        client,
        wishes,
        f"{wishes}/add",
        {"source": "jp-1", "target": "it-1", "level": "must", "priority": "1"},
    )
    assert r.status_code == 303
    page = f"/console/events/{eid}/participants"
    gone = _post(client, page, f"{page}/it-1/remove", {})
    assert gone.status_code == 303 and "n=1" in gone.headers["location"]
    doc = _doc(console, eid)
    assert [p["id"] for p in doc["participants"]] == ["jp-1", "uni-1"] and doc["wishes"] == []
    assert _post(client, page, f"{page}/it-1/remove", {}).status_code == 404


# ---------------------------------------------------------------------------- suggestions


def _event_with_people(console: Console, client: Any) -> str:
    eid = create_event(client, groups="buyer, supplier", allow=["buyer\x1fsupplier"])
    _add(client, eid, ["jp-1", "jp-2", "uni-1"], "buyer")
    _add(client, eid, ["it-1", "kr-1"], "supplier")
    return eid


def test_suggestions_obey_the_groups_and_can_be_accepted_rejected_and_pinned(
    console: Console,
) -> None:
    client = console.signed_in(console.user("organizer"))
    eid = _event_with_people(console, client)
    page = f"/console/events/{eid}/suggestions"
    r = _post(client, page, f"{page}/generate", {"per_participant": "5"})
    assert r.status_code == 303, r.text
    doc = _doc(console, eid)
    groups = {p["id"]: p["group"] for p in doc["participants"]}
    pairs = [(s["a"], s["b"]) for s in doc["suggestions"]]
    assert pairs, "no suggestions"
    assert all({groups[a], groups[b]} == {"buyer", "supplier"} for a, b in pairs), pairs
    shown = client.get(r.headers["location"])
    text = text_of(shown.text)
    assert "推薦を作りました" in text and "スコア" in text
    a, b = pairs[0]
    accept = _post(client, page, f"{page}/decide", {"a": a, "b": b, "decision": "must"})
    assert accept.status_code == 303
    assert _doc(console, eid)["overrides"] == [{"a": a, "b": b, "level": "must"}]
    assert "採用（必須）" in client.get(page).text
    reject = _post(client, page, f"{page}/decide", {"a": a, "b": b, "decision": "no"})
    assert reject.status_code == 303
    assert _doc(console, eid)["overrides"] == [{"a": a, "b": b, "level": "no"}]
    undo = _post(client, page, f"{page}/decide", {"a": a, "b": b, "decision": "undo"})
    assert undo.status_code == 303 and _doc(console, eid)["overrides"] == []
    want = _post(client, page, f"{page}/decide", {"a": a, "b": b, "decision": "want"})
    assert want.status_code == 303
    # pin the last one: it comes first, and survives a new generation
    c, d = pairs[-1]
    _post(client, page, f"{page}/pin", {"a": c, "b": d, "on": "1"})
    assert _doc(console, eid)["pinned"] == [[c, d]]
    listed = client.get(page).text
    assert listed.index("org-suggestion pinned") < listed.index("decided-want")
    _post(client, page, f"{page}/generate", {"per_participant": "1"})
    again = _doc(console, eid)
    assert {frozenset((s["a"], s["b"])) for s in again["suggestions"]} >= {frozenset((c, d))}
    assert again["overrides"] == [{"a": a, "b": b, "level": "want"}]  # decisions stay
    _post(client, page, f"{page}/pin", {"a": c, "b": d, "on": "0"})
    assert _doc(console, eid)["pinned"] == []
    # bad input
    assert _post(client, page, f"{page}/generate", {"per_participant": "0"}).status_code == 400
    bogus = _post(client, page, f"{page}/decide", {"a": a, "b": "ghost", "decision": "want"})
    assert bogus.status_code == 400
    assert (
        _post(client, page, f"{page}/decide", {"a": a, "b": b, "decision": "maybe"}).status_code
        == 400
    )


def test_accepting_a_pair_someone_refused_is_shown_not_stored(console: Console) -> None:
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    eid = _event_with_people(console, client)
    wishes = f"/console/events/{eid}/wishes"
    _post(
        client,
        wishes,
        f"{wishes}/add",
        {"source": "it-1", "target": "jp-1", "level": "no", "priority": "3"},
    )
    page = f"/console/events/{eid}/suggestions"
    r = _post(client, page, f"{page}/decide", {"a": "jp-1", "b": "it-1", "decision": "must"})
    assert r.status_code == 400
    assert "“no” contradicts it" in text_of(r.text) or "contradicts" in text_of(r.text)
    assert _doc(console, eid).get("overrides", []) == []


# ---------------------------------------------------------------------------- wishes


def test_wishes_entered_for_anyone_with_contradictions_by_field(console: Console) -> None:
    client = console.signed_in(console.user("organizer"), headers={"Accept-Language": "en"})
    eid = _event_with_people(console, client)
    page = f"/console/events/{eid}/wishes"
    ok = _post(
        client,
        page,
        f"{page}/add",
        {"source": "jp-1", "target": "it-1", "level": "want", "priority": "2"},
    )
    assert ok.status_code == 303
    assert _doc(console, eid)["wishes"] == [
        {"from": "jp-1", "to": "it-1", "level": "want", "priority": 2}
    ]
    listed = text_of(client.get(page).text)
    assert "株式会社精密歯車 Veneto Trading Srl Want 2" in listed
    clash = _post(
        client,
        page,
        f"{page}/add",
        {"source": "jp-1", "target": "it-1", "level": "no", "priority": "3"},
    )
    assert clash.status_code == 400
    assert re.search(
        r'id="f-level-error">[^<]*already a wish toward the same participant', clash.text
    )
    assert re.search(r'<option value="jp-1" selected>', clash.text)  # input kept
    self_wish = _post(
        client,
        page,
        f"{page}/add",
        {"source": "jp-1", "target": "jp-1", "level": "want", "priority": "3"},
    )
    assert self_wish.status_code == 400 and 'id="f-target-error"' in self_wish.text
    empty = _post(
        client,
        page,
        f"{page}/add",
        {"source": "", "target": "ghost", "level": "x", "priority": "9"},
    )
    assert empty.status_code == 400
    for name in ("source", "target", "level", "priority"):
        assert f'id="f-{name}-error"' in empty.text, name
    # an organizer's must on a pair, then a 'no' wish on it: refused on the level
    sug = f"/console/events/{eid}/suggestions"
    _post(client, sug, f"{sug}/decide", {"a": "uni-1", "b": "kr-1", "decision": "must"})
    no = _post(
        client,
        page,
        f"{page}/add",
        {"source": "kr-1", "target": "uni-1", "level": "no", "priority": "3"},
    )
    assert no.status_code == 400 and re.search(
        r'id="f-level-error">[^<]*organizer accepted', no.text
    )
    overrides = client.get(page).text
    assert "Accepted (must)" in overrides
    _post(client, page, f"/console/events/{eid}/overrides/remove", {"a": "uni-1", "b": "kr-1"})
    assert _doc(console, eid)["overrides"] == []
    removed = _post(
        client, page, f"{page}/remove", {"source": "jp-1", "target": "it-1", "level": "want"}
    )
    assert removed.status_code == 303 and _doc(console, eid)["wishes"] == []
