"""Issue 21.1, measured: what one unauthenticated 60 MB JSON body does to a server.

    python scripts/probe_body_limit.py [--before DIR] [--size-mb 60]

Starts the app (`create_app` with the small hashing encoder, no model to load) under
uvicorn in a process of its own, from this checkout and, with `--before`, from another
(e.g. a `git worktree` of the commit before the guard), one after the other. For each it
sends `PUT /v1/profiles/x` without a key and with a JSON body of `--size-mb` MB (an array
of numbers, the kind of document that costs most to parse), while polling `/healthz`
every 20 ms and sampling the server's resident memory (/proc, Linux) every 10 ms. It
prints, side by side: the answer's status, how long it took, the server's memory growth
(peak during the request less before it), and /healthz's median and worst latency
meanwhile. Timings depend on the machine and its load; the ratios between the columns
are what to read.

    python scripts/probe_body_limit.py serve PORT     (the server process, started by the above)
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx


def serve(port: int) -> None:
    """The server: the real app with the hashing encoder, on 127.0.0.1:`port`."""
    import uvicorn

    from models.encoders import HashingEncoder
    from service.app import create_app
    from service.settings import Settings

    settings = Settings(data_dir=Path(os.environ["PROBE_DATA_DIR"]), log_level="WARNING")
    app = create_app(settings, encoder=HashingEncoder(dim=64))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def send_raw(port: int, body: bytes) -> tuple[int, float]:
    """PUT the body without a key over a plain socket: (the status, seconds until the
    answer). A server that answers before it has read the body may close the connection
    while the client still sends: the answer is read all the same."""
    head = (
        f"PUT /v1/profiles/x HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    started = time.perf_counter()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.settimeout(120)
        with contextlib.suppress(OSError):  # answered and closed early
            s.sendall(head + body)
        data = b""
        try:
            while b"\r\n" not in data:
                chunk = s.recv(65536)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass
    took = time.perf_counter() - started
    status = int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/") else 0
    return status, took


def probe(source: Path, size_mb: int) -> dict[str, Any]:
    port = free_port()
    with tempfile.TemporaryDirectory() as data_dir:
        env = {
            **os.environ,
            "PYTHONPATH": str(source),
            "PROBE_DATA_DIR": data_dir,
        }
        server = subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), "serve", str(port)],
            cwd=source,
            env=env,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                try:
                    if httpx.get(url + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
            n = size_mb * 1024 * 1024 // 2
            body = b"[" + b"0," * (n - 1) + b"0]"
            before = rss_mib(server.pid)
            peak = [before]
            health: list[float] = []
            done = threading.Event()

            def sample() -> None:
                while not done.is_set():
                    peak[0] = max(peak[0], rss_mib(server.pid))
                    time.sleep(0.01)

            def poll() -> None:
                with httpx.Client(timeout=60) as client:
                    while not done.is_set():
                        started = time.perf_counter()
                        client.get(url + "/healthz")
                        health.append(time.perf_counter() - started)
                        time.sleep(0.02)

            threads = [threading.Thread(target=sample), threading.Thread(target=poll)]
            for t in threads:
                t.start()
            time.sleep(0.2)
            status, took = send_raw(port, body)
            time.sleep(0.5)  # what the server still does after answering
            done.set()
            for t in threads:
                t.join()
            return {
                "status": status,
                "answer_s": took,
                "rss_before_mib": before,
                "growth_mib": peak[0] - before,
                "healthz_p50_ms": statistics.median(health) * 1000 if health else 0.0,
                "healthz_max_ms": max(health) * 1000 if health else 0.0,
                "healthz_n": len(health),
            }
        finally:
            server.terminate()
            server.wait(timeout=30)


def main(argv: list[str]) -> int:
    if argv[:1] == ["serve"]:
        serve(int(argv[1]))
        return 0
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--before", type=Path, help="a checkout to compare with (run first)")
    parser.add_argument("--size-mb", type=int, default=60)
    args = parser.parse_args(argv)
    here = Path(__file__).resolve().parent.parent
    runs = [("before", args.before)] if args.before else []
    runs.append(("this checkout", here))
    results = {name: probe(path, args.size_mb) for name, path in runs}
    rows = [
        ("answer (status)", "status", "{:.0f}"),
        ("answer took (s)", "answer_s", "{:.2f}"),
        ("RSS before (MiB)", "rss_before_mib", "{:.0f}"),
        ("RSS growth (MiB)", "growth_mib", "{:.0f}"),
        ("/healthz p50 (ms)", "healthz_p50_ms", "{:.1f}"),
        ("/healthz worst (ms)", "healthz_max_ms", "{:.1f}"),
        ("/healthz answers", "healthz_n", "{:.0f}"),
    ]
    print(f"unauthenticated PUT /v1/profiles/x with a {args.size_mb} MB JSON body")
    print(f"{'':22s}" + "".join(f"{name:>16s}" for name in results))
    for label, key, fmt in rows:
        print(f"{label:22s}" + "".join(f"{fmt.format(r[key]):>16s}" for r in results.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
