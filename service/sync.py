"""Keeping every server process in step with the database: following the change feed.

Each write records what it changed in the `changes` table (service.store.changes). Every
server process follows the feed (`Follower.follow`, every `CLUSTERMATCH_SYNC_INTERVAL_S`)
and applies what it has not seen (`Follower.catch_up`): changed profiles are re-indexed
from the database (their vectors come from the embedding cache: nothing is encoded
twice), deleted ones removed, and the network and re-ranker reloaded. So
`serve --workers N`, several machines on one PostgreSQL, and the CLI's writing commands
all reach a running server within about a second. Applying a change reads the profile
as the database has it now, so changes may be applied in any order, and again.

A process applies its own writes at once; when the feed brings them back, the content
hashes already match and nothing is done. A profile written by another process is
indexed once that process has stored its vectors (it commits the rows first, then
encodes). Meanwhile the feed is read again after a pause as long as the oldest awaited
change has waited, up to `RETRY_WAITING_S` (a single write elsewhere is picked up at the
next interval; a large import that encodes for hours is not re-read every second). One
whose vectors are still missing `ENCODE_GRACE_S` after it was written, or after the
writer last stored vectors that this process awaited (an import that keeps encoding is
waited for), is encoded here.

Holes. On PostgreSQL a change's position is taken when it is written, not when its
transaction commits: a long transaction (a large import's rows) may commit after changes
written later were read. The follower therefore remembers the positions it passed that
it has not seen ("holes": still open, or rolled back) and looks for them at every
catch-up, until they appear or `HOLE_KEEP_S` has passed; at start, the holes among the
last `HOLE_WINDOW` positions before the engine's reconcile.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import time
from collections.abc import Sequence

from service.engine import Engine
from service.store.catalogue import StoredProfile, stored_profiles
from service.store.changes import (
    HISTORY,
    PROFILE,
    Change,
    changes_after,
    changes_within,
    positions_between,
)
from service.store.db import Session
from service.store.tables import utcnow

__all__ = ["Follower"]

log = logging.getLogger("clustermatch.sync")

BATCH = 5_000
ENCODE_GRACE_S = 300.0
RETRY_WAITING_S = 10.0
HOLE_KEEP_S = 24 * 3600.0
"""How long a position passed unseen is looked for (a transaction open longer than this
is missed until the next restart, whose reconcile reads the database whole)."""
HOLE_WINDOW = 100_000
MAX_HOLES = 1_000


class Follower:
    """Applies the change feed to one engine. Its position in the feed is its own: every
    change up to `seq` is applied, but for the holes (it starts where the engine's last
    reconcile read the feed). While another process's vectors are awaited, the feed is
    read again only after a pause (`resume` ends it)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._seq = 0
        self._pause_until = 0.0
        self._holes: list[tuple[int, int, float]] = []  # (first, last position, since)
        self._holes_from = -1  # the reconcile position the start-up holes were read at
        self._awaited: set[int] = set()  # profiles awaited at the last catch-up
        self._progress_at = 0.0  # when an awaited profile's vectors last came (monotonic)

    @property
    def seq(self) -> int:
        return max(self._seq, self.engine.reconciled_seq)

    @property
    def holes(self) -> list[tuple[int, int]]:
        """The positions passed and not seen yet (inclusive ranges)."""
        return [(lo, hi) for lo, hi, _ in self._holes]

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
            start = self.seq
            with engine.sessions() as session:
                if self._holes_from != engine.reconciled_seq:
                    self._read_start_holes(session, engine.reconciled_seq)
                late = changes_within(session, self.holes, BATCH)
                changes = changes_after(session, start, BATCH)
                if not changes and not late:
                    self._expire_holes()
                    return done
                every = late + changes
                wanted = sorted({c.pk for c in every if c.kind == PROFILE and c.pk})
                rows = {pk: (profile, h) for pk, profile, h in stored_profiles(session, wanted)}
            stale = [
                (pk, profile, h)
                for pk, (profile, h) in rows.items()
                if (rec := engine.records.get(pk)) is None or rec.content_hash != h
            ]
            gone = [pk for pk in wanted if pk not in rows and pk in engine.records]
            waiting = self._awaiting(engine, stale, every)
            stale = [r for r in stale if r[0] not in waiting]
            if gone:
                engine.remove(gone)
            if stale:
                engine.ingest(stale)
            history = any(c.kind == HISTORY and c.seq > engine.network.seq for c in every)
            if history:
                engine.load_history()
            self._advance(start, changes, late, waiting)
            done.update(
                changes=len(every),
                indexed=len(stale),
                removed=len(gone),
                deferred=len(waiting),
                history=int(history),
            )
            if stale or gone or history:
                log.info("caught up with the change feed", extra={"event": "sync", **done})
            return done

    def _awaiting(
        self, engine: Engine, stale: Sequence[StoredProfile], every: list[Change]
    ) -> set[int]:
        """The stale profiles whose vectors their writer has not stored yet, and that
        are to be waited for rather than encoded here a second time."""
        uncached = set(engine.catalogue.uncached(stale))
        now, clock = utcnow(), time.monotonic()
        if self._awaited - uncached:  # the writer stored vectors awaited last time
            self._progress_at = clock
        since_progress = clock - self._progress_at if self._progress_at else None
        first_at = {c.pk: c.at for c in reversed(every) if c.kind == PROFILE}
        waiting = set()
        for pk in uncached:
            age = (now - first_at.get(pk, now)).total_seconds()
            if since_progress is not None:
                age = min(age, since_progress)
            if age < ENCODE_GRACE_S:
                waiting.add(pk)
        self._awaited = waiting
        return waiting

    def _advance(
        self, start: int, changes: list[Change], late: list[Change], waiting: set[int]
    ) -> None:
        """The new position, the holes, and the pause while vectors are awaited."""
        now = time.monotonic()
        awaited = [c for c in changes if c.kind == PROFILE and c.pk in waiting]
        seq = changes[-1].seq if changes else start
        if awaited:  # stop before the first change still waiting for its vectors
            seq = awaited[0].seq - 1
        # the late changes found are seen, unless still awaited (looked for again)
        found = {c.seq for c in late if not (c.kind == PROFILE and c.pk in waiting)}
        # (positions past the new one are read again as they come: no hole there)
        holes = [(lo, min(hi, seq), since) for lo, hi, since in self._holes if lo <= seq]
        holes = [piece for h in holes for piece in _without(h, found)]
        last = start
        for c in changes:
            if c.seq > seq:
                break
            if c.seq > last + 1:
                holes.append((last + 1, c.seq - 1, now))
            last = c.seq
        self._holes = holes[-MAX_HOLES:]
        self._expire_holes()
        self._seq = max(self._seq, seq)
        awaited += [c for c in late if c.kind == PROFILE and c.pk in waiting]
        if awaited:
            oldest = max((utcnow() - c.at).total_seconds() for c in awaited)
            self._pause_until = now + min(RETRY_WAITING_S, max(oldest, 0.0))
        else:
            self._pause_until = 0.0

    def _read_start_holes(self, session: Session, reconciled: int) -> None:
        """The holes among the positions before the reconcile's (see the docstring)."""
        self._holes_from = reconciled
        found = positions_between(session, max(0, reconciled - HOLE_WINDOW), reconciled)
        now = time.monotonic()
        holes = {(lo, hi): (lo, hi, since) for lo, hi, since in self._holes}
        for previous, seq in itertools.pairwise(found):
            if seq > previous + 1:
                holes.setdefault((previous + 1, seq - 1), (previous + 1, seq - 1, now))
        self._holes = sorted(holes.values())[-MAX_HOLES:]

    def _expire_holes(self) -> None:
        limit = time.monotonic() - HOLE_KEEP_S
        self._holes = [h for h in self._holes if h[2] >= limit]

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


def _without(hole: tuple[int, int, float], found: set[int]) -> list[tuple[int, int, float]]:
    """A hole less the positions found in it (split where they fall)."""
    lo, hi, since = hole
    inside = sorted(s for s in found if lo <= s <= hi)
    pieces: list[tuple[int, int, float]] = []
    for s in inside:
        if s > lo:
            pieces.append((lo, s - 1, since))
        lo = s + 1
    if lo <= hi:
        pieces.append((lo, hi, since))
    return pieces
