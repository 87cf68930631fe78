"""Background jobs over HTTP: status and progress."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from service.deps import CallerDep, SessionDep
from service.jobs import service
from service.jobs.schemas import job_out
from service.ops.guard import JsonRoute

router = APIRouter(prefix="/v1", tags=["jobs"], route_class=JsonRoute)


@router.get("/jobs/{job_id}", summary="Status and progress of a background job")
def get_job(job_id: str, caller: CallerDep, session: SessionDep) -> dict[str, Any]:
    return job_out(service.get_job(session, caller, job_id))
