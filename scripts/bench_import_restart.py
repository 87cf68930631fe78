"""How long a restart re-encodes after a crash in the middle of an import's encoding, with
the embedding cache written every 2,048 texts (before) and every 256 (now).

    .venv/bin/python scripts/bench_import_restart.py [--profiles 140] [--kill-at 600]
        [--chunks 2048,256] [--workdir DIR] [--model use-multilingual-v3]

For each cache chunk, in a fresh data directory (SQLite), one after the other:
1. starts a real server (uvicorn, this script's `serve` mode, the configured model with
   `indexing.embedding.CACHE_CHUNK` set to the chunk) and waits for /readyz;
2. imports `--profiles` synthetic profiles (scripts/bench_core.make_profiles) as a job,
   polls the job, and SIGKILLs the server once the job has encoded `--kill-at` texts;
3. counts the vectors the cache holds (what survived the crash);
4. starts the server again and times, from the model being loaded to /readyz 200, the
   restart's reconcile: it re-encodes every text of the import the cache lost.
It prints, per chunk: the texts encoded before the kill, the vectors kept, the work lost
(encoded but not kept), the vectors the restart added to the cache (the import's texts not
kept, and the line segments), and the restart's time from the model loaded to ready, with the
ratio against the first chunk (the baseline, same run, same machine). The failed job's
report (its counts, stored before encoding) is printed too.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
KEY = "bench-import-restart-admin-key-0123456789"


def serve(data_dir: Path, port: int, chunk: int, loaded: Path) -> None:
    """The server: the model loaded first (its time is not the restart's re-encoding),
    then the app with the cache written every `chunk` texts."""
    from service.runtime import configure_process

    configure_process()
    import uvicorn

    from indexing import embedding
    from service.app import create_app
    from service.resources import load_encoder
    from service.settings import Settings

    embedding.CACHE_CHUNK = chunk
    settings = Settings(data_dir=data_dir, index_save_interval_s=0, native_ranker=False)
    encoder = load_encoder(settings)
    loaded.write_text(str(time.time()))
    app = create_app(settings, encoder=encoder)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(url: str, data: bytes | None = None) -> tuple[int, Any]:
    request = urllib.request.Request(url, data=data, headers={"Authorization": f"Bearer {KEY}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as r:
            body = r.read()
            return r.status, json.loads(body) if body.startswith((b"{", b"[")) else body
    except urllib.error.HTTPError as e:
        return e.code, None
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, None


def _get(url: str, timeout: float = 120) -> Any:
    """The JSON (or bytes) at `url`, asking again while the server is busy."""
    deadline = time.monotonic() + timeout
    while True:
        status, body = _call(url)
        if status == 200:
            return body
        if time.monotonic() > deadline:
            raise SystemExit(f"GET {url} answered {status}")
        time.sleep(0.5)


class Server:
    def __init__(self, data_dir: Path, chunk: int, model: str | None) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.loaded = data_dir / f"loaded-{time.monotonic_ns()}"
        env = {
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "CLUSTERMATCH_BOOTSTRAP_ADMIN_KEY": KEY,
            "CLUSTERMATCH_SYNC_IMPORT_ROWS": "10",
            "CLUSTERMATCH_LOG_LEVEL": "WARNING",
        }
        if model:
            env["CLUSTERMATCH_MODEL"] = model
        args = [str(data_dir), str(self.port), str(chunk), str(self.loaded)]
        self.proc = subprocess.Popen(
            [sys.executable, __file__, "serve", *args],
            env=env,
            cwd=data_dir,
        )

    def wait_ready(self, timeout: float = 900) -> float:
        """Seconds from the model being loaded to /readyz 200."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the server exited with {self.proc.returncode}")
            status, _ = _call(f"{self.url}/readyz")
            if status == 200:
                return time.time() - float(self.loaded.read_text())
            time.sleep(0.2)
        raise SystemExit("the server did not become ready")

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.kill()


def _cached(data_dir: Path) -> int:
    with sqlite3.connect(data_dir / "clustermatch.db") as db:
        return int(db.execute("select count(*) from embeddings").fetchone()[0])


def _job(data_dir: Path, job_id: str) -> dict[str, Any]:
    """The job's row, read from the database (the server may be busy answering)."""
    with sqlite3.connect(data_dir / "clustermatch.db") as db:
        status, error, report = db.execute(
            "select status, error, report from jobs where id = ?", (job_id,)
        ).fetchone()
    return {"status": status, "error": error, "report": json.loads(report) if report else None}


def run(chunk: int, profiles: bytes, kill_at: int, work: Path, model: str | None) -> dict[str, Any]:
    data_dir = work / f"chunk-{chunk}"
    data_dir.mkdir(parents=True)
    server = Server(data_dir, chunk, model)
    try:
        server.wait_ready()
        status, body = _call(f"{server.url}/v1/profiles/import", profiles)
        if status != 202:
            raise SystemExit(f"the import answered {status}, not a job")
        job_url = f"{server.url}/v1/jobs/{body['id']}"
        total = 0
        while True:
            job = _get(job_url)
            if job["status"] != "running" and job["status"] != "queued":
                raise SystemExit(f"the job ended before the kill: {job['status']}")
            if job["phase"] == "embedding":
                done, total = job["progress"]["done"], job["progress"]["total"]
                if done >= kill_at:
                    break
            time.sleep(0.05)
        server.kill()
    except BaseException:
        server.stop()
        raise
    kept = _cached(data_dir)
    restarted = Server(data_dir, chunk, model)
    try:
        seconds = restarted.wait_ready()
        encoded = _cached(data_dir) - kept  # texts (and segments) the restart encoded
        job = _job(data_dir, body["id"])
        t0 = time.monotonic()
        _get(f"{restarted.url}/v1/jobs/{body['id']}")
        answer_s = time.monotonic() - t0
    finally:
        restarted.stop()
    return {
        "chunk": chunk,
        "texts": total,
        "encoded_before_kill": done,
        "kept": kept,
        "restart_encoded": encoded,
        "restart_s": seconds,
        "first_api_answer_s": answer_s,
        "job": job,
    }


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        data_dir, port, chunk, loaded = sys.argv[2:6]
        serve(Path(data_dir), int(port), int(chunk), Path(loaded))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--profiles", type=int, default=140)
    parser.add_argument("--kill-at", type=int, default=600, help="texts encoded before SIGKILL")
    parser.add_argument("--chunks", default="2048,256", help="the first is the baseline")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--model", default=None, help="CLUSTERMATCH_MODEL (default: the setting)")
    args = parser.parse_args()

    sys.path.insert(0, str(ROOT / "scripts"))
    sys.path.insert(0, str(ROOT))
    from bench_core import make_profiles

    rows = "\n".join(p.model_dump_json() for p in make_profiles(args.profiles)).encode()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench-import-restart-"))
    results = [run(int(c), rows, args.kill_at, work, args.model) for c in args.chunks.split(",")]
    base = results[0]
    print(f"{args.profiles} profiles, SIGKILL after {args.kill_at} texts encoded (SQLite)")
    header = (
        "chunk | texts | encoded before kill | kept in cache | lost | restart encoded "
        "| restart s | ratio"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        ratio = r["restart_s"] / base["restart_s"] if base["restart_s"] else float("nan")
        print(
            f"{r['chunk']:>5} | {r['texts']:>5} | {r['encoded_before_kill']:>19} | "
            f"{r['kept']:>13} | {r['encoded_before_kill'] - r['kept']:>4} | "
            f"{r['restart_encoded']:>15} | {r['restart_s']:>9.1f} | {ratio:.2f}"
        )
    for r in results:
        print(f"chunk {r['chunk']}: the interrupted job after the restart: {json.dumps(r['job'])}")
        print(f"chunk {r['chunk']}: first API answer after ready: {r['first_api_answer_s']:.1f} s")


if __name__ == "__main__":
    main()
