"""The match engine, kept in step with the database, which is the source of truth.

A profile write commits first; then its texts are embedded (through the embedding cache)
and indexed. The indexes are saved with the content hash of every profile they hold
(service.engine.snapshot); at startup `reconcile` re-indexes whatever the database holds
differently, so a crash between the two writes loses nothing (nor re-encodes: vectors are
cached). `Engine` is the facade over its parts: catalogue, lines, retrieval, network,
ranking (with reasons) and snapshot.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from indexing.embedding import EmbeddingCache
from indexing.vector_index import NPROBE, LargeLayout, VectorIndex
from models.codes import country_label
from models.encoders import Encoder
from models.graph import Edge
from models.lexical import script
from models.lines import LINES_MAX, LineIndex
from models.matching import Lang, Party, Purpose, calibration_for, region_reason
from models.profile import Facet
from models.progress import Progress
from models.ranking import Reranker
from models.regions import RegionHit
from service.engine.catalogue import (
    SETTLE_AFTER_ROWS,
    Catalogue,
    Embedder,
    Record,
    profile_texts,
    settle_heap,
)
from service.engine.lines import LineVotes
from service.engine.network import Network
from service.engine.ranking import Match, Ranking
from service.engine.request import RankRequest
from service.engine.retrieval import Retrieval
from service.engine.snapshot import IndexDir, IndexOptions
from service.store.catalogue import StoredProfile, stored_digests, stored_profiles
from service.store.changes import latest_seq, prune
from service.store.db import SessionFactory, transaction
from service.store.embeddings import DbEmbeddingCache

log = logging.getLogger("clustermatch.engine")

#: Profiles read from the database and indexed at a time when a startup finds many to
#: index (a first start, a rebuild): their texts' vectors are held at once.
RECONCILE_CHUNK = 20_000


class Engine:
    """Writes (`ingest`, `remove`, `reconcile`, `save`) hold `write_lock`; requests
    (`matches_for`, `search_text`) run beside them without it and never wait for it:
    with several workers they run on the event loop (Settings.match_inline), which the
    commits of other requests' transactions wait for, and a writer holding the lock may
    be waiting for the database (see service.engine.lines)."""

    def __init__(
        self,
        encoder: Encoder,
        sessions: SessionFactory,
        index_dir: Path,
        *,
        hnsw_threshold: int = 50_000,
        index_layout: LargeLayout = "compact",
        index_nprobe: int = NPROBE,
        batch_size: int = 64,
        cache: EmbeddingCache | None = None,
        native_ranker: bool = False,
        lines_max: int = LINES_MAX,
    ) -> None:
        self.encoder = encoder
        self.sessions = sessions
        self.index_dir = index_dir
        self.hnsw_threshold = hnsw_threshold
        # the compact layout's bases live beside the generations (indexing.ivf's pool)
        self.index_options = IndexOptions(
            hnsw_threshold, index_layout, index_nprobe, spill=index_dir / "bases"
        )
        self.batch_size = batch_size
        self.cache: EmbeddingCache = cache or DbEmbeddingCache(sessions)
        # compile each re-ranker put in use to native code (models.native) in the background
        self.native_ranker = native_ranker
        self.write_lock = threading.RLock()
        self.embedder = Embedder(encoder, self.cache, batch_size)
        self.catalogue = Catalogue(self.embedder, options=self.index_options)
        self.lines = LineVotes(self.catalogue, self.write_lock, max_segments=lines_max)
        self.retrieval = Retrieval(self.catalogue, self.lines)
        self.network = Network(self.catalogue, self.write_lock)
        self.disk = IndexDir(
            index_dir, model_id=encoder.model_id, dim=encoder.dim, options=self.index_options
        )
        native_dir = self.disk.native if native_ranker else None
        self.ranking = Ranking(
            self.catalogue,
            self.retrieval,
            self.network,
            native_dir=native_dir,
            calibration=calibration_for(encoder.model_id),
        )
        self._ready = False
        self._saved_version = 0  # the catalogue's version when last saved or reconciled
        self._loading = False  # inside reconcile (see _warm_lines)
        self._reconciled_seq = 0

    @property
    def ready(self) -> bool:
        """Whether the indexes are in step with the database (`reconcile` is done)."""
        return self._ready

    @property
    def dirty(self) -> bool:
        """Whether the catalogue changed since it was last saved."""
        return self.catalogue.version != self._saved_version

    @property
    def reconciled_seq(self) -> int:
        """The change feed's position up to which `reconcile` took in every change."""
        return self._reconciled_seq

    @property
    def records(self) -> Mapping[int, Record]:
        return self.catalogue.records

    @property
    def indexes(self) -> Mapping[Facet, VectorIndex]:
        return self.catalogue.indexes

    @property
    def edges(self) -> Sequence[Edge]:
        return self.network.edges

    @property
    def reranker(self) -> Reranker | None:
        return self.ranking.model

    @property
    def ranker_note(self) -> str | None:
        """Why the hand weights are in use although a re-ranker was saved."""
        return self.ranking.note

    @property
    def encoded_total(self) -> int:
        return self.embedder.encoded_total

    def __len__(self) -> int:
        return len(self.catalogue)

    def record(self, profile_id: str) -> Record | None:
        return self.catalogue.record(profile_id)

    def vectors(self, pk: int) -> dict[Facet, np.ndarray | None]:
        return self.catalogue.vectors(pk)

    # ------------------------------------------------------------------ writes

    def ingest(self, rows: Sequence[StoredProfile], progress: Progress | None = None) -> int:
        """Embed and index profiles already committed to the database: (pk, profile,
        content hash). Returns how many texts had to be encoded (cache misses)."""
        if not rows:
            return 0
        texts = [t for _, p, _ in rows for t in profile_texts(p)]
        # (and the segments of the line votes: the index follows the change without
        # reading or writing the database, see service.engine.lines)
        texts += self.lines.wanted(p for _, p, _ in rows)
        vectors, encoded = self.embedder.embed(texts, progress)
        with self.write_lock:
            before = self.lines.current()
            self.catalogue.upsert(rows, vectors, progress)
            encoded += self._lines_follow([pk for pk, _, _ in rows], vectors, before)
        if len(rows) >= SETTLE_AFTER_ROWS:
            settle_heap()
        return encoded

    def remove(self, pks: Iterable[int]) -> None:
        keys = list(pks)
        with self.write_lock:
            before = self.lines.current()
            self.catalogue.remove(keys)
            self._lines_follow(keys, {}, before)

    def refit_lexical(self) -> None:
        """Rebuild the TF-IDF vocabulary and rows from all indexed profiles."""
        with self.write_lock:
            before = self.lines.current()
            self.catalogue.refit_lexical()
            self._lines_follow([], {}, before)

    def _lines_follow(
        self, keys: Sequence[int], vectors: Mapping[str, np.ndarray], before: LineIndex | None
    ) -> int:
        """Bring the segment index up to date after a change of these keys, in the writer,
        not in the next request (a reconcile builds it once, at its end). Returns the
        segments encoded."""
        return 0 if self._loading else self.lines.changed(keys, vectors, before)

    def fork(self, facets: Iterable[Facet]) -> Engine:
        """An engine on a copy of the catalogue (`Catalogue.copy_from`: only the indexes
        of `facets` are copied), to change without touching this one: the training world
        of service.offline.learning. No network, re-ranker, caches or saving."""
        world = Engine(
            self.encoder,
            self.sessions,
            self.index_dir / "fork",  # never saved
            hnsw_threshold=self.hnsw_threshold,
            index_layout=self.index_options.layout,
            index_nprobe=self.index_options.nprobe,
            batch_size=self.batch_size,
            cache=self.cache,
            lines_max=self.lines.max_segments,
        )
        with self.write_lock:
            world.catalogue.copy_from(self.catalogue, facets)
        world._ready = True
        return world

    def set_reranker(self, model: Reranker | None) -> None:
        """Put a trained re-ranker in use and save it beside the index (None: hand weights)."""
        self.ranking.save(model, self.disk.reranker, self.encoder.model_id)

    def load_history(self) -> None:
        """Build the interaction network from the database, and load the trained re-ranker
        if one was saved for this model."""
        self.network.load(self.sessions)
        self.ranking.load(self.disk.reranker, self.encoder.model_id)

    def save(self) -> Path:
        """Write the indexes as a new generation and make it current."""
        with self.write_lock:
            cat = self.catalogue
            gen = self.disk.save(cat.indexes, cat.lexical, cat.records, cat.segments())
            self._saved_version = cat.version
            return gen

    def reconcile(
        self, progress: Progress | None = None, *, rebuild: bool = False
    ) -> dict[str, int]:
        """Bring the indexes in step with the database (startup, and `index rebuild`)."""
        with self.write_lock:
            self._ready = False
            self._loading = True
            try:
                return self._reconcile(progress, rebuild=rebuild)
            finally:
                self._loading = False

    def _reconcile(self, progress: Progress | None, *, rebuild: bool) -> dict[str, int]:
        with transaction(self.sessions) as session:
            prune(session)
            feed_at = latest_seq(session)  # changes after this are caught up later
        cat = self.catalogue
        saved = None if rebuild else self.disk.load()
        if saved is not None and saved.records is None:
            log.info("the saved index has no saved records (an older version): indexing again")
            saved = None
        cat.restore(saved)
        with self.sessions() as session:
            pks, digests = stored_digests(session)
        # Only the keys and content hashes are read: a profile is read from the database
        # when it changed since the save, and indexed from the embedding cache.
        stale, gone = cat.diff(pks, digests)
        refit = not cat.lexical.fitted or rebuild or stale.size > 0.2 * max(1, pks.size)
        encoded = 0
        for start in range(0, stale.size, RECONCILE_CHUNK):
            with self.sessions() as session:
                rows = list(
                    stored_profiles(session, stale[start : start + RECONCILE_CHUNK].tolist())
                )
            encoded += self.ingest(rows, progress)
            del rows
        for index in cat.indexes.values():
            if index.layout_outdated:  # (a saved index of the other large layout)
                index.rebuild()
            elif stale.size:
                index.compact_now()  # (what a large load left in the delta)
        if refit and cat.lexical_fitted_on != cat.lexical_fit_size():
            self.refit_lexical()
        self.load_history()
        if stale.size or gone or saved is None or refit:
            self.save()
        self._loading = False
        self.lines.index()  # (built here once, not on the first request)
        warmed = cat.warm_items()
        self._saved_version = cat.version
        self._reconciled_seq = feed_at
        settle_heap()
        self._ready = True
        summary = {
            "profiles": len(cat),
            "reindexed": int(stale.size),
            "removed": len(gone),
            "encoded": encoded,
        }
        log.info(
            "index reconciled", extra={"event": "reconcile", **summary, "items_cached": warmed}
        )
        return summary

    # ------------------------------------------------------------------ queries

    def matches_for(
        self,
        record: Record,
        purpose: Purpose,
        *,
        kinds: Sequence[str] | None = None,
        countries: Sequence[str] | None = None,
        k: int = 10,
        lang: Lang = "en",
        explain_results: bool = True,
        within: np.ndarray | None = None,
        diversity: float = 0.0,
    ) -> list[Match]:
        """The best partners for a stored profile; `within`: only among these keys."""
        request = RankRequest(
            record.party(self.catalogue.vectors(record.pk)),
            record,
            purpose,
            kinds=kinds,
            countries=countries,
            k=k,
            lang=lang,
            query_items=(record.profile.offers, record.profile.needs),
            explain_results=explain_results,
            within=within,
            diversity=diversity,
        )
        return self.ranking.rank(request)

    def search_text(
        self,
        text: str,
        purpose: Purpose,
        *,
        kinds: Sequence[str] | None = None,
        countries: Sequence[str] | None = None,
        country: str | None = None,
        k: int = 10,
        lang: Lang = "en",
        explain_results: bool = True,
        diversity: float = 0.0,
        regions: Sequence[RegionHit] = (),
    ) -> list[Match]:
        """Free text in any language, read as what the searcher looks for (and, for buyer
        searches, what they offer). `regions`: the places the text names
        (models.regions.find_regions); organizations there come first, the others after
        them when there are fewer than k (ignored where `countries` filters)."""
        vec = self.embedder.encode_query(text)
        query = Party.of_text(vec, purpose, script=script(text), country=country)
        request = RankRequest(
            query,
            None,
            purpose,
            kinds=kinds,
            countries=countries,
            k=k,
            lang=lang,
            query_items=([text], [text]) if purpose == "buyer" else ((), [text]),
            query_text=text,
            explain_results=explain_results,
            diversity=diversity,
        )
        if not regions or countries:
            return self.ranking.rank(request)
        return self._region_first(request, regions)

    def _region_first(self, request: RankRequest, regions: Sequence[RegionHit]) -> list[Match]:
        """The matches in the named regions first, each saying so; then, up to k, the best
        of the others."""
        wanted = sorted(frozenset().union(*(r.countries for r in regions)))
        first = self.ranking.rank(replace(request, countries=wanted))
        if request.explain_results:
            for m in first:
                country = m.record.profile.country or ""
                hit = next(r for r in regions if country in r.countries)
                top = max((r.weight for r in m.reasons), default=0.0)
                reason = region_reason(
                    hit.label(request.lang),
                    country_label(country, request.lang),
                    request.lang,
                    round(top + 0.001, 4),
                    {"word": hit.word, "region": hit.key, "country": country},
                )
                m.reasons = [reason, *m.reasons[:2]]
        if len(first) < request.k:
            seen = {m.record.pk for m in first}
            rest = self.ranking.rank(replace(request, k=request.k + len(first)))
            first += [m for m in rest if m.record.pk not in seen][: request.k - len(first)]
        return first
