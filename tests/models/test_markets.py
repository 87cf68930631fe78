"""Target markets read from a profile's text (models.markets): a market named only in the
description counts as one in `markets`, in the languages cluster firms write in."""

from __future__ import annotations

import pytest

from models.markets import stated_markets, text_markets


@pytest.mark.parametrize(
    ("text", "own", "expected"),
    [
        ("タイの販売代理店を探しています。", "JP", ("TH",)),
        ("인도네시아 수입업체를 찾고 있습니다.", "KR", ("ID",)),
        ("Cerchiamo un distributore in Germania e in Austria.", "IT", ("DE", "AT")),
        ("Buscamos importadores en Japón.", "ES", ("JP",)),
        ("Wir suchen einen Händler in Kanada.", "DE", ("CA",)),
        ("Nous cherchons un importateur au Mexique.", "FR", ("MX",)),
        ("Procuramos distribuidores na Índia.", "BR", ("IN",)),
        ("正在寻找泰国的经销商", "CN", ("TH",)),
        ("We want to enter the Singapore market.", "AU", ("SG",)),
        # an adjective names the target beside the language's word for a market
        ("Puntiamo al mercato tailandese.", "IT", ("TH",)),
        ("Für den kanadischen Markt suchen wir Partner.", "DE", ("CA",)),
        ("Queremos crecer en el mercado japonés.", "ES", ("JP",)),
        ("Nous visons le marché coréen.", "FR", ("KR",)),
    ],
)
def test_a_market_named_in_any_language(text: str, own: str, expected: tuple[str, ...]) -> None:
    assert text_markets([text], own) == expected


def test_own_country_and_origin_adjectives_are_not_markets() -> None:
    # the profile's own country describes it ("日本製", "prodotti italiani")
    assert text_markets(["日本製の部品を日本国内で販売しています。"], "JP") == ()
    assert text_markets(["Produciamo in Italia dal 1950."], "IT") == ()
    # an adjective away from a market word says where a product comes from
    assert text_markets(["Importateur de thé japonais et de céramiques coréennes."], "FR") == ()
    # a word inside another word is no country ("Korean" is not "Korea" + n, in a name)
    assert text_markets(["Indiana Tools Inc. makes drills."], "US") == ()
    assert text_markets(["Corée", "les céramiques coréennes"], "FR") == ("KR",)
    # a katakana name inside a longer word, a Japanese region named like a country
    assert text_markets(["自動車用タイヤとネクタイを製造しています。"], "JP") == ()
    assert text_markets(["中国地方の企業です。インドネシアに輸出したい。"], "JP") == ("ID",)
    assert text_markets(["We sell in the USA and to us."], "JP") == ("US",)


def test_a_long_text_is_read_in_one_pass() -> None:
    """Every profile's text is read on its first buyer match: one pass, not a pattern per
    name (a 4,000-character description reads a market at its end)."""
    text = "Wir fertigen Kugellager für Pumpen. " * 110 + "Wir suchen Händler in Brasilien."
    assert text_markets([text], "DE") == ("BR",)


def test_countries_named_win_over_regions() -> None:
    text = "東南アジアの成長市場のうち、まずマレーシアで扱ってくれる輸入業者を探しています。"
    assert text_markets([text], "JP") == ("MY",)
    europe = text_markets(["欧州の販売代理店を探しています。"], "JP")
    assert {"DE", "FR", "IT"} <= set(europe) and "JP" not in europe


def test_stated_markets_prefer_the_field() -> None:
    text = "Cerchiamo un importatore in Corea del Sud."
    assert stated_markets(["US"], text, [], "IT") == ("US",)
    assert stated_markets([], text, [], "IT") == ("KR",)
    # needs are read too ("distributor in Vietnam")
    assert stated_markets([], None, ["distributor in Vietnam"], "JP") == ("VN",)
    assert stated_markets([], None, [], "JP") == ()
