"""The merge rules (models.merge): which key finds the same organization, the vetoes, and
what a merged profile keeps."""

from __future__ import annotations

from models.merge import MergeIndex, domain_of, merge_into, name_key
from models.profile import Profile


def _p(pid: str, name: str, **fields: object) -> Profile:
    return Profile.model_validate({"id": pid, "name": name, "kind": "firm", **fields})


def test_name_key_drops_legal_forms_width_and_spaces() -> None:
    assert (
        name_key("株式会社　サカタのタネ")
        == name_key("サカタのタネ")
        == name_key("（株）サカタのタネ")
    )
    assert name_key("KANEKO SEEDS CO., LTD.") == name_key("Kaneko Seeds") == "kanekoseeds"
    assert name_key("ＡＢＣ Corporation") == "abc"


def test_domain_of_ignores_www_and_shared_hosts() -> None:
    assert domain_of("https://www.Toyota.co.jp/jpn/") == "toyota.co.jp"
    assert domain_of("sites.google.com/view/firm") is None
    assert domain_of("someone.github.io") is None
    assert domain_of("localhost") is None and domain_of(None) is None


def test_keys_in_order_and_the_vetoes() -> None:
    index = MergeIndex()
    edinet = _p(
        "edinet:E1",
        "株式会社デモ",
        country="JP",
        registry={"corporate_number": "1234567890123", "securities_code": "7203"},
    )
    index.add(edinet)
    jpx = _p("jpx:7203", "デモ", country="JP", registry={"securities_code": "7203"})
    found = index.find(jpx)
    assert found is not None and (found.id, found.key) == ("edinet:E1", "securities_code")
    assert index.find(_p("edinet:E1", "x")).key == "id"  # type: ignore[union-attr]
    member = _p("m-1", "デモ株式会社", country="JP")
    assert index.find(member).key == "name"  # type: ignore[union-attr]
    assert index.find(_p("m-2", "デモ", country="KR")) is None  # another country
    other = _p("m-3", "デモ", country="JP", registry={"corporate_number": "9999999999999"})
    assert index.find(other) is None  # another legal entity: the name does not merge it
    index.add(_p("m-4", "Web firm", website="https://www.web.example/"))
    same_site = index.find(_p("m-5", "Other name", website="http://web.example"))
    assert same_site is not None and same_site.key == "domain"
    # a list's own domains decide, not its (possibly wrong) web page
    uni = _p("uni:b.ac.jp", "B", website="https://web.example/", registry={"domains": "b.ac.jp"})
    assert index.find(uni) is None


def test_merge_fills_gaps_and_never_overwrites() -> None:
    office = _p(
        "m-1",
        "デモ精工",
        country="JP",
        description="精密歯車",
        offers=["歯車"],
        industries=["機械"],
        contact="a@b.example",
        registry={"sources": "jpx", "market": "プライム", "securities_code": "7203"},
    )
    edinet = _p(
        "edinet:E1",
        "株式会社デモ精工",
        name_en="DEMO SEIKO",
        country="JP",
        region="愛知県",
        description="other",
        industries=["機械", "Machinery"],
        registry={
            "sources": "edinet",
            "edinet_code": "E1",
            "market": "x",
            "corporate_number": "1234567890123",
        },
    )
    merged = merge_into(office, edinet, owned=("edinet_code",))
    assert merged.id == "m-1" and merged.name == "デモ精工" and merged.description == "精密歯車"
    assert merged.name_en == "DEMO SEIKO" and merged.region == "愛知県"
    assert merged.industries == ["機械", "Machinery"] and merged.offers == ["歯車"]
    assert merged.contact == "a@b.example"
    assert merged.registry["market"] == "プライム"  # not EDINET's key: kept
    assert merged.registry["corporate_number"] == "1234567890123"
    assert merged.registry["sources"] == "edinet jpx"
    # the owner of a key refreshes it; merging the same again changes nothing
    again = merge_into(
        merged,
        edinet.model_copy(update={"registry": {**edinet.registry, "edinet_code": "E2"}}),
        owned=("edinet_code",),
    )
    assert again.registry["edinet_code"] == "E2"
    assert merge_into(again, edinet, owned=()) == again
