"""Line votes: the catalogue's distinct segments (models.lines: description lines and
sentences, offers, needs) in one index; the `k` segments most like a query's own vote for
the profiles that list them (participants of the most similar past projects, products).

Only while the catalogue lists at most `max_segments` distinct segments
(models.lines.LINES_MAX): the vote's cost grows with them.

Who changes the index, and who waits for whom. A writer (holding the engine's write lock)
brings the index up to date right after its change to the catalogue, by that change
alone (`changed`: the written profiles' segments, embedded with their texts before the
catalogue changed, so that no database work happens between the change and the index
following it). Requests never wait for the write lock (`serving`): during a write they
vote with the index from before it. With several workers, matches run on the event loop
(Settings.match_inline); a loop waiting for the write lock while the writer waited for
SQLite's write lock, held by a request whose commit waited for the loop, stalled a
worker for SQLite's 30 s busy timeout and failed the write with "database is locked"
(the soak of issue 21; tests/service/engine/test_lines.py).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from indexing.embedding import EmbeddingCache, embed_texts
from models.lines import LINES_MAX, LineIndex, profile_segments, segments
from models.matching import Party
from models.profile import Profile, text_hash
from service.engine.catalogue import Catalogue, Record


class _ReadOnlyCache:
    """The embedding cache without its writes: what a request's build of the index reads
    (a request on the event loop must not wait for SQLite's write lock)."""

    def __init__(self, cache: EmbeddingCache) -> None:
        self._cache = cache

    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return self._cache.get_many(model_id, hashes)

    def has_many(self, model_id: str, hashes: Iterable[str]) -> set[str]:
        return self._cache.has_many(model_id, hashes)

    def put_many(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
        return None


def _segments_of(profile: Profile) -> list[str]:
    return profile_segments(profile.description, profile.offers, profile.needs)


@dataclass(frozen=True, slots=True)
class _Built:
    """An index with what it was built for, replaced whole (requests read it unlocked)."""

    index: LineIndex
    version: int  # the catalogue's version
    vocabulary: object | None  # the lexical vocabulary of its rows


class LineVotes:
    def __init__(
        self,
        catalogue: Catalogue,
        write_lock: threading.RLock,
        *,
        k: int = 100,
        max_segments: int = LINES_MAX,
    ) -> None:
        self.catalogue = catalogue
        self.k = k
        self._write_lock = write_lock
        self._max_segments = max_segments
        self._built: _Built | None = None

    @property
    def max_segments(self) -> int:
        return self._max_segments

    def set_limit(self, max_segments: int) -> None:
        """Line votes only while the catalogue lists at most this many distinct segments
        (a fork replaying its engine passes its engine's gate: sys.maxsize or -1)."""
        self._max_segments = max_segments

    def segments(self) -> int:
        """How many distinct segments the live profiles list."""
        return self.catalogue.segment_count()

    def on(self) -> bool:
        """Whether line votes are computed for this catalogue (`max_segments`)."""
        return self.catalogue.segment_count() <= self._max_segments

    def current(self) -> LineIndex | None:
        """The index if it is built for the catalogue as it is now (never builds it)."""
        built = self._built
        return (
            built.index if built is not None and built.version == self.catalogue.version else None
        )

    def wanted(self, profiles: Iterable[Profile]) -> list[str]:
        """The segments of these profiles, for a writer to embed with their texts before
        it changes the catalogue (none while the votes are off)."""
        if not self.on():
            return []
        return [s for p in profiles for s in _segments_of(p)]

    def index(self) -> LineIndex | None:
        """The segment index of the current catalogue, built if it is not (None before
        the lexical index is fitted, and while the gate `on` is off: then nothing is
        built). Waits for the write lock: for writers, startup and the offline tools;
        requests use `serving`."""
        if not self.on():
            self._built = None  # (a catalogue that grew past the gate frees its index)
            return None
        lines = self.current()
        if lines is not None:
            return lines
        with self._write_lock:
            if self.current() is None:
                self._build({}, store=True)
            return self._built.index if self._built is not None else None

    def serving(self) -> _Built | None:
        """The index a request votes with; never waits for the write lock. The current
        one; while a writer holds the lock (it brings the index up to date before it lets
        go), the one from before its change; when nobody writes and it is not current (a
        raised gate, a fork's first request, a write that failed), built here, reading the
        embedding cache but never writing to it."""
        if not self.on():
            return None
        built = self._built
        if built is not None and built.version == self.catalogue.version:
            return built
        if not self._write_lock.acquire(blocking=False):
            return built
        try:
            if self.on() and self.current() is None:
                self._build({}, store=False)
            return self._built
        finally:
            self._write_lock.release()

    def changed(
        self,
        keys: Sequence[int],
        vectors: Mapping[str, np.ndarray],
        before: LineIndex | None,
    ) -> int:
        """Bring the index up to date right after the catalogue changed for `keys`
        (writers, under the write lock). `before`: the index that was current before the
        change (`current()` then); with it, and the same lexical vocabulary, only the
        change is applied (`LineIndex.changed`); else the index is built. `vectors`: the
        vectors the writer has, by text hash (the segments it embedded, see `wanted`).
        Returns how many segments had to be encoded."""
        if not self.on():
            self._built = None
            return 0
        cat = self.catalogue
        built = self._built
        if (
            before is None
            or built is None
            or before is not built.index
            or before.lexical is None
            or before.vectors is None
            or not cat.lexical.fitted
            or cat.lexical.vocabulary is not built.vocabulary
        ):
            return self._build(vectors, store=True)
        by_key: dict[int, list[str]] = {}
        for pk in keys:
            rec = cat.records.get(pk)
            by_key[pk] = _segments_of(rec.profile) if rec is not None else []
        added = before.new_lines(by_key)
        found, encoded = self._vectors(added, vectors, None, store=True)
        dense = lexical = None
        if added:
            dense = np.vstack([found[text_hash(s)] for s in added]).astype(np.float32)
            lexical = cat.lexical.transform(added)
        updated = before.changed(by_key, 0, lexical=lexical, vectors=dense)
        if 4 * updated.dead > len(updated):  # (dead rows cost every vote a little)
            updated = updated.compacted()
        self._built = _Built(updated, cat.version, built.vocabulary)
        return encoded

    def _vectors(
        self,
        texts: Sequence[str],
        known: Mapping[str, np.ndarray],
        base: LineIndex | None,
        *,
        store: bool,
    ) -> tuple[dict[str, np.ndarray], int]:
        """Vectors of `texts` by text hash: from `known`, the rows of `base` (a segment's
        vector does not change), else through the embedding cache; and how many had to be
        encoded (`store`: the new ones are written to the cache)."""
        out: dict[str, np.ndarray] = {}
        missing: list[str] = []
        for t in texts:
            h = text_hash(t)
            v = known.get(h)
            if v is None and base is not None and base.vectors is not None:
                i = base.id_of.get(t)
                v = base.vectors[i] if i is not None else None
            if v is None:
                missing.append(t)
            else:
                out[h] = v
        if not missing:
            return out, 0
        embedder = self.catalogue.embedder
        if store:
            found, encoded = embedder.embed(missing)
        else:
            found, encoded = embed_texts(
                embedder.encoder,
                missing,
                _ReadOnlyCache(embedder.cache),
                batch_size=embedder.batch_size,
            )
        out.update(found)
        return out, encoded

    def _build(self, vectors: Mapping[str, np.ndarray], *, store: bool) -> int:
        """Build the index of the whole catalogue (under the write lock). The rows of the
        index it replaces are reused: vectors always, lexical rows while the vocabulary
        is the same; the other segments are embedded (through the cache) and transformed.
        Returns how many segments had to be encoded."""
        cat = self.catalogue
        if not cat.lexical.fitted or not cat.records:
            self._built = None
            return 0
        version, vocabulary = cat.version, cat.lexical.vocabulary
        by_key = {pk: _segments_of(r.profile) for pk, r in cat.records.items()}
        distinct = list(dict.fromkeys(s for pk in sorted(by_key) for s in by_key[pk]))
        previous = self._built
        base = previous.index if previous is not None else None
        lines = distinct
        parts: list[sparse.csr_matrix] = []
        if (
            base is not None
            and base.lexical is not None
            and previous is not None
            and vocabulary is previous.vocabulary
        ):
            known = [s for s in distinct if s in base.id_of]
            fresh = [s for s in distinct if s not in base.id_of]
            lines = known + fresh  # (the row order of the parts below)
            if known:
                parts.append(base.lexical[[base.id_of[s] for s in known]])
            if fresh:
                parts.append(cat.lexical.transform(fresh))
        elif distinct:
            parts.append(cat.lexical.transform(distinct))
        found, encoded = self._vectors(lines, vectors, base, store=store)
        dense = (
            np.vstack([found[text_hash(t)] for t in lines]).astype(np.float32) if lines else None
        )
        built = LineIndex.build(
            by_key,
            max(cat.records) + 1,
            lexical=sparse.vstack(parts, format="csr") if parts else None,
            vectors=dense,
            lines=lines,
        )
        self._built = _Built(built, version, vocabulary)
        return encoded

    def votes(
        self, query: Party, record: Record | None, text: str | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per node, the lexical and the dense vote of the segments most like the query's
        own: a free text's lines and sentences, or the query profile's."""
        built = self.serving()
        if built is None or not len(built.index):
            return None, None
        lines = built.index
        if text is not None:
            segs = segments(text)
        elif record is not None:
            p = record.profile
            segs = profile_segments(p.description, p.offers, p.needs)
        else:
            segs = []
        if not segs:
            return None, None
        known = [lines.id_of.get(s, -1) for s in segs]
        unknown = [s for s, i in zip(segs, known, strict=True) if i < 0]
        lexical = self.catalogue.lexical
        q_lex = None
        # (the index from before a refit of the vocabulary, which its writer is bringing
        # up to date: no lexical vote, its rows and a new transform would not compare)
        if lines.lexical is not None and built.vocabulary is lexical.vocabulary:
            ids = [i for i in known if i >= 0]
            parts = [lines.lexical[ids]] if ids else []
            if unknown and lexical.fitted:
                parts.append(lexical.transform(unknown))
            width = lines.lexical.shape[1]
            parts = [m for m in parts if m.shape[1] == width]  # (a refit meanwhile)
            q_lex = sparse.vstack(parts).tocsr() if parts else None
        q_vec = None
        if lines.vectors is not None:
            vecs = [lines.vectors[i] for i in known if i >= 0]
            if unknown:
                whole = (text or "").strip()
                if len(unknown) == 1 and unknown[0] == whole and query.all is not None:
                    vecs.append(query.all)  # the text itself, already encoded
                else:
                    found = self.catalogue.item_vectors(unknown)
                    if found is not None:
                        vecs.extend(found)
            q_vec = np.vstack(vecs) if vecs else None
        sim_lex, sim_dense = lines.similarities(q_lex, q_vec)
        return (
            lines.vote(sim_lex, k=self.k) if sim_lex is not None else None,
            lines.vote(sim_dense, k=self.k, power=3.0) if sim_dense is not None else None,
        )
