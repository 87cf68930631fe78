"""Japanese reference tables the connectors need: prefectures, the TSE 33 industries in
Japanese and English, and where a head office is from an EDINET address.

EDINET's address column (所在地) leaves the prefecture out ("前橋市古市町一丁目５０番地１２").
`prefecture_of` reads it, in this order:
  1. an address that starts with a prefecture (北海道, 東京都, 大阪府, 群馬県 ...);
  2. an address that starts with one of Tokyo's 23 special wards (千代田区 ...): 東京都;
  3. an address that starts with a city of the table below (designated cities, the
     prefectural capitals and the other cities where many listed firms have their head
     office; only names that are unique in Japan);
  4. otherwise the corporate number: its digits 2-5 are the code of the registry office
     (登記所) that gave it, whose first two digits name a legal affairs bureau, one per
     prefecture (four in Hokkaido). That is the prefecture where the firm was first
     registered, which is its head office's unless it moved: the profile's
     `registry.region_from` says "corporate_number" so the guess is visible.
"""

from __future__ import annotations

import re

PREFECTURES: tuple[str, ...] = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)

_TOKYO_WARDS = (
    "千代田区",
    "中央区",
    "港区",
    "新宿区",
    "文京区",
    "台東区",
    "墨田区",
    "江東区",
    "品川区",
    "目黒区",
    "大田区",
    "世田谷区",
    "渋谷区",
    "中野区",
    "杉並区",
    "豊島区",
    "北区",
    "荒川区",
    "板橋区",
    "練馬区",
    "足立区",
    "葛飾区",
    "江戸川区",
)

_CITIES: dict[str, str] = {
    city: pref
    for pref, cities in {
        "北海道": "札幌市 旭川市 函館市 釧路市 帯広市 苫小牧市 小樽市",
        "青森県": "青森市 八戸市 弘前市",
        "岩手県": "盛岡市",
        "宮城県": "仙台市",
        "秋田県": "秋田市",
        "山形県": "山形市",
        "福島県": "福島市 郡山市 いわき市",
        "茨城県": "水戸市 つくば市 日立市 土浦市",
        "栃木県": "宇都宮市 小山市",
        "群馬県": "前橋市 高崎市 太田市 伊勢崎市",
        "埼玉県": "さいたま市 川口市 川越市 所沢市 越谷市 草加市 春日部市 上尾市 戸田市 和光市",
        "千葉県": "千葉市 船橋市 柏市 市川市 松戸市 浦安市 習志野市 木更津市",
        "東京都": "八王子市 立川市 武蔵野市 三鷹市 町田市 調布市 小金井市 国分寺市 多摩市 日野市 "
        "昭島市 西東京市 青梅市 羽村市",
        "神奈川県": "横浜市 川崎市 相模原市 藤沢市 厚木市 平塚市 横須賀市 茅ケ崎市 大和市 海老名市 "
        "小田原市 鎌倉市",
        "新潟県": "新潟市 長岡市 三条市 燕市",
        "富山県": "富山市 高岡市",
        "石川県": "金沢市 白山市 小松市",
        "福井県": "福井市 鯖江市",
        "山梨県": "甲府市",
        "長野県": "長野市 松本市 諏訪市 上田市",
        "岐阜県": "岐阜市 大垣市 各務原市",
        "静岡県": "静岡市 浜松市 沼津市 富士市 三島市 磐田市",
        "愛知県": "名古屋市 豊田市 岡崎市 一宮市 豊橋市 春日井市 刈谷市 安城市 小牧市 豊川市 "
        "大府市 "
        "清須市",
        "三重県": "津市 四日市市 鈴鹿市 桑名市",
        "滋賀県": "大津市 草津市 彦根市 甲賀市",
        "京都府": "京都市 宇治市 長岡京市",
        "大阪府": "大阪市 堺市 東大阪市 吹田市 豊中市 高槻市 茨木市 枚方市 八尾市 門真市 守口市",
        "兵庫県": "神戸市 姫路市 尼崎市 西宮市 明石市 伊丹市 加古川市",
        "奈良県": "奈良市",
        "和歌山県": "和歌山市",
        "鳥取県": "鳥取市 米子市",
        "島根県": "松江市 出雲市",
        "岡山県": "岡山市 倉敷市",
        "広島県": "広島市 福山市 呉市 東広島市",
        "山口県": "山口市 下関市 宇部市 周南市",
        "徳島県": "徳島市",
        "香川県": "高松市 丸亀市",
        "愛媛県": "松山市 今治市 新居浜市 四国中央市",
        "高知県": "高知市",
        "福岡県": "福岡市 北九州市 久留米市",
        "佐賀県": "佐賀市",
        "長崎県": "長崎市 佐世保市",
        "熊本県": "熊本市",
        "大分県": "大分市",
        "宮崎県": "宮崎市",
        "鹿児島県": "鹿児島市",
        "沖縄県": "那覇市 浦添市 沖縄市",
    }.items()
    for city in cities.split()
}

# The legal affairs bureaus (法務局・地方法務局) by the first two digits of a registry
# office code, in the Ministry of Justice's order.
_BUREAUS: tuple[str, ...] = (
    "東京都",
    "神奈川県",
    "埼玉県",
    "千葉県",
    "茨城県",
    "栃木県",
    "群馬県",
    "静岡県",
    "山梨県",
    "長野県",
    "新潟県",
    "大阪府",
    "京都府",
    "兵庫県",
    "奈良県",
    "滋賀県",
    "和歌山県",
    "愛知県",
    "三重県",
    "岐阜県",
    "福井県",
    "石川県",
    "富山県",
    "広島県",
    "山口県",
    "岡山県",
    "鳥取県",
    "島根県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "大分県",
    "熊本県",
    "鹿児島県",
    "宮崎県",
    "沖縄県",
    "宮城県",
    "福島県",
    "山形県",
    "岩手県",
    "秋田県",
    "青森県",
    "北海道",
    "北海道",
    "北海道",
    "北海道",
    "香川県",
    "徳島県",
    "高知県",
    "愛媛県",
)
BUREAU_PREFECTURE: dict[str, str] = {f"{i:02d}": p for i, p in enumerate(_BUREAUS, start=1)}

_PREFIX = re.compile("^(" + "|".join(sorted(PREFECTURES, key=len, reverse=True)) + ")")
_WARD = re.compile("^(" + "|".join(_TOKYO_WARDS) + ")")
_CITY = re.compile("^(" + "|".join(sorted(_CITIES, key=len, reverse=True)) + ")")


def prefecture_of(address: str, corporate_number: str | None = None) -> tuple[str | None, str]:
    """(the prefecture, how it was read: "address" or "corporate_number"), or (None, "")."""
    text = address.strip()
    if m := _PREFIX.match(text):
        return m.group(1), "address"
    if _WARD.match(text):
        return "東京都", "address"
    if m := _CITY.match(text):
        return _CITIES[m.group(1)], "address"
    if corporate_number and len(corporate_number) == 13 and corporate_number.isdigit():
        bureau = BUREAU_PREFECTURE.get(corporate_number[1:3])
        if bureau:
            return bureau, "corporate_number"
    return None, ""


# The TSE 33 industries: JPX's code, the Japanese name (JPX's list), the English name
# (EDINET's list).
INDUSTRIES_33: tuple[tuple[str, str, str], ...] = (
    ("50", "水産・農林業", "Fishery, Agriculture & Forestry"),
    ("1050", "鉱業", "Mining"),
    ("2050", "建設業", "Construction"),
    ("3050", "食料品", "Foods"),
    ("3100", "繊維製品", "Textiles & Apparels"),
    ("3150", "パルプ・紙", "Pulp & Paper"),
    ("3200", "化学", "Chemicals"),
    ("3250", "医薬品", "Pharmaceutical"),
    ("3300", "石油・石炭製品", "Oil & Coal Products"),
    ("3350", "ゴム製品", "Rubber Products"),
    ("3400", "ガラス・土石製品", "Glass & Ceramics Products"),
    ("3450", "鉄鋼", "Iron & Steel"),
    ("3500", "非鉄金属", "Nonferrous Metals"),
    ("3550", "金属製品", "Metal Products"),
    ("3600", "機械", "Machinery"),
    ("3650", "電気機器", "Electric Appliances"),
    ("3700", "輸送用機器", "Transportation Equipments"),
    ("3750", "精密機器", "Precision Instruments"),
    ("3800", "その他製品", "Other Products"),
    ("4050", "電気・ガス業", "Electric Power & Gas"),
    ("5050", "陸運業", "Land Transportation"),
    ("5100", "海運業", "Marine Transportation"),
    ("5150", "空運業", "Air Transportation"),
    ("5200", "倉庫・運輸関連業", "Warehousing & Harbor Transportation Services"),
    ("5250", "情報・通信業", "Information & Communication"),
    ("6050", "卸売業", "Wholesale Trade"),
    ("6100", "小売業", "Retail Trade"),
    ("7050", "銀行業", "Banks"),
    ("7100", "証券、商品先物取引業", "Securities & Commodity Futures"),
    ("7150", "保険業", "Insurance"),
    ("7200", "その他金融業", "Other Financing Business"),
    ("8050", "不動産業", "Real Estate"),
    ("9050", "サービス業", "Services"),
)
INDUSTRY_BY_CODE: dict[str, tuple[str, str]] = {c: (ja, en) for c, ja, en in INDUSTRIES_33}
INDUSTRY_BY_EN: dict[str, tuple[str, str]] = {en: (c, ja) for c, ja, en in INDUSTRIES_33}
FINANCIAL_CODES = frozenset({"7050", "7100", "7150", "7200"})
TRADING_CODES = frozenset({"6050"})


def kind_for_industry(code: str | None) -> str:
    """A profile kind from a 33-industry code: banks, securities, insurance and other
    finance are financial institutions, wholesale trade (商社) trading companies."""
    if code in FINANCIAL_CODES:
        return "financial_institution"
    if code in TRADING_CODES:
        return "trading_company"
    return "firm"
