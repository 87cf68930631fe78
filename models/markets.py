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
from dataclasses import dataclass
from functools import lru_cache

from models.codes import COUNTRY_WORDS
from models.regions import REGIONS

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

# Words that hold a country's name and name no country: 中国地方 is a region of Japan.
_NOT_PLACES = ("中国地方", "中国・四国", "中国四国", "中国地域")

# A language's word for a market or a country's market, next to which an adjective names
# the target ("mercato cinese", "brasilianischen Markt", "mercado chino", "marché chinois").
_MARKET_STEMS = ("mercat", "mercad", "markt", "marché", "marche", "market")
_NEAR = 4  # words between an adjective and its market word
_WORD = re.compile(r"[^\W\d_]+")


@dataclass(frozen=True)
class _Lexicon:
    """The names to look for, arranged for one pass over a text: Latin-script names as
    word sequences (case-folded; English country names and acronyms from models.codes as
    written, so that "us" the pronoun is not the US), other scripts as substrings (Korean
    particles and Chinese or Japanese text attach without spaces), adjective stems by
    length. Each name maps to its countries and whether it is a region."""

    folded: dict[tuple[str, ...], tuple[frozenset[str], bool]]
    exact: dict[tuple[str, ...], tuple[frozenset[str], bool]]
    longest: int
    substrings: list[tuple[str, frozenset[str], bool]]
    stems: dict[str, str]
    stem_lengths: tuple[int, ...]


def _latin(word: str) -> bool:
    return all(ord(ch) < 0x250 for ch in word)


def _words(text: str) -> tuple[str, ...]:
    return tuple(_WORD.findall(text))


@lru_cache(maxsize=1)
def _lexicon() -> _Lexicon:
    folded: dict[tuple[str, ...], tuple[frozenset[str], bool]] = {}
    exact: dict[tuple[str, ...], tuple[frozenset[str], bool]] = {}
    substrings: dict[str, tuple[frozenset[str], bool]] = {}

    def add(name: str, countries: frozenset[str], region: bool, *, case: bool) -> None:
        if not _latin(name):
            substrings.setdefault(name, (countries, region))
        elif case:
            exact.setdefault(_words(name), (countries, region))
        else:
            folded.setdefault(tuple(w.casefold() for w in _words(name)), (countries, region))

    for region in REGIONS:
        for word in region.words:  # region words in any case, acronyms (EU, ASEAN) as written
            add(word, region.countries, len(region.countries) > 1, case=word.isupper())
    for code, names in COUNTRY_WORDS.items():
        for name in names:
            # as models.regions: capitalised names of 4 letters or more, acronyms of 3
            if name.isascii() and not (
                (len(name) >= 4 and name[:1].isupper()) or (len(name) >= 3 and name.isupper())
            ):
                continue
            add(name, frozenset({code}), False, case=True)
    for line in _NAMES.strip().splitlines():
        code, _, words = line.partition(" ")
        for name in filter(None, (w.strip() for w in words.split("|"))):
            add(name, frozenset({code}), False, case=name.isupper())
    for phrase in _NOT_PLACES:  # read first (the longest), they take their span
        substrings[phrase] = (frozenset(), False)
    stems: dict[str, str] = {}
    for line in _ADJECTIVES.strip().splitlines():
        code, _, rest = line.partition(" ")
        stems.update({stem: code for stem in rest.split()})
    keys = [*folded, *exact]
    return _Lexicon(
        folded=folded,
        exact=exact,
        longest=max(len(k) for k in keys),
        substrings=sorted(
            ((n, c, r) for n, (c, r) in substrings.items()), key=lambda x: -len(x[0])
        ),
        stems=stems,
        stem_lengths=tuple(sorted({len(st) for st in stems}, reverse=True)),
    )


def _katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30ff"


def _inside_katakana(text: str, start: int, end: int, name: str) -> bool:
    """A katakana name inside a longer katakana word is another word: タイ in タイヤ
    (tyre) or ネクタイ, インド in インドア."""
    if not _katakana(name[0]):
        return False
    before = text[start - 1] if start > 0 else ""
    after = text[end] if end < len(text) else ""
    return bool(before and _katakana(before)) or bool(after and _katakana(after))


def _read(text: str, lex: _Lexicon) -> list[tuple[int, frozenset[str], bool]]:
    """(position, countries, is a region) of each name in `text`; a longer name wins over
    a shorter one inside it (東南アジア over アジア, Corea del Sud over Corea)."""
    found: list[tuple[int, frozenset[str], bool]] = []
    taken = bytearray(len(text))
    for name, countries, region in lex.substrings:
        start = text.find(name)
        while start >= 0:
            end = start + len(name)
            if not any(taken[start:end]) and not _inside_katakana(text, start, end, name):
                taken[start:end] = b"\x01" * len(name)
                if countries:
                    found.append((start, countries, region))
            start = text.find(name, end)
    tokens = list(_WORD.finditer(text))
    words = [m.group() for m in tokens]
    lowered = [w.casefold() for w in words]
    i = 0
    while i < len(tokens):
        for n in range(min(lex.longest, len(tokens) - i), 0, -1):
            hit = lex.exact.get(tuple(words[i : i + n])) or lex.folded.get(
                tuple(lowered[i : i + n])
            )
            if hit is not None:
                found.append((tokens[i].start(), *hit))
                i += n
                break
        else:
            word = lowered[i]
            for size in lex.stem_lengths:
                code = lex.stems.get(word[:size])
                if code is None:
                    continue
                near = lowered[max(0, i - _NEAR) : i + _NEAR + 1]
                if any(w.startswith(_MARKET_STEMS) for w in near):
                    found.append((tokens[i].start(), frozenset({code}), False))
                break
            i += 1
    return sorted(found, key=lambda x: x[0])


def text_markets(texts: Iterable[str], own_country: str | None = None) -> tuple[str, ...]:
    """The target markets the texts name (ISO codes, in order of first mention): the
    countries named outright in any of the table's languages or in Japanese or English
    (models.codes, models.regions), or by a language's adjective beside its word for a
    market; a region's countries only when no country is named. Never `own_country`."""
    lex = _lexicon()
    countries: list[str] = []
    regions: list[str] = []
    for text in texts:
        for _, codes, region in _read(text or "", lex):
            if region:
                regions.extend(sorted(codes))
            else:
                countries.extend(codes)
    chosen = countries or regions
    return tuple(dict.fromkeys(c for c in chosen if c != own_country))


def stated_markets(
    markets: Sequence[str], description: str | None, needs: Sequence[str], country: str | None
) -> tuple[str, ...]:
    """A profile's target markets: its `markets` where it lists them, else the ones its
    description and needs name (`text_markets`)."""
    if markets:
        return tuple(markets)
    return text_markets([description or "", *needs], country)
