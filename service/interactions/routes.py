"""Interactions over HTTP: record one, bulk import, and a profile's history."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from service.deps import CallerDep, EngineDep, SessionDep
from service.interactions import service
from service.interactions.schemas import interaction_out
from service.io.imports import Interaction, parse_interactions
from service.io.media import CSV, NDJSON, json_body, upload_body
from service.io.uploads import parse_upload
from service.ops.guard import JsonRoute

router = APIRouter(prefix="/v1", tags=["interactions"], route_class=JsonRoute)


@router.post(
    "/interactions",
    status_code=201,
    summary="Record one interaction",
    responses={200: {"description": "already recorded", "content": {"application/json": {}}}},
    openapi_extra=json_body(Interaction),
)
def create_interaction(
    body: dict[str, Any],
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    response: Response,
) -> dict[str, Any]:
    item, created = service.record_one(session, engine, caller, body)
    if not created:
        response.status_code = 200
    return {"created": created, "interaction": item.model_dump(mode="json")}


@router.post(
    "/interactions/import",
    summary="Bulk import interactions (JSONL or CSV)",
    openapi_extra=upload_body(CSV, NDJSON),
)
async def import_interactions(
    request: Request,
    caller: CallerDep,
    session: SessionDep,
    engine: EngineDep,
    format: Literal["auto", "jsonl", "csv"] = "auto",
    encoding: Annotated[str | None, Query(max_length=32)] = None,
    allow_partial: bool = False,
) -> dict[str, Any]:
    caller.require("admin", "organizer")
    parsed = await parse_upload(request, parse_interactions, format, encoding)
    report = await run_in_threadpool(
        service.save, session, engine, parsed, allow_partial=allow_partial
    )
    return {"status": "succeeded", "report": report.to_dict()}


@router.get("/profiles/{profile_id}/interactions", summary="A profile's interaction history")
def list_interactions(
    profile_id: str,
    caller: CallerDep,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> dict[str, Any]:
    rows = service.history(session, caller, profile_id, limit)
    return {"items": [interaction_out(r) for r in rows], "count": len(rows)}
