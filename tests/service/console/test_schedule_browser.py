"""The second half of issue 17's flow 1 in a real Chromium against a real server: an
organizer schedules a 20-participant event with the progress bar, opens the grid, locks a
meeting, marks a no-show, re-plans, sees what moved, and downloads the printable agendas
and one participant's calendar; the downloaded files are read and checked. Screenshots
go to tests/.artifacts/screens/ (schedule-*.png)."""

from __future__ import annotations

import datetime as dt
import html
import re
import time
from pathlib import Path
from typing import Any

import pytest

from service.accounts import service as accounts
from service.events import service as events
from service.store import events as event_store
from service.store.db import transaction
from tests.support.browser import shot
from tests.support.console import NASTY
from tests.support.schedule import START, event_doc

pytestmark = pytest.mark.browser

NAMES = {
    0: "株式会社多摩精機",
    1: "八王子プレス工業",
    2: NASTY,
    3: "Officina Meccanica Rossi S.p.A.",
    4: "相模原電子「試作」センター",
}


def _expect() -> Any:
    from playwright.sync_api import expect

    return expect


def _event(live_server: Any, email: str) -> str:
    """A 20-participant event with wishes and engine-like suggestions, owned by the
    organizer (made through the events service, in the server's database)."""
    doc = event_doc(n=20, slots=8, tables=10, seed=11, wishes_each=3, names=NAMES)
    doc["suggestions"] = [
        {"a": "p000", "b": "p005", "score": 0.82, "reason": "切削加工と試作ニーズが一致"},
        {"a": "p001", "b": "p006", "score": 0.64, "reason": "プレス部品の調達先を探索中"},
    ]
    with transaction(live_server.sessions) as s:
        user = accounts.find_user(s, email)
        assert user is not None
        row = events.create(
            s, accounts.principal_for_user(user), {"name": "多摩ものづくり商談会 2026", **doc}
        )
        return row.id


def _schedule(live_server: Any, event_id: str) -> dict[str, Any]:
    with transaction(live_server.sessions) as s:
        row = event_store.get(s, event_id)
        assert row is not None and row.schedule is not None
        return {"data": row.data, "schedule": row.schedule}


def _shot_mid_progress(page: Any, within_s: float = 4.0) -> None:
    """A screenshot once the polled bar has moved (best effort: a small event may be
    solved before the first poll)."""
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        bar = page.locator("#job progress[value]")
        try:
            value = int(bar.get_attribute("value", timeout=200) or "0")
        except Exception:  # gone: the page moved on to the result
            return
        if value > 0:
            shot(page, "schedule-02b-progress-mid-ja")
            return
        time.sleep(0.1)


def test_organizer_schedules_locks_replans_and_downloads(
    live_server: Any, new_page: Any, tmp_path: Path
) -> None:
    expect = _expect()
    email, password = live_server.user("organizer", name="事務局 花子")
    event_id = _event(live_server, email)
    base = f"/console/events/{event_id}/schedule"
    page = new_page("ja-JP")
    page.goto(base)
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    expect(page).to_have_url(re.compile(re.escape(base) + "$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("商談スケジュール")
    shot(page, "schedule-01-overview-empty-ja")

    # run the solver from the keyboard; the progress bar shows until the result loads
    limit = page.get_by_label("計算時間の上限（秒）")
    limit.fill("8")
    limit.press("Enter")
    expect(page.locator("#job progress")).to_be_visible()
    expect(page.locator("#job")).to_have_attribute("hx-trigger", "every 1s")
    shot(page, "schedule-02-progress-ja")
    _shot_mid_progress(page)
    expect(page).to_have_url(re.compile(r"\?notice=solved$"), timeout=60_000)
    expect(page.get_by_role("status").first).to_contain_text("スケジュールを作成しました")
    expect(page.get_by_text("目的値", exact=True)).to_be_visible()
    shot(page, "schedule-03-result-ja")
    solved = _schedule(live_server, event_id)
    meetings = solved["schedule"]["meetings"]
    assert meetings

    # the grid: times in Tokyo as row headers, names escaped, sticky headers
    page.get_by_role("navigation", name="スケジュールのメニュー").get_by_role(
        "link", name="スケジュール表"
    ).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("スケジュール表")
    grid = page.locator("table.sched-grid")
    expect(grid.locator("tbody th").first).to_contain_text("13:00–13:20")
    expect(grid.locator("thead th").nth(10)).to_have_text("T10")
    assert page.locator("table.sched-grid td.meeting").count() == len(meetings)
    wrap = page.locator(".sched-grid-wrap")
    assert wrap.evaluate("e => e.scrollWidth > e.clientWidth"), "the grid should scroll sideways"
    assert grid.locator("thead th").first.evaluate("e => getComputedStyle(e).position") == "sticky"
    assert grid.locator("tbody th").first.evaluate("e => getComputedStyle(e).position") == "sticky"
    if any("p002" in (m["a"], m["b"]) for m in meetings):
        expect(grid.get_by_role("link", name=NASTY).first).to_be_visible()
    shot(page, "schedule-04-grid-ja")
    wrap.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
    shot(page, "schedule-05-grid-scrolled-ja")

    # lock the first meeting of the first slot
    first = min(meetings, key=lambda m: (m["slot"], m["table"]))
    names = {p["id"]: p["name"] for p in solved["data"]["participants"]}
    grid.locator("td.meeting").first.get_by_role("link", name=re.compile("^操作")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("商談の固定と移動")
    expect(page.locator(".subtitle")).to_have_text(f"{names[first['a']]} – {names[first['b']]}")
    page.get_by_role("button", name="この枠とテーブルに固定").click()
    expect(page.get_by_role("status").first).to_contain_text("商談を固定しました")
    shot(page, "schedule-06-meeting-locked-ja")
    lock = {"a": first["a"], "b": first["b"], "slot": first["slot"], "table": first["table"]}
    assert lock in _schedule(live_server, event_id)["data"]["locked"]

    # a move that breaks a rule is refused with the rule, and nothing changes
    busy = next(
        (m, other["slot"])
        for m in meetings
        if m is not first
        for other in meetings
        if other is not m and m["a"] in (other["a"], other["b"]) and other["slot"] != m["slot"]
    )
    moving, clash = busy
    page.goto(f"{base}/meeting?a={moving['a']}&b={moving['b']}")
    page.get_by_label("移動先の枠").select_option(str(clash))
    page.get_by_role("button", name="移動する").click()
    expect(page.get_by_role("alert")).to_contain_text("この移動はできません")
    expect(page.get_by_role("alert")).to_contain_text(f"{names[moving['a']]} は 第{clash + 1}枠")
    shot(page, "schedule-07a-move-refused-ja")
    assert moving in _schedule(live_server, event_id)["schedule"]["meetings"]
    page.goto(f"{base}/grid")

    # a participant's own view
    page.get_by_role("link", name=names[first["a"]]).first.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(names[first["a"]])
    expect(page.get_by_text("主催者が固定")).to_be_visible()
    shot(page, "schedule-07-participant-ja")

    # a no-show: the busiest participant outside the locked meeting
    counts: dict[str, int] = {}
    for m in meetings:
        for pid in (m["a"], m["b"]):
            counts[pid] = counts.get(pid, 0) + 1
    gone = max((p for p in counts if p not in (first["a"], first["b"])), key=counts.__getitem__)
    page.get_by_role("navigation", name="スケジュールのメニュー").get_by_role(
        "link", name="当日の組み直し"
    ).click()
    page.get_by_label(f"{names[gone]} は欠席", exact=True).check()
    page.get_by_label("案内済みの商談はできるだけ同じ枠とテーブルのまま残す").uncheck()
    page.get_by_label("計算時間の上限（秒）").fill("8")
    shot(page, "schedule-08-replan-form-ja")
    page.get_by_role("button", name="組み直す").click()  # (the progress box, or at once the result)
    expect(page).to_have_url(re.compile(r"/changes\?notice=replanned$"), timeout=60_000)
    after = _schedule(live_server, event_id)
    report = after["schedule"]["changes"]
    assert report["dropped"] == counts[gone]
    assert lock in after["schedule"]["meetings"]  # the locked meeting did not move
    expect(page.get_by_role("heading", level=1)).to_have_text("組み直しの結果")
    expect(page.locator(".sched-counts")).to_contain_text(f"{report['dropped']} 件は中止")
    expect(
        page.get_by_role("heading", name=f"中止になった商談（{report['dropped']} 件）")
    ).to_be_visible()
    shot(page, "schedule-09-what-moved-ja")

    # downloads: the printable agendas, and one participant's calendar
    page.get_by_role("navigation", name="スケジュールのメニュー").get_by_role(
        "link", name="作成と概要"
    ).click()
    with page.expect_download() as caught:
        page.get_by_role("link", name="全参加者の予定表（印刷用 HTML）").click()
    agendas = Path(caught.value.path()).read_text(encoding="utf-8")
    assert agendas.count("<section>") == 20
    assert "<title>多摩ものづくり商談会 2026 — 商談スケジュール" in agendas
    assert "株式会社多摩精機 — 商談スケジュール" in agendas
    assert "<script>alert(1)" not in agendas and "&lt;script&gt;alert(1)" in agendas
    now = after["schedule"]["meetings"]
    who = first["a"]
    mine = sorted((m for m in now if who in (m["a"], m["b"])), key=lambda m: m["slot"])
    for m in mine:  # each of its meetings, with the partner's name, is in its agenda
        partner = m["b"] if m["a"] == who else m["a"]
        assert html.escape(names[partner]) in agendas

    page.get_by_label("カレンダー（ICS）を出力する参加者").select_option(who)
    shot(page, "schedule-10-exports-ja")
    with page.expect_download() as caught:
        page.get_by_role("button", name="カレンダー（ICS）をダウンロード").click()
    assert caught.value.suggested_filename.endswith(".ics")
    ics = Path(caught.value.path()).read_text(encoding="utf-8")
    assert ics.startswith("BEGIN:VCALENDAR") and ics.count("BEGIN:VEVENT") == len(mine)
    assert "多摩ものづくり商談会 2026" in ics.replace("\r\n ", "")
    starts = re.findall(r"DTSTART:(\d{8}T\d{6}Z)", ics)
    assert starts == [
        (START + dt.timedelta(minutes=20 * m["slot"])).astimezone(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        for m in mine
    ]

    # re-time for the fewest idle breaks: before and after
    page.get_by_role("navigation", name="スケジュールのメニュー").get_by_role(
        "link", name="空き時間の削減"
    ).click()
    page.get_by_label("計算時間の上限（秒）").fill("5")
    page.get_by_role("button", name="組み替える").click()
    expect(page).to_have_url(re.compile(r"/retime\?notice=retimed$"), timeout=60_000)
    retimed = _schedule(live_server, event_id)["schedule"]["retime"]
    expect(page.locator(".sched-before-after")).to_contain_text(
        f"実行前 {retimed['breaks_before']}"
    )
    expect(page.locator(".sched-before-after")).to_contain_text(f"実行後 {retimed['breaks']}")
    shot(page, "schedule-10b-retime-ja")

    # the same pages read in English
    page.get_by_role("link", name="English").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Fewer idle breaks")
    page.goto(f"{base}/grid")
    expect(page.get_by_role("heading", level=1)).to_have_text("Schedule grid")
    shot(page, "schedule-11-grid-en")


def test_a_stale_schedule_says_why_and_is_re_planned_from_the_banner(
    live_server: Any, new_page: Any
) -> None:
    """The event lost its last two slots and a participant after its schedule was made:
    every schedule page says so in a banner with the meetings concerned, the downloads
    are withdrawn, and the banner's button leads to a re-plan that clears it."""
    from models.events import solve_event_file

    expect = _expect()
    email, password = live_server.user("organizer", name="事務局 花子")
    event_id = _event(live_server, email)
    with transaction(live_server.sessions) as s:
        row = event_store.get(s, event_id)
        assert row is not None
        row.schedule = solve_event_file(dict(row.data), time_limit=3)
        doc, meetings = dict(row.data), row.schedule["meetings"]
        user = accounts.find_user(s, email)
        assert user is not None
        gone = meetings[0]["a"]
        edited = {
            **doc,
            "name": "多摩ものづくり商談会 2026",
            "slots": 6,
            "slot_times": doc["slot_times"][:6],
            "participants": [p for p in doc["participants"] if p["id"] != gone],
            "wishes": [w for w in doc["wishes"] if gone not in (w["from"], w["to"])],
            "suggestions": [s for s in doc["suggestions"] if gone not in (s["a"], s["b"])],
        }
    with transaction(live_server.sessions) as s:
        events.replace(s, accounts.principal_for_user(user), event_id, edited)
    broken = {i for i, m in enumerate(meetings) if m["slot"] >= 6 or gone in (m["a"], m["b"])}
    assert broken

    base = f"/console/events/{event_id}/schedule"
    page = new_page("ja-JP")
    page.goto(base)
    page.get_by_label("メールアドレス").fill(email)
    page.get_by_label("パスワード", exact=True).fill(password)
    page.get_by_role("button", name="サインイン").click()
    banner = page.locator("#stale")
    expect(banner).to_be_visible()
    expect(banner).to_contain_text("このスケジュールは現在の商談会の内容と合っていません")
    expect(banner).to_contain_text(f"{len(broken)} 件の商談が予定どおりに行えません")
    expect(page.get_by_role("link", name="全商談の CSV")).to_have_count(0)  # withdrawn
    shot(page, "schedule-stale-01-overview-ja")
    page.get_by_role("link", name="スケジュール表", exact=True).click()
    expect(page.locator("#stale")).to_be_visible()
    shot(page, "schedule-stale-02-grid-ja")

    page.locator("#stale").get_by_role("link", name="いま組み直す").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("当日の組み直し")
    page.get_by_label("計算時間の上限（秒）").fill("5")
    page.get_by_role("button", name="組み直す").click()
    expect(page).to_have_url(re.compile(r"/changes\?notice=replanned$"), timeout=60_000)
    expect(page.locator("#stale")).to_have_count(0)
    page.goto(base)
    expect(page.locator("#stale")).to_have_count(0)
    shot(page, "schedule-stale-03-replanned-ja")
    after = _schedule(live_server, event_id)["schedule"]["meetings"]
    assert all(m["slot"] < 6 and gone not in (m["a"], m["b"]) for m in after)
