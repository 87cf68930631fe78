"""The overseas search page through the real model (multilingual USE v3): a query in
Japanese finds the Italian and the Korean counterpart written in their own languages,
with no Japanese in their profiles (the HashingEncoder of the other tests cannot)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from models.encoders import Encoder
from tests.support.app import make_settings, start_api
from tests.support.console import Console

pytestmark = pytest.mark.real_model

PROFILES = [
    {
        "id": "it-gears",
        "name": "Ingranaggi Veneti Srl",
        "kind": "trading_company",
        "country": "IT",
        "description": "Distributore di ingranaggi di precisione e cuscinetti per l'Europa.",
        "offers": ["distribuzione di ingranaggi di precisione in Europa"],
        "needs": ["produttori giapponesi di ingranaggi"],
        "languages": ["it"],
    },
    {
        "id": "kr-cells",
        "name": "한빛 바이오",
        "kind": "firm",
        "country": "KR",
        "description": "세포 배양 배지의 위탁 생산 전문 기업입니다.",
        "offers": ["세포 배양 배지 위탁 생산"],
        "needs": ["임상 연구 파트너"],
        "languages": ["ko"],
    },
    {
        "id": "de-software",
        "name": "Softwerk GmbH",
        "kind": "firm",
        "country": "DE",
        "description": "Buchhaltungssoftware für kleine Unternehmen.",
        "offers": ["Buchhaltungssoftware"],
        "languages": ["de"],
    },
    {
        "id": "jp-gears",
        "name": "株式会社歯車製作所",
        "kind": "firm",
        "country": "JP",
        "description": "精密歯車の製造。欧州の販売代理店を探しています。",
        "offers": ["精密歯車"],
        "languages": ["ja"],
    },
]


@pytest.fixture(scope="module")
def console(tmp_path_factory: pytest.TempPathFactory, real_encoder: Encoder) -> Iterator[Console]:
    tmp: Path = tmp_path_factory.mktemp("exchange-real")
    for api in start_api(make_settings(tmp), real_encoder):
        for p in PROFILES:
            r = api.put(f"/v1/profiles/{p['id']}", json=p, headers=api.h())
            assert r.status_code == 201, r.text
        yield Console(api)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("欧州で精密歯車を販売してくれる代理店を探しています", "it-gears"),
        ("細胞培養培地の受託製造をお願いできる会社", "kr-cells"),
    ],
)
def test_a_japanese_query_finds_counterparts_in_their_own_languages(
    console: Console, query: str, first: str
) -> None:
    client = console.signed_in(console.user("organizer"))
    page = client.get(
        "/console/exchange/search",
        params={"text": query, "purpose": "overseas", "from_country": "JP", "k": "10"},
    )
    assert page.status_code == 200
    ids = re.findall(r'name="profile_id" value="([^"]+)"', page.text)
    assert ids[0] == first, ids
    assert "jp-gears" not in ids  # overseas, from Japan
