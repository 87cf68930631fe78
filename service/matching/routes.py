"""Matching over HTTP: ranked, explained matches for a profile, and free-text search.

Response shape (stable, documented in the README):
{"query": {...}, "model": str, "count": int, "results": [
   {"rank": 1, "score": 0.71, "profile": {id, name, name_en, kind, country, region,
    cluster, industries, website}, "reason": "short text", "reasons": [
    {"code": "need_offer", "text": "...", "weight": 0.2, "detail": {...}}],
    "features": {"topic": .., "complement": .., ...}}]}
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from models.codes import normalize_country
from models.matching import Lang, Purpose
from models.profile import Kind
from service.auth import CallerDep
from service.engine import Engine, Match
from service.errors import BadRequest, NotFound, ServiceUnavailable, ValidationFailed

router = APIRouter(prefix="/v1", tags=["matching"])

MAX_QUERY_TEXT = 5_000
SUMMARY_FIELDS = (
    "id",
    "name",
    "name_en",
    "kind",
    "country",
    "region",
    "cluster",
    "industries",
    "website",
)


def ready_engine(request: Request) -> Engine:
    engine: Engine = request.app.state.engine
    if not engine.ready:
        raise ServiceUnavailable("the index is still loading; retry shortly (see /readyz)")
    return engine


def _countries(values: list[str] | None) -> list[str] | None:
    if not values:
        return None
    try:
        return [normalize_country(v) for v in values]
    except ValueError as exc:
        raise ValidationFailed(
            "invalid filter", errors=[{"field": "country", "reason": str(exc)}]
        ) from exc


def _k(request: Request, k: int) -> int:
    max_k = request.app.state.settings.max_k
    if k > max_k:
        raise ValidationFailed(
            "k is too large", errors=[{"field": "k", "reason": f"must be at most {max_k}"}]
        )
    return k


async def _match(
    request: Request, fn: Callable[..., list[Match]], *args: Any, **kw: Any
) -> list[Match]:
    """Run a matching call: on a worker thread, or inline (see Settings.match_inline)."""
    if request.app.state.settings.match_inline:
        return fn(*args, **kw)
    return await run_in_threadpool(fn, *args, **kw)


def render(matches: list[Match]) -> list[dict[str, Any]]:
    out = []
    for i, m in enumerate(matches, 1):
        data = m.record.profile.model_dump(include=set(SUMMARY_FIELDS))
        out.append(
            {
                "rank": i,
                "score": round(m.scored.score, 4),
                "profile": data,
                "reason": "; ".join(r.text for r in m.reasons) or "similar profile",
                "reasons": [
                    {"code": r.code, "text": r.text, "weight": r.weight, "detail": r.detail}
                    for r in m.reasons
                ],
                "features": {k: round(v, 4) for k, v in m.scored.features.items()},
            }
        )
    return out


def _respond(query: dict[str, Any], engine: Engine, results: list[Match]) -> JSONResponse:
    """The documented result shape, rendered straight to JSON (every value is already a
    plain str / int / float / list / dict): FastAPI's generic encoder walked the ~400
    values of a 10-result answer for ~1 ms per request."""
    return JSONResponse(
        {
            "query": query,
            "model": engine.encoder.model_id,
            "count": len(results),
            "results": render(results),
        }
    )


@router.get("/profiles/{profile_id}/matches", summary="Ranked, explained matches for a profile")
async def matches(
    profile_id: str,
    request: Request,
    caller: CallerDep,
    purpose: Purpose = "partner",
    kind: Annotated[list[Kind] | None, Query()] = None,
    country: Annotated[list[str] | None, Query(max_length=20)] = None,
    k: Annotated[int, Query(ge=1)] = 10,
    lang: Lang = "en",
    diversity: Annotated[float, Query(ge=0.0, le=1.0)] = 0.0,
) -> JSONResponse:
    if caller.role == "member" and not caller.owns(profile_id):
        from service.errors import Forbidden

        raise Forbidden("a member key may ask for its own profile's matches only")
    engine = ready_engine(request)
    k = _k(request, k)
    countries = _countries(country)
    record = engine.record(profile_id[:200])
    if record is None:
        raise NotFound(f"no profile with id '{profile_id[:200]}'")
    if purpose == "overseas" and not record.profile.country:
        raise BadRequest("overseas matches need the profile's country; set it first")
    results = await _match(
        request,
        engine.matches_for,
        record,
        purpose,
        kinds=kind,
        countries=countries,
        k=k,
        lang=lang,
        diversity=diversity,
    )
    return _respond(
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
    )


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_QUERY_TEXT)
    purpose: Purpose = "partner"
    kind: list[Kind] | None = Field(default=None, max_length=len(Kind.__args__))  # type: ignore[attr-defined]
    country: list[str] | None = Field(default=None, max_length=50)
    from_country: str | None = Field(
        default=None,
        max_length=2,
        description="the searcher's country: overseas searches exclude it",
    )
    k: int = Field(default=10, ge=1)
    lang: Lang = "en"
    diversity: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="0: pure relevance; up to 1: discount already very active organizations",
    )


@router.post("/search", summary="Free-text search in any language, with the same filters")
async def search(body: SearchBody, request: Request, caller: CallerDep) -> JSONResponse:
    engine = ready_engine(request)
    k = _k(request, body.k)
    countries = _countries(body.country)
    from_country = _countries([body.from_country])[0] if body.from_country else None  # type: ignore[index]
    if not body.text.strip():
        raise ValidationFailed("empty text", errors=[{"field": "text", "reason": "is blank"}])
    results = await _match(
        request,
        engine.search_text,
        body.text,
        body.purpose,
        kinds=body.kind,
        countries=countries,
        country=from_country,
        k=k,
        lang=body.lang,
        diversity=body.diversity,
    )
    return _respond(
        {
            "text": body.text,
            "purpose": body.purpose,
            "kind": body.kind,
            "country": countries,
            "k": k,
            "lang": body.lang,
        },
        engine,
        results,
    )
