"""Operations: structured logs, Prometheus metrics, request size limits, health checks."""

from __future__ import annotations

import json
import logging
import sys
import time
import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from sqlalchemy import func, select
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.errors import PayloadTooLarge, ServiceUnavailable
from service.store.tables import ProfileRow

router = APIRouter(tags=["operations"])
access_log = logging.getLogger("clustermatch.access")

_RESERVED = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message"}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        out.update({k: v for k, v in record.__dict__.items() if k not in _RESERVED})
        if record.exc_info:
            out["exc"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False, default=str)


def configure_logging(level: str, fmt: str) -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter()
        if fmt == "json"
        else logging.Formatter("%(levelname)s %(name)s %(message)s")
    )
    root = logging.getLogger("clustermatch")
    root.handlers[:] = [handler]
    root.setLevel(level)
    root.propagate = False


class Metrics:
    """Per-app registry, so several apps (tests) never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.latency = Histogram(
            "clustermatch_request_seconds",
            "HTTP request latency",
            ["method", "route", "status"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.index_size = Gauge(
            "clustermatch_index_vectors",
            "Vectors per facet index",
            ["facet"],
            registry=self.registry,
        )
        self.profiles = Gauge(
            "clustermatch_profiles_indexed", "Indexed profiles", registry=self.registry
        )
        self.encoded = Counter(
            "clustermatch_encoded_texts_total",
            "Texts encoded by the model (cache misses)",
            registry=self.registry,
        )
        self._encoded_seen = 0


class RequestMiddleware:
    """Request id, access log, latency histogram, and the body size limit (checked on the
    declared Content-Length and again while the body streams in)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, max_body: int) -> None:
        self.app = app
        self.metrics = metrics
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from service.app import problem_response

        started = time.perf_counter()
        request_id = uuid.uuid4().hex[:16]
        status = 500
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_body:
            response = problem_response(
                PayloadTooLarge(f"the body is larger than {self.max_body} bytes"), scope["path"]
            )
            await response(scope, receive, send)
            self._observe(scope, 413, started, request_id)
            return
        seen = 0

        async def limited_receive() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    raise PayloadTooLarge(f"the body is larger than {self.max_body} bytes")
            return message

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
            await self.app(scope, limited_receive, send_wrapper)
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
                "path": scope["path"],
                "route": template,
                "status": status,
                "ms": round(elapsed * 1000, 2),
            },
        )


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Readiness: index loaded and in step with the database")
def readyz(request: Request) -> dict[str, Any]:
    engine = request.app.state.engine
    if not engine.ready:
        raise ServiceUnavailable("index loading", ready=False)
    with request.app.state.sessions() as session:
        in_db = session.scalar(select(func.count()).select_from(ProfileRow)) or 0
    if in_db != len(engine):
        raise ServiceUnavailable(
            f"index holds {len(engine)} profiles, database {in_db}", ready=False
        )
    return {
        "status": "ready",
        "profiles": in_db,
        "model": engine.encoder.model_id,
        "layouts": {f: ix.layout for f, ix in engine.indexes.items()},
    }


@router.get("/metrics", summary="Prometheus metrics")
def metrics(request: Request) -> Response:
    m: Metrics = request.app.state.metrics
    engine = request.app.state.engine
    for facet, index in engine.indexes.items():
        m.index_size.labels(facet).set(len(index))
    m.profiles.set(len(engine))
    delta = engine.encoded_total - m._encoded_seen
    if delta > 0:
        m.encoded.inc(delta)
        m._encoded_seen = engine.encoded_total
    return Response(generate_latest(m.registry), media_type=CONTENT_TYPE_LATEST)
