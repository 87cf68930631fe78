"""What the API says about jobs: a job's state, and the answer of a route that queued one."""

from __future__ import annotations

from typing import Any

from fastapi import Response

from service.store.tables import JobRow, iso_utc


def job_out(row: JobRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "phase": row.phase,
        "progress": {
            "done": row.done,
            "total": row.total,
            "fraction": round(row.done / row.total, 4) if row.total else None,
        },
        "report": row.report,
        "error": row.error,
        "created_at": iso_utc(row.created_at),
        "finished_at": iso_utc(row.finished_at),
    }


def job_accepted(response: Response, job_id: str) -> dict[str, Any]:
    """202 Accepted for a queued job: where to poll it (Location), and its id."""
    response.status_code = 202
    response.headers["Location"] = f"/v1/jobs/{job_id}"
    return {"status": "queued", "job": f"/v1/jobs/{job_id}", "id": job_id}
