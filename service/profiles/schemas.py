"""What the API answers about profiles: the stored document, with contact details only
for those who may see them, and the timestamps (UTC, with their offset).

`contact` follows one rule wherever a profile appears (read, list, write answers, match
and search results): present for those who may see it (admins and the owning member),
null when unset; left out for everyone else. `office` names the cluster office whose
organizers write the profile (null: the shared directory, which admins write)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from models.codes import COUNTRIES, LANGUAGES
from models.profile import MAX_ITEM, REGISTRY_KEY, Profile
from service.auth import Principal
from service.store.tables import ProfileRow, iso_utc


def profile_out(row: ProfileRow, caller: Principal) -> dict[str, Any]:
    data = dict(row.data)
    if caller.sees_contact(row.id):
        data["contact"] = data.get("contact")
    else:
        data.pop("contact", None)
    data["office"] = row.office
    data["created_at"] = iso_utc(row.created_at)
    data["updated_at"] = iso_utc(row.updated_at)
    return data


def profile_page(
    rows: Sequence[ProfileRow], total: int, limit: int, offset: int, caller: Principal
) -> dict[str, Any]:
    nxt = offset + limit if offset + limit < total else None
    return {
        "items": [profile_out(r, caller) for r in rows],
        "total": total,
        "limit": limit,
        "offset": offset,
        "next_offset": nxt,
    }


def profile_body(*, id_required: bool, partial: bool = False) -> dict[str, Any]:
    """The OpenAPI request body of a profile write (`openapi_extra=`): the routes read the
    JSON themselves (service.profiles.service, which names the nearest field of an unknown
    one), so FastAPI would declare any object. This states what the service checks:
    `models.profile.Profile`'s fields and limits, the codes as enums (a country's Japanese
    or English name is accepted too), an item's length, a name with a visible character.
    `partial` (PATCH): nothing is required."""
    schema = Profile.model_json_schema()
    props = schema["properties"]
    code = {"type": "string", "enum": sorted(COUNTRIES)}
    props["country"]["anyOf"][0] = code
    props["markets"]["items"] = code
    props["languages"]["items"] = {"type": "string", "enum": sorted(LANGUAGES)}
    for name in ("offers", "needs", "industries"):
        props[name]["items"] = {"type": "string", "maxLength": MAX_ITEM}
    props["name"]["pattern"] = r"[^\s\x00-\x1f\x7f]"  # something left once trimmed
    props["registry"]["propertyNames"] = {"pattern": REGISTRY_KEY.pattern}
    required = [] if partial else [n for n in schema["required"] if id_required or n != "id"]
    schema["required"] = required
    body = {"required": True, "content": {"application/json": {"schema": schema}}}
    return {"requestBody": body}
