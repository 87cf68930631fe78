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

import codecs
import csv
import difflib
import io
import json
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import PurePath
from typing import Any, Generic, Literal, TypeVar

from charset_normalizer import from_bytes
from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic_core import ErrorDetails

from models.profile import KINDS, Profile, ProfileId, split_list
from service.errors import field_path

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


class ImportFormatError(ValueError):
    """The file as a whole cannot be read; the message says what and where."""


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
# Decoding

_UTF_BOMS: tuple[tuple[bytes, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Control characters no text file holds (tab, LF, VT, FF, CR allowed), a BOM in mid-text, and
# the code points Python's cp932 gives the undefined single bytes 0xA0 and 0xFD-0xFF.
_IMPLAUSIBLE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f\ufeff\uf8f0-\uf8f3\ufffe\uffff]")
_HALFWIDTH_KANA = re.compile(r"[\uff61-\uff9f]")


def _canonical_encoding(name: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise ImportFormatError(f"unknown encoding '{name}'") from None


def _line_at(data: bytes, offset: int, encoding: str) -> int:
    return data[:offset].decode(encoding, errors="replace").count("\n") + 1


def _describe_decode_error(exc: UnicodeDecodeError, data: bytes, encoding: str) -> str:
    bad = data[exc.start : min(exc.end, exc.start + 4)].hex(" ").upper()
    line = _line_at(data, exc.start, encoding)
    return f"invalid byte(s) {bad} at byte offset {exc.start} (line {line})"


def _implausible(text: str, data: bytes, encoding: str) -> str | None:
    """Why a decoded text cannot be a text file, or None when it looks fine."""
    match = _IMPLAUSIBLE.search(text)
    if match is None:
        return None
    index = match.start()
    try:
        offset = len(text[:index].encode(encoding))
        where = f"byte offset {offset}"
    except (UnicodeEncodeError, LookupError):
        where = f"character {index}"
    line = text.count("\n", 0, index) + 1
    return f"unexpected character U+{ord(match.group()):04X} at {where} (line {line})"


def _finish(text: str) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    return text.rstrip("\x1a")  # DOS end-of-file marker some old exports still append


def _decode_strict(data: bytes, encoding: str) -> tuple[str, str]:
    name = _canonical_encoding(encoding)
    if name == "utf-8" and data.startswith(codecs.BOM_UTF8):
        name = "utf-8-sig"
    try:
        text = _finish(data.decode(name))
    except UnicodeDecodeError as exc:
        hint = ""
        if name == "shift_jis":
            hint = "; Excel's Shift_JIS is really cp932, try encoding='cp932'"
        raise ImportFormatError(
            f"cannot decode the file as {name}: {_describe_decode_error(exc, data, name)}{hint}"
        ) from None
    problem = _implausible(text, data, name)
    if problem:
        raise ImportFormatError(f"the file is not text in {name}: {problem}")
    return text, name


def _try(data: bytes, encoding: str, failures: list[str]) -> str | None:
    try:
        text = _finish(data.decode(encoding))
    except UnicodeDecodeError as exc:
        failures.append(f"not {encoding} ({_describe_decode_error(exc, data, encoding)})")
        return None
    problem = _implausible(text, data, encoding)
    if problem:
        failures.append(f"not {encoding} ({problem})")
        return None
    return text


def decode(data: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode an uploaded file; returns (text, encoding used).

    `encoding=None` (or "" / "auto") detects (see the module docstring); an explicit
    encoding is used strictly. A leading BOM is removed from the text.
    Raises `ImportFormatError`."""
    if encoding is not None and encoding.strip().lower() not in ("", "auto"):
        return _decode_strict(data, encoding.strip())
    if not data:
        return "", "utf-8"
    for bom, name in _UTF_BOMS:
        if data.startswith(bom):
            return _decode_strict(data, name)

    failures: list[str] = []
    utf8 = "utf-8-sig" if data.startswith(codecs.BOM_UTF8) else "utf-8"
    text = _try(data, utf8, failures)
    if text is not None:
        return text, utf8

    sjis = _try(data, "cp932", failures)
    euc = _try(data, "euc_jp", failures)
    if sjis is not None and euc is not None:
        # EUC-JP read as cp932 turns into half-width katakana mojibake (and vice versa).
        if len(_HALFWIDTH_KANA.findall(euc)) < len(_HALFWIDTH_KANA.findall(sjis)):
            return euc, "euc_jp"
        return sjis, "cp932"
    if sjis is not None:
        return sjis, "cp932"
    if euc is not None:
        return euc, "euc_jp"

    best = from_bytes(data).best()
    if best is not None:
        name = _canonical_encoding(best.encoding)
        text = _try(data, name, failures)
        if text is not None:
            return text, name
    else:
        failures.append("no other encoding fits")
    raise ImportFormatError(
        "cannot detect the file's text encoding: "
        + "; ".join(failures)
        + ". Save it as UTF-8 (or CSV from Excel) or name the encoding"
    )


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
    text: str, spec: _Spec, max_rows: int, unknown_columns: UnknownColumns, warnings: list[str]
) -> Iterator[_Record]:
    first_line, _, rest = text.partition("\n")
    sep = re.match(r"^sep=(.)\s*$", first_line)
    if sep:
        delimiter, text = sep.group(1), rest  # Excel's hint line; Excel hides it, so do we
    else:
        header_line = first_line.rstrip("\r")
        delimiter = ","
        if "," not in header_line:
            if "\t" in header_line:
                delimiter = "\t"
            elif ";" in header_line:
                delimiter = ";"

    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)

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
    fields = _map_header(header, spec, row_number, text, unknown_columns, warnings)

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
    text: str,
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
        looks_json = text.lstrip()[:1] in ("{", "[")
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


def _jsonl_records(text: str, max_rows: int) -> Iterator[_Record]:
    stripped = text.strip()
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

    count = 0
    any_json = False
    first_failure = ""
    for number, line in enumerate(text.split("\n"), start=1):
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
    text, used = decode(data, encoding)
    fmt: Literal["jsonl", "csv"] = detect_format(text, filename) if format == "auto" else format
    if not text.strip():
        if not spec.empty_ok:
            raise ImportFormatError("the file is empty")
        return ParsedFile(
            items=[], errors=[], format=fmt, encoding=used, total_rows=0, warnings=[_NO_ROWS]
        )

    warnings: list[str] = []
    records = (
        _csv_records(text, spec, max_rows, unknown_columns, warnings)
        if fmt == "csv"
        else _jsonl_records(text, max_rows)
    )
    items: list[tuple[int, Any]] = []
    errors: list[RowError] = []
    first_seen: dict[str, int] = {}
    total = 0
    for row, record, problems in records:
        total += 1
        row_errors = list(problems)
        if record is None:
            errors.extend(row_errors)
            continue
        model: BaseModel | None = None
        try:
            model = spec.model.model_validate(record)
        except ValidationError as exc:
            row_errors.extend(
                RowError(row, field_path(e["loc"]) or None, _reason(e)) for e in exc.errors()
            )
        if spec.unique is not None:
            key = record.get(spec.unique)
            if isinstance(key, str) and key.strip():
                key = key.strip()
                if key in first_seen:
                    row_errors.append(
                        RowError(
                            row, spec.unique, f"duplicate id, first seen on row {first_seen[key]}"
                        )
                    )
                else:
                    first_seen[key] = row
        if row_errors:
            errors.extend(row_errors)
        elif model is not None:
            items.append((row, model))
    if total == 0:
        warnings.append(_NO_ROWS)
    return ParsedFile(
        items=items, errors=errors, format=fmt, encoding=used, total_rows=total, warnings=warnings
    )


_NO_ROWS = "the file has no data rows (only a header row, or an empty list): nothing to import"
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
