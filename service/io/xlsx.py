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
- `is_xlsx(data, filename)`: whether an upload is a workbook (.xlsx name or zip magic).

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
import zipfile
from pathlib import PurePath
from typing import Any

from models.profile import Profile
from service.io.imports import MAX_BYTES, ImportFormatError, ParsedFile, parse_profiles

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


def xlsx_to_csv(
    data: bytes,
    *,
    max_rows: int = 100_000,
    max_bytes: int = MAX_BYTES,
    max_unzipped: int = MAX_UNZIPPED_BYTES,
) -> str:
    """The first worksheet as CSV text (see the module docstring). Raises
    `ImportFormatError`."""
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
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        filled = 0
        pending_blank = 0
        try:
            for row in sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True):
                cells = [_cell_text(v) for v in row]
                while cells and cells[-1] == "":
                    cells.pop()
                if not cells:
                    pending_blank += 1  # written only if a filled row follows
                    continue
                filled += 1
                if filled > max_rows + 1:  # + the header row
                    raise ImportFormatError(
                        f"more than {max_rows:,} rows; split the file into smaller imports"
                    )
                for _ in range(pending_blank):
                    writer.writerow([])
                pending_blank = 0
                writer.writerow(cells)
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
    text = xlsx_to_csv(data, max_rows=max_rows, max_bytes=max_bytes, max_unzipped=max_unzipped)
    encoded = text.encode("utf-8")
    return parse_profiles(
        encoded,
        format="csv",
        encoding="utf-8",
        max_rows=max_rows,
        max_bytes=max(max_bytes, len(encoded)),
        unknown_columns=unknown_columns,
    )
