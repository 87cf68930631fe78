"""Operations over HTTP: liveness, readiness, Prometheus metrics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Response

from service.deps import EngineDep, MetricsDep, SessionDep
from service.io.media import file_responses
from service.ops import service
from service.ops.metrics import CONTENT_TYPE_LATEST

router = APIRouter(tags=["operations"])


@router.get("/healthz", summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get(
    "/readyz",
    summary="Readiness: the index is loaded (503 until then); `lag`: how far it trails the DB",
)
def readyz(session: SessionDep, engine: EngineDep) -> dict[str, Any]:
    return service.readiness(session, engine)


@router.get("/metrics", summary="Prometheus metrics", responses=file_responses("text/plain"))
def metrics(metrics: MetricsDep, engine: EngineDep, session: SessionDep) -> Response:
    return Response(service.scrape(metrics, engine, session), media_type=CONTENT_TYPE_LATEST)
