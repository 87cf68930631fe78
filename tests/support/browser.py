"""Real-browser harness: a real server (uvicorn in a subprocess, SQLite in a temporary
directory) and Chromium driven by Playwright.

- `LiveServer`: `url`, `admin_key` (an API key), `user(...)` (a console user with a
  password, made directly in the server's database), `link(email)` (a password link).
- `launch_browser()`: Debian's chromium through Playwright (no browser download);
  skips with the reason when playwright or chromium is missing, fails instead under
  CLUSTERMATCH_REQUIRE_BROWSER=1 (CI).
- `shot(page, name)`: a screenshot in tests/.artifacts/screens/NAME.png (not committed):
  look at them; a cramped or broken page is a defect.

The fixtures over these are in conftest.py: `live_server`, `browser` (both per session),
`new_page(locale=...)` (a fresh context at 1280x800 per call).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from service.accounts import service as accounts
from service.auth import create_key
from service.store.db import make_engine, make_sessionmaker, transaction, upgrade

ROOT = Path(__file__).resolve().parents[2]
SCREENS = ROOT / "tests" / ".artifacts" / "screens"
VIEWPORT = {"width": 1280, "height": 800}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def _required() -> bool:
    return os.environ.get("CLUSTERMATCH_REQUIRE_BROWSER", "") not in ("", "0", "false")


def need_browser() -> str:
    """The chromium executable, or skip (fail under CLUSTERMATCH_REQUIRE_BROWSER=1)."""
    reason = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        reason = "playwright is not installed (pip install -e '.[test]')"
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    if reason is None and executable is None:
        reason = "chromium is not installed (apt-get install chromium fonts-noto-cjk)"
    if reason is None and not _japanese_font():
        reason = "no Japanese font: pages would show boxes (apt-get install fonts-noto-cjk)"
    if reason is not None:
        if _required():
            pytest.fail(reason + " and CLUSTERMATCH_REQUIRE_BROWSER is set")
        pytest.skip(reason)
    assert executable is not None
    return executable


def _japanese_font() -> bool:
    """Whether fontconfig has a font for Japanese (True where it cannot be asked)."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return True
    found = subprocess.run([fc_list, ":lang=ja", "family"], capture_output=True, text=True)
    return bool(found.stdout.strip())


class LiveServer:
    def __init__(self, root: Path, *, log_level: str = "WARNING") -> None:
        """`root`: a temporary directory; the data go to root/data (make_settings); the
        server's log (at `log_level`) to root/server.log."""
        root.mkdir(parents=True, exist_ok=True)
        self.log_path = root / "server.log"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.set_inheritable(True)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "tests.support.console_server",
                    "--fd",
                    str(sock.fileno()),
                    "--root",
                    str(root),
                    "--log-level",
                    log_level,
                ],
                cwd=ROOT,
                env=env,
                pass_fds=[sock.fileno()],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        sock.close()
        self._n = 0
        try:
            self._wait_ready()
            self.engine = make_engine(f"sqlite:///{root / 'data' / 'clustermatch.db'}")
            upgrade(self.engine)
            self.sessions = make_sessionmaker(self.engine)
            with transaction(self.sessions) as s:
                _, self.admin_key = create_key(s, "admin", name="browser tests")
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self, timeout: float = 90) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not become ready:\n{self.log()}")

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]

    def put_profiles(self, profiles: list[dict[str, Any]]) -> None:
        headers = {"Authorization": f"Bearer {self.admin_key}"}
        with httpx.Client(base_url=self.url, headers=headers, timeout=30) as client:
            for p in profiles:
                r = client.put(f"/v1/profiles/{p['id']}", json=p)
                assert r.status_code in (200, 201), r.text

    def user(
        self,
        role: str = "organizer",
        *,
        profile_id: str | None = None,
        name: str = "",
        password: str | None = "correct horse battery staple",
        office: str | None = None,
    ) -> tuple[str, str]:
        """(email, password) of a new user of `office` (None: the default office); a
        distinct email each call."""
        self._n += 1
        email = f"{role}{self._n}@example.jp"
        with transaction(self.sessions) as s:
            row = accounts.create_user(
                s,
                email=email,
                role=role,
                display_name=name,
                profile_id=profile_id,
                office=office,
            )
            token = accounts.issue_password_link(s, row)
            if password is not None:
                accounts.set_password(s, token, password)
        return email, password or ""

    def link(self, email: str) -> str:
        with transaction(self.sessions) as s:
            row = accounts.find_user(s, email)
            assert row is not None
            return f"{self.url}/console/set-password/{accounts.issue_password_link(s, row)}"

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if getattr(self, "engine", None) is not None:
            self.engine.dispose()


def launch_browser(playwright: Any, executable: str) -> Any:
    return playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)


def shot(page: Any, name: str) -> Path:
    """Screenshot of the whole page as tests/.artifacts/screens/NAME.png."""
    SCREENS.mkdir(parents=True, exist_ok=True)
    path = SCREENS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path
