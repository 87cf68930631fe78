"""The matching engine: the catalogue of indexed profiles, retrieval, ranking and reasons."""

from service.engine.facade import (
    RERANKER_FILE,
    DbEmbeddingCache,
    Engine,
    Match,
    Pool,
    Progress,
    Record,
    org_key,
    profile_texts,
)

__all__ = [
    "RERANKER_FILE",
    "DbEmbeddingCache",
    "Engine",
    "Match",
    "Pool",
    "Progress",
    "Record",
    "org_key",
    "profile_texts",
]
