"""Chunked `IN (...)` queries: databases cap the parameters of one statement (SQLite
32,766, PostgreSQL 65,535), so long key lists are queried a chunk at a time."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TypeVar

T = TypeVar("T")


def chunked(seq: Sequence[T], n: int = 500) -> Iterator[Sequence[T]]:
    """`seq` in consecutive slices of at most `n` items."""
    for start in range(0, len(seq), n):
        yield seq[start : start + n]
