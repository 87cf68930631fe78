"""The .dzn reader and instance construction: what is read, and how bad files are refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.b2b import B2BInstance, DznError, InvalidInstanceError, Meeting, parse_dzn, read_dzn
from models.b2b.dzn import read_dzn_values
from tests.support.env import ROOT

DATA = ROOT / "tests" / "data" / "b2b"

HEADER = """nBusiness = 3;
nMeetings = 2;
nTables = 1;
nTotalSlots = 3;
nMorningSlots = 2;
"""


def make(body: str, header: str = HEADER) -> str:
    return header + body


GOOD_BODY = """requested = [| 1, 2, 3 | 2, 3, 1 |];
forbidden = [{0}, {}, {3}];
fixed = [0, 0];
precedences = [{}, {1}];
"""


def test_reads_the_small_fixture() -> None:
    inst = read_dzn(DATA / "small.dzn")
    assert inst.name == "small"
    assert (inst.n_participants, inst.n_meetings, inst.n_tables) == (5, 5, 2)
    assert (inst.n_slots, inst.n_morning_slots) == (4, 2)
    assert inst.meetings[0] == Meeting(1, 2, 3)
    assert inst.meetings[3] == Meeting(2, 5, 2)
    # 0 is the files' dummy forbidden slot
    assert inst.forbidden == (frozenset(), frozenset(), frozenset({2}), frozenset(), frozenset())
    assert inst.fixed == (None, None, 3, None, None)
    assert inst.precedences[4] == frozenset({1})
    assert inst.meetings_of(1) == (1, 2, 3)
    assert inst.allowed_slots(4) == [3, 4]  # afternoon only
    assert inst.allowed_slots(2) == [1, 3, 4]  # participant 3 forbids slot 2


def test_optional_fields_default_to_empty() -> None:
    inst = read_dzn(DATA / "k4.dzn")
    assert inst.n_meetings == 6
    assert all(not f for f in inst.forbidden)
    assert all(f is None for f in inst.fixed)
    assert all(not p for p in inst.precedences)


def test_ranges_empty_sets_comments_and_trailing_commas() -> None:
    text = """% a comment line
    nBusiness = 3; % trailing comment
    nMeetings = 2; nTables = 1; nTotalSlots = 4; nMorningSlots = 2;
    requested = [|1, 2, 3,
    |2, 3, 3,
    |];
    forbidden = [1..2, {}, {0, 3..4},];
    fixed = [0, 4];
    precedences = [{}, {}];
    """
    inst = parse_dzn(text)
    assert inst.forbidden == (frozenset({1, 2}), frozenset(), frozenset({3, 4}))
    assert inst.fixed == (None, 4)


def test_raw_values_keep_lines() -> None:
    items = read_dzn_values("a = 1;\n\nb = [ {1}, 2..3 ];\nc = [| 1, 2 | 3, 4 |];\n")
    assert items["a"].value == 1 and items["a"].line == 1
    assert items["b"].value == [frozenset({1}), frozenset({2, 3})] and items["b"].line == 3
    assert items["c"].value == [[1, 2], [3, 4]] and items["c"].is_2d


def test_consistent_redundant_fields_are_accepted() -> None:
    text = make(
        GOOD_BODY + "meetingsxBusiness = [{1,2}, {1,2,3}, {1,3}];\nnMeetingsBusiness = [1, 2, 1];\n"
    )
    assert parse_dzn(text).n_meetings == 2


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        # syntax
        (make(GOOD_BODY.replace("fixed = [0, 0];", "fixed = [0, 0]")), 9, "expected ';'"),
        (make("requested = [| 1, 2, 3 | 2, 3, 1 |];\nx = 1 # 2;\n"), 7, "unexpected character"),
        (make("requested = [| 1, 2, 3 | 2, 3, 1 |];\nnTables = 2;\n"), 7, "defined twice"),
        (make("requested = [| 1, 2, 3 | 2, 3 |];\n"), 6, "different lengths"),
        (make("requested = [| 1, , 2, 3 |];\n"), 6, "empty value"),
        (make("requested = [| 1, 2, 3 |\n"), 6, "unexpected end of file"),
        # missing / mistyped fields
        (HEADER.replace("nTables = 1;\n", "") + GOOD_BODY, 0, "missing field nTables"),
        (make("forbidden = [{}, {}, {}];\n"), 0, "missing field requested"),
        (
            make(GOOD_BODY).replace("nTables = 1;", "nTables = {1};"),
            3,
            "nTables must be an integer",
        ),
        (make(GOOD_BODY).replace("nMorningSlots = 2;", "nMorningSlots = 5;"), 5, "not in 0..3"),
        # wrong array lengths
        (
            make(GOOD_BODY.replace("forbidden = [{0}, {}, {3}];", "forbidden = [{0}, {}];")),
            7,
            "forbidden has 2 entries, expected 3",
        ),
        (
            make(GOOD_BODY.replace("fixed = [0, 0];", "fixed = [0];")),
            8,
            "fixed has 1 entries, expected 2",
        ),
        (make("requested = [| 1, 2, 3 |];\n"), 6, "requested has 1 rows, expected nMeetings = 2"),
        (make("requested = [| 1, 2 | 2, 3 |];\n"), 6, "has 2 columns, expected 3"),
        # references out of range
        (
            make("requested = [| 1, 2, 3 |\n 2, 9, 1 |];\n"),
            7,
            "participant 9 is not in 1..nBusiness",
        ),
        (make("requested = [| 1, 1, 3 | 2, 3, 1 |];\n"), 6, "cannot meet itself"),
        (make("requested = [| 1, 2, 3 | 2, 3, 0 |];\n"), 6, "session 0 is not in 1..3"),
        (
            make(GOOD_BODY.replace("{3}]", "{4}]")),
            7,
            "forbidden[3]: slot 4 is not in 1..nTotalSlots",
        ),
        (
            make(GOOD_BODY.replace("fixed = [0, 0];", "fixed = [0, 7];")),
            8,
            "fixed[2]: slot 7 is not in 1..nTotalSlots",
        ),
        (
            make(GOOD_BODY.replace("fixed = [0, 0];", "fixed = [0, {1}];")),
            8,
            "fixed[2] must be an integer",
        ),
        (
            make(GOOD_BODY.replace("precedences = [{}, {1}];", "precedences = [{}, {5}];")),
            9,
            "meeting 5 is not in 1..nMeetings",
        ),
        (
            make(GOOD_BODY.replace("precedences = [{}, {1}];", "precedences = [{}, {2}];")),
            9,
            "meeting 2 cannot precede itself",
        ),
        (
            make(GOOD_BODY.replace("precedences = [{}, {1}];", "precedences = [{2},\n{1}];")),
            10,
            "precedences form a cycle",
        ),
        # redundant fields that disagree with `requested`
        (
            make(GOOD_BODY + "nMeetingsBusiness = [1, 1, 1];\n"),
            10,
            "nMeetingsBusiness[2] = 1 but requested gives participant 2 2 meetings",
        ),
        (
            make(GOOD_BODY + "meetingsxBusiness = [{1,2},\n{1,3},\n{1,3}];\n"),
            11,
            "meetingsxBusiness[2]",
        ),
    ],
)
def test_malformed_files_raise_dzn_error(text: str, line: int, reason: str) -> None:
    with pytest.raises(DznError) as info:
        parse_dzn(text, source="bad.dzn")
    err = info.value
    assert reason in err.reason, err.reason
    assert err.line == line, f"{err} (reported line {err.line}, expected {line})"
    assert str(err).startswith("bad.dzn")
    assert isinstance(err, InvalidInstanceError) and isinstance(err, ValueError)


def test_error_points_at_the_offending_row_of_a_fixture() -> None:
    with pytest.raises(DznError) as info:
        read_dzn(DATA / "bad_session.dzn")
    assert info.value.line == 8
    assert "requested row 2: session 4 is not in 1..3" in str(info.value)
    assert "bad_session.dzn, line 8" in str(info.value)


def test_cycle_message_lists_the_cycle() -> None:
    text = make(GOOD_BODY.replace("precedences = [{}, {1}];", "precedences = [{2}, {1}];"))
    with pytest.raises(DznError, match=r"cycle .*: (1 -> 2 -> 1|2 -> 1 -> 2)"):
        parse_dzn(text)


def test_unreadable_file_raises_dzn_error(tmp_path: Path) -> None:
    with pytest.raises(DznError, match="cannot read file"):
        read_dzn(tmp_path / "missing.dzn")
    bad = tmp_path / "latin1.dzn"
    bad.write_bytes(b"nBusiness = 1; % caf\xe9\n")
    with pytest.raises(DznError, match="cannot read file"):
        read_dzn(bad)


def test_build_from_python_data() -> None:
    inst = B2BInstance.build(
        n_participants=3,
        meetings=[(1, 2), (2, 3, 1)],
        n_tables=1,
        n_slots=3,
        n_morning_slots=2,
        forbidden={3: [3]},
        fixed={1: 2},
        precedences={2: [1]},
        name="event-42",
    )
    assert inst.meetings == (Meeting(1, 2, 3), Meeting(2, 3, 1))
    assert inst.forbidden[2] == frozenset({3})
    assert inst.fixed == (2, None)
    assert inst.precedences == (frozenset(), frozenset({1}))
    assert inst.name == "event-42"
    # n_morning_slots defaults to the whole day
    assert (
        B2BInstance.build(
            n_participants=2, meetings=[(1, 2)], n_tables=1, n_slots=4
        ).n_morning_slots
        == 4
    )


@pytest.mark.parametrize(
    ("kwargs", "reason"),
    [
        ({"meetings": [(1, 4)]}, "participant 4 is not in 1..3"),
        ({"meetings": [(2, 2)]}, "cannot meet itself"),
        ({"meetings": [(1, 2, 5)]}, "session 5 is not in 1..3"),
        ({"meetings": [(1, 2, 3, 4)]}, "must be (p1, p2[, session])"),
        ({"forbidden": {1: [9]}}, "forbidden slot of participant 1: 9 is not in 1..3"),
        ({"forbidden": {7: [1]}}, "forbidden: participant 7"),
        ({"fixed": {1: 0}}, "fixed slot of meeting 1: 0 is not in 1..3"),
        ({"fixed": {3: 1}}, "fixed: meeting 3"),
        ({"precedences": {1: [1]}}, "meeting 1 cannot precede itself"),
        ({"precedences": {1: [2], 2: [1]}}, "precedences form a cycle"),
        ({"precedences": {1: [8]}}, "precedence of meeting 1: meeting 8"),
        ({"n_tables": 0}, "nTables 0 is not in 1.."),
        ({"n_morning_slots": 4}, "nMorningSlots 4 is not in 0..3"),
    ],
)
def test_build_rejects_bad_data(kwargs: dict[str, object], reason: str) -> None:
    args: dict[str, object] = {
        "n_participants": 3,
        "meetings": [(1, 2), (2, 3)],
        "n_tables": 1,
        "n_slots": 3,
    }
    args.update(kwargs)
    with pytest.raises(InvalidInstanceError) as info:
        B2BInstance.build(**args)  # type: ignore[arg-type]
    assert reason in str(info.value)
    assert not isinstance(info.value, DznError)
