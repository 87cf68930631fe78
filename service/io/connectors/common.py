"""What every connector shares: the row it yields, reading a text stream whose encoding is
sniffed from its first bytes, CSV records with their row numbers, and validation of the
mapped profile with the importer's field paths and reasons.

Connectors read from a binary stream and yield one `ConnectorRow` per data row, so a large
list is never held whole: only the current record is in memory.
"""

from __future__ import annotations

import codecs
import csv
import io
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from pydantic import ValidationError

from models.profile import Profile
from service.errors import field_path
from service.io.imports import ImportFormatError, RowError

SNIFF_BYTES = 64 * 1024


@dataclass
class ConnectorRow:
    """One data row: its number (the file's line / record; the array position for JSON),
    the profile it maps to, or why not: `errors` (a bad row) or `skipped` (a row that is no
    organization, such as an ETF or an individual filer: not an error)."""

    row: int
    profile: Profile | None = None
    errors: list[RowError] = field(default_factory=list)
    skipped: str | None = None


def sniff_encoding(head: bytes, default: str) -> str:
    """UTF-8 (with or without BOM) when the first bytes decode as UTF-8, else `default`
    (the list's published encoding, cp932 for EDINET)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)  # a character cut at the end is not an error
    except UnicodeDecodeError:
        return default
    return "utf-8"


def text_stream(stream: IO[bytes], encoding: str | None, default: str) -> tuple[IO[str], str]:
    """The stream as text (newlines untranslated, for csv), and the encoding used: the
    one named, or sniffed from the first 64 KiB (see `sniff_encoding`)."""
    buffered: Any = stream if hasattr(stream, "peek") else io.BufferedReader(stream, SNIFF_BYTES)
    if encoding and encoding.strip().lower() not in ("", "auto"):
        try:
            name = codecs.lookup(encoding.strip()).name
        except LookupError:
            raise ImportFormatError(f"unknown encoding '{encoding}'") from None
    else:
        name = sniff_encoding(buffered.peek(SNIFF_BYTES)[:SNIFF_BYTES], default)
    if name == "utf-8" and buffered.peek(3)[:3] == codecs.BOM_UTF8:
        name = "utf-8-sig"
    return io.TextIOWrapper(buffered, encoding=name, newline=""), name


def header_key(name: str) -> str:
    """A header cell as compared: NFKC, case-folded, trimmed (全角 "ＥＤＩＮＥＴコード" and
    "EDINET Code" compare as written in either width)."""
    return unicodedata.normalize("NFKC", name).strip().casefold()


def csv_records(text: IO[str]) -> Iterator[tuple[int, list[str]]]:
    """(record number from 1, cells) of a CSV stream; a syntax error or a decoding error
    is an `ImportFormatError` naming the record."""
    reader = csv.reader(text, strict=True)
    number = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise ImportFormatError(f"CSV syntax error at record {number + 1}: {exc}") from None
        except UnicodeDecodeError as exc:
            raise ImportFormatError(
                f"cannot decode record {number + 1} as {exc.encoding}: invalid byte(s) "
                f"{exc.object[exc.start : exc.start + 4].hex(' ').upper()}; name the encoding"
            ) from None
        number += 1
        yield number, cells


def column_map(
    header: list[str], wanted: dict[str, tuple[str, ...]], required: tuple[str, ...], row: int
) -> dict[str, int]:
    """field -> column index, from a header whose cells may be any of the field's names
    (English or Japanese); missing required columns are an `ImportFormatError`."""
    keys = [header_key(h) for h in header]
    found: dict[str, int] = {}
    for name, aliases in wanted.items():
        for alias in aliases:
            if header_key(alias) in keys:
                found[name] = keys.index(header_key(alias))
                break
    missing = [wanted[n][0] for n in required if n not in found]
    if missing:
        raise ImportFormatError(
            f"row {row} is not the list's header: missing column(s) {', '.join(missing)}"
        )
    return found


def validated(row: int, data: dict[str, Any]) -> ConnectorRow:
    """The row's profile, or its errors with the importer's field paths."""
    try:
        return ConnectorRow(row, Profile.model_validate(data))
    except ValidationError as exc:
        return ConnectorRow(
            row,
            errors=[
                RowError(
                    row, field_path(e["loc"]) or None, str(e["msg"]).removeprefix("Value error, ")
                )
                for e in exc.errors()
            ],
        )


def cell(cells: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    if index is None or index >= len(cells):
        return ""
    return cells[index].strip()
