"""Retrieval: a query's candidate pool, drawn from every source - dense (overall text,
needs vs offers, offers vs needs), lexical (character n-grams), the network (partners of
partners, partners of look-alikes), track record (the most active organizations) and
line votes - within the filters of the request."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from models.graph import InteractionGraph
from models.matching import Candidates
from models.profile import FACETS
from models.ranking import Signals, reciprocal_ranks
from models.topn import top_n
from service.engine.catalogue import KIND_CODE, Catalogue, Record
from service.engine.lines import LineVotes
from service.engine.request import RankRequest


@dataclass(frozen=True, slots=True, eq=False)
class Pool:
    """Candidates of one query: their keys, their records as the pool saw them (a profile
    removed by another thread meanwhile, the change feed, is still answered in this
    request from this record), and what each source said about them."""

    keys: np.ndarray
    records: list[Record]
    signals: Signals


def best(scores: np.ndarray, mask: np.ndarray, n: int) -> list[int]:
    """The (up to) n keys with the highest positive score where the mask holds, best
    first, ties by key."""
    # The network's and the votes' scores are mostly 0 at 100k nodes: select among the
    # positive allowed ones, not over the whole vector.
    cand = np.flatnonzero(scores > 0)
    cand = cand[mask[cand]]
    if cand.size > n:
        cand = cand[top_n(scores[cand], n)]
    return cand[np.lexsort((cand, -scores[cand]))].tolist()


class Retrieval:
    def __init__(
        self,
        catalogue: Catalogue,
        lines: LineVotes,
        *,
        pool_factor: int = 5,
        pool_min: int = 60,
    ) -> None:
        self.catalogue = catalogue
        self.lines = lines
        # Candidates per source: enough that the re-ranker sees the true partners (pool
        # recall grows with it on the CORDIS benchmark), few enough for p99 latency.
        self.pool_factor = pool_factor
        self.pool_min = pool_min
        self._filters: dict[tuple[object, ...], np.ndarray] = {}
        self._filters_version = 0

    def allowed(
        self,
        kinds: frozenset[str] | None,
        countries: frozenset[str] | None,
        not_country: str | None = None,
    ) -> np.ndarray | None:
        """Ids passing the filters (None: no filter). Cached until the catalogue changes."""
        if kinds is None and countries is None and not_country is None:
            return None
        cat = self.catalogue
        version = cat.version
        if version != self._filters_version:
            self._filters.clear()
            self._filters_version = version
        key = (kinds, countries, not_country, version)
        hit = self._filters.get(key)
        if hit is not None:
            return hit
        kind_arr, country_arr = cat.columns
        mask = kind_arr >= 0  # live records
        if kinds is not None:
            mask &= np.isin(kind_arr, [KIND_CODE[k] for k in kinds if k in KIND_CODE])
        if countries is not None:
            mask &= np.isin(country_arr, [cat.country_code(c) for c in countries])
        if not_country is not None:
            mask &= country_arr != cat.country_code(not_country)
        out = np.flatnonzero(mask).astype(np.int64)
        if len(self._filters) > 256:
            self._filters.clear()
        self._filters[key] = out
        return out

    def mask(self, allowed: np.ndarray | None, n: int, exclude: Iterable[int] = ()) -> np.ndarray:
        """Keys below n that may be candidates: allowed (None: every live record), not
        excluded."""
        mask = np.zeros(n, dtype=bool)
        if allowed is None:  # the live records (kind code -1: none), without a Python loop
            kinds = self.catalogue.columns[0]
            m = min(n, kinds.size)
            mask[:m] = kinds[:m] >= 0
        else:
            mask[allowed[allowed < n]] = True
        for pk in exclude:
            if pk < n:
                mask[pk] = False
        return mask

    def pool(
        self,
        request: RankRequest,
        allowed: np.ndarray | None,
        exclude: set[int],
        graph: InteractionGraph | None,
    ) -> Pool:
        """The candidates of `request` among `allowed` (None: all), less `exclude`, on the
        interaction network `graph`."""
        query, query_record, query_text = request.query, request.query_record, request.query_text
        cat = self.catalogue
        n = min(max(self.pool_factor * request.k, self.pool_min), 500)
        keys: dict[int, None] = {}
        dense_ranked: list[int] = []
        for facet, vec in (("all", query.all), ("offers", query.needs), ("needs", query.offers)):
            index = cat.indexes[facet]  # type: ignore[index]
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
        lex = cat.lexical
        if lex.fitted:
            if query_record is not None and query_text is None:
                q_lex = lex.row(query_record.pk)
            if q_lex is None:
                q_lex = lex.transform([query_text or ""])
            hits_l = lex.search(q_lex, n, allowed=allowed, exclude=exclude)
            lexical_ranked = [pk for pk, _ in hits_l]
            keys.update((pk, None) for pk in lexical_ranked)
        walk = pseudo = None
        if graph is not None and graph.edges:
            allowed_mask = self.mask(allowed, graph.n, exclude)
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
                keys.update((pk, None) for pk in best(vec, allowed_mask, n))
            popular = [int(pk) for pk in graph.popular(n * 4) if allowed_mask[pk]][: n // 2]
            keys.update((pk, None) for pk in popular)
        lines_on = self.lines.on()
        line_lexical, line_dense = (
            self.lines.votes(query, query_record, query_text) if lines_on else (None, None)
        )
        votes = [v for v in (line_lexical, line_dense) if v is not None]
        if votes:
            # participants of the most similar past items (projects, products)
            total = np.sum(votes, axis=0)
            keys.update(
                (pk, None) for pk in best(total, self.mask(allowed, total.size, exclude), n)
            )
        records = cat.records
        picked = [
            (pk, rec) for pk in keys if pk not in exclude and (rec := records.get(pk)) is not None
        ]
        ordered = np.asarray([pk for pk, _ in picked], dtype=np.int64)
        lexical = (
            lex.similarity(q_lex, ordered)
            if q_lex is not None
            else np.zeros(len(ordered), dtype=np.float32)
        )
        signals = Signals(
            lexical=lexical,
            dense_rr=reciprocal_ranks(dense_ranked),
            lexical_rr=reciprocal_ranks(lexical_ranked),
            walk=walk,
            pseudo=pseudo,
            line_lexical=line_lexical,
            line_dense=line_dense,
            lines=lines_on,
        )
        return Pool(ordered, [rec for _, rec in picked], signals)

    def candidates(self, pool: Pool) -> Candidates:
        """The columns feature computation reads, for the pool's candidates."""
        keys, recs = pool.keys, pool.records
        indexes = self.catalogue.indexes
        return Candidates.assemble(
            keys,
            recs,  # (a record holds the fields compared: its profile is not read)
            [r.script for r in recs],
            {f: indexes[f].matrix(keys) for f in FACETS},
        )
