"""Segment-level evidence (models.lines): segmentation, the line index, and its vote."""

from __future__ import annotations

import numpy as np
import pytest

from models.lexical import LexicalIndex
from models.lines import LineIndex, profile_segments, segments


def test_segments_split_lines_and_sentences_in_any_script() -> None:
    text = "Robot grippers for food. Vision systems!\n\nEnergy storage — batteries\nok\n"
    assert segments(text) == [
        "Robot grippers for food.",
        "Vision systems!",
        "Energy storage — batteries",
    ]  # "ok" is too short to be an item
    assert segments("精密加工の会社です。医療機器の部品を作ります。") == [
        "精密加工の会社です。",
        "医療機器の部品を作ります。",
    ]
    assert segments("Same line\nSame line") == ["Same line"]
    assert segments(None) == [] and segments("") == []
    assert profile_segments("Line one\nLine two", ["Sensor modules"], ["Line one"]) == [
        "Line one",
        "Line two",
        "Sensor modules",
    ]


def _index() -> tuple[LineIndex, LexicalIndex]:
    by_key = {
        0: ["battery cell recycling", "solar module glass"],
        1: ["battery cell recycling"],
        2: ["medical stent coating", "solar module glass", "textile dye chemistry"],
        4: ["machine vision for sorting"],
    }
    lines = list(dict.fromkeys(s for k in sorted(by_key) for s in by_key[k]))
    lex = LexicalIndex(min_df=1)
    lex.fit(list(range(len(lines))), lines)
    vectors = np.eye(len(lines), 8, dtype=np.float32)  # line i along axis i
    index = LineIndex.build(by_key, 5, lexical=lex.transform(lines), vectors=vectors, lines=lines)
    return index, lex


def test_vote_passes_each_close_line_to_every_profile_that_lists_it() -> None:
    index, lex = _index()
    assert len(index) == 5 and index.id_of["solar module glass"] == 1
    lex_sims, dense_sims = index.similarities(
        lex.transform(["battery cell recycling plant"]), np.eye(5, 8, dtype=np.float32)[[0]]
    )
    assert lex_sims is not None and dense_sims is not None
    assert int(np.argmax(lex_sims)) == 0 and dense_sims.tolist() == [1, 0, 0, 0, 0]
    votes = index.vote(dense_sims, k=1)
    # the line "battery cell recycling" is listed by 0 and 1, by nobody else
    assert votes.tolist() == [1, 1, 0, 0, 0]
    # two close lines count twice; k bounds how many lines vote
    two = np.asarray([0.0, 0.9, 0.8, 0.0, 0.0], dtype=np.float32)
    assert index.vote(two, k=2) == pytest.approx([0.9, 0.0, 1.7, 0.0, 0.0])
    assert index.vote(two, k=1) == pytest.approx([0.9, 0.0, 0.9, 0.0, 0.0])
    assert index.vote(two, k=2, power=2.0) == pytest.approx([0.81, 0, 0.81 + 0.64, 0, 0])
    # a query of several segments: each line's best match to any of them
    multi = np.eye(5, 8, dtype=np.float32)[[0, 4]]
    _, best = index.similarities(None, multi)
    assert best is not None and best.tolist() == [1, 0, 0, 0, 1]
    assert index.vote(best, k=2).tolist() == [1, 1, 0, 0, 1]
    assert index.vote(None).tolist() == [0, 0, 0, 0, 0]


def test_a_change_replaces_the_keys_lines_and_dead_lines_never_vote() -> None:
    """`changed`: the changed keys list their new segments, the others keep theirs, new
    segments get the rows given for them; a line nobody lists any more keeps its row but
    never takes a place among the k that vote; the result votes as a fresh build of the
    same lists does. The index changed is left as it was."""
    index, lex = _index()
    lists = {
        0: ["battery cell recycling", "solar module glass"],
        1: ["battery cell recycling"],
        2: ["medical stent coating", "hydrogen tank welding"],  # two lines gone, one new
        6: ["hydrogen tank welding"],  # a new key beyond the nodes
    }
    changes = {2: lists[2], 4: [], 6: lists[6]}  # key 4 gone
    assert index.new_lines(changes) == ["hydrogen tank welding"]
    new_vector = np.eye(1, 8, 5, dtype=np.float32)
    changed = index.changed(
        changes, 0, lexical=lex.transform(["hydrogen tank welding"]), vectors=new_vector
    )
    assert len(index) == 5 and index.dead == 0 and index.nodes == 5  # (untouched)
    assert len(changed) == 6 and changed.nodes == 7 and changed.dead == 2
    dead = {changed.lines[i] for i in np.flatnonzero(~changed.alive)}
    assert dead == {"textile dye chemistry", "machine vision for sorting"}
    # a query closest to a dead line (textile, axis 3), then to battery (axis 0)
    q = np.zeros((1, 8), dtype=np.float32)
    q[0, 3], q[0, 0] = 1.0, 0.5
    _, sims = changed.similarities(None, q)
    assert sims is not None
    votes = changed.vote(sims, k=1)
    assert votes.tolist() == [0.5, 0.5, 0, 0, 0, 0, 0]  # battery's listers, not textile's
    # as built afresh from the same lists (rows in another order)
    lines = ["battery cell recycling", "solar module glass", "medical stent coating"]
    lines.append("hydrogen tank welding")
    vectors = np.vstack([np.eye(3, 8, dtype=np.float32), new_vector])
    fresh = LineIndex.build(lists, 7, lexical=lex.transform(lines), vectors=vectors, lines=lines)
    graded = np.asarray([[0.9, 0.8, 0.7, 0.95, 0.85, 0.6, 0.0, 0.0]], dtype=np.float32)
    for query in (q, np.eye(1, 8, 5, dtype=np.float32), graded):
        for k in (1, 2, 3):
            got = changed.vote(changed.similarities(None, query)[1], k=k)
            assert got == pytest.approx(fresh.vote(fresh.similarities(None, query)[1], k=k))
    lexical_q = lex.transform(["solar module glass and hydrogen tank welding"])
    got_lex, _ = changed.similarities(lexical_q, None)
    want_lex, _ = fresh.similarities(lexical_q, None)
    assert changed.vote(got_lex, k=2) == pytest.approx(fresh.vote(want_lex, k=2))
    compact = changed.compacted()
    assert compact.dead == 0 and sorted(compact.lines) == sorted(lines)
    assert compact.vote(compact.similarities(None, q)[1], k=1).tolist() == votes.tolist()
    with pytest.raises(ValueError, match="one lexical row"):
        index.changed({9: ["a line without rows"]}, 0, lexical=None, vectors=None)
