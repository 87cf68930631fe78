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
