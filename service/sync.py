"""Keeping every server process in step with the database: the change feed.

Each write records what it changed in the `changes` table, in its own transaction: the
key of every profile written or deleted (`profile`), or that the interaction history or
the trained re-ranker changed (`history`). Every server process tails the feed
(`follow`, every `CLUSTERMATCH_SYNC_INTERVAL_S`) and applies what it has not seen
(`catch_up`): changed profiles are re-indexed from the database (their vectors come from
the embedding cache: nothing is encoded twice), deleted ones removed, and the network and
re-ranker reloaded. So `serve --workers N`, several machines on one PostgreSQL, and the
CLI's writing commands all reach a running server within about a second.

A process applies its own writes at once; when the feed brings them back, the content
hashes already match and nothing is done. A profile written by another process is
indexed once that process has stored its vectors (it commits the rows first, then
encodes; the feed is read again every `RETRY_WAITING_S` meanwhile); one whose vectors are
still missing after `ENCODE_GRACE_S` is encoded here.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Iterable
from typing import TYPE_CHECKING

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from models.profile import Profile
from service.store.tables import ChangeRow, ProfileRow, utcnow

if TYPE_CHECKING:
    from service.engine import Engine

log = logging.getLogger("clustermatch.sync")

PROFILE = "profile"
HISTORY = "history"
BATCH = 5_000
ENCODE_GRACE_S = 300.0
KEEP_S = 7 * 24 * 3600.0
RETRY_WAITING_S = 10.0


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
    return int(session.scalar(select(func.max(ChangeRow.seq))) or 0)


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo is not None else at.replace(tzinfo=dt.UTC)


def catch_up(engine: Engine) -> dict[str, int]:
    """Apply the changes this process has not seen yet. Returns what was done."""
    done = {"changes": 0, "indexed": 0, "removed": 0, "deferred": 0, "history": 0}
    if not engine.ready or time.monotonic() < engine.sync_pause_until:
        return done
    with engine.write_lock:
        with engine.sessions() as session:
            changes = session.execute(
                select(ChangeRow.seq, ChangeRow.kind, ChangeRow.pk, ChangeRow.at)
                .where(ChangeRow.seq > engine.sync_seq)
                .order_by(ChangeRow.seq)
                .limit(BATCH)
            ).all()
            if not changes:
                return done
            wanted = sorted({pk for _, kind, pk, _ in changes if kind == PROFILE and pk})
            rows: dict[int, tuple[Profile, str]] = {}
            for start in range(0, len(wanted), 500):
                for row in session.scalars(
                    select(ProfileRow).where(ProfileRow.pk.in_(wanted[start : start + 500]))
                ):
                    rows[row.pk] = (Profile.model_validate(row.data), row.content_hash)
        stale = [
            (pk, profile, h)
            for pk, (profile, h) in rows.items()
            if (rec := engine.records.get(pk)) is None or rec.content_hash != h
        ]
        gone = [pk for pk in wanted if pk not in rows and pk in engine.records]
        # Wait for the writer's vectors rather than encode the same texts a second time.
        uncached = engine.uncached(stale)
        now = utcnow()
        first_at = {pk: _aware(at) for _, kind, pk, at in reversed(changes) if kind == PROFILE}
        waiting = {
            pk for pk in uncached if (now - first_at.get(pk, now)).total_seconds() < ENCODE_GRACE_S
        }
        stale = [r for r in stale if r[0] not in waiting]
        if gone:
            engine.remove(gone)
        if stale:
            engine.ingest(stale)
        history = any(kind == HISTORY and seq > engine.history_seq for seq, kind, _, _ in changes)
        if history:
            engine.load_history()
        # Stop before the first change still waiting for its vectors: it is read again.
        seq = changes[-1][0]
        if waiting:
            seq = min(s for s, kind, pk, _ in changes if kind == PROFILE and pk in waiting) - 1
        engine.sync_seq = max(engine.sync_seq, seq)
        # A big import elsewhere encodes for minutes: do not re-read it every second.
        engine.sync_pause_until = time.monotonic() + (RETRY_WAITING_S if waiting else 0.0)
        done.update(
            changes=len(changes),
            indexed=len(stale),
            removed=len(gone),
            deferred=len(waiting),
            history=int(history),
        )
        if stale or gone or history:
            log.info("caught up with the change feed", extra={"event": "sync", **done})
        return done


async def follow(engine: Engine, interval: float, stop: asyncio.Event) -> None:
    """Tail the change feed until `stop` is set (0: never)."""
    if interval <= 0:
        return
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), timeout=interval)
        if stop.is_set():
            return
        try:
            await asyncio.to_thread(catch_up, engine)
        except Exception:  # a database hiccup must not end the loop
            log.exception("catching up with the change feed failed; retrying")
