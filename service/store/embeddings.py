"""The content-addressed embedding cache on the `embeddings` table: one vector per (model,
text hash), so nothing is encoded twice, in this process or any other on the database."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import numpy as np
from sqlalchemy import Insert, Table, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, sessionmaker

from service.store.chunks import chunked
from service.store.tables import EmbeddingRow


class DbEmbeddingCache:
    """`indexing.embedding.EmbeddingCache` on the `embeddings` table."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def get_many(self, model_id: str, hashes: Iterable[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        with self._sessions() as session:
            for chunk in chunked(list(hashes)):
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
        for chunk in chunked(hashes):
            present.update(
                session.scalars(
                    select(EmbeddingRow.text_hash).where(
                        EmbeddingRow.model_id == model_id, EmbeddingRow.text_hash.in_(chunk)
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
    the insert; the vector is the same, so the row already there stands."""
    name = session.get_bind().dialect.name
    if name == "sqlite":
        return sqlite_insert(table).on_conflict_do_nothing()
    if name == "postgresql":
        return postgresql_insert(table).on_conflict_do_nothing()
    return insert(table)
