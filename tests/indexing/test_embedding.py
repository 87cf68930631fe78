"""The embedding pipeline's cache writes (indexing.embedding): what an interrupted run
keeps, so that a restart does not encode it again."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pytest

from indexing import embedding
from indexing.embedding import DictCache, embed_texts
from models.encoders import HashingEncoder


class Killed(Exception):
    pass


class DiesAfter:
    """An encoder that stops (as a killed process would) once it has encoded `limit`
    texts."""

    def __init__(self, limit: int) -> None:
        self.inner = HashingEncoder(dim=16)
        self.limit = limit
        self.encoded = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def dim(self) -> int:
        return self.inner.dim

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int, int], None] | None = None,
    ) -> np.ndarray:
        out = []
        for start in range(0, len(texts), batch_size):
            if self.encoded >= self.limit:
                raise Killed
            batch = list(texts[start : start + batch_size])
            out.append(self.inner.encode(batch))
            self.encoded += len(batch)
        return np.vstack(out)


def test_an_interrupted_run_keeps_all_but_the_last_chunk() -> None:
    """Before: chunks of 2,048 texts, so 1,900 texts encoded and then a crash kept none."""
    texts = [f"text {i}" for i in range(3_000)]
    cache = DictCache()
    with pytest.raises(Killed):
        embed_texts(DiesAfter(1_900), texts, cache, batch_size=64)
    kept = len(cache.data)
    assert kept >= 1_900 - 256  # at most 256 texts' work is lost
    assert kept % embedding.CACHE_CHUNK == 0
    # the restart encodes only what was not kept
    again = DiesAfter(10_000)
    vectors, encoded = embed_texts(again, texts, cache, batch_size=64)
    assert encoded == len(texts) - kept and again.encoded == encoded
    assert len(vectors) == len(texts)
