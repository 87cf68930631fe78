"""Waiting for a background job (schedules, re-plans, large imports, training)."""

from __future__ import annotations

import time
from typing import Any

from tests.support.app import Api


def wait_for_job(
    api: Api, location: str, role: str = "admin", timeout: float = 60.0
) -> dict[str, Any]:
    """The job at `location` (GET /v1/jobs/{id}, as `role`) once it has succeeded or
    failed; fails the test if it is still running after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        job: dict[str, Any] = api.get(location, headers=api.h(role)).json()
        if job["status"] in ("succeeded", "failed"):
            return job
        if time.monotonic() > deadline:
            raise AssertionError(f"job did not finish in {timeout} s: {job}")
        time.sleep(0.02)
