"""Region words in free text: "欧州のパートナー" (a partner in Europe) asks for European
organizations. `find_regions` reads the regions and countries a query names, from the
table below, in Japanese and English; a search then puts the organizations of those
countries first (service.engine.facade `Engine.search_text`) and says so in the reason.

The table (REGIONS): each region's Japanese and English words and its countries (ISO
3166-1 alpha-2). Countries are read by their names too (models.codes, 韓国, イタリア,
Italy, ...), except Japan and the searcher's own country: in this service's texts "日本の"
or "日本製" most often describes the searcher, not where the partner should be.

| region | words | countries |
|---|---|---|
| Europe | 欧州, ヨーロッパ, Europe, European | EU, EEA, GB, CH, Balkans, UA |
| EU | EU, 欧州連合, European Union | the 27 members |
| Northern Europe | 北欧, Nordic, Scandinavia | DK FI IS NO SE |
| Western Europe | 西欧, Western Europe | AT BE CH DE FR GB IE LU NL |
| Southern Europe | 南欧, Southern Europe | ES GR IT MT PT CY |
| Eastern Europe | 東欧, 中東欧, (Central and) Eastern Europe | BG CZ EE HR HU PL RO ... |
| Asia | アジア, Asia, Asian | East, Southeast and South Asia |
| East Asia | 東アジア, East Asia | CN HK JP KR MN MO TW |
| Southeast Asia | 東南アジア, ASEAN, Southeast Asia | BN ID KH LA MM MY PH SG TH VN |
| South Asia | 南アジア, South Asia | BD BT IN LK MV NP PK |
| Middle East | 中東, Middle East, GCC | AE BH IL IQ IR JO KW LB OM QA SA TR |
| North America | 北米, North America | CA MX US |
| Latin America | 中南米, 南米, ラテンアメリカ, Latin / South America | AR BR CL CO MX PE ... |
| Oceania | オセアニア, 大洋州, Oceania | AU NZ FJ PG |
| Africa | アフリカ, Africa | the African countries |
| Greater China | 中華圏, Greater China | CN HK MO TW |

A longer word wins over a shorter one inside it (東南アジア is Southeast Asia, not Asia).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from models.codes import COUNTRY_LABELS, COUNTRY_WORDS


@dataclass(frozen=True)
class Region:
    key: str
    ja: str
    en: str
    words: tuple[str, ...]
    countries: frozenset[str]


def _codes(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EU = _codes("AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK")
_EUROPE = _EU | _codes("GB CH NO IS LI AL BA ME MK RS XK UA MD AD MC SM VA")
_EAST_ASIA = _codes("CN HK JP KR MN MO TW")
_SOUTHEAST_ASIA = _codes("BN ID KH LA MM MY PH SG TH VN TL")
_SOUTH_ASIA = _codes("BD BT IN LK MV NP PK")
_LATIN_AMERICA = _codes("AR BO BR CL CO CR CU DO EC GT HN MX NI PA PE PY SV UY VE")
_AFRICA = _codes(
    "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY "
    "MG MW ML MR MU MA MZ NA NE NG RW ST SN SC SL SO ZA SS SD TZ TG TN UG ZM ZW"
)

REGIONS: tuple[Region, ...] = (
    Region("europe", "欧州", "Europe", ("欧州", "ヨーロッパ", "Europe", "European"), _EUROPE),
    Region("eu", "EU", "the EU", ("EU", "欧州連合", "European Union"), _EU),
    Region(
        "northern_europe",
        "北欧",
        "Northern Europe",
        ("北欧", "Nordic", "Nordics", "Scandinavia", "Northern Europe"),
        _codes("DK FI IS NO SE"),
    ),
    Region(
        "western_europe",
        "西欧",
        "Western Europe",
        ("西欧", "Western Europe"),
        _codes("AT BE CH DE FR GB IE LU NL"),
    ),
    Region(
        "southern_europe",
        "南欧",
        "Southern Europe",
        ("南欧", "Southern Europe"),
        _codes("ES GR IT MT PT CY"),
    ),
    Region(
        "eastern_europe",
        "東欧",
        "Eastern Europe",
        ("東欧", "中東欧", "Eastern Europe", "Central and Eastern Europe"),
        _codes("BG CZ EE HR HU LT LV PL RO SI SK UA MD RS BA ME MK AL"),
    ),
    Region(
        "asia",
        "アジア",
        "Asia",
        ("アジア", "Asia", "Asian"),
        _EAST_ASIA | _SOUTHEAST_ASIA | _SOUTH_ASIA,
    ),
    Region("east_asia", "東アジア", "East Asia", ("東アジア", "East Asia"), _EAST_ASIA),
    Region(
        "southeast_asia",
        "東南アジア",
        "Southeast Asia",
        ("東南アジア", "ASEAN", "Southeast Asia", "South-East Asia", "South East Asia"),
        _SOUTHEAST_ASIA,
    ),
    Region("south_asia", "南アジア", "South Asia", ("南アジア", "South Asia"), _SOUTH_ASIA),
    Region(
        "middle_east",
        "中東",
        "the Middle East",
        ("中東", "Middle East", "GCC"),
        _codes("AE BH IL IQ IR JO KW LB OM QA SA TR"),
    ),
    Region(
        "north_america",
        "北米",
        "North America",
        ("北米", "North America", "North American"),
        _codes("CA MX US"),
    ),
    Region(
        "latin_america",
        "中南米",
        "Latin America",
        ("中南米", "南米", "ラテンアメリカ", "Latin America", "South America"),
        _LATIN_AMERICA,
    ),
    Region(
        "oceania",
        "オセアニア",
        "Oceania",
        ("オセアニア", "大洋州", "Oceania"),
        _codes("AU NZ FJ PG"),
    ),
    Region("africa", "アフリカ", "Africa", ("アフリカ", "Africa", "African"), _AFRICA),
    Region(
        "greater_china",
        "中華圏",
        "Greater China",
        ("中華圏", "Greater China"),
        _codes("CN HK MO TW"),
    ),
)
"""The regions read from free text (the module docstring has them as a table)."""

# Japan is not read from text (see the module docstring); English country names are read
# when capitalised and of 4 letters or more, or an acronym of 3 (USA, UAE): "us" in
# running text is the pronoun.
_NOT_READ = frozenset({"JP"})


@dataclass(frozen=True)
class RegionHit:
    """A region (or a country) a text names: the word as written, its labels, countries."""

    word: str
    key: str
    ja: str
    en: str
    countries: frozenset[str]

    def label(self, lang: str) -> str:
        return self.ja if lang == "ja" else self.en


_Pattern = tuple[re.Pattern[str], str, str, str, frozenset[str]]


def _patterns() -> list[_Pattern]:
    rows = [(w, r.key, r.ja, r.en, r.countries) for r in REGIONS for w in r.words]
    for code, names in COUNTRY_WORDS.items():
        if code in _NOT_READ:
            continue
        ja, en = COUNTRY_LABELS[code]
        for name in names:
            if name.isascii() and not (
                (len(name) >= 4 and name[:1].isupper()) or (len(name) >= 3 and name.isupper())
            ):
                continue
            rows.append((name, code, ja, en, frozenset({code})))
    rows.sort(key=lambda row: -len(row[0]))  # the longest word first
    out: list[_Pattern] = []
    for word, key, ja, en, countries in rows:
        if word.isascii():
            # whole words; a region word in any case, a name or an acronym as written
            loose = key not in COUNTRY_WORDS and not word.isupper()
            pattern = re.compile(
                rf"(?<![A-Za-z]){re.escape(word)}(?![A-Za-z])", re.IGNORECASE if loose else 0
            )
        else:
            pattern = re.compile(re.escape(word))
        out.append((pattern, key, ja, en, countries))
    return out


_PATTERNS = _patterns()


def find_regions(text: str, *, exclude: Iterable[str] = ()) -> list[RegionHit]:
    """The regions and countries `text` names, in order of appearance, each once; a
    country in `exclude` (the searcher's own) is not read as a place to look."""
    skip = frozenset(exclude)
    taken = [False] * len(text)
    found: list[tuple[int, RegionHit]] = []
    seen: set[str] = set()
    for pattern, key, ja, en, countries in _PATTERNS:
        for m in pattern.finditer(text):
            if any(taken[m.start() : m.end()]):
                continue
            for i in range(m.start(), m.end()):
                taken[i] = True
            if key in seen or (len(countries) == 1 and countries <= skip):
                continue
            seen.add(key)
            found.append((m.start(), RegionHit(m.group(), key, ja, en, countries)))
    return [hit for _, hit in sorted(found, key=lambda x: x[0])]
