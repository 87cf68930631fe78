"""The audit log over HTTP: admins list and filter it. There is no route that changes it."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query

from service.audit import service
from service.deps import CallerDep, SessionDep
from service.store.audit import AuditFilter
from service.store.tables import iso_utc

router = APIRouter(prefix="/v1/audit", tags=["audit"])

MAX_LIMIT = 500


@router.get("", summary="The audit log, newest first (admins)")
def list_audit(
    caller: CallerDep,
    session: SessionDep,
    actor: Annotated[str | None, Query(max_length=64, description="key:N, user:N, cli")] = None,
    route: Annotated[
        str | None, Query(max_length=200, description="route template prefix, e.g. /v1/events")
    ] = None,
    method: Annotated[str | None, Query(pattern="^(POST|PUT|PATCH|DELETE|CLI)$")] = None,
    status_min: Annotated[int | None, Query(ge=0, le=599, description="e.g. 400")] = None,
    path: Annotated[str | None, Query(max_length=200, description="text in the path")] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 100,
    # within the databases' 64-bit integer: a larger one failed the query (500)
    before: Annotated[
        int | None, Query(ge=1, le=2**63 - 1, description="next page: `next_before`")
    ] = None,
) -> dict[str, Any]:
    where = AuditFilter(
        actor=actor,
        route=route,
        method=method,
        status_min=status_min,
        target=path,
        since=since,
        until=until,
    )
    rows = service.entries(session, caller, where, limit=limit, before=before)
    return {
        "items": [
            {
                "id": r.pk,
                "at": iso_utc(r.at),
                "actor": r.actor,
                "role": r.role,
                "method": r.method,
                "route": r.route,
                "path": r.path,
                "target": r.target,
                "status": r.status,
                "ip": r.ip,
                "request_id": r.request_id,
                "detail": r.detail,
            }
            for r in rows
        ],
        "next_before": rows[-1].pk if len(rows) == limit else None,
    }
