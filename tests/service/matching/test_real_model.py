"""Through the real default model (multilingual USE v3) and the demo corpus: a Japanese
query finds the matching English and Italian profiles."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.encoders import Encoder
from tests.support.app import Api, make_settings, start_api
from tests.support.env import DEMO, ROOT

TOPICS = json.loads((ROOT / "tests" / "data" / "demo_topics.json").read_text())

pytestmark = pytest.mark.real_model


@pytest.fixture(scope="module")
def demo_api(tmp_path_factory: pytest.TempPathFactory, real_encoder: Encoder) -> Iterator[Api]:
    tmp: Path = tmp_path_factory.mktemp("demo")
    for api in start_api(make_settings(tmp), real_encoder):
        r = api.post(
            "/v1/profiles/import",
            content=DEMO.read_bytes(),
            params={"format": "jsonl"},
            headers=api.h(),
        )
        assert r.status_code in (200, 202), r.text
        yield api


def test_model_is_the_default_use(real_encoder: Encoder) -> None:
    assert real_encoder.model_id == "use-multilingual-v3" and real_encoder.dim == 512
    v = real_encoder.encode(["精密歯車", "precision gears", "ingranaggi di precisione"])
    assert v.shape == (3, 512)
    assert float(v[0] @ v[1]) > 0.6 and float(v[0] @ v[2]) > 0.4


@pytest.mark.parametrize("topic", TOPICS, ids=[t["topic"] for t in TOPICS])
def test_japanese_query_finds_english_and_italian(demo_api: Api, topic: dict) -> None:
    r = demo_api.post(
        "/v1/search", json={"text": topic["query_ja"], "k": 5}, headers=demo_api.h()
    ).json()
    ids = [x["profile"]["id"] for x in r["results"]]
    assert topic["en"] in ids and topic["it"] in ids, (topic["topic"], ids)


def test_japanese_profile_matches_its_overseas_counterparts(demo_api: Api) -> None:
    found = 0
    for topic in TOPICS:
        r = demo_api.get(
            f"/v1/profiles/{topic['ja']}/matches",
            params={"purpose": "overseas", "k": 10},
            headers=demo_api.h(),
        ).json()
        ids = [x["profile"]["id"] for x in r["results"]]
        found += (topic["en"] in ids) + (topic["it"] in ids)
        assert r["results"][0]["reasons"]
    assert found >= 0.8 * 2 * len(TOPICS)


README_PROFILE = {
    "name": "株式会社デモ精工",
    "kind": "firm",
    "country": "JP",
    "cluster": "TAMA",
    "description": "精密歯車とステアリング用ギアモジュールの設計・製造",
    "offers": ["精密歯車", "ギアモジュール"],
    "needs": ["欧州の販売代理店"],
    "markets": ["IT", "DE"],
    "languages": ["ja", "en"],
}


def test_only_calibrated_pairs_are_named_and_europe_comes_first(demo_api: Api) -> None:
    """Issue 19.1 and 19.3 through the real model: the README's profile got "欧州の販売代理店"
    ↔ "Traction inverters for commercial EVs" (.36) as a reason, and "欧州のパートナー" put a
    US company first."""
    from models.matching import CALIBRATIONS

    item = CALIBRATIONS["use-multilingual-v3"].item
    h = demo_api.h()
    assert demo_api.put("/v1/profiles/jp-demo-1", json=README_PROFILE, headers=h).status_code in (
        200,
        201,
    )
    for purpose in ("buyer", "partner", "overseas"):
        r = demo_api.get(f"/v1/profiles/jp-demo-1/matches?purpose={purpose}", headers=h).json()
        assert r["results"], purpose
        for result in r["results"]:
            assert result["reasons"]
            for reason in result["reasons"]:
                assert "Traction inverters" not in reason["text"]
                if reason["code"] in ("need_offer", "offer_need"):
                    assert reason["detail"]["similarity"] >= item, reason
    europe = {"IT", "DE", "FR", "ES", "NL", "BE", "AT", "CH", "GB", "SE", "DK", "FI", "PL"}
    r = demo_api.post(
        "/v1/search",
        json={
            "text": "欧州のパートナー",
            "purpose": "overseas",
            "from_country": "JP",
            "lang": "ja",
        },
        headers=h,
    ).json()
    assert r["results"][0]["profile"]["country"] in europe, r["results"][0]["profile"]
    assert r["results"][0]["reasons"][0]["code"] == "region"
    assert r["results"][0]["reasons"][0]["text"].startswith("ご指定の地域「欧州」")
