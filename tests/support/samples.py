"""The sample profiles most service tests load: a Japanese gear maker (jp-1) and its branch
office on the same website (jp-2), an Italian distributor (it-1), a Japanese university
(uni-1) in jp-1's cluster and a Korean bio firm (kr-1)."""

from __future__ import annotations

from typing import Any

SAMPLE: list[dict[str, Any]] = [
    {
        "id": "jp-1",
        "name": "株式会社精密歯車",
        "name_en": "Seimitsu Gear",
        "kind": "firm",
        "country": "JP",
        "cluster": "TAMA",
        "description": "精密歯車とベアリングの製造",
        "offers": ["precision gears", "bearing assembly"],
        "needs": ["distributor in Europe", "steering assist research"],
        "industries": ["automotive", "machinery"],
        "markets": ["IT", "DE"],
        "languages": ["ja", "en"],
        "website": "https://gear.example.jp",
        "contact": "sales@gear.example.jp",
    },
    {
        "id": "it-1",
        "name": "Veneto Trading Srl",
        "kind": "trading_company",
        "country": "IT",
        "description": "Importer and distributor of machine parts in Europe",
        "offers": ["distributor in Europe", "import logistics"],
        "needs": ["precision gears from Japan"],
        "industries": ["machinery"],
        "markets": ["IT", "DE", "FR"],
        "languages": ["it", "en"],
    },
    {
        "id": "uni-1",
        "name": "Tama University",
        "kind": "university",
        "country": "JP",
        "cluster": "TAMA",
        "description": "Research on steering assist and gear dynamics",
        "offers": ["steering assist research", "gear dynamics testing"],
        "needs": ["industrial partners"],
        "industries": ["automotive"],
    },
    {
        "id": "kr-1",
        "name": "Seoul Bio Co",
        "kind": "firm",
        "country": "KR",
        "description": "Biopharmaceutical contract manufacturing",
        "offers": ["cell culture media"],
        "needs": ["clinical partners"],
        "industries": ["bio"],
    },
    {
        "id": "jp-2",
        "name": "Gear Branch Office",
        "kind": "firm",
        "country": "JP",
        "description": "precision gears sales office",
        "offers": ["precision gears"],
        "website": "www.gear.example.jp/branch",
    },
]
