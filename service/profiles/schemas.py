"""What the API answers about profiles: the stored document, with contact details only
for those who may see them, and the timestamps (UTC, with their offset).

`contact` follows one rule wherever a profile appears (read, list, write answers, match
and search results): present for those who may see it (admins and the owning member),
null when unset; left out for everyone else."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.auth import Principal
from service.store.tables import ProfileRow, iso_utc


def profile_out(row: ProfileRow, caller: Principal) -> dict[str, Any]:
    data = dict(row.data)
    if caller.sees_contact(row.id):
        data["contact"] = data.get("contact")
    else:
        data.pop("contact", None)
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
