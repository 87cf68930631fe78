"""The application (service.app): error handlers and the lifespan."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.encoders import HashingEncoder
from service.errors import PROBLEM_JSON
from tests.support.app import Api, make_settings
from tests.support.samples import SAMPLE


def test_validation_errors_name_the_field(api: Api) -> None:
    bad = {**SAMPLE[0], "country": "Japan", "kind": "company", "employees": -1}
    r = api.post("/v1/profiles", json=bad, headers=api.h())
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON
    fields = {e["field"] for e in r.json()["errors"]}
    assert {"country", "kind", "employees"} <= fields
    r = api.post("/v1/profiles", json={**SAMPLE[0], "description": "x" * 60_000}, headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "description"
    r = api.post(
        "/v1/profiles",
        content=b"{not json",
        headers={**api.h(), "content-type": "application/json"},
    )
    assert r.status_code == 422
    r = api.put("/v1/profiles/jp-1", json={**SAMPLE[0], "id": "other"}, headers=api.h())
    assert r.status_code == 400
    r = api.get("/v1/profiles/" + "x" * 500, headers=api.h())
    assert r.status_code == 404
    r = api.get("/v1/profiles", params={"limit": 100000}, headers=api.h())
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "limit"


@pytest.mark.parametrize("when_ready", [False, True])
def test_serve_when_ready_waits_for_the_index(
    tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch, when_ready: bool
) -> None:
    """By default the app answers at once (/readyz 503 while the index loads); with
    serve_when_ready (several workers) startup waits for it, so that the first request a
    worker takes is already served."""
    from service.app import create_app
    from service.engine import Engine

    real = Engine.reconcile

    def slow(self: Engine, *args: Any, **kwargs: Any) -> Any:
        time.sleep(1.0)
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Engine, "reconcile", slow)
    app = create_app(make_settings(tmp_path, serve_when_ready=when_ready), encoder=encoder)
    with TestClient(app, raise_server_exceptions=False) as client:
        first = client.get("/readyz")
        assert first.status_code == (200 if when_ready else 503)
        assert client.get("/healthz").status_code == 200
