"""The README's walk-through runs as a test: its bash blocks, taken from README.md itself,
run in order by bash against a real server (uvicorn in a subprocess on a free loopback
port, SQLite in a temporary directory, the demo corpus loaded as `scripts/demo` loads it,
the HashingEncoder standing in for the model), and every curl's answer is checked. So the
README cannot drift from the API: a changed route, parameter or answer fails here.

The blocks: the first bash block of "A walk through the API", the `event.json` of
"Events" and the bash block that follows it, and the first bash block of "Outcomes". Only
two lines are set by the test, as a reader would set them: `KEY=` (its admin key) and
`API=` (its server's address)."""

from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from models.profile import Profile
from service.io.imports import PROFILE_COLUMNS, _header_key
from tests.support.browser import LiveServer
from tests.support.env import DEMO, ROOT

README = (ROOT / "README.md").read_text()
FIELDS = set(Profile.model_fields)


def section(title: str) -> str:
    start = README.index(f"\n## {title}")
    end = README.find("\n## ", start + 1)
    return README[start : end if end > 0 else None]


def blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```", text, flags=re.M | re.S)


# Records every curl of the walk-through (arguments, HTTP status, body) in $CURL_LOG, in
# order, and passes the body on as curl would (to a pipe, a file or the terminal).
PREAMBLE = r"""
set -euo pipefail
curl() {
  local n
  n=$(( $(cat "$CURL_LOG/n") + 1 )); echo "$n" > "$CURL_LOG/n"
  printf '%s\n' "$@" > "$CURL_LOG/$n.args"
  command curl -sS -o "$CURL_LOG/$n.body" -w '%{http_code}' "$@" > "$CURL_LOG/$n.code"
  cat "$CURL_LOG/$n.body"
}
"""

# `jq -r .field`, the only form the README uses, where jq is not installed.
JQ_SHIM = """#!{python}
import json, sys
path = sys.argv[-1].lstrip(".")
value = json.load(sys.stdin)
for part in filter(None, path.split(".")):
    value = value[part]
print(value if isinstance(value, str) else json.dumps(value))
"""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path_factory.mktemp("readme"))
    try:
        headers = {"Authorization": f"Bearer {live.admin_key}"}
        with httpx.Client(base_url=live.url, headers=headers, timeout=60) as client:
            r = client.post(
                "/v1/profiles/import", content=DEMO.read_bytes(), params={"format": "jsonl"}
            )
            assert r.status_code == 200, r.text
            history = (DEMO.parent / "history.jsonl").read_bytes()
            r = client.post("/v1/interactions/import", content=history)
            assert r.status_code == 200, r.text
        yield live
    finally:
        live.stop()


@pytest.fixture(scope="module")
def calls(server: LiveServer, tmp_path_factory: pytest.TempPathFactory) -> list[dict[str, Any]]:
    """Run the walk-through; every curl call made: args, status, body."""
    work = tmp_path_factory.mktemp("walk")
    log = work / "log"
    log.mkdir()
    (log / "n").write_text("0")
    walk = blocks(section("A walk through the API"), "bash")[0]
    events = section("Events (商談会) and schedules")
    event_json = blocks(events, "json")[0]
    json.loads(event_json)  # the example is valid JSON
    (work / "event.json").write_text(event_json)
    event_block = blocks(events.split("The commands below continue", 1)[1], "bash")[0]
    script, n = re.subn(r"^KEY=\S+", f"KEY={server.admin_key}", walk, count=1, flags=re.M)
    assert n == 1, "the walk-through sets KEY on its first line"
    script, n = re.subn(r"^API=\S+", f"API={server.url}", script, count=1, flags=re.M)
    assert n == 1, "the walk-through sets API"
    env = {**os.environ, "CURL_LOG": str(log)}
    if shutil.which("jq") is None:
        bin_dir = work / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "jq"
        shim.write_text(JQ_SHIM.format(python=sys.executable))
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
        env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    outcome_block = blocks(section("Outcomes (商談結果) and follow-ups"), "bash")[0]
    (work / "walk.sh").write_text(PREAMBLE + script + "\n" + event_block + "\n" + outcome_block)
    done = subprocess.run(
        ["bash", str(work / "walk.sh")],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"{done.stderr[-3000:]}\n{server.log()}"
    out = []
    for i in range(1, int((log / "n").read_text()) + 1):
        out.append(
            {
                "args": (log / f"{i}.args").read_text().splitlines(),
                "status": int((log / f"{i}.code").read_text() or 0),
                "body": (log / f"{i}.body").read_bytes(),
                "work": work,
            }
        )
    return out


def _url(call: dict[str, Any]) -> str:
    return next(a for a in call["args"] if a.startswith("http") or "://" in a)


def _find(calls: list[dict[str, Any]], pattern: str, method: str = "GET") -> list[dict]:
    def verb(c: dict[str, Any]) -> str:
        args = c["args"]
        return args[args.index("-X") + 1] if "-X" in args else "GET"

    return [c for c in calls if re.search(pattern, _url(c)) and verb(c) == method]


def _json(call: dict[str, Any]) -> Any:
    return json.loads(call["body"])


def test_every_curl_of_the_walk_through_succeeds(calls: list[dict[str, Any]]) -> None:
    curls = len(re.findall(r"\bcurl\b", blocks(section("A walk through the API"), "bash")[0]))
    assert len(calls) >= curls
    for c in calls:
        assert 200 <= c["status"] < 300, (_url(c), c["status"], c["body"][:500])


def test_profiles_and_matches_answer_as_documented(calls: list[dict[str, Any]]) -> None:
    (put,) = _find(calls, r"/v1/profiles/jp-demo-1$", "PUT")
    assert put["status"] in (200, 201) and _json(put)["id"] == "jp-demo-1"
    assert _json(put)["created_at"].endswith("+00:00")
    buyer, overseas, partner = _find(calls, r"/v1/profiles/jp-demo-1/matches")
    for c in (buyer, overseas, partner):
        body = _json(c)
        assert {"query", "model", "count", "results"} <= set(body)
        assert body["count"] == len(body["results"])
        for result in body["results"]:
            assert result["reasons"] and result["reason"]
            assert {"rank", "score", "profile", "reasons", "features"} <= set(result)
    assert _json(buyer)["query"]["k"] == 5 and len(_json(buyer)["results"]) <= 5
    it = _json(overseas)
    assert it["results"], "overseas matches in Italy"
    assert all(r["profile"]["country"] == "IT" for r in it["results"])
    assert all(re.search(r"[\u3040-\u30ff\u4e00-\u9fff]", r["reason"]) for r in it["results"])
    assert _json(partner)["query"]["diversity"] == 0.5


def test_search_reads_the_region_its_text_names(calls: list[dict[str, Any]]) -> None:
    (search,) = _find(calls, r"/v1/search$", "POST")
    body = _json(search)
    assert [r["word"] for r in body["query"]["regions"]] == ["欧州"]
    europe = set(body["query"]["regions"][0]["countries"])
    assert body["results"] and len(body["results"]) <= 5
    assert all(r["profile"]["country"] != "JP" for r in body["results"])
    assert body["results"][0]["profile"]["country"] in europe
    assert body["results"][0]["reasons"][0]["code"] == "region"


def test_imports_list_read_change_delete(calls: list[dict[str, Any]]) -> None:
    raw, multipart = _find(calls, r"/v1/profiles/import", "POST")
    report = _json(raw)["report"]
    assert report["rows"] == 1 and report["created"] + report["updated"] == 1
    assert any("備考" in w for w in report["warnings"])  # ignored on request, and said so
    assert _json(multipart)["report"]["unchanged"] == 1
    (listing,) = _find(calls, r"/v1/profiles\?")
    items = _json(listing)["items"]
    assert items and all(p["kind"] == "university" and p["country"] == "JP" for p in items)
    (read,) = _find(calls, r"/v1/profiles/jp-demo-2$")
    member = _json(read)
    assert member["country"] == "JP" and member["kind"] == "firm"  # 国=日本, 種別=企業
    assert member["offers"] == ["車載電子基板"]
    (patch,) = _find(calls, r"/v1/profiles/jp-demo-1$", "PATCH")
    assert _json(patch)["cluster"] == "Greater Nagoya"
    (delete,) = _find(calls, r"/v1/profiles/jp-demo-2$", "DELETE")
    assert delete["status"] == 204
    health = _find(calls, r"/(healthz|readyz|metrics)$")
    assert [h["status"] for h in health] == [200, 200, 200]
    assert b"clustermatch_request_seconds" in health[2]["body"]


def test_the_event_walk_through(calls: list[dict[str, Any]]) -> None:
    (created,) = _find(calls, r"/v1/events$", "POST")
    assert created["status"] == 201 and _json(created)["name"] == "多摩商談会 2026"
    (suggested,) = _find(calls, r"/suggestions", "POST")
    assert _json(suggested)["count"] == len(_json(suggested)["suggestions"])
    schedule = [c for c in _find(calls, r"/v1/events/[^/]+/schedule$") if c["status"] == 200]
    body = _json(schedule[-1])
    assert body["status"] in ("OPTIMAL", "FEASIBLE") and body["meetings"]
    locked = next(m for m in body["meetings"] if {m["a"], m["b"]} == {"p1", "p5"})
    assert (locked["slot"], locked["table"]) == (0, "T1")
    assert not any({m["a"], m["b"]} == {"p2", "p8"} for m in body["meetings"])  # blocked
    assert all("min_feasible" in s for s in body["per_participant"].values())
    jobs = [_json(c) for c in _find(calls, r"/v1/jobs/")]
    assert jobs and all(j["status"] in ("queued", "running", "succeeded") for j in jobs)
    work: Path = calls[0]["work"]
    csv_text = (work / "schedule.csv").read_bytes().decode("utf-8-sig")
    assert csv_text.startswith("枠 Slot,")
    assert (work / "p1.ics").read_text().startswith("BEGIN:VCALENDAR")
    agendas = (work / "agendas.html").read_text()
    assert agendas.count("<section>") == 8  # a page per participant
    assert "多摩商談会 2026" in agendas and "立川市 多摩産業交流センター 3F" in agendas
    assert "2026年6月10日（水）" in agendas and "13:00–13:20" in agendas
    assert "ブース 1" in (work / "tables.html").read_text()
    (retime,) = _find(calls, r"/retime", "POST")
    assert retime["status"] == 202


def test_the_profile_table_documents_every_csv_header() -> None:
    """Issue 19.11: the README did not say that `ID` is a header of the id column."""
    text = section("Profiles")
    rows = re.findall(r"^\|(.*)\|$", text, flags=re.M)
    documented = {
        _header_key(name)
        for row in rows
        for name in re.split(r"[,;]", row.split("|")[3] if row.count("|") >= 3 else "")
        if name.strip()
    }
    assert "id" in documented and "ID" in text
    missing = sorted(k for k in PROFILE_COLUMNS if k not in FIELDS and k not in documented)
    assert missing == []


def test_the_outcome_walk_through(calls: list[dict[str, Any]]) -> None:
    recorded = _find(calls, r"/v1/events/[^/]+/outcomes$", "POST")
    assert [c["status"] for c in recorded] == [201, 201]
    assert _json(recorded[1])["interest"] == "some" and _json(recorded[1])["source"] == "api"
    (history,) = _find(calls, r"/outcomes/history\?a=p1&b=p5$")
    versions = _json(history)["items"]
    assert [v["interest"] for v in versions[:2]] == ["strong", "some"]
    assert versions[0]["recorder"]["role"] == "admin"
    (listing,) = _find(calls, r"/v1/events/[^/]+/outcomes$")
    (meeting,) = [m for m in _json(listing)["items"] if (m["a"], m["b"]) == ("p1", "p5")]
    assert meeting["sides"]["p1"]["interest"] == "some" and meeting["held"] is True
    (status,) = _find(calls, r"/v1/events/[^/]+/follow-ups$")
    rounds = _json(status)["rounds"]
    assert [r["months"] for r in rounds] == [3, 6] and rounds[0]["answered"] == 1
    (sheet,) = _find(calls, r"/exports/follow-ups\.csv$")
    assert sheet["body"].startswith(b"\xef\xbb\xbf") and "回答者ID" in sheet["body"].decode()
    (imported,) = _find(calls, r"/follow-ups/import$", "POST")
    report = _json(imported)["report"]
    assert (report["outcomes_written"], report["follow_ups_written"]) == (1, 1)
