"""A large import (a job) whose process dies while encoding: the rows are committed
before encoding, and the failed job still reports them (rows read, written, rejected)."""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.encoders import HashingEncoder
from service.jobs.service import Jobs, Owner, this_process
from tests.support.app import Api, make_settings, start_api


class HeldEncoder:
    """The test encoder, holding every call from `hold` on until `release` is set: the
    import job stays in its encoding phase while the test 'kills' its process."""

    def __init__(self) -> None:
        self.inner = HashingEncoder(dim=64)
        self.hold = threading.Event()
        self.release = threading.Event()
        self.waiting = threading.Event()

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        if self.hold.is_set():
            self.waiting.set()
            self.release.wait(30)
        return self.inner.encode(texts, batch_size=batch_size, progress=progress)


@pytest.fixture
def held(tmp_path: Path) -> Iterator[tuple[Api, HeldEncoder]]:
    encoder = HeldEncoder()
    settings = make_settings(tmp_path, sync_import_rows=5)
    for api in start_api(settings, encoder):
        yield api, encoder
        encoder.release.set()


def _rows(n: int) -> bytes:
    rows: list[dict[str, Any]] = [
        {"id": f"firm-{i}", "name": f"会社{i}", "kind": "firm", "country": "JP"} for i in range(n)
    ]
    rows.append({"id": "bad", "name": "", "kind": "nope"})  # one rejected row
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def test_a_crash_while_encoding_leaves_a_failed_job_with_its_counts(
    held: tuple[Api, HeldEncoder],
) -> None:
    """Before: the failed job had no report at all, though every row was saved."""
    api, encoder = held
    encoder.hold.set()
    r = api.post(
        "/v1/profiles/import",
        params={"allow_partial": "true"},
        content=_rows(40),
        headers=api.h(),
    )
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    assert encoder.waiting.wait(30), "the job never reached encoding"
    # the process restarts: a new owner with this pid (a container's pid 1) finds it
    restarted = Jobs(
        api.app.state.sessions, owner=Owner("restarted", this_process().host, os.getpid())
    )
    assert restarted.fail_abandoned() == 1
    job = api.get(location, headers=api.h()).json()
    assert job["status"] == "failed" and job["error"].startswith("interrupted:")
    report = job["report"]
    assert report is not None, job
    assert (report["rows"], report["valid"], report["rejected"]) == (41, 40, 1)
    assert (report["created"], report["updated"], report["unchanged"]) == (40, 0, 0)
    listed = api.get("/v1/profiles", params={"limit": 100}, headers=api.h()).json()
    assert listed["total"] == 40  # the rows the report counts are there
    # (here the process was not really gone: its job ends, and success clears the error)
    encoder.release.set()
    deadline = time.monotonic() + 30
    while (job := api.get(location, headers=api.h()).json())["status"] != "succeeded":
        assert time.monotonic() < deadline, job
        time.sleep(0.05)
    assert job["error"] is None and job["report"]["created"] == 40
