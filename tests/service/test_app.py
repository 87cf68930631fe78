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
    bad = {**SAMPLE[0], "country": "Narnia", "kind": "company", "employees": -1}
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


def test_malformed_json_names_line_and_column_with_a_hint(api: Api) -> None:
    """Issue 19.13: the answer showed `"field": "[29]"`, a character offset."""
    body = b'{"name": "x",\n "kind": "firm",\n}'
    r = api.put(
        "/v1/profiles/j-1", content=body, headers={**api.h(), "content-type": "application/json"}
    )
    assert r.status_code == 422 and r.headers["content-type"] == PROBLEM_JSON
    (error,) = r.json()["errors"]
    assert error["field"] == "body"
    assert error["reason"].startswith("not valid JSON at line 3, column 1: ")
    assert "Hint:" in error["reason"] and "comma" in error["reason"]


def test_openapi_documents_bearer_auth_and_problem_errors(api: Api) -> None:
    """Issue 19.17: /docs had no Authorize, errors were documented in FastAPI's shape, the
    ReDoc page was missing, and a 401 named no scheme."""
    spec = api.get("/openapi.json").json()
    schemes = spec["components"]["securitySchemes"]
    assert schemes["ApiKey"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["ApiKey"]["description"],
    }
    assert "HTTPValidationError" not in spec["components"]["schemas"]
    search = spec["paths"]["/v1/search"]["post"]
    assert {"ApiKey": []} in search["security"]
    for status in ("401", "422"):
        content = search["responses"][status]["content"]
        assert list(content) == [PROBLEM_JSON]
        assert content[PROBLEM_JSON]["schema"]["$ref"].endswith("/Problem")
    assert "errors" in spec["components"]["schemas"]["Problem"]["properties"]
    for page, asset in (("/docs", "swagger-ui-bundle.js"), ("/redoc", "redoc.standalone.js")):
        html = api.get(page).text
        assert f"/static/docs/{asset}" in html and "cdn.jsdelivr" not in html
        assert api.get(f"/static/docs/{asset}").status_code == 200
    r = api.get("/v1/profiles")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = api.get("/v1/profiles", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")


def test_shutdown_is_logged(tmp_path: Path) -> None:
    """Issue 19.18: a stopped server said nothing."""
    import logging

    from service.app import create_app
    from tests.support.app import wait_ready

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    app = create_app(make_settings(tmp_path, log_level="INFO"), encoder=HashingEncoder(dim=64))
    with TestClient(app) as client:
        wait_ready(client)
        logging.getLogger("clustermatch").addHandler(Keep())
    assert [r for r in records if getattr(r, "event", None) == "shutdown"]
