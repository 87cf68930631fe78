"""A request sent straight to an ASGI app, to see how much of its body the app read: the
guard's and the console's "before the body" checks (tests/service/ops/test_guard.py,
tests/service/console/test_before_body.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any


def asgi_call(
    app: Any,
    method: str,
    path: str,
    headers: dict[str, str],
    chunks: list[bytes],
    content_type: str = "application/json",
) -> tuple[int, int]:
    """Send a request straight to the ASGI app: (its status, how many of the body's chunks
    the app took). The body is announced with its Content-Length, as a client sends it."""
    taken = 0

    async def receive() -> dict[str, Any]:
        nonlocal taken
        if taken < len(chunks):
            taken += 1
            return {
                "type": "http.request",
                "body": chunks[taken - 1],
                "more_body": taken < len(chunks),
            }
        await asyncio.sleep(3600)  # a client still sending: the app must not wait for it
        return {"type": "http.disconnect"}

    status = 0

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    size = sum(len(c) for c in chunks)
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"content-type", content_type.encode()),
            (b"content-length", str(size).encode()),
            (b"host", b"testserver"),
            *[(k.lower().encode(), v.encode()) for k, v in headers.items()],
        ],
        "client": ("10.9.9.9", 1234),
        "server": ("testserver", 80),
    }
    # in a thread of its own: a session-wide fixture (Playwright's sync API, in the browser
    # tests) may hold a running event loop on this thread, where asyncio.run() refuses
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, asyncio.wait_for(app(scope, receive, send), timeout=30)).result()
    return status, taken
