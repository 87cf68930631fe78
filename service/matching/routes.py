"""Matching over HTTP: ranked, explained matches for a profile, and free-text search. The
result shape is in `service.matching.schemas`."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from models.matching import Lang, Purpose
from models.profile import Kind
from service.deps import CallerDep, ReadyEngineDep, SettingsDep
from service.engine import Match
from service.errors import problems
from service.matching import service
from service.matching.schemas import SearchBody, respond
from service.ops.guard import JsonRoute
from service.settings import Settings

router = APIRouter(prefix="/v1", tags=["matching"], route_class=JsonRoute)


async def _match(
    settings: Settings, fn: Callable[..., list[Match]], *args: Any, **kw: Any
) -> list[Match]:
    """Run a matching call: on a worker thread, or inline (see Settings.match_inline)."""
    if settings.match_inline:
        return fn(*args, **kw)
    return await run_in_threadpool(fn, *args, **kw)


@router.get(
    "/profiles/{profile_id}/matches",
    summary="Ranked, explained matches for a profile",
    responses=problems(400, 503),
)
async def matches(
    profile_id: str,
    caller: CallerDep,
    engine: ReadyEngineDep,
    settings: SettingsDep,
    purpose: Purpose = "partner",
    kind: Annotated[list[Kind] | None, Query()] = None,
    country: Annotated[list[str] | None, Query(max_length=20)] = None,
    k: Annotated[int, Query(ge=1)] = 10,
    lang: Lang = "en",
    diversity: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
) -> JSONResponse:
    record, k, countries = service.profile_query(
        engine, caller, profile_id, purpose, k=k, max_k=settings.max_k, country=country
    )
    results = await _match(
        settings,
        engine.matches_for,
        record,
        purpose,
        kinds=kind,
        countries=countries,
        k=k,
        lang=lang,
        diversity=diversity,
    )
    return respond(
        {
            "profile_id": profile_id,
            "purpose": purpose,
            "kind": kind,
            "country": countries,
            "k": k,
            "lang": lang,
            "diversity": diversity,
        },
        engine,
        results,
        caller,
    )


@router.post(
    "/search",
    summary="Free-text search in any language, with the same filters",
    responses=problems(503),
)
async def search(
    body: SearchBody, caller: CallerDep, engine: ReadyEngineDep, settings: SettingsDep
) -> JSONResponse:
    k, countries, from_country = service.text_query(
        body.text, body.k, settings.max_k, body.country, body.from_country
    )
    regions = service.text_regions(body.text, from_country, countries, body.regions)
    results = await _match(
        settings,
        engine.search_text,
        body.text,
        body.purpose,
        kinds=body.kind,
        countries=countries,
        country=from_country,
        k=k,
        lang=body.lang,
        diversity=body.diversity,
        regions=regions,
    )
    return respond(
        {
            "text": body.text,
            "purpose": body.purpose,
            "kind": body.kind,
            "country": countries,
            "k": k,
            "lang": body.lang,
            # the places the text names, whose organizations come first
            "regions": [
                {"word": r.word, "region": r.key, "countries": sorted(r.countries)} for r in regions
            ],
        },
        engine,
        results,
        caller,
    )
