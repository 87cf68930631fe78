"""Reading Excel workbooks (.xlsx) for imports: the first sheet becomes the same text the
CSV path reads, so an XLSX file gets the same columns (Japanese headers included), cell
conventions, row numbers and errors as the CSV saved from it.

Pure functions (no database, no HTTP), like `service.io.imports`.

- `xlsx_to_csv(data)`: the first worksheet as CSV text, one CSV record per sheet row from
  row 1 (empty rows included, so that CSV row numbers are the sheet's row numbers). Cells:
  text as is, whole numbers without ".0", dates as ISO dates (date-times at midnight as
  dates), booleans as TRUE/FALSE, formulas by their cached value (the workbook is opened
  with `data_only`); an error cell (#N/A ...) is kept as its text, so the row is reported.
- `parse_profile_workbook(data, ...)`: `xlsx_to_csv` then `imports.parse_profiles`.
- `parse_profile_upload(data, ...)`: a workbook or a JSONL / CSV file, by `is_xlsx`: what
  the import route and `clustermatch import` read.
- `is_xlsx(data, filename)`: whether an upload is a workbook (.xlsx name or zip magic).

Member lists as offices keep them:
- rows above the table (a title such as "会員名簿 2026年度", a date, blank rows): the header
  is the first of the first `HEADER_SEARCH_ROWS` filled rows with at least two known
  column names (Japanese headers included); the rows above it are skipped, and the report's
  warnings say which;
- merged cells (read from the sheet's `mergeCells`, streamed): a merge in the header row, or
  one that spans several columns below it, is refused naming its range and row (one value
  cannot be two columns' header or two fields); a merge down one column (業種 merged over
  the firms of one trade) gives its value to every row it covers, and the warnings say so;
  merges above the header are part of the title and ignored.

Guards (each an `ImportFormatError` with the reason): a file over `max_bytes`; anything
that is not a zip (an old .xls, a renamed CSV); a workbook whose declared unzipped size is
over `max_unzipped` or with more than `MAX_MEMBERS` parts (zip bombs: Python's zipfile
never inflates a member past its declared size, so the declared sizes bound the work);
more than `max_rows` non-empty rows; a password-protected workbook. The workbook is read
in openpyxl's read-only mode (streamed, never the whole sheet in memory as cell objects).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from pathlib import PurePath
from typing import Any
from xml.etree.ElementTree import iterparse

from models.profile import Profile
from service.io.imports import (
    MAX_BYTES,
    PROFILE_COLUMNS,
    ImportFormatError,
    ParsedFile,
    _header_key,
    parse_profiles,
)

__all__ = [
    "MAX_MEMBERS",
    "MAX_UNZIPPED_BYTES",
    "is_xlsx",
    "parse_profile_workbook",
    "xlsx_to_csv",
]

MAX_UNZIPPED_BYTES = 256 * 1024 * 1024
"""Default upper bound on a workbook's unzipped size (its parts' declared sizes added up)."""
MAX_MEMBERS = 10_000
MAX_COLUMNS = 200
"""Columns read per row: a profile sheet has about 20; more is formatting far to the right."""
HEADER_SEARCH_ROWS = 20
"""Filled rows searched for the header row (titles and notes above the table)."""
MAX_MERGES = 10_000
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # .xls, and encrypted .xlsx files


def is_xlsx(data: bytes, filename: str | None = None) -> bool:
    """A workbook by its name (.xlsx/.xlsm) or, without a telling name, by its zip magic."""
    if filename:
        suffix = PurePath(filename.strip()).suffix.lower()
        if suffix in (".xlsx", ".xlsm"):
            return True
        if suffix in (".csv", ".tsv", ".txt", ".jsonl", ".json", ".ndjson"):
            return False
    return data.startswith(_ZIP_MAGIC)


def _check_zip(data: bytes, max_bytes: int, max_unzipped: int) -> None:
    if len(data) > max_bytes:
        raise ImportFormatError(
            f"the file is {len(data):,} bytes; at most {max_bytes:,} are allowed per import"
        )
    if data.startswith(_OLE_MAGIC):
        raise ImportFormatError(
            "this is an old Excel (.xls) or a password-protected workbook; "
            "save it as an Excel workbook (.xlsx) without a password, or as CSV"
        )
    if not data.startswith(_ZIP_MAGIC):
        raise ImportFormatError("not an Excel workbook (.xlsx): save the sheet as .xlsx or CSV")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise ImportFormatError(f"not a readable Excel workbook (.xlsx): {exc}") from None
    if len(members) > MAX_MEMBERS:
        raise ImportFormatError(
            f"the workbook has {len(members):,} parts; at most {MAX_MEMBERS:,} are allowed"
        )
    unzipped = sum(m.file_size for m in members)
    if unzipped > max_unzipped:
        raise ImportFormatError(
            f"the workbook unzips to {unzipped:,} bytes; at most {max_unzipped:,} are allowed "
            "(split the sheet, or save it as CSV)"
        )


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="minutes")
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


_REF = re.compile(r"^\$?([A-Z]{1,3})\$?(\d+)$")
Merge = tuple[int, int, int, int]  # first row, first column, last row, last column (1-based)


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - ord("A") + 1
    return n


def _column_letters(n: int) -> str:
    out = ""
    while n:
        n, rest = divmod(n - 1, 26)
        out = chr(ord("A") + rest) + out
    return out


def _merges(data: bytes, part: str | None) -> list[Merge]:
    """The merged ranges of a worksheet part, read from its XML as a stream."""
    if not part:
        return []
    found: list[Merge] = []
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        name = part.lstrip("/")
        if name not in archive.namelist():
            return []
        with archive.open(name) as stream:
            for _, element in iterparse(stream):
                if element.tag.endswith("}mergeCell") or element.tag == "mergeCell":
                    first, _, last = element.get("ref", "").partition(":")
                    a, b = _REF.match(first), _REF.match(last or first)
                    if a and b:
                        found.append(
                            (int(a[2]), _column_number(a[1]), int(b[2]), _column_number(b[1]))
                        )
                    if len(found) > MAX_MERGES:
                        raise ImportFormatError(
                            f"the sheet has more than {MAX_MERGES:,} merged ranges"
                        )
                element.clear()
    return found


def _range(m: Merge) -> str:
    first = f"{_column_letters(m[1])}{m[0]}"
    last = f"{_column_letters(m[3])}{m[2]}"
    return first if first == last else f"{first}:{last}"


def _is_header(cells: list[str]) -> bool:
    known = {PROFILE_COLUMNS.get(_header_key(c)) for c in cells if c.strip()}
    known.discard(None)
    return len(known) >= 2


def _table_merges(
    merges: list[Merge], header: int, above: list[tuple[int, list[str]]], warnings: list[str]
) -> dict[int, list[tuple[int, int]]]:
    """Check the merged ranges against the table that starts at row `header`; the vertical
    merges below it, first row -> (column, last row). Refuses a merge in the header row
    or across columns (see the module docstring)."""
    tops: dict[int, list[tuple[int, int]]] = {}
    for m in sorted(merges):
        if m[2] < header:
            continue  # part of the title above the table
        if m[0] <= header:
            raise ImportFormatError(
                f"merged cells {_range(m)} in the header row {header}: unmerge them, so "
                "that each column has a header of its own"
            )
        if m[3] > m[1]:
            raise ImportFormatError(
                f"merged cells {_range(m)} (row {m[0]}, columns {_column_letters(m[1])}-"
                f"{_column_letters(m[3])}) span several columns: one value cannot fill two "
                "fields; unmerge them"
            )
        if m[2] > m[0]:
            tops.setdefault(m[0], []).append((m[1], m[2]))
            warnings.append(
                f"merged cells {_range(m)}: the value of {_column_letters(m[1])}{m[0]} is "
                f"used for rows {m[0]}-{m[2]}"
            )
    if above:
        shown = "; ".join(f"row {r}: {' '.join(c)[:40]}" for r, c in above[:3])
        warnings.append(
            f"the header is row {header}; {len(above)} row(s) above the table were skipped "
            f"({shown})"
        )
    return tops


def xlsx_to_csv(
    data: bytes,
    *,
    max_rows: int = 100_000,
    max_bytes: int = MAX_BYTES,
    max_unzipped: int = MAX_UNZIPPED_BYTES,
    warnings: list[str] | None = None,
) -> str:
    """The first worksheet as CSV text (see the module docstring); what was skipped or
    filled is added to `warnings`. Raises `ImportFormatError`."""
    warnings_out = warnings if warnings is not None else []
    _check_zip(data, max_bytes, max_unzipped)
    from openpyxl import load_workbook  # heavy; only imports of workbooks need it

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged or foreign file
        raise ImportFormatError(
            f"not a readable Excel workbook (.xlsx): {type(exc).__name__}"
        ) from None
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise ImportFormatError("the workbook has no worksheet")
        sheet = sheets[0]
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()  # some writers store wrong dimensions
        merges = _merges(data, getattr(sheet, "_worksheet_path", None))
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        last = 0  # the last sheet row written: blank records keep the sheet's row numbers

        def emit(row_number: int, cells: list[str]) -> None:
            nonlocal last
            for _ in range(row_number - last - 1):
                writer.writerow([])
            writer.writerow(cells)
            last = row_number

        filled = 0
        searching = True
        held: list[tuple[int, list[str]]] = []  # filled rows above a header not yet found
        tops: dict[int, list[tuple[int, int]]] = {}  # first row -> (column, last row) merged
        fill: dict[int, dict[int, str]] = {}  # row -> column -> the merged value
        try:
            for row_number, row in enumerate(
                sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), start=1
            ):
                cells = [_cell_text(v) for v in row]
                if not searching:
                    for column, value in fill.pop(row_number, {}).items():
                        cells += [""] * (column - len(cells))
                        cells[column - 1] = cells[column - 1] or value
                    for column, bottom in tops.pop(row_number, []):
                        value = cells[column - 1] if column <= len(cells) else ""
                        for r in range(row_number + 1, bottom + 1):
                            fill.setdefault(r, {})[column] = value
                while cells and cells[-1] == "":
                    cells.pop()
                if not cells:
                    continue
                filled += 1
                if filled > max_rows + HEADER_SEARCH_ROWS + 1:
                    raise ImportFormatError(
                        f"more than {max_rows:,} rows; split the file into smaller imports"
                    )
                if searching:
                    if _is_header(cells):
                        searching = False
                        tops = _table_merges(merges, row_number, held, warnings_out)
                    elif len(held) < HEADER_SEARCH_ROWS:
                        held.append((row_number, cells))
                        continue
                    else:  # no header near the top: the CSV reader says what is wrong
                        searching = False
                        for n, c in held:
                            emit(n, c)
                emit(row_number, cells)
            if searching:
                for n, c in held:
                    emit(n, c)
        except ImportFormatError:
            raise
        except Exception as exc:
            raise ImportFormatError(
                f"the first sheet of the workbook cannot be read: {type(exc).__name__}"
            ) from None
        if filled == 0:
            raise ImportFormatError("the first sheet of the workbook is empty")
        return out.getvalue()
    finally:
        workbook.close()


def parse_profile_workbook(
    data: bytes,
    *,
    max_rows: int = 100_000,
    max_bytes: int = MAX_BYTES,
    max_unzipped: int = MAX_UNZIPPED_BYTES,
    unknown_columns: Any = "error",
) -> ParsedFile[Profile]:
    """Read a profile workbook's first sheet as `parse_profiles` reads a CSV file."""
    notes: list[str] = []
    text = xlsx_to_csv(
        data, max_rows=max_rows, max_bytes=max_bytes, max_unzipped=max_unzipped, warnings=notes
    )
    encoded = text.encode("utf-8")
    parsed = parse_profiles(
        encoded,
        format="csv",
        encoding="utf-8",
        max_rows=max_rows,
        max_bytes=max(max_bytes, len(encoded)),
        unknown_columns=unknown_columns,
    )
    parsed.warnings[:0] = notes
    return parsed


def parse_profile_upload(
    data: bytes,
    *,
    format: str = "auto",
    encoding: str | None = None,
    filename: str | None = None,
    max_rows: int = 100_000,
    unknown_columns: Any = "error",
) -> ParsedFile[Profile]:
    """An import file of any kind: a workbook (`is_xlsx`) read by
    `parse_profile_workbook`, anything else by `parse_profiles` (JSONL or CSV)."""
    if format in ("auto", "xlsx") and (format == "xlsx" or is_xlsx(data, filename)):
        return parse_profile_workbook(data, max_rows=max_rows, unknown_columns=unknown_columns)
    return parse_profiles(
        data,
        format=format,  # type: ignore[arg-type]
        encoding=encoding,
        filename=filename,
        max_rows=max_rows,
        unknown_columns=unknown_columns,
    )
