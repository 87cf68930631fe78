"""API keys and roles (service.auth, service.deps.CallerDep) through real HTTP."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from models.encoders import HashingEncoder
from service.errors import PROBLEM_JSON
from tests.support.app import Api, make_settings, start_api
from tests.support.samples import SAMPLE


def test_roles(api: Api) -> None:
    r = api.post("/v1/profiles", json=SAMPLE[1], headers=api.h("member"))
    assert r.status_code == 403 and r.headers["content-type"] == PROBLEM_JSON
    assert api.post("/v1/profiles", json=SAMPLE[0], headers=api.h("organizer")).status_code == 201
    # a member edits its own profile, not others'
    r = api.patch("/v1/profiles/jp-1", json={"description": "x"}, headers=api.h("member"))
    assert r.status_code == 200
    api.post("/v1/profiles", json=SAMPLE[1], headers=api.h())
    assert (
        api.patch(
            "/v1/profiles/it-1", json={"description": "x"}, headers=api.h("member")
        ).status_code
        == 403
    )
    assert api.delete("/v1/profiles/jp-1", headers=api.h("member")).status_code == 403


def test_auth_errors(api: Api) -> None:
    r = api.get("/v1/profiles")
    assert r.status_code == 401 and r.json()["title"] == "Unauthorized"
    r = api.get("/v1/profiles", headers={"Authorization": "Bearer cm_nope_nope"})
    assert r.status_code == 401
    r = api.get("/v1/profiles", headers={"Authorization": "Basic abc"})
    assert r.status_code == 401


@pytest.mark.parametrize("ttl", [0.0, 0.5])
def test_a_revoked_key_stops_working_within_the_key_cache_time(
    tmp_path: Path, encoder: HashingEncoder, ttl: float
) -> None:
    """A process trusts a key it checked for key_cache_s seconds (no database read per
    request); a key revoked elsewhere (the CLI) is refused once that time has passed, at
    once with 0, and an unknown key is never trusted."""
    from service.auth import create_key, revoke_key
    from service.store.db import transaction

    for api in start_api(make_settings(tmp_path, key_cache_s=ttl), encoder):
        with transaction(api.app.state.sessions) as s:
            row, key = create_key(s, "organizer")
        h = {"Authorization": f"Bearer {key}"}
        assert api.get("/v1/profiles", headers=h).status_code == 200
        with transaction(api.app.state.sessions) as s:
            assert revoke_key(s, row.pk)
        assert api.get("/v1/profiles", headers=h).status_code == (200 if ttl else 401)
        time.sleep(ttl + 0.05)
        assert api.get("/v1/profiles", headers=h).status_code == 401
        assert api.get("/v1/profiles", headers=h).status_code == 401
