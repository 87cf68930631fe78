"""The connectors on the real published lists in ../shared/data (skipped with a reason
where they are absent; a failure under CLUSTERMATCH_REQUIRE_SHARED): counts, encodings,
names in both languages, prefectures, EDINET ∩ JPX merged by securities code, and a dry
run that writes nothing. The profiles are stored in a real database and indexed with the
hashing encoder."""

from __future__ import annotations

import collections
from pathlib import Path

from service.connectors.service import ConnectorReport, import_path
from service.io.connectors import read
from service.store import profiles
from service.store.db import transaction
from tests.support.app import Api
from tests.support.env import need_shared


def _edinet() -> Path:
    return need_shared("data", "japan", "EdinetcodeDlInfo.csv")


def _jpx() -> Path:
    return need_shared("data", "japan", "data_j.csv")


def _universities() -> Path:
    return need_shared("data", "universities", "world_universities_and_domains.json")


def _import(api: Api, source: str, path: Path, **options: object) -> ConnectorReport:
    state = api.app.state
    engine = None if options.get("dry_run") else state.engine
    return import_path(engine, state.sessions, source, lambda: path.open("rb"), **options)


def _stored(api: Api, pid: str) -> dict:
    with transaction(api.app.state.sessions) as s:
        row = profiles.get(s, pid)
        assert row is not None, pid
        return dict(row.data)


def _count(api: Api) -> int:
    with transaction(api.app.state.sessions) as s:
        return profiles.count(s)


def test_edinet_as_published_cp932_with_its_banner() -> None:
    path = _edinet()
    assert path.read_bytes()[:200].decode("cp932").startswith("Date of download data creation")
    warnings: list[str] = []
    with path.open("rb") as f:
        rows = list(read("edinet", f, warnings=warnings))
    assert warnings == []  # the banner's "Number of data" agrees with the rows read
    assert len(rows) == 11_245 and rows[0].row == 3  # banner line 1, header line 2
    kinds = collections.Counter("ok" if r.profile else "skip" if r.skipped else "bad" for r in rows)
    assert kinds == {"ok": 8_037, "skip": 3_208}  # individual filers are never stored
    first = rows[0].profile
    assert first is not None
    assert (first.id, first.name, first.name_en) == (
        "edinet:E00004",
        "カネコ種苗株式会社",
        "KANEKO SEEDS CO., LTD.",
    )
    assert first.region == "群馬県" and first.country == "JP"  # 前橋市... → Gunma
    assert first.industries == ["水産・農林業", "Fishery, Agriculture & Forestry"]
    assert first.registry["corporate_number"] == "5070001000715"
    assert first.registry["securities_code"] == "1376" and first.registry["listed"] == "listed"
    made = [r.profile for r in rows if r.profile]
    regions = collections.Counter(p.region for p in made)
    assert regions["東京都"] > 3_500 and regions["大阪府"] > 500
    assert sum(1 for p in made if p.region) > 7_000
    assert sum(1 for p in made if p.name_en) > 4_000  # every listed firm has one


def test_jpx_list_industries_and_markets() -> None:
    with _jpx().open("rb") as f:
        rows = list(read("jpx", f))
    assert len(rows) == 4_435
    made = {r.profile.id: r.profile for r in rows if r.profile}
    skipped = collections.Counter(r.skipped.split(" (")[0] for r in rows if r.skipped)
    assert len(made) == 3_933 and sum(skipped.values()) == 502
    assert not [r for r in rows if r.errors]
    toyota = made["jpx:7203"]
    assert toyota.name == "トヨタ自動車" and toyota.registry["market"] == "プライム（内国株式）"
    assert toyota.industries == ["輸送用機器", "Transportation Equipments"]
    assert toyota.registry["industry_33"] == "3700"


def test_universities_list() -> None:
    with _universities().open("rb") as f:
        rows = list(read("universities", f))
    assert len(rows) == 10_251 and all(r.profile for r in rows)
    made = [r.profile for r in rows if r.profile]
    assert sum(1 for p in made if p.country == "JP") == 572
    assert all(p.kind == "university" and p.website for p in made)


def test_edinet_then_jpx_merge_by_securities_code_and_dry_run_writes_nothing(api: Api) -> None:
    dry = _import(api, "edinet", _edinet(), dry_run=True)
    assert dry.dry_run and dry.created == dry.profiles == 8_028 and _count(api) == 0

    edinet = _import(api, "edinet", _edinet())
    assert edinet.created == 8_028 and edinet.merged == 9  # one firm filed under two codes
    assert _count(api) == 8_028

    plan = _import(api, "jpx", _jpx(), dry_run=True)
    assert _count(api) == 8_028  # the dry run wrote nothing
    assert plan.merged_by.get("securities_code", 0) > 3_600
    toyota = next(m for m in plan.merges if m["id"] == "jpx:7203")
    assert toyota["key"] == "securities_code" and toyota["into"].startswith("edinet:")

    jpx = _import(api, "jpx", _jpx())
    assert (jpx.merged, jpx.created) == (plan.merged, plan.created)
    assert _count(api) == 8_028 + jpx.created
    merged = _stored(api, toyota["into"])
    assert merged["name"] == "トヨタ自動車株式会社"  # EDINET's legal name is kept
    assert merged["name_en"] == "TOYOTA MOTOR CORPORATION"
    assert merged["region"] == "愛知県"
    assert merged["registry"]["market"] == "プライム（内国株式）"  # filled from JPX
    assert merged["registry"]["sources"] == "edinet jpx"

    again = _import(api, "jpx", _jpx())  # a list imported again changes nothing
    assert again.created == again.updated == 0 and again.unchanged == jpx.profiles


def test_universities_import_counts(api: Api) -> None:
    report = _import(api, "universities", _universities())
    assert report.rows == 10_251
    assert report.merged_by["id"] == 2  # two universities listed twice under one domain
    assert report.created == report.rows - report.merged == _count(api)
    # The list gives IIIT Guwahati (iiitg.ac.in) IIM Tiruchirappalli's web page: its own
    # domain decides, so the two stay apart.
    assert not [m for m in report.merges if m["id"] == "uni:iiitg.ac.in"]
    assert _stored(api, "uni:kyunghee.ac.kr")["registry"]["domains"] == "kyunghee.ac.kr khu.ac.kr"
