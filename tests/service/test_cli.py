"""The command line: import with progress and report, keys, index rebuild and status."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from models.encoders import HashingEncoder
from service import cli
from tests.support.samples import SAMPLE


@pytest.fixture(autouse=True)
def fast_model(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        "models.encoders.SentenceTransformerEncoder", lambda *a, **k: HashingEncoder()
    )


def test_import_keys_and_index(tmp_path: Path) -> None:
    runner = CliRunner()
    data = tmp_path / "p.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in SAMPLE))
    d = ["--data-dir", str(tmp_path / "d")]
    r = runner.invoke(cli.app, ["import", str(data), "--json", *d])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["created"] == len(SAMPLE)
    r = runner.invoke(cli.app, ["import", str(data), "--json", *d])
    assert json.loads(r.stdout.strip().splitlines()[-1])["unchanged"] == len(SAMPLE)

    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**SAMPLE[0], "id": "z", "kind": "vendor"}))
    r = runner.invoke(cli.app, ["import", str(bad), *d])
    assert r.exit_code == 1 and "kind" in r.output

    r = runner.invoke(cli.app, ["keys", "create", "--role", "admin", *d])
    assert r.exit_code == 0 and r.stdout.strip().startswith("cm_")
    r = runner.invoke(cli.app, ["keys", "create", "--role", "god", *d])
    assert r.exit_code != 0
    r = runner.invoke(cli.app, ["keys", "list", *d])
    assert "admin" in r.stdout

    r = runner.invoke(cli.app, ["index", "rebuild", *d])
    assert r.exit_code == 0, r.output
    r = runner.invoke(cli.app, ["index", "status", *d])
    meta = json.loads(r.stdout)
    assert meta["all"]["count"] == len(SAMPLE) and meta["all"]["layout"] == "flat"


def test_schedule_event_and_dzn_files(tmp_path: Path) -> None:
    runner = CliRunner()
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "slots": 3,
                "tables": [{"id": "T1"}],
                "participants": [{"id": "a"}, {"id": "b"}, {"id": "c"}],
                "wishes": [
                    {"from": "a", "to": "b", "level": "must"},
                    {"from": "c", "to": "b", "level": "want"},
                    {"from": "a", "to": "c", "level": "no"},
                ],
            }
        )
    )
    r = runner.invoke(cli.app, ["schedule", str(event), "--time-limit", "5", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert {frozenset((m["a"], m["b"])) for m in out["meetings"]} == {
        frozenset("ab"),
        frozenset("bc"),
    }
    assert out["gap"] == 0 and out["unplaced"] == []
    bad = tmp_path / "bad.json"
    bad.write_text(
        json.dumps(
            {
                "slots": 2,
                "tables": [],
                "participants": [{"id": "a"}],
                "wishes": [{"from": "a", "to": "zz", "level": "must"}],
            }
        )
    )
    r = runner.invoke(cli.app, ["schedule", str(bad)])
    assert r.exit_code == 2 and "wishes[0]" in r.output

    data = Path(__file__).resolve().parents[1] / "data" / "b2b"
    r = runner.invoke(
        cli.app,
        ["schedule", str(data / "small.dzn"), "--fairness", "2", "--time-limit", "10", "--json"],
    )
    assert r.exit_code == 0, r.output
    out = json.loads(r.stdout.strip().splitlines()[-1])
    assert out["status"] == "optimal" and out["breaks"] == out["bound"]
    assert sorted(m["meeting"] for m in out["meetings"]) == list(range(1, len(out["meetings"]) + 1))
    r = runner.invoke(cli.app, ["schedule", str(data / "bad_session.dzn"), "--json"])
    assert r.exit_code == 2 and "session" in r.output


def test_demo_loads_corpus_and_history(tmp_path: Path) -> None:
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path / "d")]
    r = runner.invoke(cli.app, ["demo", *d])
    assert r.exit_code == 0, r.output
    assert "184 created" in r.output and "154 interactions added" in r.output
    r = runner.invoke(cli.app, ["demo", *d])
    assert "184 unchanged" in r.output and "0 interactions added" in r.output


def test_serve_with_workers_shares_one_tcp_socket_and_balances_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """`serve --workers N` hands its workers one TCP socket (TCP_NODELAY on accepted
    connections), each loading before it accepts, matching on its event loop, and taking
    one waiting connection at a time (UV_TCP_SINGLE_ACCEPT: a burst of connections is
    shared out instead of queueing in one process). The worker processes are not started:
    the supervisor is replaced by a recorder."""
    import os
    import socket

    import uvicorn.supervisors

    for name in (
        "CLUSTERMATCH_SERVE_WHEN_READY",
        "CLUSTERMATCH_MATCH_INLINE",
        "UV_TCP_SINGLE_ACCEPT",
    ):
        monkeypatch.setenv(name, "")  # (recorded, so that teardown removes what is set)
        monkeypatch.delenv(name)
    seen: dict[str, Any] = {}

    class Recorder:
        def __init__(self, config: object, sockets: list[socket.socket]) -> None:
            seen["workers"] = config.workers  # type: ignore[attr-defined]
            seen["sockets"] = sockets

        def run(self) -> None:
            seen["env"] = {
                k: os.environ.get(k)
                for k in (
                    "CLUSTERMATCH_SERVE_WHEN_READY",
                    "CLUSTERMATCH_MATCH_INLINE",
                    "UV_TCP_SINGLE_ACCEPT",
                )
            }

    monkeypatch.setattr(uvicorn.supervisors, "Multiprocess", Recorder)
    cli.run_server("service.app:create_app", host="127.0.0.1", port=0, workers=2)
    (sock,) = seen["sockets"]
    try:
        assert seen["workers"] == 2 and sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()
    finally:
        sock.close()
    assert seen["env"] == {
        "CLUSTERMATCH_SERVE_WHEN_READY": "true",
        "CLUSTERMATCH_MATCH_INLINE": "true",
        "UV_TCP_SINGLE_ACCEPT": "1",
    }


def test_keys_create_says_where_and_refuses_unknown_profiles(tmp_path: Path) -> None:
    """Issue 19.14: a key could go to a data directory nobody serves, for a profile that
    does not exist."""
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path / "d")]
    r = runner.invoke(cli.app, ["keys", "create", "--role", "member", "--profile-id", "jp-1", *d])
    assert r.exit_code == 2
    assert "no profile with id 'jp-1'" in r.output and str(tmp_path / "d") in r.output
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps(SAMPLE[0], ensure_ascii=False))
    assert runner.invoke(cli.app, ["import", str(data), *d]).exit_code == 0
    r = runner.invoke(cli.app, ["keys", "create", "--role", "member", "--profile-id", "jp-1", *d])
    assert r.exit_code == 0, r.output
    assert r.stdout.strip().startswith("cm_")  # stdout: the key alone (KEY=$(...))
    assert f"member key stored in {tmp_path / 'd'}" in r.stderr


def test_schedule_errors_are_helpful_and_json_with_json(tmp_path: Path) -> None:
    """Issue 19.16: `--json` printed errors as text; 19.7: unknown keys were ignored."""
    runner = CliRunner()
    event = tmp_path / "event.json"
    event.write_text(
        json.dumps(
            {
                "slots": 6,
                "tables": 2,
                "slot_times": ["2026-06-10T13:00"],
                "timezone": "Asia/Tokyo",
                "participants": [{"id": "a", "mni": 1}, {"id": "b"}],
            }
        )
    )
    r = runner.invoke(cli.app, ["schedule", str(event), "--json"])
    assert r.exit_code == 2
    problem = json.loads(r.stdout.strip().splitlines()[-1])
    assert problem["status"] == 422
    errors = {e["field"]: e["reason"] for e in problem["errors"]}
    assert errors == {"participants[0].mni": "unknown key 'mni'; did you mean 'min'?"}
    event.write_text(event.read_text().replace('"mni"', '"min"'))
    r = runner.invoke(cli.app, ["schedule", str(event), "--json"])
    errors = {e["field"]: e["reason"] for e in json.loads(r.stdout.splitlines()[-1])["errors"]}
    assert errors["slot_times"].startswith("1 slot time for 6 slots: give one start time")
    event.write_text('{"slots": 2,\n "tables": 1,\n}')
    r = runner.invoke(cli.app, ["schedule", str(event), "--json"])
    assert r.exit_code == 2
    (error,) = json.loads(r.stdout.splitlines()[-1])["errors"]
    assert error["reason"].startswith("not valid JSON at line 3, column 1")


def test_import_with_unknown_columns_ignored(tmp_path: Path) -> None:
    """Issue 19.9: the CLI had no --unknown-columns."""
    runner = CliRunner()
    data = tmp_path / "p.csv"
    data.write_text("id,name,kind,備考\nc-1,Chubu Gear,firm,memo\n")
    d = ["--data-dir", str(tmp_path / "d")]
    r = runner.invoke(cli.app, ["import", str(data), "--json", *d])
    assert r.exit_code == 2 and "unknown_columns='ignore'" in r.output
    assert json.loads(r.stdout.splitlines()[-1])["errors"][0]["field"] == "file"
    r = runner.invoke(cli.app, ["import", str(data), "--unknown-columns", "ignore", "--json", *d])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert report["created"] == 1 and "備考" in report["warnings"][0]


def test_import_interactions_of_an_empty_file_imports_nothing(tmp_path: Path) -> None:
    """Issue 20.2: no history is not an error (0 imported, exit 0), and the rankings that
    follow use the hand weights."""
    runner = CliRunner()
    d = ["--data-dir", str(tmp_path / "d")]
    data = tmp_path / "p.jsonl"
    data.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in SAMPLE))
    assert runner.invoke(cli.app, ["import", str(data), *d]).exit_code == 0
    empty = tmp_path / "history.jsonl"
    empty.write_text("")
    r = runner.invoke(cli.app, ["import-interactions", str(empty), "--json", *d])
    assert r.exit_code == 0, r.output
    report = json.loads(r.stdout.strip().splitlines()[-1])
    assert (report["rows"], report["created"], report["rejected"]) == (0, 0, 0)
    r = runner.invoke(cli.app, ["import-interactions", str(empty), *d])
    assert r.exit_code == 0 and "0 rows: 0 created" in r.output
    r = runner.invoke(cli.app, ["train", *d])
    assert r.exit_code == 0, r.output
    assert json.loads(r.stdout.strip().splitlines()[-1])["method"] == "hand"
