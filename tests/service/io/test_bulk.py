"""Large import files read as they stream (service.io.bulk, service.io.textstream): the
same rows, errors and counts as the whole-file reader, decoding errors found late in a
file, and a file that changes between the check and the import."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence

import pytest

import service.io.textstream as textstream
from service.io.bulk import FileCheck, Opener, check_profiles, profile_chunks
from service.io.imports import ImportFormatError, decode, parse_profiles
from service.io.textstream import open_text
from tests.service.io.test_imports import JA_CSV


def _opener(data: bytes) -> Opener:
    return lambda: io.BytesIO(data)


def _jsonl(rows: Sequence[object]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def _firm(i: int, **extra: object) -> dict[str, object]:
    return {"id": f"f-{i}", "name": f"会社{i}", "kind": "firm", "country": "JP", **extra}


CASES: dict[str, tuple[bytes, dict[str, str]]] = {
    "ja csv utf-8": (JA_CSV.encode(), {}),
    "ja csv cp932": (JA_CSV.encode("cp932"), {}),
    "ja csv bom": (JA_CSV.encode("utf-8-sig"), {}),
    "csv sep line, semicolons": (b"sep=;\r\nid;name;kind\r\na;A;firm\r\nb;B;nope\r\n", {}),
    "csv quoted line breaks, CR only": (
        b'id,name,kind,description\r"x1","X","firm","two\nlines"\r"x2","Y","firm",ok\r',
        {},
    ),
    "csv bad rows and duplicates": (
        (
            "id,name,kind,country\n"
            + "".join(f"r{i % 7},名{i},{'firm' if i % 5 else 'bogus'},JP\n" for i in range(60))
            + ",,,\n\nlast,L,firm,XX\n"
        ).encode(),
        {},
    ),
    "csv unknown column ignored": (
        b"id,name,kind,memo\na,A,firm,hello\n",
        {"unknown_columns": "ignore"},
    ),
    "jsonl mixed": (
        _jsonl([_firm(1), _firm(2, kind="?"), "text", _firm(1), [1], _firm(3)])
        + b'\n{"id": "d", "id": "e", "name": "n", "kind": "firm"}\nnot json\n\n',
        {},
    ),
    "json array": (json.dumps([_firm(i) for i in range(30)] + [_firm(3)]).encode(), {}),
    "json array pretty": (
        json.dumps([_firm(1), {"id": "b", "kind": "x"}, 7], indent=2).encode(),
        {},
    ),
    "header only": (b"id,name,kind\r\n", {}),
}


def _both(data: bytes, options: dict[str, str]) -> tuple[object, object]:
    """(what parse_profiles reads, what the two passes read), comparably."""
    parsed = parse_profiles(data, max_rows=10_000, **options)  # type: ignore[arg-type]
    check = check_profiles(_opener(data), max_rows=10_000, **options)  # type: ignore[arg-type]
    chunks = profile_chunks(_opener(data), check, rows=7)
    items = [(r, p.model_dump()) for c in chunks for r, p in c]
    whole = (
        parsed.format,
        parsed.total_rows,
        len(parsed.items),
        len(parsed.error_rows),
        parsed.errors,
        parsed.warnings,
        [(r, p.model_dump()) for r, p in parsed.items],
    )
    streamed = (
        check.format,
        check.total_rows,
        check.valid,
        check.rejected,
        check.errors,
        check.warnings,
        items,
    )
    return whole, streamed


@pytest.mark.parametrize("stream_from", [None, 64])
@pytest.mark.parametrize("case", list(CASES))
def test_the_two_passes_read_what_the_whole_file_reader_reads(
    case: str, stream_from: int | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Files decoded whole (small), and the same files decoded as they stream (the
    threshold lowered to 64 bytes): the same rows, errors, counts and warnings."""
    if stream_from is not None:
        monkeypatch.setattr(textstream, "WHOLE_BYTES", stream_from)
        monkeypatch.setattr(textstream, "BLOCK_BYTES", 5)  # characters cut between blocks
    data, options = CASES[case]
    if case == "json array pretty" and stream_from:
        # (a small file that is one array is read whole; a large one element by element)
        parsed, streamed = _both(data, options)
        assert streamed[:4] == (parsed[:4])  # type: ignore[index]
        return
    whole, streamed = _both(data, options)
    assert streamed == whole


def test_errors_listed_are_the_first_thousand_in_row_order() -> None:
    rows = [_firm(i, kind="bad") if i % 2 else _firm(i % 10) for i in range(3_000)]
    data = _jsonl(rows)
    parsed = parse_profiles(data)
    check = check_profiles(_opener(data))
    assert check.errors == parsed.errors[:1000]
    assert check.rejected == len(parsed.error_rows) == 3_000 - 5  # (five distinct ids)
    assert check.valid == len(parsed.items) == 5


def _where(message: str) -> str:
    """ "... at byte offset N (line L)" of an error message."""
    return message[message.index(" at byte offset ") :].split(")")[0]


def test_a_bad_byte_deep_in_a_large_file_names_its_offset_and_line(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    head = "id,name,kind\n" + "".join(f"a{i},名前{i},firm\n" for i in range(200))
    data = head.encode() + b"z,\xff\xfe,firm\n"
    with pytest.raises(ImportFormatError) as whole:
        decode(data, "utf-8")
    monkeypatch.setattr(textstream, "WHOLE_BYTES", 1_000)
    with pytest.raises(ImportFormatError) as caught:
        check_profiles(_opener(data))
    message = str(caught.value)
    assert _where(message) == _where(str(whole.value)) == " at byte offset 3795 (line 202"
    assert "invalid byte(s) FF" in message
    assert "detected from the file's first 1,000 bytes" in message
    # the same file in cp932 (detected from its start) reads, in any block size
    cp932 = (head + "z,ｚ,firm\n").encode("cp932")
    assert check_profiles(_opener(cp932)).valid == 201


def test_a_control_character_in_a_large_file_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"id,name,kind\n" + b"".join(b"a%02d,b,firm\n" % i for i in range(40))
    data += b"c,\x01,firm\n\x1a\x1a"
    with pytest.raises(ImportFormatError) as whole:
        decode(data)
    monkeypatch.setattr(textstream, "WHOLE_BYTES", 100)
    monkeypatch.setattr(textstream, "BLOCK_BYTES", 7)
    with pytest.raises(ImportFormatError, match=r"U\+0001") as caught:
        check_profiles(_opener(data))
    assert _where(str(caught.value)) == _where(str(whole.value)) == " at byte offset 455 (line 42"
    # a DOS end-of-file mark at the very end is dropped, as from a small file
    assert check_profiles(_opener(data.replace(b"\x01", b"x"))).valid == 41


def test_the_stream_is_decoded_in_blocks_without_reading_it_whole() -> None:
    class Reads(io.BytesIO):
        largest = 0

        def read(self, size: int | None = -1) -> bytes:
            chunk = super().read(size)
            Reads.largest = max(Reads.largest, len(chunk))
            return chunk

    data = b"id,name,kind\n" + b"a,b,firm\n" * 400_000  # 3.6 MB
    text = open_text(Reads(data), whole_bytes=100_000, block_bytes=10_000)
    assert text.whole is None
    assert sum(1 for _ in text.lines()) == 400_001
    assert Reads.largest <= 100_001


def test_a_file_that_changes_between_the_passes_is_refused() -> None:
    good = _jsonl([_firm(i) for i in range(10)])
    check = check_profiles(_opener(good))
    assert isinstance(check, FileCheck) and check.valid == 10
    changed = _jsonl([_firm(i) for i in range(9)] + [_firm(9, kind="nope")])
    with pytest.raises(ImportFormatError, match="changed while it was imported"):
        list(profile_chunks(_opener(changed), check))
    longer = _jsonl([_firm(i) for i in range(11)])
    with pytest.raises(ImportFormatError, match="changed while it was imported"):
        list(profile_chunks(_opener(longer), check, rows=100))


def test_refused_ids_are_bad_rows() -> None:
    data = _jsonl([_firm(1), _firm(2), _firm(3)])
    check = check_profiles(_opener(data), refuse=lambda key: "not yours" if key == "f-2" else None)
    assert (check.valid, check.rejected) == (2, 1)
    assert [(e.row, e.field, e.reason) for e in check.errors] == [(2, "id", "not yours")]
    assert [r for c in profile_chunks(_opener(data), check) for r, _ in c] == [1, 3]
