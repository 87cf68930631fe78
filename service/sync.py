"""Keeping every server process in step with the database: following the change feed.

Each write records what it changed in the `changes` table (service.store.changes). Every
server process follows the feed (`Follower.follow`, every `CLUSTERMATCH_SYNC_INTERVAL_S`)
and applies what it has not seen (`Follower.catch_up`): changed profiles are re-indexed
from the database (their vectors come from the embedding cache: nothing is encoded
twice), deleted ones removed, and the network and re-ranker reloaded. So
`serve --workers N`, several machines on one PostgreSQL, and the CLI's writing commands
all reach a running server within about a second.

A process applies its own writes at once; when the feed brings them back, the content
hashes already match and nothing is done. A profile written by another process is
indexed once that process has stored its vectors (it commits the rows first, then
encodes; the feed is read again every `RETRY_WAITING_S` meanwhile); one whose vectors are
still missing after `ENCODE_GRACE_S` is encoded here.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from service.engine import Engine
from service.store.catalogue import stored_profiles
from service.store.changes import (
    HISTORY,
    PROFILE,
    changes_after,
)
from service.store.tables import utcnow

__all__ = ["Follower"]

log = logging.getLogger("clustermatch.sync")

BATCH = 5_000
ENCODE_GRACE_S = 300.0
RETRY_WAITING_S = 10.0


class Follower:
    """Applies the change feed to one engine. Its position in the feed is its own: every
    change up to `seq` is applied (it starts where the engine's last reconcile read the
    feed). While another process's vectors are awaited, the feed is read again only
    every RETRY_WAITING_S (`resume` ends the pause)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._seq = 0
        self._pause_until = 0.0

    @property
    def seq(self) -> int:
        return max(self._seq, self.engine.reconciled_seq)

    def resume(self) -> None:
        """Read the feed at the next `catch_up`, even while waiting for another process's
        vectors."""
        self._pause_until = 0.0

    def catch_up(self) -> dict[str, int]:
        """Apply the changes this process has not seen yet. Returns what was done."""
        engine = self.engine
        done = {"changes": 0, "indexed": 0, "removed": 0, "deferred": 0, "history": 0}
        if not engine.ready or time.monotonic() < self._pause_until:
            return done
        with engine.write_lock:
            with engine.sessions() as session:
                changes = changes_after(session, self.seq, BATCH)
                if not changes:
                    return done
                wanted = sorted({c.pk for c in changes if c.kind == PROFILE and c.pk})
                rows = {pk: (profile, h) for pk, profile, h in stored_profiles(session, wanted)}
            stale = [
                (pk, profile, h)
                for pk, (profile, h) in rows.items()
                if (rec := engine.records.get(pk)) is None or rec.content_hash != h
            ]
            gone = [pk for pk in wanted if pk not in rows and pk in engine.records]
            # Wait for the writer's vectors rather than encode the same texts a second time.
            uncached = engine.catalogue.uncached(stale)
            now = utcnow()
            first_at = {c.pk: c.at for c in reversed(changes) if c.kind == PROFILE}
            waiting = {
                pk
                for pk in uncached
                if (now - first_at.get(pk, now)).total_seconds() < ENCODE_GRACE_S
            }
            stale = [r for r in stale if r[0] not in waiting]
            if gone:
                engine.remove(gone)
            if stale:
                engine.ingest(stale)
            history = any(c.kind == HISTORY and c.seq > engine.network.seq for c in changes)
            if history:
                engine.load_history()
            # Stop before the first change still waiting for its vectors: it is read again.
            seq = changes[-1].seq
            if waiting:
                seq = min(c.seq for c in changes if c.kind == PROFILE and c.pk in waiting) - 1
            self._seq = max(self.seq, seq)
            # A big import elsewhere encodes for minutes: do not re-read it every second.
            self._pause_until = time.monotonic() + (RETRY_WAITING_S if waiting else 0.0)
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

    async def follow(self, interval: float, stop: asyncio.Event) -> None:
        """Catch up every `interval` seconds until `stop` is set (0: never)."""
        if interval <= 0:
            return
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=interval)
            if stop.is_set():
                return
            try:
                await asyncio.to_thread(self.catch_up)
            except Exception:  # a database hiccup must not end the loop
                log.exception("catching up with the change feed failed; retrying")
