"""Large imports stream (issue 22): the file is read in two passes and never held whole,
rows are stored and encoded in chunks with the progress advancing per chunk, the counts
are stored before encoding, a large upload is checked inside its job, and the reading
passes hold a chunk, not the file."""

from __future__ import annotations

import gc
import io
import json
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest
from openpyxl import Workbook
from typer.testing import CliRunner

import service.io.textstream as textstream
from models.encoders import HashingEncoder
from models.profile import Profile
from models.progress import Progress
from service import cli
from service.engine import Engine
from service.io.bulk import check_profiles, profile_chunks
from service.io.imports import parse_profiles
from service.profiles import service as profiles
from service.store.catalogue import StoredProfile
from tests.support.app import make_settings, start_api
from tests.support.db import sessions_for
from tests.support.jobs import wait_for_job


def _row(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "id": f"firm-{i}",
        "name": f"会社{i}",
        "kind": "firm",
        "country": "JP",
        "description": f"精密部品の加工 {i}",
        "offers": [f"部品{i % 97}", f"加工{i % 89}"],
        "needs": [f"販路{i % 53}"],
        **extra,
    }


def _jsonl(rows: Sequence[dict[str, Any]]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


class CountingEngine(Engine):
    """The engine, noting how many profiles each indexing call gets."""

    ingested: list[int]

    def ingest(self, rows: Sequence[StoredProfile], progress: Progress | None = None) -> int:
        self.ingested = [*getattr(self, "ingested", []), len(rows)]
        return super().ingest(rows, progress)


def test_rows_are_stored_and_encoded_in_chunks_with_progress_per_chunk(
    tmp_path: Path, db_url: str
) -> None:
    rows = [_row(i) for i in range(2_500)]
    rows[7] = _row(7, kind="nope")  # bad rows are left out (allow_partial)
    rows[2_400] = _row(3)  # a repeated id
    path = tmp_path / "members.jsonl"
    path.write_bytes(_jsonl(rows))
    sessions = sessions_for(db_url)
    engine = CountingEngine(HashingEncoder(dim=64), sessions, tmp_path / "index")
    engine.reconcile()
    check = check_profiles(lambda: path.open("rb"))
    assert (check.total_rows, check.valid, check.rejected) == (2_500, 2_498, 2)
    seen: list[tuple[str, int, int]] = []
    report = profiles.import_checked(
        engine,
        sessions,
        lambda: path.open("rb"),
        check,
        allow_partial=True,
        progress=lambda phase, done, total: seen.append((phase, done, total)),
        chunk_rows=1_000,
    )
    assert (report.rows, report.valid, report.rejected, report.created) == (2_500, 2_498, 2, 2_498)
    assert [e["row"] for e in report.errors] == [8, 2_401]
    storing = [done for phase, done, _ in seen if phase == "storing"]
    assert storing == [1_000, 2_000, 2_498]  # per chunk
    embedding = [done for phase, done, _ in seen if phase == "embedding"]
    assert embedding == sorted(embedding) and embedding[-1] == 2_498
    assert {1_000, 2_000, 2_498} <= set(embedding)  # each chunk's end
    assert all(total == 2_498 for phase, _, total in seen)
    assert max(engine.ingested) <= 1_000 and len(engine) == 2_498
    # an unchanged file again: nothing written, nothing encoded
    again = profiles.import_checked(
        engine, sessions, lambda: path.open("rb"), check, allow_partial=True
    )
    assert (again.unchanged, again.created, again.encoded_texts) == (2_498, 0, 0)


def _csv(n: int) -> bytes:
    head = "ID,名称,種別,国,概要,提供,ニーズ\n"
    body = "".join(
        f"f-{i},会社{i},企業,日本,精密部品の加工と組立 {i},部品{i % 97}、加工{i % 89},"
        f"販路{i % 53}\n"
        for i in range(n)
    )
    return (head + body).encode()


def _peak(work: Any) -> int:
    gc.collect()
    tracemalloc.start()
    try:
        work()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_the_reading_passes_hold_a_chunk_not_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    """Peak Python memory of both passes over a CSV of 4,000 and of 16,000 rows (the size
    of the files decoded whole, and of the blocks read, lowered here to 64 and 16 KiB, so
    that both files stream): it grows by the duplicate check's bookkeeping (under 100
    bytes a row), while reading the file whole grows by the file and its profiles (about
    2 KB a row)."""
    monkeypatch.setattr(textstream, "WHOLE_BYTES", 64 * 1024)
    monkeypatch.setattr(textstream, "BLOCK_BYTES", 16 * 1024)
    peaks: dict[str, list[int]] = {"streamed": [], "whole": []}
    for n in (4_000, 16_000):
        data = _csv(n)

        def streamed(data: bytes = data, n: int = n) -> None:
            check = check_profiles(lambda: io.BytesIO(data))
            assert sum(len(c) for c in profile_chunks(lambda: io.BytesIO(data), check)) == n

        def whole(data: bytes = data, n: int = n) -> None:
            assert len(parse_profiles(data).items) == n

        peaks["streamed"].append(_peak(streamed))
        peaks["whole"].append(_peak(whole))
    grown = {k: (v[1] - v[0]) / 12_000 for k, v in peaks.items()}
    assert grown["streamed"] < 100, peaks
    assert grown["whole"] > 1_000, peaks  # (what this test would see of a whole-file reader)


def test_a_large_upload_is_checked_in_its_job(
    tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Past CHECK_IN_REQUEST_BYTES the request answers 202 at once; bad rows then fail the
    job with the problem document a small file gets as its 422, and store nothing."""
    monkeypatch.setattr(profiles, "CHECK_IN_REQUEST_BYTES", 1_000)
    rows = [_row(i) for i in range(300)]
    bad = [*rows[:150], _row(150, country="ZZZ"), *rows[151:]]
    for api in start_api(make_settings(tmp_path, sync_import_rows=10), encoder):
        r = api.post("/v1/profiles/import", content=_jsonl(bad), headers=api.h())
        assert r.status_code == 202, r.text
        job = wait_for_job(api, r.headers["location"])
        assert job["status"] == "failed", job
        problem = job["report"]
        assert problem["status"] == 422 and "nothing was imported" in problem["detail"]
        assert [(e["row"], e["field"]) for e in problem["errors"]] == [(151, "country")]
        assert api.get("/v1/profiles", headers=api.h()).json()["total"] == 0
        # the same file as a multipart upload, good rows only: a job that imports them
        files = {"file": ("members.jsonl", _jsonl(bad), "application/json")}
        r = api.post(
            "/v1/profiles/import", params={"allow_partial": True}, files=files, headers=api.h()
        )
        assert r.status_code == 202, r.text
        job = wait_for_job(api, r.headers["location"])
        assert job["status"] == "succeeded", job
        assert (job["report"]["created"], job["report"]["rejected"]) == (299, 1)
        assert job["progress"]["done"] == job["progress"]["total"] == 299
        # an unreadable large file: the job fails naming the field `file`
        r = api.post("/v1/profiles/import?format=csv", content=b"\x00" * 2_000, headers=api.h())
        job = wait_for_job(api, r.headers["location"])
        assert job["status"] == "failed" and job["report"]["errors"][0]["field"] == "file"
        uploads = tmp_path / "data" / "uploads"
        assert uploads.is_dir() and list(uploads.iterdir()) == []  # unnamed files: none left


def _book(rows: list[list[object]]) -> bytes:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_workbooks_are_still_read_whole_through_the_same_route_and_command(
    tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = _book([["会員名簿"], ["ID", "名称", "種別", "国"], ["m-1", "A社", "企業", "日本"]])
    settings = make_settings(tmp_path, max_body_bytes=1_000_000)
    for api in start_api(settings, encoder):
        files = {"file": ("members.xlsx", data, "application/octet-stream")}
        r = api.post("/v1/profiles/import", files=files, headers=api.h())
        assert r.status_code == 200 and r.json()["report"]["created"] == 1, r.text
        assert "row" in r.json()["report"]["warnings"][0]  # the title row skipped
    small = make_settings(tmp_path / "small", max_body_bytes=2_000)
    for api in start_api(small, encoder):
        r = api.post("/v1/profiles/import?format=xlsx", content=data, headers=api.h())
        assert r.status_code == 413 and "save a larger list as CSV" in r.json()["detail"]

    monkeypatch.setattr(
        "models.encoders.SentenceTransformerEncoder", lambda *a, **k: HashingEncoder()
    )
    book = tmp_path / "members.xlsx"
    book.write_bytes(data)
    listed = tmp_path / "members.csv"
    listed.write_bytes(_csv(30))
    runner = CliRunner()
    home = ["--data-dir", str(tmp_path / "cli")]
    for path, created in ((book, 1), (listed, 30)):
        r = runner.invoke(cli.app, ["import", str(path), "--json", *home])
        assert r.exit_code == 0, r.output
        assert json.loads(r.stdout.strip().splitlines()[-1])["created"] == created
    r = runner.invoke(cli.app, ["import", str(listed), "--encoder", "gpu", *home])
    assert r.exit_code == 2 and "local or ray" in r.output


def test_a_write_between_storing_and_indexing_is_indexed_as_it_is_now(
    tmp_path: Path, db_url: str
) -> None:
    """A profile changed (or deleted) after the import stored it and before its chunk is
    indexed: the index gets the row as the database has it when the chunk is indexed."""
    rows = [_row(i) for i in range(30)]
    path = tmp_path / "members.jsonl"
    path.write_bytes(_jsonl(rows))
    sessions = sessions_for(db_url)
    engine = Engine(HashingEncoder(dim=64), sessions, tmp_path / "index")
    engine.reconcile()
    check = check_profiles(lambda: path.open("rb"))

    def meanwhile(phase: str, done: int, total: int) -> None:
        # (the chunk's rows are read, its texts being encoded: not yet indexed)
        if phase == "embedding" and engine.record("firm-1") is None:
            changed = Profile.model_validate(_row(1, description="chromium plating"))
            profiles.save_profiles(engine, sessions, [changed])
            profiles.delete_profile(engine, sessions, "firm-2")

    profiles.import_checked(
        engine, sessions, lambda: path.open("rb"), check, allow_partial=False, progress=meanwhile
    )
    record = engine.record("firm-1")
    assert record is not None and record.profile.description == "chromium plating"
    assert engine.record("firm-2") is None and len(engine) == 29
