"""The matching engine: the catalogue of indexed profiles, retrieval, ranking and reasons.

`Engine` (facade) is what the service uses; its parts are `catalogue` (the indexed
profiles and their indexes), `lines` (line votes), `retrieval` (a query's candidate pool),
`network` (the interaction history), `ranking` (features, scores, the re-ranker in use),
`reasons` and `snapshot` (the indexes on disk)."""

from models.progress import Progress
from service.engine.catalogue import Record, org_key, profile_texts
from service.engine.facade import Engine
from service.engine.ranking import Match
from service.engine.request import RankRequest
from service.engine.retrieval import Pool
from service.engine.snapshot import RERANKER_FILE
from service.store.embeddings import DbEmbeddingCache

__all__ = [
    "RERANKER_FILE",
    "DbEmbeddingCache",
    "Engine",
    "Match",
    "Pool",
    "Progress",
    "RankRequest",
    "Record",
    "org_key",
    "profile_texts",
]
