"""Read B2B instances from MiniZinc data files (.dzn), as published by Bofill et al. (2022).

The reader understands the subset of MiniZinc data these files use: ``name = value;`` items,
``%`` comments, integers, sets (``{1,2}``, ``1..3``, ``{}``), 1-D arrays of integers or
sets (``[ ... ]``) and 2-D arrays (``[| a, b, c | d, e, f |]``); trailing commas are
accepted. Anything else raises :class:`DznError` with the line it was found on.

Field meaning (1-based): ``nBusiness``, ``nMeetings``, ``nTables``, ``nTotalSlots``,
``nMorningSlots``; ``requested`` rows ``p1, p2, session`` (row m is meeting m);
``forbidden`` per participant, slot sets where 0 is a dummy; ``fixed`` per meeting, slot or
0; ``precedences`` per meeting, meetings that must come strictly earlier. The redundant
``meetingsxBusiness`` ({1} ∪ {m + 1}) and ``nMeetingsBusiness`` are checked against
``requested`` when present. ``forbidden``, ``fixed`` and ``precedences`` default to empty.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from models.b2b.instance import B2BInstance, InvalidInstanceError, find_precedence_cycle
from models.b2b.instance import make_instance as _make_instance

__all__ = ["DznError", "parse_dzn", "read_dzn", "read_dzn_values"]


class DznError(InvalidInstanceError):
    """A .dzn file is malformed or describes an invalid instance.

    ``line`` is the 1-based line of the offending item (0 when not tied to one line),
    ``source`` the file name (or ``<string>``), ``reason`` the message without position.
    """

    def __init__(self, reason: str, line: int = 0, source: str = "<string>") -> None:
        self.reason = reason
        self.line = line
        self.source = source
        where = f"{source}, line {line}" if line else source
        super().__init__(f"{where}: {reason}")


# --------------------------------------------------------------------------- lexer

_TOKEN = re.compile(
    r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<comment>%[^\n]*)
  | (?P<open2d>\[\|)
  | (?P<close2d>\|\])
  | (?P<range>\.\.)
  | (?P<int>-?\d+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[=;\[\]{},|])
    """,
    re.VERBOSE,
)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str  # "int", "ident", "[|", "|]", "..", or the punctuation character itself
    text: str
    line: int


def _tokenize(text: str, source: str) -> list[_Tok]:
    toks: list[_Tok] = []
    line = 1
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            snippet = text[pos : pos + 20].split("\n", 1)[0]
            raise DznError(f"unexpected character(s) {snippet!r}", line, source)
        kind = m.lastgroup or ""
        if kind == "nl":
            line += 1
        elif kind in ("ws", "comment"):
            pass
        elif kind == "open2d":
            toks.append(_Tok("[|", "[|", line))
        elif kind == "close2d":
            toks.append(_Tok("|]", "|]", line))
        elif kind == "range":
            toks.append(_Tok("..", "..", line))
        elif kind in ("int", "ident"):
            toks.append(_Tok(kind, m.group(), line))
        else:
            toks.append(_Tok(m.group(), m.group(), line))
        pos = m.end()
    return toks


# --------------------------------------------------------------------------- parser

DznScalar = int | frozenset[int]
DznValue = int | frozenset[int] | list[DznScalar] | list[list[int]]


@dataclass(frozen=True, slots=True)
class DznItem:
    """One ``name = value;`` assignment and where it was found."""

    name: str
    value: DznValue
    line: int
    is_2d: bool = False
    element_lines: tuple[int, ...] = ()
    """Line of each array element (1-D) or row (2-D)."""


class _Parser:
    def __init__(self, toks: list[_Tok], source: str) -> None:
        self.toks = toks
        self.i = 0
        self.source = source

    def _err(self, reason: str, tok: _Tok | None = None) -> DznError:
        if tok is None:
            tok = self.toks[self.i] if self.i < len(self.toks) else None
        line = tok.line if tok else (self.toks[-1].line if self.toks else 0)
        return DznError(reason, line, self.source)

    def _peek(self) -> _Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def _next(self, what: str) -> _Tok:
        tok = self._peek()
        if tok is None:
            raise self._err(f"unexpected end of file, expected {what}")
        self.i += 1
        return tok

    def _expect(self, kind: str, what: str) -> _Tok:
        tok = self._next(what)
        if tok.kind != kind:
            raise self._err(f"expected {what}, found {tok.text!r}", tok)
        return tok

    def items(self) -> dict[str, DznItem]:
        out: dict[str, DznItem] = {}
        while self._peek() is not None:
            name_tok = self._expect("ident", "a field name")
            self._expect("=", f"'=' after {name_tok.text}")
            self._lines: list[int] = []
            value, is_2d = self._value(name_tok.text)
            self._expect(";", f"';' after the value of {name_tok.text}")
            if name_tok.text in out:
                raise self._err(
                    f"field {name_tok.text} is defined twice (first on line "
                    f"{out[name_tok.text].line})",
                    name_tok,
                )
            out[name_tok.text] = DznItem(
                name_tok.text, value, name_tok.line, is_2d, tuple(self._lines)
            )
        return out

    def _int(self, what: str) -> int:
        tok = self._next(what)
        if tok.kind != "int":
            raise self._err(f"expected {what}, found {tok.text!r}", tok)
        return int(tok.text)

    def _scalar(self, name: str) -> DznScalar:
        tok = self._peek()
        if tok is not None and tok.kind == "{":
            return self._set_literal(name)
        lo = self._int(f"an integer or set in {name}")
        nxt = self._peek()
        if nxt is not None and nxt.kind == "..":
            self.i += 1
            hi = self._int(f"the upper end of a range in {name}")
            return frozenset(range(lo, hi + 1))
        return lo

    def _set_literal(self, name: str) -> frozenset[int]:
        self._expect("{", "'{'")
        values: set[int] = set()
        tok = self._peek()
        if tok is not None and tok.kind == "}":
            self.i += 1
            return frozenset()
        while True:
            lo = self._int(f"an integer in a set of {name}")
            nxt = self._peek()
            if nxt is not None and nxt.kind == "..":
                self.i += 1
                hi = self._int(f"the upper end of a range in {name}")
                values.update(range(lo, hi + 1))
            else:
                values.add(lo)
            sep = self._next(f"',' or '}}' in a set of {name}")
            if sep.kind == "}":
                return frozenset(values)
            if sep.kind != ",":
                raise self._err(f"expected ',' or '}}' in a set of {name}, found {sep.text!r}", sep)

    def _value(self, name: str) -> tuple[DznValue, bool]:
        tok = self._peek()
        if tok is None:
            raise self._err(f"unexpected end of file, expected the value of {name}")
        if tok.kind == "[":
            return self._array1d(name), False
        if tok.kind == "[|":
            return self._array2d(name), True
        if tok.kind in ("int", "{"):
            return self._scalar(name), False
        raise self._err(f"unsupported value for {name}: {tok.text!r}", tok)

    def _array1d(self, name: str) -> list[DznScalar]:
        self._expect("[", "'['")
        out: list[DznScalar] = []
        while True:
            tok = self._peek()
            if tok is None:
                raise self._err(f"unexpected end of file inside array {name}")
            if tok.kind == "]":
                self.i += 1
                return out
            self._lines.append(tok.line)
            out.append(self._scalar(name))
            sep = self._next(f"',' or ']' in array {name}")
            if sep.kind == "]":
                return out
            if sep.kind != ",":
                raise self._err(f"expected ',' or ']' in array {name}, found {sep.text!r}", sep)

    def _array2d(self, name: str) -> list[list[int]]:
        open_tok = self._expect("[|", "'[|'")
        rows: list[list[int]] = []
        row: list[int] = []
        prev = "|"
        while True:
            tok = self._next(f"a value, ',' '|' or '|]' in 2-D array {name}")
            if tok.kind == "|]":
                if row:
                    rows.append(row)
                break
            if tok.kind == "|":
                rows.append(row)
                row = []
            elif tok.kind == ",":
                if prev != "int":
                    raise self._err(f"empty value in 2-D array {name}", tok)
            elif tok.kind == "int":
                if not row:
                    self._lines.append(tok.line)
                nxt = self._peek()
                if nxt is not None and nxt.kind not in (",", "|", "|]"):
                    raise self._err(f"expected ',' after {tok.text} in {name}", nxt)
                row.append(int(tok.text))
            else:
                raise self._err(f"unexpected {tok.text!r} in 2-D array {name}", tok)
            prev = tok.kind
        widths = {len(r) for r in rows}
        if len(widths) > 1:
            raise self._err(f"rows of 2-D array {name} have different lengths", open_tok)
        return rows


def read_dzn_values(text: str, source: str = "<string>") -> dict[str, DznItem]:
    """Parse MiniZinc data text into its assignments (no B2B meaning applied)."""
    return _Parser(_tokenize(text, source), source).items()


# --------------------------------------------------------------------------- B2B meaning

_REQUIRED = ("nBusiness", "nMeetings", "nTables", "nTotalSlots", "nMorningSlots", "requested")


class _Fields:
    def __init__(self, items: dict[str, DznItem], source: str) -> None:
        self.items = items
        self.source = source

    def err(self, reason: str, name: str | None = None, index: int = 0) -> DznError:
        """An error at field ``name``; ``index`` (1-based element or row) refines the line."""
        line = 0
        if name and name in self.items:
            item = self.items[name]
            line = item.line
            if 1 <= index <= len(item.element_lines):
                line = item.element_lines[index - 1]
        return DznError(reason, line, self.source)

    def int_(self, name: str, lo: int, hi: int) -> int:
        item = self.items[name]
        if not isinstance(item.value, int):
            raise self.err(f"{name} must be an integer", name)
        if not lo <= item.value <= hi:
            raise self.err(f"{name} = {item.value} is not in {lo}..{hi}", name)
        return item.value

    def array(self, name: str, length: int, what: str) -> list[DznScalar] | None:
        item = self.items.get(name)
        if item is None:
            return None
        if item.is_2d or not isinstance(item.value, list):
            raise self.err(f"{name} must be a 1-D array", name)
        if len(item.value) != length:
            raise self.err(
                f"{name} has {len(item.value)} entries, expected {length} ({what})", name
            )
        return item.value  # type: ignore[return-value]

    def sets(self, name: str, length: int, what: str) -> list[frozenset[int]] | None:
        arr = self.array(name, length, what)
        if arr is None:
            return None
        out: list[frozenset[int]] = []
        for i, v in enumerate(arr, start=1):
            if not isinstance(v, frozenset):
                raise self.err(f"{name}[{i}] must be a set, found {v!r}", name, i)
            out.append(v)
        return out

    def ints(self, name: str, length: int, what: str) -> list[int] | None:
        arr = self.array(name, length, what)
        if arr is None:
            return None
        out: list[int] = []
        for i, v in enumerate(arr, start=1):
            if not isinstance(v, int):
                raise self.err(f"{name}[{i}] must be an integer, found a set", name, i)
            out.append(v)
        return out


def parse_dzn(text: str, source: str = "<string>", name: str = "") -> B2BInstance:
    """Parse and validate a B2B instance from .dzn text; raises :class:`DznError`."""
    f = _Fields(read_dzn_values(text, source), source)
    for required in _REQUIRED:
        if required not in f.items:
            raise DznError(f"missing field {required}", 0, source)
    n_part = f.int_("nBusiness", 0, 10**6)
    n_meet = f.int_("nMeetings", 0, 10**7)
    n_tables = f.int_("nTables", 1, 10**6)
    n_slots = f.int_("nTotalSlots", 1, 10**4)
    n_morning = f.int_("nMorningSlots", 0, n_slots)

    req = f.items["requested"]
    rows = req.value
    if not isinstance(rows, list) or (rows and not req.is_2d):
        raise f.err("requested must be a 2-D array [| p1, p2, session | ... |]", "requested")
    if len(rows) != n_meet:
        raise f.err(f"requested has {len(rows)} rows, expected nMeetings = {n_meet}", "requested")
    requested: list[tuple[int, int, int]] = []
    for m, row in enumerate(cast("list[list[int]]", rows), start=1):
        if len(row) != 3:
            raise f.err(f"requested row {m} has {len(row)} columns, expected 3", "requested", m)
        p1, p2, session = row
        for p in (p1, p2):
            if not 1 <= p <= n_part:
                raise f.err(
                    f"requested row {m}: participant {p} is not in 1..nBusiness = {n_part}",
                    "requested",
                    m,
                )
        if p1 == p2:
            raise f.err(f"requested row {m}: participant {p1} cannot meet itself", "requested", m)
        if session not in (1, 2, 3):
            raise f.err(
                f"requested row {m}: session {session} is not in 1..3 "
                "(1 morning, 2 afternoon, 3 either)",
                "requested",
                m,
            )
        requested.append((p1, p2, session))

    by_part: list[set[int]] = [set() for _ in range(n_part)]
    for m, (p1, p2, _) in enumerate(requested, start=1):
        by_part[p1 - 1].add(m)
        by_part[p2 - 1].add(m)

    mxb = f.sets("meetingsxBusiness", n_part, "one set per participant")
    if mxb is not None:
        for p, s in enumerate(mxb, start=1):
            expected = {1} | {m + 1 for m in by_part[p - 1]}
            if set(s) != expected:
                raise f.err(
                    f"meetingsxBusiness[{p}] = {sorted(s)} does not match requested "
                    f"(expected {{1}} ∪ {{m+1}} = {sorted(expected)})",
                    "meetingsxBusiness",
                    p,
                )
    nmb = f.ints("nMeetingsBusiness", n_part, "one count per participant")
    if nmb is not None:
        for p, c in enumerate(nmb, start=1):
            if c != len(by_part[p - 1]):
                raise f.err(
                    f"nMeetingsBusiness[{p}] = {c} but requested gives participant {p} "
                    f"{len(by_part[p - 1])} meetings",
                    "nMeetingsBusiness",
                    p,
                )

    forbidden: list[set[int]] = [set() for _ in range(n_part)]
    forb = f.sets("forbidden", n_part, "one slot set per participant")
    if forb is not None:
        for p, s in enumerate(forb, start=1):
            for t in s:
                if t == 0:
                    continue  # the files' dummy value
                if not 1 <= t <= n_slots:
                    raise f.err(
                        f"forbidden[{p}]: slot {t} is not in 1..nTotalSlots = {n_slots}",
                        "forbidden",
                        p,
                    )
                forbidden[p - 1].add(t)

    fixed: list[int | None] = [None] * n_meet
    fix = f.ints("fixed", n_meet, "one slot or 0 per meeting")
    if fix is not None:
        for m, t in enumerate(fix, start=1):
            if t == 0:
                continue
            if not 1 <= t <= n_slots:
                raise f.err(
                    f"fixed[{m}]: slot {t} is not in 1..nTotalSlots = {n_slots} (0 = not fixed)",
                    "fixed",
                    m,
                )
            fixed[m - 1] = t

    precedences: list[frozenset[int]] = [frozenset()] * n_meet
    prec = f.sets("precedences", n_meet, "one meeting set per meeting")
    if prec is not None:
        for m, s in enumerate(prec, start=1):
            for b in s:
                if not 1 <= b <= n_meet:
                    raise f.err(
                        f"precedences[{m}]: meeting {b} is not in 1..nMeetings = {n_meet}",
                        "precedences",
                        m,
                    )
            if m in s:
                raise f.err(
                    f"precedences[{m}]: meeting {m} cannot precede itself", "precedences", m
                )
        precedences = prec
        cycle = find_precedence_cycle(prec)
        if cycle:
            raise f.err(
                "precedences form a cycle (each must come before the next): "
                + " -> ".join(str(m) for m in cycle),
                "precedences",
                cycle[0],
            )
    try:
        return _make_instance(
            n_participants=n_part,
            requested=requested,
            n_tables=n_tables,
            n_slots=n_slots,
            n_morning_slots=n_morning,
            forbidden=forbidden,
            fixed=fixed,
            precedences=precedences,
            name=name,
        )
    except InvalidInstanceError as exc:  # pragma: no cover - the checks above come first
        raise DznError(str(exc), 0, source) from exc


def read_dzn(path: str | Path) -> B2BInstance:
    """Read and validate a B2B instance from a .dzn file; raises :class:`DznError`
    (also when the file cannot be read or decoded)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DznError(f"cannot read file: {exc}", 0, str(p)) from exc
    name = p.name[: -len(".dzn")] if p.name.endswith(".dzn") else p.name
    return parse_dzn(text, source=str(p), name=name)
