"""The outcome pages over HTTP: a member records its side of its own meetings (and only
those), answers a follow-up round, and never sees the other side's note; the organizer's
page shows both sides, the sheet downloads, and a bad sheet is listed row by row with
nothing written unless the good rows are asked for."""

from __future__ import annotations

import csv
import io
from typing import Any

from fastapi.testclient import TestClient

from tests.support.console import Console, csrf_of
from tests.support.outcomes import owned_event


def setup(console: Console) -> tuple[str, TestClient, TestClient, TestClient]:
    """The event of an organizer user; clients of the organizer, gear (jp-1), veneto (it-1)."""
    organizer = console.user("organizer", name="主催 太郎")
    event_id = owned_event(console.sessions, organizer.email)
    gear = console.signed_in(console.user("member", profile_id="jp-1", name="精密 花子"))
    veneto = console.signed_in(console.user("member", profile_id="it-1", name="Marco"))
    return event_id, console.signed_in(organizer), gear, veneto


def post(client: TestClient, url: str, data: dict[str, str]) -> Any:
    """POST a form of the page at `url` (a follow-up form: its meeting's page)."""
    page = client.get(url.removesuffix("/follow-up"))
    assert page.status_code == 200, page.text
    return client.post(url, data={**data, "csrf_token": csrf_of(page.text)})


def api_history(console: Console, event_id: str) -> list[dict[str, Any]]:
    r = console.api.get(f"/v1/events/{event_id}/outcomes/history", headers=console.api.h())
    items: list[dict[str, Any]] = r.json()["items"]
    return items


def test_a_member_records_its_own_side_from_its_agenda(console: Console) -> None:
    event_id, _, gear, veneto = setup(console)
    page = gear.get(f"/console/me/events/{event_id}")
    assert page.status_code == 200
    assert f"/console/me/events/{event_id}/meetings/veneto" in page.text
    assert "結果を記録" in page.text

    url = f"/console/me/events/{event_id}/meetings/veneto"
    r = post(gear, url, {"attendance": "", "note": "x"})
    assert r.status_code == 400 and "実施状況を選んでください" in r.text
    r = post(gear, url, {"attendance": "cancelled", "interest": "strong", "note": "kept"})
    assert r.status_code == 303  # interest of a cancelled meeting is dropped by the form
    r = post(gear, url, {"attendance": "no_show", "no_show": ""})
    assert r.status_code == 400 and "欠席したのが誰か" in r.text
    r = post(
        gear,
        url,
        {
            "attendance": "held",
            "interest": "strong",
            "next_step": "nda",
            "note": "<b>社外秘メモ</b>",
        },
    )
    assert r.status_code == 303 and r.headers["location"].endswith("done=saved")
    page = gear.get(r.headers["location"])
    assert "商談結果を記録しました" in page.text and "強い関心" in page.text
    assert "&lt;b&gt;社外秘メモ&lt;/b&gt;" in page.text  # escaped
    assert page.text.count("out-history") == 1 and "コンソール" in page.text
    agenda = gear.get(f"/console/me/events/{event_id}")
    assert "記録済み" in agenda.text

    history = api_history(console, event_id)
    assert [h["attendance"] for h in history] == ["cancelled", "held"]
    assert all(h["source"] == "console" for h in history)
    assert history[-1]["recorded_by"].startswith("user:")
    assert history[-1]["recorder"]["name"] == "精密 花子"

    # the other side sees its own (empty) record, never gear's note
    other = veneto.get(f"/console/me/events/{event_id}/meetings/gear")
    assert other.status_code == 200 and "社外秘メモ" not in other.text
    assert "まだ記録がありません" in other.text
    # a meeting that is not gear's, and a participant it does not meet: 404 pages
    assert gear.get(f"/console/me/events/{event_id}/meetings/bio").status_code == 404
    r = gear.post(url.replace("veneto", "bio"), data={"attendance": "held"})
    assert r.status_code in (403, 404)
    assert len(api_history(console, event_id)) == 2


def test_a_member_answers_a_follow_up_round(console: Console) -> None:
    event_id, _, gear, _ = setup(console)
    url = f"/console/me/events/{event_id}/meetings/veneto"
    page = gear.get(url)
    assert "3か月後" in page.text and "回答待ち" in page.text and "時期前" in page.text
    r = post(gear, url + "/follow-up", {"months": "3", "stage": "contract", "amount": "たくさん"})
    assert r.status_code == 400 and "金額は円の数字で" in r.text
    r = post(gear, url + "/follow-up", {"months": "3", "stage": "no_progress", "amount": "5"})
    assert r.status_code == 400 and "「進展なし」には金額を付けられません" in r.text
    r = post(gear, url + "/follow-up", {"months": "3", "stage": "", "amount": ""})
    assert r.status_code == 400 and "段階を選んでください" in r.text
    r = post(gear, url + "/follow-up", {"months": "3", "stage": "contract", "amount": "120万円"})
    assert r.status_code == 303
    page = gear.get(r.headers["location"])
    assert "フォローアップの回答を記録しました" in page.text and "¥1,200,000" in page.text
    answers = console.api.get(
        f"/v1/events/{event_id}/follow-ups/history", headers=console.api.h()
    ).json()["items"]
    assert [(a["months"], a["stage"], a["amount_yen"]) for a in answers] == [
        (3, "contract", 1_200_000)
    ]


def test_the_organizer_page_and_the_sheet(console: Console) -> None:
    event_id, organizer, gear, veneto = setup(console)
    url = f"/console/me/events/{event_id}/meetings/"
    post(gear, url + "veneto", {"attendance": "held", "interest": "strong", "note": "gear-n"})
    post(veneto, url + "gear", {"attendance": "held", "interest": "some", "note": "veneto-n"})
    base = f"/console/events/{event_id}/outcomes"
    page = organizer.get(base)
    assert page.status_code == 200
    assert "gear-n" in page.text and "veneto-n" in page.text  # both sides' notes
    assert "強い関心" in page.text and "関心あり" in page.text
    assert "回答待ち" in page.text  # the 3-month round is reached
    assert f'href="/console/events/{event_id}/outcomes" aria-current="page"' in page.text
    assert gear.get(base).status_code == 403
    stranger = console.signed_in(console.user("organizer", office="north"))
    assert stranger.get(base).status_code == 404
    assert stranger.get(base + "/sheet.csv").status_code == 404

    sheet = organizer.get(base + "/sheet.csv")
    assert sheet.status_code == 200 and sheet.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(sheet.content.decode("utf-8-sig"))))
    assert rows[0][3] == "回答者ID" and len(rows) == 7
    xlsx = organizer.get(base + "/sheet.xlsx?sheet=en")
    assert xlsx.status_code == 200 and xlsx.content.startswith(b"PK")
    assert "cm_lang" not in xlsx.headers.get("set-cookie", "")  # the page's language stays

    # a sheet with a bad row: listed, nothing written
    header = rows[0]
    for row in rows[1:]:
        if (row[3], row[5]) == ("gear", "uni"):
            row[header.index("出欠")] = "実施"
        if (row[3], row[5]) == ("uni", "gear"):
            row[header.index("関心度")] = "すごく"
    out = io.StringIO()
    csv.writer(out).writerows(rows)
    data = out.getvalue().encode("cp932", errors="replace")
    token = csrf_of(page.text)
    files = {"file": ("filled.csv", data, "text/csv")}
    r = organizer.post(base + "/import", data={"csrf_token": token}, files=files)
    assert r.status_code == 400, r.text
    assert "何も取り込んでいません" in r.text and "J 関心度" in r.text
    assert "次のいずれかで記入してください" in r.text  # the reason in the page's language
    before = len(api_history(console, event_id))
    r = organizer.post(
        base + "/import", data={"csrf_token": token, "allow_partial": "1"}, files=files
    )
    assert r.status_code == 200, r.text
    assert "取り込みました" in r.text and "J 関心度" in r.text
    history = api_history(console, event_id)
    assert len(history) == before + 1 and history[-1]["source"] == "import"
    r = organizer.post(base + "/import", data={"csrf_token": token})
    assert r.status_code == 400 and "ファイルを選んでください" in r.text


def test_every_reason_of_the_rules_reads_in_japanese() -> None:
    from service.console.outcomes import reason_text

    reasons = [
        "required",
        "one of なし (none), あり (some), 強い (strong)",
        "not an amount in yen: 'lots' (e.g. 1200000, 1,200,000円, 120万円)",
        "a value in a column without header",
        "at most 4,000 characters",
        "required when the row says something of the meeting",
        "required when the round's amount or note is filled",
        "自社 / 相手 / 双方 (self, partner, both), or the ids of who did not come",
        "the same meeting and side as row 4",
        "no participant 'ghost' in this event",
        "a meeting needs two different participants",
        "'gear' and 'bio' have no meeting in this event's schedule",
        "name who did not come: a, b or both",
        "only for attendance no_show",
        "only for a meeting that was held",
        "the meeting starts at 2099-06-10 14:00 JST: before then only 'cancelled' can be recorded",
        "must be from 0 to 10,000,000,000,000 yen",
        "an amount needs a stage other than no_progress",
    ]
    for reason in reasons:
        text = reason_text("ja", reason)
        assert text != reason and "{" not in text, reason
    assert "「ghost」" in reason_text("ja", reasons[9])
    assert reason_text("ja", "something new") == "something new"


ROLES = ["owner", "other", "admin", "member", "stranger", "signed_out"]


def test_every_outcome_page_by_role(console: Console) -> None:
    """The organizer's pages: the owner and admins; another office's organizer 404,
    members 403.
    A member's meeting page: the member in that meeting; another member 404, organizers
    and admins 403 (they have no side of their own). Signed out: to sign in. Refused
    requests write nothing."""
    owner_user = console.user("organizer")
    eid = owned_event(console.sessions, owner_user.email)
    clients = {
        "owner": console.signed_in(owner_user),
        "other": console.signed_in(console.user("organizer", office="north")),
        "admin": console.signed_in(console.user("admin")),
        "member": console.signed_in(console.user("member", profile_id="jp-1")),
        "stranger": console.signed_in(console.user("member", profile_id="jp-2")),
        "signed_out": console.client(),
    }
    sheet = "回答者ID,相手ID,出欠\r\ngear,veneto,実施\r\n".encode()
    organizer_pages = {"owner": 200, "admin": 200, "other": 404, "member": 403,
                       "stranger": 403, "signed_out": 303}  # fmt: skip
    member_pages = {"owner": 403, "admin": 403, "other": 403, "member": 200,
                    "stranger": 404, "signed_out": 303}  # fmt: skip
    written = 0
    for role in ROLES:  # in this order
        client = clients[role]
        page = client.get("/console/sign-in")
        if page.status_code == 303:
            page = client.get("/console")
        token = csrf_of(page.text)
        for path in ("", "/sheet.csv", "/sheet.xlsx?sheet=en"):
            r = client.get(f"/console/events/{eid}/outcomes{path}")
            assert r.status_code == organizer_pages[role], (role, path, r.status_code)
        r = client.post(
            f"/console/events/{eid}/outcomes/import",
            data={"csrf_token": token},
            files={"file": ("s.csv", sheet, "text/csv")},
        )
        # (a signed-out post is refused before its body is read)
        posted = {**organizer_pages, "signed_out": 403}
        assert r.status_code == posted[role], (role, "import", r.status_code)
        meeting = f"/console/me/events/{eid}/meetings/veneto"
        r = client.get(meeting)
        assert r.status_code == member_pages[role], (role, meeting, r.status_code)
        r = client.post(meeting, data={"csrf_token": token, "attendance": "held"})
        saved = {**member_pages, "member": 303, "signed_out": 403}
        assert r.status_code == saved[role], (role, r.status_code)
        r = client.post(
            meeting + "/follow-up", data={"csrf_token": token, "months": "3", "stage": "nda"}
        )
        assert r.status_code == saved[role], (role, r.status_code)
        # the owner's import writes; the admin's same sheet is unchanged, so writes nothing;
        # the member's form appends (a record given by hand is always kept)
        written += role in ("owner", "member")
        assert len(api_history(console, eid)) == written, role
