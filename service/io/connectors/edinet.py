"""The EDINET code list (EdinetcodeDlInfo.csv, Japan FSA) as published: cp932, CRLF, a
banner line ("Date of download data creation,As Of 2026.04.10,Number of data,11245", or
its Japanese form "ダウンロード実行日,...,件数,...") above the header, English or
Japanese headers.

Each filer becomes a profile `edinet:<EDINET code>`:
- name: 提出者名 (Submitter Name), name_en: its alphabetic form;
- kind: firm; banks, securities, insurance and other finance: financial_institution;
  wholesale trade: trading_company; foreign governments (外国政府等): public_body;
- country: JP for domestic filers; for foreign ones the country their address starts
  with (米国, 大韓民国 ...), else none;
- region: the prefecture (`japan.prefecture_of`: the address, else the corporate number);
- industries: the TSE 33 industry in Japanese and English ("Others" is left out);
- registry: edinet_code, corporate_number, securities_code (4 characters: EDINET's
  trailing check "0" dropped), listed (listed / unlisted), submitter_type, capital
  (millions of yen), address, region_from, sources=edinet.
Individual filers (個人 ...: large-shareholding reports) are people, not organizations:
skipped, never stored.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from typing import IO, Any

from models.codes import COUNTRY_NAMES
from service.io.connectors.common import (
    ConnectorRow,
    cell,
    column_map,
    csv_records,
    header_key,
    text_stream,
    validated,
)
from service.io.connectors.japan import (
    INDUSTRY_BY_CODE,
    INDUSTRY_BY_EN,
    kind_for_industry,
    prefecture_of,
)
from service.io.imports import ImportFormatError, RowError

SOURCE = "edinet"
OWNED = (
    "edinet_code",
    "listed",
    "submitter_type",
    "capital",
    "address",
    "region_from",
)
"""Registry keys this list owns: refreshed when it is imported again (models.merge)."""

COLUMNS: dict[str, tuple[str, ...]] = {
    "edinet_code": ("EDINET Code", "ＥＤＩＮＥＴコード"),
    "type": ("Type of Submitter", "提出者種別"),
    "listed": ("Listed company / Unlisted company", "上場区分"),
    "capital": ("Capital stock", "資本金"),
    "name": ("Submitter Name", "提出者名"),
    "name_en": ("Submitter Name（alphabetic）", "提出者名（英字）"),
    "address": ("Province", "所在地"),
    "industry": ("Submitter's industry", "提出者業種"),
    "securities_code": ("Securities Identification Code", "証券コード"),
    "corporate_number": ("Submitter's Japan Corporate Number", "提出者法人番号"),
}
REQUIRED = ("edinet_code", "type", "name")
_BANNERS = ("date of download data creation", "ダウンロード実行日")
_CODE = re.compile(r"^E\d{5}$")
_INDUSTRY_BY_JA = {ja: (code, en) for code, (ja, en) in INDUSTRY_BY_CODE.items()}
_COUNTRY_PREFIXES = sorted(
    ((name, code) for name, code in COUNTRY_NAMES.items() if not name.isascii()),
    key=lambda item: -len(item[0]),
)


def _foreign_country(address: str) -> str | None:
    text = re.sub(r"\s+", "", unicodedata.normalize("NFKC", address)).casefold()
    for name, code in _COUNTRY_PREFIXES:
        if text.startswith(name):
            return code
    return None


def read(
    stream: IO[bytes], *, encoding: str | None = None, warnings: list[str] | None = None
) -> Iterator[ConnectorRow]:
    """The list's rows as profiles (see the module docstring). Raises `ImportFormatError`
    when the file is not the EDINET code list."""
    text, _ = text_stream(stream, encoding, "cp932")
    records = csv_records(text)
    declared: int | None = None
    first = next(records, None)
    if first is None:
        raise ImportFormatError("the file is empty")
    number, header = first
    if header and header_key(header[0]).startswith(_BANNERS):
        digits = re.sub(r"\D", "", header[3]) if len(header) > 3 else ""
        declared = int(digits) if digits else None
        second = next(records, None)
        if second is None:
            raise ImportFormatError("the file has a banner line and nothing else")
        number, header = second
    columns = column_map(header, COLUMNS, REQUIRED, number)
    seen = 0
    for number, cells in records:
        if not any(c.strip() for c in cells):
            continue
        seen += 1
        yield _row(number, cells, columns, len(header))
    if declared is not None and warnings is not None and declared != seen:
        warnings.append(f"the banner line says {declared:,} rows; the file has {seen:,}")


def _row(number: int, cells: list[str], columns: dict[str, int], width: int) -> ConnectorRow:
    if len(cells) != width:
        return ConnectorRow(
            number,
            errors=[RowError(number, None, f"has {len(cells)} cells; the header has {width}")],
        )
    code = unicodedata.normalize("NFKC", cell(cells, columns, "edinet_code"))
    kind_of_filer = cell(cells, columns, "type")
    errors: list[RowError] = []
    if not _CODE.match(code):
        errors.append(
            RowError(number, "edinet_code", f"not an EDINET code E + 5 digits (got {code[:20]!r})")
        )
    if kind_of_filer.startswith("個人"):
        return ConnectorRow(number, skipped="an individual filer (個人), not an organization")
    corporate = unicodedata.normalize("NFKC", cell(cells, columns, "corporate_number"))
    if corporate and not (len(corporate) == 13 and corporate.isdigit()):
        errors.append(
            RowError(number, "corporate_number", f"not 13 digits (got {corporate[:20]!r})")
        )
    securities = unicodedata.normalize("NFKC", cell(cells, columns, "securities_code")).upper()
    if securities and not re.match(r"^[0-9A-Z]{4}0?$", securities):
        errors.append(
            RowError(number, "securities_code", f"not a securities code (got {securities[:20]!r})")
        )
    if errors:
        return ConnectorRow(number, errors=errors)

    industry = cell(cells, columns, "industry")
    code33: str | None = None
    names: list[str] = []
    if industry in INDUSTRY_BY_EN:
        code33, ja = INDUSTRY_BY_EN[industry]
        names = [ja, industry]
    elif industry in _INDUSTRY_BY_JA:
        code33, en = _INDUSTRY_BY_JA[industry]
        names = [industry, en]
    elif industry and industry not in ("Others", "その他"):
        names = [industry]
    foreign = kind_of_filer.startswith("外国")
    address = cell(cells, columns, "address")
    region, region_from = (None, "") if foreign else prefecture_of(address, corporate or None)
    kind = "public_body" if kind_of_filer.startswith("外国政府") else kind_for_industry(code33)
    listed = cell(cells, columns, "listed")
    capital = cell(cells, columns, "capital")
    data: dict[str, Any] = {
        "id": f"edinet:{code}",
        "name": cell(cells, columns, "name"),
        "name_en": cell(cells, columns, "name_en") or None,
        "kind": kind,
        "country": _foreign_country(address) if foreign else "JP",
        "region": region,
        "industries": names,
        "registry": {
            "sources": SOURCE,
            "edinet_code": code,
            "corporate_number": corporate,
            "securities_code": securities[:4],
            "listed": {"listed company": "listed", "上場": "listed"}.get(
                listed.casefold(), "unlisted" if listed else ""
            ),
            "submitter_type": kind_of_filer,
            "capital": f"{capital} million JPY" if capital else "",
            "address": address,
            "region_from": region_from,
        },
    }
    return validated(number, data)
