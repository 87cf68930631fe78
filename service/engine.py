"""The match engine: the encoder, the three facet indexes (overall text, offers, needs) and
the in-memory catalogue that filters and explanations read, kept in step with the database.

The database is the source of truth. A profile write commits first; then its texts are
embedded (through the content-addressed cache in the `embeddings` table) and its vectors
upserted into the indexes. The indexes are saved as a generation directory with a state
file naming the content hash of every profile they hold; at startup `reconcile` compares
that with the database and re-indexes whatever differs, so a crash between the database
write and the index write loses nothing (and needs no re-encoding: vectors are cached).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from indexing.embedding import EmbeddingCache, embed_texts
from indexing.vector_index import IndexMismatchError, VectorIndex
from models.encoders import Encoder
from models.matching import (
    ItemMatch,
    Lang,
    Party,
    Purpose,
    Reason,
    Scored,
    best_item_match,
    candidate_kinds,
    explain,
    rank,
)
from models.profile import FACETS, Facet, Profile, facet_texts, text_hash
from service.tables import EmbeddingRow, ProfileRow

log = logging.getLogger("clustermatch.engine")

Progress = Callable[[str, int, int], None]
"""Called with (phase, done, total)."""

STATE_FILE = "state.json"
CURRENT_FILE = "CURRENT"


def org_key(website: str | None) -> str | None:
    """Profiles that share a website host are treated as one organization (a firm and its
    branch office): they are never suggested to each other."""
    if not website:
        return None
    raw = website.strip().lower()
    host = urlsplit(raw if "://" in raw else "http://" + raw).hostname or ""
    host = host.removeprefix("www.")
    return host or None


class DbEmbeddingCache:
    """`EmbeddingCache` on the `embeddings` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        wanted = list(hashes)
        out: dict[str, np.ndarray] = {}
        with self._sessions() as session:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start : start + 500]
                rows = session.execute(
                    select(EmbeddingRow.text_hash, EmbeddingRow.vector).where(
                        EmbeddingRow.model_id == model_id, EmbeddingRow.text_hash.in_(chunk)
                    )
                )
                for h, blob in rows:
                    out[h] = np.frombuffer(blob, dtype=np.float32)
        return out

    def put_many(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
        if not vectors:
            return
        with self._sessions() as session, session.begin():
            present = set(
                session.scalars(
                    select(EmbeddingRow.text_hash).where(
                        EmbeddingRow.model_id == model_id,
                        EmbeddingRow.text_hash.in_(list(vectors)),
                    )
                )
            )
            session.add_all(
                EmbeddingRow(
                    model_id=model_id,
                    text_hash=h,
                    dim=int(v.shape[0]),
                    vector=np.asarray(v, dtype=np.float32).tobytes(),
                )
                for h, v in vectors.items()
                if h not in present
            )


@dataclass
class Record:
    """What the engine keeps in memory per indexed profile."""

    pk: int
    profile: Profile
    content_hash: str
    org: str | None

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
        )


@dataclass
class Match:
    record: Record
    scored: Scored
    reasons: list[Reason]


@dataclass
class ItemCache:
    """LRU of item vectors (single offers / needs) used by explanations."""

    capacity: int = 50_000
    data: OrderedDict[str, np.ndarray] = field(default_factory=OrderedDict)

    def get(self, h: str) -> np.ndarray | None:
        v = self.data.get(h)
        if v is not None:
            self.data.move_to_end(h)
        return v

    def put(self, h: str, v: np.ndarray) -> None:
        self.data[h] = v
        self.data.move_to_end(h)
        while len(self.data) > self.capacity:
            self.data.popitem(last=False)


def item_texts(p: Profile) -> list[str]:
    return [*p.offers, *p.needs]


def profile_texts(p: Profile) -> list[str]:
    """Everything embedded for a profile: its facet texts and each offer and need."""
    return [*facet_texts(p).values(), *item_texts(p)]


class Engine:
    def __init__(
        self,
        encoder: Encoder,
        sessions: sessionmaker[Session],
        index_dir: Path,
        *,
        hnsw_threshold: int = 50_000,
        batch_size: int = 64,
        cache: EmbeddingCache | None = None,
    ) -> None:
        self.encoder = encoder
        self.sessions = sessions
        self.index_dir = index_dir
        self.hnsw_threshold = hnsw_threshold
        self.batch_size = batch_size
        self.cache: EmbeddingCache = cache or DbEmbeddingCache(sessions)
        self.indexes: dict[Facet, VectorIndex] = self._empty_indexes()
        self.records: dict[int, Record] = {}
        self.pk_by_id: dict[str, int] = {}
        self.ready = False
        self.dirty = False
        self.encoded_total = 0
        self.write_lock = threading.RLock()
        self._items = ItemCache()
        self._version = 0
        self._filter_cache: dict[tuple[object, ...], np.ndarray] = {}

    # ------------------------------------------------------------------ state

    def _empty_indexes(self) -> dict[Facet, VectorIndex]:
        return {
            f: VectorIndex(
                self.encoder.dim, self.encoder.model_id, hnsw_threshold=self.hnsw_threshold
            )
            for f in FACETS
        }

    def __len__(self) -> int:
        return len(self.records)

    def record(self, profile_id: str) -> Record | None:
        pk = self.pk_by_id.get(profile_id)
        return self.records.get(pk) if pk is not None else None

    def vectors(self, pk: int) -> dict[Facet, np.ndarray | None]:
        return {f: self.indexes[f].vector(pk) for f in FACETS}

    # ------------------------------------------------------------------ writes

    def ingest(
        self, rows: Sequence[tuple[int, Profile, str]], progress: Progress | None = None
    ) -> int:
        """Embed and index profiles already committed to the database: (pk, profile,
        content hash). Returns how many texts had to be encoded (cache misses)."""
        if not rows:
            return 0
        texts = [t for _, p, _ in rows for t in profile_texts(p)]

        def _progress(done: int, total: int) -> None:
            if progress is not None:
                progress("embedding", done, total)

        vectors, encoded = embed_texts(
            self.encoder, texts, self.cache, batch_size=self.batch_size, progress=_progress
        )
        self.encoded_total += encoded
        with self.write_lock:
            for facet in FACETS:
                ids: list[int] = []
                mats: list[np.ndarray] = []
                drop: list[int] = []
                for pk, p, _ in rows:
                    text = facet_texts(p).get(facet)
                    if text is None:
                        drop.append(pk)
                    else:
                        ids.append(pk)
                        mats.append(vectors[text_hash(text)])
                if drop:
                    self.indexes[facet].remove(drop)
                if ids:
                    self.indexes[facet].upsert(np.asarray(ids, dtype=np.int64), np.vstack(mats))
                if progress is not None:
                    progress("indexing", FACETS.index(facet) + 1, len(FACETS))
            for pk, p, h in rows:
                old = self.records.get(pk)
                if old is not None and old.profile.id != p.id:
                    self.pk_by_id.pop(old.profile.id, None)
                self.records[pk] = Record(pk, p, h, org_key(p.website))
                self.pk_by_id[p.id] = pk
            for text in {t for _, p, _ in rows for t in item_texts(p)}:
                self._items.put(text_hash(text), vectors[text_hash(text)])
            self._changed()
        return encoded

    def remove(self, pks: Iterable[int]) -> None:
        with self.write_lock:
            pks = list(pks)
            for facet in FACETS:
                self.indexes[facet].remove(pks)
            for pk in pks:
                rec = self.records.pop(pk, None)
                if rec is not None:
                    self.pk_by_id.pop(rec.profile.id, None)
            self._changed()

    def _changed(self) -> None:
        self._version += 1
        self._filter_cache.clear()
        self.dirty = True

    # ------------------------------------------------------------------ persistence

    def save(self) -> Path:
        """Write all facet indexes and the state file as a new generation directory, then
        point CURRENT at it atomically; older generations are removed afterwards."""
        with self.write_lock:
            self.index_dir.mkdir(parents=True, exist_ok=True)
            gen = self.index_dir / f"gen-{time.time_ns()}"
            tmp = gen.with_name(gen.name + ".tmp")
            tmp.mkdir()
            for facet, index in self.indexes.items():
                index.save(tmp / facet)
            state = {
                "model_id": self.encoder.model_id,
                "dim": self.encoder.dim,
                "hashes": {str(pk): r.content_hash for pk, r in self.records.items()},
            }
            state_path = tmp / STATE_FILE
            state_path.write_text(json.dumps(state))
            with open(state_path, "rb") as fh:
                os.fsync(fh.fileno())
            tmp.rename(gen)
            pointer = self.index_dir / (CURRENT_FILE + ".tmp")
            pointer.write_text(gen.name)
            with open(pointer, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(pointer, self.index_dir / CURRENT_FILE)
            for old in self.index_dir.glob("gen-*"):
                if old.name != gen.name:
                    shutil.rmtree(old, ignore_errors=True)
            self.dirty = False
            return gen

    def _load_saved(self) -> dict[int, str]:
        """Load the current generation; returns its pk -> content hash state. An absent,
        corrupt or mismatched index yields {} (everything is rebuilt from the database)."""
        pointer = self.index_dir / CURRENT_FILE
        if not pointer.exists():
            return {}
        gen = self.index_dir / pointer.read_text().strip()
        try:
            state = json.loads((gen / STATE_FILE).read_text())
            if (
                state.get("model_id") != self.encoder.model_id
                or state.get("dim") != self.encoder.dim
            ):
                raise IndexMismatchError("index was built with another model")
            indexes = {
                f: VectorIndex.load(
                    gen / f,
                    model_id=self.encoder.model_id,
                    dim=self.encoder.dim,
                    hnsw_threshold=self.hnsw_threshold,
                )
                for f in FACETS
            }
        except (OSError, ValueError, IndexMismatchError) as exc:
            log.warning("saved index not usable, rebuilding from the database: %s", exc)
            return {}
        self.indexes = indexes
        return {int(pk): h for pk, h in state["hashes"].items()}

    def _db_rows(self, session: Session, pks: Sequence[int] | None = None) -> Iterator[ProfileRow]:
        stmt = select(ProfileRow).order_by(ProfileRow.pk)
        if pks is not None:
            for start in range(0, len(pks), 500):
                yield from session.scalars(stmt.where(ProfileRow.pk.in_(pks[start : start + 500])))
            return
        yield from session.scalars(stmt.execution_options(yield_per=2000))

    def reconcile(
        self, progress: Progress | None = None, *, rebuild: bool = False
    ) -> dict[str, int]:
        """Bring the indexes in step with the database (startup, and `index rebuild`)."""
        with self.write_lock:
            self.ready = False
            saved = {} if rebuild else self._load_saved()
            if not saved:
                self.indexes = self._empty_indexes()
            self.records.clear()
            self.pk_by_id.clear()
            stale: list[tuple[int, Profile, str]] = []
            with self.sessions() as session:
                in_db: set[int] = set()
                for row in self._db_rows(session):
                    in_db.add(row.pk)
                    profile = Profile.model_validate(row.data)
                    if saved.get(row.pk) == row.content_hash and row.pk in self.indexes["all"]:
                        self.records[row.pk] = Record(
                            row.pk, profile, row.content_hash, org_key(profile.website)
                        )
                        self.pk_by_id[profile.id] = row.pk
                    else:
                        stale.append((row.pk, profile, row.content_hash))
            gone = [pk for pk in saved if pk not in in_db]
            if gone:
                for facet in FACETS:
                    self.indexes[facet].remove(gone)
            encoded = self.ingest(stale, progress) if stale else 0
            if stale or gone or rebuild or not saved:
                self.save()
            self._changed()
            self.dirty = False
            self.ready = True
            summary = {
                "profiles": len(self.records),
                "reindexed": len(stale),
                "removed": len(gone),
                "encoded": encoded,
            }
            log.info("index reconciled", extra={"event": "reconcile", **summary})
            return summary

    # ------------------------------------------------------------------ queries

    def allowed(
        self,
        kinds: frozenset[str] | None,
        countries: frozenset[str] | None,
        not_country: str | None = None,
    ) -> np.ndarray | None:
        """Ids passing the filters (None: no filter). Cached until the catalogue changes."""
        if kinds is None and countries is None and not_country is None:
            return None
        key = (kinds, countries, not_country, self._version)
        hit = self._filter_cache.get(key)
        if hit is not None:
            return hit
        ids = [
            pk
            for pk, r in self.records.items()
            if (kinds is None or r.profile.kind in kinds)
            and (countries is None or r.profile.country in countries)
            and (not_country is None or r.profile.country != not_country)
        ]
        out = np.asarray(ids, dtype=np.int64)
        if len(self._filter_cache) > 256:
            self._filter_cache.clear()
        self._filter_cache[key] = out
        return out

    def _exclusions(self, query: Record | None) -> set[int]:
        if query is None:
            return set()
        out = {query.pk}
        if query.org:
            out |= {pk for pk, r in self.records.items() if r.org == query.org}
        return out

    def _item_vectors(self, items: Sequence[str]) -> np.ndarray | None:
        if not items:
            return None
        hashes = [text_hash(t) for t in items]
        missing = [h for h in hashes if self._items.get(h) is None]
        if missing:
            for h, v in self.cache.get_many(self.encoder.model_id, missing).items():
                self._items.put(h, v)
        still = [t for t, h in zip(items, hashes, strict=True) if self._items.get(h) is None]
        if still:  # e.g. a free-text query's items: encode now
            for t, v in zip(still, self.encoder.encode(still), strict=True):
                self._items.put(text_hash(t), v)
        return np.vstack([self._items.get(h) for h in hashes])  # type: ignore[misc]

    def rank(
        self,
        query: Party,
        query_record: Record | None,
        purpose: Purpose,
        *,
        kinds: Sequence[str] | None = None,
        countries: Sequence[str] | None = None,
        k: int = 10,
        lang: Lang = "en",
        query_items: tuple[Sequence[str], Sequence[str]] = ((), ()),
    ) -> list[Match]:
        """Candidates from the three facet indexes (overall similarity, query needs against
        candidate offers, query offers against candidate needs), then two-sided scoring and
        explanations. `query_items` = (offers, needs) of the query, for reasons."""
        allowed_kinds = candidate_kinds(purpose, kinds)
        if allowed_kinds is not None and not allowed_kinds:
            return []
        not_country = query.country if purpose == "overseas" else None
        allowed = self.allowed(
            allowed_kinds, frozenset(countries) if countries else None, not_country
        )
        if allowed is not None and allowed.size == 0:
            return []
        exclude = self._exclusions(query_record)
        n = min(max(5 * k, 50), 500)
        pool: set[int] = set()
        for facet, vec in (("all", query.all), ("offers", query.needs), ("needs", query.offers)):
            if vec is None or len(self.indexes[facet]) == 0:  # type: ignore[index]
                continue
            hits = self.indexes[facet].search(vec, n, allowed=allowed, exclude=exclude)  # type: ignore[index]
            pool.update(pk for pk, _ in hits[0])
        candidates = []
        for pk in pool:
            rec = self.records.get(pk)
            if rec is not None:
                candidates.append(rec.party(self.vectors(pk)))
        ranked = rank(query, candidates, purpose, k)
        q_offers, q_needs = query_items
        q_offer_vecs = self._item_vectors(q_offers)
        q_need_vecs = self._item_vectors(q_needs)
        by_key = {c.key: c for c in candidates}
        out: list[Match] = []
        for s in ranked:
            rec = self.records[s.key]
            c = by_key[s.key]
            no: ItemMatch | None = best_item_match(
                q_needs, q_need_vecs, rec.profile.offers, self._item_vectors(rec.profile.offers)
            )
            on = best_item_match(
                q_offers, q_offer_vecs, rec.profile.needs, self._item_vectors(rec.profile.needs)
            )
            reasons = explain(
                query, c, s.features, purpose, need_offer=no, offer_need=on, lang=lang
            )
            out.append(Match(rec, s, reasons))
        return out

    def matches_for(
        self,
        record: Record,
        purpose: Purpose,
        *,
        kinds: Sequence[str] | None = None,
        countries: Sequence[str] | None = None,
        k: int = 10,
        lang: Lang = "en",
    ) -> list[Match]:
        query = record.party(self.vectors(record.pk))
        return self.rank(
            query,
            record,
            purpose,
            kinds=kinds,
            countries=countries,
            k=k,
            lang=lang,
            query_items=(record.profile.offers, record.profile.needs),
        )

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
    ) -> list[Match]:
        """Free text in any language, read as what the searcher looks for (and, for buyer
        searches, what they offer)."""
        vec = self.encoder.encode([text])[0]
        self.encoded_total += 1
        query = Party(
            key=-1,
            kind="other",
            country=country,
            all=vec,
            needs=vec,
            offers=vec if purpose == "buyer" else None,
        )
        items = ([text], [text]) if purpose == "buyer" else ((), [text])
        return self.rank(
            query,
            None,
            purpose,
            kinds=kinds,
            countries=countries,
            k=k,
            lang=lang,
            query_items=items,
        )
