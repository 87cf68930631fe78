"""The B2B meeting-scheduling instance: who meets whom, when they may, and on how many tables.

Everything here is 1-based, as in the MiniZinc files and in what the organizer sees:
participants are ``1..n_participants``, meetings ``1..n_meetings`` (row order of
``meetings``), slots ``1..n_slots`` (``1..n_morning_slots`` are the morning), tables
``1..n_tables``.

Errors (one hierarchy, all ``ValueError``)::

    B2BError                 base class for everything this package raises
    └── InvalidInstanceError an instance breaks a structural rule (built in code)
        └── DznError         ... read from a .dzn file; carries the line number
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

Session = Literal[1, 2, 3]
"""1 = morning only, 2 = afternoon only, 3 = either."""

MORNING: Session = 1
AFTERNOON: Session = 2
ANY_SESSION: Session = 3


class B2BError(ValueError):
    """Base class of the errors raised by ``models.b2b``."""


class InvalidInstanceError(B2BError):
    """The instance data break a structural rule (a reference out of range, a cycle...)."""


@dataclass(frozen=True, slots=True)
class Meeting:
    """A requested meeting between two distinct participants."""

    p1: int
    p2: int
    session: Session = ANY_SESSION

    @property
    def participants(self) -> tuple[int, int]:
        return (self.p1, self.p2)


@dataclass(frozen=True, slots=True)
class B2BInstance:
    """A validated B2B meeting-scheduling instance (build it with :meth:`build` or
    :func:`models.b2b.dzn.parse_dzn`; the constructor trusts its arguments)."""

    n_participants: int
    meetings: tuple[Meeting, ...]
    n_tables: int
    n_slots: int
    n_morning_slots: int
    forbidden: tuple[frozenset[int], ...]
    """Per participant (index ``p - 1``): slots where that participant is unavailable."""
    fixed: tuple[int | None, ...]
    """Per meeting (index ``m - 1``): the slot it must take, or None."""
    precedences: tuple[frozenset[int], ...]
    """Per meeting (index ``m - 1``): meetings that must take a strictly earlier slot."""
    name: str = ""
    _by_participant: tuple[tuple[int, ...], ...] = field(
        init=False, repr=False, compare=False, default=()
    )

    def __post_init__(self) -> None:
        lists: list[list[int]] = [[] for _ in range(self.n_participants)]
        for m, meeting in enumerate(self.meetings, start=1):
            for p in meeting.participants:
                if 1 <= p <= self.n_participants:
                    lists[p - 1].append(m)
        object.__setattr__(self, "_by_participant", tuple(tuple(ms) for ms in lists))

    @property
    def n_meetings(self) -> int:
        return len(self.meetings)

    def meetings_of(self, participant: int) -> tuple[int, ...]:
        """The (1-based) meetings of a participant, in increasing order."""
        return self._by_participant[participant - 1]

    def session_slots(self, session: int) -> range:
        """The slots a meeting of this session may use."""
        if session == MORNING:
            return range(1, self.n_morning_slots + 1)
        if session == AFTERNOON:
            return range(self.n_morning_slots + 1, self.n_slots + 1)
        return range(1, self.n_slots + 1)

    def allowed_slots(self, meeting: int) -> list[int]:
        """Slots meeting ``meeting`` may take by its session, both participants'
        forbidden slots and its fixed slot (precedences and capacity not applied)."""
        mt = self.meetings[meeting - 1]
        banned = self.forbidden[mt.p1 - 1] | self.forbidden[mt.p2 - 1]
        fixed = self.fixed[meeting - 1]
        return [
            t
            for t in self.session_slots(mt.session)
            if t not in banned and (fixed is None or t == fixed)
        ]

    @classmethod
    def build(
        cls,
        *,
        n_participants: int,
        meetings: Iterable[tuple[int, int] | tuple[int, int, int] | Meeting],
        n_tables: int,
        n_slots: int,
        n_morning_slots: int | None = None,
        forbidden: Mapping[int, Iterable[int]] | None = None,
        fixed: Mapping[int, int] | None = None,
        precedences: Mapping[int, Iterable[int]] | None = None,
        name: str = "",
    ) -> B2BInstance:
        """Build and validate an instance from plain Python data (1-based ids).

        ``meetings`` rows are ``(p1, p2)`` (either session) or ``(p1, p2, session)``;
        ``forbidden`` maps participant → slots, ``fixed`` meeting → slot,
        ``precedences`` meeting → meetings that must come strictly earlier;
        ``n_morning_slots`` defaults to all slots. Raises :class:`InvalidInstanceError`.
        """
        rows: list[tuple[int, int, int]] = []
        for row in meetings:
            if isinstance(row, Meeting):
                rows.append((row.p1, row.p2, row.session))
            elif len(row) == 2:
                rows.append((row[0], row[1], ANY_SESSION))
            elif len(row) == 3:
                rows.append((row[0], row[1], row[2]))
            else:
                raise InvalidInstanceError(f"meeting row {row!r} must be (p1, p2[, session])")
        n_meetings = len(rows)
        forb: list[set[int]] = [set() for _ in range(max(n_participants, 0))]
        for p, slots in (forbidden or {}).items():
            _check_range("forbidden: participant", p, 1, n_participants)
            forb[p - 1].update(slots)
        fix: list[int | None] = [None] * n_meetings
        for m, t in (fixed or {}).items():
            _check_range("fixed: meeting", m, 1, n_meetings)
            fix[m - 1] = t
        prec: list[set[int]] = [set() for _ in range(n_meetings)]
        for m, before in (precedences or {}).items():
            _check_range("precedences: meeting", m, 1, n_meetings)
            prec[m - 1].update(before)
        return make_instance(
            n_participants=n_participants,
            requested=rows,
            n_tables=n_tables,
            n_slots=n_slots,
            n_morning_slots=n_slots if n_morning_slots is None else n_morning_slots,
            forbidden=forb,
            fixed=fix,
            precedences=prec,
            name=name,
        )


def _check_range(what: str, value: int, lo: int, hi: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise InvalidInstanceError(f"{what} {value!r} is not in {lo}..{hi}")


def make_instance(
    *,
    n_participants: int,
    requested: Sequence[tuple[int, int, int]],
    n_tables: int,
    n_slots: int,
    n_morning_slots: int,
    forbidden: Sequence[Iterable[int]],
    fixed: Sequence[int | None],
    precedences: Sequence[Iterable[int]],
    name: str = "",
) -> B2BInstance:
    """Validate already-aligned per-participant / per-meeting lists and build the instance.

    Raises :class:`InvalidInstanceError` naming the first rule broken; callers that know
    source positions (the .dzn parser) check the same rules first to report lines.
    """
    _check_range("nBusiness (participants)", n_participants, 0, 10**6)
    _check_range("nTables", n_tables, 1, 10**6)
    _check_range("nTotalSlots", n_slots, 1, 10**4)
    _check_range("nMorningSlots", n_morning_slots, 0, n_slots)
    if len(forbidden) != n_participants:
        raise InvalidInstanceError(
            f"forbidden has {len(forbidden)} entries, expected nBusiness = {n_participants}"
        )
    n_meetings = len(requested)
    if len(fixed) != n_meetings:
        raise InvalidInstanceError(f"fixed has {len(fixed)} entries, expected {n_meetings}")
    if len(precedences) != n_meetings:
        raise InvalidInstanceError(
            f"precedences has {len(precedences)} entries, expected {n_meetings}"
        )
    meetings: list[Meeting] = []
    for m, (p1, p2, session) in enumerate(requested, start=1):
        _check_range(f"meeting {m}: participant", p1, 1, n_participants)
        _check_range(f"meeting {m}: participant", p2, 1, n_participants)
        if p1 == p2:
            raise InvalidInstanceError(f"meeting {m}: participant {p1} cannot meet itself")
        if session not in (1, 2, 3):
            raise InvalidInstanceError(f"meeting {m}: session {session!r} is not in 1..3")
        meetings.append(Meeting(p1, p2, cast(Session, session)))
    forb: list[frozenset[int]] = []
    for p, slots in enumerate(forbidden, start=1):
        for t in slots:
            _check_range(f"forbidden slot of participant {p}:", t, 1, n_slots)
        forb.append(frozenset(slots))
    fix: list[int | None] = []
    for m, slot in enumerate(fixed, start=1):
        if slot is not None:
            _check_range(f"fixed slot of meeting {m}:", slot, 1, n_slots)
        fix.append(slot)
    prec: list[frozenset[int]] = []
    for m, before in enumerate(precedences, start=1):
        bset = frozenset(before)
        for b in bset:
            _check_range(f"precedence of meeting {m}: meeting", b, 1, n_meetings)
        if m in bset:
            raise InvalidInstanceError(f"precedences: meeting {m} cannot precede itself")
        prec.append(bset)
    cycle = find_precedence_cycle(prec)
    if cycle:
        raise InvalidInstanceError(
            "precedences form a cycle: " + " -> ".join(str(m) for m in cycle)
        )
    return B2BInstance(
        n_participants=n_participants,
        meetings=tuple(meetings),
        n_tables=n_tables,
        n_slots=n_slots,
        n_morning_slots=n_morning_slots,
        forbidden=tuple(forb),
        fixed=tuple(fix),
        precedences=tuple(prec),
        name=name,
    )


def find_precedence_cycle(precedences: Sequence[Iterable[int]]) -> list[int]:
    """A cycle ``[a, b, ..., a]`` (a before b before ... before a) if the precedence graph
    has one, else ``[]``. ``precedences[m - 1]`` lists the meetings before meeting m."""
    n = len(precedences)
    preds = [sorted(set(p)) for p in precedences]
    color = [0] * (n + 1)  # 0 new, 1 on the stack, 2 done
    parent = [0] * (n + 1)
    for root in range(1, n + 1):
        if color[root]:
            continue
        color[root] = 1
        stack: list[tuple[int, int]] = [(root, 0)]
        while stack:
            node, i = stack[-1]
            if i < len(preds[node - 1]):
                stack[-1] = (node, i + 1)
                nxt = preds[node - 1][i]
                if not 1 <= nxt <= n:
                    continue
                if color[nxt] == 1:
                    # nxt must precede node, which (transitively) must precede nxt
                    path = [node]
                    while path[-1] != nxt:
                        path.append(parent[path[-1]])
                    return [*path, node]
                if color[nxt] == 0:
                    color[nxt] = 1
                    parent[nxt] = node
                    stack.append((nxt, 0))
            else:
                color[node] = 2
                stack.pop()
    return []
