"""From an event to the solver's problem: which pairs may meet, what each meeting is worth,
in which slots it could happen, and how many tables each slot offers.

Only pairs with a wish (not `no`), an organizer override, a suggestion, a lock or a place in
a previous schedule become candidates, so the model stays small: candidate pairs × their
common free slots. Tables are interchangeable within a seat class, so the model only
counts meetings per slot and seat class; `assign_tables` seats them afterwards.
"""

from __future__ import annotations

import dataclasses
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from models.events.model import Event, Meeting, Override, Participant, Wish
from models.events.result import Unplaced, UnplacedCode

# Value of one meeting. Tiers are strictly ordered whatever the priorities and score:
# the best one-sided must (6000 + 800 + 400 + 500) stays below a mutual must, and so on.
ORGANIZER_MUST = 15_000
MUTUAL_MUST = 10_000
ONE_SIDED_MUST = 6_000
MUTUAL_WANT = 3_000
ONE_SIDED_WANT = 1_500
SUGGESTED = 100
MUST_STEP = 200  # per priority step above 5 (priority 1 adds 800)
WANT_STEP = 100
SCORE_BONUS = 500  # times the suggestion score


@dataclass(frozen=True)
class Pair:
    """A candidate meeting: `a`, `b` in participant order, its value, the seats it needs and
    the slots where both sides are free and a table could seat it."""

    a: str
    b: str
    value: int
    level: str  # "organizer must", "mutual must", "must", "mutual want", "want", "suggested"...
    requested: bool
    seats: int
    slots: tuple[int, ...]

    @property
    def key(self) -> frozenset[str]:
        return frozenset((self.a, self.b))


@dataclass(frozen=True)
class Fixed:
    """A meeting the solver must keep: locked by the organizer, or announced in a previous
    schedule and still possible. `table` None: any free table that fits."""

    meeting: Meeting
    kind: str  # "locked" | "announced"
    value: int
    level: str
    seats: int


@dataclass
class Problem:
    event: Event
    pairs: list[Pair]
    fixed: list[Fixed]
    excluded: list[Unplaced]
    of: dict[str, list[int]]  # participant -> indexes into pairs
    fixed_busy: Counter[tuple[str, int]]
    fixed_count: Counter[str]
    max: dict[str, int]  # effective maximum of meetings, fixed ones included
    effective_min: dict[str, int]
    # slot -> [(seats c, tables free for meetings needing >= c seats)], smallest c first
    table_limits: dict[int, list[tuple[int, int]]]
    untabled: dict[int, list[int]]  # slot -> seats of fixed meetings without a table
    previous: dict[frozenset[str], Meeting] = field(default_factory=dict)  # soft: re-planning
    previous_dropped: list[tuple[Meeting, str]] = field(default_factory=list)

    @property
    def fixed_value(self) -> int:
        return sum(f.value for f in self.fixed)

    def participant(self, pid: str) -> Participant:
        return self.event.participant(pid)

    def restricted(self, allowed: Mapping[int, Collection[int]]) -> tuple[Problem, list[int]]:
        """The problem with only pairs in `allowed`, each limited to the given slots (to
        search near an LP solution, or to re-time a selection), and the original index of
        each remaining pair."""
        pairs: list[Pair] = []
        kept: list[int] = []
        for k in sorted(allowed):
            pair = self.pairs[k]
            slots = tuple(t for t in pair.slots if t in allowed[k])
            if slots:
                pairs.append(
                    pair
                    if len(slots) == len(pair.slots)
                    else dataclasses.replace(pair, slots=slots)
                )
                kept.append(k)
        return self._derived(pairs), kept

    def _derived(self, pairs: list[Pair]) -> Problem:
        of: dict[str, list[int]] = defaultdict(list)
        for k, pair in enumerate(pairs):
            of[pair.a].append(k)
            of[pair.b].append(k)
        return dataclasses.replace(self, pairs=pairs, excluded=[], of=dict(of))


def _must_bonus(w: Wish | Override) -> int:
    return (5 - w.priority) * MUST_STEP


def _want_bonus(w: Wish | Override) -> int:
    return (5 - w.priority) * WANT_STEP


def pair_value(
    wa: Wish | None, wb: Wish | None, override: Override | None, score: float | None
) -> tuple[int, str, bool]:
    """(value, level label, requested) of a pair that may meet. `no` is handled by the
    caller; here a `no` wish never appears."""
    bonus = round(SCORE_BONUS * score) if score is not None else 0
    if override is not None and override.level != "no":
        if override.level == "must":
            return ORGANIZER_MUST + 2 * _must_bonus(override) + bonus, "organizer must", True
        return MUTUAL_WANT + 2 * _want_bonus(override) + bonus, "organizer want", True
    wishes = [w for w in (wa, wb) if w is not None and w.level != "no"]
    musts = [w for w in wishes if w.level == "must"]
    wants = [w for w in wishes if w.level == "want"]
    extra = sum(_must_bonus(w) for w in musts) + sum(_want_bonus(w) for w in wants) + bonus
    if len(musts) == 2:
        return MUTUAL_MUST + extra, "mutual must", True
    if len(musts) == 1:
        return ONE_SIDED_MUST + extra, "must", True
    if len(wants) == 2:
        return MUTUAL_WANT + extra, "mutual want", True
    if len(wants) == 1:
        return ONE_SIDED_WANT + extra, "want", True
    if score is not None:
        return SUGGESTED + bonus, "suggested", False
    return 0, "none", False


class _Rules:
    """Who may meet whom, with the reason when not."""

    def __init__(self, event: Event) -> None:
        self.event = event
        self.blocked = {frozenset(p) for p in event.blocked}
        self.met_before = {frozenset(p) for p in event.met_before}
        self.wishes: dict[tuple[str, str], Wish] = {}
        for w in event.wishes:
            old = self.wishes.get((w.source, w.target))
            if old is None or w.priority < old.priority:
                self.wishes[(w.source, w.target)] = w
        self.overrides = {frozenset((o.a, o.b)): o for o in event.overrides}
        self.scores: dict[frozenset[str], float] = {}
        for s in event.suggestions:
            key = frozenset((s.a, s.b))
            self.scores[key] = max(s.score, self.scores.get(key, 0.0))

    def keys(self) -> Iterable[frozenset[str]]:
        seen: dict[frozenset[str], None] = {}
        for src, dst in self.wishes:
            seen.setdefault(frozenset((src, dst)), None)
        for key in self.overrides:
            seen.setdefault(key, None)
        for key in self.scores:
            seen.setdefault(key, None)
        return seen

    def value(self, a: str, b: str) -> tuple[int, str, bool]:
        key = frozenset((a, b))
        return pair_value(
            self.wishes.get((a, b)),
            self.wishes.get((b, a)),
            self.overrides.get(key),
            self.scores.get(key),
        )

    def requested(self, a: str, b: str) -> str | None:
        """The level label if someone asked for this meeting (even if it is forbidden)."""
        o = self.overrides.get(frozenset((a, b)))
        if o is not None and o.level != "no":
            return f"organizer {o.level}"
        levels = [
            w.level
            for w in (self.wishes.get((a, b)), self.wishes.get((b, a)))
            if w is not None and w.level != "no"
        ]
        if not levels:
            return None
        if "must" in levels:
            return "mutual must" if levels == ["must", "must"] else "must"
        return "mutual want" if len(levels) == 2 else "want"

    def forbidden(self, a: str, b: str) -> tuple[UnplacedCode, str] | None:
        key = frozenset((a, b))
        o = self.overrides.get(key)
        if o is not None and o.level == "no":
            return "declined", "the organizer ruled the pair out"
        for src, dst in ((a, b), (b, a)):
            w = self.wishes.get((src, dst))
            if w is not None and w.level == "no":
                return "declined", f"{src} does not want to meet {dst} ('no' wish)"
        if key in self.blocked:
            return "blocked", "blocked pair"
        organizer = o is not None  # an organizer must/want overrides group rules and repeats
        ga, gb = self.event.participant(a).group, self.event.participant(b).group
        if not organizer and not self.event.groups_may_meet(ga, gb):
            return "group_rule", f"group rule: {ga} and {gb} may not meet"
        if not organizer and not self.event.allow_repeat and key in self.met_before:
            return "met_before", "met before (repeat meetings are not allowed)"
        return None


def pair_forbidden(event: Event, a: str, b: str) -> tuple[UnplacedCode, str] | None:
    """Why `a` and `b` may not meet at all (a `no` from either side or the organizer, a
    blocked pair, a group rule, a repeat), with the reason; None if they may. The rule the
    solver applies, for callers that place meetings by hand."""
    return _Rules(event).forbidden(a, b)


def _free_tables(event: Event, fixed: Sequence[Fixed]) -> dict[int, list[int | None]]:
    """Per slot, the capacities of the tables not taken by a fixed meeting."""
    taken = {(f.meeting.table, f.meeting.slot) for f in fixed if f.meeting.table is not None}
    return {
        t: [tb.capacity for tb in event.tables if tb.is_available(t) and (tb.id, t) not in taken]
        for t in range(event.slots)
    }


def _fits(capacity: int | None, seats: int) -> bool:
    return capacity is None or capacity >= seats


def seats_of(event: Event, a: str, b: str) -> int:
    return event.participant(a).party_size + event.participant(b).party_size


def _ordered(event: Event, key: Iterable[str], order: dict[str, int]) -> tuple[str, str]:
    a, b = sorted(key, key=lambda pid: order[pid])
    return a, b


def build_problem(
    event: Event,
    previous: Sequence[Meeting] | None = None,
    announced: bool | Collection[frozenset[str]] = True,
) -> Problem:
    """The solver's view of `event`. With `previous` (re-planning), announced meetings that
    are still possible become fixed; the others become candidates the solver prefers to
    keep where they were."""
    rules = _Rules(event)
    order = {p.id: i for i, p in enumerate(event.participants)}
    participants = {p.id: p for p in event.participants}

    fixed: list[Fixed] = []
    fixed_busy: Counter[tuple[str, int]] = Counter()
    fixed_count: Counter[str] = Counter()

    def add_fixed(m: Meeting, kind: str) -> None:
        value, level, _ = rules.value(m.a, m.b)
        fixed.append(
            Fixed(m, kind, value, level if level != "none" else kind, seats_of(event, m.a, m.b))
        )
        for pid in (m.a, m.b):
            fixed_busy[(pid, m.slot)] += 1
            fixed_count[pid] += 1

    for m in event.locked:
        add_fixed(m, "locked")
    locked_keys = {m.pair for m in event.locked}

    soft_previous: dict[frozenset[str], Meeting] = {}
    previous_dropped: list[tuple[Meeting, str]] = []
    if previous:
        _place_previous(
            event,
            rules,
            previous,
            announced,
            locked_keys,
            fixed,
            fixed_busy,
            fixed_count,
            add_fixed,
            soft_previous,
            previous_dropped,
        )
    fixed_keys = {f.meeting.pair for f in fixed}

    free_tables = _free_tables(event, fixed)
    max_eff = {p.id: event.max_meetings(p) for p in event.participants}

    keys: dict[frozenset[str], None] = dict.fromkeys(rules.keys())
    for key in soft_previous:
        keys.setdefault(key, None)

    pairs: list[Pair] = []
    excluded: list[Unplaced] = []
    for key in keys:
        if key in fixed_keys or len(key) != 2 or not all(pid in participants for pid in key):
            continue
        a, b = _ordered(event, key, order)
        requested = rules.requested(a, b)
        why = rules.forbidden(a, b)
        if why is None:
            value, level, is_requested = rules.value(a, b)
            if level == "none":
                level = "previous"
            seats = seats_of(event, a, b)
            pa, pb = participants[a], participants[b]
            both = [t for t in range(event.slots) if pa.is_available(t) and pb.is_available(t)]
            with_table = [t for t in both if any(_fits(c, seats) for c in free_tables[t])]
            slots = tuple(
                t
                for t in with_table
                if fixed_busy[(a, t)] < pa.attendees and fixed_busy[(b, t)] < pb.attendees
            )
            full = [pid for pid in (a, b) if fixed_count[pid] >= max_eff[pid]]
            if not both:
                why = (
                    "no_common_slot",
                    "no common free slot (their availability does not overlap)",
                )
            elif not with_table:
                why = (
                    "table_capacity",
                    f"table capacity: no free table seats {seats} in their common slots",
                )
            elif not slots:
                why = ("no_common_slot", "no common free slot (locked meetings take them)")
            elif full:
                why = (
                    "max_meetings",
                    f"participant at max meetings: {', '.join(full)} "
                    f"({', '.join(str(max_eff[pid]) for pid in full)})",
                )
            else:
                pairs.append(Pair(a, b, value, level, is_requested, seats, slots))
                continue
        assert why is not None
        if requested is not None:
            excluded.append(Unplaced(a, b, requested, why[0], why[1]))
        if key in soft_previous:
            previous_dropped.append((soft_previous.pop(key), why[1]))

    of: dict[str, list[int]] = defaultdict(list)
    for k, pair in enumerate(pairs):
        of[pair.a].append(k)
        of[pair.b].append(k)

    effective_min: dict[str, int] = {}
    for p in event.participants:
        union: set[int] = set()
        for k in of.get(p.id, ()):
            union.update(pairs[k].slots)
        room = sum(p.attendees - fixed_busy[(p.id, t)] for t in union)
        reachable = fixed_count[p.id] + min(len(of.get(p.id, ())), room)
        effective_min[p.id] = min(p.min, max_eff[p.id], reachable)

    untabled: dict[int, list[int]] = defaultdict(list)
    for f in fixed:
        if f.meeting.table is None:
            untabled[f.meeting.slot].append(f.seats)
    seat_classes = sorted(
        {pair.seats for pair in pairs} | {s for v in untabled.values() for s in v}
    )
    table_limits: dict[int, list[tuple[int, int]]] = {}
    for t in range(event.slots):
        limits: list[tuple[int, int]] = []
        for c in seat_classes:
            cap = sum(1 for capacity in free_tables[t] if _fits(capacity, c))
            if not limits or cap < limits[0][1]:
                limits.append((c, cap))
        table_limits[t] = limits

    return Problem(
        event,
        pairs,
        fixed,
        excluded,
        dict(of),
        fixed_busy,
        fixed_count,
        max_eff,
        effective_min,
        table_limits,
        dict(untabled),
        soft_previous,
        previous_dropped,
    )


def _place_previous(
    event: Event,
    rules: _Rules,
    previous: Sequence[Meeting],
    announced: bool | Collection[frozenset[str]],
    locked_keys: set[frozenset[str]],
    fixed: list[Fixed],
    fixed_busy: Counter[tuple[str, int]],
    fixed_count: Counter[str],
    add_fixed: Callable[[Meeting, str], None],
    soft: dict[frozenset[str], Meeting],
    dropped: list[tuple[Meeting, str]],
) -> None:
    """Sort a previous schedule's meetings into fixed (announced and still possible), soft
    (the solver prefers to keep them) and dropped (a participant is gone)."""
    tables = {t.id: t for t in event.tables}
    for m in previous:
        key = m.pair
        if key in locked_keys or key in soft:
            continue
        gone = [pid for pid in (m.a, m.b) if not event.has_participant(pid)]
        if gone:
            dropped.append((m, f"no-show: {', '.join(gone)}"))
            continue
        is_announced = announced if isinstance(announced, bool) else key in announced
        if not is_announced or rules.forbidden(m.a, m.b) is not None:
            soft[key] = m
            continue
        pa, pb = event.participant(m.a), event.participant(m.b)
        seats = pa.party_size + pb.party_size
        ok = (
            0 <= m.slot < event.slots
            and pa.is_available(m.slot)
            and pb.is_available(m.slot)
            and fixed_busy[(m.a, m.slot)] < pa.attendees
            and fixed_busy[(m.b, m.slot)] < pb.attendees
            and fixed_count[m.a] < event.max_meetings(pa)
            and fixed_count[m.b] < event.max_meetings(pb)
        )
        if not ok:
            soft[key] = m
            continue
        taken = {f.meeting.table for f in fixed if f.meeting.slot == m.slot}
        table = tables.get(m.table) if m.table is not None else None
        if (
            table is not None
            and table.id not in taken
            and table.is_available(m.slot)
            and table.fits(seats)
        ):
            add_fixed(m, "announced")
            continue
        # its table is gone: keep the slot if some other table can take it
        untabled = [f.seats for f in fixed if f.meeting.slot == m.slot and f.meeting.table is None]
        free = [
            tb.capacity for tb in event.tables if tb.is_available(m.slot) and tb.id not in taken
        ]
        if all(
            sum(1 for c in free if _fits(c, s)) > sum(1 for u in untabled if u >= s)
            for s in {*untabled, seats}
            if s <= seats
        ):
            add_fixed(Meeting(m.a, m.b, m.slot, None), "announced")
        else:
            soft[key] = m
