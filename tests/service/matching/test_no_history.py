"""A cluster with no history (issue 20.2): a server that starts on profiles alone matches
and explains through the hand weights, with the network features off, and retraining on
no interactions keeps the hand weights instead of failing."""

from __future__ import annotations

import json

from tests.support.app import Api
from tests.support.jobs import wait_for_job
from tests.support.samples import SAMPLE


def test_a_server_without_history_matches_and_explains(api: Api) -> None:
    h = api.h()
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in SAMPLE).encode()
    assert api.post("/v1/profiles/import", content=data, headers=h).status_code == 200
    status = api.get("/v1/ranker", headers=h).json()
    assert (status["method"], status["interactions"]) == ("hand", 0)
    for purpose in ("partner", "buyer", "overseas"):
        r = api.get("/v1/profiles/jp-1/matches", params={"purpose": purpose}, headers=h)
        assert r.status_code == 200, r.text
        results = r.json()["results"]
        assert results and all(x["reasons"] and x["reason"] for x in results), purpose
        # no history: no network reason, no track record, no past tie
        codes = {x["code"] for res in results for x in res["reasons"]}
        assert not codes & {"tie", "shared_partners", "network", "track_record"}, codes
    buyers = api.get("/v1/profiles/jp-1/matches", params={"purpose": "buyer"}, headers=h).json()
    assert buyers["results"][0]["profile"]["id"] == "it-1"  # the Italian trading company
    r = api.post("/v1/ranker/train", headers=h)
    assert r.status_code == 202, r.text
    job = wait_for_job(api, r.headers["location"])
    assert job["status"] == "succeeded", job
    assert api.get("/v1/ranker", headers=h).json()["method"] == "hand"
    again = api.get("/v1/profiles/jp-1/matches", params={"purpose": "buyer"}, headers=h).json()
    assert again["results"] == buyers["results"]
