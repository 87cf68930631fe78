"""The catalogue: the indexed profiles in memory, with the indexes that find them.

A vector index per facet (models.profile.FACETS), the lexical index, and per key the
`Record` that filters and explanations read, with the lookups kept beside them: by
profile id, by organization, kind / country code columns, the distinct segments listed.
Every change bumps `version`, which the caches built from the catalogue compare against.
"""

from __future__ import annotations

import gc
import threading
from collections import OrderedDict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from indexing.embedding import EmbeddingCache, embed_texts
from indexing.vector_index import VectorIndex
from models.encoders import Encoder
from models.lexical import LexicalIndex
from models.lexical_pruned import FIT_SAMPLE, PrunedLexicalIndex
from models.lines import profile_segments
from models.profile import FACETS, Facet, Profile, facet_texts, overall_text, text_hash
from models.progress import Progress
from service.engine.records import KIND_CODE, Record, RecordTable, id_hash, org_key
from service.engine.snapshot import IndexOptions, Snapshot
from service.store.catalogue import StoredProfile

__all__ = ["KIND_CODE", "Catalogue", "Embedder", "Record", "org_key", "profile_texts"]

SETTLE_AFTER_ROWS = 1_000
Lexical = LexicalIndex | PrunedLexicalIndex
#: Profiles whose items `warm_items` counts (a spread sample beyond it: counting them all
#: would read every profile of a large catalogue at startup).
WARM_SAMPLE = 20_000


def settle_heap() -> None:
    """Move everything allocated so far (the catalogue: millions of objects at 100k
    profiles) out of the garbage collector's reach. A full collection walks every tracked
    object - 0.9 s at 100k profiles, a stall of every request in flight; frozen objects
    are still freed by reference counting when dropped, only cycles among them are not."""
    gc.collect()
    gc.freeze()


def item_texts(p: Profile) -> list[str]:
    return [*p.offers, *p.needs]


def profile_texts(p: Profile) -> list[str]:
    """Everything embedded for a profile: its facet texts and each offer and need."""
    return [*facet_texts(p).values(), *item_texts(p)]


def segment_hashes(p: Profile) -> set[int]:
    """The profile's distinct segments (models.lines), as 64-bit hashes: what the
    line-vote gate counts (a collision miscounts one segment, harmlessly). Stable across
    processes, so that the counts are saved with the catalogue instead of every profile
    being read again at startup."""
    return {id_hash(s) for s in profile_segments(p.description, p.offers, p.needs)}


def item_matrix(items: Sequence[str], table: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The vectors of these items (looked up in `table`) as rows; None without items."""
    if not items:
        return None
    return np.vstack([table[t] for t in items])


@dataclass
class ItemCache:
    """LRU of item vectors (single offers / needs) used by explanations. Requests run in
    threads: a lock keeps one request's eviction from racing another's lookup."""

    capacity: int = 50_000
    data: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, h: str) -> np.ndarray | None:
        with self.lock:
            v = self.data.get(h)
            if v is not None:
                self.data.move_to_end(h)
            return v

    def put(self, h: str, v: np.ndarray) -> None:
        with self.lock:
            self.data[h] = v
            self.data.move_to_end(h)
            while len(self.data) > self.capacity:
                self.data.popitem(last=False)


class Embedder:
    """The encoder behind the content-addressed embedding cache, counting the texts that
    had to be encoded (cache misses and free-text queries)."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache, batch_size: int) -> None:
        self.encoder = encoder
        self.cache = cache
        self.batch_size = batch_size
        self._encoded = 0

    @property
    def encoded_total(self) -> int:
        return self._encoded

    def embed(
        self, texts: Iterable[str], progress: Progress | None = None
    ) -> tuple[dict[str, np.ndarray], int]:
        """Vectors by text hash, through the cache; and how many texts were encoded
        (reported to `progress` as the phase "embedding")."""

        def embedding(done: int, total: int) -> None:
            if progress is not None:
                progress("embedding", done, total)

        vectors, encoded = embed_texts(
            self.encoder, texts, self.cache, batch_size=self.batch_size, progress=embedding
        )
        self._encoded += encoded
        return vectors, encoded

    def encode_query(self, text: str) -> np.ndarray:
        """The vector of a free-text query (never cached: queries rarely repeat)."""
        vec = self.encoder.encode([text])[0]
        self._encoded += 1
        return vec


class Catalogue:
    """The indexed profiles. Written by the engine under its write lock; read by requests
    without it (each request reads a record once and keeps it, see `Pool.records`)."""

    def __init__(self, embedder: Embedder, *, options: IndexOptions) -> None:
        self.embedder = embedder
        self.options = options
        self.indexes: dict[Facet, VectorIndex] = self.empty_indexes()
        self.lexical: Lexical = LexicalIndex()
        self.lexical_fitted_on = 0  # profiles when the lexical vocabulary was fitted
        self.records = RecordTable()
        self.items = ItemCache()
        self.version = 0
        # live profiles listing each distinct segment, by hash (the line-vote gate)
        self._segment_refs: dict[int, int] = {}
        self._shared_facets: frozenset[str] = frozenset()  # indexes a fork shares

    def empty_indexes(self) -> dict[Facet, VectorIndex]:
        encoder = self.embedder.encoder
        return {f: self.options.new(encoder.dim, encoder.model_id) for f in FACETS}

    def __len__(self) -> int:
        return len(self.records)

    @property
    def columns(self) -> tuple[np.ndarray, np.ndarray]:
        """Kind / country code per key (-1: no live record; country -2: none), so that
        filters are array operations."""
        return self.records.kind, self.records.country

    @property
    def country_codes(self) -> dict[str, int]:
        return dict(self.records.countries.codes)

    @property
    def pk_by_id(self) -> Mapping[str, int]:
        """Key by profile id, of the live records."""
        return _PkById(self.records)

    def record(self, profile_id: str) -> Record | None:
        pk = self.records.pk_of(profile_id)
        rec = self.records.get(pk) if pk is not None else None
        # (ids are looked up by a 64-bit hash: the record says whose it is)
        return rec if rec is not None and rec.profile.id == profile_id else None

    def vectors(self, pk: int) -> dict[Facet, np.ndarray | None]:
        return {f: self.indexes[f].vector(pk) for f in FACETS}

    def segment_count(self) -> int:
        """How many distinct segments (models.lines) the live profiles list."""
        return len(self._segment_refs)

    def exclusions(self, query: Record | None) -> set[int]:
        """Keys never suggested to `query`: itself and its organization's other profiles."""
        if query is None:
            return set()
        return {query.pk, *self.records.org_members(query.pk).tolist()}

    def country_code(self, country: str | None) -> int:
        if country is None:
            return -2  # no country: never equal to a filter's code
        return self.records.countries.code(country)

    # ------------------------------------------------------------------ writes

    def upsert(
        self,
        rows: Sequence[StoredProfile],
        vectors: Mapping[str, np.ndarray],
        progress: Progress | None = None,
    ) -> None:
        """Index profiles whose texts are embedded (`vectors`, by text hash)."""
        texts_of = {pk: facet_texts(p) for pk, p, _ in rows}
        before = {
            pk: facet_texts(self.records[pk].profile) for pk, _, _ in rows if pk in self.records
        }
        for facet in FACETS:
            ids: list[int] = []
            mats: list[np.ndarray] = []
            drop: list[int] = []
            index = self.indexes[facet]
            for pk, _, _ in rows:
                text = texts_of[pk].get(facet)
                if text is None:
                    if pk in index:
                        drop.append(pk)
                elif text != before.get(pk, {}).get(facet) or pk not in index:
                    ids.append(pk)
                    mats.append(vectors[text_hash(text)])
                # (an unchanged text keeps its vector: a description edit does not
                # re-insert the offers and needs into their graphs)
            if (ids or drop) and facet in self._shared_facets:
                raise RuntimeError(f"a fork may not write to the shared {facet} index")
            if drop:
                index.remove(drop)
            if ids:
                index.upsert(np.asarray(ids, dtype=np.int64), np.vstack(mats))
            if progress is not None:
                progress("indexing", FACETS.index(facet) + 1, len(FACETS))
        for pk, p, h in rows:
            self._put(Record(pk, p, h, org_key(p.website)))
        for text in {t for _, p, _ in rows for t in item_texts(p)}:
            self.items.put(text_hash(text), vectors[text_hash(text)])
        if self.lexical_current():
            self.lexical.upsert([pk for pk, _, _ in rows], [overall_text(p) for _, p, _ in rows])
        else:  # first profiles, or the corpus doubled: a vocabulary for what is there now
            self.refit_lexical()
        self.version += 1

    def remove(self, pks: Sequence[int]) -> None:
        for facet in FACETS:
            self.indexes[facet].remove(pks)
        self.lexical.remove(pks)
        for pk in pks:
            self._drop(pk)
        self.version += 1

    def lexical_current(self) -> bool:
        """Whether the lexical vocabulary still fits the catalogue: fitted, and on at least
        half of today's profiles (the pruned index of a large catalogue: on its sample)."""
        if not self.lexical.fitted:
            return False
        if isinstance(self.lexical, PrunedLexicalIndex):
            return self.lexical_fitted_on >= min(FIT_SAMPLE, len(self.records) // 2)
        return len(self.records) <= 2 * self.lexical_fitted_on

    def lexical_fit_size(self) -> int:
        """How many profiles a vocabulary fitted now would be fitted on."""
        if isinstance(self.lexical, PrunedLexicalIndex):
            return min(len(self.records), FIT_SAMPLE)
        return len(self.records)

    def refit_lexical(self) -> None:
        """Rebuild the TF-IDF vocabulary and rows from all indexed profiles: the whole
        rows (models.lexical), or, from the large layout's threshold on when the index
        layout is compact, rows pruned to their heaviest n-grams (models.lexical_pruned)."""
        keys = self.records.keys_array().tolist()
        texts = [overall_text(self.records[pk].profile) for pk in keys]
        large = self.options.layout == "compact" and len(keys) >= self.options.hnsw_threshold
        if large and not isinstance(self.lexical, PrunedLexicalIndex):
            self.lexical = PrunedLexicalIndex(self._text_of)
        elif not large and not isinstance(self.lexical, LexicalIndex):
            self.lexical = LexicalIndex()
        self.lexical.fit(keys, texts)
        self.lexical_fitted_on = min(len(keys), FIT_SAMPLE) if large else len(keys)
        self.version += 1

    def _text_of(self, pk: int) -> str:
        return overall_text(self.records[pk].profile)

    def _put(self, rec: Record) -> None:
        """Store a record, replacing the one of its key (which stays readable meanwhile)."""
        old = self.records.get(rec.pk)
        if old is not None:
            self._forget_segments(old)
        self.records.put(rec)
        refs = self._segment_refs
        for h in segment_hashes(rec.profile):
            refs[h] = refs.get(h, 0) + 1

    def _drop(self, pk: int) -> None:
        rec = self.records.get(pk)
        if rec is None:
            return
        self._forget_segments(rec)
        self.records.drop(pk)

    def _forget_segments(self, rec: Record) -> None:
        refs = self._segment_refs
        for h in segment_hashes(rec.profile):
            left = refs.get(h, 0) - 1
            if left > 0:
                refs[h] = left
            else:
                refs.pop(h, None)

    # ------------------------------------------------------------------ whole catalogue

    def restore(self, saved: Snapshot | None) -> None:
        """Start over from a saved generation: its indexes (None: empty ones) and, when it
        has them, its records (`diff` then says which changed since); without them, with
        no record: `reload` puts back those the indexes hold as stored."""
        if saved is not None:
            self.indexes = saved.indexes
            if saved.lexical is not None:
                self.lexical = saved.lexical
                self.lexical_fitted_on = len(saved.lexical)
                if isinstance(saved.lexical, PrunedLexicalIndex):
                    saved.lexical.text_of = self._text_of
                    self.lexical_fitted_on = min(len(saved.lexical), FIT_SAMPLE)
            else:
                self.lexical = LexicalIndex()
        if saved is None or not (saved.hashes or saved.records is not None):
            self.indexes = self.empty_indexes()
        if saved is not None and saved.records is not None:
            self.records = saved.records
            self._segment_refs = dict(saved.segments or {})
        else:
            self.records = RecordTable()
            self._segment_refs = {}
        self.version += 1

    def diff(self, pks: np.ndarray, digests: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """Against the stored profiles' keys and content hashes (32 raw bytes each): the
        keys to index again (new, changed, or missing from the index), and the keys
        indexed but no longer stored, which are taken out here. Reads no profile."""
        table = self.records
        live = table.keys_array()
        known = np.zeros(pks.size, dtype=bool)
        inside = pks < table.kind.size
        known[inside] = table.kind[pks[inside]] >= 0
        same = known.copy()
        same[known] = (table.digest[pks[known]] == digests[known]).all(axis=1)
        same &= np.isin(pks, self.indexes["all"].ids())
        stale = pks[~same]
        gone = np.setdiff1d(live, pks).tolist()
        if gone:
            for facet in FACETS:
                self.indexes[facet].remove(gone)
            self.lexical.remove(gone)
            for pk in gone:
                self._drop(pk)
        self.version += 1
        return stale, gone

    def copy_from(self, other: Catalogue, facets: Iterable[Facet]) -> None:
        """Become a copy of `other` to change without touching it: the indexes of
        `facets` and the lexical index copied, the other facet indexes shared (writing to
        them raises), the records and lookups copied; the item cache starts empty. At 100k
        profiles: one index copy (~0.25 GB) instead of a second catalogue built anew."""
        copied = set(facets)
        self.indexes = {
            f: other.indexes[f].copy() if f in copied else other.indexes[f] for f in FACETS
        }
        self._shared_facets = frozenset(FACETS) - copied
        self.records = other.records.copy()
        self._segment_refs = dict(other._segment_refs)
        self.lexical = other.lexical.copy()
        if isinstance(self.lexical, PrunedLexicalIndex):
            self.lexical.text_of = self._text_of
        self.lexical_fitted_on = other.lexical_fitted_on

    def segments(self) -> dict[int, int]:
        """The line-vote gate's counts (saved with the records)."""
        return self._segment_refs

    def uncached(self, rows: Sequence[StoredProfile]) -> set[int]:
        """Keys of the profiles some of whose texts have no vector in the cache yet."""
        hashes = {pk: [text_hash(t) for t in profile_texts(p)] for pk, p, _ in rows}
        wanted = {h for hs in hashes.values() for h in hs}
        cache, model_id = self.embedder.cache, self.embedder.encoder.model_id
        have = cache.has_many(model_id, wanted) if wanted else set()
        return {pk for pk, hs in hashes.items() if not have.issuperset(hs)}

    # ------------------------------------------------------------------ item vectors

    def load_items(self, items: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of these item texts, by text, through the LRU (one cache read for
        all of them; texts never seen, e.g. a free-text query's, are encoded)."""
        hashes = {t: text_hash(t) for t in items}
        out: dict[str, np.ndarray] = {}
        missing: dict[str, str] = {}
        for t, h in hashes.items():
            v = self.items.get(h)
            if v is None:
                missing[h] = t
            else:
                out[t] = v
        if missing:
            encoder = self.embedder.encoder
            for h, v in self.embedder.cache.get_many(encoder.model_id, list(missing)).items():
                self.items.put(h, v)
                out[missing.pop(h)] = v
        if missing:
            still = list(missing.values())
            for t, v in zip(still, self.embedder.encoder.encode(still), strict=True):
                self.items.put(hashes[t], v)
                out[t] = v
        return out

    def item_vectors(self, items: Sequence[str]) -> np.ndarray | None:
        """The vectors of these items as rows (None without items)."""
        if not items:
            return None
        return item_matrix(items, self.load_items(items))

    def warm_items(self) -> int:
        """Fill the item-vector LRU that explanations read from the embedding cache: the
        catalogue's offers and needs, most often listed first, up to its capacity, so
        that a restarted process's first requests do not each read the database. Beyond
        WARM_SAMPLE profiles, counted on a spread sample of them."""
        keys = self.records.keys_array()
        if keys.size > WARM_SAMPLE:
            keys = keys[np.linspace(0, keys.size - 1, WARM_SAMPLE).astype(np.int64)]
        counts: dict[str, int] = {}
        for pk in keys.tolist():
            for t in item_texts(self.records[pk].profile):
                counts[t] = counts.get(t, 0) + 1
        wanted = sorted(counts, key=lambda t: -counts[t])[: self.items.capacity]
        return len(self.load_items(wanted))


class _PkById(Mapping[str, int]):
    """Profile id -> key over a record table (what the network maps its ids with)."""

    def __init__(self, table: RecordTable) -> None:
        self._table = table

    def __getitem__(self, profile_id: str) -> int:
        pk = self._table.pk_of(profile_id)
        if pk is None:
            raise KeyError(profile_id)
        return pk

    def __contains__(self, profile_id: object) -> bool:
        return isinstance(profile_id, str) and self._table.pk_of(profile_id) is not None

    def __iter__(self) -> Iterator[str]:
        return (self._table[pk].profile.id for pk in self._table)

    def __len__(self) -> int:
        return len(self._table)
