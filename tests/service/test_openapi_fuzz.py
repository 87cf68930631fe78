"""The OpenAPI schema tells the truth: a schemathesis run over every operation of a real
server (uvicorn subprocess, admin key), positive and negative cases, a fixed seed, checks
for server errors, undocumented status codes and content types, and response bodies or
headers that do not match the schema (tests/support/fuzz.py says which checks and why).
The longer run is scripts/fuzz_api.py.

Rate limits are off on the fuzzed server (CLUSTERMATCH_RATE_LIMIT_PER_KEY / _PER_IP=0),
or most cases would only meet the limiter; its 429 stays documented and tested in
tests/service/ops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.support import fuzz
from tests.support.app import Api
from tests.support.browser import LiveServer

EXAMPLES = 10
"""Cases per operation, per mode and per path (generated ids; seeded ids): about 2,000
requests, a minute or two on a loaded machine."""


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with pytest.MonkeyPatch.context() as env:
        for name, value in fuzz.FUZZ_ENV.items():
            env.setenv(name, value)
        live = LiveServer(tmp_path_factory.mktemp("fuzz"))
    try:
        yield live
    finally:
        live.stop()


@pytest.mark.slow
def test_every_operation_answers_as_its_schema_says(server: LiveServer) -> None:
    world = fuzz.seed_world(server.url, server.admin_key)
    schema = fuzz.load_schema(server.url)
    ops = fuzz.operations(schema)
    stats = fuzz.Stats()
    for op in ops:
        for mode in ("positive", "negative"):
            fuzz.fuzz_operation(server.url, server.admin_key, op, stats, EXAMPLES, mode=mode)
            pinned = fuzz.pinned(op, world)
            if pinned:
                fuzz.fuzz_operation(
                    server.url,
                    server.admin_key,
                    op,
                    stats,
                    EXAMPLES,
                    mode=mode,
                    path_parameters=pinned,
                )
    assert not stats.failures, stats.report()
    # every operation was reached (the console is not in the schema)
    assert set(stats.cases) == {op.label for op in ops}
    assert not [label for label in stats.cases if label.split(" ")[1].startswith("/console")]
    # and the seeded ids took cases past the 404: an event's CSV was answered
    assert stats.cases["GET /v1/events/{event_id}/exports/schedule.csv"] > EXAMPLES
    assert "unhandled error" not in server.log()  # (the log's tail)


def _operations(doc: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_errors_are_documented_as_problem_details(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    v1 = [(label, op) for label, op in _operations(doc) if " /v1/" in label]
    assert len(v1) > 50
    for label, operation in v1:
        responses = operation["responses"]
        for code in ("401", "403", "404", "413", "422", "429"):
            assert code in responses, (label, code)
        assert "Retry-After" in responses["429"]["headers"], label
        if "requestBody" in operation:
            assert "400" in responses, label  # a body that is not JSON
        for code, response in responses.items():
            if code[0] in "45":
                assert set(response["content"]) == {"application/problem+json"}, (label, code)


def test_files_and_limits_are_in_the_schema(api: Api) -> None:
    doc = api.get("/openapi.json").json()
    paths = doc["paths"]
    chart = paths["/v1/reports/chart"]["get"]["responses"]["200"]["content"]
    assert set(chart) == {"image/png", "image/svg+xml"}
    csv = paths["/v1/events/{event_id}/exports/schedule.csv"]["get"]["responses"]
    assert set(csv["200"]["content"]) == {"text/csv"} and "409" in csv
    # an event without slot times has no calendar (the fuzz run's undocumented 400)
    ics = paths["/v1/events/{event_id}/exports/participants/{participant_id}.ics"]["get"]
    assert {"400", "409"} <= set(ics["responses"])
    put = paths["/v1/profiles/{profile_id}"]["put"]
    body = put["requestBody"]["content"]["application/json"]["schema"]
    assert body["required"] == ["name", "kind"] and body["additionalProperties"] is False
    assert "JP" in body["properties"]["markets"]["items"]["enum"]
    assert "201" in put["responses"]
    matches = paths["/v1/profiles/{profile_id}/matches"]["get"]
    (k,) = [p for p in matches["parameters"] if p["name"] == "k"]
    assert k["schema"]["maximum"] == 100  # the max_k setting
    assert {"400", "503"} <= set(matches["responses"])


def test_no_body_is_declared_as_any_object(api: Api) -> None:
    """Every JSON body names its fields and refuses others (the event document was "any
    object"); every route that takes a file declares it, its media types and its limit
    (the connectors' import declared nothing)."""
    doc = api.get("/openapi.json").json()
    schemas = doc["components"]["schemas"]
    uploads = []
    for label, operation in _operations(doc):
        content = operation.get("requestBody", {}).get("content", {})
        if "application/json" in content and "multipart/form-data" not in content:
            schema = content["application/json"]["schema"]
            if "$ref" in schema:
                schema = schemas[schema["$ref"].rsplit("/", 1)[1]]
            assert schema.get("properties") and schema["additionalProperties"] is False, label
        if "multipart/form-data" in content:
            uploads.append(label)
            assert "At most" in operation["requestBody"]["description"], label
    assert sorted(uploads) == [
        "POST /v1/events/{event_id}/follow-ups/import",
        "POST /v1/interactions/import",
        "POST /v1/profiles/import",
        "POST /v1/profiles/import/{source}",
    ]


@pytest.mark.parametrize("path", ["/v1/programs/{}", "/v1/shortlists/{}", "/v1/audit?before={}"])
def test_a_numeric_id_beyond_64_bits_is_refused_not_a_500(api: Api, path: str) -> None:
    """The fuzzer's find: an id past SQLite's INTEGER failed the query (500)."""
    r = api.get(path.format(2**63), headers=api.h())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"] == "application/problem+json"
