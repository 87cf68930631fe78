"""ISO 3166-1 alpha-2 country codes and ISO 639-1 language codes (the two code lists the
profile format uses), and the country names in Japanese and English that are accepted in
their place (日本, イタリア, Italy, South Korea ...). Kept as data so validation needs no extra
package."""

from __future__ import annotations

import re
import unicodedata

COUNTRIES: frozenset[str] = frozenset(
    """
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ BR
BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM DO DZ
EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS GT GU GW
GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN KP KR KW KY
KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ MR MS MT MU MV
MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM PN PR PS PT PW PY
QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV SX SY SZ TC TD TF TG
TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI VN VU WF WS YE YT ZA ZM
ZW XK
""".split()  # noqa: SIM905
)
"""ISO 3166-1 alpha-2, plus XK (Kosovo, user-assigned but used by the EU and CORDIS)."""

# EU data (CORDIS) writes Greece as EL and the United Kingdom as UK; accept and normalise.
COUNTRY_ALIASES: dict[str, str] = {"EL": "GR", "UK": "GB"}

LANGUAGES: frozenset[str] = frozenset(
    """
aa ab ae af ak am an ar as av ay az ba be bg bh bi bm bn bo br bs ca ce ch co cr cs cu cv cy
da de dv dz ee el en eo es et eu fa ff fi fj fo fr fy ga gd gl gn gu gv ha he hi ho hr ht hu
hy hz ia id ie ig ii ik io is it iu ja jv ka kg ki kj kk kl km kn ko kr ks ku kv kw ky la lb
lg li ln lo lt lu lv mg mh mi mk ml mn mr ms mt my na nb nd ne ng nl nn no nr nv ny oc oj om
or os pa pi pl ps pt qu rm rn ro ru rw sa sc sd se sg si sk sl sm sn so sq sr ss st su sv sw
ta te tg th ti tk tl tn to tr ts tt tw ty ug uk ur uz ve vi vo wa wo xh yi yo za zh zu
""".split()  # noqa: SIM905
)
"""ISO 639-1 two-letter language codes."""


# Code: its names, Japanese first, then English (and common short forms). The countries a
# Japanese cluster office meets; any other country is given by its code.
_NAMES = """
JP 日本 日本国 にほん にっぽん Japan
KR 韓国 大韓民国 South Korea | Korea | Republic of Korea
KP 北朝鮮 North Korea
CN 中国 中華人民共和国 China | PRC
TW 台湾 Taiwan
HK 香港 Hong Kong
MO マカオ Macau | Macao
MN モンゴル Mongolia
VN ベトナム Vietnam | Viet Nam
TH タイ Thailand
MY マレーシア Malaysia
SG シンガポール Singapore
ID インドネシア Indonesia
PH フィリピン Philippines
KH カンボジア Cambodia
LA ラオス Laos
MM ミャンマー Myanmar | Burma
BN ブルネイ Brunei
TL 東ティモール Timor-Leste | East Timor
IN インド India
PK パキスタン Pakistan
BD バングラデシュ Bangladesh
LK スリランカ Sri Lanka
NP ネパール Nepal
KZ カザフスタン Kazakhstan
UZ ウズベキスタン Uzbekistan
AE アラブ首長国連邦 United Arab Emirates | UAE
SA サウジアラビア Saudi Arabia
QA カタール Qatar
IL イスラエル Israel
TR トルコ トルキエ Turkey | Türkiye
IR イラン Iran
US 米国 アメリカ アメリカ合衆国 United States | USA | US | United States of America | America
CA カナダ Canada
MX メキシコ Mexico
BR ブラジル Brazil
AR アルゼンチン Argentina
CL チリ Chile
PE ペルー Peru
CO コロンビア Colombia
AU オーストラリア 豪州 Australia
NZ ニュージーランド New Zealand
GB 英国 イギリス United Kingdom | Great Britain | Britain | England
IE アイルランド Ireland
FR フランス France
DE ドイツ Germany
IT イタリア Italy
ES スペイン Spain
PT ポルトガル Portugal
NL オランダ Netherlands | Holland | The Netherlands
BE ベルギー Belgium
LU ルクセンブルク Luxembourg
CH スイス Switzerland
AT オーストリア Austria
DK デンマーク Denmark
SE スウェーデン Sweden
NO ノルウェー Norway
FI フィンランド Finland
IS アイスランド Iceland
PL ポーランド Poland
CZ チェコ Czechia | Czech Republic
SK スロバキア Slovakia
HU ハンガリー Hungary
SI スロベニア Slovenia
HR クロアチア Croatia
RO ルーマニア Romania
BG ブルガリア Bulgaria
GR ギリシャ Greece
CY キプロス Cyprus
MT マルタ Malta
EE エストニア Estonia
LV ラトビア Latvia
LT リトアニア Lithuania
RS セルビア Serbia
UA ウクライナ Ukraine
RU ロシア Russia
EG エジプト Egypt
MA モロッコ Morocco
ZA 南アフリカ South Africa
NG ナイジェリア Nigeria
KE ケニア Kenya
"""


def _name_key(name: str) -> str:
    # full-width letters, case, spaces and dots do not matter ("ＵＳＡ", "u.s.a.", "Viet nam")
    return re.sub(r"[\s.・]+", "", unicodedata.normalize("NFKC", name)).casefold()


def _country_words() -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    for line in _NAMES.strip().splitlines():
        code, _, rest = line.partition(" ")
        words = rest.split("|")
        head = words[0].split()
        japanese = [w for w in head if not w.isascii()]
        english = " ".join(w for w in head if w.isascii())
        out[code] = tuple(n.strip() for n in (*japanese, english, *words[1:]) if n.strip())
    return out


COUNTRY_WORDS: dict[str, tuple[str, ...]] = _country_words()
"""A country's code -> its names as written: Japanese first, then English."""
COUNTRY_NAMES: dict[str, str] = {
    _name_key(name): code for code, names in COUNTRY_WORDS.items() for name in names
}
"""A country's Japanese or English name (as `_name_key` normalises it) -> its code."""
COUNTRY_LABELS: dict[str, tuple[str, str]] = {
    code: (names[0], next(n for n in names if n.isascii())) for code, names in COUNTRY_WORDS.items()
}
"""A country's code -> (its Japanese name, its English name), for reasons."""


def country_label(code: str, lang: str) -> str:
    """The country's name in `lang` (ja / en), or its code for a country not named here."""
    labels = COUNTRY_LABELS.get(code)
    if labels is None:
        return code
    return labels[0] if lang == "ja" else labels[1]


def normalize_country(value: str) -> str:
    """An ISO 3166-1 alpha-2 code (any case; EU aliases EL/UK mapped) or a country's name in
    Japanese or English (日本, イタリア, Italy); raises ValueError."""
    code = unicodedata.normalize("NFKC", value).strip().upper()
    code = COUNTRY_ALIASES.get(code, code)
    if code in COUNTRIES:
        return code
    named = COUNTRY_NAMES.get(_name_key(value))
    if named is not None:
        return named
    # (the console recognises this message: keep its wording)
    raise ValueError(f"'{value}' is not an ISO 3166-1 alpha-2 country code")


def normalize_language(value: str) -> str:
    """Lower-case and check against ISO 639-1; raises ValueError."""
    code = value.strip().lower()
    if code not in LANGUAGES:
        raise ValueError(f"'{value}' is not an ISO 639-1 language code")
    return code
