"""The engine's indexes on disk: generation directories under the index directory, and a
CURRENT file naming the one in use.

A save writes every facet index, the lexical index and the state file (the model, and
the content hash of every profile indexed) into a new generation directory, then points
CURRENT at it atomically; older generations are removed afterwards. At startup the
engine loads the current generation and re-indexes only what the database holds
differently (service.engine.facade `Engine.reconcile`).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from indexing.vector_index import NPROBE, IndexMismatchError, LargeLayout, VectorIndex
from models.lexical import LexicalIndex
from models.lexical_pruned import PrunedLexicalIndex
from models.profile import FACETS, Facet
from service.engine.records import RecordTable

log = logging.getLogger("clustermatch.engine")

STATE_FILE = "state.json"
CURRENT_FILE = "CURRENT"
LEXICAL_FILE = "lexical.pkl"
LEXICAL_DIR = "lexical"  # the pruned lexical index of a large catalogue (its pool: same name)
RECORDS_DIR = "records"  # the catalogue's records (service.engine.records), per generation
SEGMENTS_FILE = "segments.npy"  # the line-vote gate's counts: (hash, count) rows
SAVE_LOCK_FILE = ".save.lock"
RERANKER_FILE = "reranker.bin"  # the trained re-ranker (models.ranking.Reranker.save)
NATIVE_DIR = "native"  # the re-ranker's compiled object files (models.native)


def write_synced(path: Path, text: str) -> None:
    """Write a file and flush it to disk."""
    path.write_text(text)
    with open(path, "rb") as fh:
        os.fsync(fh.fileno())


def write_atomic(path: Path, text: str) -> None:
    """Replace a file's content in one step: readers see the old file or the new one,
    never a part (written beside it under this process's name, then renamed)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    write_synced(tmp, text)
    os.replace(tmp, path)


@contextlib.contextmanager
def save_lock(index_dir: Path) -> Iterator[None]:
    """Server processes sharing a data directory (`serve --workers N`) save one at a
    time: none removes a generation another is writing or pointing CURRENT at."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / SAVE_LOCK_FILE, "a+") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


@dataclass(frozen=True)
class IndexOptions:
    """How the engine's vector indexes are made: the size from which the exact index
    gives way to the large layout, which large layout, the compact layout's probes, and
    where it keeps its bases (indexing.ivf's pool, shared by the facets and processes)."""

    hnsw_threshold: int = 50_000
    layout: LargeLayout = "compact"
    nprobe: int = NPROBE
    spill: Path | None = None

    def new(self, dim: int, model_id: str) -> VectorIndex:
        return VectorIndex(
            dim,
            model_id,
            hnsw_threshold=self.hnsw_threshold,
            large_layout=self.layout,
            nprobe=self.nprobe,
            spill=self.spill,
        )

    def load(self, path: Path, *, model_id: str, dim: int) -> VectorIndex:
        return VectorIndex.load(
            path,
            model_id=model_id,
            dim=dim,
            hnsw_threshold=self.hnsw_threshold,
            large_layout=self.layout,
            nprobe=self.nprobe,
            spill=self.spill,
        )


@dataclass
class Snapshot:
    """A loaded generation: its facet indexes, its lexical index (None: not usable, to be
    refitted), and its records with the segment counts; a generation saved before the
    records were (`records` None) has the content hash of each profile indexed instead."""

    indexes: dict[Facet, VectorIndex]
    lexical: LexicalIndex | PrunedLexicalIndex | None
    hashes: dict[int, str]
    records: RecordTable | None = None
    segments: dict[int, int] | None = None


class IndexDir:
    """The index directory of one embedding model: its generations, and the files kept
    beside them (the re-ranker, its compiled code)."""

    def __init__(self, path: Path, *, model_id: str, dim: int, options: IndexOptions) -> None:
        self.path = path
        self.model_id = model_id
        self.dim = dim
        self.options = options

    @property
    def reranker(self) -> Path:
        return self.path / RERANKER_FILE

    @property
    def native(self) -> Path:
        return self.path / NATIVE_DIR

    def save(
        self,
        indexes: Mapping[Facet, VectorIndex],
        lexical: LexicalIndex | PrunedLexicalIndex,
        records: RecordTable,
        segments: Mapping[int, int],
    ) -> Path:
        """Write a new generation (the indexes, the records and the segment counts) and
        make it current; returns its directory."""
        index_dir = self.path
        state = {"model_id": self.model_id, "dim": self.dim, "records": len(records)}
        with save_lock(index_dir):
            gen = index_dir / f"gen-{time.time_ns()}"
            tmp = gen.with_name(gen.name + ".tmp")
            tmp.mkdir()
            for facet, index in indexes.items():
                index.save(tmp / facet)
            if isinstance(lexical, PrunedLexicalIndex):
                lexical.save(tmp / LEXICAL_DIR, index_dir / LEXICAL_DIR)
            else:
                lexical.save(tmp / LEXICAL_FILE)
            records.save(tmp / RECORDS_DIR, index_dir / RECORDS_DIR)
            rows = np.asarray(list(segments.items()), dtype=np.int64).reshape(-1, 2)
            np.save(tmp / SEGMENTS_FILE, rows, allow_pickle=False)
            write_synced(tmp / STATE_FILE, json.dumps(state))
            tmp.rename(gen)
            write_atomic(index_dir / CURRENT_FILE, gen.name)
            for old in index_dir.glob("gen-*"):
                if old.name != gen.name:
                    shutil.rmtree(old, ignore_errors=True)
            return gen

    def load(self) -> Snapshot | None:
        """The current generation, if there is one built with this model. An absent,
        corrupt or mismatched index yields None (everything is rebuilt from the database).
        Holds the save lock: another process must not replace the generation mid-read."""
        index_dir, model_id, dim = self.path, self.model_id, self.dim
        with save_lock(index_dir):
            pointer = index_dir / CURRENT_FILE
            if not pointer.exists():
                return None
            gen = index_dir / pointer.read_text().strip()
            try:
                state = json.loads((gen / STATE_FILE).read_text())
                if state.get("model_id") != model_id or state.get("dim") != dim:
                    raise IndexMismatchError("index was built with another model")
                indexes = {
                    f: self.options.load(gen / f, model_id=model_id, dim=dim) for f in FACETS
                }
            except (OSError, ValueError, IndexMismatchError) as exc:
                log.warning("saved index not usable, rebuilding from the database: %s", exc)
                return None
            lexical: LexicalIndex | PrunedLexicalIndex | None
            try:
                if (gen / LEXICAL_DIR).is_dir():
                    lexical = PrunedLexicalIndex.load(gen / LEXICAL_DIR, index_dir / LEXICAL_DIR)
                else:
                    lexical = LexicalIndex.load(gen / LEXICAL_FILE)
            except (OSError, ValueError) as exc:
                log.warning("saved lexical index not usable, refitting: %s", exc)
                lexical = None
            hashes = {int(pk): h for pk, h in state.get("hashes", {}).items()}
            records = segments = None
            if "records" in state:
                try:
                    records = RecordTable.load(gen / RECORDS_DIR, index_dir / RECORDS_DIR)
                    rows = np.load(gen / SEGMENTS_FILE, allow_pickle=False)
                    segments = dict(zip(rows[:, 0].tolist(), rows[:, 1].tolist(), strict=True))
                    if len(records) != state["records"]:
                        raise ValueError("the records are not those of the index")
                except (OSError, ValueError, IndexError) as exc:
                    log.warning("saved records not usable, rebuilding from the database: %s", exc)
                    return None
            return Snapshot(indexes, lexical, hashes, records, segments)
