"""What matching reads and answers: the search body, and the result shape.

Response shape (stable, documented in the README):
{"query": {...}, "model": str, "count": int, "results": [
   {"rank": 1, "score": 0.71, "profile": {id, name, name_en, kind, country, region,
    cluster, industries, website}, "reason": "short text", "reasons": [
    {"code": "need_offer", "text": "...", "weight": 0.2, "detail": {...}}],
    "features": {"topic": .., "complement": .., ...}}]}
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, field_validator

from models.matching import NO_REASON, Lang, Purpose
from models.profile import Kind
from service.auth import Principal
from service.engine import Engine, Match

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


MAX_COUNTRY = 60
"""The longest country a search names: a code, or its name in Japanese or English."""


class SearchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=MAX_QUERY_TEXT)
    purpose: Purpose = "partner"
    kind: list[Kind] | None = Field(
        default=None,
        max_length=len(Kind.__args__),  # type: ignore[attr-defined]
        description="a kind or a list of kinds",
    )
    country: list[Annotated[str, Field(max_length=MAX_COUNTRY)]] | None = Field(
        default=None,
        max_length=50,
        description="a country or a list: ISO codes or names (IT, イタリア, Italy)",
    )
    from_country: str | None = Field(
        default=None,
        max_length=MAX_COUNTRY,
        description="the searcher's country (a code or a name): overseas searches exclude it",
    )
    k: int = Field(default=10, ge=1)
    lang: Lang = "en"
    diversity: float = Field(
        default=0.0,
        ge=0.0,
        le=1.0,
        description="0: pure relevance; up to 1: discount already very active organizations",
    )
    regions: bool = Field(
        default=True,
        description="read the places the text names (欧州, ASEAN, North America, イタリア ...; "
        "models/regions.py): their organizations come first. Ignored with `country`.",
    )

    @field_validator("kind", "country", mode="before")
    @classmethod
    def _one_or_many(cls, value: Any) -> Any:
        # a single value is a list of one, as in the query string of GET .../matches
        return [value] if isinstance(value, str) else value


def render(
    matches: list[Match], caller: Principal | None = None, lang: Lang = "en"
) -> list[dict[str, Any]]:
    out = []
    for i, m in enumerate(matches, 1):
        data = m.record.profile.model_dump(include=set(SUMMARY_FIELDS))
        if caller is not None and caller.sees_contact(m.record.profile.id):
            data["contact"] = m.record.profile.contact  # as GET /v1/profiles/{id} shows it
        out.append(
            {
                "rank": i,
                "score": round(m.scored.score, 4),
                "profile": data,
                "reason": "; ".join(r.text for r in m.reasons) or NO_REASON[lang],
                "reasons": [
                    {"code": r.code, "text": r.text, "weight": r.weight, "detail": r.detail}
                    for r in m.reasons
                ],
                "features": {k: round(v, 4) for k, v in m.scored.features.items()},
            }
        )
    return out


def respond(
    query: dict[str, Any],
    engine: Engine,
    results: list[Match],
    caller: Principal | None = None,
) -> JSONResponse:
    """The documented result shape, rendered straight to JSON: every value is already a
    plain str / int / float / list / dict, so FastAPI's generic encoder (which would walk
    the ~400 values of a 10-result answer) is skipped."""
    return JSONResponse(
        {
            "query": query,
            "model": engine.encoder.model_id,
            "count": len(results),
            "results": render(results, caller, query.get("lang", "en")),
        }
    )
