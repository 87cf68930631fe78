"""Target markets stated in a profile's text: "ベトナムの販売代理店を探しています",
"Cerchiamo un importatore in Vietnam", "독일 유통업체를 찾고 있습니다" name the market as
plainly as `markets: ["VN"]` does, and a buyer match must read them alike.

`text_markets` reads the countries a text names in Japanese and English (models.regions,
models.codes) and, from the table below, in Korean, Chinese, Italian, Spanish,
Portuguese, German and French. A language's adjective ("il mercato cinese", "den
brasilianischen Markt", "le marché japonais") counts only beside that language's word for
a market: alone it more often says where a product comes from ("thé japonais"). Countries
named outright win over regions: "東南アジアで...ベトナムで扱ってくれる輸入業者" targets
Vietnam, not all of ASEAN; a region alone (欧州, ASEAN) stands for its countries. The
profile's own country is never its target market ("日本製", "prodotti italiani").
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from functools import lru_cache

from models.regions import find_regions

# Per country (a code may take several lines): its names in ko, zh, it, es, pt, de and
# fr, "|" separated; then its adjectives' stems (lower case, matched at a word's start,
# only beside a market word). The countries cluster firms most often name as export
# markets; the rest of the world is read in Japanese and English only.
_NAMES = """
US 미국|美国|美國|Stati Uniti|USA|Estados Unidos|EE. UU.|EEUU|EUA|Vereinigte Staaten
US Vereinigten Staaten|États-Unis|Etats-Unis
CA 캐나다|加拿大|Canada|Canadá|Kanada
MX 멕시코|墨西哥|Messico|México|Mexico|Mexiko|Mexique
BR 브라질|巴西|Brasile|Brasil|Brasilien|Brésil
GB 영국|英国|英國|Regno Unito|Reino Unido|Großbritannien|Vereinigtes Königreich|Royaume-Uni
DE 독일|德国|德國|Germania|Alemania|Alemanha|Deutschland|Allemagne
FR 프랑스|法国|法國|Francia|França|Frankreich|France
IT 이탈리아|意大利|義大利|Italia|Itália|Italien|Italie
ES 스페인|西班牙|Spagna|España|Espanha|Spanien|Espagne
PT 포르투갈|葡萄牙|Portogallo|Portugal
NL 네덜란드|荷兰|荷蘭|Paesi Bassi|Países Bajos|Holanda|Niederlande|Pays-Bas
CH 스위스|瑞士|Svizzera|Suiza|Suíça|Schweiz|Suisse
AT 오스트리아|奥地利|奧地利|Austria|Áustria|Österreich|Autriche
PL 폴란드|波兰|波蘭|Polonia|Polônia|Polen|Pologne
TR 터키|튀르키예|土耳其|Turchia|Turquía|Turquia|Türkei|Turquie
CN 중국|中国|中國|Cina|China|Chine
TW 대만|台湾|台灣|Taiwan|Taiwán
HK 홍콩|香港|Hong Kong|Hongkong
KR 한국|대한민국|韩国|韓國|Corea del Sud|Corea|Coreia do Sul|Südkorea|Korea|Corée du Sud|Corée
JP 일본|日本|Giappone|Japón|Japão|Japan|Japon
VN 베트남|越南|Vietnam|Việt Nam
TH 태국|泰国|泰國|Thailandia|Tailandia|Tailândia|Thailand|Thaïlande
ID 인도네시아|印度尼西亚|印尼|Indonesia|Indonésia|Indonesien|Indonésie
MY 말레이시아|马来西亚|馬來西亞|Malesia|Malasia|Malásia|Malaysia|Malaisie
SG 싱가포르|新加坡|Singapore|Singapur|Singapura|Singapour
PH 필리핀|菲律宾|菲律賓|Filippine|Filipinas|Philippinen|Philippines
IN 인도|印度|India|Índia|Indien|Inde
AU 호주|오스트레일리아|澳大利亚|澳洲|Australia|Austrália|Australien|Australie
NZ 뉴질랜드|新西兰|紐西蘭|Nuova Zelanda|Nueva Zelanda|Nova Zelândia|Neuseeland|Nouvelle-Zélande
AE 아랍에미리트|阿联酋|Emirati Arabi|Emiratos Árabes|Emirados Árabes|Emirate|Émirats arabes unis
SA 사우디아라비아|沙特阿拉伯|Arabia Saudita|Saudi-Arabien|Arabie saoudite
"""
_ADJECTIVES = """
US american statunitens estadounidens norteamerican amerikanisch américain americain
CA canades canadiens kanadisch canadien
MX messican mexican mexikanisch mexicain
BR brasilian brasileñ brasileir brésilien
GB britannic británic britânic britisch britanniqu
DE tedesc alemán aleman deutsch allemand
FR frances francés francês französisch français
IT italian italien
ES spagnol español espanhol spanisch espagnol
PT portoghes portugués portugues portugiesisch
NL oland neerlandés niederländisch néerlandais
CH svizzer suizo schweizer
AT austriac österreichisch autrichien
PL polacc polaco polnisch polonais
TR turc türkisch
CN cines chino chinês chinesisch chinois
TW taiwanes taiwanais
KR corean coreano coreia koreanisch coréen
JP giappones japonés japones japanisch japonais
VN vietnamit vietnamesisch vietnamien
TH tailandes thailandes thailändisch thaïlandais
ID indonesian indonesisch indonésien
IN indian indien
AU australian australisch australien
"""

# A language's word for a market or a country's market, next to which an adjective names
# the target ("mercato cinese", "brasilianischen Markt", "mercado chino", "marché chinois").
_MARKET_WORDS = re.compile(r"(?i)(mercat|mercad|markt|marché|marche|market)")
_WINDOW = 30  # characters between an adjective and its market word


def _table() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    names: list[tuple[str, str]] = []
    for line in _NAMES.strip().splitlines():
        code, _, words = line.partition(" ")
        names += [(w.strip(), code) for w in words.split("|") if w.strip()]
    adjectives: list[tuple[str, str]] = []
    for line in _ADJECTIVES.strip().splitlines():
        code, _, stems = line.partition(" ")
        adjectives += [(st, code) for st in stems.split()]
    return names, adjectives


def _latin(word: str) -> bool:
    return all(ord(ch) < 0x250 for ch in word)


@lru_cache(maxsize=1)
def _patterns() -> tuple[re.Pattern[str], dict[str, str], re.Pattern[str], dict[str, str]]:
    """One alternation for the names (the longest first, so "Corea del Sud" wins over
    "Corea") and one for the adjective stems; each text is read in one pass of each."""
    names, adjectives = _table()
    by_name = {n.casefold(): code for n, code in names}
    ordered = sorted(by_name, key=len, reverse=True)
    # Latin-script names are whole words ("Corée", not the start of "coréennes"); Korean
    # and Chinese names stand inside words (particles attach, no spaces)
    parts = [
        rf"(?<![^\W\d_]){re.escape(n)}(?![^\W\d_])" if _latin(n) else re.escape(n) for n in ordered
    ]
    name_re = re.compile("|".join(parts), re.IGNORECASE)
    by_stem = {s: code for s, code in adjectives}
    stems = sorted(by_stem, key=len, reverse=True)
    adj_re = re.compile(r"(?<![^\W\d_])(" + "|".join(map(re.escape, stems)) + r")\w*", re.I)
    return name_re, by_name, adj_re, by_stem


def text_markets(texts: Iterable[str], own_country: str | None = None) -> tuple[str, ...]:
    """The target markets the texts name (ISO codes, in order of first mention): the
    countries named outright in any of the table's languages, in Japanese or English
    (models.regions), or by a language's adjective beside its word for a market; a
    region's countries only when no country is named. Never `own_country`."""
    name_re, by_name, adj_re, by_stem = _patterns()
    countries: list[str] = []
    regions: list[str] = []
    skip = {own_country} if own_country else set()
    for text in texts:
        if not text:
            continue
        for m in name_re.finditer(text):
            countries.append(by_name[m.group().casefold()])
        for m in adj_re.finditer(text):
            window = text[max(0, m.start() - _WINDOW) : m.end() + _WINDOW]
            if _MARKET_WORDS.search(window):
                countries.append(by_stem[m.group(1).casefold()])
        for hit in find_regions(text, exclude=skip):
            if len(hit.countries) == 1:
                countries.extend(hit.countries)
            else:
                regions.extend(sorted(hit.countries))
    chosen = countries or regions
    return tuple(dict.fromkeys(c for c in chosen if c not in skip))


def stated_markets(
    markets: Sequence[str], description: str | None, needs: Sequence[str], country: str | None
) -> tuple[str, ...]:
    """A profile's target markets: its `markets` where it lists them, else the ones its
    description and needs name (`text_markets`)."""
    if markets:
        return tuple(markets)
    return text_markets([description or "", *needs], country)
