"""The JPX listed-company list (data_j, 東証上場銘柄一覧) saved as CSV: UTF-8 or cp932,
Japanese headers 日付, コード, 銘柄名, 市場・商品区分, 33業種コード, 33業種区分, 17業種コード,
17業種区分, 規模コード, 規模区分.

Each listed company becomes a profile `jpx:<code>`:
- name: 銘柄名 (the listing's name, often without 株式会社);
- kind: firm; 33-industry banks, securities, insurance, other finance:
  financial_institution; wholesale trade (卸売業): trading_company;
- country: JP, none for foreign stocks (外国株式);
- industries: the 33 industry in Japanese and English;
- registry: securities_code, market (市場・商品区分), industry_33 (code), industry_17
  (code and name), size (規模区分), listed=listed, sources=jpx.
Funds and other securities (ETF・ETN, REIT..., 出資証券) are not organizations, and a
5-character code is a class of shares (優先株式, 社債型種類株式) of the company with its first
four: both are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import IO, Any

from service.io.connectors.common import (
    ConnectorRow,
    cell,
    column_map,
    csv_records,
    text_stream,
    validated,
)
from service.io.connectors.japan import INDUSTRY_BY_CODE, kind_for_industry
from service.io.imports import ImportFormatError, RowError

SOURCE = "jpx"
OWNED = ("market", "industry_33", "industry_17", "size", "listed")
"""Registry keys this list owns: refreshed when it is imported again (models.merge)."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("コード", "Local Code", "code"),
    "name": ("銘柄名", "Name (English)", "name"),
    "market": ("市場・商品区分", "Section/Products"),
    "code33": ("33業種コード", "33 Sector(Code)"),
    "name33": ("33業種区分", "33 Sector(name)"),
    "code17": ("17業種コード", "17 Sector(Code)"),
    "name17": ("17業種区分", "17 Sector(name)"),
    "size": ("規模区分", "Size (New Index Series)"),
}
REQUIRED = ("code", "name", "market")
FUND_MARKETS = ("ETF", "REIT", "出資証券")
_CODE = re.compile(r"^[0-9][0-9A-Z]{3}$")


def _absent(value: str) -> str:
    return "" if value in ("-", "－") else value


def read(
    stream: IO[bytes], *, encoding: str | None = None, warnings: list[str] | None = None
) -> Iterator[ConnectorRow]:
    """The list's rows as profiles (see the module docstring). Raises `ImportFormatError`
    when the file is not the JPX list."""
    text, _ = text_stream(stream, encoding, "cp932")
    records = csv_records(text)
    first = next(records, None)
    if first is None:
        raise ImportFormatError("the file is empty")
    number, header = first
    columns = column_map(header, COLUMNS, REQUIRED, number)
    for number, cells in records:
        if not any(c.strip() for c in cells):
            continue
        yield _row(number, cells, columns, len(header))


def _row(number: int, cells: list[str], columns: dict[str, int], width: int) -> ConnectorRow:
    if len(cells) != width:
        return ConnectorRow(
            number,
            errors=[RowError(number, None, f"has {len(cells)} cells; the header has {width}")],
        )
    code = unicodedata.normalize("NFKC", cell(cells, columns, "code")).upper()
    market = cell(cells, columns, "market")
    if re.match(r"^[0-9][0-9A-Z]{3}[1-9]$", code):
        return ConnectorRow(
            number, skipped=f"a class of shares of {code[:4]} (優先株式 / 種類株式), not a company"
        )
    if not _CODE.match(code):
        return ConnectorRow(
            number, errors=[RowError(number, "code", f"not a securities code (got {code[:20]!r})")]
        )
    if market.startswith(FUND_MARKETS):
        return ConnectorRow(number, skipped=f"a fund or other security ({market}), not a company")
    code33 = _absent(unicodedata.normalize("NFKC", cell(cells, columns, "code33")))
    name33 = _absent(cell(cells, columns, "name33"))
    if code33 and code33 not in INDUSTRY_BY_CODE:
        return ConnectorRow(
            number,
            errors=[
                RowError(
                    number, "33業種コード", f"not a TSE 33-industry code (got {code33[:10]!r})"
                )
            ],
        )
    industries = list(INDUSTRY_BY_CODE[code33]) if code33 else ([name33] if name33 else [])
    code17 = _absent(cell(cells, columns, "code17"))
    name17 = _absent(cell(cells, columns, "name17"))
    data: dict[str, Any] = {
        "id": f"jpx:{code}",
        "name": cell(cells, columns, "name"),
        "kind": kind_for_industry(code33),
        "country": None if "外国" in market else "JP",
        "industries": industries,
        "registry": {
            "sources": SOURCE,
            "securities_code": code,
            "market": market,
            "industry_33": code33,
            "industry_17": f"{code17} {name17}".strip(),
            "size": _absent(cell(cells, columns, "size")),
            "listed": "listed",
        },
    }
    return validated(number, data)
