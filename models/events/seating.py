"""Tables for meetings whose slots are decided.

The solver only counts meetings per slot and seat class. Because the tables that fit a
meeting of s seats include all tables fitting a larger one (the sets are nested), those
counts are exactly Hall's condition and a seating always exists; this module finds one
that keeps announced tables and lets a participant stay at the table of its previous
meeting where it can.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from models.events.model import Event, Meeting, Table


@dataclass(frozen=True)
class ToSeat:
    a: str
    b: str
    slot: int
    seats: int
    table: str | None = None  # required (locked / announced) when `required`, else preferred
    required: bool = False


class SeatingError(RuntimeError):
    """No seating exists: a bug in the counts handed to the solver, never bad input."""


def assign_tables(event: Event, items: Sequence[ToSeat]) -> list[Meeting]:
    tables_by_slot: dict[int, list[Table]] = {
        t: [tb for tb in event.tables if tb.is_available(t)] for t in range(event.slots)
    }
    by_slot: dict[int, list[ToSeat]] = {}
    for item in items:
        by_slot.setdefault(item.slot, []).append(item)

    out: list[Meeting] = []
    last_table: dict[str, str] = {}  # participant -> table of its latest meeting
    for t in sorted(by_slot):
        seated = _seat_slot(tables_by_slot[t], by_slot[t], last_table)
        for item, table in seated:
            out.append(Meeting(item.a, item.b, item.slot, table))
            last_table[item.a] = table
            last_table[item.b] = table
    return out


def _seat_slot(
    tables: list[Table], items: list[ToSeat], last_table: Mapping[str, str]
) -> list[tuple[ToSeat, str]]:
    by_id = {tb.id: tb for tb in tables}
    owner: dict[str, int] = {}  # table id -> index into items
    result: dict[int, str] = {}
    for i, item in enumerate(items):
        if item.required and item.table is not None:
            owner[item.table] = i
            result[i] = item.table
    required_tables = set(owner)
    # Sorted by seats (largest first), then by table capacity (smallest that fits first).
    order = sorted(
        (i for i in range(len(items)) if i not in result), key=lambda i: (-items[i].seats, i)
    )
    by_capacity = sorted(tables, key=lambda tb: (tb.capacity is None, tb.capacity or 0))
    failed: list[int] = []
    for i in order:
        item = items[i]
        wanted = [item.table, last_table.get(item.a), last_table.get(item.b)]
        choice = next(
            (
                tid
                for tid in wanted
                if tid is not None
                and tid in by_id
                and tid not in owner
                and by_id[tid].fits(item.seats)
            ),
            None,
        )
        if choice is None:
            choice = next(
                (tb.id for tb in by_capacity if tb.id not in owner and tb.fits(item.seats)), None
            )
        if choice is None:
            failed.append(i)
            continue
        owner[choice] = i
        result[i] = choice

    for i in failed:  # augmenting paths; rare, since preferences can take a needed table
        if not _augment(i, items, by_capacity, owner, result, required_tables, set()):
            raise SeatingError(f"no table for {items[i].a}–{items[i].b} in slot {items[i].slot}")
    return [(items[i], result[i]) for i in range(len(items))]


def _augment(
    i: int,
    items: list[ToSeat],
    tables: list[Table],
    owner: dict[str, int],
    result: dict[int, str],
    required: set[str],
    seen: set[str],
) -> bool:
    for tb in tables:
        if tb.id in seen or tb.id in required or not tb.fits(items[i].seats):
            continue
        seen.add(tb.id)
        j = owner.get(tb.id)
        if j is None or _augment(j, items, tables, owner, result, required, seen):
            owner[tb.id] = i
            result[i] = tb.id
            return True
    return False
