"""Line votes: the catalogue's distinct segments (models.lines: description lines and
sentences, offers, needs) in one index; the `k` segments most like a query's own vote for
the profiles that list them (participants of the most similar past projects, products).

Only while the catalogue lists at most `max_segments` distinct segments
(models.lines.LINES_MAX): the vote's cost grows with them. The index is rebuilt after the
catalogue changed, by the writer (`warm`), so that no request pays for it.
"""

from __future__ import annotations

import threading

import numpy as np
from scipy import sparse

from models.lines import LINES_MAX, LineIndex, profile_segments, segments
from models.matching import Party
from models.profile import text_hash
from service.engine.catalogue import Catalogue, Record


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
        self._index: LineIndex | None = None
        self._index_version = -1  # the catalogue version `_index` was built for
        self._encoded = 0  # segments the last build encoded

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
        index = self._index
        return (
            index if index is not None and self._index_version == self.catalogue.version else None
        )

    def index(self) -> LineIndex | None:
        """The segment index of the current catalogue (None before the lexical index is
        fitted, and while the gate `on` is off: then nothing is built). Rebuilt after the
        catalogue changed: every distinct segment transformed with the lexical vocabulary
        and embedded (through the cache: a segment is encoded once per model, ever)."""
        if not self.on():
            self._index = None  # (a catalogue that grew past the gate frees its index)
            return None
        cat = self.catalogue
        lines = self._index
        if lines is not None and self._index_version == cat.version:
            return lines
        with self._write_lock:
            if self._index is not None and self._index_version == cat.version:
                return self._index
            if not cat.lexical.fitted or not cat.records:
                return None
            version = cat.version
            by_key = {
                pk: profile_segments(r.profile.description, r.profile.offers, r.profile.needs)
                for pk, r in cat.records.items()
            }
            distinct = list(dict.fromkeys(s for pk in sorted(by_key) for s in by_key[pk]))
            vectors, encoded = cat.embedder.embed(distinct)
            self._encoded = encoded
            dense = (
                np.vstack([vectors[text_hash(t)] for t in distinct]).astype(np.float32)
                if distinct
                else None
            )
            lexical = cat.lexical.transform(distinct) if distinct else None
            built = LineIndex.build(
                by_key,
                max(cat.records) + 1,
                lexical=lexical,
                vectors=dense,
                lines=distinct,
            )
            self._index, self._index_version = built, version
            return built

    def warm(self) -> int:
        """Rebuild the index now if the catalogue changed (the writer calls it after its
        change). Returns how many segments had to be encoded."""
        before = self._index
        self.index()
        return self._encoded if self._index is not before else 0

    def votes(
        self, query: Party, record: Record | None, text: str | None
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per node, the lexical and the dense vote of the segments most like the query's
        own: a free text's lines and sentences, or the query profile's."""
        lines = self.index()
        if lines is None or not len(lines):
            return None, None
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
        if lines.lexical is not None:
            ids = [i for i in known if i >= 0]
            parts = [lines.lexical[ids]] if ids else []
            if unknown and lexical.fitted:
                parts.append(lexical.transform(unknown))
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
