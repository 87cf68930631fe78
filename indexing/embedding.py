"""The embedding pipeline: texts in, vectors out, with a content-addressed cache in front
of the encoder so that nothing is encoded twice for the same model.

The cache is a protocol; the service backs it with the database (`embeddings` table), tests
with a dict. Encoding is batched and reports progress.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

import numpy as np

from models.encoders import Encoder
from models.profile import text_hash


class EmbeddingCache(Protocol):
    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]: ...

    def has_many(self, model_id: str, hashes: Iterable[str]) -> set[str]: ...

    def put_many(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None: ...


class DictCache:
    """In-memory cache (tests, and the evaluation command's temporary store)."""

    def __init__(self) -> None:
        self.data: dict[tuple[str, str], np.ndarray] = {}

    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        return {h: self.data[(model_id, h)] for h in hashes if (model_id, h) in self.data}

    def has_many(self, model_id: str, hashes: Iterable[str]) -> set[str]:
        return {h for h in hashes if (model_id, h) in self.data}

    def put_many(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
        for h, v in vectors.items():
            self.data[(model_id, h)] = v


CACHE_CHUNK = 256
"""Texts encoded between two writes to the cache. A process killed while encoding loses
at most this many texts' work (the restart re-encodes them); with 2,048, a restart after a
crash re-encoded for about 100 s. One small transaction per 256 texts costs next to
nothing beside encoding them (scripts/bench_import_restart.py measures both)."""


def embed_texts(
    encoder: Encoder,
    texts: Iterable[str],
    cache: EmbeddingCache,
    *,
    batch_size: int = 64,
    chunk: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[dict[str, np.ndarray], int]:
    """Vectors for `texts`, keyed by `text_hash`. Returns (vectors, how many were encoded).

    Cached vectors are read first; only the missing texts go to the encoder, in chunks
    (`CACHE_CHUNK` texts by default, or what an encoder that spreads its work needs to keep
    its workers busy: its `texts_per_call`, models.ray_encoder) that are written back to
    the cache as they finish (an interrupted run keeps its progress).
    """
    chunk = chunk or max(CACHE_CHUNK, getattr(encoder, "texts_per_call", 0))
    by_hash: dict[str, str] = {}
    for text in texts:
        by_hash.setdefault(text_hash(text), text)
    found = cache.get_many(encoder.model_id, by_hash)
    missing = [h for h in by_hash if h not in found]
    total = len(missing)
    if progress is not None:
        progress(0, total)
    for start in range(0, total, chunk):
        hashes = missing[start : start + chunk]

        def _inner(done: int, _total: int, offset: int = start) -> None:
            if progress is not None:
                progress(offset + done, total)

        vectors = encoder.encode(
            [by_hash[h] for h in hashes], batch_size=batch_size, progress=_inner
        )
        fresh = {
            h: np.ascontiguousarray(vectors[i], dtype=np.float32) for i, h in enumerate(hashes)
        }
        cache.put_many(encoder.model_id, fresh)
        found.update(fresh)
    return found, total
