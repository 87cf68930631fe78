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
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from urllib.parse import urlsplit

import numpy as np

from indexing.embedding import EmbeddingCache, embed_texts
from indexing.vector_index import VectorIndex
from models.encoders import Encoder
from models.lexical import LexicalIndex, script
from models.lines import profile_segments
from models.markets import stated_markets
from models.matching import Party
from models.profile import FACETS, KINDS, Facet, Profile, facet_texts, overall_text, text_hash
from models.progress import Progress
from service.engine.snapshot import Snapshot
from service.store.catalogue import StoredProfile

KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
SETTLE_AFTER_ROWS = 1_000


def settle_heap() -> None:
    """Move everything allocated so far (the catalogue: millions of objects at 100k
    profiles) out of the garbage collector's reach. A full collection walks every tracked
    object - 0.9 s at 100k profiles, a stall of every request in flight; frozen objects
    are still freed by reference counting when dropped, only cycles among them are not."""
    gc.collect()
    gc.freeze()


def org_key(website: str | None) -> str | None:
    """Profiles that share a website host are treated as one organization (a firm and its
    branch office): they are never suggested to each other."""
    if not website:
        return None
    raw = website.strip().lower()
    host = urlsplit(raw if "://" in raw else "http://" + raw).hostname or ""
    host = host.removeprefix("www.")
    return host or None


def item_texts(p: Profile) -> list[str]:
    return [*p.offers, *p.needs]


def profile_texts(p: Profile) -> list[str]:
    """Everything embedded for a profile: its facet texts and each offer and need."""
    return [*facet_texts(p).values(), *item_texts(p)]


def segment_hashes(p: Profile) -> set[int]:
    """The profile's distinct segments (models.lines), as in-process hashes: what the
    line-vote gate counts (a 64-bit collision miscounts one segment, harmlessly)."""
    return {hash(s) for s in profile_segments(p.description, p.offers, p.needs)}


def item_matrix(items: Sequence[str], table: Mapping[str, np.ndarray]) -> np.ndarray | None:
    """The vectors of these items (looked up in `table`) as rows; None without items."""
    if not items:
        return None
    return np.vstack([table[t] for t in items])


@dataclass
class Record:
    """What the engine keeps in memory per indexed profile."""

    pk: int
    profile: Profile
    content_hash: str
    org: str | None
    script: str = ""

    def __post_init__(self) -> None:
        if not self.script:
            self.script = script(overall_text(self.profile))

    @cached_property
    def stated_markets(self) -> tuple[str, ...]:
        """Its target markets: `markets`, else the ones its text names (models.markets),
        read once, when the profile first takes part in a buyer match."""
        p = self.profile
        return stated_markets(p.markets, p.description, p.needs, p.country)

    def party(self, vectors: Mapping[Facet, np.ndarray | None]) -> Party:
        p = self.profile
        return Party(
            key=self.pk,
            kind=p.kind,
            country=p.country,
            cluster=p.cluster,
            industries=p.industries,
            markets=p.markets,
            languages=p.languages,
            all=vectors.get("all"),
            offers=vectors.get("offers"),
            needs=vectors.get("needs"),
            script=self.script,
        )


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

    def __init__(self, embedder: Embedder, *, hnsw_threshold: int) -> None:
        self.embedder = embedder
        self.hnsw_threshold = hnsw_threshold
        self.indexes: dict[Facet, VectorIndex] = self.empty_indexes()
        self.lexical = LexicalIndex()
        self.lexical_fitted_on = 0  # profiles when the lexical vocabulary was fitted
        self.records: dict[int, Record] = {}
        self.pk_by_id: dict[str, int] = {}
        self.items = ItemCache()
        # kind / country code per key (-1: no live record) so filters are array operations
        self.columns: tuple[np.ndarray, np.ndarray] = (
            np.zeros(0, dtype=np.int16),
            np.zeros(0, dtype=np.int16),
        )
        self.country_codes: dict[str, int] = {}
        self.version = 0
        self._by_org: dict[str, set[int]] = {}
        # live profiles listing each distinct segment, by hash (the line-vote gate)
        self._segment_refs: dict[int, int] = {}
        self._shared_facets: frozenset[str] = frozenset()  # indexes a fork shares

    def empty_indexes(self) -> dict[Facet, VectorIndex]:
        encoder = self.embedder.encoder
        return {
            f: VectorIndex(encoder.dim, encoder.model_id, hnsw_threshold=self.hnsw_threshold)
            for f in FACETS
        }

    def __len__(self) -> int:
        return len(self.records)

    def record(self, profile_id: str) -> Record | None:
        pk = self.pk_by_id.get(profile_id)
        return self.records.get(pk) if pk is not None else None

    def vectors(self, pk: int) -> dict[Facet, np.ndarray | None]:
        return {f: self.indexes[f].vector(pk) for f in FACETS}

    def segment_count(self) -> int:
        """How many distinct segments (models.lines) the live profiles list."""
        return len(self._segment_refs)

    def exclusions(self, query: Record | None) -> set[int]:
        """Keys never suggested to `query`: itself and its organization's other profiles."""
        if query is None:
            return set()
        return {query.pk, *self._by_org.get(query.org or "", ())}

    def country_code(self, country: str | None) -> int:
        if country is None:
            return -2  # no country: never equal to a filter's code
        return self.country_codes.setdefault(country, len(self.country_codes))

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
            self._drop(pk)
            self._put(Record(pk, p, h, org_key(p.website)))
        for text in {t for _, p, _ in rows for t in item_texts(p)}:
            self.items.put(text_hash(text), vectors[text_hash(text)])
        if self.lexical.fitted and len(self.records) <= 2 * self.lexical_fitted_on:
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

    def refit_lexical(self) -> None:
        """Rebuild the TF-IDF vocabulary and rows from all indexed profiles."""
        keys = list(self.records)
        self.lexical.fit(keys, [overall_text(self.records[pk].profile) for pk in keys])
        self.lexical_fitted_on = len(keys)
        self.version += 1

    def _put(self, rec: Record) -> None:
        self.records[rec.pk] = rec
        refs = self._segment_refs
        for h in segment_hashes(rec.profile):
            refs[h] = refs.get(h, 0) + 1
        self.pk_by_id[rec.profile.id] = rec.pk
        if rec.org:
            self._by_org.setdefault(rec.org, set()).add(rec.pk)
        kind_arr, country_arr = self.columns
        if rec.pk >= len(kind_arr):
            size = max(rec.pk + 1, 2 * len(kind_arr), 1024)
            kind_arr = np.concatenate([kind_arr, np.full(size - len(kind_arr), -1, np.int16)])
            country_arr = np.concatenate(
                [country_arr, np.full(size - len(country_arr), -1, np.int16)]
            )
            self.columns = (kind_arr, country_arr)
        kind_arr[rec.pk] = KIND_CODE[rec.profile.kind]
        country_arr[rec.pk] = self.country_code(rec.profile.country)

    def _drop(self, pk: int) -> None:
        rec = self.records.pop(pk, None)
        if rec is None:
            return
        refs = self._segment_refs
        for h in segment_hashes(rec.profile):
            left = refs.get(h, 0) - 1
            if left > 0:
                refs[h] = left
            else:
                refs.pop(h, None)
        self.pk_by_id.pop(rec.profile.id, None)
        if rec.org and rec.org in self._by_org:
            self._by_org[rec.org].discard(pk)
        self.columns[0][pk] = -1
        self.columns[1][pk] = -1

    # ------------------------------------------------------------------ whole catalogue

    def restore(self, saved: Snapshot | None) -> None:
        """Start over from a saved generation's indexes (None: empty ones), with no record:
        `reload` puts back those the indexes hold as stored."""
        if saved is not None:
            self.indexes = saved.indexes
            if saved.lexical is not None:
                self.lexical = saved.lexical
                self.lexical_fitted_on = len(saved.lexical)
            else:
                self.lexical = LexicalIndex()
        if saved is None or not saved.hashes:
            self.indexes = self.empty_indexes()
        self.records.clear()
        self._segment_refs.clear()
        self.pk_by_id.clear()
        self._by_org.clear()
        self.columns[0][:] = -1
        self.columns[1][:] = -1
        self.version += 1

    def reload(
        self, rows: Iterable[StoredProfile], saved: Mapping[int, str]
    ) -> tuple[list[StoredProfile], list[int]]:
        """Put back the stored profiles the indexes hold as they are stored (`saved`: the
        content hash each was indexed with). Returns the others, to be indexed, and the
        keys indexed but no longer stored, which are taken out of the indexes here."""
        stale: list[StoredProfile] = []
        stored: set[int] = set()
        for pk, profile, h in rows:
            stored.add(pk)
            if saved.get(pk) == h and pk in self.indexes["all"]:
                self._put(Record(pk, profile, h, org_key(profile.website)))
            else:
                stale.append((pk, profile, h))
        gone = [pk for pk in saved if pk not in stored]
        if gone:
            for facet in FACETS:
                self.indexes[facet].remove(gone)
            self.lexical.remove(gone)
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
        self.records = dict(other.records)
        self.pk_by_id = dict(other.pk_by_id)
        self._by_org = {org: set(pks) for org, pks in other._by_org.items()}
        self._segment_refs = dict(other._segment_refs)
        self.columns = (other.columns[0].copy(), other.columns[1].copy())
        self.country_codes = dict(other.country_codes)
        self.lexical = other.lexical.copy()
        self.lexical_fitted_on = other.lexical_fitted_on

    def content_hashes(self) -> dict[str, str]:
        """Each indexed profile's content hash, by key (the saved state)."""
        return {str(pk): r.content_hash for pk, r in self.records.items()}

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
        that a restarted process's first requests do not each read the database."""
        counts: dict[str, int] = {}
        for rec in self.records.values():
            for t in item_texts(rec.profile):
                counts[t] = counts.get(t, 0) + 1
        wanted = sorted(counts, key=lambda t: -counts[t])[: self.items.capacity]
        return len(self.load_items(wanted))
