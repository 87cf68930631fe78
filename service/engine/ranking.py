"""Ranking: a request's candidate pool, its features, the learned (or hand-weighted)
score, then reasons for the top k. Holds the re-ranker in use, loaded from beside the
index and compiled to native code (models.native) in the background."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from models.graph import InteractionGraph
from models.matching import (
    DEFAULT_CALIBRATION,
    REASON_FEATURES,
    Calibration,
    Candidates,
    Party,
    Reason,
    Scored,
    candidate_kinds,
    cosines,
    features,
)
from models.ranking import (
    FEATURES,
    Reranker,
    competitors,
    diversify,
    feature_matrix,
    hand_score,
    peer_seeds,
    product_fit,
    purpose_scores,
)
from service.engine.catalogue import Catalogue, Record, item_matrix
from service.engine.network import Network
from service.engine.reasons import ReasonContext, reasons_for
from service.engine.request import RankRequest
from service.engine.retrieval import Pool, Retrieval

log = logging.getLogger("clustermatch.engine")


@dataclass
class Match:
    record: Record
    scored: Scored
    reasons: list[Reason]


def buyer_query(request: RankRequest) -> Party:
    """The query of a buyer match: its target markets are the stated ones (`markets`, else
    those its text names). A free text's places are read by the search itself."""
    record = request.query_record
    if record is None or tuple(request.query.markets) == record.stated_markets:
        return request.query
    return replace(request.query, markets=record.stated_markets)


class Ranking:
    def __init__(
        self,
        catalogue: Catalogue,
        retrieval: Retrieval,
        network: Network,
        *,
        native_dir: Path | None = None,
        calibration: Calibration = DEFAULT_CALIBRATION,
    ) -> None:
        self.catalogue = catalogue
        # the model's similarity thresholds (reasons, the buyer's competitor rule)
        self.calibration = calibration
        self.retrieval = retrieval
        self.network = network
        # with a directory: each re-ranker put in use is compiled to native code there
        self.native_dir = native_dir
        self.model: Reranker | None = None
        # why hand weights are in use although a re-ranker was saved (an upgrade changed
        # the features, another embedding model): shown by GET /v1/ranker
        self.note: str | None = None

    # ------------------------------------------------------------------ the re-ranker

    def load(self, path: Path, model_id: str) -> None:
        """Use the re-ranker saved at `path` if it was trained for `model_id` (else the
        hand weights, and `note` says why). The model in use is swapped in one step: a
        request meanwhile gets the old one or the new one, never the hand weights of a
        half-done reload; a reload of the file in use keeps the model as it is."""
        reranker: Reranker | None = None
        note: str | None = None
        if path.exists():
            try:
                model = Reranker.load(path)
            except (OSError, ValueError) as exc:
                note = f"the saved re-ranker is not usable ({exc}); retrain it"
                log.warning("saved re-ranker not usable, using hand weights: %s", exc)
            else:
                if model.meta.get("model_id") != model_id:
                    note = "the saved re-ranker was trained for another model"
                elif self.model is not None and self.model.digest == model.digest:
                    reranker = self.model  # the file this process saved (or loaded)
                else:
                    reranker = model
                    self._compile(model)
        self.model, self.note = reranker, note

    def save(self, model: Reranker | None, path: Path, model_id: str) -> None:
        """Put `model` in use and save it at `path` (None: the hand weights, the file
        removed)."""
        self.note = None
        if model is None:
            path.unlink(missing_ok=True)
        else:
            model.meta["model_id"] = model_id
            model.save(path)
        self.model = model
        if model is not None:
            self._compile(model)

    def _compile(self, model: Reranker) -> None:
        """Compile the model in the background (a few seconds per booster, or a load from
        the cache beside the index); it scores through LightGBM until then, and on if
        compiling fails (the same scores either way)."""
        native_dir = self.native_dir
        if native_dir is None:
            return

        def work() -> None:
            started = time.perf_counter()
            done = model.compile(native_dir)
            log.info(
                "re-ranker %s",
                "compiled" if done else "not compiled (LightGBM scores it)",
                extra={
                    "event": "ranker_compiled",
                    "native": done,
                    "took_s": round(time.perf_counter() - started, 2),
                },
            )

        threading.Thread(target=work, name="compile-ranker", daemon=True).start()

    # ------------------------------------------------------------------ requests

    def candidate_features(
        self, request: RankRequest
    ) -> tuple[Candidates, np.ndarray, Pool, InteractionGraph | None] | None:
        """The candidate pool of a request, its feature matrix and the network it was
        drawn on (None: the filters leave no candidate)."""
        query, query_record, purpose = request.query, request.query_record, request.purpose
        allowed_kinds = candidate_kinds(purpose, request.kinds)
        if allowed_kinds is not None and not allowed_kinds:
            return None
        not_country = query.country if purpose == "overseas" else None
        countries = request.countries
        retrieval = self.retrieval
        allowed = retrieval.allowed(
            allowed_kinds, frozenset(countries) if countries else None, not_country
        )
        within = request.within
        if within is not None:
            allowed = within if allowed is None else np.intersect1d(allowed, within)
        if allowed is not None and allowed.size == 0:
            return None
        exclude = self.catalogue.exclusions(query_record)
        graph = request.graph if request.graph is not None else self.network.graph
        pool = retrieval.pool(request, allowed, exclude, graph)
        candidates = retrieval.candidates(pool)
        if purpose == "buyer":
            # a target market named only in the text counts as one in `markets`, on both
            # sides (models.markets)
            query = buyer_query(request)
            candidates.markets = [r.stated_markets for r in pool.records]
        q_node = query_record.pk if query_record is not None else None
        x = feature_matrix(
            query,
            candidates,
            pool.signals,
            graph=graph,
            q_node=q_node,
            lifts=self.network.lifts if query_record is not None else None,
            peers=self.peers(request, graph),
        )
        return candidates, x, pool, graph

    def peers(self, request: RankRequest, graph: InteractionGraph | None) -> dict[int, float]:
        """The organizations like the query whose meeting outcomes count for its candidates
        (models.ranking.peer_seeds): among those with outcome evidence on `graph`, by the
        similarity of their overall texts to the query's, above the calibrated "similar
        activities" threshold. Empty without evidence (most catalogues: no cost)."""
        if graph is None or not graph.evidence_nodes.size:
            return {}
        query, record = request.query, request.query_record
        floor = self.calibration.topic if record is not None else self.calibration.text_topic
        nodes = graph.evidence_nodes
        block, present = self.catalogue.indexes["all"].matrix(nodes)
        sims = cosines(query.all, block, present)
        return peer_seeds(sims, nodes, floor, record.pk if record is not None else None)

    def rank(self, request: RankRequest) -> list[Match]:
        """Candidates from every source, features, the learned (or hand-weighted) score,
        then reasons for the top k."""
        found = self.candidate_features(request)
        if found is None:
            return []
        candidates, x, pool, graph = found
        if not len(candidates):
            return []
        query, query_record, purpose = request.query, request.query_record, request.purpose
        if purpose == "buyer":
            query = buyer_query(request)
        explain_results, k = request.explain_results, request.k
        reranker = self.model
        text = query_record is None
        learned = reranker is not None and purpose != "buyer"
        # a buyer match weighs text fit itself (models.ranking.product_fit)
        fit = product_fit(query, candidates, x) if purpose == "buyer" else None
        if learned:
            assert reranker is not None
            scores = reranker.score(x, text=text)
        else:
            general = hand_score(x, text=purpose != "buyer")
            scores = purpose_scores(query, candidates, x, purpose, fit) + 0.25 * general
        model_scores = scores
        if request.diversity > 0:
            scores = diversify(scores, x[:, FEATURES.index("log_activity")], request.diversity)
        # competitors are no buyers (models.ranking.competitors); -inf sorts them last
        excluded = competitors(query, candidates, x, purpose, self.calibration, free_text=text)
        scores = np.where(excluded, -np.inf, scores)
        ranked = np.lexsort((pool.keys, -scores))[: len(candidates) - int(excluded.sum())]
        # Explained matches from the catalogue leave out a candidate that nothing drives (no
        # reason): the next ones are explained in its place, a few more than k at most.
        # Ranked within a given set (an event's participants, `within`), every one stays.
        driven_only = explain_results and request.within is None
        order = ranked[: k + (k + 5 if driven_only else 0)]
        out: list[Match] = []
        contrib = (
            reranker.contributions(
                x[order], model_scores[order], names=REASON_FEATURES.values(), text=text
            )
            if learned and explain_results and reranker is not None
            else None
        )
        recs = pool.records
        ctx: ReasonContext | None = None
        if explain_results:
            # one cache read for every item the reasons will compare, not one per result
            q_offers, q_needs = request.query_items
            table = self.catalogue.load_items(
                [
                    *q_offers,
                    *q_needs,
                    *(t for i in order for t in recs[i].profile.offers),
                    *(t for i in order for t in recs[i].profile.needs),
                ]
            )
            ctx = ReasonContext(
                query=query,
                query_record=query_record,
                purpose=purpose,
                query_items=request.query_items,
                query_vectors=(
                    item_matrix(q_offers, table),
                    item_matrix(q_needs, table),
                ),
                table=table,
                lang=request.lang,
                graph=graph,
                records=self.catalogue.records,
                calibration=self.calibration,
            )
        for rank_i, i in enumerate(order):
            if len(out) == k:
                break
            c = candidates.party(int(i))
            f = features(query, c, purpose)
            # (a list of floats: numpy scalars and np.isnan cost a microsecond each here)
            f.update({name: v for name, v in zip(FEATURES, x[i].tolist(), strict=True) if v == v})
            if fit is not None:
                f["demand"] = float(fit[i])  # measured against the pool, as the score did
            scored = Scored(c.key, float(scores[i]), f)
            reasons: list[Reason] = []
            if ctx is not None:
                reasons = reasons_for(
                    ctx, c, recs[i], f, None if contrib is None else contrib[rank_i]
                )
                if not reasons and driven_only:
                    continue
            out.append(Match(recs[i], scored, reasons))
        return out
