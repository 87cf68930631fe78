"""Process-wide settings (service.runtime): what `configure_process` sets unless given."""

from __future__ import annotations

import os
import platform
import subprocess
import sys

import pytest

from service.runtime import configure_process, limit_malloc_arenas


def test_malloc_arenas_are_limited_unless_the_environment_says_otherwise(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Two glibc malloc arenas (the soak's memory creep, see service.runtime), for this
    process and the ones it starts (uvicorn's workers); a value given wins."""
    monkeypatch.delenv("MALLOC_ARENA_MAX", raising=False)
    configure_process()
    assert os.environ["MALLOC_ARENA_MAX"] == "2"
    child = "import os; print(os.environ.get('MALLOC_ARENA_MAX'))"
    out = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"
    monkeypatch.setenv("MALLOC_ARENA_MAX", "4")
    configure_process()
    assert os.environ["MALLOC_ARENA_MAX"] == "4"
    assert not limit_malloc_arenas("many") and not limit_malloc_arenas("0")
    if sys.platform.startswith("linux") and platform.libc_ver()[0] == "glibc":
        assert limit_malloc_arenas("2")
