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

import contextlib
import fcntl
import gc
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
from scipy import sparse
from sqlalchemy import Insert, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from indexing.embedding import EmbeddingCache, embed_texts
from indexing.vector_index import IndexMismatchError, VectorIndex
from models.encoders import Encoder
from models.graph import Edge, InteractionGraph
from models.lexical import LexicalIndex, script
from models.lines import LINES_MAX, LineIndex, profile_segments, segments
from models.matching import (
    REASON_FEATURES,
    Candidates,
    Lang,
    Party,
    Purpose,
    Reason,
    Scored,
    best_item_match,
    candidate_kinds,
    explain,
    features,
    network_reasons,
)
from models.profile import FACETS, KINDS, Facet, Profile, facet_texts, overall_text, text_hash
from models.ranking import (
    FEATURES,
    Reranker,
    diversify,
    feature_matrix,
    hand_score,
    purpose_scores,
    reciprocal_ranks,
)
from models.topn import top_n
from service.store.tables import EmbeddingRow, InteractionRow, ProfileRow
from service.sync import latest_seq
from service.sync import prune as prune_changes

log = logging.getLogger("clustermatch.engine")

Progress = Callable[[str, int, int], None]
"""Called with (phase, done, total)."""

STATE_FILE = "state.json"
CURRENT_FILE = "CURRENT"
LEXICAL_FILE = "lexical.pkl"
RERANKER_FILE = "reranker.bin"
NATIVE_DIR = "native"  # the re-ranker's compiled object files (models.native)
SAVE_LOCK_FILE = ".save.lock"
KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}


SETTLE_AFTER_ROWS = 1_000


def settle_heap() -> None:
    """Move everything allocated so far (the catalogue: millions of objects at 100k
    profiles) out of the garbage collector's reach. A full collection walks every tracked
    object - 0.9 s at 100k profiles, a stall of every request in flight; frozen objects
    are still freed by reference counting when dropped, only cycles among them are not."""
    gc.collect()
    gc.freeze()


def _best(scores: np.ndarray, mask: np.ndarray, n: int) -> list[int]:
    """The (up to) n keys with the highest positive score where the mask holds, best
    first, ties by key."""
    # The network's and the votes' scores are mostly 0 at 100k nodes: select among the
    # positive allowed ones, not over the whole vector.
    cand = np.flatnonzero(scores > 0)
    cand = cand[mask[cand]]
    if cand.size > n:
        cand = cand[top_n(scores[cand], n)]
    return cand[np.lexsort((cand, -scores[cand]))].tolist()


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

    def has_many(self, model_id: str, hashes: Iterable[str]) -> set[str]:
        """Which of these are cached (reads the keys only, not the vectors)."""
        with self._sessions() as session:
            return self._present(session, model_id, list(hashes))

    @staticmethod
    def _present(session: Session, model_id: str, hashes: list[str]) -> set[str]:
        present: set[str] = set()
        for start in range(0, len(hashes), 500):
            present.update(
                session.scalars(
                    select(EmbeddingRow.text_hash).where(
                        EmbeddingRow.model_id == model_id,
                        EmbeddingRow.text_hash.in_(hashes[start : start + 500]),
                    )
                )
            )
        return present

    def put_many(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
        if not vectors:
            return
        with self._sessions() as session, session.begin():
            present = self._present(session, model_id, list(vectors))
            rows = [
                {
                    "model_id": model_id,
                    "text_hash": h,
                    "dim": int(v.shape[0]),
                    "vector": np.asarray(v, dtype=np.float32).tobytes(),
                }
                for h, v in vectors.items()
                if h not in present
            ]
            if rows:
                session.execute(
                    _insert_new(session, EmbeddingRow.metadata.tables["embeddings"]), rows
                )


def _insert_new(session: Session, table: Table) -> Insert:
    """An INSERT that skips rows whose key is already there: another process sharing the
    database (a second worker, the CLI) may write the same vector between the check and
    the insert; the vector is the same, so theirs stands (a UNIQUE violation was a 500)."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    if name == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing()
    return insert(table)


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
class Match:
    record: Record
    scored: Scored
    reasons: list[Reason]


@dataclass
class Pool:
    """Candidates of one query with what each source said about them."""

    keys: np.ndarray
    lexical: np.ndarray
    dense_rr: dict[int, float]
    lexical_rr: dict[int, float]
    walk: np.ndarray | None
    pseudo: np.ndarray | None
    line_lexical: np.ndarray | None = None  # LineIndex votes per node (models.lines)
    line_dense: np.ndarray | None = None
    lines: bool = True  # line votes on for this catalogue (Engine.lines_on)
    # each key's record as the pool saw it: a profile removed by another thread meanwhile
    # (the change feed) is still answered in this request, from this record
    records: list[Record] = field(default_factory=list)


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


def item_texts(p: Profile) -> list[str]:
    return [*p.offers, *p.needs]


def _segment_hashes(p: Profile) -> set[int]:
    """The profile's distinct segments (models.lines), as in-process hashes: what the
    line-vote gate counts (a 64-bit collision miscounts one segment, harmlessly)."""
    return {hash(s) for s in profile_segments(p.description, p.offers, p.needs)}


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
        native_ranker: bool = False,
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
        self.lexical = LexicalIndex()
        self.graph: InteractionGraph | None = None
        self.edges: list[Edge] = []
        self.kind_lift: np.ndarray | None = None
        self.country_lift: np.ndarray | None = None
        self.reranker: Reranker | None = None
        # Compile each re-ranker put in use to native code (models.native) in the background.
        self.native_ranker = native_ranker
        # why hand weights are in use although a re-ranker was saved (an upgrade changed
        # the features, another embedding model): shown by GET /v1/ranker
        self.ranker_note: str | None = None
        # Candidates per source: enough that the re-ranker sees the true partners (measured
        # on the CORDIS benchmark: pool recall grows with it), few enough for p99 latency.
        self.pool_factor = 5
        self.pool_min = 60
        self._by_org: dict[str, set[int]] = {}
        # Segment-level index (models.lines), rebuilt when the catalogue changed; `line_k`
        # most similar segments vote for the profiles that list them. Only while the
        # catalogue has at most `lines_max` distinct segments (models.lines.LINES_MAX),
        # counted as profiles come and go: live profiles listing each segment, by hash.
        self._lines: LineIndex | None = None
        self._lines_version = -1
        self.line_k = 100
        self.lines_max = LINES_MAX
        self._segment_refs: dict[int, int] = {}
        # kind / country code per key (-1: no live record) so filters are array operations
        self._columns: tuple[np.ndarray, np.ndarray] = (
            np.zeros(0, dtype=np.int16),
            np.zeros(0, dtype=np.int16),
        )
        self._country_codes: dict[str, int] = {}
        self._lexical_fitted_on = 0
        self._version = 0
        self._filter_cache: dict[tuple[object, ...], np.ndarray] = {}
        self._loading = False  # inside reconcile (see _warm_lines)
        self._lines_encoded = 0  # segments the last segment-index build encoded
        self._shared_facets: frozenset[str] = frozenset()  # indexes a fork shares (`fork`)
        # Position in the change feed (service.sync): everything up to sync_seq is applied;
        # the network and re-ranker reflect every history change up to history_seq.
        self.sync_seq = 0
        self.history_seq = 0
        self.sync_pause_until = 0.0  # time.monotonic() before which the feed is not read

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
                    self.indexes[facet].remove(drop)
                if ids:
                    self.indexes[facet].upsert(np.asarray(ids, dtype=np.int64), np.vstack(mats))
                if progress is not None:
                    progress("indexing", FACETS.index(facet) + 1, len(FACETS))
            for pk, p, h in rows:
                self._drop_record(pk)
                self._put_record(Record(pk, p, h, org_key(p.website)))
            for text in {t for _, p, _ in rows for t in item_texts(p)}:
                self._items.put(text_hash(text), vectors[text_hash(text)])
            if self.lexical.fitted and len(self.records) <= 2 * self._lexical_fitted_on:
                self.lexical.upsert(
                    [pk for pk, _, _ in rows], [overall_text(p) for _, p, _ in rows]
                )
            else:  # first profiles, or the corpus doubled: a vocabulary for what is there now
                self.refit_lexical(warm=False)
            self._changed()
            encoded += self._warm_lines()
        if len(rows) >= SETTLE_AFTER_ROWS:
            settle_heap()
        return encoded

    def fork(self, facets: Iterable[Facet]) -> Engine:
        """A copy of the catalogue to change without touching this engine (the training
        world of service.offline.learning): the indexes of `facets` and the lexical index are
        copied, the other facet indexes shared (the fork refuses to write to them), the
        records and lookups copied; no network, re-ranker, caches or saving. At 100k
        profiles: one index copy (~0.25 GB) instead of a second catalogue built anew."""
        copied = set(facets)
        world = Engine(
            self.encoder,
            self.sessions,
            self.index_dir / "fork",  # never saved
            hnsw_threshold=self.hnsw_threshold,
            batch_size=self.batch_size,
            cache=self.cache,
        )
        with self.write_lock:
            world.indexes = {
                f: self.indexes[f].copy() if f in copied else self.indexes[f] for f in FACETS
            }
            world._shared_facets = frozenset(FACETS) - copied
            world.records = dict(self.records)
            world.pk_by_id = dict(self.pk_by_id)
            world._by_org = {org: set(pks) for org, pks in self._by_org.items()}
            world._segment_refs = dict(self._segment_refs)
            world._columns = (self._columns[0].copy(), self._columns[1].copy())
            world._country_codes = dict(self._country_codes)
            world.lexical = self.lexical.copy()
            world._lexical_fitted_on = self._lexical_fitted_on
        world.pool_factor, world.pool_min = self.pool_factor, self.pool_min
        world.line_k, world.lines_max = self.line_k, self.lines_max
        world.ready = True
        return world

    def uncached(self, rows: Sequence[tuple[int, Profile, str]]) -> set[int]:
        """Keys of the profiles some of whose texts have no vector in the cache yet."""
        hashes = {pk: [text_hash(t) for t in profile_texts(p)] for pk, p, _ in rows}
        wanted = {h for hs in hashes.values() for h in hs}
        have = self.cache.has_many(self.encoder.model_id, wanted) if wanted else set()
        return {pk for pk, hs in hashes.items() if not have.issuperset(hs)}

    def _put_record(self, rec: Record) -> None:
        self.records[rec.pk] = rec
        refs = self._segment_refs
        for h in _segment_hashes(rec.profile):
            refs[h] = refs.get(h, 0) + 1
        self.pk_by_id[rec.profile.id] = rec.pk
        if rec.org:
            self._by_org.setdefault(rec.org, set()).add(rec.pk)
        kind_arr, country_arr = self._columns
        if rec.pk >= len(kind_arr):
            size = max(rec.pk + 1, 2 * len(kind_arr), 1024)
            kind_arr = np.concatenate([kind_arr, np.full(size - len(kind_arr), -1, np.int16)])
            country_arr = np.concatenate(
                [country_arr, np.full(size - len(country_arr), -1, np.int16)]
            )
            self._columns = (kind_arr, country_arr)
        kind_arr[rec.pk] = KIND_CODE[rec.profile.kind]
        country_arr[rec.pk] = self._country_code(rec.profile.country)

    def _drop_record(self, pk: int) -> None:
        rec = self.records.pop(pk, None)
        if rec is None:
            return
        refs = self._segment_refs
        for h in _segment_hashes(rec.profile):
            left = refs.get(h, 0) - 1
            if left > 0:
                refs[h] = left
            else:
                refs.pop(h, None)
        self.pk_by_id.pop(rec.profile.id, None)
        if rec.org and rec.org in self._by_org:
            self._by_org[rec.org].discard(pk)
        self._columns[0][pk] = -1
        self._columns[1][pk] = -1

    def _country_code(self, country: str | None) -> int:
        if country is None:
            return -2  # no country: never equal to a filter's code
        return self._country_codes.setdefault(country, len(self._country_codes))

    def remove(self, pks: Iterable[int]) -> None:
        with self.write_lock:
            pks = list(pks)
            for facet in FACETS:
                self.indexes[facet].remove(pks)
            self.lexical.remove(pks)
            for pk in pks:
                self._drop_record(pk)
            self._changed()
            self._warm_lines()

    def _changed(self) -> None:
        self._version += 1
        self._filter_cache.clear()
        self.dirty = True

    def _warm_lines(self) -> int:
        """Rebuild the segment index (when line votes are on) in the writer, after its
        change, not in the next request (1.2 s for the demo corpus's 1,330 segments on
        first use); skipped inside a reconcile, which builds it once at its end. Returns
        how many segments had to be encoded."""
        if self._loading:
            return 0
        before = self._lines
        self.line_index()
        return self._lines_encoded if self._lines is not before else 0

    # ------------------------------------------------------------------ persistence

    def save(self) -> Path:
        """Write all facet indexes and the state file as a new generation directory, then
        point CURRENT at it atomically; older generations are removed afterwards."""
        with self.write_lock, self._save_lock():
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
            self.lexical.save(tmp / LEXICAL_FILE)
            state_path = tmp / STATE_FILE
            state_path.write_text(json.dumps(state))
            with open(state_path, "rb") as fh:
                os.fsync(fh.fileno())
            tmp.rename(gen)
            pointer = self.index_dir / f"{CURRENT_FILE}.{os.getpid()}.tmp"
            pointer.write_text(gen.name)
            with open(pointer, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(pointer, self.index_dir / CURRENT_FILE)
            for old in self.index_dir.glob("gen-*"):
                if old.name != gen.name:
                    shutil.rmtree(old, ignore_errors=True)
            self.dirty = False
            return gen

    @contextlib.contextmanager
    def _save_lock(self) -> Iterator[None]:
        """Server processes sharing a data directory (`serve --workers N`) save one at a
        time: none removes a generation another is writing or pointing CURRENT at."""
        self.index_dir.mkdir(parents=True, exist_ok=True)
        with open(self.index_dir / SAVE_LOCK_FILE, "a+") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def _load_saved(self) -> dict[int, str]:
        """Load the current generation; returns its pk -> content hash state. An absent,
        corrupt or mismatched index yields {} (everything is rebuilt from the database).
        Holds the save lock: another process must not replace the generation mid-read."""
        with self._save_lock():
            return self._read_generation()

    def _read_generation(self) -> dict[int, str]:
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
        try:
            self.lexical = LexicalIndex.load(gen / LEXICAL_FILE)
            self._lexical_fitted_on = len(self.lexical)
        except (OSError, ValueError) as exc:
            log.warning("saved lexical index not usable, refitting: %s", exc)
            self.lexical = LexicalIndex()
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
            self._loading = True
            try:
                return self._reconcile(progress, rebuild=rebuild)
            finally:
                self._loading = False

    def _reconcile(self, progress: Progress | None, *, rebuild: bool) -> dict[str, int]:
        with self.write_lock:
            with self.sessions() as session, session.begin():
                prune_changes(session)
                feed_at = latest_seq(session)  # changes after this are caught up later
            saved = {} if rebuild else self._load_saved()
            if not saved:
                self.indexes = self._empty_indexes()
            self.records.clear()
            self._segment_refs.clear()
            self.pk_by_id.clear()
            self._by_org.clear()
            self._columns[0][:] = -1
            self._columns[1][:] = -1
            stale: list[tuple[int, Profile, str]] = []
            with self.sessions() as session:
                in_db: set[int] = set()
                for row in self._db_rows(session):
                    in_db.add(row.pk)
                    profile = Profile.model_validate(row.data)
                    if saved.get(row.pk) == row.content_hash and row.pk in self.indexes["all"]:
                        self._put_record(
                            Record(row.pk, profile, row.content_hash, org_key(profile.website))
                        )
                    else:
                        stale.append((row.pk, profile, row.content_hash))
            gone = [pk for pk in saved if pk not in in_db]
            if gone:
                for facet in FACETS:
                    self.indexes[facet].remove(gone)
                self.lexical.remove(gone)
            refit = not self.lexical.fitted or rebuild or len(stale) > 0.2 * max(1, len(in_db))
            encoded = self.ingest(stale, progress) if stale else 0
            if refit and self._lexical_fitted_on != len(self.records):
                self.refit_lexical()
            self.load_history()
            if stale or gone or rebuild or not saved or refit:
                self.save()
            self._changed()
            self._loading = False
            self.line_index()  # (built here once, not on the first request)
            warmed = self._warm_items()
            self.dirty = False
            self.sync_seq = feed_at
            settle_heap()
            self.ready = True
            summary = {
                "profiles": len(self.records),
                "reindexed": len(stale),
                "removed": len(gone),
                "encoded": encoded,
            }
            log.info(
                "index reconciled",
                extra={"event": "reconcile", **summary, "items_cached": warmed},
            )
            return summary

    def _warm_items(self) -> int:
        """Fill the item-vector LRU that explanations read from the embedding cache: the
        catalogue's offers and needs, most often listed first, up to its capacity. A
        restarted process otherwise read the database for ~60 % of its first few hundred
        requests (1.1 ms each; 100k synthetic profiles, 2,958 distinct items)."""
        counts: dict[str, int] = {}
        for rec in self.records.values():
            for t in item_texts(rec.profile):
                counts[t] = counts.get(t, 0) + 1
        wanted = sorted(counts, key=lambda t: -counts[t])[: self._items.capacity]
        return len(self._load_items(wanted))

    def refit_lexical(self, *, warm: bool = True) -> None:
        """Rebuild the TF-IDF vocabulary and rows from all indexed profiles (`warm`: and
        the segment index, unless the caller does it after more changes)."""
        with self.write_lock:
            keys = list(self.records)
            self.lexical.fit(keys, [overall_text(self.records[pk].profile) for pk in keys])
            self._lexical_fitted_on = len(keys)
            self._changed()
            if warm:
                self._warm_lines()

    def load_history(self) -> None:
        """Build the interaction network from the database, and load the trained re-ranker
        if one was saved for this model."""
        with self.sessions() as session:
            feed_at = latest_seq(session)  # what this read reflects, at least
            rows = session.execute(
                select(
                    InteractionRow.a,
                    InteractionRow.b,
                    InteractionRow.kind,
                    InteractionRow.context,
                    InteractionRow.at,
                )
            ).all()
        edges = [
            Edge(self.pk_by_id[a], self.pk_by_id[b], kind, context, at)
            for a, b, kind, context, at in rows
            if a in self.pk_by_id and b in self.pk_by_id
        ]
        self.edges = edges
        self.history_seq = max(self.history_seq, feed_at)
        self.set_graph(self.graph_from(edges))
        # The model in use is swapped in one step: a request meanwhile gets the old one
        # or the new one, never the hand weights of a half-done reload.
        path = self.index_dir / RERANKER_FILE
        reranker: Reranker | None = None
        note: str | None = None
        if path.exists():
            try:
                model = Reranker.load(path)
            except (OSError, ValueError) as exc:
                note = f"the saved re-ranker is not usable ({exc}); retrain it"
                log.warning("saved re-ranker not usable, using hand weights: %s", exc)
            else:
                if model.meta.get("model_id") != self.encoder.model_id:
                    note = "the saved re-ranker was trained for another model"
                elif self.reranker is not None and self.reranker.digest == model.digest:
                    reranker = self.reranker  # the file this process saved (or loaded)
                else:
                    reranker = model
                    self._compile_ranker(model)
        self.reranker, self.ranker_note = reranker, note

    def graph_from(self, edges: Sequence[Edge]) -> InteractionGraph:
        n = max([0, *self.records]) + 1
        return InteractionGraph(n, edges)

    def set_graph(self, graph: InteractionGraph) -> None:
        with self.write_lock:
            self.graph = graph
            # the kind / country code of every node (-1: no live record), from the columns
            kinds, countries = (np.full(graph.n, -1, dtype=np.int64) for _ in range(2))
            for codes, column in zip((kinds, countries), self._columns, strict=True):
                known = column[: graph.n]
                codes[: known.size] = known
            n_countries = len(self._country_codes)
            self.kind_lift = graph.kind_lift(kinds, len(KINDS)) if graph.edges else None
            self.country_lift = (
                graph.kind_lift(countries, n_countries) if graph.edges and n_countries else None
            )

    def set_reranker(self, model: Reranker | None) -> None:
        self.ranker_note = None
        path = self.index_dir / RERANKER_FILE
        if model is None:
            path.unlink(missing_ok=True)
        else:
            model.meta["model_id"] = self.encoder.model_id
            model.save(path)
        self.reranker = model
        if model is not None:
            self._compile_ranker(model)

    def _compile_ranker(self, model: Reranker) -> None:
        """With `native_ranker`: compile the model in the background (a few seconds per
        booster, or a load from the cache beside the index); it scores through LightGBM
        until then, and on if compiling fails (the same scores either way)."""
        if not self.native_ranker:
            return

        def work() -> None:
            started = time.perf_counter()
            done = model.compile(self.index_dir / NATIVE_DIR)
            log.info(
                "re-ranker %s",
                "compiled" if done else "not compiled (LightGBM scores it)",
                extra={
                    "event": "ranker_compiled",
                    "native": done,
                    "took_s": round(time.perf_counter() - started, 2),
                },
            )

        threading.Thread(target=work, name="compile-ranker", daemon=True).start()

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
        kind_arr, country_arr = self._columns
        mask = kind_arr >= 0  # live records
        if kinds is not None:
            mask &= np.isin(kind_arr, [KIND_CODE[k] for k in kinds if k in KIND_CODE])
        if countries is not None:
            mask &= np.isin(country_arr, [self._country_code(c) for c in countries])
        if not_country is not None:
            mask &= country_arr != self._country_code(not_country)
        out = np.flatnonzero(mask).astype(np.int64)
        if len(self._filter_cache) > 256:
            self._filter_cache.clear()
        self._filter_cache[key] = out
        return out

    def _exclusions(self, query: Record | None) -> set[int]:
        if query is None:
            return set()
        return {query.pk, *self._by_org.get(query.org or "", ())}

    def _load_items(self, items: Sequence[str]) -> dict[str, np.ndarray]:
        """The vectors of these item texts, by text, through the LRU (one cache read for
        all of them; texts never seen, e.g. a free-text query's, are encoded)."""
        hashes = {t: text_hash(t) for t in items}
        out: dict[str, np.ndarray] = {}
        missing: dict[str, str] = {}
        for t, h in hashes.items():
            v = self._items.get(h)
            if v is None:
                missing[h] = t
            else:
                out[t] = v
        if missing:
            for h, v in self.cache.get_many(self.encoder.model_id, list(missing)).items():
                self._items.put(h, v)
                out[missing.pop(h)] = v
        if missing:
            still = list(missing.values())
            for t, v in zip(still, self.encoder.encode(still), strict=True):
                self._items.put(hashes[t], v)
                out[t] = v
        return out

    def _item_vectors(
        self, items: Sequence[str], table: Mapping[str, np.ndarray] | None = None
    ) -> np.ndarray | None:
        """The vectors of these items as rows (from `table` when the caller loaded them)."""
        if not items:
            return None
        table = table if table is not None else self._load_items(items)
        return np.vstack([table[t] for t in items])

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
        query_text: str | None = None,
        graph: InteractionGraph | None = None,
        explain_results: bool = True,
        within: np.ndarray | None = None,
        diversity: float = 0.0,
    ) -> list[Match]:
        """The ranking the API and the evaluation share: candidates from every source,
        features, the learned (or hand-weighted) score, then reasons for the top k.
        `graph` overrides the interaction network (training replays history without the
        held-out interactions)."""
        found = self.candidate_features(
            query,
            query_record,
            purpose,
            kinds=kinds,
            countries=countries,
            k=k,
            query_text=query_text,
            graph=graph,
            within=within,
        )
        if found is None:
            return []
        candidates, x, pool, graph = found
        if not len(candidates):
            return []
        learned = self.reranker is not None and purpose != "buyer"
        if learned:
            assert self.reranker is not None
            scores = self.reranker.score(x, text=query_record is None)
        else:
            scores = purpose_scores(query, candidates, x, purpose) + 0.25 * hand_score(x)
        model_scores = scores
        if diversity > 0:
            scores = diversify(scores, x[:, FEATURES.index("log_activity")], diversity)
        order = np.lexsort((pool.keys, -scores))[:k]
        out: list[Match] = []
        contrib = (
            self.reranker.contributions(
                x[order],
                model_scores[order],
                names=REASON_FEATURES.values(),
                text=query_record is None,
            )
            if learned and explain_results and self.reranker is not None
            else None
        )
        recs = pool.records
        if explain_results:
            # one cache read for every item the reasons will compare, not one per result
            q_offers, q_needs = query_items
            table = self._load_items(
                [
                    *q_offers,
                    *q_needs,
                    *(t for i in order for t in recs[i].profile.offers),
                    *(t for i in order for t in recs[i].profile.needs),
                ]
            )
            query_vectors = (
                self._item_vectors(q_offers, table),
                self._item_vectors(q_needs, table),
            )
        for rank_i, i in enumerate(order):
            c = candidates.party(int(i))
            f = features(query, c, purpose)
            # (a list of floats: numpy scalars and np.isnan cost a microsecond each here)
            f.update({name: v for name, v in zip(FEATURES, x[i].tolist(), strict=True) if v == v})
            scored = Scored(c.key, float(scores[i]), f)
            reasons: list[Reason] = []
            if explain_results:
                reasons = self._reasons(
                    query,
                    query_record,
                    c,
                    recs[i],
                    f,
                    purpose,
                    query_items,
                    query_vectors,
                    table,
                    lang,
                    graph,
                    None if contrib is None else contrib[rank_i],
                )
            out.append(Match(recs[i], scored, reasons))
        return out

    def candidate_features(
        self,
        query: Party,
        query_record: Record | None,
        purpose: Purpose,
        *,
        kinds: Sequence[str] | None = None,
        countries: Sequence[str] | None = None,
        k: int = 10,
        query_text: str | None = None,
        graph: InteractionGraph | None = None,
        within: np.ndarray | None = None,
    ) -> tuple[Candidates, np.ndarray, Pool, InteractionGraph | None] | None:
        """The candidate pool of a query and its feature matrix (None: the filters leave
        no candidate). `within` restricts candidates to these keys (an event's attendees)."""
        allowed_kinds = candidate_kinds(purpose, kinds)
        if allowed_kinds is not None and not allowed_kinds:
            return None
        not_country = query.country if purpose == "overseas" else None
        allowed = self.allowed(
            allowed_kinds, frozenset(countries) if countries else None, not_country
        )
        if within is not None:
            allowed = within if allowed is None else np.intersect1d(allowed, within)
        if allowed is not None and allowed.size == 0:
            return None
        exclude = self._exclusions(query_record)
        graph = graph if graph is not None else self.graph
        pool = self.pool(query, query_record, query_text, allowed, exclude, k, graph)
        candidates = self.candidates(pool)
        x = feature_matrix(
            query,
            candidates,
            lexical=pool.lexical,
            dense_rr=pool.dense_rr,
            lexical_rr=pool.lexical_rr,
            graph=graph,
            q_node=query_record.pk if query_record is not None else None,
            walk=pool.walk,
            pseudo=pool.pseudo,
            kind_lift=self.kind_lift if query_record is not None else None,
            kind_code=KIND_CODE,
            country_lift=self.country_lift if query_record is not None else None,
            country_code=self._country_codes,
            line_lexical=pool.line_lexical,
            line_dense=pool.line_dense,
            lines=pool.lines,
        )
        return candidates, x, pool, graph

    def candidates(self, pool: Pool) -> Candidates:
        """The columns feature computation reads, for the pool's candidates."""
        keys, recs = pool.keys, pool.records
        return Candidates.assemble(
            keys,
            [r.profile for r in recs],
            [r.script for r in recs],
            {f: self.indexes[f].matrix(keys) for f in FACETS},
        )

    def pool(
        self,
        query: Party,
        query_record: Record | None,
        query_text: str | None,
        allowed: np.ndarray | None,
        exclude: set[int],
        k: int,
        graph: InteractionGraph | None,
    ) -> Pool:
        """Candidates from every source: dense (overall text, needs vs offers, offers vs
        needs), lexical (character n-grams), the network (partners of partners, partners
        of look-alikes) and track record (the most active organizations)."""
        n = min(max(self.pool_factor * k, self.pool_min), 500)
        keys: dict[int, None] = {}
        dense_ranked: list[int] = []
        for facet, vec in (("all", query.all), ("offers", query.needs), ("needs", query.offers)):
            index = self.indexes[facet]  # type: ignore[index]
            if vec is None or len(index) == 0:
                continue
            # The overall text's list must be complete (its ranks are a feature); the
            # offers / needs lists only add candidates: when a filter leaves their walk
            # short (overseas: the query's neighbours share its country), what the walk
            # found is kept rather than paying a scan of most of the index.
            hits = index.search(
                vec, n, allowed=allowed, exclude=exclude, exhaustive=facet == "all"
            )[0]
            if facet == "all":
                dense_ranked = [pk for pk, _ in hits]
            keys.update((pk, None) for pk, _ in hits)
        lexical_ranked: list[int] = []
        q_lex = None
        if self.lexical.fitted:
            if query_record is not None and query_text is None:
                q_lex = self.lexical.row(query_record.pk)
            if q_lex is None:
                q_lex = self.lexical.transform([query_text or ""])
            hits_l = self.lexical.search(q_lex, n, allowed=allowed, exclude=exclude)
            lexical_ranked = [pk for pk, _ in hits_l]
            keys.update((pk, None) for pk in lexical_ranked)
        walk = pseudo = None
        if graph is not None and graph.edges:
            allowed_mask = self._mask(allowed, graph.n, exclude)
            seeds = {pk: 1.0 / (i + 1) for i, pk in enumerate(dense_ranked[:10])}
            pseudo = graph.spread(seeds)
            sources = [pseudo]
            if query_record is not None and graph.has(query_record.pk):
                nbrs, weights = graph.neighbors(query_record.pk)
                walk = graph.ppr({query_record.pk: 1.0})
                direct = np.zeros(graph.n, dtype=np.float32)
                direct[nbrs] = weights
                sources += [walk, direct]
            for vec in sources:
                keys.update((pk, None) for pk in _best(vec, allowed_mask, n))
            popular = [int(pk) for pk in graph.popular(n * 4) if allowed_mask[pk]][: n // 2]
            keys.update((pk, None) for pk in popular)
        lines_on = self.lines_on()
        line_lexical, line_dense = (
            self.line_votes(query, query_record, query_text) if lines_on else (None, None)
        )
        votes = [v for v in (line_lexical, line_dense) if v is not None]
        if votes:
            # participants of the most similar past items (projects, products)
            total = np.sum(votes, axis=0)
            keys.update(
                (pk, None) for pk in _best(total, self._mask(allowed, total.size, exclude), n)
            )
        records = self.records
        picked = [
            (pk, rec) for pk in keys if pk not in exclude and (rec := records.get(pk)) is not None
        ]
        ordered = np.asarray([pk for pk, _ in picked], dtype=np.int64)
        lexical = (
            self.lexical.similarity(q_lex, ordered)
            if q_lex is not None
            else np.zeros(len(ordered), dtype=np.float32)
        )
        return Pool(
            keys=ordered,
            lexical=lexical,
            dense_rr=reciprocal_ranks(dense_ranked),
            lexical_rr=reciprocal_ranks(lexical_ranked),
            walk=walk,
            pseudo=pseudo,
            line_lexical=line_lexical,
            line_dense=line_dense,
            lines=lines_on,
            records=[rec for _, rec in picked],
        )

    def line_segments(self) -> int:
        """How many distinct segments (models.lines) the live profiles list."""
        return len(self._segment_refs)

    def lines_on(self) -> bool:
        """Whether line votes are computed for this catalogue: at most `lines_max`
        distinct segments (models.lines.LINES_MAX; the vote's cost grows with them)."""
        return len(self._segment_refs) <= self.lines_max

    def line_index(self) -> LineIndex | None:
        """The segment index of the current catalogue (None before the lexical index is
        fitted, and while the gate `lines_on` is off: then nothing is built). Rebuilt after
        the catalogue changed (by the writer, `_warm_lines`): every distinct segment
        transformed with the lexical vocabulary and embedded (through the cache: a segment
        is encoded once per model, ever)."""
        if not self.lines_on():
            self._lines = None  # (a catalogue that grew past the gate frees its index)
            return None
        lines = self._lines
        if lines is not None and self._lines_version == self._version:
            return lines
        with self.write_lock:
            if self._lines is not None and self._lines_version == self._version:
                return self._lines
            if not self.lexical.fitted or not self.records:
                return None
            version = self._version
            by_key = {
                pk: profile_segments(r.profile.description, r.profile.offers, r.profile.needs)
                for pk, r in self.records.items()
            }
            distinct = list(dict.fromkeys(s for pk in sorted(by_key) for s in by_key[pk]))
            vectors, encoded = embed_texts(
                self.encoder, distinct, self.cache, batch_size=self.batch_size
            )
            self.encoded_total += encoded
            self._lines_encoded = encoded
            dense = (
                np.vstack([vectors[text_hash(t)] for t in distinct]).astype(np.float32)
                if distinct
                else None
            )
            lexical = self.lexical.transform(distinct) if distinct else None
            built = LineIndex.build(
                by_key,
                max(self.records) + 1,
                lexical=lexical,
                vectors=dense,
                lines=distinct,
            )
            self._lines, self._lines_version = built, version
            return built

    def line_votes(
        self,
        query: Party,
        query_record: Record | None,
        query_text: str | None,
    ) -> tuple[np.ndarray | None, np.ndarray | None]:
        """Per node, the lexical and the dense vote of the segments most like the query's
        own (models.lines): a free text's lines and sentences, or the query profile's."""
        lines = self.line_index()
        if lines is None or not len(lines):
            return None, None
        if query_text is not None:
            segs = segments(query_text)
        elif query_record is not None:
            p = query_record.profile
            segs = profile_segments(p.description, p.offers, p.needs)
        else:
            segs = []
        if not segs:
            return None, None
        known = [lines.id_of.get(s, -1) for s in segs]
        unknown = [s for s, i in zip(segs, known, strict=True) if i < 0]
        q_lex = None
        if lines.lexical is not None:
            ids = [i for i in known if i >= 0]
            parts = [lines.lexical[ids]] if ids else []
            if unknown and self.lexical.fitted:
                parts.append(self.lexical.transform(unknown))
            q_lex = sparse.vstack(parts).tocsr() if parts else None
        q_vec = None
        if lines.vectors is not None:
            vecs = [lines.vectors[i] for i in known if i >= 0]
            if unknown:
                whole = (query_text or "").strip()
                if len(unknown) == 1 and unknown[0] == whole and query.all is not None:
                    vecs.append(query.all)  # the text itself, already encoded
                else:
                    found = self._item_vectors(unknown)
                    if found is not None:
                        vecs.extend(found)
            q_vec = np.vstack(vecs) if vecs else None
        sim_lex, sim_dense = lines.similarities(q_lex, q_vec)
        return (
            lines.vote(sim_lex, k=self.line_k) if sim_lex is not None else None,
            lines.vote(sim_dense, k=self.line_k, power=3.0) if sim_dense is not None else None,
        )

    def _mask(self, allowed: np.ndarray | None, n: int, exclude: Iterable[int] = ()) -> np.ndarray:
        """Keys below n that may be candidates: allowed (None: every live record), not
        excluded."""
        mask = np.zeros(n, dtype=bool)
        if allowed is None:  # the live records (kind code -1: none), without a Python loop
            kinds = self._columns[0]
            m = min(n, kinds.size)
            mask[:m] = kinds[:m] >= 0
        else:
            mask[allowed[allowed < n]] = True
        for pk in exclude:
            if pk < n:
                mask[pk] = False
        return mask

    def _reasons(
        self,
        query: Party,
        query_record: Record | None,
        c: Party,
        rec: Record,
        f: dict[str, float],
        purpose: Purpose,
        query_items: tuple[Sequence[str], Sequence[str]],
        query_vectors: tuple[np.ndarray | None, np.ndarray | None],
        table: Mapping[str, np.ndarray],
        lang: Lang,
        graph: InteractionGraph | None,
        contrib: np.ndarray | None,
    ) -> list[Reason]:
        """Why candidate `c` suits the query; `table`: the vectors of the query's and the
        candidate's items, `query_vectors` those of the query's offers and needs."""
        q_offers, q_needs = query_items
        no = best_item_match(
            q_needs,
            query_vectors[1],
            rec.profile.offers,
            self._item_vectors(rec.profile.offers, table),
        )
        on = best_item_match(
            q_offers,
            query_vectors[0],
            rec.profile.needs,
            self._item_vectors(rec.profile.needs, table),
        )
        reasons = explain(query, c, f, purpose, need_offer=no, offer_need=on, lang=lang, limit=6)
        reasons += network_reasons(
            f,
            lang,
            shared=self._shared_partners(query_record, c.key, graph),
            contributions=None if contrib is None else dict(zip(FEATURES, contrib, strict=True)),
        )
        if contrib is not None:
            weight = dict(zip(FEATURES, contrib, strict=True))
            reasons = [
                Reason(
                    r.code,
                    r.text,
                    round(
                        float(weight.get(REASON_FEATURES.get(r.code, ""), 0.0)) + r.weight * 1e-3,
                        4,
                    ),
                    r.detail,
                )
                for r in reasons
            ]
        reasons.sort(key=lambda r: -r.weight)
        return reasons[:3]

    def _shared_partners(
        self, query_record: Record | None, pk: int, graph: InteractionGraph | None
    ) -> list[str]:
        if query_record is None or graph is None or not graph.has(query_record.pk):
            return []
        a, _ = graph.neighbors(query_record.pk)
        b, _ = graph.neighbors(pk)
        common = np.intersect1d(a, b)[:3]
        found = (self.records.get(int(x)) for x in common.tolist())
        return [rec.profile.name for rec in found if rec is not None]

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
            explain_results=explain_results,
            within=within,
            diversity=diversity,
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
        explain_results: bool = True,
        diversity: float = 0.0,
    ) -> list[Match]:
        """Free text in any language, read as what the searcher looks for (and, for buyer
        searches, what they offer)."""
        vec = self.encoder.encode([text])[0]
        self.encoded_total += 1
        query = Party.of_text(vec, purpose, script=script(text), country=country)
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
            query_text=text,
            explain_results=explain_results,
            diversity=diversity,
        )
