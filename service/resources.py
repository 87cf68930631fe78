"""The composition root: everything a process builds from its settings, in one place, for
the app's lifespan and the CLI alike, and its disposal.

    resources = Resources(settings, encoder=None)   # cheap: settings, metrics, key cache
    resources.open(with_engine=True)                # database (migrated), sessions, job
                                                    # runner; encoder and engine
    ...
    resources.close()                               # job runner stopped, database closed

`open_resources(settings, ...)` is the same as a context manager. The engine is built and
not loaded: the app reconciles it in the background, the CLI in the foreground.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine as Database

from models.encoders import Encoder
from service.auth import KeyCache
from service.engine import Engine
from service.jobs.service import Jobs
from service.ops.metrics import Metrics
from service.settings import Settings
from service.store.db import SessionFactory, make_engine, make_sessionmaker, upgrade


def load_encoder(settings: Settings) -> Encoder:
    """The configured text encoder (the model loads here: seconds); with
    `CLUSTERMATCH_ENCODER=ray`, bulk encoding goes to Ray (models.ray_encoder)."""
    from models import encoders

    local = encoders.SentenceTransformerEncoder(settings.model, threads=settings.encoder_threads)
    if settings.encoder == "local":
        return local
    from models.ray_encoder import RayEncoder

    return RayEncoder(
        local,
        functools.partial(
            encoders.SentenceTransformerEncoder, settings.model, threads=settings.ray_threads
        ),
        address=settings.ray_address,
        workers=settings.ray_workers,
        threads=settings.ray_threads,
    )


def build_engine(settings: Settings, encoder: Encoder, sessions: SessionFactory) -> Engine:
    return Engine(
        encoder,
        sessions,
        settings.index_dir,
        hnsw_threshold=settings.hnsw_threshold,
        index_layout=settings.index_layout,
        index_nprobe=settings.index_nprobe,
        batch_size=settings.encode_batch_size,
        native_ranker=settings.native_ranker,
    )


class Resources:
    """What a process holds: built from `settings`, `encoder` replacing the configured
    model (tests use a fast stand-in)."""

    def __init__(self, settings: Settings, *, encoder: Encoder | None = None) -> None:
        self.settings = settings
        self.metrics = Metrics()
        self.key_cache = KeyCache(settings.key_cache_s)
        self._encoder = encoder
        self._loaded: Encoder | None = None  # the encoder this process loaded (and closes)
        self._db: Database | None = None
        self._sessions: SessionFactory | None = None
        self._jobs: Jobs | None = None
        self._engine: Engine | None = None

    def open(self, *, with_engine: bool = True) -> Resources:
        """Open the database (migrated to the newest schema) and the job runner; with
        `with_engine`, load the encoder and build the engine."""
        self.settings.data_dir.mkdir(parents=True, exist_ok=True)
        self._db = make_engine(self.settings.resolved_database_url)
        upgrade(self._db)
        self._sessions = make_sessionmaker(self._db)
        self._jobs = Jobs(self._sessions, timeout_s=self.settings.job_timeout_s)
        if with_engine:
            if self._encoder is None:
                self._encoder = self._loaded = load_encoder(self.settings)
            self._engine = build_engine(self.settings, self._encoder, self._sessions)
        return self

    def close(self) -> None:
        """Stop the job runner (waiting for a running job), the encoder's cluster (a Ray
        encoder's actors) and close the database."""
        if self._jobs is not None:
            self._jobs.shutdown()
        close = getattr(self._loaded, "close", None)
        if close is not None:
            close()
        if self._db is not None:
            self._db.dispose()

    @property
    def sessions(self) -> SessionFactory:
        if self._sessions is None:
            raise RuntimeError("the resources are not open")
        return self._sessions

    @property
    def jobs(self) -> Jobs:
        if self._jobs is None:
            raise RuntimeError("the resources are not open")
        return self._jobs

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise RuntimeError("the resources were opened without the engine")
        return self._engine


@contextmanager
def open_resources(
    settings: Settings, *, encoder: Encoder | None = None, with_engine: bool = True
) -> Iterator[Resources]:
    resources = Resources(settings, encoder=encoder).open(with_engine=with_engine)
    try:
        yield resources
    finally:
        resources.close()
