"""The app as a real server that a test kills (SIGKILL) in the middle of a job, on a
listening socket handed over by the test process (no port race):

    python -m tests.support.crash_server --fd N --root DIR [--db-url URL] [--encode-delay S]
        [--save-interval S] [--save-delay S] [--hold-sheet S]

Settings as in tests.support.app.make_settings (SQLite under DIR/data unless --db-url),
imports over 100 rows run as a job. The HashingEncoder stands in for the model;
`--encode-delay` makes each batch of 64 texts take that much longer, so that a 10,000-row
import spends seconds in its encoding phase, as it does with the real model, and the test
can kill it there. `--save-interval` turns the periodic index save on, and `--save-delay`
makes each facet index written by a save take that much longer (a save then spends
seconds between its first file and the switch of CURRENT). `--hold-sheet` holds a
follow-up sheet import that long after its rows are written into its transaction, before
the commit, and appends a line to DIR/sheet-staged when it starts holding. `Crashable`
starts, kills and restarts it."""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import httpx
import numpy as np

from models.encoders import HashingEncoder

ROOT = Path(__file__).resolve().parents[2]


class SlowHashingEncoder(HashingEncoder):
    def __init__(self, dim: int, delay_s: float) -> None:
        super().__init__(dim=dim)
        self.delay_s = delay_s

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        if self.delay_s:
            time.sleep(self.delay_s * -(-len(texts) // batch_size))
        return super().encode(texts, batch_size=batch_size, progress=progress)


SHEET_STAGED = "sheet-staged"


def _slow_index_saves(delay_s: float) -> None:
    from indexing.vector_index import VectorIndex

    original = VectorIndex.save

    def slow_save(self: VectorIndex, path: Path) -> None:
        original(self, path)
        time.sleep(delay_s)  # the next facet, and CURRENT, wait: a kill lands in between

    VectorIndex.save = slow_save  # type: ignore[method-assign]


def _hold_sheet_imports(hold_s: float, marker: Path) -> None:
    from models.outcomes import FollowUp, MeetingOutcome
    from service.store import outcomes as outcome_rows
    from service.store.db import Session

    original = outcome_rows.add_many

    def held(
        session: Session, outcomes: Iterable[MeetingOutcome], follow_ups: Iterable[FollowUp]
    ) -> None:
        original(session, outcomes, follow_ups)
        session.flush()  # the rows are in the transaction, not yet committed
        with marker.open("a") as fh:
            fh.write("staged\n")
        time.sleep(hold_s)

    outcome_rows.add_many = held


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--fd", type=int, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--db-url", default=None)
    parser.add_argument("--encode-delay", type=float, default=0.0)
    parser.add_argument("--save-interval", type=float, default=0.0)
    parser.add_argument("--save-delay", type=float, default=0.0)
    parser.add_argument("--hold-sheet", type=float, default=0.0)
    args = parser.parse_args()
    if args.save_delay:
        _slow_index_saves(args.save_delay)
    if args.hold_sheet:
        _hold_sheet_imports(args.hold_sheet, args.root / SHEET_STAGED)

    import uvicorn

    from service.app import create_app
    from tests.support.app import make_settings

    settings = make_settings(
        args.root, args.db_url, sync_import_rows=100, index_save_interval_s=args.save_interval
    )
    app = create_app(settings, encoder=SlowHashingEncoder(64, args.encode_delay))
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on")
    uvicorn.Server(config).run(sockets=[socket.socket(fileno=args.fd)])


class Crashable:
    """A crash_server process on `root` (and `db_url`), killed and restarted at will."""

    def __init__(self, root: Path, db_url: str | None) -> None:
        self.root, self.db_url = root, db_url
        self.log_path = root / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def start(
        self,
        encode_delay: float = 0.0,
        timeout: float = 120,
        *,
        save_interval: float = 0.0,
        save_delay: float = 0.0,
        hold_sheet: float = 0.0,
    ) -> None:
        """Start the server and wait for /readyz 200 (the index in step with the database)."""
        self.root.mkdir(parents=True, exist_ok=True)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        sock.listen(64)
        sock.set_inheritable(True)
        self.url = f"http://127.0.0.1:{sock.getsockname()[1]}"
        command = [sys.executable, "-m", "tests.support.crash_server"]
        command += ["--fd", str(sock.fileno()), "--root", str(self.root)]
        command += ["--encode-delay", str(encode_delay)]
        command += ["--save-interval", str(save_interval), "--save-delay", str(save_delay)]
        command += ["--hold-sheet", str(hold_sheet)]
        if self.db_url:
            command += ["--db-url", self.db_url]
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(
                command,
                cwd=ROOT,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
                pass_fds=[sock.fileno()],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        sock.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the server exited:\n{self.log()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=5).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"the server did not become ready:\n{self.log()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown handler runs, nothing is flushed or saved."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")[-5000:]


if __name__ == "__main__":
    main()
