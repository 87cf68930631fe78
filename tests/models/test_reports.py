"""models.reports on a small world whose every figure is worked out by hand below."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from models.events.model import Meeting, parse_event
from models.outcomes import FollowUp, MeetingOutcome
from models.reports import (
    TABLE_HEADER,
    EventInput,
    Targets,
    fiscal_quarter,
    fiscal_year,
    involving,
    pair_facts,
    report,
    table_rows,
)

KINDS = {
    "f1": "firm",
    "f2": "firm",
    "u1": "university",
    "t1": "trading_company",
    "t2": "trading_company",
}
COUNTRIES = {"f1": "JP", "f2": "JP", "u1": "JP", "t1": "KR", "t2": "IT"}


def _event(eid: str, name: str, **extra: Any) -> Any:
    doc = {
        "id": eid,
        "name": name,
        "program": "TAMA",
        "slots": 4,
        "tables": 3,
        "participants": [{"id": p} for p in KINDS],
        **extra,
    }
    return parse_event(doc)


def _input(event: Any, day: dt.date, pairs: list[tuple[str, str]]) -> EventInput:
    meetings = [Meeting(a, b, slot=i) for i, (a, b) in enumerate(pairs)]
    return EventInput(event, day, meetings, KINDS, COUNTRIES)


# E1, 31 March 2027: the last day of FY2026.
E1 = _event(
    "e1",
    "Spring",
    wishes=[
        {"from": "f1", "to": "t1", "level": "must"},
        {"from": "t1", "to": "f1", "level": "want"},  # the same pair: requested once
        {"from": "f2", "to": "u1", "level": "want"},
        {"from": "f1", "to": "u1", "level": "no"},  # a refusal is no request
    ],
    overrides=[{"a": "f2", "b": "t1", "level": "must"}],
    suggestions=[
        {"a": "f1", "b": "t1", "score": 0.8},
        {"a": "f2", "b": "t2", "score": 0.6},
        {"a": "u1", "b": "t2", "score": 0.5},  # not scheduled; met ad hoc below
    ],
)
# E2, 1 April 2027: FY2027, outside the FY2026 report.
E2 = _event("e2", "Summer", wishes=[{"from": "f1", "to": "t1", "level": "want"}])
# E0, 15 March 2026: FY2025, the year before.
E0 = _event(
    "e0",
    "Previous",
    wishes=[
        {"from": "f1", "to": "u1", "level": "want"},
        {"from": "f2", "to": "t1", "level": "want"},
    ],
)

EVENTS = [
    _input(E1, dt.date(2027, 3, 31), [("f1", "t1"), ("f2", "u1"), ("f2", "t2"), ("t1", "f2")]),
    _input(E2, dt.date(2027, 4, 1), [("f1", "t1")]),
    _input(E0, dt.date(2026, 3, 15), [("f1", "u1"), ("f2", "t1")]),
]


def _o(eid: str, a: str, b: str, side: str, attendance: Any, **kw: Any) -> MeetingOutcome:
    return MeetingOutcome(eid, a, b, side=side, attendance=attendance, **kw)


def _f(eid: str, a: str, b: str, side: str, months: int, stage: Any, **kw: Any) -> FollowUp:
    return FollowUp(eid, a, b, side=side, months=months, stage=stage, **kw)


OUTCOMES = [
    _o("e1", "f1", "t1", "f1", "held", interest="strong"),
    _o("e1", "f1", "t1", "t1", "held", interest="some"),
    _o("e1", "f1", "t1", "t1", "held", interest="none"),  # t1's correction: none
    _o("e1", "f2", "u1", "f2", "no_show", no_show=("u1",)),
    _o("e1", "f2", "t2", "f2", "held", interest="none"),
    _o("e1", "f2", "t2", "t2", "held", interest="none"),
    _o("e1", "f2", "t1", "f2", "cancelled"),
    _o("e1", "t2", "u1", "u1", "held", interest="some"),  # ad hoc: suggested, unscheduled
    _o("e2", "f1", "t1", "f1", "held", interest="strong"),
    _o("e0", "f1", "u1", "f1", "held", interest="some"),
    _o("e0", "f2", "t1", "t1", "held", interest="none"),
]
FOLLOW_UPS = [
    _f("e1", "f1", "t1", "f1", 3, "negotiation"),
    _f("e1", "f1", "t1", "f1", 6, "contract", amount_yen=5_000_000),
    _f("e1", "f1", "t1", "t1", 6, "contract", amount_yen=4_000_000),  # the same deal
    _f("e1", "f2", "t2", "f2", 3, "no_progress"),
    _f("e1", "t2", "u1", "u1", 3, "nda"),
    _f("e1", "t2", "u1", "u1", 3, "new_business", amount_yen=12_000_000),  # correction
    _f("e2", "f1", "t1", "f1", 3, "contract"),
    _f("e0", "f1", "u1", "u1", 3, "contract"),
]

TARGETS = {"TAMA": Targets(meetings_held=6, follow_ups=4, contracts=4, new_businesses=2)}


def _pairs() -> Any:
    return pair_facts(EVENTS, OUTCOMES, FOLLOW_UPS)


def test_fiscal_year_turns_on_the_first_of_april() -> None:
    assert fiscal_year(dt.date(2027, 3, 31)) == 2026
    assert fiscal_year(dt.date(2027, 4, 1)) == 2027
    assert [fiscal_quarter(dt.date(2026, m, 1)) for m in (4, 6, 7, 9, 10, 12)] == [1, 1, 2, 2, 3, 3]
    assert [fiscal_quarter(dt.date(2027, m, 1)) for m in (1, 3)] == [4, 4]


def test_fiscal_year_total_by_hand() -> None:
    rep = report("fiscal_year", 2026, _pairs(), _pairs(), TARGETS)
    assert [r.key for r in rep.rows] == ["2026"]  # e2 (1 April 2027) is FY2027
    f = rep.rows[0].figures
    assert f.events == 1
    # requested: f1–t1 (two wishes, one pair), f2–u1 (wish), f2–t1 (override) = 3;
    # f1→u1 "no" and the suggestions are no requests
    assert f.requested == 3
    assert f.scheduled == 4
    # held: f1–t1, f2–t2 and the ad hoc t2–u1 = 3; no-show f2–u1; cancelled f2–t1
    assert (f.held, f.no_shows, f.cancelled) == (3, 1, 1)
    assert f.no_show_rate == pytest.approx(1 / (3 + 1))
    # interest: f1–t1 (f1 strong; t1's corrected "none" does not undo f1's) and t2–u1
    # (some); f2–t2 none on both sides -> 2 of 3 held; strong 1 of 3
    assert f.interest_rate == pytest.approx(2 / 3)
    assert f.strong_interest_rate == pytest.approx(1 / 3)
    # furthest stages: f1–t1 contract, f2–t2 no_progress, t2–u1 new_business (corrected)
    assert f.stages == {
        "no_progress": 1,
        "negotiation": 0,
        "nda": 0,
        "joint_development": 0,
        "contract": 1,
        "new_business": 1,
    }
    assert (f.follow_ups, f.contracts, f.new_businesses) == (2, 2, 1)
    # amounts: f1–t1 max(5,000,000, 4,000,000) + t2–u1 12,000,000
    assert f.amount_yen == 5_000_000 + 12_000_000
    # origins: f1–t1 both, f2–u1 wish, f2–t2 suggestion, f2–t1 wish (organizer);
    # the ad hoc t2–u1 was only suggested
    assert f.scheduled_by_origin == {"wish": 2, "suggestion": 1, "both": 1, "other": 0}
    assert f.held_by_origin == {"wish": 0, "suggestion": 2, "both": 1, "other": 0}


def test_targets_attainment_and_year_before() -> None:
    row = report("fiscal_year", 2026, _pairs(), _pairs(), TARGETS).rows[0]
    out: Any = row.to_dict()
    assert out["attainment"]["meetings_held"] == {"actual": 3, "target": 6, "attainment": 0.5}
    assert out["attainment"]["follow_ups"]["attainment"] == pytest.approx(2 / 4)
    assert out["attainment"]["contracts"]["attainment"] == pytest.approx(2 / 4)
    assert out["attainment"]["new_businesses"]["attainment"] == pytest.approx(1 / 2)
    # FY2025 (e0 only): 2 requested, 2 scheduled, 2 held, 1 contract (f1–u1)
    assert out["previous_year"]["held"] == 2
    assert out["change"]["held"] == {"now": 3, "before": 2, "ratio": 1.5}
    assert out["change"]["contracts"] == {"now": 2, "before": 1, "ratio": 2.0}
    assert out["change"]["requested"]["ratio"] == pytest.approx(3 / 2)


def test_two_programmes_targets_add_up_in_the_total() -> None:
    both = {**TARGETS, "KANSAI": Targets(meetings_held=4, contracts=None)}
    rep = report("program", 2026, _pairs(), _pairs(), both)
    assert [r.key for r in rep.rows] == ["KANSAI", "TAMA"]  # KANSAI: targets, no event yet
    kansai = rep.rows[0].to_dict()["attainment"]
    assert kansai["meetings_held"] == {"actual": 0, "target": 4, "attainment": 0.0}  # type: ignore[index]
    assert rep.total.targets == Targets(
        meetings_held=10, follow_ups=4, contracts=4, new_businesses=2
    )


def test_kind_pairs_are_unordered() -> None:
    rep = report("kind_pair", 2026, _pairs(), _pairs(), TARGETS)
    rows = {r.key: r for r in rep.rows}
    assert set(rows) == {"firm–trading_company", "firm–university", "trading_company–university"}
    ft = rows["firm–trading_company"].figures  # f1–t1, f2–t2, t1–f2 (t1 named first)
    assert (ft.requested, ft.scheduled, ft.held, ft.cancelled) == (2, 3, 2, 1)
    fu = rows["firm–university"].figures
    assert (fu.requested, fu.scheduled, fu.held, fu.no_shows) == (1, 1, 0, 1)
    tu = rows["trading_company–university"].figures  # the ad hoc meeting
    assert (tu.requested, tu.scheduled, tu.held, tu.new_businesses) == (0, 0, 1, 1)
    # a year before: e0's f1–u1 was held between a firm and a university
    assert rows["firm–university"].before is not None
    assert rows["firm–university"].before.held == 1
    assert rows["firm–university"].targets is None  # targets are set per programme year


def test_country_pairs() -> None:
    rows = {r.key: r.figures for r in report("country_pair", 2026, _pairs(), [], {}).rows}
    assert set(rows) == {"IT–JP", "JP–JP", "JP–KR"}
    assert (rows["IT–JP"].held, rows["IT–JP"].interested) == (2, 1)  # f2–t2, t2–u1
    assert (rows["JP–KR"].scheduled, rows["JP–KR"].held, rows["JP–KR"].cancelled) == (2, 1, 1)
    assert rows["JP–JP"].no_shows == 1


def test_quarters_and_months_against_the_year_before() -> None:
    q = report("quarter", 2026, _pairs(), _pairs(), TARGETS).rows
    assert [(r.key, r.label) for r in q] == [("2026-Q4", "FY2026 Q4")]
    assert q[0].before is not None and q[0].before.held == 2  # FY2025 Q4: e0, March 2026
    m = report("month", 2026, _pairs(), _pairs(), TARGETS).rows
    assert [r.key for r in m] == ["2027-03"]
    assert m[0].before is not None and m[0].before.held == 2  # March 2026
    # FY2027 holds e2 alone; its year before is FY2026
    nxt = report("fiscal_year", 2027, _pairs(), _pairs(), {}).rows
    assert [(r.key, r.figures.held, r.before.held if r.before else None) for r in nxt] == [
        ("2027", 1, 3)
    ]


def test_by_event_has_no_year_before() -> None:
    rows = report("event", 2026, _pairs(), _pairs(), TARGETS).rows
    assert [(r.key, r.label, r.before) for r in rows] == [("e1", "Spring", None)]


def test_one_organizations_figures() -> None:
    mine = involving(_pairs(), {("e1", "t2")})
    f = report("total", 2026, mine, [], {}).total.figures
    # t2's pairs in e1: f2–t2 (held, no interest, no progress), t2–u1 (held, new business)
    assert (f.scheduled, f.held, f.interested, f.new_businesses) == (1, 2, 1, 1)
    assert f.amount_yen == 12_000_000


def test_table_rows_follow_the_header() -> None:
    rep = report("fiscal_year", 2026, _pairs(), _pairs(), TARGETS)
    rows = table_rows(rep)
    assert len(rows) == 2  # FY2026, then the total
    for row in rows:
        assert len(row) == len(TABLE_HEADER)
    first = dict(zip(TABLE_HEADER, rows[0], strict=True))
    assert first["group"] == "FY2026"
    assert (first["held"], first["no_show_rate"], first["interest_rate"]) == (3, 0.25, 0.6667)
    assert (first["target_meetings_held"], first["attainment_meetings_held"]) == (6, 0.5)
    assert first["previous_year_held"] == 2
    assert rows[1][0] == "total"
