"""The organizer's schedule pages over HTTP (the real app, SQLite): every route for every
role, the solve job with its progress fragment, the grid and the per-participant view
(escaping, clock times in the event's zone), lock / unlock, moves refused with the rule
they would break, re-plans (locks kept, what moved), re-timing, and the downloads
checked line by line."""

from __future__ import annotations

import csv
import datetime as dt
import html
import io
import re
import threading
import time
from typing import Any
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from service.accounts import service as accounts
from service.auth import Principal
from service.events import service as events
from service.store.db import transaction
from tests.support.console import NASTY, Console, User, csrf_of
from tests.support.schedule import JAPANESE, START, event_doc


def principal_of(console: Console, user: User) -> Principal:
    with transaction(console.sessions) as s:
        row = accounts.find_user(s, user.email)
        assert row is not None
        return accounts.principal_for_user(row)


def create_event(
    console: Console, owner: User, doc: dict[str, Any], name: str = "多摩商談会"
) -> str:
    with transaction(console.sessions) as s:
        return events.create(s, principal_of(console, owner), {"name": name, **doc}).id


def stored(console: Console, event_id: str) -> Any:
    with transaction(console.sessions) as s:
        row = events.events.get(s, event_id)
        assert row is not None
        return {"data": row.data, "schedule": row.schedule}


def base(event_id: str) -> str:
    return f"/console/events/{event_id}/schedule"


HX = {"HX-Request": "true"}


def wait_job(client: TestClient, event_id: str, job_id: str, timeout: float = 60) -> Any:
    """Poll the progress fragment as htmx does until it redirects (or fails: 286)."""
    deadline = time.monotonic() + timeout
    while True:
        r = client.get(f"{base(event_id)}/jobs/{job_id}", headers=HX)
        if "HX-Redirect" in r.headers or r.status_code == 286:
            return r
        assert r.status_code == 200, r.text
        assert time.monotonic() < deadline, "the job did not finish"
        time.sleep(0.05)


def job_of(response: Any) -> str:
    found = re.search(r"[?&]job=([0-9a-f-]+)", response.headers["location"])
    assert found, response.headers["location"]
    return found.group(1)


def post(client: TestClient, page: str, url: str, data: dict[str, Any]) -> Any:
    """Submit a form found on `page` (its CSRF token) to `url`."""
    token = csrf_of(client.get(page).text)
    return client.post(url, data={**data, "csrf_token": token})


def solve(client: TestClient, event_id: str, time_limit: str = "5") -> Any:
    r = post(client, base(event_id), f"{base(event_id)}/run", {"time_limit": time_limit})
    assert r.status_code == 303, r.text
    done = wait_job(client, event_id, job_of(r))
    assert done.headers.get("HX-Redirect") == f"{base(event_id)}?notice=solved", done.text
    return done


def meetings_of(console: Console, event_id: str) -> list[dict[str, Any]]:
    schedule = stored(console, event_id)["schedule"]
    assert schedule is not None
    return list(schedule["meetings"])


@pytest.fixture
def owner(console: Console) -> User:
    return console.user("organizer", name="事務局 花子")


@pytest.fixture
def solved(console: Console, owner: User) -> tuple[TestClient, str]:
    """The owner's client and a solved 12-participant event with hostile names."""
    doc = event_doc(names={0: NASTY, 1: JAPANESE, 2: 'Quote "Co" & <b>'})
    event_id = create_event(console, owner, doc)
    client = console.signed_in(owner, headers={"Accept-Language": "ja"})
    solve(client, event_id)
    return client, event_id


# ---------------------------------------------------------------------------- roles


def _routes(event_id: str, meeting: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    b = base(event_id)
    pair = {"a": meeting["a"], "b": meeting["b"]}
    return [
        ("GET", b, {}),
        ("GET", f"{b}/grid", {}),
        ("GET", f"{b}/participants/{meeting['a']}", {}),
        ("GET", f"{b}/meeting?a={meeting['a']}&b={meeting['b']}", {}),
        ("GET", f"{b}/replan", {}),
        ("GET", f"{b}/changes", {}),
        ("GET", f"{b}/retime", {}),
        ("GET", f"{b}/export/schedule.csv", {}),
        ("GET", f"{b}/export/calendar?participant={meeting['a']}", {}),
        ("GET", f"{b}/export/agendas.html", {}),
        ("POST", f"{b}/run", {"time_limit": "1"}),
        ("POST", f"{b}/lock", pair),
        ("POST", f"{b}/unlock", pair),
        ("POST", f"{b}/move", {**pair, "slot": "0", "table": "T1"}),
        ("POST", f"{b}/replan", {"no_show": meeting["a"], "time_limit": "1"}),
        ("POST", f"{b}/retime", {"time_limit": "1"}),
    ]


def test_every_route_for_every_role(console: Console, owner: User, solved: Any) -> None:
    """The owner and admins reach every page; another office's organizer gets the API's
    404 (the event is not its office's), a member 403, a signed-out browser the sign-in
    page. Nothing is written by those refused."""
    _, event_id = solved
    meeting = meetings_of(console, event_id)[0]
    admin = console.signed_in(console.user("admin"))
    other = console.signed_in(console.user("organizer", office="north"))
    member = console.signed_in(console.user("member", profile_id="jp-1"))
    anonymous = console.client()
    own = console.signed_in(owner)
    for method, url, data in _routes(event_id, meeting):
        before = stored(console, event_id)
        for client, expected in ((other, 404), (member, 403), (anonymous, 303)):
            if method == "GET":
                r = client.get(url)
            else:
                # a real form's token (the home page's sign-out form, or the sign-in form)
                page = client.get("/console" if client is not anonymous else "/console/sign-in")
                r = client.post(url, data={**data, "csrf_token": csrf_of(page.text)})
            if client is anonymous and method != "GET":
                expected = 403  # a signed-out post is refused before its body is read
            assert r.status_code == expected, (method, url, r.status_code)
            if expected == 303:
                assert r.headers["location"].startswith("/console/sign-in"), url
            else:
                assert "<html" in r.text and "Traceback" not in r.text
        assert stored(console, event_id) == before, f"{method} {url} changed the event"
        for client in (own, admin):
            if method == "GET":
                r = client.get(url)
                assert r.status_code == 200, (url, r.status_code, r.text[:500])
            else:
                r = post(client, base(event_id), url, data)
                assert r.status_code in (303, 409), (url, r.status_code, r.text[:500])
                if "job=" in r.headers.get("location", ""):
                    finished = wait_job(client, event_id, job_of(r))
                    assert "HX-Redirect" in finished.headers or finished.status_code == 286


def test_an_unknown_event_or_participant_is_a_404_page(console: Console, solved: Any) -> None:
    client, event_id = solved
    for url in (
        base("no-such-event"),
        base("x" * 300) + "/grid",
        f"{base(event_id)}/participants/nobody",
        f"{base(event_id)}/meeting?a=p000&b=nobody",
        f"{base(event_id)}/export/calendar?participant=nobody",
        f"{base(event_id)}/jobs/not-a-job",
    ):
        r = client.get(url)
        assert r.status_code == 404, url
        assert "ページが見つかりません" in r.text and "Traceback" not in r.text


# ---------------------------------------------------------------------------- solving


def test_running_the_solver_shows_progress_then_the_result(console: Console, owner: User) -> None:
    event_id = create_event(console, owner, event_doc())
    client = console.signed_in(owner, headers={"Accept-Language": "ja"})
    page = client.get(base(event_id))
    assert "スケジュールを作成" in page.text and "まだ計算していません" in page.text
    # (the runner does one job at a time: a job holding it keeps ours queued meanwhile)
    gate = threading.Event()
    console.app.state.jobs.submit("hold", lambda s, p: {"held": gate.wait(30)}, total=1)
    r = post(client, base(event_id), f"{base(event_id)}/run", {"time_limit": "5"})
    assert r.status_code == 303
    job = job_of(r)
    # the page polls the job's fragment every second, the button off meanwhile
    page = client.get(r.headers["location"])
    assert page.status_code == 200
    assert f'hx-get="{base(event_id)}/jobs/{job}"' in page.text
    assert 'hx-trigger="every 1s"' in page.text and "<progress" in page.text
    assert "順番待ち" in page.text and 'type="submit" disabled>スケジュールを作成' in page.text
    gate.set()
    done = wait_job(client, event_id, job)
    assert done.headers["HX-Redirect"] == f"{base(event_id)}?notice=solved"
    result = client.get(done.headers["HX-Redirect"])
    assert "スケジュールを作成しました" in result.text
    for words in ("最適", "目的値", "上限値", "ギャップ", "0.00%"):
        assert words in result.text
    # without htmx, the fragment's URL sends a browser to the result
    plain = client.get(f"{base(event_id)}/jobs/{job}")
    assert plain.status_code == 303 and plain.headers["location"].endswith("?notice=solved")


def _fake_job(console: Console, owner: User, kind: str = "schedule", **values: Any) -> str:
    import uuid

    from service.store import jobs as job_store

    job_id = str(uuid.uuid4())
    with transaction(console.sessions) as s:
        job_store.add(s, job_id, kind, 1, principal_of(console, owner).key_pk)
        if values:
            job_store.set_values(s, job_id, **values)
    return job_id


def test_the_progress_fragment_shows_the_phase_and_the_time(console: Console, owner: User) -> None:
    """The solver's stage as the phase, time against the limit as the bar; a failed job
    stops the polling (286) with the reason; a job of another event or kind is a 404."""
    event_id = create_event(console, owner, event_doc())
    client = console.signed_in(owner, headers={"Accept-Language": "ja"})
    queued = _fake_job(console, owner)
    r = client.get(f"{base(event_id)}/jobs/{queued}", headers=HX)
    assert r.status_code == 200 and "順番待ち" in r.text
    assert "<progress aria-labelledby" in r.text and 'value="' not in r.text  # indeterminate
    running = _fake_job(
        console, owner, status="running", phase="solving:value", done=12_400, total=30_000
    )
    r = client.get(f"{base(event_id)}/jobs/{running}", headers=HX)
    assert r.status_code == 200 and "HX-Redirect" not in r.headers
    assert "面談の価値を最大化中" in r.text
    assert 'max="100" value="41"' in r.text and "41%" in r.text
    assert "12 秒経過（上限 30 秒" in r.text
    en = client.get(f"{base(event_id)}/jobs/{running}?lang=en", headers=HX)
    assert "Maximizing the meetings" in en.text and "12 s of at most 30 s" in en.text
    failed = _fake_job(console, owner, status="failed", phase="solving", error="boom <b>")
    r = client.get(f"{base(event_id)}/jobs/{failed}?lang=ja", headers=HX)
    assert r.status_code == 286 and "処理が失敗しました" in r.text and "boom &lt;b&gt;" in r.text
    other_event = _fake_job(console, owner, status="succeeded", report={"event": "elsewhere"})
    assert client.get(f"{base(event_id)}/jobs/{other_event}", headers=HX).status_code == 404
    # a page asked to show a job that has already ended goes to the result
    finished = _fake_job(console, owner, status="succeeded", report={"event": event_id})
    r = client.get(f"{base(event_id)}?job={finished}")
    assert r.status_code == 303 and r.headers["location"] == f"{base(event_id)}?notice=solved"
    replanned = _fake_job(console, owner, "replan", status="succeeded", report={"event": event_id})
    r = client.get(f"{base(event_id)}/replan?job={replanned}")
    assert r.headers["location"] == f"{base(event_id)}/changes?notice=replanned"
    other_kind = _fake_job(console, owner, kind="import")
    assert client.get(f"{base(event_id)}/jobs/{other_kind}", headers=HX).status_code == 404
    # another office's organizer may not watch the job (the API's rule); another organizer
    # of the owner's office may: it shares the office's events
    stranger = console.signed_in(console.user("organizer", office="north"))
    theirs = create_event(console, owner, event_doc())
    assert stranger.get(f"{base(theirs)}/jobs/{running}", headers=HX).status_code == 404
    colleague = console.signed_in(console.user("organizer"))
    assert colleague.get(f"{base(event_id)}/jobs/{running}", headers=HX).status_code == 200


def test_a_bad_time_limit_is_refused_with_the_field_and_kept(console: Console, owner: User) -> None:
    event_id = create_event(console, owner, event_doc())
    client = console.signed_in(owner, headers={"Accept-Language": "en"})
    for value in ("abc", "0", "601", "nan", "1e9"):
        r = post(client, base(event_id), f"{base(event_id)}/run", {"time_limit": value})
        assert r.status_code == 400, value
        assert "Enter a number of seconds from 1 to the maximum." in r.text
        assert f'value="{value}"' in r.text and 'aria-invalid="true"' in r.text
    assert stored(console, event_id)["schedule"] is None


# ---------------------------------------------------------------------------- grid and people


def test_the_grid_shows_times_in_the_events_zone_and_escapes_names(
    console: Console, solved: Any
) -> None:
    client, event_id = solved
    page = client.get(f"{base(event_id)}/grid")
    assert page.status_code == 200
    text = page.text
    assert "<script>alert(1)" not in text and "<b>" not in text
    assert html.escape(NASTY, quote=False).replace("&#x27;", "'") in text.replace(
        "&#34;", '"'
    ).replace("&#39;", "'")
    assert JAPANESE in text and "Quote &#34;Co&#34; &amp; &lt;b&gt;" in text
    # rows: clock times in Asia/Tokyo, the day on the first row; columns: the tables
    for k in range(6):
        start = START + dt.timedelta(minutes=20 * k)
        assert f"{start:%H:%M}–{start + dt.timedelta(minutes=20):%H:%M}" in text
    assert "6月10日（水）" in text and "時刻は Asia/Tokyo の現地時間" in text
    for table in ("T1", "T2", "T3", "T4"):
        assert f'<th scope="col">{table}</th>' in text
    # every meeting is in its cell, both names linking to the per-participant view
    cells = re.findall(r'<td class="meeting[^"]*">(.*?)</td>', text)
    meetings = meetings_of(console, event_id)
    assert len(cells) == len(meetings)
    first = meetings[0]
    assert f'href="participants/{first["a"]}"' in text
    assert f'href="meeting?a={first["a"]}&amp;b={first["b"]}"' in text
    assert "目的値" in text and "上限値" in text and "ギャップ" in text


def test_the_participant_view_lists_meetings_reasons_and_left_out_requests(
    console: Console, solved: Any
) -> None:
    client, event_id = solved
    schedule = stored(console, event_id)["schedule"]
    mine = [m for m in schedule["meetings"] if "p000" in (m["a"], m["b"])]
    page = client.get(f"{base(event_id)}/participants/p000")
    text = page.text
    assert page.status_code == 200 and "<script>alert(1)" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the name, escaped, as the title
    assert f"商談（{len(mine)} 件）" in text
    for m in mine:
        slot = START + dt.timedelta(minutes=20 * m["slot"])
        assert f"第{m['slot'] + 1}枠 {slot:%H:%M}–" in text
    assert "の希望：" in text  # the reason each meeting was asked for
    left_out = [u for u in schedule["unplaced"] if "p000" in (u["a"], u["b"])]
    if left_out:
        assert f"入らなかった面談希望（{len(left_out)} 件）" in text
    en = client.get(f"{base(event_id)}/participants/p001?lang=en").text
    assert JAPANESE in en and "Meetings at" in en and "(priority" in en


def test_every_unplaced_request_is_listed_with_its_reason(console: Console, solved: Any) -> None:
    client, event_id = solved
    unplaced = stored(console, event_id)["schedule"]["unplaced"]
    assert unplaced, "the fixture's event should leave some requests out"
    page = client.get(base(event_id)).text
    assert f"入らなかった面談希望（{len(unplaced)} 件）" in page
    body = page.split('id="unplaced-title"')[1]
    assert body.count("<tr>") == len(unplaced) + 1
    labels = {
        "lower_priority": "共通の空き枠を優先度の高い商談が使った",
        "not_selected": "空き枠はあったが選ばれなかった",
        "table_capacity": "座れるテーブルが空いていない",
        "no_common_slot": "双方が空いている枠がない",
        "max_meetings": "どちらかが面談数の上限に達した",
    }
    for u in unplaced:
        assert labels[u["code"]] in body
        assert html.escape(u["reason"], quote=True).replace("&#x27;", "&#39;") in body


# ---------------------------------------------------------------------------- lock and move


MOVE_DOC: dict[str, Any] = {
    "slots": 4,
    "tables": [
        {"id": "T1"},
        {"id": "T2", "capacity": 2, "name": "卓 2"},
        {"id": "T3", "available": [0, 1]},
    ],
    "participants": [
        {"id": "a", "name": NASTY},
        {"id": "b", "name": JAPANESE},
        {"id": "c", "name": "会社C"},
        {"id": "d", "name": "会社D"},
        {"id": "e", "name": "会社E", "available": [0, 1, 2]},
        {"id": "f", "name": "会社F", "party_size": 2},
    ],
    "wishes": [
        {"from": "a", "to": "b", "level": "must"},
        {"from": "c", "to": "d", "level": "want"},
        {"from": "a", "to": "c", "level": "want"},
        {"from": "e", "to": "f", "level": "want"},
        {"from": "d", "to": "b", "level": "no"},
    ],
    "timezone": "Asia/Tokyo",
    "slot_times": ["2026-06-10T13:00", "2026-06-10T13:20", "2026-06-10T13:40", "2026-06-10T14:00"],
}
MOVE_MEETINGS = [
    {"a": "a", "b": "b", "slot": 0, "table": "T1"},
    {"a": "c", "b": "d", "slot": 0, "table": "T2"},
    {"a": "a", "b": "c", "slot": 1, "table": "T1"},
    {"a": "e", "b": "f", "slot": 2, "table": "T1"},
    {"a": "b", "b": "d", "slot": 3, "table": "T1"},  # (placed before d said no)
]


@pytest.fixture
def hand_made(console: Console, owner: User) -> tuple[TestClient, str]:
    """An event whose schedule is written by hand, so that each move below breaks a
    known rule."""
    event_id = create_event(console, owner, MOVE_DOC, name="移動テスト")
    with transaction(console.sessions) as s:
        row = events.events.get(s, event_id)
        assert row is not None
        row.schedule = {"meetings": [dict(m) for m in MOVE_MEETINGS], "status": "OPTIMAL"}
    return console.signed_in(owner, headers={"Accept-Language": "ja"}), event_id


def _move(
    client: TestClient, event_id: str, a: str, b: str, slot: Any, table: str, lock: str = ""
) -> Any:
    page = f"{base(event_id)}/meeting?a={a}&b={b}"
    return post(
        client,
        page,
        f"{base(event_id)}/move",
        {"a": a, "b": b, "slot": slot, "table": table, "lock": lock},
    )


@pytest.mark.parametrize(
    ("a", "b", "slot", "table", "rules"),
    [
        (
            "a",
            "b",
            1,
            "T2",
            [
                "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp; は 第2枠 13:20–13:40 に "
                "会社C との商談があります。"
            ],
        ),
        (
            "c",
            "d",
            2,
            "T1",
            ["テーブル T1 は 第3枠 13:40–14:00 に 会社E と 会社F の商談で使われています。"],
        ),
        ("c", "d", 2, "T3", ["テーブル T3 は 第3枠 13:40–14:00 に使えません。"]),
        (
            "e",
            "f",
            3,
            "T2",
            [
                "会社E は 第4枠 14:00–14:20 に参加できません。",
                "テーブル 卓 2 は 2 席ですが、この商談には 3 席必要です。",
            ],
        ),
        ("b", "d", 2, "T2", ["会社D が「会わない」と希望しています。"]),
        ("a", "b", 0, "T1", ["商談はすでにその枠とテーブルにあります。"]),
    ],
)
def test_a_move_that_breaks_a_rule_is_refused_with_the_rule(
    console: Console, hand_made: Any, a: str, b: str, slot: int, table: str, rules: list[str]
) -> None:
    client, event_id = hand_made
    before = stored(console, event_id)
    r = _move(client, event_id, a, b, slot, table)
    assert r.status_code == 409
    assert "この移動はできません。次のルールに反します。" in r.text
    for rule in rules:
        assert rule in r.text
    assert r.text.count(
        "<li>",
        r.text.index("次のルールに反します"),
        r.text.index("</ul>", r.text.index("次のルールに反します")),
    ) == len(rules)
    assert f'<option value="{slot}" selected>' in r.text  # the choice is kept
    assert stored(console, event_id) == before  # nothing changed


def test_a_refused_move_speaks_english_too(console: Console, hand_made: Any) -> None:
    client, event_id = hand_made
    r = _move(client, event_id, "a", "b", 1, "T2")
    client.get("/console?lang=en")
    r = _move(client, event_id, "a", "b", 1, "T2")
    assert r.status_code == 409 and "This move is not possible: it breaks these rules." in r.text
    assert "already meets 会社C at Slot 2 13:20–13:40." in r.text


def test_group_rules_and_blocked_pairs_refuse_a_move(
    console: Console, owner: User, hand_made: Any
) -> None:
    client, event_id = hand_made
    with transaction(console.sessions) as s:
        row = events.events.get(s, event_id)
        assert row is not None
        people = [
            {**p, "group": "buyer" if p["id"] in ("a", "c") else "supplier"}
            for p in MOVE_DOC["participants"]
        ]
        row.data = {
            **row.data,
            "participants": people,
            "allow": [["buyer", "supplier"]],
            "blocked": [["a", "b"]],
        }
    r = _move(client, event_id, "a", "c", 2, "T2")  # both buyers
    assert (
        r.status_code == 409 and "グループ「buyer」と「buyer」は面談できないルールです。" in r.text
    )
    r = _move(client, event_id, "a", "b", 2, "T2")
    assert r.status_code == 409 and "同席できない設定です" in r.text


def test_bad_move_fields_are_a_400_with_the_field(console: Console, hand_made: Any) -> None:
    client, event_id = hand_made
    r = _move(client, event_id, "c", "d", "x", "T9")
    assert r.status_code == 400
    assert (
        "一覧にある枠を選んでください。" in r.text
        and "一覧にあるテーブルを選んでください。" in r.text
    )
    r = _move(client, event_id, "c", "d", "99", "T1")
    assert r.status_code == 400 and "一覧にある枠を選んでください。" in r.text
    assert _move(client, event_id, "c", "nobody", "1", "T1").status_code == 404


def test_a_move_that_breaks_nothing_is_made_and_locked(console: Console, hand_made: Any) -> None:
    client, event_id = hand_made
    page = client.get(f"{base(event_id)}/meeting?a=c&b=d").text
    assert "移動できる場所" in page and "第3枠 13:40–14:00" in page  # a free place is offered
    r = _move(client, event_id, "c", "d", 2, "T2", lock="on")
    assert r.status_code == 303
    assert r.headers["location"] == f"{base(event_id)}/meeting?a=c&b=d&notice=moved"
    now = stored(console, event_id)
    assert {"a": "c", "b": "d", "slot": 2, "table": "T2"} in now["schedule"]["meetings"]
    assert {"a": "c", "b": "d", "slot": 2, "table": "T2"} in now["data"]["locked"]
    assert now["schedule"]["moves"][-1]["from_slot"] == 0
    page = client.get(r.headers["location"]).text
    assert "商談を移動しました。" in page and "固定を解除" in page
    # a locked meeting is not moved: unlock it first
    r = _move(client, event_id, "c", "d", 1, "T2")
    assert (
        r.status_code == 409
        and "この商談は固定されています。先に固定を解除してください。" in r.text
    )


def test_lock_and_unlock_from_the_meeting_page(console: Console, hand_made: Any) -> None:
    client, event_id = hand_made
    page = f"{base(event_id)}/meeting?a=a&b=b"
    r = post(client, page, f"{base(event_id)}/lock", {"a": "a", "b": "b"})
    assert r.status_code == 303 and r.headers["location"].endswith("notice=locked")
    assert stored(console, event_id)["data"]["locked"] == [
        {"a": "a", "b": "b", "slot": 0, "table": "T1"}
    ]
    grid = client.get(f"{base(event_id)}/grid").text
    assert grid.count('class="meeting locked"') == 1 and "固定" in grid
    r = post(client, page, f"{base(event_id)}/unlock", {"a": "a", "b": "b", "next": "grid"})
    assert (
        r.status_code == 303 and r.headers["location"] == f"{base(event_id)}/grid?notice=unlocked"
    )
    assert stored(console, event_id)["data"]["locked"] == []
    # a pair that is not in the schedule cannot be locked
    assert post(client, page, f"{base(event_id)}/lock", {"a": "a", "b": "f"}).status_code == 404


def test_a_lock_that_contradicts_the_event_is_refused(console: Console, hand_made: Any) -> None:
    """b–d was placed before d said no: the event's validation refuses to lock it."""
    client, event_id = hand_made
    r = post(
        client, f"{base(event_id)}/meeting?a=b&b=d", f"{base(event_id)}/lock", {"a": "b", "b": "d"}
    )
    assert r.status_code == 409 and "固定できません" in r.text
    assert "locked meeting contradicts the &#39;no&#39; wish" in r.text
    assert "locked" not in stored(console, event_id)["data"]


# ---------------------------------------------------------------------------- re-plan


def _replan(client: TestClient, event_id: str, data: dict[str, Any]) -> Any:
    return post(client, f"{base(event_id)}/replan", f"{base(event_id)}/replan", data)


def test_a_lock_survives_a_replan_and_a_no_show_shows_what_moved(
    console: Console, solved: Any
) -> None:
    client, event_id = solved
    meetings = meetings_of(console, event_id)
    locked = meetings[0]
    pair = {locked["a"], locked["b"]}
    # the no-show: someone with meetings, not in the locked one
    counts: dict[str, int] = {}
    for m in meetings:
        for pid in (m["a"], m["b"]):
            counts[pid] = counts.get(pid, 0) + 1
    gone = max((pid for pid in counts if pid not in pair), key=lambda pid: counts[pid])
    r = post(
        client,
        f"{base(event_id)}/meeting?a={locked['a']}&b={locked['b']}",
        f"{base(event_id)}/lock",
        {"a": locked["a"], "b": locked["b"]},
    )
    assert r.status_code == 303
    page = client.get(f"{base(event_id)}/replan").text
    assert "欠席と遅刻" in page and 'name="no_show"' in page and 'name="late"' in page
    # announced meetings free to move: only the lock holds the meeting in place
    r = _replan(client, event_id, {"no_show": gone, "time_limit": "5"})
    assert r.status_code == 303 and "/replan?job=" in r.headers["location"]
    shown = client.get(r.headers["location"])  # (a fast job may be over already: its result)
    assert "<progress" in shown.text or shown.headers["location"].endswith("notice=replanned")
    done = wait_job(client, event_id, job_of(r))
    assert done.headers["HX-Redirect"] == f"{base(event_id)}/changes?notice=replanned"
    after = meetings_of(console, event_id)
    assert locked in after  # same slot, same table
    assert not [m for m in after if gone in (m["a"], m["b"])]
    report = stored(console, event_id)["schedule"]["changes"]
    assert report["dropped"] == counts[gone]
    page = client.get(done.headers["HX-Redirect"])
    text = page.text
    assert page.status_code == 200 and "スケジュールを組み直しました" in text
    assert f"<strong>{report['kept']}</strong> 件はそのまま" in text
    assert f"<strong>{report['dropped']}</strong> 件は中止" in text
    assert f"中止になった商談（{report['dropped']} 件）" in text
    dropped = text.split('id="dropped-title"')[1].split("</section>")[0]
    assert dropped.count("欠席のため") == counts[gone]
    assert f"移動した商談（{report['moved']} 件）" in text
    assert f"追加した商談（{report['added']} 件）" in text


def test_a_late_arrival_is_planned_from_its_slot(console: Console, solved: Any) -> None:
    client, event_id = solved
    meetings = meetings_of(console, event_id)
    early = next(m for m in meetings if m["slot"] == 0)
    late = early["a"]
    r = _replan(client, event_id, {"late": f"3|{late}", "announced": "on", "time_limit": "5"})
    assert r.status_code == 303, r.text
    wait_job(client, event_id, job_of(r))
    assert all(m["slot"] >= 3 for m in meetings_of(console, event_id) if late in (m["a"], m["b"]))


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "欠席または遅刻の参加者を 1 社以上選んでください。"),
        ({"no_show": "nobody"}, "一覧にない参加者が指定されました。"),
        ({"no_show": "p003", "late": "2|p003"}, "会社3 が欠席と遅刻の両方になっています。"),
        ({"late": "99|p003"}, "遅刻の指定が正しくありません。"),
        ({"no_show": "p003", "time_limit": "-4"}, "1 から上限までの秒数を入力してください。"),
    ],
)
def test_bad_replan_forms_are_a_400_with_the_reason(
    console: Console, solved: Any, data: dict[str, Any], message: str
) -> None:
    client, event_id = solved
    before = stored(console, event_id)
    r = _replan(client, event_id, data)
    assert r.status_code == 400 and message in r.text
    if data.get("no_show") == "p003":
        assert 'value="p003" checked' in r.text  # the input is kept
    assert stored(console, event_id) == before


def test_a_late_arrival_with_no_slot_left_is_refused(console: Console, owner: User) -> None:
    doc = event_doc()
    doc["participants"][3]["available"] = [0, 1]
    event_id = create_event(console, owner, doc)
    client = console.signed_in(owner, headers={"Accept-Language": "ja"})
    solve(client, event_id)
    r = _replan(client, event_id, {"late": "2|p003"})
    assert r.status_code == 400
    assert "会社3 はその枠以降に参加できる枠がありません。欠席にしてください。" in r.text


def test_a_stale_schedule_is_shown_on_every_page_until_it_is_re_planned(
    console: Console, owner: User, solved: Any
) -> None:
    """The event loses its last two slots and a participant after the solve. Before: the
    pages showed the old schedule as if nothing had happened (the grid and agendas just
    without the meetings in removed slots) and the CSV answered 500."""
    client, event_id = solved
    meetings = meetings_of(console, event_id)
    doc = stored(console, event_id)["data"]
    gone = meetings[0]["a"]
    edited = {
        **doc,
        "name": "多摩商談会",
        "slots": 4,
        "slot_times": doc["slot_times"][:4],
        "participants": [p for p in doc["participants"] if p["id"] != gone],
        "wishes": [w for w in doc["wishes"] if gone not in (w["from"], w["to"])],
    }
    with transaction(console.sessions) as s:
        events.replace(s, principal_of(console, owner), event_id, edited)
    broken = [m for m in meetings if m["slot"] >= 4 or gone in (m["a"], m["b"])]
    late = next(m for m in meetings if m["slot"] >= 4 and gone not in (m["a"], m["b"]))
    b = base(event_id)
    pages = [b, f"{b}/grid", f"{b}/participants/{late['a']}", f"{b}/replan", f"{b}/retime"]
    for url in pages:
        page = client.get(url)
        assert page.status_code == 200, url
        assert "このスケジュールは現在の商談会の内容と合っていません" in page.text, url
        assert f"{len(broken)} 件の商談が予定どおりに行えません" in page.text, url
        assert f"{gone} は参加者ではなくなりました" in html.unescape(page.text), url
        assert "この枠はなくなりました" in page.text, url
    overview = client.get(b).text
    assert f'href="{b}/replan">いま組み直す' in overview
    assert "/export/schedule.csv" not in overview  # no download link while stale
    for url in (
        f"{b}/export/schedule.csv",
        f"{b}/export/calendar?participant={late['a']}",
        f"{b}/export/agendas.html",
    ):
        r = client.get(url)
        assert r.status_code == 409 and "スケジュールを組み直してください" in r.text, url
    r = post(client, b, f"{b}/retime", {"time_limit": "1"})
    assert r.status_code == 409 and "スケジュールを組み直してください" in r.text
    english = console.signed_in(owner, headers={"Accept-Language": "en"}).get(f"{b}/grid").text
    assert "This schedule no longer fits the event" in english
    assert f"{gone} is no longer a participant" in html.unescape(english)

    # re-plan as it is (no no-show or late arrival to mark: the event has the changes)
    r = post(client, f"{b}/replan", f"{b}/replan", {"time_limit": "5", "announced": "1"})
    assert r.status_code == 303, r.text
    wait_job(client, event_id, job_of(r))
    for url in pages:
        assert "合っていません" not in client.get(url).text, url
    assert client.get(f"{b}/export/schedule.csv").status_code == 200
    assert all(
        m["slot"] < 4 and gone not in (m["a"], m["b"]) for m in meetings_of(console, event_id)
    )


# ---------------------------------------------------------------------------- re-time


def test_retime_shows_the_breaks_before_and_after(console: Console, owner: User) -> None:
    doc = event_doc(n=10, slots=8, tables=3, wishes_each=2, seed=3)
    event_id = create_event(console, owner, doc)
    client = console.signed_in(owner, headers={"Accept-Language": "ja"})
    solve(client, event_id)
    page = client.get(f"{base(event_id)}/retime").text
    assert "空き時間は合計" in page
    r = post(
        client,
        f"{base(event_id)}/retime",
        f"{base(event_id)}/retime",
        {"fairness": "-1", "morning_slots": "0", "time_limit": "5"},
    )
    assert r.status_code == 303
    done = wait_job(client, event_id, job_of(r))
    assert done.headers["HX-Redirect"] == f"{base(event_id)}/retime?notice=retimed"
    summary = stored(console, event_id)["schedule"]["retime"]
    assert summary["breaks"] <= summary["breaks_before"]
    text = client.get(done.headers["HX-Redirect"]).text
    assert "空き時間が少なくなるよう時間を組み替えました。" in text
    assert f"<strong>{summary['breaks_before']}</strong>" in text
    assert f"<strong>{summary['breaks']}</strong>" in text
    assert f"空き時間は合計 {summary['breaks']} 回です" in text


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"fairness": "x"}, "-1 から 100 までの整数を入力してください。"),
        ({"morning_slots": "99"}, "0 から枠の数までの整数を入力してください。"),
        ({"time_limit": "0"}, "1 から上限までの秒数を入力してください。"),
    ],
)
def test_bad_retime_forms_are_a_400(
    console: Console, solved: Any, data: dict[str, str], field: str
) -> None:
    client, event_id = solved
    r = post(client, f"{base(event_id)}/retime", f"{base(event_id)}/retime", data)
    assert r.status_code == 400 and field in r.text
    assert f'value="{next(iter(data.values()))}"' in r.text


def test_retime_refused_by_the_model_says_why(console: Console, owner: User) -> None:
    """Tables of different sizes do not fit the fewest-breaks model: the job fails and
    the page says so, with the model's reason."""
    doc = event_doc(tables=[{"id": "T1", "capacity": 2}, {"id": "T2"}])
    event_id = create_event(console, owner, doc)
    client = console.signed_in(owner, headers={"Accept-Language": "ja"})
    solve(client, event_id)
    r = post(client, f"{base(event_id)}/retime", f"{base(event_id)}/retime", {"time_limit": "5"})
    done = wait_job(client, event_id, job_of(r))
    assert done.status_code == 286
    assert "処理が失敗しました" in done.text and "interchangeable tables" in done.text


# ---------------------------------------------------------------------------- downloads


def test_the_downloads_are_the_apis_exports(console: Console, solved: Any) -> None:
    client, event_id = solved
    meetings = meetings_of(console, event_id)
    page = client.get(base(event_id)).text
    assert f'href="{base(event_id)}/export/schedule.csv" download' in page
    assert 'action="' + base(event_id) + '/export/calendar"' in page

    r = client.get(f"{base(event_id)}/export/schedule.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][0] == "枠 Slot" and len(rows) == len(meetings) + 1
    by_pair = {frozenset((row[4], row[6])): row for row in rows[1:]}
    for m in meetings:
        row = by_pair[frozenset((m["a"], m["b"]))]
        start = START + dt.timedelta(minutes=20 * m["slot"])
        # the CSV counts slots from 1, as every printed output does (issue 19.15)
        assert row[0] == str(m["slot"] + 1) and row[1] == start.isoformat(timespec="minutes")
    names = {row[5] for row in rows[1:]} | {row[7] for row in rows[1:]}
    assert JAPANESE in names
    assert NASTY in names or not any("p000" in (m["a"], m["b"]) for m in meetings)

    mine = sorted((m for m in meetings if "p001" in (m["a"], m["b"])), key=lambda m: m["slot"])
    r = client.get(f"{base(event_id)}/export/calendar?participant=p001")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/calendar")
    assert "attachment" in r.headers["content-disposition"]
    ics = r.text
    assert ics.count("BEGIN:VEVENT") == len(mine) > 0
    starts = re.findall(r"DTSTART:(\d{8}T\d{6}Z)", ics)
    expected = [
        (START + dt.timedelta(minutes=20 * m["slot"])).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        for m in mine
    ]
    assert starts == expected

    r = client.get(f"{base(event_id)}/export/agendas.html")
    assert r.status_code == 200 and "attachment" in r.headers["content-disposition"]
    agendas = r.text
    assert agendas.count("<section>") == 12
    assert "<title>多摩商談会 — 商談スケジュール" in agendas  # the event's own name
    assert JAPANESE in agendas and "&lt;script&gt;alert(1)&lt;/script&gt;" in agendas
    assert "<script>alert(1)" not in agendas
    printable = client.get(f"{base(event_id)}/export/agendas.html?view=print")
    assert "attachment" not in printable.headers.get("content-disposition", "")
    assert "style-src 'unsafe-inline'" in printable.headers["content-security-policy"]
    assert "script-src" not in printable.headers["content-security-policy"]
    one = client.get(f"{base(event_id)}/export/agendas.html?participant=p001").text
    assert one.count("<section>") == 1 and JAPANESE in one
    # names in the download's file name are kept, in UTF-8
    assert (
        quote(JAPANESE)
        in client.get(f"{base(event_id)}/export/agendas.html?participant=p001").headers[
            "content-disposition"
        ]
        or "agendas.html" in r.headers["content-disposition"]
    )


def test_downloads_before_any_schedule_are_a_404(console: Console, owner: User) -> None:
    event_id = create_event(console, owner, event_doc())
    client = console.signed_in(owner)
    for url in ("schedule.csv", "calendar?participant=p001", "agendas.html"):
        assert client.get(f"{base(event_id)}/export/{url}").status_code == 404
    for page in ("grid", "replan", "retime", "changes"):
        r = client.get(f"{base(event_id)}/{page}")
        assert r.status_code == 200 and "schedule.empty" not in r.text


def test_every_page_escapes_what_people_typed(console: Console, solved: Any) -> None:
    """Participant and event names with markup, quotes and Japanese, on every page of
    the area (after a re-plan, so that the changes page has rows too)."""
    client, event_id = solved
    r = _replan(client, event_id, {"no_show": "p005", "time_limit": "5"})
    wait_job(client, event_id, job_of(r))
    with transaction(console.sessions) as s:
        row = events.events.get(s, event_id)
        assert row is not None
        row.name = f"{NASTY} {JAPANESE}"
    meeting = next(m for m in meetings_of(console, event_id) if "p000" in (m["a"], m["b"]))
    b = base(event_id)
    pages = [
        b,
        f"{b}/grid",
        f"{b}/participants/p000",
        f"{b}/participants/p001",
        f"{b}/meeting?a={meeting['a']}&b={meeting['b']}",
        f"{b}/replan",
        f"{b}/changes",
        f"{b}/retime",
    ]
    for url in pages:
        for lang in ("ja", "en"):
            text = client.get(f"{url}{'&' if '?' in url else '?'}lang={lang}").text
            assert "<script>alert(1)" not in text, url
            assert "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;&amp;" in text, url
            assert JAPANESE in text, url
    agendas = client.get(f"{b}/export/agendas.html").text
    assert "<script>alert(1)" not in agendas and html.escape(NASTY) in agendas
