"""The request middleware: request id, access log, latency histogram."""

from __future__ import annotations

import logging
import time
import uuid

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.ops.logs import redacted_path
from service.ops.metrics import Metrics

access_log = logging.getLogger("clustermatch.access")


class RequestMiddleware:
    """Request id, access log, latency histogram. (The body limits are the guard's:
    service.ops.guard.)"""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        status = 500

        async def send_wrapper(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", []),
                    (b"x-request-id", request_id.encode()),
                ]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            self._observe(scope, status, started, request_id)

    def _observe(self, scope: Scope, status: int, started: float, request_id: str) -> None:
        elapsed = time.perf_counter() - started
        route = scope.get("route")
        template = getattr(route, "path", None) or "unmatched"
        self.metrics.latency.labels(scope["method"], template, str(status)).observe(elapsed)
        access_log.info(
            "request",
            extra={
                "request_id": request_id,
                "method": scope["method"],
                "path": redacted_path(scope)[0],
                "route": template,
                "status": status,
                "ms": round(elapsed * 1000, 2),
            },
        )
