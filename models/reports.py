"""Program reports: what a cluster's matching programme did, for its office to report to
its ministry. Pure: events, their schedules and the outcome records in, figures out.

Everything is counted per meeting pair: an event's unordered pair of participants. A pair
is *requested* when either side wished it (`must` / `want`), the organizer asked for it
(an override `must` / `want`) or locked it; *scheduled* when the schedule places it (a
repeat counts each time); and what came of it is read from the outcome records in force
(`models.outcomes.current`):

- held: a side says it was held (`models.outcomes.held`); a no-show when nobody says held
  and a side reported a no-show; cancelled otherwise.
- no-show rate = no-shows / (held + no-shows). A cancellation is announced beforehand, so
  it is not a no-show and stays out of the rate.
- interest rate = held pairs where at least one side reported `some` or `strong`
  interest / held pairs. (The strong-interest rate, the same with `strong` only, beside.)
- follow-ups: the pair's furthest stage over every round and both sides
  (`models.outcomes.furthest`). `follow_ups` counts the pairs that got anywhere
  (negotiation or further: the 継続商談 a programme counts), `contracts` those at an order
  or contract or further, `new_businesses` those that launched a new business.
- amount: per pair the largest amount in yen either side reports in its answers in force
  (both sides usually report the same deal, so adding them would count it twice), summed.
- origin: `wish` when only a wish or the organizer asked for the pair, `suggestion` when
  only the engine's suggestions proposed it (the solver's level "suggested"), `both` when
  it was suggested and then asked for, `other` for a meeting neither (an ad-hoc meeting
  recorded as held).

A pair belongs to its event's date: the figures of a programme year are those of the
events held in it, with their follow-ups even when they come in after the year ends.
Periods are Japanese fiscal years (April to March, named by the year they start in:
FY2026 is April 2026 to March 2027), their quarters (Q1 is April to June) and months.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Literal, get_args

from models.events.model import Event, Meeting
from models.outcomes import (
    STAGES,
    FollowUp,
    MeetingOutcome,
    Stage,
    current,
    furthest,
    held,
    pair_of,
    stage_rank,
)

GroupBy = Literal[
    "total", "event", "program", "fiscal_year", "quarter", "month", "kind_pair", "country_pair"
]
GROUP_BYS: tuple[str, ...] = get_args(GroupBy)

Origin = Literal["wish", "suggestion", "both", "other"]
ORIGINS: tuple[str, ...] = get_args(Origin)

TARGET_KEYS: tuple[str, ...] = ("meetings_held", "follow_ups", "contracts", "new_businesses")
"""The figures a programme sets targets for, in the order reports show them."""

UNKNOWN = "unknown"
"""The kind or country of a participant without a stored profile."""
PAIR_DASH = "–"


def fiscal_year(day: dt.date) -> int:
    """The Japanese fiscal year a day falls in (April to March), named by its first
    year: 2027-03-31 is FY2026, 2027-04-01 FY2027."""
    return day.year if day.month >= 4 else day.year - 1


def fiscal_quarter(day: dt.date) -> int:
    """1 for April to June ... 4 for January to March."""
    return ((day.month - 4) % 12) // 3 + 1


def fiscal_year_bounds(year: int) -> tuple[dt.date, dt.date]:
    """First and last day of a fiscal year."""
    return dt.date(year, 4, 1), dt.date(year + 1, 3, 31)


def pair_label(x: str, y: str) -> str:
    """An unordered pair's name: "firm–university" whichever side is which."""
    a, b = sorted((x, y))
    return f"{a}{PAIR_DASH}{b}"


@dataclass(frozen=True)
class EventInput:
    """One event as a report reads it. `meetings` is its current schedule's (none when it
    has none); `kinds` and `countries` map its participant ids to their profiles' kind
    and country (absent: unknown)."""

    event: Event
    date: dt.date
    meetings: Sequence[Meeting] = ()
    kinds: Mapping[str, str] = field(default_factory=dict)
    countries: Mapping[str, str] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return self.event.id


@dataclass(frozen=True)
class PairFacts:
    """Everything a report counts about one meeting pair of one event."""

    event_id: str
    event_name: str
    program: str
    date: dt.date
    a: str
    b: str
    kinds: tuple[str, str]
    countries: tuple[str, str]
    requested: bool
    scheduled: int
    origin: Origin
    attendance: Literal["held", "no_show", "cancelled"] | None
    interest: bool
    strong_interest: bool
    stage: Stage | None
    amount_yen: int


def _requested_pairs(event: Event) -> set[tuple[str, str]]:
    out: set[tuple[str, str]] = set()
    for w in event.wishes:
        if w.level != "no" and w.source != w.target:
            out.add(pair_of(w.source, w.target))
    for o in event.overrides:
        if o.level != "no":
            out.add(pair_of(o.a, o.b))
    for m in event.locked:
        out.add(pair_of(m.a, m.b))
    return out


def _origin(requested: bool, suggested: bool) -> Origin:
    if requested and suggested:
        return "both"
    if requested:
        return "wish"
    return "suggestion" if suggested else "other"


def pair_facts(
    events: Iterable[EventInput],
    outcomes: Iterable[MeetingOutcome],
    follow_ups: Iterable[FollowUp],
) -> list[PairFacts]:
    """The facts of every pair that was requested, scheduled or has a record, event by
    event; records of events not given are ignored. Histories are fine: only the records
    in force count."""
    by_event = {e.id: e for e in events}
    said: dict[tuple[str, str, str], list[MeetingOutcome]] = defaultdict(list)
    for o in current(outcomes):
        if o.event_id in by_event:
            said[(o.event_id, *pair_of(o.a, o.b))].append(o)
    answered: dict[tuple[str, str, str], list[FollowUp]] = defaultdict(list)
    for f in current(follow_ups):
        if f.event_id in by_event:
            answered[(f.event_id, *pair_of(f.a, f.b))].append(f)

    out: list[PairFacts] = []
    for e in by_event.values():
        ev = e.event
        requested = _requested_pairs(ev)
        suggested = {pair_of(s.a, s.b) for s in ev.suggestions if s.a != s.b}
        scheduled: dict[tuple[str, str], int] = defaultdict(int)
        for m in e.meetings:
            scheduled[pair_of(m.a, m.b)] += 1
        recorded = {(a, b) for (eid, a, b) in (*said, *answered) if eid == e.id}
        for a, b in sorted(requested | set(scheduled) | recorded):
            records = said.get((e.id, a, b), [])
            is_held = held(records)
            attendance: Literal["held", "no_show", "cancelled"] | None
            if is_held is None:
                attendance = None
            elif is_held:
                attendance = "held"
            elif any(r.attendance == "no_show" for r in records):
                attendance = "no_show"
            else:
                attendance = "cancelled"
            interests = {r.interest for r in records} if is_held else set()
            answers = answered.get((e.id, a, b), [])
            amounts = [f.amount_yen for f in answers if f.amount_yen is not None]
            out.append(
                PairFacts(
                    event_id=e.id,
                    event_name=ev.name or e.id,
                    program=ev.program,
                    date=e.date,
                    a=a,
                    b=b,
                    kinds=(e.kinds.get(a, UNKNOWN), e.kinds.get(b, UNKNOWN)),
                    countries=(e.countries.get(a, UNKNOWN), e.countries.get(b, UNKNOWN)),
                    requested=(a, b) in requested,
                    scheduled=scheduled.get((a, b), 0),
                    origin=_origin((a, b) in requested, (a, b) in suggested),
                    attendance=attendance,
                    interest=bool(interests & {"some", "strong"}),
                    strong_interest="strong" in interests,
                    stage=furthest(answers),
                    amount_yen=max(amounts, default=0),
                )
            )
    return out


@dataclass
class Figures:
    """The figures of one group of pairs. Rates are None where nothing was there to
    divide by (no meeting held, no attendance recorded)."""

    events: int = 0
    requested: int = 0
    scheduled: int = 0
    held: int = 0
    no_shows: int = 0
    cancelled: int = 0
    interested: int = 0
    strong_interest: int = 0
    follow_ups: int = 0
    contracts: int = 0
    new_businesses: int = 0
    amount_yen: int = 0
    stages: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STAGES, 0))
    scheduled_by_origin: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORIGINS, 0))
    held_by_origin: dict[str, int] = field(default_factory=lambda: dict.fromkeys(ORIGINS, 0))

    @property
    def no_show_rate(self) -> float | None:
        seen = self.held + self.no_shows
        return self.no_shows / seen if seen else None

    @property
    def interest_rate(self) -> float | None:
        return self.interested / self.held if self.held else None

    @property
    def strong_interest_rate(self) -> float | None:
        return self.strong_interest / self.held if self.held else None

    def target_value(self, key: str) -> int:
        """The figure a target of that name is measured against."""
        return {
            "meetings_held": self.held,
            "follow_ups": self.follow_ups,
            "contracts": self.contracts,
            "new_businesses": self.new_businesses,
        }[key]

    def to_dict(self) -> dict[str, object]:
        out: dict[str, object] = {
            f.name: getattr(self, f.name) for f in fields(self) if f.name != "stages"
        }
        out["no_show_rate"] = self.no_show_rate
        out["interest_rate"] = self.interest_rate
        out["strong_interest_rate"] = self.strong_interest_rate
        out["follow_ups_by_stage"] = dict(self.stages)
        return out


def figures(pairs: Iterable[PairFacts]) -> Figures:
    out = Figures()
    events: set[str] = set()
    for p in pairs:
        events.add(p.event_id)
        out.requested += p.requested
        out.scheduled += p.scheduled
        out.scheduled_by_origin[p.origin] += p.scheduled
        if p.attendance == "held":
            out.held += 1
            out.held_by_origin[p.origin] += 1
            out.interested += p.interest
            out.strong_interest += p.strong_interest
        elif p.attendance == "no_show":
            out.no_shows += 1
        elif p.attendance == "cancelled":
            out.cancelled += 1
        if p.stage is not None:
            out.stages[p.stage] += 1
            rank = stage_rank(p.stage)
            out.follow_ups += rank >= stage_rank("negotiation")
            out.contracts += rank >= stage_rank("contract")
            out.new_businesses += p.stage == "new_business"
        out.amount_yen += p.amount_yen
    out.events = len(events)
    return out


def group_key(by: GroupBy, p: PairFacts) -> str:
    """The group a pair falls in (its key: stable, sortable)."""
    if by == "total":
        return "total"
    if by == "event":
        return p.event_id
    if by == "program":
        return p.program
    fy = fiscal_year(p.date)
    if by == "fiscal_year":
        return str(fy)
    if by == "quarter":
        return f"{fy}-Q{fiscal_quarter(p.date)}"
    if by == "month":
        return f"{p.date.year:04d}-{p.date.month:02d}"
    if by == "kind_pair":
        return pair_label(*p.kinds)
    return pair_label(*p.countries)


def previous_key(by: GroupBy, key: str) -> str | None:
    """The same group a year before: the fiscal year, quarter or month before; the same
    programme, kind pair or country pair (read in the year before's pairs). None for an
    event, which has no counterpart a year before."""
    if by == "event":
        return None
    if by == "fiscal_year":
        return str(int(key) - 1)
    if by == "quarter":
        year, _, q = key.partition("-")
        return f"{int(year) - 1}-{q}"
    if by == "month":
        year, _, month = key.partition("-")
        return f"{int(year) - 1}-{month}"
    return key


@dataclass(frozen=True)
class Targets:
    """A programme year's targets; None where it set none."""

    meetings_held: int | None = None
    follow_ups: int | None = None
    contracts: int | None = None
    new_businesses: int | None = None

    @classmethod
    def of(cls, data: Mapping[str, object]) -> Targets:
        return cls(**{k: v for k, v in data.items() if k in TARGET_KEYS and isinstance(v, int)})

    def get(self, key: str) -> int | None:
        value: int | None = getattr(self, key)
        return value

    def plus(self, other: Targets) -> Targets:
        """Two programmes' targets together (a target either one lacks stays what the
        other set)."""

        def add(x: int | None, y: int | None) -> int | None:
            return y if x is None else x if y is None else x + y

        return Targets(*(add(self.get(k), other.get(k)) for k in TARGET_KEYS))

    def to_dict(self) -> dict[str, int | None]:
        return {k: self.get(k) for k in TARGET_KEYS}


def attainment(figures: Figures, targets: Targets | None) -> dict[str, dict[str, object]]:
    """Per target: the actual figure, the target and actual / target (None without a
    positive target)."""
    out: dict[str, dict[str, object]] = {}
    for key in TARGET_KEYS:
        target = targets.get(key) if targets is not None else None
        actual = figures.target_value(key)
        out[key] = {
            "actual": actual,
            "target": target,
            "attainment": actual / target if target else None,
        }
    return out


def change(now: Figures, before: Figures | None) -> dict[str, dict[str, object]] | None:
    """The main figures against the same group a year before: both and the ratio
    now / before (None where before was 0)."""
    if before is None:
        return None
    out: dict[str, dict[str, object]] = {}
    for key in ("requested", "scheduled", "held", "follow_ups", "contracts", "new_businesses"):
        x, y = getattr(now, key), getattr(before, key)
        out[key] = {"now": x, "before": y, "ratio": x / y if y else None}
    return out


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    figures: Figures
    before: Figures | None
    targets: Targets | None

    def to_dict(self) -> dict[str, object]:
        return {
            "key": self.key,
            "label": self.label,
            "figures": self.figures.to_dict(),
            "previous_year": self.before.to_dict() if self.before is not None else None,
            "change": change(self.figures, self.before),
            "targets": self.targets.to_dict() if self.targets is not None else None,
            "attainment": attainment(self.figures, self.targets)
            if self.targets is not None
            else None,
        }


@dataclass(frozen=True)
class Report:
    by: GroupBy
    fiscal_year: int
    program: str | None
    rows: tuple[Row, ...]
    total: Row

    def to_dict(self) -> dict[str, object]:
        return {
            "by": self.by,
            "fiscal_year": self.fiscal_year,
            "program": self.program,
            "rows": [r.to_dict() for r in self.rows],
            "total": self.total.to_dict(),
        }


def _grouped(by: GroupBy, pairs: Iterable[PairFacts]) -> dict[str, list[PairFacts]]:
    out: dict[str, list[PairFacts]] = defaultdict(list)
    for p in pairs:
        out[group_key(by, p)].append(p)
    return out


def report(
    by: GroupBy,
    year: int,
    pairs: Sequence[PairFacts],
    previous: Sequence[PairFacts],
    targets: Mapping[str, Targets],
    program: str | None = None,
) -> Report:
    """The report of fiscal year `year` grouped `by`: `pairs` are that year's (those of
    other years are left out), `previous` the year before's, `targets` the programme
    years' of `year` by programme name. A programme row is held against its own targets,
    a fiscal year row and the total against the sum of the targets given; quarters,
    months, events and pairs of kinds or countries have no targets of their own (targets
    are set for a year and a programme)."""
    now = [p for p in pairs if fiscal_year(p.date) == year]
    before_pairs = [p for p in previous if fiscal_year(p.date) == year - 1]
    groups = _grouped(by, now)
    before_groups = _grouped(by, before_pairs)
    summed: Targets | None = None
    for t in targets.values():
        summed = t if summed is None else summed.plus(t)
    labels = {p.event_id: p.event_name for p in now}

    def row_targets(key: str) -> Targets | None:
        if by == "program":
            return targets.get(key)
        return summed if by in ("fiscal_year", "total") else None

    def label(key: str) -> str:
        if by == "event":
            return labels.get(key, key)
        if by == "fiscal_year":
            return f"FY{key}"
        if by == "quarter":
            year_, _, q = key.partition("-")
            return f"FY{year_} {q}"
        return key

    keys = set(groups)
    if by == "program":
        keys |= set(targets)  # a programme with targets and no event yet: 0 of its target
    rows = []
    for key in sorted(keys):
        prev = previous_key(by, key)
        rows.append(
            Row(
                key=key,
                label=label(key),
                figures=figures(groups.get(key, [])),
                before=figures(before_groups.get(prev, [])) if prev is not None else None,
                targets=row_targets(key),
            )
        )
    total = Row("total", "total", figures(now), figures(before_pairs), summed)
    return Report(by=by, fiscal_year=year, program=program, rows=tuple(rows), total=total)


def involving(pairs: Iterable[PairFacts], members: Collection[tuple[str, str]]) -> list[PairFacts]:
    """The pairs of one organization: `members` holds its (event id, participant id)s."""
    return [p for p in pairs if (p.event_id, p.a) in members or (p.event_id, p.b) in members]


TABLE_HEADER: tuple[str, ...] = (
    "group",
    "events",
    "requested",
    "scheduled",
    "held",
    "no_shows",
    "cancelled",
    "no_show_rate",
    "interest_rate",
    "strong_interest_rate",
    *(f"stage_{s}" for s in STAGES),
    "follow_ups",
    "contracts",
    "new_businesses",
    "amount_yen",
    *(f"scheduled_from_{o}" for o in ORIGINS),
    *(f"held_from_{o}" for o in ORIGINS),
    *(f"target_{k}" for k in TARGET_KEYS),
    *(f"attainment_{k}" for k in TARGET_KEYS),
    "previous_year_requested",
    "previous_year_scheduled",
    "previous_year_held",
    "previous_year_follow_ups",
    "previous_year_contracts",
    "previous_year_new_businesses",
)
"""The columns of a report as a table (CSV, XLSX): one row per group, then the total."""


def _rate(x: float | None) -> float | None:
    return round(x, 4) if x is not None else None


def table_rows(rep: Report) -> list[list[str | int | float | None]]:
    """The report as the rows of `TABLE_HEADER` (rates as fractions to 4 places, blank
    where there is no target or no year before)."""
    out: list[list[str | int | float | None]] = []
    for row in (*rep.rows, rep.total):
        f = row.figures
        t = row.targets
        b = row.before
        out.append(
            [
                row.label,
                f.events,
                f.requested,
                f.scheduled,
                f.held,
                f.no_shows,
                f.cancelled,
                _rate(f.no_show_rate),
                _rate(f.interest_rate),
                _rate(f.strong_interest_rate),
                *(f.stages[s] for s in STAGES),
                f.follow_ups,
                f.contracts,
                f.new_businesses,
                f.amount_yen,
                *(f.scheduled_by_origin[o] for o in ORIGINS),
                *(f.held_by_origin[o] for o in ORIGINS),
                *((t.get(k) if t else None) for k in TARGET_KEYS),
                *(
                    _rate(f.target_value(k) / tk) if t and (tk := t.get(k)) else None
                    for k in TARGET_KEYS
                ),
                *(
                    (getattr(b, k) if b is not None else None)
                    for k in (
                        "requested",
                        "scheduled",
                        "held",
                        "follow_ups",
                        "contracts",
                        "new_businesses",
                    )
                ),
            ]
        )
    return out
