"""Long key lists cut into pieces for `IN (...)` queries."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")

CHUNK = 500
"""Keys per `IN (...)` list: below SQLite's bound-parameter limit (999 in older builds)
with room for the query's other parameters."""


def chunked(seq: Sequence[T], n: int = CHUNK) -> Iterator[Sequence[T]]:
    """`seq` in consecutive slices of at most `n` items."""
    for start in range(0, len(seq), n):
        yield seq[start : start + n]
