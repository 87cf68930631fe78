"""Matching over HTTP: purposes, filters, exclusions, reasons, and errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.encoders import HashingEncoder
from tests.support.app import Api, make_settings, start_api
from tests.support.samples import SAMPLE


@pytest.fixture
def loaded(api: Api) -> Api:
    data = "\n".join(json.dumps(r, ensure_ascii=False) for r in SAMPLE).encode()
    assert api.post("/v1/profiles/import", content=data, headers=api.h()).status_code == 200
    return api


def _ids(r: dict) -> list[str]:
    return [x["profile"]["id"] for x in r["results"]]


def test_partner_matches_are_ranked_and_explained(loaded: Api) -> None:
    r = loaded.get("/v1/profiles/jp-1/matches", headers=loaded.h()).json()
    ids = _ids(r)
    assert "jp-1" not in ids  # never itself
    assert "jp-2" not in ids  # same organization (same website host)
    # a Korean bio firm shares nothing with a gear maker: nothing drives it, so it is not
    # listed (issue 19.1)
    assert set(ids) == {"it-1", "uni-1"}
    top = r["results"][0]
    assert top["profile"]["id"] in {"it-1", "uni-1"}
    assert r["results"][0]["score"] >= r["results"][-1]["score"]
    assert top["reasons"] and top["reason"]
    codes = {x["code"] for res in r["results"] for x in res["reasons"]}
    assert "need_offer" in codes
    # the reason names the actual items: jp-1 needs a distributor, it-1 offers one
    it1 = next(x for x in r["results"] if x["profile"]["id"] == "it-1")
    no = next(x for x in it1["reasons"] if x["code"] == "need_offer")
    assert no["detail"]["query_item"] == "distributor in Europe"
    assert no["detail"]["candidate_item"] == "distributor in Europe"
    # contact details as GET /v1/profiles/{id} shows them: to admins (null when unset) ...
    assert "contact" in top["profile"]
    # ... and to nobody else
    org = loaded.get("/v1/profiles/jp-1/matches", headers=loaded.h("organizer")).json()
    assert org["results"] and all("contact" not in x["profile"] for x in org["results"])


def test_purposes_filter_candidates(loaded: Api) -> None:
    h = loaded.h()
    academia = loaded.get("/v1/profiles/jp-1/matches?purpose=academia", headers=h).json()
    assert _ids(academia) == ["uni-1"]
    buyer = loaded.get("/v1/profiles/jp-1/matches?purpose=buyer", headers=h).json()
    assert _ids(buyer)[0] == "it-1"
    assert all(
        x["profile"]["kind"] in ("firm", "trading_company", "other") for x in buyer["results"]
    )
    overseas = loaded.get("/v1/profiles/jp-1/matches?purpose=overseas", headers=h).json()
    assert set(_ids(overseas)) == {"it-1"}  # (kr-1: nothing in common)
    ja = loaded.get("/v1/profiles/jp-1/matches?purpose=buyer&lang=ja", headers=h).json()
    assert "先方" in ja["results"][0]["reason"] or "商社" in ja["results"][0]["reason"]


def test_kind_and_country_filters(loaded: Api) -> None:
    h = loaded.h()
    r = loaded.get("/v1/profiles/jp-1/matches", params={"country": "it"}, headers=h).json()
    assert _ids(r) == ["it-1"]
    r = loaded.get("/v1/profiles/jp-1/matches", params={"country": "kr"}, headers=h).json()
    assert _ids(r) == []  # the one Korean profile has nothing in common with jp-1
    r = loaded.get(
        "/v1/profiles/jp-1/matches",
        params=[("kind", "university"), ("kind", "trading_company")],
        headers=h,
    ).json()
    assert set(_ids(r)) == {"uni-1", "it-1"}
    r = loaded.get(
        "/v1/profiles/jp-1/matches", params={"purpose": "academia", "kind": "firm"}, headers=h
    ).json()
    assert r["results"] == []
    r = loaded.get("/v1/profiles/jp-1/matches", params={"k": 1}, headers=h).json()
    assert r["count"] == 1


def test_search_free_text(loaded: Api) -> None:
    r = loaded.post(
        "/v1/search", json={"text": "precision gears supplier"}, headers=loaded.h("member")
    )
    assert r.status_code == 200
    assert _ids(r.json())[0] in {"jp-1", "jp-2"}
    r = loaded.post(
        "/v1/search",
        json={"text": "distributor for gears", "purpose": "overseas", "from_country": "JP"},
        headers=loaded.h(),
    )
    assert r.status_code == 200, r.text
    overseas = r.json()["results"]
    assert overseas and all(x["profile"]["country"] != "JP" for x in overseas)


def test_matching_errors(loaded: Api) -> None:
    h = loaded.h()
    r = loaded.get("/v1/profiles/none/matches", headers=h)
    assert r.status_code == 404 and r.headers["content-type"] == "application/problem+json"
    for params, field in [
        ({"k": 0}, "k"),
        ({"k": 10_000}, "k"),
        ({"purpose": "x"}, "purpose"),
        ({"country": "Narnia"}, "country"),
        ({"kind": "alien"}, "kind"),
        ({"diversity": 2}, "diversity"),
    ]:
        r = loaded.get("/v1/profiles/jp-1/matches", params=params, headers=h)
        assert r.status_code == 422, (params, r.text)
        assert r.json()["errors"][0]["field"].startswith(field)
    r = loaded.post("/v1/search", json={"text": ""}, headers=h)
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "text"
    r = loaded.post("/v1/search", json={"text": "x" * 6000}, headers=h)
    assert r.status_code == 422
    r = loaded.post("/v1/search", json={"text": "x", "unknown": 1}, headers=h)
    assert r.status_code == 422
    # a member may ask for its own profile's matches only
    assert loaded.get("/v1/profiles/jp-1/matches", headers=loaded.h("member")).status_code == 200
    assert loaded.get("/v1/profiles/it-1/matches", headers=loaded.h("member")).status_code == 403
    # overseas needs a country
    loaded.post("/v1/profiles", json={"id": "nc", "name": "No Country", "kind": "firm"}, headers=h)
    r = loaded.get("/v1/profiles/nc/matches?purpose=overseas", headers=h)
    assert r.status_code == 400


def test_updates_and_deletes_reach_the_index(loaded: Api) -> None:
    h = loaded.h()
    loaded.delete("/v1/profiles/it-1", headers=h)
    r = loaded.get("/v1/profiles/jp-1/matches", headers=h).json()
    assert _ids(r) and "it-1" not in _ids(r)
    loaded.patch(
        "/v1/profiles/kr-1", json={"country": "IT", "industries": ["machinery"]}, headers=h
    )
    r = loaded.get("/v1/profiles/jp-1/matches", params={"country": "IT"}, headers=h).json()
    assert _ids(r) == ["kr-1"]


def test_match_inline_answers_the_same_on_the_event_loop_thread(
    tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """match_inline (set for several workers) runs matching on the event-loop thread, so a
    busy worker takes no new connection; the answers are the same as from a worker thread."""
    import threading

    from service.engine import Engine

    threads: list[str] = []
    real_matches, real_search = Engine.matches_for, Engine.search_text

    def matches_for(self: Engine, *a: object, **kw: object) -> object:
        threads.append(threading.current_thread().name)
        return real_matches(self, *a, **kw)  # type: ignore[arg-type]

    def search_text(self: Engine, *a: object, **kw: object) -> object:
        threads.append(threading.current_thread().name)
        return real_search(self, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Engine, "matches_for", matches_for)
    monkeypatch.setattr(Engine, "search_text", search_text)
    answers = {}
    for inline in (False, True):
        threads.clear()
        settings = make_settings(tmp_path / str(inline), match_inline=inline)
        for api in start_api(settings, encoder):
            data = "\n".join(json.dumps(r, ensure_ascii=False) for r in SAMPLE).encode()
            assert api.post("/v1/profiles/import", content=data, headers=api.h()).status_code == 200
            loop_thread = api.portal.call(lambda: threading.current_thread().name)
            got = api.get("/v1/profiles/jp-1/matches", headers=api.h())
            found = api.post("/v1/search", json={"text": "gear distributor"}, headers=api.h())
            assert got.status_code == 200 and found.status_code == 200
            answers[inline] = (got.json(), found.json())
        assert len(threads) == 2
        assert all((name == loop_thread) == inline for name in threads), (inline, threads)
    assert answers[True] == answers[False]


def test_country_and_kind_take_one_value_or_a_list(loaded: Api) -> None:
    """Issue 19.6: POST /v1/search took only lists; GET took single values."""
    h = loaded.h()
    for country, kind in (
        ("KR", "firm"),
        (["KR"], ["firm"]),
        ("韓国", "firm"),
        ("Korea", ["firm"]),
    ):
        r = loaded.post(
            "/v1/search", json={"text": "cell culture", "country": country, "kind": kind}, headers=h
        )
        assert r.status_code == 200, (country, kind, r.text)
        assert _ids(r.json()) == ["kr-1"]
        assert r.json()["query"]["country"] == ["KR"]
    r = loaded.get("/v1/profiles/jp-1/matches", params={"country": "IT,KR"}, headers=h)
    assert r.status_code == 200 and set(_ids(r.json())) <= {"it-1", "kr-1"}
    assert r.json()["query"]["country"] == ["IT", "KR"]


def test_unknown_query_parameters_are_refused_with_the_nearest_name(loaded: Api) -> None:
    """Issue 19.7: ?foo=bar and ?contry=IT were ignored without a word."""
    h = loaded.h()
    r = loaded.get("/v1/profiles/jp-1/matches?contry=IT&foo=bar", headers=h)
    assert r.status_code == 422 and r.headers["content-type"] == "application/problem+json"
    errors = {e["field"]: e["reason"] for e in r.json()["errors"]}
    assert "did you mean 'country'?" in errors["contry"]
    assert "unknown query parameter 'foo'" in errors["foo"] and "purpose" in errors["foo"]
    # a body field given in the query of POST /v1/search
    r = loaded.post("/v1/search?country=IT", json={"text": "gears"}, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"] == [
        {"field": "country", "reason": "'country' belongs in the JSON body, not in the query"}
    ]
    # unknown JSON keys of the body
    r = loaded.post("/v1/search", json={"text": "gears", "purpse": "buyer"}, headers=h)
    assert r.status_code == 422
    assert r.json()["errors"][0]["reason"] == "unknown field 'purpse'; did you mean 'purpose'?"
    # without a key, 401 comes first
    assert loaded.get("/v1/profiles/jp-1/matches?foo=1").status_code == 401
    # every documented parameter is still taken
    r = loaded.get(
        "/v1/profiles/jp-1/matches?purpose=partner&kind=firm&country=KR&k=3&lang=ja&diversity=0.5",
        headers=h,
    )
    assert r.status_code == 200, r.text
