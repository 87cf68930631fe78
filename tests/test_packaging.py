"""The package's metadata and the test environment's own messages."""

from __future__ import annotations

import importlib.util
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request
from pathlib import Path
from types import ModuleType

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


def _container_check() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "container_check", ROOT / "scripts" / "container_check.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # (its dataclasses look their module up)
    spec.loader.exec_module(module)
    return module


def test_dockerfile_installs_as_the_readme_does() -> None:
    """Issue 22: the Dockerfile stays in step with scripts/install and pyproject (the torch
    pin), takes every pip setting scripts/container-check passes, keeps python:3.11-slim as
    its default base, and runs as a non-root user with CLUSTERMATCH_DATA_DIR its volume."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    install = (ROOT / "scripts" / "install").read_text()
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    torch = next(d for d in deps if d.startswith("torch"))
    assert f'"{torch}"' in install
    assert f'"{torch}"' in dockerfile
    args = set(re.findall(r"^ARG (\w+)", dockerfile, re.M))
    assert set(_container_check().PIP_ARGS) <= args
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim$", dockerfile, re.M)
    user = re.findall(r"^USER (\S+)", dockerfile, re.M)
    assert user and user[-1] not in ("root", "0")
    data_dir = re.search(r"CLUSTERMATCH_DATA_DIR=(\S+)", dockerfile)
    assert data_dir and f'VOLUME ["{data_dir[1]}"]' in dockerfile
    assert "[test]" not in dockerfile


def test_container_check_passes_local_pip_settings_without_baking_them_in(
    tmp_path: Path,
) -> None:
    """Issue 22: local indexes, wheel folders and constraint files become URLs of a server
    on 127.0.0.1 that serves them and nothing else; a CA bundle is mounted (buildah) or
    left out (docker); remote URLs pass unchanged."""
    cc = _container_check()
    index = tmp_path / "pypi" / "simple"
    (index / "demo").mkdir(parents=True)
    (index / "demo" / "index.html").write_text('<a href="../../files/demo-1.0.whl">demo</a>')
    (tmp_path / "pypi" / "files").mkdir()
    (tmp_path / "pypi" / "files" / "demo-1.0.whl").write_bytes(b"wheel")
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    (wheels / "torch-2.13.0+cpu-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"t")
    (tmp_path / "secret.txt").write_text("not served")
    cert = tmp_path / "ca.crt"
    cert.write_text("-----BEGIN CERTIFICATE-----")
    settings = {
        "PIP_EXTRA_INDEX_URL": f"file://{index} https://mirror.example/simple",
        "PIP_FIND_LINKS": str(wheels),
        "PIP_CERT": str(cert),
        "PIP_DEFAULT_TIMEOUT": "180",
        "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        "PIP_CONSTRAINT": str(tmp_path / "missing.txt"),
    }
    server = cc.FileServer()
    try:
        out = cc.pip_build_inputs(settings, server, can_mount=True)
        base = f"http://127.0.0.1:{server.port}"
        assert out.args["PIP_EXTRA_INDEX_URL"] == (f"{base}{index}/ https://mirror.example/simple")
        assert out.args["PIP_FIND_LINKS"] == f"{base}{wheels}/"
        assert out.args["PIP_TRUSTED_HOST"] == f"127.0.0.1:{server.port}"
        assert out.args["PIP_DEFAULT_TIMEOUT"] == "180"
        assert out.args["PIP_CERT"] == cc.CA_IN_IMAGE
        assert out.mounts == [(str(cert), cc.CA_IN_IMAGE)]
        assert "PIP_DISABLE_PIP_VERSION_CHECK" not in out.args
        assert "PIP_CONSTRAINT" not in out.args  # a file that is not there is left out
        server.start()

        def get(path: str) -> tuple[int, bytes]:
            try:
                with urllib.request.urlopen(base + path, timeout=10) as r:
                    return r.status, r.read()
            except urllib.error.HTTPError as e:
                return e.code, b""

        status, page = get(f"{index}/demo/")
        assert status == 200 and b"demo-1.0.whl" in page
        assert get(f"{tmp_path}/pypi/files/demo-1.0.whl") == (200, b"wheel")  # ../../files
        status, listing = get(f"{wheels}/")
        assert status == 200 and b"torch-2.13.0%2Bcpu" in listing
        assert get(f"{tmp_path}/secret.txt")[0] == 404
        assert get("/etc/passwd")[0] == 404
    finally:
        server.stop()
    docker = cc.pip_build_inputs(settings, cc.FileServer(), can_mount=False)
    assert "PIP_CERT" not in docker.args and not docker.mounts
