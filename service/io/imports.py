"""Reading profile and interaction files: bytes in, validated objects and per-row errors out.

Pure functions (no database, no HTTP). The import endpoints and the CLI call these and decide
what to store; everything about *reading* a file lives here, so every door reports the same
row numbers, field names and reasons.

Encodings
    `decode` detects, in this order: a UTF-16/UTF-32 byte-order mark (Excel's "Unicode text"),
    UTF-8 with or without BOM (strict), then the two Japanese legacy encodings — cp932 (what
    Excel in Japan writes as "CSV") and EUC-JP (old Unix systems); when both decode, the one
    giving fewer half-width katakana wins, since EUC-JP read as cp932 turns into half-width
    katakana mojibake — and finally charset-normalizer. A detected decoding that contains
    control characters (NUL ...) or cp932's "undefined byte" code points is rejected as
    implausible. An explicit encoding is used strictly. Failures raise `ImportFormatError`
    naming the byte offset and line.

Formats
    `detect_format`: a known extension (.jsonl/.ndjson/.json → jsonl, .csv/.tsv → csv) decides;
    otherwise text starting with `{` or `[` is JSONL, anything else CSV.

    JSONL: one object per line; blank lines skipped; the row number is the line number. A
    line that is not a JSON object is a `RowError(row, None, "not a JSON object: ...")`; a key
    given twice in one object is a row error too, and so is a line nested deeper than the JSON
    reader's recursion allows ("arrays or objects nested too deeply"). A file that is one
    JSON array of objects (or one object, pretty-printed) is accepted; there the row number
    is the object's 1-based position in the array. A file in which no line is JSON at all
    is an `ImportFormatError`. JSONL values are validated as they are (no spreadsheet
    leniency).

    CSV: the first row is the header (a leading Excel `sep=;` line is honoured; otherwise the
    delimiter is ',' unless the header line has only tabs or only semicolons). Header names
    are matched after Unicode NFKC, case folding, trimming, and turning spaces/hyphens into
    '_'; besides the field names, common Japanese headers are accepted (see
    `PROFILE_COLUMNS`). Row numbers are spreadsheet row numbers: the header is row 1, and a
    quoted multi-line cell does not shift later rows. Rows with only empty cells are skipped;
    empty cells mean "absent". Cell conveniences for spreadsheet users:
      * list fields split on ';', '；', newlines and '、' (offers, needs, industries); the code
        lists (markets, languages) also split on ',', '，', '/', '・' and whitespace;
      * id, kind, country, markets, languages, employees, founded are NFKC-normalised
        (full-width "ＪＰ" → "JP", "１２００" → "1200");
      * kind accepts English spellings with spaces ("Research Institute") and Japanese
        names (企業→firm, 大学→university, 研究機関→research_institute, 商社→trading_company,
        金融機関→financial_institution, 自治体→public_body, 支援機関→support_org,
        その他→other; see `KIND_ALIASES`);
      * employees accepts thousands separators, a leading 約 and a trailing 人/名
        ("約1,200人" → 1200); founded accepts "1987", "1987年", "1987年4月1日", "1987/4/1",
        "1987-04" and Japanese eras ("昭和62年", "平成元年" → 1987, 1989); '-' / '－' mean
        absent for these two;
      * interaction dates also accept "2024/1/2" (Excel in Japan) and "2024年1月2日".
    Anything these rules do not recognise is passed on unchanged, so pydantic reports it.
    Quoting is read strictly: an unclosed quote, text after a closing quote, or a cell over
    the csv module's 131,072-character limit is an `ImportFormatError` naming the line.

Column decisions (CSV)
    Unknown columns are an `ImportFormatError` by default, listing each with its column letter
    and a "did you mean" suggestion: a misspelt "nmae" must not silently drop every name.
    Callers that knowingly import sheets with extra columns (備考, 電話番号 ...) pass
    `unknown_columns="ignore"`; the ignored columns are then listed in `ParsedFile.warnings`.
    Two columns that map to the same field, or missing required columns, are always an
    `ImportFormatError`. A column with an empty header is ignored if it is empty; a value under
    it (or beyond the last header column) is a `RowError(row, None, ...)`, never dropped.

Errors
    `ImportFormatError` — the file as a whole is unreadable (encoding, format, header, size).
    `RowError` — one per failing field of a row (`field` is a path like "country" or
    "offers[2]", 0-based list positions as in JSON; None for the whole row); a later row that
    repeats an id gets ("id", "duplicate id, first seen on row N") and is not returned.
    An empty file (nothing but whitespace) is an `ImportFormatError`; a header-only CSV (or
    an empty JSON array) reads as zero rows with a warning in `ParsedFile.warnings`.
    Size guards: more than `max_rows` non-empty data rows, or more than `max_bytes` bytes,
    is an `ImportFormatError`; the row guard trips while reading, before validation.
"""

from __future__ import annotations

import csv
import difflib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from models.profile import KINDS, Profile, ProfileId, split_list
from service.errors import field_path
from service.io.textstream import ImportFormatError, Text, decode

__all__ = [
    "INTERACTION_COLUMNS",
    "KIND_ALIASES",
    "MAX_BYTES",
    "PROFILE_COLUMNS",
    "FileFormat",
    "ImportFormatError",
    "Interaction",
    "InteractionKind",
    "ParsedFile",
    "RowError",
    "UnknownColumns",
    "decode",
    "detect_format",
    "parse_interactions",
    "parse_profiles",
]

FileFormat = Literal["auto", "jsonl", "csv"]
UnknownColumns = Literal["error", "ignore"]
MAX_BYTES = 256 * 1024 * 1024
"""Default upper bound on an import file's size, checked before decoding."""
MAX_CONTEXT = 1_000


@dataclass(frozen=True)
class RowError:
    """A problem with one row: `row` is the JSONL line / spreadsheet row (header = 1),
    `field` the field path ("country", "offers[2]") or None for the whole row."""

    row: int
    field: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """The entry of a report's `errors` list."""
        return {"row": self.row, "field": self.field, "reason": self.reason}


ModelT = TypeVar("ModelT", bound=BaseModel)


@dataclass
class ParsedFile(Generic[ModelT]):
    """What a file held: the good rows with their row numbers, and one error per bad field.

    `total_rows` counts the non-empty data rows read (good and bad alike; blank lines and
    empty spreadsheet rows are not counted). `warnings` are file-level notes that did not
    stop the import (e.g. columns ignored on request)."""

    items: list[tuple[int, ModelT]]
    errors: list[RowError]
    format: Literal["jsonl", "csv"]
    encoding: str
    total_rows: int
    warnings: list[str] = field(default_factory=list)

    @property
    def error_rows(self) -> list[int]:
        """The rows that have at least one error, ascending."""
        return sorted({e.row for e in self.errors})


# ---------------------------------------------------------------------------------------
# Interactions

InteractionKind = Literal["collaboration", "meeting", "follow_up", "deal", "declined"]
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


class Interaction(BaseModel):
    """One piece of history between two profiles: a row of an interactions file."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    a: ProfileId
    b: ProfileId
    kind: InteractionKind
    context: str = Field(default="", max_length=MAX_CONTEXT)
    at: date | None = None

    @field_validator("b")
    @classmethod
    def _distinct(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("a") == value:
            raise ValueError("a and b are the same profile")
        return value

    @field_validator("context")
    @classmethod
    def _context(cls, value: str) -> str:
        return _CONTROL.sub("", value).strip()

    @field_validator("at", mode="before")
    @classmethod
    def _at(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, str):
            text = value.strip()
            try:
                return date.fromisoformat(text)
            except ValueError:
                pass
            try:
                return datetime.fromisoformat(text).date()
            except ValueError:
                raise ValueError(
                    f"'{text[:40]}' is not an ISO date (YYYY-MM-DD) or date-time"
                ) from None
        return value


# ---------------------------------------------------------------------------------------
# Format detection

_JSONL_EXTENSIONS = frozenset({".jsonl", ".ndjson", ".json", ".jsonlines", ".ldjson"})
_CSV_EXTENSIONS = frozenset({".csv", ".tsv", ".tab"})


def detect_format(text: str, filename: str | None = None) -> Literal["jsonl", "csv"]:
    """A known file extension decides; otherwise `{` or `[` first means JSONL, else CSV."""
    if filename:
        suffix = PurePath(filename.strip()).suffix.lower()
        if suffix in _JSONL_EXTENSIONS:
            return "jsonl"
        if suffix in _CSV_EXTENSIONS:
            return "csv"
    return "jsonl" if text.lstrip("\ufeff \t\r\n")[:1] in ("{", "[") else "csv"


# ---------------------------------------------------------------------------------------
# Column names and spreadsheet cell conventions


def _header_key(name: str) -> str:
    key = unicodedata.normalize("NFKC", name).strip().casefold()
    return re.sub(r"[\s\-]+", "_", key)


def _aliases(table: Mapping[str, tuple[str, ...]]) -> dict[str, str]:
    out: dict[str, str] = {}
    for target, names in table.items():
        for name in (target, *names):
            out[_header_key(name)] = target
    return out


PROFILE_COLUMNS: dict[str, str] = _aliases(
    {
        "id": ("識別子", "管理番号"),
        "name": ("名称", "企業名", "組織名", "会社名", "機関名", "団体名", "法人名", "社名"),
        "name_en": (
            "英語名",
            "英文名称",
            "英語名称",
            "英文名",
            "英文社名",
            "名称(英語)",
            "企業名(英語)",
            "会社名(英語)",
            "組織名(英語)",
        ),
        "kind": ("種別", "区分", "組織種別", "機関種別", "種類"),
        "country": ("国", "国名コード", "国コード", "国名", "所在国"),
        "region": ("地域", "都道府県", "所在地域"),
        "cluster": ("クラスター", "クラスタ", "クラスター名"),
        "description": ("概要", "説明", "事業内容", "事業概要", "企業概要", "紹介"),
        "offers": ("提供", "提供できるもの", "提供可能なもの", "提供内容", "シーズ", "技術シーズ"),
        "needs": ("ニーズ", "求めるもの", "探しているもの"),
        "industries": ("業種", "分野", "産業", "業界", "事業分野"),
        "markets": ("市場", "販売先国", "対象市場", "輸出先"),
        "languages": ("言語", "対応言語", "使用言語"),
        "employees": ("従業員数", "従業員", "社員数"),
        "founded": ("設立", "設立年", "設立年月", "設立年月日", "創業", "創業年"),
        "website": ("ウェブサイト", "url", "ホームページ", "webサイト", "web", "hp"),
        "contact": ("連絡先", "メール", "メールアドレス", "email", "e-mail"),
    }
)
"""Normalised header name → profile field (the field names themselves included)."""

INTERACTION_COLUMNS: dict[str, str] = _aliases(
    {
        "a": (),
        "b": (),
        "kind": ("種別", "区分"),
        "context": ("内容",),
        "at": ("date", "日付", "日時"),
    }
)
"""Normalised header name → interaction field."""

KIND_ALIASES: dict[str, str] = {
    _header_key(name): kind
    for kind, names in {
        "firm": ("企業", "会社", "民間企業", "中小企業", "事業者", "メーカー", "company"),
        "university": ("大学", "短期大学", "高専", "高等専門学校"),
        "research_institute": ("研究機関", "研究所", "公設試", "公設試験研究機関"),
        "trading_company": ("商社", "卸売", "代理店", "販売代理店"),
        "financial_institution": ("金融機関", "銀行", "信用金庫"),
        "public_body": ("自治体", "地方自治体", "公的機関", "行政機関", "官公庁"),
        "support_org": ("支援機関", "産業支援機関", "商工会議所", "商工会"),
        "other": ("その他",),
    }.items()
    for name in names
}
"""Japanese (and a few English) names for profile kinds, accepted in CSV cells."""

_CODE_LIST_SPLIT = re.compile(r"[\s;；、,，/・]+")
_NONE_MARKS = frozenset({"-", "－", "‐", "―", "—", "ー"})
_INT_CELL = re.compile(r"^(?:約|ca\.?|approx\.?)?\s*(\d{1,3}(?:,\d{3})+|\d+)\s*(?:人|名)?$")
_YEAR_CELL = re.compile(
    r"^(\d{4})(?:\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?|[-/.]\d{1,2}(?:[-/.]\d{1,2})?)?$"
)
_ERA_CELL = re.compile(
    r"^(明治|大正|昭和|平成|令和)\s*(元|\d{1,2})\s*年(?:\s*\d{1,2}\s*月(?:\s*\d{1,2}\s*日)?)?$"
)
_ERA_START = {"明治": 1868, "大正": 1912, "昭和": 1926, "平成": 1989, "令和": 2019}
_DATE_CELL = re.compile(
    r"^(\d{4})(?:[/.](\d{1,2})[/.](\d{1,2})|年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日)"
    r"(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$"
)


def _nfkc(value: str) -> str:
    return unicodedata.normalize("NFKC", value).strip()


def _kind_cell(value: str) -> str:
    key = _header_key(value)
    if key in KINDS:
        return key
    return KIND_ALIASES.get(key, value)


def _code_list_cell(value: str) -> list[str]:
    return [part for part in _CODE_LIST_SPLIT.split(_nfkc(value)) if part]


def _text_list_cell(value: str) -> Any:
    return split_list(value, extra_separators="、")


def _int_cell(value: str) -> Any:
    text = _nfkc(value)
    if text in _NONE_MARKS:
        return None
    match = _INT_CELL.match(text)
    return int(match.group(1).replace(",", "")) if match else value


def _year_cell(value: str) -> Any:
    text = _nfkc(value)
    if text in _NONE_MARKS:
        return None
    match = _YEAR_CELL.match(text)
    if match:
        return int(match.group(1))
    era = _ERA_CELL.match(text)
    if era:
        number = 1 if era.group(2) == "元" else int(era.group(2))
        return _ERA_START[era.group(1)] + number - 1
    return value


def _date_cell(value: str) -> Any:
    text = _nfkc(value)
    match = _DATE_CELL.match(text)
    if not match:
        return value
    year, month, day = (
        match.group(1),
        match.group(2) or match.group(4),
        match.group(3) or match.group(5),
    )
    return f"{year}-{int(month):02d}-{int(day):02d}"


_PROFILE_CELLS: dict[str, Callable[[str], Any]] = {
    "id": _nfkc,
    "kind": _kind_cell,
    "country": _nfkc,
    "offers": _text_list_cell,
    "needs": _text_list_cell,
    "industries": _text_list_cell,
    "markets": _code_list_cell,
    "languages": _code_list_cell,
    "employees": _int_cell,
    "founded": _year_cell,
}
_INTERACTION_CELLS: dict[str, Callable[[str], Any]] = {
    "a": _nfkc,
    "b": _nfkc,
    "kind": _header_key,
    "at": _date_cell,
}


@dataclass(frozen=True)
class _Spec:
    model: type[BaseModel]
    columns: Mapping[str, str]
    cells: Mapping[str, Callable[[str], Any]]
    unique: str | None  # the field that must not repeat within a file
    # An empty file is a valid empty list (no rows, a warning) instead of an error: a
    # cluster with no history yet has an empty interactions file.
    empty_ok: bool = False


# ---------------------------------------------------------------------------------------
# Reading rows. Both readers yield, for each non-empty row, (row number, the record or None
# when the row has no usable record, the row's structural problems).

_Record = tuple[int, "dict[str, Any] | None", "list[RowError]"]


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _too_many(max_rows: int) -> ImportFormatError:
    return ImportFormatError(
        f"the file has more than {max_rows:,} data rows; at most {max_rows:,} are allowed "
        "per import — split it into smaller files"
    )


def _csv_records(
    text: Text, spec: _Spec, max_rows: int, unknown_columns: UnknownColumns, warnings: list[str]
) -> Iterator[_Record]:
    first_line = text.first_line()
    sep = re.match(r"^sep=(.)\s*$", first_line)
    if sep:
        delimiter = sep.group(1)  # Excel's hint line; Excel hides it, so do we
        text.drop_first_line()
    else:
        header_line = first_line.rstrip("\r")
        delimiter = ","
        if "," not in header_line:
            if "\t" in header_line:
                delimiter = "\t"
            elif ";" in header_line:
                delimiter = ";"

    json_like = text.first_char() in ("{", "[")  # (for the header's error message)
    reader = csv.reader(text.lines(), delimiter=delimiter, strict=True)

    def next_row() -> list[str] | None:
        start = reader.line_num + 1
        try:
            return next(reader)
        except StopIteration:
            return None
        except csv.Error as exc:
            raise ImportFormatError(
                f"CSV syntax error in the record starting at line {start}: {exc}"
                + (" (a quoted cell is never closed)" if "end of data" in str(exc) else "")
            ) from None

    row_number = 0  # spreadsheet row: one per CSV record, multi-line cells included

    def next_record() -> list[str] | None:
        nonlocal row_number
        cells = next_row()
        if cells is not None:
            row_number += 1
        return cells

    header = next_record()
    while header is not None and not any(c.strip() for c in header):
        header = next_record()  # leading blank rows: the header is the first non-empty row
    if header is None:
        raise ImportFormatError("the file is empty")
    fields = _map_header(header, spec, row_number, json_like, unknown_columns, warnings)

    count = 0
    while (cells := next_record()) is not None:
        if not any(c.strip() for c in cells):
            continue
        count += 1
        if count > max_rows:
            raise _too_many(max_rows)
        record: dict[str, Any] = {}
        problems: list[RowError] = []
        for index, cell in enumerate(cells):
            value = cell.replace("\r\n", "\n").replace("\r", "\n").strip()
            if not value:
                continue
            name = fields[index] if index < len(fields) else None
            if name is None:
                if index >= len(header) or not header[index].strip():
                    problems.append(
                        RowError(
                            row_number,
                            None,
                            f"value in column {_column_letter(index)}, which has no header",
                        )
                    )
                continue  # otherwise an unknown column ignored on request
            convert = spec.cells.get(name)
            record[name] = convert(value) if convert else value
        yield row_number, record, problems


def _map_header(
    header: list[str],
    spec: _Spec,
    line: int,
    looks_json: bool,
    unknown_columns: UnknownColumns,
    warnings: list[str],
) -> list[str | None]:
    fields: list[str | None] = []
    seen: dict[str, int] = {}
    unknown: list[str] = []
    clashes: list[str] = []
    for index, raw in enumerate(header):
        name = raw.strip()
        if not name:
            fields.append(None)
            continue
        target = spec.columns.get(_header_key(name))
        if target is None:
            near = difflib.get_close_matches(
                _header_key(name), list(spec.columns), n=1, cutoff=0.75
            )
            hint = f"; did you mean '{spec.columns[near[0]]}'?" if near else ""
            unknown.append(f"'{name}' (column {_column_letter(index)}{hint})")
            fields.append(None)
            continue
        if target in seen:
            clashes.append(
                f"columns {_column_letter(seen[target])} ('{header[seen[target]].strip()}') and "
                f"{_column_letter(index)} ('{name}') both mean '{target}'"
            )
        seen.setdefault(target, index)
        fields.append(target)

    known = sorted(set(spec.columns.values()), key=list(spec.model.model_fields).index)
    where = f"(row {line})"
    if not seen:
        raise ImportFormatError(
            f"row {line} is not a header row: none of its cells is a known column name "
            f"(expected {', '.join(known)})"
            + ("; the file looks like JSON — use format='jsonl'" if looks_json else "")
        )
    required = [n for n, f in spec.model.model_fields.items() if f.is_required()]
    missing = [n for n in required if n not in seen]
    problems: list[str] = []
    if missing:
        problems.append(f"missing required column(s) {', '.join(missing)}")
    if clashes:
        problems.append("; ".join(clashes))
    if unknown and unknown_columns == "error":
        problems.append(
            f"unknown column(s) {', '.join(unknown)} — rename or remove them, or import with "
            "unknown_columns='ignore'"
        )
    if problems:
        raise ImportFormatError(
            f"bad CSV header {where}: "
            + "; ".join(problems)
            + f". Known columns: {', '.join(known)}"
        )
    if unknown:
        warnings.append(f"ignored unknown column(s) {', '.join(unknown)}")
    return fields


def _object_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _DuplicateKeyError(key)
        out[key] = value
    return out


class _DuplicateKeyError(ValueError):
    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def _json_kind(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, bool):
        return "a boolean"
    if value is None:
        return "null"
    return "a number"


def _json_record(row: int, value: Any) -> _Record:
    if isinstance(value, dict):
        return row, value, []
    return row, None, [RowError(row, None, f"not a JSON object: got {_json_kind(value)}")]


_TOO_DEEP = "arrays or objects nested too deeply"


def _jsonl_records(text: Text, max_rows: int) -> Iterator[_Record]:
    if text.whole is None:  # a large file, read as it streams
        if text.first_char() == "[":
            yield from _json_array_records(text, max_rows)
            return
        yield from _jsonl_lines(text, max_rows)
        return
    stripped = text.whole.strip()
    if stripped[:1] in ("[", "{"):
        try:
            whole = json.loads(stripped, object_pairs_hook=_object_pairs)
        except _DuplicateKeyError:
            whole = None  # read line by line, where the duplicate is reported per row
        except RecursionError:
            whole = None  # read line by line, where the nesting is reported per row
        except json.JSONDecodeError as exc:
            if stripped[0] == "[" and exc.msg != "Extra data":
                raise ImportFormatError(
                    f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
                ) from None
            whole = None  # several lines: JSONL
        if isinstance(whole, list):
            if len(whole) > max_rows:
                raise _too_many(max_rows)
            for index, item in enumerate(whole, start=1):
                yield _json_record(index, item)
            return
        if isinstance(whole, dict) and "\n" in stripped:  # one pretty-printed object
            yield 1, whole, []
            return
    yield from _jsonl_lines(text, max_rows)


def _jsonl_lines(text: Text, max_rows: int) -> Iterator[_Record]:
    count = 0
    any_json = False
    first_failure = ""
    for number, line in enumerate(text.split_lines(), start=1):
        line = line.strip()
        if not line:
            continue
        count += 1
        if count > max_rows:
            raise _too_many(max_rows)
        try:
            value = json.loads(line, object_pairs_hook=_object_pairs)
        except _DuplicateKeyError as exc:
            any_json = True
            yield number, None, [RowError(number, exc.key, "key given twice in this object")]
            continue
        except json.JSONDecodeError as exc:
            reason = f"not a JSON object: {exc.msg} at column {exc.colno}"
            first_failure = first_failure or f"line {number}: {reason}"
            yield number, None, [RowError(number, None, reason)]
            continue
        except RecursionError:
            any_json = True
            yield number, None, [RowError(number, None, _TOO_DEEP)]
            continue
        any_json = True
        yield _json_record(number, value)
    if count and not any_json:
        raise ImportFormatError(f"not JSONL (no line is JSON); {first_failure}")


MAX_ELEMENT_CHARS = 16 * 1024 * 1024
"""The longest element of a large JSON array read as it streams (a profile at its largest,
escaped, is about 2.1 MB)."""


def _json_array_records(text: Text, max_rows: int) -> Iterator[_Record]:
    """The elements of a large file that is one JSON array, read as it streams; the row
    is the element's 1-based position. A syntax error ends the import, as in a small
    file; a key given twice is a row error."""
    twice: list[str] = []

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                twice.append(key)
            out[key] = value
        return out

    decoder = json.JSONDecoder(object_pairs_hook=pairs)
    chunks = text.chunks()
    buffer = ""
    pos = 0

    def more() -> bool:
        nonlocal buffer, pos
        chunk = next(chunks, None)
        if chunk is None:
            return False
        buffer = buffer[pos:] + chunk
        pos = 0
        return True

    def skip_space() -> str:
        """The next character that is not white space ("" at the end of the file)."""
        nonlocal pos
        while True:
            while pos < len(buffer) and buffer[pos] in " \t\r\n":
                pos += 1
            if pos < len(buffer) or not more():
                return buffer[pos : pos + 1]

    def invalid(what: str, index: int) -> ImportFormatError:
        return ImportFormatError(f"not valid JSON: {what} (element {index} of the array)")

    skip_space()
    pos += 1  # the "["
    index = 0
    while True:
        mark = skip_space()
        if mark == "]":
            pos += 1
            if skip_space():
                raise invalid("extra data after the array", index)
            return
        if index > 0:
            if mark != ",":
                raise invalid("expecting ',' delimiter", index + 1)
            pos += 1
            mark = skip_space()
        if not mark:
            raise invalid("the array is never closed", index + 1)
        index += 1
        if index > max_rows:
            raise _too_many(max_rows)
        while True:
            try:
                value, pos = decoder.raw_decode(buffer, pos)
                break
            except json.JSONDecodeError as exc:
                # most often an element cut by the end of the text read so far
                if len(buffer) - pos > MAX_ELEMENT_CHARS or not more():
                    raise invalid(exc.msg, index) from None
            except RecursionError:
                raise invalid(_TOO_DEEP, index) from None
        if twice:
            yield index, None, [RowError(index, twice[0], "key given twice in this object")]
            twice.clear()
        else:
            yield _json_record(index, value)


# ---------------------------------------------------------------------------------------
# Validation and the public parsers


_ECHO_TYPES = frozenset(
    {
        "literal_error",
        "enum",
        "int_parsing",
        "int_from_float",
        "int_type",
        "date_parsing",
        "date_from_datetime_parsing",
        "date_type",
        "string_type",
        "list_type",
        "bool_parsing",
    }
)


def _reason(error: ErrorDetails) -> str:
    kind = error["type"]
    if kind == "missing":
        return "required field is missing or empty"
    if kind == "extra_forbidden":
        return "unknown field"
    if kind == "string_pattern_mismatch":
        reason = "must start with a letter or digit and use only letters, digits and . _ : @ -"
    else:
        reason = error["msg"]
        for prefix in ("Value error, ", "Assertion failed, "):
            if reason.startswith(prefix):
                reason = reason[len(prefix) :]
        reason = reason.rstrip(".")
    value = error.get("input")
    if kind == "string_too_long" and isinstance(value, str):
        reason += f" (got {len(value):,})"
    elif kind in _ECHO_TYPES or kind == "string_pattern_mismatch":
        shown = repr(value) if isinstance(value, str | int | float | bool) else _json_kind(value)
        reason += f" (got {shown[:60]})"
    return reason


def _records(
    text: Text,
    spec: _Spec,
    *,
    format: FileFormat,
    filename: str | None,
    max_rows: int,
    unknown_columns: UnknownColumns,
    warnings: list[str],
) -> tuple[Literal["jsonl", "csv"], Iterator[_Record] | None]:
    """The file's format and its rows (None for a file of white space, where an empty
    file is allowed; an `ImportFormatError` where it is not)."""
    if format not in ("auto", "jsonl", "csv"):
        raise ImportFormatError(f"unknown format '{format}'; use auto, jsonl or csv")
    fmt: Literal["jsonl", "csv"] = (
        detect_format(text.first_char("\ufeff \t\r\n"), filename) if format == "auto" else format
    )
    if not text.first_char():
        if not spec.empty_ok:
            raise ImportFormatError("the file is empty")
        return fmt, None
    if fmt == "csv":
        return fmt, _csv_records(text, spec, max_rows, unknown_columns, warnings)
    return fmt, _jsonl_records(text, max_rows)


Validated = tuple[int, "dict[str, Any] | None", "BaseModel | None", "list[RowError]"]
"""A row read and validated: its number, its record (None: not even a record), the model
(None: invalid) and its errors (the duplicate check, which needs the whole file, aside)."""


def _validated(records: Iterable[_Record], spec: _Spec) -> Iterator[Validated]:
    for row, record, problems in records:
        row_errors = list(problems)
        model: BaseModel | None = None
        if record is not None:
            try:
                model = spec.model.model_validate(record)
            except ValidationError as exc:
                row_errors.extend(
                    RowError(row, field_path(e["loc"]) or None, _reason(e)) for e in exc.errors()
                )
        yield row, record, model, row_errors


def unique_key(record: dict[str, Any] | None, field: str | None) -> str | None:
    """The value of a record's `field` that must not repeat within a file (stripped),
    or None when it has none."""
    if record is None or field is None:
        return None
    key = record.get(field)
    return key.strip() if isinstance(key, str) and key.strip() else None


def _parse(
    data: bytes,
    spec: _Spec,
    *,
    format: FileFormat,
    encoding: str | None,
    filename: str | None,
    max_rows: int,
    max_bytes: int,
    unknown_columns: UnknownColumns,
) -> ParsedFile[Any]:
    if format not in ("auto", "jsonl", "csv"):
        raise ImportFormatError(f"unknown format '{format}'; use auto, jsonl or csv")
    if len(data) > max_bytes:
        raise ImportFormatError(
            f"the file is {len(data):,} bytes; at most {max_bytes:,} are allowed per import"
        )
    decoded, used = decode(data, encoding)
    warnings: list[str] = []
    fmt, records = _records(
        Text([decoded], used, whole=decoded),
        spec,
        format=format,
        filename=filename,
        max_rows=max_rows,
        unknown_columns=unknown_columns,
        warnings=warnings,
    )
    if records is None:
        return ParsedFile(
            items=[], errors=[], format=fmt, encoding=used, total_rows=0, warnings=[NO_ROWS]
        )
    items: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    first_seen: dict[str, int] = {}
    total = 0
    for row, record, model, row_errors in _validated(records, spec):
        total += 1
        key = unique_key(record, spec.unique)
        if key is not None:
            if key in first_seen:
                row_errors.append(
                    RowError(row, spec.unique, f"duplicate id, first seen on row {first_seen[key]}")
                )
            else:
                first_seen[key] = row
        if row_errors:
            errors.extend(row_errors)
        elif model is not None:
            items.append((row, model))
    if total == 0:
        warnings.append(NO_ROWS)
    return ParsedFile(
        items=items, errors=errors, format=fmt, encoding=used, total_rows=total, warnings=warnings
    )


NO_ROWS = "the file has no data rows (only a header row, or an empty list): nothing to import"
_PROFILES = _Spec(Profile, PROFILE_COLUMNS, _PROFILE_CELLS, unique="id")
# No history is a valid history (a new cluster office): an empty file imports nothing.
_INTERACTIONS = _Spec(
    Interaction, INTERACTION_COLUMNS, _INTERACTION_CELLS, unique=None, empty_ok=True
)


def parse_profiles(
    data: bytes,
    *,
    format: FileFormat = "auto",
    encoding: str | None = None,
    filename: str | None = None,
    max_rows: int = 100_000,
    max_bytes: int = MAX_BYTES,
    unknown_columns: UnknownColumns = "error",
) -> ParsedFile[Profile]:
    """Read a profile file (JSONL or CSV, see the module docstring). Raises
    `ImportFormatError` when the file as a whole is unreadable; bad rows are in `.errors`,
    good ones in `.items`."""
    return _parse(
        data,
        _PROFILES,
        format=format,
        encoding=encoding,
        filename=filename,
        max_rows=max_rows,
        max_bytes=max_bytes,
        unknown_columns=unknown_columns,
    )


def parse_interactions(
    data: bytes,
    *,
    format: FileFormat = "auto",
    encoding: str | None = None,
    filename: str | None = None,
    max_rows: int = 1_000_000,
    max_bytes: int = MAX_BYTES,
    unknown_columns: UnknownColumns = "error",
) -> ParsedFile[Interaction]:
    """Read an interactions file (JSONL, or CSV with columns a, b, kind, context, at).
    Same error contract as `parse_profiles`, except that an empty file is no history (no
    rows, a warning), not an error."""
    return _parse(
        data,
        _INTERACTIONS,
        format=format,
        encoding=encoding,
        filename=filename,
        max_rows=max_rows,
        max_bytes=max_bytes,
        unknown_columns=unknown_columns,
    )
