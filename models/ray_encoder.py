"""Bulk encoding on a Ray cluster: where one machine's cores are not enough for an
import of hundreds of thousands of profiles, the texts go to encoder actors on Ray
(https://docs.ray.io), each holding the same model, and come back as the same vectors.

`RayEncoder` is an `Encoder`: calls of at least `min_texts` texts (an import's chunks)
are cut into blocks of `block` texts and spread over `workers` actors, two blocks queued
per actor so that none waits for the next one; smaller calls (a query, a single profile
write) stay on the local encoder, which also gives the model id and dimension. The
cluster is the one at `address` (`ray://head:10001` through Ray Client, or `auto` on a
node of the cluster), or, without one, a local cluster this process starts at its first
bulk call and stops in `close` (a 2-core laptop gains nothing from it; a workstation
with more cores, or a cluster, does: see the README's scaling plan).

Each actor builds its encoder from `factory` (a picklable zero-argument callable, e.g.
`functools.partial(SentenceTransformerEncoder, "use-multilingual-v3", threads=1)`), so
the cluster's nodes need this package and the model installed (`pip install
'clustermatch[ray]'`). An actor whose model id or dimension differs from the local
encoder's is refused: its vectors would not be comparable. Actors that die are
restarted and their blocks retried (encoding is idempotent).

Ray is an optional dependency, imported only when the cluster is first needed.
"""

from __future__ import annotations

import importlib.util
import logging
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from models.encoders import Encoder, Progress

__all__ = ["BLOCK_TEXTS", "MIN_TEXTS", "EncoderActor", "RayEncoder", "ray_available"]

log = logging.getLogger("clustermatch.ray")

BLOCK_TEXTS = 256
"""Texts per task sent to an actor."""
MIN_TEXTS = 256
"""Calls with fewer texts are encoded locally."""
QUEUED_PER_ACTOR = 2
LOCAL_OBJECT_STORE_BYTES = 256 * 1024 * 1024
"""The object store of a local cluster: blocks of texts and their vectors are small."""


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None


def _ray() -> Any:
    """The `ray` module (untyped here: it is optional, and typed only where installed)."""
    return importlib.import_module("ray")


class EncoderActor:
    """What runs on the cluster: one encoder, built there by `factory`."""

    def __init__(self, factory: Callable[[], Encoder]) -> None:
        self.encoder = factory()

    def describe(self) -> tuple[str, int]:
        return self.encoder.model_id, self.encoder.dim

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.encoder.encode(texts, batch_size=batch_size)


class RayEncoder:
    """See the module docstring."""

    def __init__(
        self,
        local: Encoder,
        factory: Callable[[], Encoder],
        *,
        address: str | None = None,
        workers: int = 2,
        threads: int = 1,
        block: int = BLOCK_TEXTS,
        min_texts: int = MIN_TEXTS,
    ) -> None:
        if not ray_available():
            raise RuntimeError(
                "encoding on Ray needs the optional dependency: pip install 'clustermatch[ray]'"
            )
        self.local = local
        self.factory = factory
        self.address = address
        self.workers = workers
        self.threads = threads
        self.block = block
        self.min_texts = min_texts
        self._actors: list[Any] = []
        self._started = False  # whether this process started the (local) cluster
        self.remote_texts = 0  # texts encoded on the cluster so far

    @property
    def model_id(self) -> str:
        return self.local.model_id

    @property
    def dim(self) -> int:
        return self.local.dim

    @property
    def texts_per_call(self) -> int:
        """Texts a call should bring to keep every actor busy (indexing.embedding asks)."""
        return self.block * QUEUED_PER_ACTOR * self.workers

    def _cluster(self) -> tuple[Any, list[Any]]:
        ray = _ray()

        if not self._actors:
            if not ray.is_initialized():
                if self.address:
                    ray.init(address=self.address, log_to_driver=False, namespace="clustermatch")
                else:
                    ray.init(
                        num_cpus=self.workers * self.threads,
                        include_dashboard=False,
                        log_to_driver=False,
                        object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                        namespace="clustermatch",
                    )
                    self._started = True
            actor = ray.remote(EncoderActor).options(
                num_cpus=self.threads, max_restarts=2, max_task_retries=2
            )
            actors = [actor.remote(self.factory) for _ in range(self.workers)]
            found = ray.get([a.describe.remote() for a in actors])
            expected = (self.model_id, self.dim)
            if any(tuple(f) != expected for f in found):
                for a in actors:
                    ray.kill(a)
                raise RuntimeError(
                    f"the Ray encoder actors run {sorted(set(map(tuple, found)))}, this process "
                    f"{expected}: install the same model on the cluster"
                )
            self._actors = actors
            log.info(
                "encoding on Ray",
                extra={"event": "ray", "workers": self.workers, "address": self.address or "local"},
            )
        return ray, self._actors

    def encode(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> np.ndarray:
        n = len(texts)
        if n < self.min_texts:
            return self.local.encode(texts, batch_size=batch_size, progress=progress)
        ray, actors = self._cluster()
        out = np.empty((n, self.dim), dtype=np.float32)
        starts = list(range(0, n, self.block))
        busy = [0] * len(actors)
        pending: dict[Any, tuple[int, int]] = {}  # ref -> (start, actor)
        following = 0
        done = 0
        while following < len(starts) or pending:
            while following < len(starts) and min(busy) < QUEUED_PER_ACTOR:
                which = busy.index(min(busy))
                start = starts[following]
                block = list(texts[start : start + self.block])
                ref = actors[which].encode.remote(block, batch_size)
                pending[ref] = (start, which)
                busy[which] += 1
                following += 1
            ready, _ = ray.wait(list(pending), num_returns=1)
            for ref in ready:
                start, which = pending.pop(ref)
                busy[which] -= 1
                vectors = ray.get(ref)
                out[start : start + len(vectors)] = vectors
                done += len(vectors)
                if progress is not None:
                    progress(done, n)
        self.remote_texts += n
        return out

    def close(self) -> None:
        """Stop the actors, and the local cluster if this process started it."""
        if not self._actors and not self._started:
            return
        ray = _ray()

        for actor in self._actors:
            ray.kill(actor)
        self._actors = []
        if self._started:
            ray.shutdown()
            self._started = False
