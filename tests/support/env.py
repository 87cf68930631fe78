"""The test environment: where the repository, the demo corpus and the shared data folder
are, and the switches that turn a missing PostgreSQL or ../shared from a skip into a
failure (CLUSTERMATCH_REQUIRE_POSTGRES=1, CLUSTERMATCH_REQUIRE_SHARED=1, set by .ci/run)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("CLUSTERMATCH_SHARED_DIR", ROOT.parent / "shared"))
DEMO = ROOT / "service" / "demo" / "organizations.jsonl"


def flag(name: str) -> bool:
    """Whether the environment variable `name` is set to something other than 0/false."""
    return os.environ.get(name, "") not in ("", "0", "false")


def need_shared(*parts: str) -> Path:
    """The path under ../shared, or skip (fail under CLUSTERMATCH_REQUIRE_SHARED)."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        if flag("CLUSTERMATCH_REQUIRE_SHARED"):
            pytest.fail(f"{path} is missing and CLUSTERMATCH_REQUIRE_SHARED is set")
        pytest.skip(
            f"{path} not found: the shared data is not on this machine "
            "(set CLUSTERMATCH_SHARED_DIR to its folder)"
        )
    return path
