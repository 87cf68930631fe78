"""The follow-up sheet (商談シート): one row per meeting and side to ask, the columns a
coordinator fills in, as CSV or XLSX, and the filled sheet read back. Pure: no database,
no HTTP (service.outcomes.sheets decides what a read row writes).

One sheet covers both what was said right after the meeting and each follow-up round:

    枠 / slot, 時刻 / time, テーブル / table            where and when (read only)
    回答者ID / participant_id, 回答者 / participant    the side asked (the id is required)
    相手ID / partner_id, 相手先 / partner              the other side (the id is required)
    出欠 / attendance            実施 / 欠席 / 中止 (held, no_show, cancelled)
    欠席者 / no_show             自社 / 相手 / 双方 (self, partner, both), or ids
    関心度 / interest            なし / あり / 強い (none, some, strong)
    次のステップ / next_step     なし / 再商談 / サンプル・見積 / NDA / 共同提案
    商談メモ / note              private to the side and the organizer
    段階（3か月後） / stage_3m   per round of the event: 進展なし / 商談中 / NDA締結 /
                                 共同開発 / 受注・契約 / 新事業 (no_progress, negotiation,
                                 nda, joint_development, contract, new_business)
    金額・円（3か月後） / amount_yen_3m   yen: 1200000, 1,200,000円, 120万円
    メモ（3か月後） / note_3m
    未回答 / due                 the reached rounds not answered yet (read only)

Headers are read in either language whatever the sheet was written in (after NFKC, case
folding, and without spaces, brackets and underscores: "段階 (3ヶ月後)" and "Stage 3m"
both name the 3-month stage); cells take the Japanese labels or the English codes. The
read-only columns and columns the sheet does not know (a coordinator's 備考) are ignored,
the latter listed in the warnings. Empty cells mean "nothing said": a row with an empty
出欠 records no outcome, an empty 段階 no answer for that round; nothing is ever erased.
A cell that the export neutralised against formulas ('=...) is read without its quote.

Row numbers are the sheet's (the header is row 1); each problem names its row, its column
(letter and header as written) and the reason.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from models.outcomes import ATTENDANCES, INTERESTS, NEXT_STEPS, STAGES
from service.io import spreadsheets
from service.io.imports import ImportFormatError, decode
from service.io.xlsx import is_xlsx, xlsx_to_csv

SheetLang = Literal["ja", "en"]

MAX_SHEET_BYTES = 10 * 1024 * 1024
"""A filled sheet's largest size (an event's sheet is a few hundred kilobytes)."""
MAX_SHEET_ROWS = 20_000
"""Data rows: two per meeting; the largest event (5,000 participants) has fewer."""
MAX_CELL = 4_000

BASE_COLUMNS: dict[str, tuple[str, str]] = {
    "slot": ("枠", "slot"),
    "time": ("時刻", "time"),
    "table": ("テーブル", "table"),
    "side": ("回答者ID", "participant_id"),
    "side_name": ("回答者", "participant"),
    "partner": ("相手ID", "partner_id"),
    "partner_name": ("相手先", "partner"),
    "attendance": ("出欠", "attendance"),
    "no_show": ("欠席者", "no_show"),
    "interest": ("関心度", "interest"),
    "next_step": ("次のステップ", "next_step"),
    "note": ("商談メモ", "note"),
}
"""Column key -> (Japanese header, English header), in the sheet's order; the round
columns and `due` follow."""
READ_ONLY = frozenset({"slot", "time", "table", "side_name", "partner_name", "due"})
DUE = ("未回答", "due")
ROUND_PARTS: dict[str, tuple[str, str]] = {
    "stage": ("段階（{m}か月後）", "stage_{m}m"),
    "amount_yen": ("金額・円（{m}か月後）", "amount_yen_{m}m"),
    "note": ("メモ（{m}か月後）", "note_{m}m"),
}

LABELS: dict[str, dict[str, str]] = {
    "attendance": {"held": "実施", "no_show": "欠席", "cancelled": "中止"},
    "interest": {"none": "なし", "some": "あり", "strong": "強い"},
    "next_step": {
        "none": "なし",
        "another_meeting": "再商談",
        "samples_or_quote": "サンプル・見積",
        "nda": "NDA",
        "joint_proposal": "共同提案",
    },
    "stage": {
        "no_progress": "進展なし",
        "negotiation": "商談中",
        "nda": "NDA締結",
        "joint_development": "共同開発",
        "contract": "受注・契約",
        "new_business": "新事業",
    },
    "no_show": {"self": "自社", "partner": "相手", "both": "双方"},
}
"""Japanese labels of the codes, as the Japanese sheet writes them."""

_ALIASES: dict[str, dict[str, str]] = {
    "attendance": {"実施済": "held", "済": "held", "参加": "held", "不参加": "no_show",
                   "キャンセル": "cancelled", "canceled": "cancelled", "noshow": "no_show"},
    "interest": {"無し": "none", "無": "none", "有り": "some", "ある": "some", "やや": "some",
                 "有": "some", "大": "strong", "高い": "strong", "高": "strong", "強": "strong"},
    "next_step": {"再面談": "another_meeting", "サンプル": "samples_or_quote",
                  "見積": "samples_or_quote", "見積り": "samples_or_quote",
                  "秘密保持契約": "nda"},
    "stage": {"商談": "negotiation", "交渉中": "negotiation", "交渉": "negotiation",
              "nda": "nda", "秘密保持契約": "nda", "契約": "contract", "受注": "contract",
              "成約": "contract", "order": "contract", "新事業創出": "new_business",
              "事業化": "new_business", "なし": "no_progress", "進展無し": "no_progress"},
    "no_show": {"本人": "self", "自分": "self", "先方": "partner", "両方": "both",
                "両者": "both"},
}  # fmt: skip
CODES: dict[str, tuple[str, ...]] = {
    "attendance": ATTENDANCES,
    "interest": INTERESTS,
    "next_step": NEXT_STEPS,
    "stage": STAGES,
    "no_show": ("self", "partner", "both"),
}


def _key(text: str) -> str:
    """A header or a label as compared: NFKC, case folded, without spaces, underscores,
    hyphens, brackets, dots and middle dots."""
    return re.sub(
        r"[\s_\-()\[\]（）「」・.:：]", "", unicodedata.normalize("NFKC", text).casefold()
    )


def _value_table(kind: str) -> dict[str, str]:
    table = {_key(code): code for code in CODES[kind]}
    table.update({_key(label): code for code, label in LABELS[kind].items()})
    table.update({_key(alias): code for alias, code in _ALIASES[kind].items()})
    return table


_VALUES = {kind: _value_table(kind) for kind in CODES}
_HEADERS: dict[str, str] = {
    _key(name): column for column, names in {**BASE_COLUMNS, "due": DUE}.items() for name in names
}
_HEADERS.update({_key(n): "side" for n in ("参加者ID", "自社ID", "side", "side_id")})
_HEADERS.update({_key(n): "partner" for n in ("相手先ID",)})
_HEADERS.update({_key(n): "note" for n in ("メモ", "備考(商談)")})
_MONTHS = re.compile(r"(\d{1,3})(?:か|ヶ|ケ|カ|箇|ヵ)?月後?|(\d{1,3})(?:m|months?)(?![a-z])")
_ROUND_WORDS = {
    "stage": ("段階", "進捗", "状況", "stage"),
    "amount_yen": ("金額円", "金額", "amountyen", "amount", "yen"),
    "note": ("メモ", "備考", "note", "notes"),
}


def column_of(header: str) -> tuple[str, int | None] | None:
    """(column key, round months or None) for a header, or None for an unknown one."""
    key = _key(header)
    if key in _HEADERS:
        return _HEADERS[key], None
    found = _MONTHS.search(key)
    if found is None:
        return None
    months = int(found.group(1) or found.group(2))
    rest = key[: found.start()] + key[found.end() :]
    for part, words in _ROUND_WORDS.items():
        if rest in words:
            return part, months
    return None


def headers(months: Sequence[int], lang: SheetLang) -> list[str]:
    i = 0 if lang == "ja" else 1
    out = [names[i] for names in BASE_COLUMNS.values()]
    for m in months:
        out += [names[i].format(m=m) for names in ROUND_PARTS.values()]
    return [*out, DUE[i]]


def label(kind: str, code: str | None, lang: SheetLang) -> str:
    if code is None:
        return ""
    return LABELS[kind].get(code, code) if lang == "ja" else code


def due_text(months: Iterable[int], lang: SheetLang) -> str:
    return (
        "、".join(f"{m}か月後" for m in months)
        if lang == "ja"
        else ", ".join(f"{m}m" for m in months)
    )


@dataclass(frozen=True)
class SheetRow:
    """A row to write: the cells by column key; round cells by (part, months)."""

    cells: Mapping[str, spreadsheets.Cell]
    rounds: Mapping[tuple[str, int], spreadsheets.Cell]


def _table(rows: Iterable[SheetRow], months: Sequence[int]) -> list[list[spreadsheets.Cell]]:
    out = []
    for row in rows:
        line = [row.cells.get(c) for c in BASE_COLUMNS]
        for m in months:
            line += [row.rounds.get((part, m)) for part in ROUND_PARTS]
        out.append([*line, row.cells.get("due")])
    return out


def sheet_csv(rows: Iterable[SheetRow], months: Sequence[int], lang: SheetLang) -> bytes:
    return spreadsheets.csv_bytes(headers(months, lang), _table(rows, months))


def sheet_xlsx(
    rows: Iterable[SheetRow], months: Sequence[int], lang: SheetLang, title: str
) -> bytes:
    """The sheet as XLSX, with a drop-down of the labels on each column that takes one
    (a value typed otherwise only warns: the reader takes aliases and codes too)."""
    table = _table(rows, months)
    data = spreadsheets.xlsx_bytes(headers(months, lang), table, title=title)
    return _with_choices(data, months, lang, len(table))


def _choices(kind: str, lang: SheetLang) -> list[str]:
    return [label(kind, code, lang) for code in CODES[kind]]


def _with_choices(data: bytes, months: Sequence[int], lang: SheetLang, rows: int) -> bytes:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    book = load_workbook(io.BytesIO(data))
    sheet = book.active
    assert sheet is not None
    keys = list(BASE_COLUMNS)
    for m in months:
        keys += [f"{part}:{m}" for part in ROUND_PARTS]
    last = max(rows + 1, 2) + 200  # room for rows a coordinator adds
    for index, key in enumerate(keys, 1):
        kind = key.split(":", 1)[0]
        if kind not in CODES:
            continue
        validation = DataValidation(
            type="list",
            formula1='"' + ",".join(_choices(kind, lang)) + '"',
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
        )
        column = get_column_letter(index)
        validation.add(f"{column}2:{column}{last}")
        sheet.add_data_validation(validation)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# ---------------------------------------------------------------------------- reading


@dataclass(frozen=True)
class SheetError:
    """A problem of one row: `column` is the letter and header as written ("J 関心度"),
    None for the whole row."""

    row: int
    column: str | None
    reason: str

    def to_dict(self) -> dict[str, object]:
        return {"row": self.row, "field": self.column or "", "reason": self.reason}


@dataclass
class ReadRow:
    """A filled row: the side and partner ids, the outcome cells and each round's cells
    as codes (labels already read), `columns` the header of each key for messages."""

    row: int
    side: str
    partner: str
    outcome: dict[str, str]
    rounds: dict[int, dict[str, str]]


@dataclass
class ReadSheet:
    rows: list[ReadRow]
    errors: list[SheetError]
    columns: dict[tuple[str, int | None], str]
    total_rows: int
    warnings: list[str] = field(default_factory=list)
    format: str = "csv"
    encoding: str = "utf-8"

    def column(self, key: str, months: int | None = None) -> str:
        return self.columns.get((key, months), key)


def _letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _unquote(value: str) -> str:
    """A cell without the quote the export put before formula-like text."""
    if value.startswith("'") and value[1:].lstrip(" \t\r\n\u3000")[:1] in tuple("=+-@＝＋－＠"):
        return value[1:]
    return value


_AMOUNT = re.compile(r"^[¥￥]?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?\s*(万|億)?\s*円?$")


def read_amount(value: str) -> int | None:
    """Yen from a cell ("1200000", "1,200,000円", "¥1,200,000", "120万円", "1.5億"), or
    None when the text is not an amount."""
    found = _AMOUNT.match(unicodedata.normalize("NFKC", value).strip())
    if found is None:
        return None
    whole, fraction, unit = found.group(1).replace(",", ""), found.group(2) or "", found.group(3)
    scale = {"万": 10**4, "億": 10**8}.get(unit or "", 1)
    if fraction and scale == 1:
        return None
    number = int(whole + fraction) * scale // (10 ** len(fraction))
    if int(whole + fraction) * scale % (10 ** len(fraction)):
        return None
    return number


def read_code(kind: str, value: str) -> str | None:
    return _VALUES[kind].get(_key(value))


def _text(data: bytes, filename: str | None, encoding: str | None) -> tuple[str, str, str]:
    if len(data) > MAX_SHEET_BYTES:
        raise ImportFormatError(
            f"the file is {len(data):,} bytes; at most {MAX_SHEET_BYTES:,} are allowed"
        )
    if is_xlsx(data, filename):
        return xlsx_to_csv(data, max_rows=MAX_SHEET_ROWS, max_bytes=MAX_SHEET_BYTES), "xlsx", ""
    text, used = decode(data, encoding)
    return text, "csv", used


def read_sheet(
    data: bytes,
    *,
    months: Sequence[int],
    filename: str | None = None,
    encoding: str | None = None,
) -> ReadSheet:
    """Read a filled sheet (CSV in UTF-8 or cp932, or XLSX). `months` are the event's
    rounds: a round column of another round is a file error. Raises ImportFormatError for a
    file that cannot be read as a whole; bad cells are in `errors`."""
    text, fmt, used = _text(data, filename, encoding)
    if not text.strip():
        raise ImportFormatError("the file is empty")
    first = text.partition("\n")[0]
    delimiter = "\t" if "," not in first and "\t" in first else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
    try:
        records = list(reader)
    except csv.Error as exc:
        raise ImportFormatError(f"CSV syntax error near line {reader.line_num}: {exc}") from None
    header_at = next((i for i, r in enumerate(records) if any(c.strip() for c in r)), None)
    if header_at is None:
        raise ImportFormatError("the file is empty")
    header = records[header_at]
    keys: list[tuple[str, int | None] | None] = []
    columns: dict[tuple[str, int | None], str] = {}
    unknown: list[str] = []
    problems: list[str] = []
    for i, raw in enumerate(header):
        name = raw.strip()
        found = column_of(name) if name else None
        if found is None:
            keys.append(None)
            if name:
                unknown.append(f"{_letter(i)} '{name[:60]}'")
            continue
        if found[1] is not None and found[1] not in months:
            rounds = ", ".join(map(str, months))
            problems.append(
                f"column {_letter(i)} '{name}' is a {found[1]}-month round; this event's "
                f"follow-up rounds are {rounds} months"
            )
        if found in columns:
            problems.append(f"columns {columns[found]} and {_letter(i)} '{name}' say the same")
        columns.setdefault(found, f"{_letter(i)} {name}")
        keys.append(found)
    for required in ("side", "partner"):
        if (required, None) not in columns:
            names = BASE_COLUMNS[required]
            problems.append(f"no column {names[0]} / {names[1]}")
    if problems:
        raise ImportFormatError(f"bad header (row {header_at + 1}): " + "; ".join(problems))
    warnings = [f"ignored unknown column(s) {', '.join(unknown)}"] if unknown else []

    sheet = ReadSheet([], [], columns, 0, warnings, fmt, used)
    for index in range(header_at + 1, len(records)):
        cells = records[index]
        if not any(c.strip() for c in cells):
            continue
        sheet.total_rows += 1
        if sheet.total_rows > MAX_SHEET_ROWS:
            raise ImportFormatError(
                f"more than {MAX_SHEET_ROWS:,} rows; split the sheet into smaller files"
            )
        row = _read_row(index + 1, cells, keys, header, sheet)
        if row is not None:
            sheet.rows.append(row)
    if sheet.total_rows == 0:
        sheet.warnings.append("the sheet has no data rows (only a header row): nothing to read")
    return sheet


def _read_row(
    number: int,
    cells: list[str],
    keys: list[tuple[str, int | None] | None],
    header: list[str],
    sheet: ReadSheet,
) -> ReadRow | None:
    errors: list[SheetError] = []
    values: dict[tuple[str, int | None], str] = {}
    for i, raw in enumerate(cells):
        value = _unquote(raw.replace("\r\n", "\n").strip())
        if not value:
            continue
        key = keys[i] if i < len(keys) else None
        if key is None:
            if i >= len(header) or not header[i].strip():
                errors.append(SheetError(number, _letter(i), "a value in a column without header"))
            continue
        if key[0] in READ_ONLY:
            continue
        if len(value) > MAX_CELL:
            errors.append(
                SheetError(number, sheet.column(*key), f"at most {MAX_CELL:,} characters")
            )
            continue
        values[key] = value
    side, partner = values.get(("side", None), ""), values.get(("partner", None), "")
    for name, given in (("side", side), ("partner", partner)):
        if not given:
            errors.append(SheetError(number, sheet.column(name), "required"))
    outcome: dict[str, str] = {}
    rounds: dict[int, dict[str, str]] = {}
    for (part, months), value in values.items():
        if part in ("side", "partner"):
            continue
        code = value
        if part in CODES and part != "no_show":
            found = read_code(part, value)
            if found is None:
                choices = ", ".join(f"{LABELS[part][c]} ({c})" for c in CODES[part])
                errors.append(SheetError(number, sheet.column(part, months), f"one of {choices}"))
                continue
            code = found
        elif part == "amount_yen":
            amount = read_amount(value)
            if amount is None:
                errors.append(
                    SheetError(
                        number,
                        sheet.column(part, months),
                        f"not an amount in yen: {value[:40]!r} (e.g. 1200000, 1,200,000円, "
                        "120万円)",
                    )
                )
                continue
            code = str(amount)
        if months is None:
            outcome[part] = code
        else:
            rounds.setdefault(months, {})[part] = code
    if errors:
        sheet.errors.extend(errors)
        return None
    return ReadRow(number, side, partner, outcome, rounds)


def no_show_ids(value: str, side: str, partner: str) -> list[str] | None:
    """The participants a 欠席者 cell names: 自社 / 相手 / 双方 (self, partner, both) or
    ids separated by , ; 、 or spaces; None when a part names neither side."""
    code = read_code("no_show", value)
    if code is not None:
        return {"self": [side], "partner": [partner], "both": [side, partner]}[code]
    out: list[str] = []
    for part in re.split(r"[\s,;、，；/]+", value.strip()):
        if not part:
            continue
        code = read_code("no_show", part)
        pid = side if code == "self" else partner if code == "partner" else part
        if pid not in (side, partner):
            return None
        out.append(pid)
    return out or None
