"""The package's metadata and the test environment's own messages."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from tests.support import env
from tests.support.env import ROOT


def test_license_is_an_spdx_string_and_setuptools_does_not_warn(tmp_path: Path) -> None:
    """Issue 19.18: `license = { text = ... }` made setuptools warn on every install."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["project"]["license"] == "Apache-2.0"
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    out = tmp_path / "meta"
    out.mkdir()
    done = subprocess.run(
        [
            sys.executable,
            "-W",
            "always",
            "-c",
            "import sys; from setuptools.build_meta import prepare_metadata_for_build_wheel"
            " as p; print(p(sys.argv[1]))",
            str(out),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert "Warning" not in done.stderr, done.stderr
    metadata = next(out.glob("*.dist-info")) / "METADATA"
    assert "License-Expression: Apache-2.0" in metadata.read_text()


def test_shared_data_skips_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    """Issue 19.18: the EDINET test's skip did not say how to point at the shared data."""
    monkeypatch.setattr(env, "SHARED", Path("/nonexistent-shared"))
    monkeypatch.delenv("CLUSTERMATCH_REQUIRE_SHARED", raising=False)
    with pytest.raises(pytest.skip.Exception) as skipped:
        env.need_shared("data", "japan", "EdinetcodeDlInfo.csv")
    assert "CLUSTERMATCH_SHARED_DIR" in str(skipped.value)
