"""The learned re-ranker over HTTP: retrain it as a job, and see what is in use."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from service.auth import CallerDep
from service.offline.learning import train_reranker

router = APIRouter(prefix="/v1/ranker", tags=["ranking"])


@router.get("", summary="The ranking in use: learned re-ranker or hand weights")
def status(request: Request, caller: CallerDep) -> dict[str, Any]:
    engine = request.app.state.engine
    model = engine.reranker
    return {
        "method": "learned" if model is not None else "hand",
        "interactions": len(engine.edges),
        "model": None if model is None else {k: v for k, v in model.meta.items() if k != "medians"},
        # scoring runs compiled code (settings.native_ranker), not LightGBM's interpreter
        "native": model is not None and model.native,
        "note": engine.ranker_note,
    }


@router.post("/train", status_code=202, summary="Retrain the re-ranker on the interactions (job)")
def retrain(
    request: Request,
    caller: CallerDep,
    response: Response,
    seed: Annotated[int, Query(ge=0, le=2**31)] = 0,
    max_queries: Annotated[int, Query(ge=10, le=20_000)] = 1500,
) -> dict[str, Any]:
    caller.require("admin")
    engine = request.app.state.engine

    def work(progress: Callable[[str, int, int], None]) -> dict[str, Any]:
        return train_reranker(
            engine, seed=seed, max_queries=max_queries, progress=progress
        ).to_dict()

    job_id = request.app.state.jobs.submit("train", work, created_by=caller.key_pk)
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return {"status": "queued", "job": f"/v1/jobs/{job_id}", "id": job_id}
