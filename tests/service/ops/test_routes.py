"""Health, readiness, metrics, documentation and the request limits (service.ops)."""

from __future__ import annotations

from pathlib import Path

from models.encoders import HashingEncoder
from service.errors import PROBLEM_JSON
from tests.support.app import Api, make_settings, start_api
from tests.support.samples import SAMPLE


def test_body_size_limit(tmp_path: Path, encoder: HashingEncoder) -> None:
    settings = make_settings(tmp_path, max_body_bytes=2048, max_bulk_import_bytes=4096)
    for small in start_api(settings, encoder):
        # the profile import streams its file to disk: a limit of its own
        r = small.post("/v1/profiles/import", content=b"x" * 5000, headers=small.h())
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM_JSON
        assert "4096" in r.json()["detail"]
        r = small.post("/v1/interactions/import", content=b"x" * 3000, headers=small.h())
        assert r.status_code == 413 and "2048" in r.json()["detail"]


def test_ops_endpoints(api: Api) -> None:
    assert api.get("/healthz").json() == {"status": "ok"}
    ready = api.get("/readyz").json()
    assert ready["status"] == "ready"
    api.post("/v1/profiles", json=SAMPLE[0], headers=api.h())
    assert api.get("/readyz").json()["profiles"] == 1
    metrics = api.get("/metrics").text
    assert "clustermatch_request_seconds_bucket" in metrics
    assert 'clustermatch_index_vectors{facet="all"} 1.0' in metrics
    assert "clustermatch_encoded_texts_total" in metrics
    docs = api.get("/docs")
    assert docs.status_code == 200 and "/static/docs/swagger-ui-bundle.js" in docs.text
    assert "cdn" not in docs.text.lower()
    assert api.get("/static/docs/swagger-ui-bundle.js").status_code == 200
    assert api.get("/openapi.json").json()["info"]["title"] == "ClusterMatch"
    r = api.get("/nope")
    assert r.status_code == 404 and r.headers["content-type"] == PROBLEM_JSON
    assert api.put("/healthz").status_code == 405


def test_ready_while_the_index_trails_the_database_with_the_lag_as_a_metric(api: Api) -> None:
    """Issue 21.3: /readyz answered 503 during every large import while matches answered,
    so every replica went unready together. A row the index has not taken yet (as during
    an import, or before the change feed reaches this process) leaves it ready."""
    from models.profile import Profile, profile_hash
    from service.profiles.service import _row_values
    from service.store import profiles
    from service.store.db import transaction
    from service.store.tables import utcnow

    assert api.put("/v1/profiles/jp-1", json=SAMPLE[0], headers=api.h()).status_code == 201
    late = Profile.model_validate(SAMPLE[1])
    with transaction(api.app.state.sessions) as s:  # written, not indexed
        now = utcnow()
        values = {**_row_values(late, profile_hash(late)), "created_at": now, "updated_at": now}
        profiles.insert_many(s, [values])
    r = api.get("/readyz")
    assert r.status_code == 200, r.text
    ready = r.json()
    assert (ready["profiles"], ready["indexed"], ready["lag"], ready["in_step"]) == (
        2,
        1,
        1,
        False,
    )
    assert api.get("/v1/profiles/jp-1/matches", headers=api.h()).status_code == 200
    assert "clustermatch_index_lag_profiles 1.0" in api.get("/metrics").text
