"""The interaction network: past collaborations, meetings and deals between indexed
profiles (models.graph), and the kind / country lifts learned from them."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import numpy as np

from models.evidence import edges as evidence_edges
from models.graph import Edge, InteractionGraph
from models.profile import KINDS
from models.ranking import Lifts
from service.engine.catalogue import KIND_CODE, Catalogue
from service.store.changes import latest_seq
from service.store.db import SessionFactory
from service.store.evidence import evidence
from service.store.history import interactions


class Network:
    def __init__(self, catalogue: Catalogue, write_lock: threading.RLock) -> None:
        self.catalogue = catalogue
        self.graph: InteractionGraph | None = None
        self.edges: list[Edge] = []
        self.lifts: Lifts | None = None
        # the change feed's position (service.store.changes) this history reflects, at least
        self.seq = 0
        self._write_lock = write_lock

    def graph_from(self, edges: Sequence[Edge]) -> InteractionGraph:
        """The graph of these edges over every key of the catalogue."""
        n = self.catalogue.records.max_key() + 1
        return InteractionGraph(n, edges)

    def use(self, edges: Sequence[Edge], graph: InteractionGraph) -> None:
        """Take `graph` (built from `edges`) as the network, and learn its lifts."""
        self.edges = list(edges)
        with self._write_lock:
            self.graph = graph
            # the kind / country code of every node (-1: no live record), from the columns
            kinds, countries = (np.full(graph.n, -1, dtype=np.int64) for _ in range(2))
            for codes, column in zip((kinds, countries), self.catalogue.columns, strict=True):
                known = column[: graph.n]
                codes[: known.size] = known
            country_code = self.catalogue.country_codes
            n_countries = len(country_code)
            self.lifts = Lifts(
                kind=graph.kind_lift(kinds, len(KINDS)) if graph.edges else None,
                kind_code=KIND_CODE,
                country=(
                    graph.kind_lift(countries, n_countries) if graph.edges and n_countries else None
                ),
                country_code=country_code,
            )

    def load(self, sessions: SessionFactory) -> None:
        """Build the network from the stored interactions between indexed profiles, and
        the evidence of the events' meeting outcomes (models.evidence: graded
        interactions, one group per event and pair)."""
        with sessions() as session:
            feed_at = latest_seq(session)  # what this read reflects, at least
            rows = interactions(session)
            graded = evidence(session)
        pk_by_id = self.catalogue.pk_by_id
        edges = [
            Edge(pk_by_id[a], pk_by_id[b], kind, context, at)
            for a, b, kind, context, at in rows
            if a in pk_by_id and b in pk_by_id
        ]
        edges += evidence_edges(graded, pk_by_id)
        self.seq = max(self.seq, feed_at)
        self.use(edges, self.graph_from(edges))
