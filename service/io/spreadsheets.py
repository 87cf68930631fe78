"""Tables as spreadsheet files for Excel: CSV (UTF-8 with a BOM, so Excel reads Japanese;
CRLF rows) and XLSX (openpyxl). Text that a spreadsheet would read as a formula is
neutralised in both, by the one rule of `exports.neutralize_cell`; control characters
that XLSX cannot hold are dropped from both, so the two files say the same.

Pure functions: a header and rows of str / int / float / None in, bytes out.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from urllib.parse import quote

from service.io.exports import neutralize_cell

Cell = str | int | float | None

CSV_MEDIA_TYPE = "text/csv; charset=utf-8"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""What XLSX (XML 1.0) cannot hold; tabs and line breaks stay."""
_SHEET_TITLE_BAD = re.compile(r"[\[\]:*?/\\]")
_MAX_WIDTH = 60


def safe_cell(value: Cell) -> Cell:
    """A cell as written: text without control characters and never a formula; numbers
    and blanks as they are (booleans as text)."""
    if value is None or (isinstance(value, int | float) and not isinstance(value, bool)):
        return value
    return neutralize_cell(_ILLEGAL.sub("", str(value)))


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    for row in rows:
        writer.writerow(["" if c is None else safe_cell(c) for c in row])
    return buf.getvalue().encode("utf-8-sig")


def _width(text: str) -> int:
    """Columns a text takes: CJK and other wide characters count two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def sheet_title(name: str) -> str:
    """A worksheet's title from any name: at most 31 characters, none of []:*?/\\."""
    title = _SHEET_TITLE_BAD.sub(" ", _ILLEGAL.sub("", name)).strip().strip("'").strip()[:31]
    return title or "Sheet1"


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]], title: str = "") -> bytes:
    """One worksheet: the header in bold and frozen, columns sized to their text, every
    text cell stored as text (never a formula)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    book = Workbook(write_only=False)
    sheet = book.active
    assert sheet is not None
    sheet.title = sheet_title(title)
    widths: dict[int, int] = {}

    def put(r: int, values: Sequence[Cell], bold: bool = False) -> None:
        for c, value in enumerate(values, 1):
            cell = sheet.cell(row=r, column=c)
            safe = safe_cell(value)
            cell.value = safe if safe != "" else None  # (an empty cell, not an empty text)
            if isinstance(safe, str):
                cell.data_type = "s"  # even a stray "=" stays text
                longest = max((_width(line) for line in safe.split("\n")), default=0)
                widths[c] = max(widths.get(c, 0), longest)
                if "\n" in safe:
                    cell.alignment = Alignment(wrap_text=True, vertical="top")
            if bold:
                cell.font = Font(bold=True)

    put(1, header, bold=True)
    for r, row in enumerate(rows, 2):
        put(r, row)
    sheet.freeze_panes = "A2"
    for c, width in widths.items():
        sheet.column_dimensions[get_column_letter(c)].width = min(_MAX_WIDTH, max(8, width + 2))
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def content_disposition(name: str, fallback: str) -> str:
    """`attachment` with the file's name in any language (RFC 6266 `filename*`), and a
    plain ASCII `fallback` for old clients. Characters no file system takes are dropped."""
    ext = fallback.rpartition(".")[2]
    wanted = "".join(c for c in name if c.isprintable() and c not in '\\/:*?"<>|')[:80].strip()
    value = f'attachment; filename="{fallback}"'
    if wanted:
        value += f"; filename*=UTF-8''{quote(f'{wanted}.{ext}', safe='')}"
    return value
