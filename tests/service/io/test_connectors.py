"""The connectors on small hand-made lists: the EDINET banner line and cp932, English and
Japanese headers, bad rows (row number and reason), skipped rows, JPX funds and share
classes, and the university JSON read in small chunks."""

from __future__ import annotations

import io
import json

import pytest

from service.io.connectors import edinet, read, universities
from service.io.connectors.japan import BUREAU_PREFECTURE, prefecture_of
from service.io.imports import ImportFormatError

EDINET_HEADER = (
    "EDINET Code,Type of Submitter,Listed company / Unlisted company,"
    "Consolidated / NonConsolidated,"
    "Capital stock,account closing date,Submitter Name,Submitter Name（alphabetic）,"
    "Submitter Name（phonetic）,Province,Submitter's industry,Securities Identification Code,"
    "Submitter's Japan Corporate Number"
)


def _edinet(
    *rows: str, banner: str = "Date of download data creation,As Of 2026.04.10,Number of data,{n}"
) -> bytes:
    lines = [banner.format(n=len(rows)), EDINET_HEADER, *rows] if banner else [EDINET_HEADER, *rows]
    return ("\r\n".join(lines) + "\r\n").encode("cp932")


GOOD = (
    '"E00004","内国法人・組合","Listed company","Consolidated","1491","5.31","カネコ種苗株式会社",'
    '"KANEKO SEEDS CO., LTD.","カネコシュビョウ","前橋市古市町一丁目５０番地１２",'
    '"Fishery, Agriculture & Forestry","13760","5070001000715"'
)


def test_edinet_banner_line_cp932_and_row_numbers() -> None:
    person = '"E99999","個人（組合発行者を除く）","","","","","山田太郎","","","","","",""'
    bad_code = GOOD.replace('"E00004"', '"X1"')
    short = '"E00005","内国法人・組合","Listed company"'
    bad_number = GOOD.replace('"E00004"', '"E00006"').replace("5070001000715", "50700")
    warnings: list[str] = []
    rows = list(
        read(
            "edinet",
            io.BytesIO(_edinet(GOOD, person, bad_code, short, bad_number)),
            warnings=warnings,
        )
    )
    assert [r.row for r in rows] == [3, 4, 5, 6, 7]  # banner line 1, header line 2
    assert warnings == []
    first = rows[0].profile
    assert first is not None and first.name == "カネコ種苗株式会社" and first.region == "群馬県"
    assert first.registry["securities_code"] == "1376"
    assert rows[1].profile is None and rows[1].skipped and "individual" in rows[1].skipped
    assert [(e.row, e.field) for e in rows[2].errors] == [(5, "edinet_code")]
    assert rows[3].errors[0].reason == "has 3 cells; the header has 13"
    assert [(e.row, e.field) for e in rows[4].errors] == [(7, "corporate_number")]


def test_edinet_without_banner_utf8_and_a_banner_that_miscounts() -> None:
    data = _edinet(GOOD, banner="").decode("cp932").encode("utf-8")
    (row,) = read("edinet", io.BytesIO(data))
    assert row.profile is not None and row.profile.name_en == "KANEKO SEEDS CO., LTD."
    warnings: list[str] = []
    wrong = _edinet(GOOD, banner="Date of download data creation,As Of 2026.04.10,Number of data,5")
    list(read("edinet", io.BytesIO(wrong), warnings=warnings))
    assert warnings == ["the banner line says 5 rows; the file has 1"]


def test_edinet_japanese_headers_and_industry_names() -> None:
    header = (
        "ＥＤＩＮＥＴコード,提出者種別,上場区分,連結の有無,資本金,決算日,提出者名,提出者名（英字）,"
        "提出者名（ヨミ）,所在地,提出者業種,証券コード,提出者法人番号"
    )
    row = (
        '"E00008","内国法人・組合","上場","有","5500","3月31日","ホクト株式会社",'
        '"HOKUTO CORPORATION","","長野市南堀１３８番地１","水産・農林業","13790","6100001003151"'
    )
    data = (
        "ダウンロード実行日,2026年04月10日現在,件数,1件\r\n" + header + "\r\n" + row + "\r\n"
    ).encode("cp932")
    (got,) = read("edinet", io.BytesIO(data))
    assert got.profile is not None
    assert got.profile.industries == ["水産・農林業", "Fishery, Agriculture & Forestry"]
    assert got.profile.registry["listed"] == "listed" and got.profile.region == "長野県"


def test_edinet_foreign_filers_and_a_file_that_is_not_the_list() -> None:
    foreign = GOOD.replace("内国法人・組合", "外国法人・組合").replace(
        "前橋市古市町一丁目５０番地１２", "大韓民国ソウル特別市"
    )
    (row,) = read("edinet", io.BytesIO(_edinet(foreign)))
    assert row.profile is not None and row.profile.country == "KR" and row.profile.region is None
    with pytest.raises(ImportFormatError, match="missing column"):
        list(read("edinet", io.BytesIO(b"id,name\r\nx,y\r\n")))
    with pytest.raises(ImportFormatError, match="decode"):
        list(read("edinet", io.BytesIO(_edinet(GOOD)), encoding="utf-8"))


def test_prefecture_from_address_wards_cities_and_the_corporate_number() -> None:
    assert prefecture_of("千代田区大手町一丁目３番２号") == ("東京都", "address")
    assert prefecture_of("大阪市中央区本町") == ("大阪府", "address")
    assert prefecture_of("東大阪市東山町１０番２５号") == ("大阪府", "address")
    assert prefecture_of("北海道札幌市") == ("北海道", "address")
    # a county town not in the table: the registry office that gave the corporate number
    assert prefecture_of("上川郡東神楽町１４号北１番地", "9450001002677") == (
        "北海道",
        "corporate_number",
    )
    assert prefecture_of("上川郡東神楽町") == (None, "")
    assert len(set(BUREAU_PREFECTURE.values())) == 47


JPX = (
    "日付,コード,銘柄名,市場・商品区分,33業種コード,33業種区分,17業種コード,17業種区分,規模コード,規模区分\n"
    "20260131,1301,極洋,プライム（内国株式）,50,水産・農林業,1,食品,6,TOPIX Small 1\n"
    "20260131,1305,ｉＦｒｅｅＥＴＦ,ETF・ETN,-,-,-,-,-,-\n"
    "20260131,25935,伊藤園第１種優先株式,プライム（内国株式）,3050,食料品,1,食品,-,-\n"
    "20260131,130A,ベリテ,グロース（内国株式）,7050,銀行業,15,銀行,-,-\n"
    "20260131,12,短い,プライム（内国株式）,50,水産・農林業,1,食品,6,TOPIX Small 1\n"
    "20260131,1400,外国社,スタンダード（外国株式）,9999,謎,1,食品,6,-\n"
)


@pytest.mark.parametrize("encoding", ["utf-8", "cp932"])
def test_jpx_rows_funds_share_classes_and_bad_codes(encoding: str) -> None:
    rows = list(read("jpx", io.BytesIO(JPX.encode(encoding))))
    assert [r.row for r in rows] == [2, 3, 4, 5, 6, 7]
    kyokuyo = rows[0].profile
    assert kyokuyo is not None and kyokuyo.id == "jpx:1301" and kyokuyo.country == "JP"
    assert kyokuyo.industries == ["水産・農林業", "Fishery, Agriculture & Forestry"]
    assert kyokuyo.registry["market"] == "プライム（内国株式）"
    assert rows[1].skipped and "fund" in rows[1].skipped
    assert rows[2].skipped and "class of shares of 2593" in rows[2].skipped
    bank = rows[3].profile
    assert bank is not None and bank.id == "jpx:130A" and bank.kind == "financial_institution"
    assert [(e.row, e.field) for e in rows[4].errors] == [(6, "code")]
    assert [(e.row, e.field) for e in rows[5].errors] == [(7, "33業種コード")]


UNIS = [
    {
        "name": "Aichi Shukutoku University",
        "alpha_two_code": "JP",
        "country": "Japan",
        "domains": ["aasa.ac.jp"],
        "web_pages": ["http://www.aasa.ac.jp/"],
        "state-province": None,
    },
    {
        "name": "Politecnico di Milano",
        "alpha_two_code": "IT",
        "country": "Italy",
        "domains": ["polimi.it", "mail.polimi.it"],
        "web_pages": [],
        "state-province": "Lombardia",
    },
    {"name": "", "alpha_two_code": "XX", "domains": [], "web_pages": []},
    ["not", "an", "object"],
    {"name": "Nowhere U", "alpha_two_code": "ZZ", "domains": ["nowhere.example"], "web_pages": []},
]


def test_universities_streamed_in_small_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(universities, "CHUNK", 7)  # objects cut at every place
    data = json.dumps(UNIS, ensure_ascii=False, indent=1).encode()
    rows = list(read("universities", io.BytesIO(data)))
    assert [r.row for r in rows] == [1, 2, 3, 4, 5]
    aichi, milano = rows[0].profile, rows[1].profile
    assert aichi is not None and (aichi.id, aichi.country, aichi.website) == (
        "uni:aasa.ac.jp",
        "JP",
        "http://www.aasa.ac.jp/",
    )
    assert milano is not None and milano.website == "https://polimi.it/"
    assert milano.registry["domains"] == "polimi.it mail.polimi.it" and milano.region == "Lombardia"
    assert {e.field for e in rows[2].errors} == {"domains", "name"}
    assert rows[3].errors[0].reason == "not a JSON object"
    assert [e.field for e in rows[4].errors] == ["alpha_two_code"]


@pytest.mark.parametrize(
    ("text", "reason"),
    [("{}", "not a JSON array"), ('[{"a": 1} {"b": 2}]', "expected ','"), ('[{"a": ', "element 1")],
)
def test_universities_broken_json(text: str, reason: str) -> None:
    with pytest.raises(ImportFormatError, match=reason):
        list(read("universities", io.BytesIO(text.encode())))


def test_edinet_owned_keys_are_declared() -> None:
    assert "edinet_code" in edinet.OWNED and "corporate_number" not in edinet.OWNED


@pytest.mark.parametrize("data", [b"\x89PNG\r\n\x1a\n\x00\x00", b'[{"name": "\xff\xfe"}]'])
def test_universities_a_file_that_is_not_utf8_is_a_format_error(data: bytes) -> None:
    """The schema fuzz run's find: a PNG sent as the university list was a 500."""
    with pytest.raises(ImportFormatError, match="cannot decode"):
        list(read("universities", io.BytesIO(data)))
