"""What the API answers about profiles: the stored document, with contact details only
for those who may see them, and the timestamps."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.auth import Principal
from service.store.tables import ProfileRow


def profile_out(row: ProfileRow, caller: Principal) -> dict[str, Any]:
    data = dict(row.data)
    if not caller.sees_contact(row.id):
        data.pop("contact", None)
    data["created_at"] = row.created_at.isoformat() if row.created_at else None
    data["updated_at"] = row.updated_at.isoformat() if row.updated_at else None
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
