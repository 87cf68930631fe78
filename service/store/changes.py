"""The change feed's table: each write records what it changed, in its own transaction,
and every server process reads what came after its position (service.sync).

A `profile` change names the key of a profile written or deleted; a `history` change
says that the interaction history or the trained re-ranker changed."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from typing import NamedTuple

from sqlalchemy import delete, func, insert, or_, select
from sqlalchemy.orm import Session

from service.store.tables import ChangeRow, utcnow

PROFILE = "profile"
HISTORY = "history"
KEEP_S = 7 * 24 * 3600.0


class Change(NamedTuple):
    seq: int
    kind: str
    pk: int | None
    at: dt.datetime  # timezone-aware (UTC)


def record_changes(session: Session, kind: str, pks: Iterable[int | None] = (None,)) -> None:
    """Add change rows to the caller's transaction."""
    now = utcnow()
    rows = [{"kind": kind, "pk": pk, "at": now} for pk in pks]
    if rows:
        session.execute(insert(ChangeRow.metadata.tables["changes"]), rows)


def prune(session: Session, keep_s: float = KEEP_S) -> int:
    """Drop changes older than `keep_s` (run at startup: a process that was away longer
    reconciles from the whole database anyway). Returns how many went."""
    cutoff = utcnow() - dt.timedelta(seconds=keep_s)
    gone = session.execute(delete(ChangeRow).where(ChangeRow.at < cutoff))
    return int(getattr(gone, "rowcount", 0) or 0)


def latest_seq(session: Session) -> int:
    """The position of the newest change (0: none)."""
    return int(session.scalar(select(func.max(ChangeRow.seq))) or 0)


def changes_after(session: Session, seq: int, limit: int) -> list[Change]:
    """The first `limit` changes after position `seq`, in order."""
    rows = session.execute(
        select(ChangeRow.seq, ChangeRow.kind, ChangeRow.pk, ChangeRow.at)
        .where(ChangeRow.seq > seq)
        .order_by(ChangeRow.seq)
        .limit(limit)
    ).all()
    return [Change(s, kind, pk, _aware(at)) for s, kind, pk, at in rows]


def _aware(at: dt.datetime) -> dt.datetime:
    """SQLite returns the timestamps without their zone; they were written in UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def changes_within(session: Session, ranges: Sequence[tuple[int, int]], limit: int) -> list[Change]:
    """The first `limit` changes whose position lies in one of `ranges` (inclusive), in
    order: changes committed after later ones were read (service.sync, "holes")."""
    if not ranges:
        return []
    rows = session.execute(
        select(ChangeRow.seq, ChangeRow.kind, ChangeRow.pk, ChangeRow.at)
        .where(or_(*(ChangeRow.seq.between(lo, hi) for lo, hi in ranges)))
        .order_by(ChangeRow.seq)
        .limit(limit)
    ).all()
    return [Change(s, kind, pk, _aware(at)) for s, kind, pk, at in rows]


def positions_between(session: Session, after: int, upto: int) -> list[int]:
    """The positions of the changes in (after, upto], in order."""
    return list(
        session.scalars(
            select(ChangeRow.seq)
            .where(ChangeRow.seq > after, ChangeRow.seq <= upto)
            .order_by(ChangeRow.seq)
        )
    )
