"""Core benchmark of issue 2: embedding pipeline, re-import, vector index, matching, API.

    .venv/bin/python scripts/bench_core.py [--sizes 10000,100000] [--encode-n 10000]
        [--skip-encode] [--skip-api] [--requests 2000] [--concurrency 8] [--sweep 2,4]
        [--workers 1] [--fresh-connections] [--history-per-1k 100]
        [--ingest-chunk 10000] [--match-budget-s 30] [--api-budget-s 180]
        [--json-out FILE] [--workdir DIR]

Quick check: `--sizes 10000 --encode-n 1000 --skip-api` (a few minutes). The full default
run takes ~20 min on an idle 2-core machine, longer when it is shared (the real model's
throughput sets steps 1-2). Steps 4-5 are also bounded in time (--match-budget-s,
--api-budget-s); a row says when a cap cut a measurement short.

Everything runs on synthetic, seeded profiles (a mix of kinds and countries; descriptions
from a domain vocabulary in English and Japanese; 2-4 offers and 1-3 needs drawn with a
Zipf skew from a vocabulary of a few hundred item phrases, so items repeat as in real
data). Every figure is printed next to a baseline measured in the same run:

1. encode: `save_profiles` into a fresh SQLite store with the real model
   (`SentenceTransformerEncoder`) vs plain `SentenceTransformer.encode` on exactly the
   texts the pipeline had to encode;
2. re-import of the same, unchanged profiles vs the first import;
3. `VectorIndex` build and top-10 search (with and without filters) vs raw FAISS on the
   same vectors;
4. `Engine.matches_for` latency per purpose, in process, with a synthetic collaboration
   history and the re-ranker trained on it (`--history-per-1k`; 0 measures the
   hand-weighted path without a network);
5. `/v1/profiles/{id}/matches` over loopback HTTP (uvicorn in a subprocess, an httpx
   client in another process);
6. peak memory of the benchmark, the server and the client.

The machine is shared and small: absolute times are noisy, ratios are what matter. Only
127.0.0.1 is used; the server is always stopped at the end; the work dir is removed unless
it was given with --workdir.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import json
import math
import os
import platform
import random
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from service.runtime import configure_process

# first, as in the server: its BLAS / OpenMP settings (one OpenBLAS thread) before numpy loads
configure_process()

# isort: split
import faiss  # noqa: E402
import numpy as np  # noqa: E402
import numpy.typing as npt  # noqa: E402
from _bench_util import KEY_ENV  # noqa: E402

from indexing import vector_index as vi_module  # noqa: E402
from indexing.vector_index import EF_CONSTRUCTION, VectorIndex  # noqa: E402
from models.encoders import Encoder, HashingEncoder, Progress  # noqa: E402
from models.matching import PURPOSES, Purpose  # noqa: E402
from models.profile import Profile, facet_texts, text_hash  # noqa: E402
from service.engine import Engine, profile_texts  # noqa: E402
from service.profiles.service import import_file, save_profiles  # noqa: E402

K = 10
HNSW_M = 32  # VectorIndex's defaults, used for the raw FAISS baseline too
EF_SEARCH = 128
SEED = 20240601
FloatArray = npt.NDArray[np.float32]
IdArray = npt.NDArray[np.int64]

_T0 = time.perf_counter()


def log(msg: str) -> None:
    """A progress line on stderr (the table goes to stdout)."""
    print(f"[{time.perf_counter() - _T0:7.1f}s] {msg}", file=sys.stderr, flush=True)


def maxrss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def pct(values_s: Sequence[float]) -> tuple[float, float]:
    """(p50, p99) in milliseconds."""
    ms = np.asarray(values_s, dtype=np.float64) * 1e3
    return float(np.percentile(ms, 50)), float(np.percentile(ms, 99))


# =========================================================================== profiles

# One domain per entry: name (en | ja), 8 nouns (en), 8 nouns (ja), 5 applications (en),
# 5 applications (ja). Item phrases are "noun for application": 40 per domain and language.
_DOMAIN_TABLE = [
    (
        "precision machining|精密加工",
        (
            "precision gears|bearing units|ball screws|machined aluminium housings|"
            "gear grinding|5-axis machining|micro shafts|jigs and fixtures"
        ),
        "精密歯車|ベアリングユニット|ボールねじ|アルミ切削ハウジング|歯車研削加工|5軸加工|マイクロシャフト|治具・取付具",
        (
            "robot joints|machine tools|electric vehicles|semiconductor equipment|"
            "medical instruments"
        ),
        "ロボット関節|工作機械|電気自動車|半導体製造装置|医療機器",
    ),
    (
        "automotive parts|自動車部品",
        (
            "electric power steering modules|brake calipers|wire harnesses|die-cast parts|"
            "battery cooling plates|stamped body panels|EV motor housings|rubber seals"
        ),
        "電動パワーステアリングモジュール|ブレーキキャリパー|ワイヤーハーネス|ダイカスト部品|電池冷却プレート|プレス車体部品|EVモーターハウジング|ゴムシール",
        "Tier 1 suppliers|passenger cars|trucks|two-wheelers|EV makers",
        "Tier1サプライヤー|乗用車|トラック|二輪車|EVメーカー",
    ),
    (
        "medical devices|医療機器",
        (
            "catheters|surgical instruments|orthopedic implants|endoscope parts|"
            "disposable syringes|diagnostic sensors|rehabilitation robots|dental materials"
        ),
        "カテーテル|手術器具|整形外科インプラント|内視鏡部品|ディスポシリンジ|診断用センサー|リハビリロボット|歯科材料",
        "hospitals|clinics|elderly care|home healthcare|veterinary use",
        "病院|診療所|高齢者介護|在宅医療|動物医療",
    ),
    (
        "biotechnology|バイオ",
        (
            "cell culture media|recombinant proteins|antibody production|"
            "fermentation scale-up|genome analysis|enzyme engineering|"
            "regenerative medicine materials|bioassay kits"
        ),
        "細胞培養培地|組換えタンパク質|抗体製造|発酵スケールアップ|ゲノム解析|酵素工学|再生医療材料|バイオアッセイキット",
        "drug discovery|food safety|cosmetics|clinical trials|agriculture",
        "創薬|食品安全|化粧品|臨床試験|農業",
    ),
    (
        "food processing|食品加工",
        (
            "fermented seasonings|freeze-dried ingredients|functional beverages|rice crackers"
            "|green tea extracts|frozen seafood|plant-based protein|food packaging film"
        ),
        "発酵調味料|フリーズドライ素材|機能性飲料|米菓|緑茶エキス|冷凍水産物|植物性たんぱく|食品包装フィルム",
        "supermarkets|restaurants|export markets|convenience stores|halal markets",
        "スーパー|外食|輸出市場|コンビニ|ハラール市場",
    ),
    (
        "semiconductors and electronics|半導体・電子",
        (
            "power semiconductors|printed circuit boards|MEMS sensors|wafer cleaning|"
            "chip packaging|EMC testing|embedded controllers|LED modules"
        ),
        "パワー半導体|プリント基板|MEMSセンサー|ウェハ洗浄|チップ実装|EMC試験|組込みコントローラ|LEDモジュール",
        "industrial robots|smartphones|data centres|automotive electronics|IoT devices",
        "産業用ロボット|スマートフォン|データセンター|車載電子|IoT機器",
    ),
    (
        "materials and chemicals|素材・化学",
        (
            "carbon fibre composites|engineering plastics|ceramic powders|surface coatings|"
            "adhesives|rare-earth magnets|recycled resins|heat-resistant alloys"
        ),
        "炭素繊維複合材|エンジニアリングプラスチック|セラミック粉末|表面コーティング|接着剤|希土類磁石|再生樹脂|耐熱合金",
        ("aircraft structures|lightweight vehicles|wind turbines|batteries|consumer electronics"),
        "航空機構造|車両軽量化|風力発電|電池|家電",
    ),
    (
        "energy and environment|環境・エネルギー",
        (
            "hydrogen fuel cells|solar inverters|waste heat recovery|"
            "water treatment membranes|biomass boilers|energy management systems|"
            "battery recycling|CO2 capture"
        ),
        "水素燃料電池|太陽光インバーター|排熱回収|水処理膜|バイオマスボイラー|エネルギー管理システム|電池リサイクル|CO2回収",
        "factories|municipal utilities|smart cities|data centres|farms",
        "工場|自治体|スマートシティ|データセンター|農場",
    ),
    (
        "software and IoT|ソフトウェア・IoT",
        (
            "predictive maintenance software|machine vision inspection|"
            "production scheduling systems|digital twins|edge AI devices|"
            "traceability platforms|remote monitoring|robot programming tools"
        ),
        "予知保全ソフトウェア|画像検査システム|生産スケジューラ|デジタルツイン|エッジAIデバイス|トレーサビリティ基盤|遠隔監視|ロボット教示ツール",
        "small factories|logistics centres|food plants|hospitals|construction sites",
        "中小工場|物流センター|食品工場|病院|建設現場",
    ),
    (
        "aerospace|航空宇宙",
        (
            "titanium machining|satellite components|composite fairings|landing gear parts|"
            "drone airframes|avionics harnesses|non-destructive testing|"
            "thermal protection tiles"
        ),
        "チタン切削加工|衛星部品|複合材フェアリング|降着装置部品|ドローン機体|航空電装ハーネス|非破壊検査|耐熱タイル",
        "airlines|space start-ups|defence programmes|MRO providers|drone operators",
        "航空会社|宇宙スタートアップ|防衛プログラム|MRO事業者|ドローン事業者",
    ),
]
DOMAINS: list[dict[str, list[str]]] = [
    dict(zip(("name", "n_en", "n_ja", "a_en", "a_ja"), (p.split("|") for p in row), strict=True))
    for row in _DOMAIN_TABLE
]
for _d in DOMAINS:
    _d["en"], _d["ja"] = [_d["name"][0]], [_d["name"][1]]


REGIONS = [
    ("Europe", "欧州"),
    ("North America", "北米"),
    ("Southeast Asia", "東南アジア"),
    ("Korea", "韓国"),
    ("Italy", "イタリア"),
    ("Germany", "ドイツ"),
    ("China", "中国"),
]
CERTS = ["ISO 9001", "ISO 13485", "IATF 16949", "JIS Q 9100", "HACCP", "CE marking"]
KIND_WEIGHTS = {
    "firm": 0.56,
    "university": 0.09,
    "trading_company": 0.08,
    "research_institute": 0.06,
    "support_org": 0.06,
    "financial_institution": 0.05,
    "public_body": 0.05,
    "other": 0.05,
}
COUNTRY_WEIGHTS = {
    "JP": 0.59,
    "IT": 0.14,
    "KR": 0.10,
    "DE": 0.04,
    "US": 0.04,
    "FR": 0.04,
    "TW": 0.02,
    "TH": 0.015,
    "VN": 0.015,
}
COUNTRY_LANG = {
    "JP": "ja",
    "IT": "it",
    "KR": "ko",
    "DE": "de",
    "US": "en",
    "FR": "fr",
    "TW": "zh",
    "TH": "th",
    "VN": "vi",
}
CITIES = {
    "JP": [
        ("八王子", "Hachioji", "東京都", "TAMA"),
        ("川崎", "Kawasaki", "神奈川県", "TAMA"),
        ("浜松", "Hamamatsu", "静岡県", "TOKAI"),
        ("東大阪", "Higashiosaka", "大阪府", "KANSAI"),
        ("北九州", "Kitakyushu", "福岡県", "KYUSHU"),
        ("仙台", "Sendai", "宮城県", "TOHOKU"),
        ("燕三条", "Tsubame-Sanjo", "新潟県", "NIIGATA"),
        ("豊田", "Toyota", "愛知県", "TOKAI"),
    ],
    "IT": [("Turin", "", "Piemonte", "MESAP"), ("Bologna", "", "Emilia-Romagna", "MECCANICA")],
    "KR": [("Changwon", "", "Gyeongnam", "CHANGWON"), ("Daegu", "", "Daegu", "DGMIF")],
    "DE": [("Stuttgart", "", "Baden-Württemberg", "BW-AUTO")],
    "US": [("Detroit", "", "Michigan", "")],
    "FR": [("Lyon", "", "Auvergne-Rhône-Alpes", "")],
    "TW": [("Taichung", "", "", "")],
    "TH": [("Bangkok", "", "", "")],
    "VN": [("Hanoi", "", "", "")],
}
KIND_WORD = {
    "firm": ("manufacturer", "メーカー"),
    "university": ("university", "大学"),
    "trading_company": ("trading company", "商社"),
    "research_institute": ("public research institute", "公設試験研究機関"),
    "support_org": ("industry support organisation", "産業支援機関"),
    "financial_institution": ("regional bank", "地方銀行"),
    "public_body": ("local government office", "自治体"),
    "other": ("association", "団体"),
}


def _zipf_weights(n: int, s: float = 1.0) -> list[float]:
    return [1.0 / (r + 1) ** s for r in range(n)]


@dataclass
class ProfileGen:
    """Seeded generator of realistic-looking profiles (dicts in the import format)."""

    seed: int = SEED
    rng: random.Random = field(init=False)
    _item_w: list[float] = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)
        self._item_w = _zipf_weights(8 * 5, 0.9)

    def _lang_of(self, country: str) -> str:
        if country == "JP":
            return "ja" if self.rng.random() < 0.85 else "en"
        return "en"

    def _domain_item(self, d: dict[str, list[str]], lang: str) -> tuple[str, str, str]:
        """(phrase, noun, application) from a domain: `noun for application`."""
        i = self.rng.choices(range(40), weights=self._item_w)[0]
        noun = d["n_" + lang][i % 8]
        app = d["a_" + lang][i // 8]
        phrase = f"{app}向け{noun}" if lang == "ja" else f"{noun} for {app}"
        return phrase, noun, app

    def _noun(self, d: dict[str, list[str]], lang: str) -> str:
        return d["n_" + lang][min(int(self.rng.expovariate(0.45)), 7)]

    def _offer(self, kind: str, d: dict[str, list[str]], lang: str) -> str:
        r, ja = self.rng, lang == "ja"
        noun = self._noun(d, lang)
        region = r.choice(REGIONS)[1 if ja else 0]
        if kind == "firm":
            return self._domain_item(d, lang)[0]
        if kind == "trading_company":
            return r.choice(
                [f"{region}での{noun}の輸入販売", f"{region}の販売網"]
                if ja
                else [
                    f"import and distribution of {noun} in {region}",
                    f"sales network in {region}",
                ]
            )
        if kind in ("university", "research_institute"):
            return r.choice(
                [f"{noun}の研究", f"{noun}の評価試験", f"{d['ja'][0]}分野の技術相談"]
                if ja
                else [
                    f"research on {noun}",
                    f"testing of {noun}",
                    f"technical advice on {d['en'][0]}",
                ]
            )
        if kind == "financial_institution":
            return r.choice(
                ["輸出金融", "中小企業向け成長資金", "海外進出の融資", "事業承継の支援"]
                if ja
                else [
                    "export financing",
                    "growth loans for SMEs",
                    "overseas expansion loans",
                    "business succession support",
                ]
            )
        return r.choice(
            [
                "ビジネスマッチング商談会",
                f"{region}進出の相談",
                "補助金申請の支援",
                "展示会出展支援",
            ]
            if ja
            else [
                "business matching events",
                f"consulting on expansion to {region}",
                "grant application support",
                "trade fair participation support",
            ]
        )

    def _need(self, kind: str, d: dict[str, list[str]], lang: str) -> str:
        r, ja = self.rng, lang == "ja"
        noun = self._noun(d, lang)
        region = r.choice(REGIONS)[1 if ja else 0]
        roll = r.random()
        if kind == "firm" and roll < 0.35:
            return self._domain_item(d, lang)[0]
        if kind == "firm" and roll < 0.75:
            return r.choice(
                [f"{region}の販売代理店", f"{noun}の購入先", f"{region}の商社との取引"]
                if ja
                else [
                    f"distributor in {region}",
                    f"buyers of {noun}",
                    f"trading partner in {region}",
                ]
            )
        if kind == "trading_company":
            return f"日本製の{noun}" if ja else f"{noun} from Japan"
        if kind in ("university", "research_institute"):
            return (
                f"{noun}の共同研究先企業" if ja else f"industrial partners for research on {noun}"
            )
        return r.choice(
            [f"{noun}の共同研究", f"{r.choice(CERTS)}認証取得の支援", "輸出金融", "人材確保"]
            if ja
            else [
                f"joint research on {noun}",
                f"{r.choice(CERTS)} certification support",
                "export financing",
                "skilled engineers",
            ]
        )

    def profile(self, i: int, websites: list[str]) -> dict[str, Any]:
        r = self.rng
        kind = r.choices(list(KIND_WEIGHTS), weights=list(KIND_WEIGHTS.values()))[0]
        country = r.choices(list(COUNTRY_WEIGHTS), weights=list(COUNTRY_WEIGHTS.values()))[0]
        lang = self._lang_of(country)
        ja = lang == "ja"
        d, d2 = r.sample(DOMAINS, 2)
        city_local, city_en, region, cluster = r.choice(CITIES[country])
        city = city_local if ja else (city_en or city_local)
        year = r.randint(1900, 2022)
        kw_en, kw_ja = KIND_WORD[kind]
        n1, n2 = r.sample(d["n_" + lang], 2)
        app = r.choice(d["a_" + lang])
        name_en = f"{city_en or city_local} {d['en'][0].split()[0].title()} {kw_en.title()} {i}"
        if ja:
            name = (
                f"株式会社{city_local}{d['ja'][0]}{i}"
                if kind == "firm"
                else f"{city_local}{kw_ja}{i}"
            )
            desc = f"{city}で{year}年に設立された{d['ja'][0]}の{kw_ja}。"
            desc += f"{app}向けの{n1}と{n2}を得意とする。"
            desc += r.choice(
                [
                    "小ロット多品種生産に対応する。",
                    f"{r.choice(CERTS)}を取得している。",
                    f"大学と{d2['ja'][0]}分野の共同研究を進めている。",
                    f"{r.choice(REGIONS)[1]}への輸出実績がある。",
                    "",
                ]
            )
        else:
            name = name_en
            desc = (
                f"A {kw_en} in {city}, founded in {year}, working in {d['en'][0]}. "
                f"It specialises in {n1} and {n2} for {app}. "
            )
            desc += r.choice(
                [
                    "It runs small-lot, high-mix production.",
                    f"It is certified to {r.choice(CERTS)}.",
                    f"It collaborates with universities on {d2['en'][0]}.",
                    f"It exports to {r.choice(REGIONS)[0]}.",
                    "",
                ]
            )
        item_lang = lang if r.random() < 0.8 else ("en" if ja else lang)
        offers = [
            self._offer(kind, d if r.random() < 0.75 else d2, item_lang)
            for _ in range(r.randint(2, 4))
        ]
        needs = [
            self._need(kind, d if r.random() < 0.6 else d2, item_lang)
            for _ in range(r.randint(1, 3))
        ]
        if websites and r.random() < 0.02:  # a branch office of an earlier organisation
            website: str | None = r.choice(websites) + "/branch"
        elif r.random() < 0.9:
            website = f"https://org{i}.example.{country.lower()}"
            websites.append(website)
        else:
            website = None
        markets = sorted({country, *r.sample(list(COUNTRY_WEIGHTS), r.randint(0, 3))})
        languages = sorted(
            {COUNTRY_LANG[country], "en"} if r.random() < 0.7 else {COUNTRY_LANG[country]}
        )
        out: dict[str, Any] = {
            "id": f"org-{i:06d}",
            "name": name,
            "kind": kind,
            "country": country,
            "description": desc,
            "offers": offers,
            "needs": needs,
            "industries": [d[lang][0], d2[lang][0]][: r.randint(1, 2)],
            "markets": markets,
            "languages": languages,
            "employees": r.randint(3, 3000) if kind in ("firm", "trading_company") else None,
            "founded": year,
            "website": website,
            "contact": f"info@org{i}.example.com",
        }
        if ja:
            out["name_en"] = name_en
        if country == "JP":
            out["region"] = region
            out["cluster"] = cluster
        elif cluster:
            out["cluster"] = cluster
        return out


def make_profiles(n: int, seed: int = SEED) -> list[Profile]:
    gen = ProfileGen(seed)
    websites: list[str] = []
    return [Profile.model_validate(gen.profile(i, websites)) for i in range(n)]


# =========================================================================== results


@dataclass
class Row:
    section: str
    metric: str
    value: str
    baseline: str = ""
    ratio: str = ""
    target: str = ""
    note: str = ""


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)

    def add(self, *args: str, **kw: str) -> None:
        self.rows.append(Row(*args, **kw))

    def render(self) -> str:
        headers = ("section", "metric", "value", "baseline (same run)", "ratio", "target", "note")
        table = [
            headers,
            *(
                (r.section, r.metric, r.value, r.baseline, r.ratio, r.target, r.note)
                for r in self.rows
            ),
        ]
        widths = [max(_width(row[c]) for row in table) for c in range(len(headers) - 1)]
        lines = []
        for j, row in enumerate(table):
            cells = [row[c] + " " * (widths[c] - _width(row[c])) for c in range(len(widths))]
            lines.append(" | ".join([*cells, row[-1]]).rstrip())
            if j == 0:
                lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 20)
        return "\n".join(lines)


def _width(s: str) -> int:
    return sum(2 if ord(ch) > 0x2E80 else 1 for ch in s)


def ms(v: float) -> str:
    return f"{v:.2f} ms" if v < 100 else f"{v:.0f} ms"


def secs(v: float) -> str:
    return f"{v:.2f} s" if v < 100 else f"{v:.0f} s"


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b > 0 else "n/a"


def machine_info() -> dict[str, Any]:
    model = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break

    def ver(name: str) -> str:
        try:
            return importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            return "not installed"

    return {
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)),
        "cpu": model,
        "python": platform.python_version(),
        "faiss": faiss.__version__,
        "torch": ver("torch"),
        "sentence_transformers": ver("sentence-transformers"),
        "numpy": np.__version__,
        "sqlalchemy": ver("sqlalchemy"),
        "fastapi": ver("fastapi"),
        "uvicorn": ver("uvicorn"),
        "httpx": ver("httpx"),
        "faiss_omp_threads": faiss.omp_get_max_threads(),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
    }


# =========================================================================== helpers


class TimedEncoder:
    """Delegates to an encoder and adds up the seconds spent in `encode`, so the pipeline
    time splits into model time and everything else (cache, DB, index, save)."""

    def __init__(self, inner: Encoder) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.texts = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        t0 = time.perf_counter()
        try:
            return self.inner.encode(texts, batch_size=batch_size, progress=progress)
        finally:
            self.seconds += time.perf_counter() - t0
            self.texts += len(texts)


def progress_printer(label: str) -> Callable[[str, int, int], None]:
    last: dict[str, float] = {}

    def report(phase: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if done == total or now - last.get(phase, 0.0) > 10:
            last[phase] = now
            log(f"{label}: {phase} {done}/{total}")

    return report


def open_store(url: str) -> tuple[Any, Any]:
    """(SQLAlchemy engine, sessionmaker) on a migrated database."""
    from service.store.db import make_engine, make_sessionmaker, upgrade

    db = make_engine(url)
    upgrade(db)
    return db, make_sessionmaker(db)


def unique_texts(profiles: Sequence[Profile]) -> list[str]:
    """The texts the pipeline encodes for `profiles` into an empty cache, in its order."""
    by_hash: dict[str, str] = {}
    for p in profiles:
        for t in profile_texts(p):
            by_hash.setdefault(text_hash(t), t)
    return list(by_hash.values())


def unit(x: np.ndarray) -> FloatArray:
    return np.ascontiguousarray((x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32))


def tile_with_noise(base: FloatArray, n: int, rng: np.random.Generator, cos: float) -> FloatArray:
    """`n` unit vectors: the rows of `base`, then noisy copies of them at about `cos` cosine
    to their source (a corpus of n profiles that resemble the real-model ones)."""
    if n <= base.shape[0]:
        return np.ascontiguousarray(base[:n])
    dim = base.shape[1]
    sigma = math.sqrt((1 / cos**2 - 1) / dim)
    extra = n - base.shape[0]
    src = base[np.arange(extra) % base.shape[0]]
    noisy = src + rng.standard_normal((extra, dim)).astype(np.float32) * np.float32(sigma)
    return np.vstack([base, unit(noisy)])


# =========================================================================== 1+2 encode


def bench_encode(args: argparse.Namespace, work: Path, res: Results) -> FloatArray | None:
    """Steps 1 and 2. Returns the real-model vectors of the profiles' overall texts."""
    from models.encoders import SentenceTransformerEncoder

    n = args.encode_n
    log(f"encode: generating {n} profiles")
    profiles = make_profiles(n)
    t0 = time.perf_counter()
    real = SentenceTransformerEncoder()
    load_s = time.perf_counter() - t0
    st = real.sentence_transformer
    warm = [f"warm-up sentence number {i}" for i in range(128)]
    real.encode(warm)
    st.encode(warm, batch_size=64, convert_to_numpy=True, normalize_embeddings=True)
    log(f"encode: model loaded in {load_s:.1f}s; pipeline import of {n} profiles")

    timed = TimedEncoder(real)
    db, sessions = open_store(f"sqlite:///{work / 'encode.db'}")
    engine = Engine(timed, sessions, work / "encode-index")
    # The import runs in slices, each followed (or preceded, alternately) by the plain
    # encode of exactly the texts that slice's import had to encode: load from other work
    # on the machine then hits pipeline and baseline alike.
    slices = max(1, min(args.encode_slices, n))
    bounds = [round(i * n / slices) for i in range(slices + 1)]
    seen: set[str] = set()
    plain_vecs: dict[str, np.ndarray] = {}
    t_first = t_plain = 0.0
    encoded = 0
    nt = 0
    for j in range(slices):
        part = profiles[bounds[j] : bounds[j + 1]]
        texts = [t for t in unique_texts(part) if text_hash(t) not in seen]
        seen.update(text_hash(t) for t in texts)
        nt += len(texts)
        for step in ("pipeline", "plain") if j % 2 == 0 else ("plain", "pipeline"):
            log(f"encode: slice {j + 1}/{slices}: {step}, {len(part)} profiles, {len(texts)} texts")
            t0 = time.perf_counter()
            if step == "pipeline":
                rep = save_profiles(engine, sessions, part, progress=progress_printer("encode"))
                t_first += time.perf_counter() - t0
                encoded += rep.encoded_texts
            else:
                vecs = st.encode(
                    texts,
                    batch_size=64,
                    convert_to_numpy=True,
                    normalize_embeddings=True,
                    show_progress_bar=False,
                )
                t_plain += time.perf_counter() - t0
                plain_vecs.update(zip((text_hash(t) for t in texts), vecs, strict=True))
    if encoded != nt:
        log(f"warning: the pipeline encoded {encoded} texts, the baseline {nt}")

    res.add(
        "1 encode",
        f"pipeline save_profiles, {n} profiles (real model)",
        f"{n / t_first:.1f} prof/s",
        f"{n / t_plain:.1f} prof/s plain ST.encode",
        ratio(t_first, t_plain),
        "",
        f"time {secs(t_first)} vs {secs(t_plain)} (ratio = pipeline / plain time); "
        f"{slices} slices, interleaved",
    )
    res.add(
        "1 encode",
        "  texts encoded (cache misses)",
        f"{encoded}",
        f"{nt} texts to plain encode",
        "",
        "",
        f"{nt / n:.2f} texts/profile: overall+offers+needs+each item; items repeat",
    )
    res.add(
        "1 encode",
        "  sentences/s",
        f"{nt / t_first:.0f}/s",
        f"{nt / t_plain:.0f}/s",
        ratio(t_first, t_plain),
        "",
        "throughput; the pipeline counts its whole time",
    )
    res.add(
        "1 encode",
        "  of which in encoder.encode",
        secs(timed.seconds),
        secs(t_plain) + " plain",
        ratio(timed.seconds, t_plain),
        "",
        f"rest (hash, SQLite, cache, index, save): {secs(t_first - timed.seconds)}",
    )
    res.add("1 encode", "  model load", secs(load_s), note="USE v3 built in code")
    res.data["encode"] = {
        "profiles": n,
        "texts": nt,
        "encoded": encoded,
        "slices": slices,
        "first_import_s": t_first,
        "plain_encode_s": t_plain,
        "pipeline_encode_s": timed.seconds,
        "load_s": load_s,
    }

    # 2: re-import the same, unchanged profiles.
    log("reimport: save_profiles of the same unchanged profiles")
    again = [Profile.model_validate(p.model_dump()) for p in profiles]
    t0 = time.perf_counter()
    second = save_profiles(engine, sessions, again)
    t_re = time.perf_counter() - t0
    jsonl = "\n".join(p.model_dump_json(exclude_none=True) for p in profiles).encode()
    t0 = time.perf_counter()
    third = import_file(engine, sessions, jsonl, format="jsonl")
    t_file = time.perf_counter() - t0
    ok = second.unchanged == n and second.encoded_texts == 0 and third.unchanged == n
    res.add(
        "2 re-import",
        f"save_profiles, {n} unchanged profiles",
        secs(t_re),
        secs(t_first) + " first import",
        f"{t_first / t_re:.0f}x faster",
        ">= 20x",
        f"unchanged={second.unchanged} encoded={second.encoded_texts}" + ("" if ok else " (!)"),
    )
    res.add(
        "2 re-import",
        f"import_file (JSONL {len(jsonl) >> 10} KiB), unchanged",
        secs(t_file),
        secs(t_first) + " first import",
        f"{t_first / t_file:.0f}x faster",
        ">= 20x",
        f"parse+validate+hash; unchanged={third.unchanged} encoded={third.encoded_texts}",
    )
    res.data["reimport"] = {"save_profiles_s": t_re, "import_file_s": t_file, "ok": ok}
    db.dispose()

    # The overall-text vectors, for step 3.
    return unit(np.vstack([plain_vecs[text_hash(facet_texts(p)["all"])] for p in profiles]))


# =========================================================================== 3 index


def _exact_topk(x: FloatArray, q: FloatArray, mask: npt.NDArray[np.bool_] | None) -> IdArray:
    """Labels of the exact top-K rows of `x` for each query (restricted to `mask`)."""
    scores = q @ x.T
    if mask is not None:
        scores[:, ~mask] = -np.inf
    return np.argpartition(-scores, K, axis=1)[:, :K].astype(np.int64)


def _recall(got: list[set[int]], truth: IdArray) -> float:
    hits = sum(len(g & set(t.tolist())) for g, t in zip(got, truth, strict=True))
    return hits / max(truth.size, 1)


@contextlib.contextmanager
def omp_threads(n: int) -> Iterator[None]:
    prev = faiss.omp_get_max_threads()
    faiss.omp_set_num_threads(n)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(prev)


def _params(layout: str, ef: int, sel: Any) -> Any:
    """FAISS search parameters: the selector, and efSearch on HNSW."""
    params: Any
    if layout == "hnsw":
        params = faiss.SearchParametersHNSW()  # type: ignore[attr-defined]
        params.efSearch = int(ef)
    elif sel is None:
        return None
    else:
        params = faiss.SearchParameters()
    if sel is not None:
        params.sel = sel
    return params


@dataclass
class RawIndex:
    """The baseline: a bare FAISS index over the same vectors, labels = ids - 1."""

    layout: str
    index: Any
    flat: Any  # the flat storage (the index itself on the flat layout)

    @classmethod
    def build(cls, x: FloatArray, layout: str) -> RawIndex:
        index: Any
        if layout == "flat":
            index = faiss.IndexFlatIP(x.shape[1])
        else:
            index = faiss.IndexHNSWFlat(x.shape[1], HNSW_M, faiss.METRIC_INNER_PRODUCT)
            index.hnsw.efConstruction = EF_CONSTRUCTION
        index.add(x)
        flat = index if layout == "flat" else faiss.downcast_index(index.storage)
        return cls(layout, index, flat)

    def search(self, q: FloatArray, sel: Any, *, exact: bool, ef: int) -> IdArray:
        if exact or self.layout == "flat":
            _, labels = self.flat.search(q, K, params=_params("flat", ef, sel))
        else:
            _, labels = self.index.search(q, K, params=_params("hnsw", ef, sel))
        return np.asarray(labels, dtype=np.int64)


def raw_selector(allowed: IdArray | None, excluded: IdArray | None) -> tuple[Any, list[Any]]:
    """The per-query selector over labels the way a raw FAISS caller builds it
    (IDSelectorBatch / IDSelectorNot / IDSelectorAnd), and the objects it points into."""
    keep: list[Any] = []
    parts: list[Any] = []
    if allowed is not None:
        lab = allowed - 1
        parts.append(faiss.IDSelectorBatch(lab.size, faiss.swig_ptr(lab)))
        keep.append(lab)
    if excluded is not None:
        lab = excluded - 1
        batch = faiss.IDSelectorBatch(lab.size, faiss.swig_ptr(lab))
        keep += [lab, batch]
        parts.append(faiss.IDSelectorNot(batch))
    if not parts:
        return None, keep
    if len(parts) == 1:
        return parts[0], keep
    keep += parts
    return faiss.IDSelectorAnd(parts[0], parts[1]), keep


def probe_strategy(
    vi: VectorIndex, q: FloatArray, allowed: IdArray | None, exclude: IdArray | None
) -> tuple[str, int | None]:
    """How VectorIndex answers this query: ("exact", None) for a scan of the stored
    vectors, ("block", None) for a scan of the filter's contiguous copy, ("hnsw", ef) for
    a graph walk, ("unknown", None) if its internals changed. Reads private attributes on
    purpose, for one untimed probe only."""
    seen: list[tuple[str, int | None]] = []
    try:
        store = vi._store
        exact_fn = store._search_exact
        params_fn = vi_module._hnsw_params
        block_fn = vi_module._scan_block
    except AttributeError:
        return "unknown", None

    def block_probe(*a: Any, **kw: Any) -> Any:
        seen.append(("block", None))
        return block_fn(*a, **kw)

    def exact_probe(*a: Any, **kw: Any) -> Any:
        seen.append(("exact", None))
        return exact_fn(*a, **kw)

    def params_probe(ef: int, *a: Any, **kw: Any) -> Any:
        seen.append(("hnsw", int(ef)))
        return params_fn(ef, *a, **kw)

    store._search_exact = exact_probe  # type: ignore[method-assign]
    vi_module._hnsw_params = params_probe
    vi_module._scan_block = block_probe
    try:
        vi.search(q, K, allowed=allowed, exclude=() if exclude is None else exclude)
    finally:
        del store._search_exact
        vi_module._hnsw_params = params_fn
        vi_module._scan_block = block_fn
    if not seen:
        return ("exact", None) if store.layout == "flat" else ("unknown", None)
    return seen[0]


@dataclass
class SearchCase:
    name: str
    allowed: IdArray | None
    exclude: bool


def _search_case(
    case: SearchCase,
    x: FloatArray,
    vi: VectorIndex,
    raw: RawIndex,
    queries: FloatArray,
    excl: list[IdArray],
) -> dict[str, Any]:
    """Time one filter case: VectorIndex.search, raw FAISS with the strategy VectorIndex
    picks (exact scan or HNSW with a scaled ef), and raw FAISS at the plain ef=128."""
    n = x.shape[0]
    qn = queries.shape[0]
    filtered = case.allowed is not None or case.exclude
    masks: list[npt.NDArray[np.bool_] | None] = []
    for i in range(qn):
        if not filtered:
            masks.append(None)
            continue
        m = np.ones(n, dtype=bool) if case.allowed is None else np.zeros(n, dtype=bool)
        if case.allowed is not None:
            m[case.allowed - 1] = True
        if case.exclude:
            m[excl[i] - 1] = False
        masks.append(m)
    if filtered:
        truth = np.vstack([_exact_topk(x, queries[i : i + 1], masks[i]) for i in range(qn)])
    else:
        truth = _exact_topk(x, queries, None)
    # The baseline does inside FAISS what VectorIndex does (asked of VectorIndex itself on
    # one probe query): an exact scan, or an HNSW walk at the ef it chose.
    how, probed_ef = probe_strategy(vi, queries[0], case.allowed, excl[0] if case.exclude else None)
    exact = raw.layout == "flat" or how in ("exact", "block")
    ef = probed_ef or EF_SEARCH
    if raw.layout == "flat":
        strategy = "flat scan"
    elif how == "exact":
        strategy = "exact scan of HNSW storage"
    elif how == "block":  # the same exact answer; raw FAISS scans its storage with the bitmap
        strategy = "exact scan of the filter's block (raw: bitmap scan of HNSW storage)"
    elif how == "hnsw":
        strategy = f"HNSW ef={ef}"
    else:
        strategy = f"unknown (baseline: HNSW ef={ef})"
    # The plain-ef baseline only where it differs from what VectorIndex does; it runs in a
    # pass of its own, so that it does not warm the CPU caches for the other raw search.
    plain_differs = raw.layout == "hnsw" and (exact or ef > 1.1 * EF_SEARCH)
    times: dict[str, list[float]] = {"vi": [], "same": [], "plain": []}
    got: dict[str, list[set[int]]] = {"vi": [], "same": [], "plain": []}
    vi.search(queries[0], K, allowed=case.allowed, exclude=excl[0] if case.exclude else ())
    passes = [("vi", "same"), ("plain",)] if plain_differs else [("vi", "same")]
    with omp_threads(1):  # VectorIndex searches a single query on one OpenMP thread
        for kinds in passes:
            for i in range(qn):
                q = queries[i : i + 1]
                ex = excl[i] if case.exclude else None
                for which in kinds if i % 2 == 0 else kinds[::-1]:
                    t0 = time.perf_counter()
                    if which == "vi":
                        hits = vi.search(
                            q, K, allowed=case.allowed, exclude=() if ex is None else ex
                        )
                        times[which].append(time.perf_counter() - t0)
                        got[which].append({h - 1 for h, _ in hits[0]})
                        continue
                    sel, _keep = raw_selector(case.allowed, ex)
                    if which == "same":
                        labels = raw.search(q, sel, exact=exact, ef=ef)
                    else:
                        labels = raw.search(q, sel, exact=False, ef=EF_SEARCH)
                    times[which].append(time.perf_counter() - t0)
                    got[which].append({int(v) for v in labels[0] if v >= 0})
    if not plain_differs:
        times["plain"], got["plain"] = times["same"], got["same"]
    out: dict[str, Any] = {"strategy": strategy, "plain_differs": plain_differs}
    for which in ("vi", "same", "plain"):
        p50, p99 = pct(times[which])
        out[which] = {"p50_ms": p50, "p99_ms": p99, "recall": _recall(got[which], truth)}
    return out


def bench_index(
    sizes: Sequence[int], base: FloatArray, source: str, res: Results, n_queries: int
) -> None:
    rng = np.random.default_rng(SEED)
    big = tile_with_noise(base, max(sizes), rng, cos=0.9)
    qsrc = base[rng.integers(0, base.shape[0], n_queries)]
    queries = unit(qsrc + rng.standard_normal(qsrc.shape).astype(np.float32) * np.float32(0.02))
    res.data["index"] = {"vectors": source, "queries": n_queries, "sizes": {}}
    for n in sizes:
        x = np.ascontiguousarray(big[:n])
        ids = np.arange(1, n + 1, dtype=np.int64)  # like DB primary keys; FAISS label = id - 1
        log(f"index n={n}: VectorIndex build")
        t0 = time.perf_counter()
        vi = VectorIndex(x.shape[1], "bench", hnsw_threshold=50_000)
        vi.upsert(ids, x)
        t_vi = time.perf_counter() - t0
        layout = vi.layout
        log(f"index n={n}: raw FAISS build ({layout})")
        t0 = time.perf_counter()
        raw = RawIndex.build(x, layout)
        t_raw = time.perf_counter() - t0
        sec = f"3 index {n // 1000}k"
        res.add(
            sec,
            f"build, layout={layout}",
            secs(t_vi),
            secs(t_raw) + " raw FAISS",
            ratio(t_vi, t_raw),
            "",
            "VectorIndex.upsert: flat add, then the HNSW rebuild past the threshold"
            if layout == "hnsw"
            else "VectorIndex.upsert vs IndexFlatIP.add",
        )
        perm = rng.permutation(n)
        excl = [np.unique(rng.integers(1, n + 1, 5)).astype(np.int64) for _ in range(n_queries)]
        cases = [
            SearchCase("top-10, no filter", None, False),
            SearchCase("top-10, exclude 5 ids", None, True),
            SearchCase("top-10, allowed 10%", np.sort(ids[perm[: n // 10]]), False),
            SearchCase("top-10, allowed 1%", np.sort(ids[perm[: n // 100]]), False),
            SearchCase("top-10, allowed 10% + exclude", np.sort(ids[perm[: n // 10]]), True),
        ]
        size_data: dict[str, Any] = {"layout": layout, "build_s": t_vi, "raw_build_s": t_raw}
        for case in cases:
            log(f"index n={n}: {case.name}")
            r = _search_case(case, x, vi, raw, queries, excl)
            vi_t, same, plain = r["vi"], r["same"], r["plain"]
            res.add(
                sec,
                f"{case.name} p50/p99",
                f"{ms(vi_t['p50_ms'])} / {ms(vi_t['p99_ms'])}",
                f"{ms(same['p50_ms'])} / {ms(same['p99_ms'])} raw",
                ratio(vi_t["p50_ms"], same["p50_ms"]),
                "<= 1.5x",
                f"{r['strategy']}; recall@10 {vi_t['recall']:.3f}, raw {same['recall']:.3f}",
            )
            if r["plain_differs"]:
                res.add(
                    sec,
                    "  raw FAISS HNSW at plain ef=128",
                    "",
                    f"{ms(plain['p50_ms'])} / {ms(plain['p99_ms'])} raw",
                    ratio(vi_t["p50_ms"], plain["p50_ms"]),
                    "",
                    f"raw recall@10 {plain['recall']:.3f}: cheaper, but misses neighbours",
                )
            size_data[case.name] = r
        res.data["index"]["sizes"][str(n)] = size_data


# =========================================================================== 4 engine


def add_history(
    engine: Engine, sessions: Any, n: int, prev: int, per_1k: int, res: Results, sec: str
) -> dict[str, Any]:
    """Synthetic projects of 2-8 members among the first n profiles (Zipf-skewed, so some
    organizations take part in many), stored through `save_interactions`; then the
    re-ranker is trained on them, as `clustermatch train` does."""
    from service.interactions.service import save_interactions
    from service.io.imports import Interaction, ParsedFile
    from service.offline.learning import train_reranker

    rng = random.Random(SEED + 7 + n)
    groups = max(1, (n - prev) * per_1k // 1000)
    weights = _zipf_weights(n, 0.8)
    ids = [f"org-{i:06d}" for i in range(n)]
    items: list[Interaction] = []
    for g in range(groups):
        members = sorted(set(rng.choices(range(n), weights=weights, k=rng.randint(2, 8))))
        items += [
            Interaction(a=ids[a], b=ids[b], kind="collaboration", context=f"project:{n}-{g}")
            for i, a in enumerate(members)
            for b in members[i + 1 :]
        ]
    parsed = ParsedFile(
        items=list(enumerate(items, 1)),
        errors=[],
        format="jsonl",
        encoding="utf-8",
        total_rows=len(items),
    )
    log(f"engine: {groups} synthetic projects, {len(items)} interactions")
    t0 = time.perf_counter()
    saved = save_interactions(engine, sessions, parsed)
    t_hist = time.perf_counter() - t0
    t0 = time.perf_counter()
    report = train_reranker(engine, seed=0)
    t_train = time.perf_counter() - t0
    # matching is timed as the service runs it: with the compiled re-ranker once ready
    t0 = time.perf_counter()
    while engine.native_ranker and report.method == "learned" and time.perf_counter() - t0 < 300:
        if engine.reranker is not None and engine.reranker.native:
            break
        time.sleep(0.2)
    native = engine.reranker is not None and engine.reranker.native
    res.add(
        sec,
        "history: import + train re-ranker",
        f"{secs(t_hist)} + {secs(t_train)}",
        "",
        "",
        "",
        f"{groups} projects, {saved.created} interactions; ranker {report.method}, "
        f"{report.queries} training queries, {report.rows} rows; "
        f"{'compiled' if native else 'LightGBM'} scoring (+{secs(time.perf_counter() - t0)})",
    )
    return {
        "projects": groups,
        "interactions": saved.created,
        "import_s": t_hist,
        "train_s": t_train,
        "ranker": report.method,
    }


def bench_engine(
    sizes: Sequence[int],
    data_dir: Path,
    res: Results,
    per_purpose: int,
    budget_s: float,
    chunk_size: int,
    history_per_1k: int = 0,
) -> dict[str, Any]:
    """Populate an engine (HashingEncoder(512), SQLite in `data_dir`) size by size through
    `save_profiles`, add a synthetic collaboration history and train the re-ranker on it
    (`history_per_1k` projects per 1,000 new profiles; 0: none, the hand-weighted path),
    and time `matches_for` per purpose at each size."""
    from service.resources import build_engine
    from service.settings import Settings

    settings = Settings(
        data_dir=data_dir,
        index_save_interval_s=0,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )
    data_dir.mkdir(parents=True, exist_ok=True)
    n_max = max(sizes)
    log(f"engine: generating {n_max} profiles")
    profiles = make_profiles(n_max)
    db, sessions = open_store(settings.resolved_database_url)
    encoder = TimedEncoder(HashingEncoder(dim=512))
    engine = build_engine(settings, encoder, sessions)  # as the server builds it
    done = prev = 0
    rng = random.Random(SEED + 1)
    res.data["engine"] = {"encoder": "HashingEncoder(dim=512)", "sizes": {}}
    for n in sorted(sizes):
        chunk = chunk_size or (n - done)
        enc0 = encoder.seconds
        chunk_t: list[float] = []
        encoded = 0
        t0 = time.perf_counter()
        for start in range(done, n, chunk):
            stop = min(start + chunk, n)
            log(f"engine: save_profiles {start}..{stop}")
            t1 = time.perf_counter()
            report = save_profiles(
                engine, sessions, profiles[start:stop], progress=progress_printer(f"engine {stop}")
            )
            chunk_t.append(time.perf_counter() - t1)
            encoded += report.encoded_texts
        t_ingest = time.perf_counter() - t0
        enc_s = encoder.seconds - enc0
        layout = engine.indexes["all"].layout
        sec = f"4 matching {n // 1000}k"
        calls = (
            f"{len(chunk_t)} calls of {chunk}: first {secs(chunk_t[0])}, last {secs(chunk_t[-1])}"
            if len(chunk_t) > 1
            else "one call"
        )
        res.add(
            sec,
            f"ingest {n - done} profiles (save_profiles)",
            secs(t_ingest),
            "",
            "",
            "",
            f"{calls}; HashingEncoder(512), {encoded} texts, encode {secs(enc_s)}, "
            f"rest {secs(t_ingest - enc_s)}; index layout={layout}",
        )
        done = n
        # What the service does at startup: load the saved indexes and bring every derived
        # structure in step with the database; matching is then measured on that state.
        log(f"engine: reconcile at {n}")
        t0 = time.perf_counter()
        summary = engine.reconcile()
        t_rec = time.perf_counter() - t0
        res.add(
            sec,
            "reconcile (startup path, saved index)",
            secs(t_rec),
            "",
            "",
            "",
            ", ".join(f"{k}={v}" for k, v in summary.items()),
        )
        per: dict[str, Any] = {"ingest_s": t_ingest, "reconcile_s": t_rec, "layout": layout}
        if history_per_1k > 0:
            per["history"] = add_history(engine, sessions, n, prev, history_per_1k, res, sec)
        prev = n
        records = list(engine.records.values())
        all_t: list[float] = []
        for purpose in PURPOSES:
            sample = rng.sample(records, min(per_purpose, len(records)))
            for r in sample[:3]:
                engine.matches_for(r, cast(Purpose, purpose))
            times: list[float] = []
            counts: list[int] = []
            deadline = time.perf_counter() + budget_s
            for r in sample:
                t0 = time.perf_counter()
                out = engine.matches_for(r, cast(Purpose, purpose))
                times.append(time.perf_counter() - t0)
                counts.append(len(out))
                if len(times) >= 20 and time.perf_counter() > deadline:
                    break
            p50, p99 = pct(times)
            all_t += times
            capped = len(times) < len(sample)
            res.add(
                sec,
                f"matches_for {purpose} p50/p99",
                f"{ms(p50)} / {ms(p99)}",
                "",
                "",
                "",
                f"{len(times)} queries{' (time budget hit)' if capped else ''}, "
                f"mean {np.mean(times) * 1e3:.1f} ms, {np.mean(counts):.1f} results",
            )
            per[purpose] = {"p50_ms": p50, "p99_ms": p99, "n": len(times), "capped": capped}
        p50, p99 = pct(all_t)
        res.add(sec, "matches_for all purposes p50/p99", f"{ms(p50)} / {ms(p99)}")
        per["all_p50_ms"], per["all_p99_ms"] = p50, p99
        res.data["engine"]["sizes"][str(n)] = per
    if engine.dirty:
        engine.save()
    from service.auth import create_key
    from service.store.db import transaction

    with transaction(sessions) as s:
        _, key = create_key(s, "admin", name="bench")
    db.dispose()
    return {"key": key, "n": n_max, "settings": settings}


# =========================================================================== 5 API


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _children(pid: int) -> list[int]:
    out: list[int] = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _tree_mib(pid: int, field_name: str) -> float | None:
    """`_proc_mib` summed over a process and its descendants (uvicorn's workers)."""
    total = 0.0
    seen = False
    todo = [pid]
    while todo:
        p = todo.pop()
        v = _proc_mib(p, field_name)
        if v is not None:
            total += v
            seen = True
        todo += _children(p)
    return total if seen else None


def _proc_mib(pid: int, field_name: str) -> float | None:
    """VmHWM (peak RSS) or VmRSS of a process, in MiB."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) / 1024
    return None


def serve_command(helper: Path, data_dir: Path, port: int, workers: int) -> list[str]:
    """The command line of the benchmark server (`_bench_util.py serve`)."""
    return [
        sys.executable,
        str(helper),
        "serve",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]


def bench_api(args: argparse.Namespace, prepared: dict[str, Any], work: Path, res: Results) -> None:
    import httpx

    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    data_dir = prepared["settings"].data_dir
    server_log = work / "server.log"
    helper = str(Path(__file__).resolve().with_name("_bench_util.py"))
    log(f"api: starting uvicorn on {url}")
    with server_log.open("wb") as logf:
        t0 = time.perf_counter()
        server = subprocess.Popen(
            serve_command(Path(helper), data_dir, port, args.workers),
            stdout=logf,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            ready_s = _wait_ready(server, url, t0, args.ready_timeout)
            rss_ready = _tree_mib(server.pid, "VmRSS")
            hwm_ready = _tree_mib(server.pid, "VmHWM")
            log(f"api: ready after {ready_s:.1f}s")
            env = {**os.environ, KEY_ENV: prepared["key"]}

            def drive(requests: int, concurrency: int, budget_s: float, name: str) -> Any:
                out_file = work / f"client-{name}.json"
                cmd = [
                    sys.executable,
                    helper,
                    "client",
                    "--url",
                    url,
                    "--profiles",
                    str(prepared["n"]),
                    "--requests",
                    str(requests),
                    "--concurrency",
                    str(concurrency),
                    "--budget-s",
                    str(budget_s),
                    "--out",
                    str(out_file),
                    *(["--fresh"] if args.fresh_connections else []),
                ]
                done = subprocess.run(cmd, env=env, timeout=args.client_timeout, check=False)
                if done.returncode != 0:
                    raise RuntimeError(f"the client failed with exit status {done.returncode}")
                return json.loads(out_file.read_text())

            # Same-run baseline: one request at a time (service time, no queueing).
            n_seq = max(20, min(200, args.requests // 10))
            log(f"api: {n_seq} sequential requests")
            seq = drive(n_seq, 1, min(60.0, args.api_budget_s), "sequential")
            log(f"api: {args.requests} requests at concurrency {args.concurrency}")
            got = drive(args.requests, args.concurrency, args.api_budget_s, "concurrent")
            sweep: dict[int, Any] = {}
            for level in args.sweep_list:
                log(f"api: {args.requests} requests at concurrency {level} (sweep)")
                sweep[level] = drive(args.requests, level, args.api_budget_s, f"sweep-{level}")
            server_hwm = _tree_mib(server.pid, "VmHWM")
            with httpx.Client(timeout=10) as c:
                metrics_ok = c.get(url + "/healthz").status_code == 200
        finally:
            _stop(server)
    lat = got["latencies_s"]
    p50, p99 = pct(lat) if lat else (float("nan"), float("nan"))
    n = prepared["n"]
    sec = f"5 API {n // 1000}k"
    res.add(
        sec,
        "startup to /readyz 200",
        secs(ready_s),
        "",
        "",
        "",
        "process start + reconcile from the saved index",
    )
    res.add(
        sec,
        "GET /v1/profiles/{id}/matches p50/p99",
        f"{ms(p50)} / {ms(p99)}",
        "",
        "",
        "p99 <= 50 ms",
        f"{len(lat)} of {got['planned']} requests"
        + (f" (time cap {args.api_budget_s:.0f} s hit)" if got["capped"] else "")
        + f", concurrency {args.concurrency}, {args.workers} worker(s)"
        + (", a connection per request" if args.fresh_connections else "")
        + ", random profiles x purposes",
    )
    res.add(
        sec,
        "  throughput",
        f"{got['rps']:.1f} req/s",
        f"{seq['rps']:.1f} req/s sequential",
        ratio(got["rps"], seq["rps"]),
        "",
        f"wall {secs(got['wall_s'])}; client in its own process on the same 2 cores, "
        f"{got.get('cpu_ms_per_request', float('nan')):.1f} ms of CPU per request",
    )
    for level, run in sweep.items():
        l50, l99 = pct(run["latencies_s"]) if run["latencies_s"] else (float("nan"),) * 2
        res.add(
            sec,
            f"  concurrency {level} p50/p99",
            f"{ms(l50)} / {ms(l99)}",
            "",
            "",
            "p99 <= 50 ms",
            f"{run['rps']:.1f} req/s, {len(run['latencies_s'])} requests, errors {run['errors']}",
        )
    s50, s99 = pct(seq["latencies_s"]) if seq["latencies_s"] else (float("nan"),) * 2
    eng = res.data.get("engine", {}).get("sizes", {}).get(str(n), {})
    inproc = eng.get("all_p50_ms")
    res.add(
        sec,
        "  sequential (concurrency 1) p50/p99",
        f"{ms(s50)} / {ms(s99)}",
        f"{ms(inproc)} in-process matches_for p50" if inproc else "",
        ratio(s50, inproc) if inproc else "",
        "",
        f"{len(seq['latencies_s'])} requests, errors {seq['errors']}; the ratio is the HTTP, "
        "auth and rendering cost on top of matching",
    )
    res.add(
        sec,
        "  errors",
        str(got["errors"] + seq["errors"]),
        "",
        "",
        "0",
        json.dumps(got["statuses"]) + ("" if metrics_ok else " (server unhealthy at end)"),
    )
    res.add(
        "6 memory",
        "peak RSS, API server process",
        f"{server_hwm:.0f} MiB" if server_hwm else "n/a",
        "",
        "",
        "",
        f"{n} profiles (VmHWM); when ready: RSS {rss_ready or 0:.0f} MiB, "
        f"peak {hwm_ready or 0:.0f} MiB (startup)",
    )
    res.add("6 memory", "peak RSS, HTTP client process", f"{got['maxrss_mib']:.0f} MiB")
    res.data["api"] = {
        "ready_s": ready_s,
        "p50_ms": p50,
        "p99_ms": p99,
        "rps": got["rps"],
        "errors": got["errors"],
        "statuses": got["statuses"],
        "sequential": {
            "p50_ms": s50,
            "p99_ms": s99,
            "rps": seq["rps"],
            "errors": seq["errors"],
            "requests": len(seq["latencies_s"]),
        },
        "requests": len(lat),
        "concurrency": args.concurrency,
        "workers": args.workers,
        "fresh_connections": args.fresh_connections,
        "sweep": {
            str(level): {
                "p50_ms": pct(run["latencies_s"])[0] if run["latencies_s"] else None,
                "p99_ms": pct(run["latencies_s"])[1] if run["latencies_s"] else None,
                "rps": run["rps"],
                "errors": run["errors"],
            }
            for level, run in sweep.items()
        },
        "server_peak_rss_mib": server_hwm,
        "server_rss_ready_mib": rss_ready,
        "server_peak_rss_ready_mib": hwm_ready,
        "client_peak_rss_mib": got["maxrss_mib"],
        "client_cpu_ms_per_request": got.get("cpu_ms_per_request"),
    }


def _wait_ready(server: subprocess.Popen[bytes], url: str, t0: float, timeout: float) -> float:
    import httpx

    deadline = time.monotonic() + timeout
    last_note = 0.0
    in_a_row = 0
    # A new connection per probe, so that every worker gets asked: ready means 20 in a row.
    with httpx.Client(timeout=5, headers={"Connection": "close"}) as client:
        while time.monotonic() < deadline:
            if server.poll() is not None:
                raise RuntimeError(f"the server exited with status {server.returncode}")
            ok = False
            with contextlib.suppress(httpx.HTTPError):
                ok = client.get(url + "/readyz").status_code == 200
            in_a_row = in_a_row + 1 if ok else 0
            if in_a_row >= 20:
                return time.perf_counter() - t0
            if ok:
                continue
            if time.monotonic() - last_note > 15:
                last_note = time.monotonic()
                log("api: waiting for /readyz")
            time.sleep(0.25)
    raise RuntimeError(f"the server was not ready within {timeout:.0f}s")


def _stop(server: subprocess.Popen[bytes]) -> None:
    """SIGINT (uvicorn's graceful stop), then SIGKILL; only this child's process group."""
    if server.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        server.send_signal(signal.SIGINT)
    try:
        server.wait(timeout=60)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
    log(f"api: server stopped (exit status {server.returncode})")


# =========================================================================== main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument(
        "--sizes",
        default="10000,100000",
        help="index / engine sizes, comma-separated (default 10000,100000)",
    )
    p.add_argument(
        "--encode-n",
        type=int,
        default=10_000,
        help="profiles for the real-model encode and re-import steps",
    )
    p.add_argument(
        "--encode-slices", type=int, default=5, help="import slices in step 1 (interleaved)"
    )
    p.add_argument("--skip-encode", action="store_true", help="skip steps 1-2 (no real model)")
    p.add_argument("--skip-api", action="store_true", help="skip step 5 (HTTP)")
    p.add_argument("--requests", type=int, default=2000, help="HTTP requests (step 5)")
    p.add_argument("--concurrency", type=int, default=8, help="concurrent HTTP requests")
    p.add_argument(
        "--history-per-1k",
        type=int,
        default=100,
        help="synthetic projects per 1,000 profiles in steps 4-5, with the re-ranker "
        "trained on them (0: no history, the hand-weighted ranking)",
    )
    p.add_argument(
        "--fresh-connections",
        action="store_true",
        help="the client opens a connection per request (spreads load over --workers)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="API server worker processes (each holds the index; they stay in step "
        "through the change feed)",
    )
    p.add_argument(
        "--sweep",
        default="2,4",
        help="further concurrency levels measured after the main run (comma-separated; '' "
        "for none): latency under load depends on how many requests share the 2 cores",
    )
    p.add_argument("--queries", type=int, default=300, help="search queries per case (step 3)")
    p.add_argument(
        "--match-queries",
        type=int,
        default=200,
        help="matches_for calls per purpose and size (step 4)",
    )
    p.add_argument(
        "--ingest-chunk",
        type=int,
        default=10_000,
        help="profiles per save_profiles call in step 4 (0: one call per size)",
    )
    p.add_argument(
        "--match-budget-s",
        type=float,
        default=30,
        help="time cap per purpose and size in step 4 (at least 20 calls are made)",
    )
    p.add_argument(
        "--api-budget-s",
        type=float,
        default=180,
        help="time cap of the HTTP load in step 5 (the request count is reported)",
    )
    p.add_argument("--json-out", type=Path, help="also write all figures as JSON here")
    p.add_argument(
        "--workdir",
        type=Path,
        help="working directory (kept); default: a temp dir removed at the end",
    )
    p.add_argument("--ready-timeout", type=float, default=600, help=argparse.SUPPRESS)
    p.add_argument("--client-timeout", type=float, default=1200, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    try:
        args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    except ValueError:
        p.error("--sizes takes comma-separated integers")
    if not args.size_list or min(args.size_list) < 100:
        p.error("--sizes needs sizes of at least 100")
    try:
        args.sweep_list = [int(v) for v in args.sweep.split(",") if v.strip()]
    except ValueError:
        p.error("--sweep takes comma-separated integers")
    if any(not 1 <= v <= 256 for v in args.sweep_list):
        p.error("--sweep levels must be within 1..256")
    if args.requests < 1 or not 1 <= args.concurrency <= 256:
        p.error("--requests must be >= 1 and --concurrency within 1..256")
    if args.encode_n < 10:
        p.error("--encode-n must be at least 10")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    work = args.workdir or Path(tempfile.mkdtemp(prefix="bench_core-"))
    work.mkdir(parents=True, exist_ok=True)
    res = Results()
    info = machine_info()
    res.data["machine"] = info
    res.data["args"] = {k: str(v) for k, v in vars(args).items()}
    started = time.perf_counter()
    log(f"bench_core: work dir {work}; sizes {args.size_list}")
    memory: list[tuple[str, float]] = []
    try:
        base: FloatArray | None = None
        if not args.skip_encode:
            base = bench_encode(args, work, res)
            memory.append(("after encode + re-import (real model loaded)", maxrss_mib()))
        if base is not None:
            source = (
                f"real-model (USE v3) vectors of {base.shape[0]} profiles, "
                "tiled with noise (cos ~0.9) beyond that"
            )
        else:
            n_base = min(10_000, max(args.size_list))
            log(f"index: HashingEncoder(512) vectors of {n_base} profiles")
            prof = make_profiles(n_base, seed=SEED + 3)
            base = HashingEncoder(dim=512).encode([facet_texts(p)["all"] for p in prof])
            source = (
                f"HashingEncoder(512) vectors of {n_base} profiles' overall texts, "
                "tiled with noise (cos ~0.9) beyond that"
            )
        bench_index(args.size_list, base, source, res, args.queries)
        del base
        memory.append(("after index step", maxrss_mib()))
        prepared = bench_engine(
            args.size_list,
            work / "api-data",
            res,
            args.match_queries,
            args.match_budget_s,
            args.ingest_chunk,
            args.history_per_1k,
        )
        memory.append(("after engine step", maxrss_mib()))
        if not args.skip_api:
            bench_api(args, prepared, work, res)
    finally:
        if args.workdir is None:
            shutil.rmtree(work, ignore_errors=True)
    for label, mib in memory:
        res.add("6 memory", f"peak RSS, benchmark process, {label}", f"{mib:.0f} MiB")
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    total = time.perf_counter() - started
    res.data["memory"] = dict(memory)
    res.data["total_s"] = total

    print("ClusterMatch core benchmark (issue 2)")
    print(
        f"machine: {info['cores']} cores ({info['usable_cores']} usable), {info['cpu']}; "
        f"python {info['python']}, faiss {info['faiss']} ({info['faiss_omp_threads']} OMP "
        f"threads), torch {info['torch']}, sentence-transformers "
        f"{info['sentence_transformers']}, numpy {info['numpy']}"
    )
    print(
        f"load average at start {info['loadavg_start']}, at end {info['loadavg_end']}: the "
        "machine is shared, so absolute times are noisy - the ratios against the same-run "
        "baselines are what matter."
    )
    print(
        f"step 3 vectors: {res.data['index']['vectors']}; raw FAISS baselines run on one "
        "OpenMP thread like VectorIndex's single-query search, and build their per-query "
        "selector (IDSelectorBatch) inside the timed region as VectorIndex builds its bitmap."
    )
    print(
        "steps 4-5: profiles ingested through save_profiles with HashingEncoder(dim=512) (a "
        "fast stand-in for the real model, same dim) so that 100k profiles ingest in "
        f"minutes, {args.ingest_chunk or 'all'} profiles per call; matching and the API run "
        "on the state the service reconciles at startup."
    )
    print()
    print(res.render())
    print()
    print(f"total {total / 60:.1f} min")
    if args.json_out:
        args.json_out.write_text(json.dumps(res.data, indent=2, default=str))
        print(f"figures written to {args.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
