"""What the API answers about interactions."""

from __future__ import annotations

from typing import Any

from service.store.tables import InteractionRow


def interaction_out(row: InteractionRow) -> dict[str, Any]:
    return {
        "a": row.a,
        "b": row.b,
        "kind": row.kind,
        "context": row.context,
        "at": row.at.isoformat() if row.at else None,
    }
