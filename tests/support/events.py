"""Helpers for the event tests: small event builders and an independent checker of every
hard constraint, so a test fails if the solver ever breaks one."""

from __future__ import annotations

from collections import Counter
from typing import Any

from models.events import Event, Schedule, parse_event


def event(**data: Any) -> Event:
    """An event from file-format keyword arguments, with one table and 3 slots by default."""
    data.setdefault("slots", 3)
    data.setdefault("tables", [{"id": "T1"}])
    return parse_event(data)


def people(*ids: str, **fields: Any) -> list[dict[str, Any]]:
    return [{"id": pid, **fields} for pid in ids]


def wish(src: str, dst: str, level: str = "want", priority: int | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"from": src, "to": dst, "level": level}
    if priority is not None:
        out["priority"] = priority
    return out


def pairs(result: Schedule) -> set[frozenset[str]]:
    return {m.pair for m in result.meetings}


def check_schedule(ev: Event, result: Schedule) -> None:
    """Assert every hard rule of the event holds in `result` (not via the solver's code)."""
    participants = {p.id: p for p in ev.participants}
    tables = {t.id: t for t in ev.tables}
    busy: Counter[tuple[str, int]] = Counter()
    count: Counter[str] = Counter()
    at_table: set[tuple[str, int]] = set()
    seen: set[frozenset[str]] = set()
    blocked = {frozenset(p) for p in ev.blocked}
    met = {frozenset(p) for p in ev.met_before}
    refused = {frozenset((w.source, w.target)) for w in ev.wishes if w.level == "no"}
    refused |= {frozenset((o.a, o.b)) for o in ev.overrides if o.level == "no"}
    organizer = {frozenset((o.a, o.b)) for o in ev.overrides if o.level != "no"}
    locked = {m.pair for m in ev.locked}
    for m in result.meetings:
        assert m.a != m.b
        assert 0 <= m.slot < ev.slots, m
        assert m.pair not in seen, f"pair {m.pair} meets twice"
        seen.add(m.pair)
        assert m.table in tables, m
        table = tables[m.table]
        assert table.is_available(m.slot), f"table {m.table} not available in {m.slot}"
        assert (m.table, m.slot) not in at_table, f"table {m.table} double-booked in {m.slot}"
        at_table.add((m.table, m.slot))
        seats = participants[m.a].party_size + participants[m.b].party_size
        assert table.fits(seats), f"{m} does not fit table {m.table}"
        for pid in (m.a, m.b):
            p = participants[pid]
            assert p.is_available(m.slot), f"{pid} not available in slot {m.slot}"
            busy[(pid, m.slot)] += 1
            assert busy[(pid, m.slot)] <= p.attendees, f"{pid} double-booked in slot {m.slot}"
            count[pid] += 1
        assert m.pair not in blocked or m.pair in locked, f"blocked pair {m.pair} meets"
        assert m.pair not in refused, f"refused pair {m.pair} meets"
        if m.pair not in locked and m.pair not in organizer:
            ga, gb = participants[m.a].group, participants[m.b].group
            assert ev.groups_may_meet(ga, gb), f"group rule broken by {m}"
            assert ev.allow_repeat or m.pair not in met, f"met-before pair {m.pair} meets"
    for pid, n in count.items():
        assert n <= ev.max_meetings(participants[pid]), f"{pid} above its max"
    placed = {(m.pair, m.slot): m.table for m in result.meetings}
    for lock in ev.locked:
        assert (lock.pair, lock.slot) in placed, f"locked {lock} not kept"
        if lock.table is not None:
            assert placed[(lock.pair, lock.slot)] == lock.table, f"locked {lock} moved table"
    assert result.bound >= result.objective
    assert 0 <= result.gap <= 1
