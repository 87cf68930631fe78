"""Decoding import files: `decode` for a file held in memory, `open_text` for one read
as a stream (a large file is never held whole). `service.io.imports` describes the
detection (and re-exports `decode` and `ImportFormatError`).

`open_text(stream, encoding)` reads up to `WHOLE_BYTES` (8 MiB). A file that fits is
decoded whole by `decode`, exactly as an uploaded file always was (the
encoding detected from all of it). A larger one has its encoding detected from that first
part (cut at its last line break, so that no character is cut), or takes the one named,
and is then decoded block by block with a strict incremental decoder: an undecodable
byte, or a character no text file holds, is an `ImportFormatError` naming its byte offset
and line, as the whole-file decoding names them. A DOS end-of-file mark (0x1A) at the very
end is dropped, as it is from a whole file.

`Text` hands the decoded text out as chunks or as lines (CSV's line ends: CR LF, CR or
LF, kept, as `io.StringIO(newline="")` gives them; JSONL's: LF only, dropped, as
`str.split` on LF gives them), and lets a reader look at the first line or the first
character before it starts.
"""

from __future__ import annotations

import codecs
import itertools
import re
from collections.abc import Callable, Iterable, Iterator
from typing import IO

from charset_normalizer import from_bytes

__all__ = [
    "BLOCK_BYTES",
    "WHOLE_BYTES",
    "ImportFormatError",
    "Text",
    "counting",
    "decode",
    "open_text",
]


class ImportFormatError(ValueError):
    """The file as a whole cannot be read; the message says what and where."""


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
# Streams

WHOLE_BYTES = 8 * 1024 * 1024
"""Files up to this size are decoded whole (their encoding detected from all of it)."""
BLOCK_BYTES = 1024 * 1024
"""What a large file is read and decoded by."""

_LINE_END = re.compile(r"\r\n|\r|\n")


class Text:
    """A file's decoded text (see the module docstring). `whole` is the whole text when
    the file was small enough to be decoded at once, else None."""

    def __init__(self, chunks: Iterable[str], encoding: str, whole: str | None = None) -> None:
        self._chunks = iter(chunks)
        self._ahead = ""  # text read ahead by first_line / first_char, handed out first
        self.encoding = encoding
        self.whole = whole

    def _more(self) -> bool:
        chunk = next(self._chunks, None)
        if chunk is None:
            return False
        self._ahead += chunk
        return True

    def first_line(self) -> str:
        """The text before the first \\n (all of it without one)."""
        while "\n" not in self._ahead and self._more():
            pass
        return self._ahead.partition("\n")[0]

    def drop_first_line(self) -> None:
        self.first_line()
        self._ahead = self._ahead.partition("\n")[2]

    def first_char(self, space: str | None = None) -> str:
        """The first character that is not white space (`str.lstrip(space)`; "" for
        none)."""
        while not self._ahead.lstrip(space) and self._more():
            pass
        return self._ahead.lstrip(space)[:1]

    def chunks(self) -> Iterator[str]:
        if self._ahead:
            ahead, self._ahead = self._ahead, ""
            yield ahead
        yield from self._chunks

    def lines(self) -> Iterator[str]:
        """Lines as `io.StringIO(text, newline="")` yields them: split after \\r\\n, \\r
        or \\n, line ends kept (what `csv.reader` reads)."""
        rest = ""
        for chunk in self.chunks():
            data = rest + chunk
            # a \r at the very end may be the first half of a \r\n: wait for the next chunk
            end = len(data) - 1 if data.endswith("\r") else len(data)
            start = 0
            for match in _LINE_END.finditer(data, 0, end):
                yield data[start : match.end()]
                start = match.end()
            rest = data[start:]
        if rest:
            yield rest

    def split_lines(self) -> Iterator[str]:
        """The pieces of `text.split("\\n")`, without the \\n (JSONL's lines)."""
        rest = ""
        for chunk in self.chunks():
            parts = (rest + chunk).split("\n")
            rest = parts.pop()
            yield from parts
        yield rest


def _read_up_to(stream: IO[bytes], size: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        block = stream.read(size - got)
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def open_text(
    stream: IO[bytes],
    encoding: str | None = None,
    *,
    whole_bytes: int | None = None,
    block_bytes: int | None = None,
) -> Text:
    """The stream's text (see the module docstring; the sizes default to `WHOLE_BYTES`
    and `BLOCK_BYTES`). Raises `ImportFormatError`."""
    whole_bytes = whole_bytes or WHOLE_BYTES
    block_bytes = block_bytes or BLOCK_BYTES
    head = _read_up_to(stream, whole_bytes + 1)
    if len(head) <= whole_bytes:
        text, used = decode(head, encoding)
        return Text([text] if text else [], used, whole=text)
    named = encoding is not None and encoding.strip().lower() not in ("", "auto")
    if named:
        name = _canonical_encoding(encoding.strip())  # type: ignore[union-attr]
    else:
        name = next((n for bom, n in _UTF_BOMS if head.startswith(bom)), "")
        if not name:
            name = _detect(head[:whole_bytes])
    if name == "utf-8" and head.startswith(codecs.BOM_UTF8):
        name = "utf-8-sig"

    def blocks() -> Iterator[bytes]:
        yield head
        while block := stream.read(block_bytes):
            yield block

    return Text(_decoded(blocks(), name, detected_from=None if named else whole_bytes), name)


def _detect(head: bytes) -> str:
    """The encoding of a file from its first part: cut after its last line break, or,
    in a part without one, by up to three bytes (no character is longer)."""
    cut = head.rfind(b"\n")
    if cut > 0:
        return decode(head[: cut + 1], None)[1]
    first: ImportFormatError | None = None
    for trim in range(4):
        try:
            return decode(head[: len(head) - trim], None)[1]
        except ImportFormatError as exc:
            first = first or exc
    assert first is not None
    raise first


def _decoded(blocks: Iterable[bytes], name: str, *, detected_from: int | None) -> Iterator[str]:
    """The text of `blocks` in the encoding `name`, checked as `decode` checks a whole
    file (strictly decoded, no control characters), block by block."""
    decoder = codecs.getincrementaldecoder(name)(errors="strict")
    offset = 0  # bytes given to the decoder so far
    lines = 1  # the line the next decoded character is on
    held = ""  # trailing 0x1A characters: dropped if nothing follows them
    first = True

    def fail(reason: str) -> ImportFormatError:
        hint = ""
        if detected_from is not None:
            hint = (
                f"; the encoding was detected from the file's first {detected_from:,} "
                "bytes: name the file's encoding (e.g. encoding=cp932)"
            )
        elif name == "shift_jis":
            hint = "; Excel's Shift_JIS is really cp932, try encoding='cp932'"
        return ImportFormatError(f"cannot decode the file as {name}: {reason}{hint}")

    def check(text: str, start: int) -> None:
        match = _IMPLAUSIBLE.search(text)
        if match is None:
            return
        index = match.start()
        try:
            where = f"byte offset {start + len(text[:index].encode(name))}"
        except (UnicodeEncodeError, LookupError):
            where = f"character {index} of the block at byte offset {start}"
        line = lines + text.count("\n", 0, index)
        raise ImportFormatError(
            f"the file is not text in {name}: unexpected character "
            f"U+{ord(match.group()):04X} at {where} (line {line})"
        )

    def step(block: bytes, final: bool) -> tuple[str, int]:
        """The text of `block` (with what the decoder held back from the last one), and
        the byte offset where that text starts."""
        nonlocal offset
        pending = decoder.getstate()[0]
        start = offset - len(pending)
        try:
            text = decoder.decode(block, final)
        except UnicodeDecodeError as exc:
            data = pending + block
            bad = data[exc.start : min(exc.end, exc.start + 4)].hex(" ").upper()
            line = lines + data[: exc.start].decode(name, errors="replace").count("\n")
            raise fail(
                f"invalid byte(s) {bad} at byte offset {start + exc.start} (line {line})"
            ) from None
        offset += len(block)
        return text, start

    for block in itertools.chain(blocks, [b""]):
        final = not block
        decoded, start = step(block, final)
        text = held + decoded
        start -= len(held)  # (0x1A is one byte in every encoding read here)
        if first and text:
            text = text.removeprefix("\ufeff")
            first = False
        if final:
            text, held = text.rstrip("\x1a"), ""
        else:
            stripped = text.rstrip("\x1a")
            text, held = stripped, text[len(stripped) :]
        if text:
            check(text, start)
            lines += text.count("\n")
            yield text


def counting(stream: IO[bytes], seen: Callable[[int], None]) -> IO[bytes]:
    """`stream`, calling `seen(bytes read so far)` after each read (a reading progress)."""
    return _Counting(stream, seen)  # type: ignore[return-value]


class _Counting:
    def __init__(self, stream: IO[bytes], seen: Callable[[int], None]) -> None:
        self._stream = stream
        self._seen = seen
        self._count = 0

    def read(self, size: int = -1) -> bytes:
        data = self._stream.read(size)
        if data:
            self._count += len(data)
            self._seen(self._count)
        return data
