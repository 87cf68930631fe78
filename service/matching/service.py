"""Matching: the checks a query passes before the engine ranks (readiness, access, k,
filters, the profile asked about). The ranking itself is the engine's."""

from __future__ import annotations

from models.codes import normalize_country
from models.matching import Purpose
from models.profile import MAX_ID
from models.regions import RegionHit, find_regions
from service.auth import Principal
from service.engine import Engine, Record
from service.errors import BadRequest, Forbidden, NotFound, ServiceUnavailable, ValidationFailed


def require_ready(engine: Engine) -> Engine:
    """The engine once its index is loaded; 503 meanwhile."""
    if not engine.ready:
        raise ServiceUnavailable("the index is still loading; retry shortly (see /readyz)")
    return engine


def countries(values: list[str] | None, field: str = "country") -> list[str] | None:
    """Country filters as ISO codes: codes or names (IT, イタリア, Italy), repeated or
    comma-separated (`?country=IT,DE`); 422 naming `field` for one that is not a country."""
    if not values:
        return None
    try:
        codes = [normalize_country(v) for value in values for v in value.split(",") if v.strip()]
    except ValueError as exc:
        raise ValidationFailed(
            "invalid filter", errors=[{"field": field, "reason": str(exc)}]
        ) from exc
    return list(dict.fromkeys(codes)) or None


def check_k(k: int, max_k: int) -> int:
    if k > max_k:
        raise ValidationFailed(
            "k is too large", errors=[{"field": "k", "reason": f"must be at most {max_k}"}]
        )
    return k


def profile_query(
    engine: Engine,
    caller: Principal,
    profile_id: str,
    purpose: Purpose,
    *,
    k: int,
    max_k: int,
    country: list[str] | None,
) -> tuple[Record, int, list[str] | None]:
    """(the profile asked about, k, country filters) of a matches request, checked in this
    order: a member asks for its own profile, k, the filters, the profile exists, and an
    overseas query knows the profile's country."""
    if caller.role == "member" and not caller.owns(profile_id):
        raise Forbidden("a member key may ask for its own profile's matches only")
    k = check_k(k, max_k)
    filters = countries(country)
    record = engine.record(profile_id) if len(profile_id) <= MAX_ID else None
    if record is None:
        raise NotFound.for_id("profile", profile_id, MAX_ID)
    if purpose == "overseas" and not record.profile.country:
        raise BadRequest("overseas matches need the profile's country; set it first")
    return record, k, filters


def text_query(
    text: str, k: int, max_k: int, country: list[str] | None, from_country: str | None
) -> tuple[int, list[str] | None, str | None]:
    """(k, country filters, the searcher's country) of a search, checked; the text must
    not be blank."""
    k = check_k(k, max_k)
    filters = countries(country)
    found = countries([from_country], "from_country") if from_country else None
    searcher = found[0] if found else None
    if not text.strip():
        raise ValidationFailed("empty text", errors=[{"field": "text", "reason": "is blank"}])
    return k, filters, searcher


def text_regions(
    text: str, searcher: str | None, filters: list[str] | None, read: bool = True
) -> list[RegionHit]:
    """The places a search text names (models.regions), whose organizations the search
    puts first: none when not asked to read them, or when a country filter decides."""
    if not read or filters:
        return []
    return find_regions(text, exclude=[searcher] if searcher else ())
