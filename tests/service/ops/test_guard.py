"""The guard (service.ops.guard) through the real app: the key is checked before a body is
read, each route has its body limit, large JSON is parsed off the event loop, unknown keys
are throttled per address across processes, and the rate limits answer 429 with
Retry-After (issue 21: 1, 7 and "Abuse")."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient

from models.encoders import HashingEncoder
from service.errors import PROBLEM_JSON
from service.ops import guard
from service.ops.limits import Rate, RateLimiter
from tests.support.app import Api, make_settings, start_api
from tests.support.asgi import asgi_call
from tests.support.samples import SAMPLE


def test_the_key_is_checked_before_a_byte_of_the_body_is_read(api: Api) -> None:
    """Issue 21.1: a body was read and parsed before the key was looked at, so one request
    without a key could make the server hold gigabytes."""
    body = [b'{"name": "' + b"x" * 1000, b"y" * 1000, b'"}']
    for headers in ({}, {"authorization": "Bearer cm_nope_nope"}):
        status, taken = asgi_call(api.client.app, "PUT", "/v1/profiles/a-1", headers, body)
        assert (status, taken) == (401, 0)
    # with a key, the same body is read (and refused as a profile: it has no kind)
    key = {"authorization": f"Bearer {api.keys['admin']}"}
    status, taken = asgi_call(api.client.app, "PUT", "/v1/profiles/a-1", key, body)
    assert (status, taken) == (422, 3)


def test_json_routes_take_a_small_body_and_imports_a_large_one(
    tmp_path: Path, encoder: HashingEncoder
) -> None:
    settings = make_settings(
        tmp_path,
        max_json_body_bytes=4096,
        max_body_bytes=32 * 1024,
        max_bulk_import_bytes=64 * 1024,
    )
    for api in start_api(settings, encoder):
        big = {**SAMPLE[0], "description": "精密歯車 " * 1000}  # ~16 KB
        r = api.put("/v1/profiles/jp-1", json=big, headers=api.h())
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM_JSON
        assert "4096" in r.json()["detail"]
        status, taken = asgi_call(
            api.client.app,
            "PUT",
            "/v1/profiles/jp-1",
            {"authorization": f"Bearer {api.keys['admin']}"},
            [json.dumps(big).encode()],
        )
        assert (status, taken) == (413, 0)  # refused on its declared length, unread
        status, taken = asgi_call(
            api.client.app, "PUT", "/v1/profiles/jp-1", {}, [json.dumps(big).encode()]
        )
        assert (status, taken) == (401, 0)  # without a key, nothing else is told
        # the same profile as an import file: the large limit
        r = api.post("/v1/profiles/import", content=json.dumps(big).encode(), headers=api.h())
        assert r.status_code == 200 and r.json()["report"]["created"] == 1, r.text
        r = api.post("/v1/profiles/import", content=b"x" * 70_000, headers=api.h())
        assert r.status_code == 413
        # a body streamed without a length is stopped where it passes the limit

        def chunks() -> Any:
            yield b'{"name": "'
            for _ in range(10):
                yield b"x" * 1024
            yield b'"}'

        r = api.put("/v1/profiles/jp-2", content=chunks(), headers=api.h())
        assert r.status_code == 413 and r.headers["content-type"] == PROBLEM_JSON
        assert r.json()["title"] == "Payload too large"


def test_a_large_json_body_is_parsed_off_the_event_loop(
    api: Api, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[tuple[int, str]] = []

    def loads(data: Any) -> Any:
        threads.append((len(data), threading.current_thread().name))
        return json.loads(data)

    monkeypatch.setattr(
        guard, "json", SimpleNamespace(loads=loads, JSONDecodeError=json.JSONDecodeError)
    )
    small = {**SAMPLE[0]}
    large = {**SAMPLE[0], "description": "精密歯車" * 12_000}  # 48,000 characters: > 100 KB
    for body in (small, large):
        r = api.put("/v1/profiles/jp-1", json=body, headers=api.h())
        assert r.status_code in (200, 201), r.text
    (small_size, small_thread), (large_size, large_thread) = threads
    assert small_size < guard.OFF_LOOP_JSON_BYTES < large_size
    loop_thread = small_thread  # a small body is parsed where the request is served
    assert large_thread != loop_thread


def test_a_body_nested_too_deeply_is_a_422(api: Api) -> None:
    body = b"[" * 100_000 + b"]" * 100_000
    r = api.post(
        "/v1/search", content=body, headers={**api.h(), "content-type": "application/json"}
    )
    assert r.status_code == 422 and "nested too deeply" in r.text


def test_unknown_keys_are_throttled_per_address_for_every_process(
    tmp_path: Path, encoder: HashingEncoder, db_url: str
) -> None:
    """Issue 21.7: 200 wrong keys in 0.2 s, and no 429."""
    settings = make_settings(tmp_path, db_url, key_max_failures_per_ip=3, key_failure_window_s=60)
    first = start_api(settings, encoder)
    api = next(first)
    fresh = start_api(settings, encoder)  # another worker on the same database
    other = next(fresh)
    try:
        wrong = {"Authorization": "Bearer cm_dead_beef"}
        codes = [api.get("/v1/profiles", headers=wrong).status_code for _ in range(3)]
        assert codes == [401] * 3
        r = api.get("/v1/profiles", headers=wrong)
        assert r.status_code == 429 and r.headers["content-type"] == PROBLEM_JSON
        wait = int(r.headers["retry-after"])
        assert 1 <= wait <= 60 and r.json()["retry_after_s"] == wait
        # the other worker refuses the address too, even with a good key it has not seen
        assert other.get("/v1/profiles", headers=other.h()).status_code == 429
        # ... and other addresses are not refused
        elsewhere = TestClient(other.client.app, client=("10.1.2.3", 4000))
        assert elsewhere.get("/v1/profiles", headers=other.h()).status_code == 200
        # a request without a key is no guess: 401, not counted
        assert elsewhere.get("/v1/profiles").status_code == 401
    finally:
        for gen in (fresh, first):
            for _ in gen:
                pass


def test_rate_limits_per_key_and_per_address(tmp_path: Path, encoder: HashingEncoder) -> None:
    settings = make_settings(
        tmp_path,
        rate_limit_per_key=0.01,
        rate_limit_key_burst=3,
        rate_limit_per_ip=0.01,
        rate_limit_ip_burst=5,
    )
    for api in start_api(settings, encoder):
        codes = [api.get("/v1/profiles", headers=api.h()).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = api.get("/v1/profiles", headers=api.h())
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "this key" in r.json()["detail"]
        # another key has its own budget, the address's is spent after five
        assert api.get("/v1/profiles", headers=api.h("organizer")).status_code == 429
        r = api.get("/v1/profiles", headers=api.h("organizer"))
        assert "this address" in r.json()["detail"]
        assert api.get("/console/sign-in").status_code == 429  # the console's pages too
        # probes and scrapes are not limited
        for path in ("/healthz", "/readyz", "/metrics", "/openapi.json"):
            assert api.get(path).status_code == 200
        other = TestClient(api.client.app, client=("10.1.2.3", 4000))
        assert other.get("/v1/profiles", headers=api.h("organizer")).status_code == 200


def test_the_limiter_refills_and_forgets_idle_subjects() -> None:
    now = [0.0]
    limiter = RateLimiter({"key": Rate(2.0, 2)}, max_subjects=2, clock=lambda: now[0])
    assert [limiter.take("key", "a") for _ in range(3)] == [0, 0, 1]
    now[0] += 0.5  # one token back
    assert limiter.take("key", "a") == 0 and limiter.take("key", "a") == 1
    assert limiter.take("ip", "a") == 0  # a scope without a rate is not limited
    assert limiter.take("key", "b") == 0
    now[0] += 10  # both full again: a third subject drops them
    assert limiter.take("key", "c") == 0 and len(limiter._buckets) == 1
    off = RateLimiter({"key": Rate(0, 1)})
    assert all(off.take("key", "a") == 0 for _ in range(10))


def test_the_schema_states_the_limits(tmp_path: Path, encoder: HashingEncoder) -> None:
    settings = make_settings(
        tmp_path, max_json_body_bytes=5000, max_body_bytes=70_000, max_bulk_import_bytes=90_000
    )
    for api in start_api(settings, encoder):
        paths = api.get("/openapi.json").json()["paths"]
        put = paths["/v1/profiles/{profile_id}"]["put"]
        assert "At most 5000 bytes" in put["requestBody"]["description"]
        imports = paths["/v1/profiles/import"]["post"]
        assert "At most 90000 bytes" in imports["requestBody"]["description"]
        assert "multipart/form-data" in imports["requestBody"]["content"]
        history = paths["/v1/interactions/import"]["post"]
        assert "At most 70000 bytes" in history["requestBody"]["description"]
        for status in ("413", "429"):
            assert PROBLEM_JSON in put["responses"][status]["content"]
        assert "Retry-After" in put["responses"]["429"]["headers"]


def test_a_console_user_has_a_rate_limit_of_its_own(
    tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from service.accounts import passwords
    from tests.support.console import CHEAP_HASHER, Console

    monkeypatch.setattr(passwords, "HASHER", CHEAP_HASHER)
    monkeypatch.setattr(passwords, "_DUMMY_HASH", None)
    settings = make_settings(tmp_path, rate_limit_per_key=0.01, rate_limit_key_burst=3)
    for api in start_api(settings, encoder):
        console = Console(api)
        browser = console.signed_in(console.user("organizer"))
        codes = [browser.get("/console").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        r = browser.get("/console")
        assert r.status_code == 429 and int(r.headers["retry-after"]) >= 1
        assert "text/html" in r.headers["content-type"]  # the console's own error page
        other = console.signed_in(console.user("organizer"))  # another user: its own budget
        assert other.get("/console").status_code == 200
