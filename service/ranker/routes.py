"""The learned re-ranker over HTTP: retrain it as a job, and see what is in use."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from service.deps import CallerDep, EngineDep, JobsDep
from service.jobs.schemas import job_accepted
from service.ops.guard import JsonRoute
from service.ranker import service

router = APIRouter(prefix="/v1/ranker", tags=["ranking"], route_class=JsonRoute)


@router.get("", summary="The ranking in use: learned re-ranker or hand weights")
def status(caller: CallerDep, engine: EngineDep) -> dict[str, Any]:
    return service.status(engine)


@router.post("/train", status_code=202, summary="Retrain the re-ranker on the interactions (job)")
def retrain(
    caller: CallerDep,
    engine: EngineDep,
    jobs: JobsDep,
    response: Response,
    seed: Annotated[int, Query(ge=0, le=2**31)] = 0,
    max_queries: Annotated[int, Query(ge=10, le=20_000)] = 1500,
) -> dict[str, Any]:
    return job_accepted(response, service.retrain(jobs, engine, caller, seed, max_queries))
