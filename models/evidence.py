"""Outcomes as evidence the ranking learns from: what came of the meetings of an event,
graded per pair of organizations. Pure: no SQL, no HTTP.

The grades (`Evidence.grade`), one per event and pair of profiles:

- 4: a follow-up reached an order / contract or a new business (新事業): the program's
  own goal, the rarest and costliest step;
- 3: a follow-up reached an NDA or joint development: both sides committed work or paper;
- 2: a follow-up reached negotiation: talks went on months after the event;
- 1: held with strong interest, or a concrete next step (samples / a quote, NDA, a joint
  proposal): a side said, right after, that it wants more;
- -1: a `no` wish on a counterpart the event suggested, a no-show, or held with no
  interest: the suggestion was wrong for a side.

Later and further facts win: a pair that reached a stage at a follow-up is graded by the
stage even if a side said "no interest" on the day (a follow-up is what the program
counts); a "no progress" follow-up erases nothing (the interest was there). A meeting
held with some interest and nothing more, or cancelled, says nothing about fit and gives
no evidence. A no-show is a negative for the pair, whichever side stayed away: one side
did not think the meeting worth its time, which is what the ranking can learn from.

The ranking sees evidence as interactions (`edges`): positives of kind meeting (1),
follow_up (2, 3) or deal (4), negatives of kind declined, each carrying its grade, one
group per event and pair (so a 40-firm event is not one consortium to the network's walk).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from models.graph import Edge
from models.matching import Lang, Reason
from models.outcomes import FollowUp, MeetingOutcome, Stage, current, furthest, held

STAGE_GRADE: dict[Stage, int] = {
    "no_progress": 0,
    "negotiation": 2,
    "nda": 3,
    "joint_development": 3,
    "contract": 4,
    "new_business": 4,
}
NEXT_STEPS_POSITIVE = frozenset({"samples_or_quote", "nda", "joint_proposal"})
EDGE_KIND: dict[int, str] = {
    -1: "declined",
    1: "meeting",
    2: "follow_up",
    3: "follow_up",
    4: "deal",
}
"""Interaction kinds by grade (MAX_GRADE, models.graph, is a contract's)."""
CONTEXT_PREFIX = "outcome:"


@dataclass(frozen=True)
class EventFacts:
    """What grading reads of one event: its participants' profiles (participant id ->
    profile id; participants without a profile are left out), the pairs it suggested
    (participant ids) and its participants' `no` wishes (from, to)."""

    event_id: str
    profiles: Mapping[str, str]
    suggested: frozenset[frozenset[str]] = frozenset()
    refused: frozenset[tuple[str, str]] = frozenset()

    @classmethod
    def of_document(cls, event_id: str, doc: Mapping[str, Any]) -> EventFacts:
        """From an event document (models.events file format): participants[].profile_id,
        suggestions[].a/b, wishes[] with level "no". Malformed entries are skipped (the
        document was validated when stored)."""
        profiles = {
            str(p["id"]): str(p["profile_id"])
            for p in doc.get("participants") or []
            if isinstance(p, dict) and p.get("id") and p.get("profile_id")
        }
        suggested = frozenset(
            frozenset((str(s["a"]), str(s["b"])))
            for s in doc.get("suggestions") or []
            if isinstance(s, dict) and s.get("a") and s.get("b") and s["a"] != s["b"]
        )
        refused = frozenset(
            (str(w["from"]), str(w["to"]))
            for w in doc.get("wishes") or []
            if isinstance(w, dict) and w.get("level") == "no" and w.get("from") and w.get("to")
        )
        return cls(event_id, profiles, suggested, refused)


@dataclass(frozen=True)
class Evidence:
    """The grade of one pair of profiles (`a` < `b`) at one event, and why (`basis`: the
    stage, "strong_interest", "next_step", "rejected", "no_show" or "no_interest")."""

    event_id: str
    a: str
    b: str
    grade: int
    basis: str
    at: dt.date | None = None


def _meeting_grade(outcomes: Sequence[MeetingOutcome]) -> tuple[int, str] | None:
    """The grade of the sides' current records of one meeting (None: no evidence)."""
    took_place = held(outcomes)
    if took_place is None:
        return None
    if not took_place:
        if any(o.attendance == "no_show" for o in outcomes):
            return -1, "no_show"
        return None  # cancelled: says nothing of fit
    said = [o for o in outcomes if o.attendance == "held"]
    if any(o.interest == "none" for o in said):
        return -1, "no_interest"
    if any(o.interest == "strong" for o in said):
        return 1, "strong_interest"
    if any(o.next_step in NEXT_STEPS_POSITIVE for o in said):
        return 1, "next_step"
    return None


def _latest(records: Iterable[MeetingOutcome | FollowUp]) -> dt.date | None:
    dates = [r.recorded_at.date() for r in records if r.recorded_at is not None]
    return max(dates) if dates else None


def grade_event(
    event: EventFacts,
    outcomes: Iterable[MeetingOutcome],
    follow_ups: Iterable[FollowUp] = (),
) -> list[Evidence]:
    """The evidence of one event, one per pair of profiles, from its records (history
    included: only the records in force count, models.outcomes.current). Records of
    other events, or of participants without a profile, are ignored. Sorted by pair."""
    meetings: dict[tuple[str, str], list[MeetingOutcome]] = defaultdict(list)
    for o in current(r for r in outcomes if r.event_id == event.event_id):
        meetings[o.pair].append(o)
    stages: dict[tuple[str, str], list[FollowUp]] = defaultdict(list)
    for f in current(r for r in follow_ups if r.event_id == event.event_id):
        stages[f.pair].append(f)
    graded: dict[tuple[str, str], tuple[int, str, dt.date | None]] = {}
    for a, b in event.refused:
        if frozenset((a, b)) in event.suggested:
            graded[(a, b) if a < b else (b, a)] = (-1, "rejected", None)
    for pair, records in meetings.items():
        found = _meeting_grade(records)
        if found is not None:
            graded[pair] = (*found, _latest(records))
    for pair, rounds in stages.items():
        stage = furthest(rounds)
        if stage is not None and STAGE_GRADE[stage] > 0:
            graded[pair] = (STAGE_GRADE[stage], stage, _latest(rounds))
    out: list[Evidence] = []
    for (a, b), (grade, basis, at) in graded.items():
        pa, pb = event.profiles.get(a), event.profiles.get(b)
        if pa is None or pb is None or pa == pb:
            continue
        if pb < pa:
            pa, pb = pb, pa
        out.append(Evidence(event.event_id, pa, pb, grade, basis, at))
    return sorted(out, key=lambda e: (e.a, e.b))


def grade_events(
    events: Iterable[EventFacts],
    outcomes: Iterable[MeetingOutcome],
    follow_ups: Iterable[FollowUp] = (),
) -> list[Evidence]:
    """`grade_event` over several events (records grouped by event once)."""
    by_event: dict[str, list[MeetingOutcome]] = defaultdict(list)
    for o in outcomes:
        by_event[o.event_id].append(o)
    fu_by_event: dict[str, list[FollowUp]] = defaultdict(list)
    for f in follow_ups:
        fu_by_event[f.event_id].append(f)
    out: list[Evidence] = []
    for ev in events:
        out += grade_event(ev, by_event.get(ev.event_id, ()), fu_by_event.get(ev.event_id, ()))
    return out


def edges(evidence: Iterable[Evidence], pk_by_id: Mapping[str, int]) -> list[Edge]:
    """The evidence as interactions between indexed profiles (others are left out): kind
    by grade (EDGE_KIND), the grade kept on the edge, one context per event and pair."""
    out: list[Edge] = []
    for e in evidence:
        a, b = pk_by_id.get(e.a), pk_by_id.get(e.b)
        if a is None or b is None or e.grade == 0:
            continue
        context = f"{CONTEXT_PREFIX}{e.event_id}:{e.a}|{e.b}"
        out.append(Edge(a, b, EDGE_KIND[e.grade], context, e.at, grade=e.grade))
    return out


# ------------------------------------------------------------------------- the reason

PEER_REASON_MIN = 0.05
"""The least `peer_met` (models.ranking) that is named as a reason: a similar firm's
strong-interest meeting (grade 1 of 4) at about the fifth most similar seed's weight."""

_PEER_TEXTS: dict[Lang, str] = {
    "en": "Similar organizations met them with strong interest",
    "ja": "類似の組織がこの相手と商談し、強い関心を示した実績があります",
}


def peer_reason(f: Mapping[str, float], lang: Lang, weight: float = 0.03) -> Reason | None:
    """ "Similar firms met this candidate with strong interest", when the outcomes of
    organizations similar to the query say so (feature `peer_met` at least
    PEER_REASON_MIN, and no more rejections than successes among them: `peer_declined`);
    None otherwise."""
    met = float(f.get("peer_met", 0.0) or 0.0)
    if met < PEER_REASON_MIN or float(f.get("peer_declined", 0.0) or 0.0) > met:
        return None
    return Reason("outcomes", _PEER_TEXTS[lang], round(weight, 4), {"peer_met": round(met, 4)})
