"""Outcomes graded as evidence (models.evidence): each rule of the grading on one event,
corrections, participants without a profile, the interactions the network gets, and the
outcome reason only where evidence says so."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from models.evidence import (
    EventFacts,
    Evidence,
    edges,
    grade_event,
    grade_events,
    peer_reason,
)
from models.outcomes import FollowUp, Interest, MeetingOutcome, NextStep, Stage

DOC = {
    "participants": [
        {"id": "s1", "profile_id": "firm-1"},
        {"id": "s2", "profile_id": "firm-2"},
        {"id": "b1", "profile_id": "buyer-1"},
        {"id": "b2", "profile_id": "buyer-2"},
        {"id": "b3", "profile_id": "buyer-3"},
        {"id": "walkin"},  # no profile: nothing can be learned of it
    ],
    "suggestions": [{"a": "s1", "b": "b3", "score": 0.7}, {"a": "s2", "b": "b1", "score": 0.6}],
    "wishes": [
        {"from": "b3", "to": "s1", "level": "no"},  # a suggested pair refused
        {"from": "b2", "to": "s2", "level": "no"},  # refused, but never suggested
        {"from": "b1", "to": "s1", "level": "want"},
    ],
}
FACTS = EventFacts.of_document("ev", DOC)
T0 = dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)


def held(
    a: str, b: str, side: str, interest: Interest, next_step: NextStep = "none"
) -> MeetingOutcome:
    x, y = sorted((a, b))
    return MeetingOutcome(
        "ev",
        x,
        y,
        side,
        "held",
        interest=interest,
        next_step=next_step,
        recorded_at=T0,
    )


def follow(a: str, b: str, stage: Stage, months: int = 3) -> FollowUp:
    x, y = sorted((a, b))
    return FollowUp("ev", x, y, a, months, stage, recorded_at=T0 + dt.timedelta(days=90))


def graded(
    outcomes: list[MeetingOutcome], follow_ups: Sequence[FollowUp] = ()
) -> dict[tuple[str, str], tuple[int, str]]:
    return {(e.a, e.b): (e.grade, e.basis) for e in grade_event(FACTS, outcomes, follow_ups)}


def test_the_document_gives_profiles_suggestions_and_no_wishes() -> None:
    assert FACTS.profiles == {
        "s1": "firm-1",
        "s2": "firm-2",
        "b1": "buyer-1",
        "b2": "buyer-2",
        "b3": "buyer-3",
    }
    assert frozenset(("s1", "b3")) in FACTS.suggested
    assert FACTS.refused == {("b3", "s1"), ("b2", "s2")}


def test_only_a_refused_suggestion_is_a_negative() -> None:
    # b3 said no to the suggested s1; b2's no to s2 was never a suggestion (no evidence)
    assert graded([]) == {("buyer-3", "firm-1"): (-1, "rejected")}


def test_meeting_grades() -> None:
    out = graded(
        [
            held("s1", "b1", "s1", "strong"),
            held("s1", "b1", "b1", "some"),  # strong on one side: a positive
            held("s2", "b1", "s2", "some", "samples_or_quote"),  # a concrete next step
            held("s2", "b2", "s2", "strong"),
            held("s2", "b2", "b2", "none"),  # "no interest" on a side: a negative
        ]
    )
    assert out[("buyer-1", "firm-1")] == (1, "strong_interest")
    assert out[("buyer-1", "firm-2")] == (1, "next_step")
    assert out[("buyer-2", "firm-2")] == (-1, "no_interest")


def test_some_interest_and_cancelled_say_nothing_and_a_no_show_is_negative() -> None:
    x, y = sorted(("s1", "b2"))
    cancelled = MeetingOutcome("ev", x, y, "s1", "cancelled", recorded_at=T0)
    p, q = sorted(("s2", "b3"))
    no_show = MeetingOutcome("ev", p, q, "s2", "no_show", no_show=("b3",), recorded_at=T0)
    out = graded([held("s1", "b1", "s1", "some"), cancelled, no_show])
    assert ("buyer-1", "firm-1") not in out and ("buyer-2", "firm-1") not in out
    assert out[("buyer-3", "firm-2")] == (-1, "no_show")


def test_follow_up_stages_grade_and_win_over_the_day() -> None:
    out = graded(
        [held("s1", "b1", "s1", "strong"), held("s2", "b2", "b2", "none")],
        [
            follow("s1", "b1", "negotiation", 3),
            follow("s1", "b1", "contract", 6),  # the furthest stage of every round
            follow("s2", "b2", "nda"),  # no interest on the day, an NDA later: a positive
        ],
    )
    assert out[("buyer-1", "firm-1")] == (4, "contract")
    assert out[("buyer-2", "firm-2")] == (3, "nda")
    # no progress erases nothing: the strong interest stays a grade-1 positive
    assert graded([held("s1", "b1", "s1", "strong")], [follow("s1", "b1", "no_progress")])[
        ("buyer-1", "firm-1")
    ] == (1, "strong_interest")
    assert graded([], [follow("s1", "b2", "joint_development")])[("buyer-2", "firm-1")] == (
        3,
        "joint_development",
    )
    assert graded([], [follow("s1", "b2", "new_business")])[("buyer-2", "firm-1")][0] == 4


def test_a_correction_replaces_the_record_in_force() -> None:
    first = held("s1", "b1", "b1", "none")
    corrected = held("s1", "b1", "b1", "strong")
    assert graded([first, corrected])[("buyer-1", "firm-1")] == (1, "strong_interest")
    assert graded([corrected, first])[("buyer-1", "firm-1")] == (-1, "no_interest")


def test_participants_without_a_profile_and_other_events_are_left_out() -> None:
    x, y = sorted(("s1", "walkin"))
    walkin = MeetingOutcome("ev", x, y, "s1", "held", interest="strong")
    other = MeetingOutcome("other", "b1", "s1", "s1", "held", interest="strong")
    assert graded([walkin, other]) == {("buyer-3", "firm-1"): (-1, "rejected")}
    facts = [FACTS, EventFacts("other", {"s1": "firm-1", "b1": "buyer-1"})]
    both = grade_events(facts, [walkin, other])
    assert {(e.event_id, e.a, e.b, e.grade) for e in both} == {
        ("ev", "buyer-3", "firm-1", -1),
        ("other", "buyer-1", "firm-1", 1),
    }


def test_edges_carry_kind_grade_and_one_context_per_event_and_pair() -> None:
    ev = [
        Evidence("ev", "a", "b", 4, "contract"),
        Evidence("ev", "a", "c", 2, "negotiation"),
        Evidence("ev", "a", "d", 1, "strong_interest", dt.date(2026, 5, 1)),
        Evidence("ev", "b", "c", -1, "no_show"),
        Evidence("ev", "a", "zz", 1, "strong_interest"),  # not indexed: left out
    ]
    got = edges(ev, {"a": 0, "b": 1, "c": 2, "d": 3})
    assert [(e.a, e.b, e.kind, e.grade) for e in got] == [
        (0, 1, "deal", 4),
        (0, 2, "follow_up", 2),
        (0, 3, "meeting", 1),
        (1, 2, "declined", -1),
    ]
    assert got[2].at == dt.date(2026, 5, 1)
    assert len({e.context for e in got}) == 4 and all(
        e.context.startswith("outcome:ev:") for e in got
    )


def test_the_outcome_reason_only_where_evidence_says_so() -> None:
    assert peer_reason({}, "en") is None
    assert peer_reason({"peer_met": 0.0, "peer_declined": 0.0}, "en") is None
    assert peer_reason({"peer_met": 0.01}, "en") is None  # too faint
    assert peer_reason({"peer_met": 0.2, "peer_declined": 0.5}, "en") is None  # more said no
    en = peer_reason({"peer_met": 0.2}, "en")
    ja = peer_reason({"peer_met": 0.2}, "ja")
    assert en is not None and en.code == "outcomes" and "strong interest" in en.text
    assert ja is not None and "強い関心" in ja.text
