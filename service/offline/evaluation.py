"""`clustermatch evaluate`: recall, nDCG and MRR of the system and its baselines on a query file.

Profiles and interactions are loaded into a fresh temporary store, everything the service
would build is built (embeddings, indexes, lexical index, network, the trained re-ranker),
and every query runs through the ranking code the API uses (`Engine.matches_for` /
`Engine.search_text`). Baselines run in the same process on the same store: random,
popularity (past interactions), TF-IDF and dense embeddings alone.

A query's `relevant` list is split off when the file is read and only the scoring step
sees it; the rankers get a `QuerySpec` that has no such field.
"""

from __future__ import annotations

import json
import random
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from models.encoders import Encoder
from models.matching import Purpose, candidate_kinds
from models.metrics import mrr, ndcg_at_k, recall_at_k, summarize
from models.profile import Kind
from models.progress import Progress
from service.engine import DbEmbeddingCache, Engine
from service.interactions.service import save_interactions
from service.io.imports import parse_interactions, parse_profiles
from service.offline.learning import train_reranker
from service.profiles.service import import_parsed
from service.store.db import make_engine, make_sessionmaker, upgrade

METHODS = ("system", "system_diverse", "random", "popularity", "tfidf", "dense")
DIVERSITY = 0.5  # default strength of the diversity option measured as `system_diverse`


class QueryFilters(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: list[Kind] | None = None


class QuerySpec(BaseModel):
    """What a ranker may read of a query."""

    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=200)
    task: str = Field(min_length=1, max_length=100)
    profile_id: str | None = None
    text: str | None = Field(default=None, max_length=20_000)
    purpose: Purpose | None = None
    filters: QueryFilters = Field(default_factory=QueryFilters)

    @model_validator(mode="after")
    def _one_of(self) -> QuerySpec:
        if (self.profile_id is None) == (self.text is None):
            raise ValueError("a query needs exactly one of profile_id and text")
        return self


@dataclass
class EvalQuery:
    spec: QuerySpec
    relevant: frozenset[str]

    @property
    def slice(self) -> str | None:
        prefix = self.spec.id.split(":", 1)[0]
        return prefix if prefix != self.spec.task and ":" in self.spec.id else None


def read_queries(path: Path) -> list[EvalQuery]:
    out: list[EvalQuery] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
            relevant = raw.pop("relevant")
            spec = QuerySpec.model_validate(raw)
        except (ValueError, KeyError, ValidationError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: invalid query: {exc}") from exc
        out.append(EvalQuery(spec, frozenset(str(x) for x in relevant)))
    return out


class Rankers:
    """The system and the baselines, all on one engine."""

    def __init__(self, engine: Engine, k: int, seed: int, diversity: float = DIVERSITY) -> None:
        self.engine = engine
        self.k = k
        self.diversity = diversity
        self.rng = random.Random(seed)
        graph = engine.network.graph
        self.popular = (
            [int(pk) for pk in graph.popular(graph.n) if int(pk) in engine.records]
            if graph is not None
            else []
        )

    def _ids(self, pks: Sequence[int]) -> list[str]:
        return [self.engine.records[pk].profile.id for pk in pks][: self.k]

    def _scope(self, spec: QuerySpec) -> tuple[np.ndarray | None, set[int], Any]:
        engine = self.engine
        record = engine.record(spec.profile_id) if spec.profile_id else None
        purpose: Purpose = spec.purpose or "partner"
        kinds = candidate_kinds(purpose, spec.filters.kind)
        not_country = record.profile.country if record and purpose == "overseas" else None
        allowed = engine.retrieval.allowed(kinds, None, not_country)
        return allowed, engine.catalogue.exclusions(record), record

    def system(self, spec: QuerySpec, diversity: float = 0.0) -> list[str]:
        purpose: Purpose = spec.purpose or "partner"
        if spec.profile_id is not None:
            record = self.engine.record(spec.profile_id)
            if record is None:
                return []
            found = self.engine.matches_for(
                record,
                purpose,
                kinds=spec.filters.kind,
                k=self.k,
                explain_results=False,
                diversity=diversity,
            )
        else:
            found = self.engine.search_text(
                spec.text or "",
                purpose,
                kinds=spec.filters.kind,
                k=self.k,
                explain_results=False,
                diversity=diversity,
            )
        return [m.record.profile.id for m in found]

    def system_diverse(self, spec: QuerySpec) -> list[str]:
        """The system with the diversity option on (its nDCG cost, its coverage gain)."""
        return self.system(spec, diversity=self.diversity)

    def random(self, spec: QuerySpec) -> list[str]:
        allowed, exclude, _ = self._scope(spec)
        pool = list(self.engine.records) if allowed is None else allowed.tolist()
        pool = [pk for pk in pool if pk not in exclude]
        return self._ids(self.rng.sample(pool, k=min(self.k, len(pool))))

    def popularity(self, spec: QuerySpec) -> list[str]:
        allowed, exclude, _ = self._scope(spec)
        ok = None if allowed is None else set(allowed.tolist())
        picks = [pk for pk in self.popular if pk not in exclude and (ok is None or pk in ok)]
        return self._ids(picks[: self.k])

    def tfidf(self, spec: QuerySpec) -> list[str]:
        allowed, exclude, record = self._scope(spec)
        lex = self.engine.catalogue.lexical
        q = lex.row(record.pk) if record is not None else None
        if q is None:
            q = lex.transform([spec.text or (record.profile.name if record else "")])
        return self._ids([pk for pk, _ in lex.search(q, self.k, allowed=allowed, exclude=exclude)])

    def dense(self, spec: QuerySpec) -> list[str]:
        allowed, exclude, record = self._scope(spec)
        if record is not None:
            vec = self.engine.indexes["all"].vector(record.pk)
        else:
            vec = self.engine.encoder.encode([spec.text or ""])[0]
        if vec is None:
            return []
        hits = self.engine.indexes["all"].search(vec, self.k, allowed=allowed, exclude=exclude)
        return self._ids([pk for pk, _ in hits[0]])


def score_runs(
    queries: Sequence[EvalQuery],
    runs: dict[str, list[list[str]]],
    k: int,
    catalog: int | None = None,
) -> dict[str, Any]:
    """Metrics per task, per id-prefix slice (e.g. `academia:`), and overall; with the
    catalog size, also catalog coverage (share of all organizations that appear in at least
    one top-k list) and the share of all slots taken by the 10 most recommended."""
    groups: dict[str, list[int]] = defaultdict(list)
    slices: dict[str, list[int]] = defaultdict(list)
    for i, q in enumerate(queries):
        groups[q.spec.task].append(i)
        if q.slice:
            slices[q.slice].append(i)

    def block(indices: Sequence[int]) -> dict[str, Any]:
        out = {}
        for method, ranked in runs.items():
            rows = [
                (
                    recall_at_k(ranked[i], queries[i].relevant, k),
                    ndcg_at_k(ranked[i], queries[i].relevant, k),
                    mrr(ranked[i], queries[i].relevant, k),
                )
                for i in indices
            ]
            out[method] = summarize(rows)
            if catalog:
                shown = [x for i in indices for x in ranked[i][:k]]
                counts = sorted(Counter(shown).values(), reverse=True)
                out[method]["coverage"] = round(len(counts) / catalog, 4)
                out[method]["top10_share"] = round(sum(counts[:10]) / max(1, len(shown)), 4)
        return out

    return {
        "k": k,
        "tasks": {task: block(idx) for task, idx in sorted(groups.items())},
        "slices": {name: block(idx) for name, idx in sorted(slices.items())},
        "all": block(range(len(queries))),
    }


@contextmanager
def loaded_store(
    profiles: Path,
    interactions: Path | None,
    *,
    seed: int = 0,
    encoder: Encoder | None = None,
    embedding_cache: Path | None = None,
    progress: Progress | None = None,
) -> Iterator[tuple[Engine, dict[str, Any]]]:
    """A fresh temporary store with the profiles and interactions imported and the
    re-ranker trained (seeded), as `evaluate` ranks on it; yields the engine and what was
    set up. Everything is removed on exit. No interactions (None, or an empty file): no
    history, so the hand weights rank and the network features are off, as for a new
    cluster office."""
    if encoder is None:
        from models.encoders import SentenceTransformerEncoder

        encoder = SentenceTransformerEncoder()
    with tempfile.TemporaryDirectory(prefix="clustermatch-eval-") as tmp:
        db = make_engine(f"sqlite:///{Path(tmp) / 'eval.db'}")
        upgrade(db)
        sessions = make_sessionmaker(db)
        cache = None
        if embedding_cache is not None:
            cache_db = make_engine(f"sqlite:///{embedding_cache}")
            upgrade(cache_db)
            cache = DbEmbeddingCache(make_sessionmaker(cache_db))
        engine = Engine(encoder, sessions, Path(tmp) / "index", cache=cache)
        engine.reconcile()
        parsed = parse_profiles(profiles.read_bytes(), filename=profiles.name, max_rows=1_000_000)
        loaded = import_parsed(engine, sessions, parsed, allow_partial=True, progress=progress)
        created_i = rejected_i = 0
        if interactions is not None:
            parsed_i = parse_interactions(interactions.read_bytes(), filename=interactions.name)
            if parsed_i.items or parsed_i.errors:
                saved_i = save_interactions(engine, sessions, parsed_i, allow_partial=True)
                created_i, rejected_i = saved_i.created, saved_i.rejected
        trained = train_reranker(engine, seed=seed, progress=progress)
        setup = {
            "profiles": loaded.created,
            "profiles_rejected": loaded.rejected,
            "interactions": created_i,
            "interactions_rejected": rejected_i,
            "model": encoder.model_id,
            "ranker": trained.to_dict(),
            "seed": seed,
        }
        try:
            yield engine, setup
        finally:
            db.dispose()


def evaluate(
    profiles: Path,
    interactions: Path | None,
    queries: Path,
    *,
    k: int = 10,
    seed: int = 0,
    encoder: Encoder | None = None,
    embedding_cache: Path | None = None,
    progress: Progress | None = None,
    methods: Sequence[str] = METHODS,
    diversity: float = DIVERSITY,
) -> dict[str, Any]:
    if not 0.0 < diversity <= 1.0:
        raise ValueError(f"diversity must be in (0, 1], got {diversity}")
    started = time.perf_counter()
    spec_list = read_queries(queries)
    with loaded_store(
        profiles,
        interactions,
        seed=seed,
        encoder=encoder,
        embedding_cache=embedding_cache,
        progress=progress,
    ) as (engine, setup):
        rankers = Rankers(engine, k, seed, diversity)
        runs: dict[str, list[list[str]]] = {m: [] for m in methods}
        for i, q in enumerate(spec_list):
            for method in methods:
                runs[method].append(getattr(rankers, method)(q.spec))
            if progress is not None and (i % 25 == 0 or i == len(spec_list) - 1):
                progress("queries", i + 1, len(spec_list))
        result = score_runs(spec_list, runs, k, catalog=len(engine))
        result["setup"] = {
            **setup,
            "queries": len(spec_list),
            "diversity": diversity,
            "took_s": round(time.perf_counter() - started, 1),
        }
        return result


def format_table(result: dict[str, Any]) -> str:
    k = result["k"]
    lines = [
        f"{'task':<24}{'method':<16}{'Recall@' + str(k):>10}{'nDCG@' + str(k):>10}"
        f"{'MRR':>8}{'n':>7}{'coverage':>10}{'top10':>8}"
    ]
    blocks = [
        *result["tasks"].items(),
        *((f"{n} (slice)", b) for n, b in result["slices"].items()),
        ("all", result["all"]),
    ]
    for name, block in blocks:
        for method, m in block.items():
            extra = f"{m['coverage']:>10.4f}{m['top10_share']:>8.4f}" if "coverage" in m else ""
            lines.append(
                f"{name:<24}{method:<16}{m['recall']:>10.4f}{m['ndcg']:>10.4f}"
                f"{m['mrr']:>8.4f}{m['n']:>7}{extra}"
            )
        lines.append("")
    return "\n".join(lines)
