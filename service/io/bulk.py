"""Large profile files read as they stream, in two passes: a check, then chunks of rows.

An import of a million rows must not hold its file, its rows or its profiles. So a file
(JSONL or CSV, from the CLI's disk or an upload spooled to the data directory) is read
twice, each time as a stream (`service.io.textstream`), with the rules of
`service.io.imports` (same columns, cells, row numbers, errors):

1. `check_profiles` reads every row and validates it, keeping only what the report
   needs: the counts, the first `MAX_LISTED_ERRORS` errors in row order, and the rows
   that will not be imported (bad rows, later rows repeating an id, rows the caller
   refuses); the duplicate check keeps 24 bytes per row (a 128-bit hash of the id and
   the row), about 24 MB at a million rows, never the ids themselves.
2. `profile_chunks` reads the file again and yields its good rows in chunks of
   `rows`, skipping the rows the check set aside. The same file must give the same rows:
   a row the check found good that is now bad (the file changed in between) is an
   `ImportFormatError`.

Memory: a chunk of profiles, the decoder's block (1 MiB) and the bookkeeping of
step 1, whatever the file's size.
"""

from __future__ import annotations

import hashlib
import heapq
from array import array
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import IO, Literal

import numpy as np

from models.profile import Profile
from service.io.imports import (
    _PROFILES,
    NO_ROWS,
    FileFormat,
    ImportFormatError,
    RowError,
    UnknownColumns,
    _records,
    _validated,
    unique_key,
)
from service.io.textstream import counting, open_text

__all__ = ["MAX_LISTED_ERRORS", "FileCheck", "Opener", "check_profiles", "profile_chunks"]

MAX_LISTED_ERRORS = 1_000
"""Errors listed in a report (the first, in row order); `rejected` counts them all."""

Opener = Callable[[], AbstractContextManager[IO[bytes]]]
"""The file from its start, as a context manager (called once per pass): `path.open("rb")`,
or `Spooled.rewound` for a file that stays open."""


@dataclass
class FileCheck:
    """What the first pass found: the format and encoding it read the file with (the
    second pass reads it the same way), the counts, the first errors and the warnings,
    and the rows to leave out."""

    format: Literal["jsonl", "csv"]
    encoding: str
    unknown_columns: UnknownColumns
    total_rows: int = 0
    valid: int = 0
    rejected: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    skip: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    """The rows not imported, ascending."""


def _id_digest(key: str) -> bytes:
    return hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()


def _duplicates(digests: bytearray, rows: array[int]) -> list[RowError]:
    """A "duplicate id" error for every row whose id an earlier row has, in row order."""
    if not rows:
        return []
    keys = np.frombuffer(digests, dtype=np.uint64).reshape(-1, 2)
    at = np.frombuffer(rows, dtype=np.int64)
    order = np.lexsort((at, keys[:, 1], keys[:, 0]))  # by id, then by row
    high, low = keys[order, 0], keys[order, 1]
    repeats = np.flatnonzero((high[1:] == high[:-1]) & (low[1:] == low[:-1])) + 1
    errors: list[RowError] = []
    first = previous = -1
    for i in repeats.tolist():  # each follows its id's first row, or another repeat of it
        if i - 1 != previous:
            first = int(at[order[i - 1]])
        previous = i
        errors.append(RowError(int(at[order[i]]), "id", f"duplicate id, first seen on row {first}"))
    errors.sort(key=lambda e: e.row)
    return errors


def check_profiles(
    opener: Opener,
    *,
    format: FileFormat = "auto",
    encoding: str | None = None,
    filename: str | None = None,
    max_rows: int = 1_000_000,
    unknown_columns: UnknownColumns = "error",
    refuse: Callable[[str], str | None] | None = None,
    progress: Callable[[int], None] | None = None,
) -> FileCheck:
    """The first pass (see the module docstring). `refuse(id)`: why a row with this id
    may not be imported (None: it may): such rows are bad rows, with the reason on the
    field `id`. `progress(bytes read)`. Raises `ImportFormatError` for a file that cannot
    be read at all (as `parse_profiles` does)."""
    warnings: list[str] = []
    with opener() as raw:
        stream = counting(raw, progress) if progress is not None else raw
        text = open_text(stream, encoding)
        fmt, records = _records(
            text,
            _PROFILES,
            format=format,
            filename=filename,
            max_rows=max_rows,
            unknown_columns=unknown_columns,
            warnings=warnings,
        )
        check = FileCheck(fmt, text.encoding, unknown_columns, warnings=warnings)
        if records is None:
            check.warnings = [NO_ROWS]
            return check
        listed: list[RowError] = []  # the first errors (besides duplicates), in row order
        bad = array("q")  # rows with such errors, ascending
        digests = bytearray()  # the ids' hashes, for the duplicate check afterwards
        id_rows = array("q")
        for row, record, model, row_errors in _validated(records, _PROFILES):
            check.total_rows += 1
            key = unique_key(record, "id")
            if key is not None:
                digests += _id_digest(key)
                id_rows.append(row)
                if refuse is not None and model is not None and (why := refuse(key)):
                    row_errors.append(RowError(row, "id", why))
            if row_errors:
                bad.append(row)
                if len(listed) < MAX_LISTED_ERRORS:
                    listed.extend(row_errors)
    duplicates = _duplicates(digests, id_rows)
    dup_rows = np.fromiter((e.row for e in duplicates), dtype=np.int64, count=len(duplicates))
    skip = np.union1d(np.frombuffer(bad, dtype=np.int64), dup_rows)
    check.errors = list(heapq.merge(listed, duplicates, key=lambda e: e.row))[:MAX_LISTED_ERRORS]
    check.skip = skip
    check.rejected = len(skip)
    check.valid = check.total_rows - check.rejected
    if check.total_rows == 0:
        check.warnings.append(NO_ROWS)
    return check


def profile_chunks(
    opener: Opener, check: FileCheck, *, rows: int = 1_000, max_rows: int = 1_000_000
) -> Iterator[list[tuple[int, Profile]]]:
    """The second pass: the good rows (row number, profile), `rows` at a time."""
    changed = ImportFormatError(
        "the file changed while it was imported (it no longer has the rows it had when it "
        "was checked): import it again"
    )
    warnings: list[str] = []
    skip = check.skip
    next_skip = 0
    chunk: list[tuple[int, Profile]] = []
    seen = 0
    with opener() as stream:
        _, records = _records(
            open_text(stream, check.encoding),
            _PROFILES,
            format=check.format,
            filename=None,
            max_rows=max_rows,
            unknown_columns=check.unknown_columns,
            warnings=warnings,
        )
        for row, _, model, row_errors in _validated(records or iter(()), _PROFILES):
            seen += 1
            while next_skip < len(skip) and skip[next_skip] < row:
                next_skip += 1
            if next_skip < len(skip) and skip[next_skip] == row:
                continue
            if row_errors or model is None:
                raise changed
            chunk.append((row, model))  # type: ignore[arg-type]
            if len(chunk) >= rows:
                yield chunk
                chunk = []
    if seen != check.total_rows:
        raise changed
    if chunk:
        yield chunk
