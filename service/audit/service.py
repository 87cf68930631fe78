"""Reading the audit log (admins only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from service.auth import Principal
from service.store import audit as audit_store
from service.store.db import Session
from service.store.tables import AuditRow


def entries(
    session: Session,
    caller: Principal,
    where: audit_store.AuditFilter,
    *,
    limit: int,
    before: int | None,
) -> Sequence[AuditRow]:
    caller.require("admin")
    return audit_store.query(session, where, limit=limit, before=before)


def record_cli(session: Session, command: str, detail: dict[str, Any] | None = None) -> None:
    """An audit entry for a writing CLI command, in the command's own transaction (actor
    "cli": whoever can run commands on the server's machine). `detail` holds counts and
    numbers, never secrets or contact details."""
    audit_store.add(
        session,
        actor="cli",
        role="admin",
        method="CLI",
        route=f"clustermatch {command}"[:200],
        path=f"clustermatch {command}"[:500],
        target={},
        status=0,
        ip=None,
        request_id=None,
        detail=detail or {},
    )
