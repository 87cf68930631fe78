"""Training the re-ranker on the stored interactions (command `clustermatch train`, the API
`POST /v1/ranker/train`, and the evaluation command).

History is replayed with a seeded share of interaction groups held out (models.training):
in a training world where the held-out groups never happened (the network without their
interactions, every member's description without their lines), each participant of a
held-out group asks for partners, and each held-out group's own text asks for its
participants, with the same candidate pool and features the API uses; the label says
whether the candidate took part. Too little history leaves the
hand-weighted ranking in place.

Meeting outcomes (models.evidence) enter twice: as graded interactions in the history
(replayed like any other), and as graded queries (`outcome_queries`): per event, each
organization with outcomes there asks for partners among the event's organizations with
outcomes, on the network without that event's evidence; its counterparts are labelled by
grade (1 strong interest .. 4 a contract), the ones that turned it down (or it them) 0
beside everyone it did not meet.
"""

from __future__ import annotations

import logging
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from indexing.embedding import embed_texts
from models.evidence import CONTEXT_PREFIX
from models.graph import Edge, InteractionGraph
from models.lexical import script
from models.matching import Party
from models.profile import FACETS, facet_texts, text_hash
from models.ranking import (
    Reranker,
    averaged,
    query_balanced_weights,
    ranker_available,
    train,
)
from models.training import Holdout, group_lines, sample_holdouts, strip_lines
from service.engine import Engine, RankRequest
from service.store.changes import HISTORY, record_changes
from service.store.db import transaction

log = logging.getLogger("clustermatch.learning")

MIN_QUERIES = 30
# 60 % of the groups held out, in 6 rounds: each training world misses only 10 % of the
# history (one world missing 30 % was much sparser than the history the model then
# serves), with more replayed queries. Offline on CORDIS dev (same features, seed 0):
# one round at 30 % .1756 / .1026 partner / consortium nDCG@10 (classifier), 3 rounds at
# 30 % .1766 / .1071; with the LambdaRank objective 3 x 10 % .1780 / .1083, 6 x 10 %
# .1824 / .1132. See `clustermatch evaluate` for the figures of the whole system.
HOLDOUT_FRACTION = 0.6
HOLDOUT_ROUNDS = 6
MIN_POSITIVES = 100
# Held-out groups' own texts as free-text queries (who took part?), beside the members'
# partner queries: free-text searches get a model that has seen some.
TEXT_QUERIES = True
# LightGBM rankers of each query's pool (models.ranking.RANKER_OBJECTIVES): one for an
# organization's partners, trained on every replayed query, one for a free text's
# participants (see TEXT_MODEL_ON_TEXTS). Where LightGBM does not load: one classifier
# of pairs with query-balanced weights (models.ranking.train without groups).
OBJECTIVE = "rank_xendcg"
TEXT_OBJECTIVE = "lambdarank"
# Training sets replayed with seeds seed, seed + 1, ... (other held-out groups each), one
# ranker per set and query type, their scores averaged (models.ranking.averaged). On
# CORDIS dev one seed's model and another's differed by up to .013 nDCG@10; the mean of
# three was steadier and better than a single model's average: partner .1824 -> .1848,
# consortium .1112 -> .1131 (seeds 0-2). Training takes ENSEMBLE times as long.
ENSEMBLE = 3
# The free-text model learns from the replayed free-text queries only (a held-out group's
# own text asking who took part); the partner model from all of them. CORDIS dev,
# consortium nDCG@10 of three-model ensembles, trained on all queries vs free texts only:
# seeds 0-2 .1121 vs .1159, seeds 3-5 .1137 vs .1136.
TEXT_MODEL_ON_TEXTS = True


@dataclass
class TrainReport:
    method: str  # "learned" or "hand" (too little history)
    seed: int
    interactions: int
    held_groups: int = 0
    queries: int = 0
    rows: int = 0
    positives: int = 0
    objective: str = ""  # the learned model's: OBJECTIVE, or "binary" (the classifier)
    text_objective: str = ""  # the free-text queries' model's (TEXT_OBJECTIVE), if its own
    models: int = 0  # models averaged per query type (ENSEMBLE)
    note: str = ""  # why the classifier was trained instead of the rankers
    took_s: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class TrainingSet:
    """Replayed queries stacked: features, labels (1: took part; an outcome query's
    grade, 0..MAX_GRADE), counts, sample weights
    (models.ranking.query_balanced_weights), and per query its rows (in order) and
    whether it was a free text."""

    x: np.ndarray
    y: np.ndarray
    info: dict[str, int]
    weights: np.ndarray
    groups: list[int]
    text: list[bool]

    @classmethod
    def empty(cls) -> TrainingSet:
        """A history with no usable query."""
        return cls(
            np.zeros((0, 0)),
            np.zeros(0, dtype=np.int8),
            {"held_groups": 0, "queries": 0},
            np.zeros(0),
            [],
            [],
        )

    def texts_only(self) -> TrainingSet:
        """The free-text queries' part (counts and weights are the whole set's)."""
        ends = np.cumsum(self.groups, dtype=np.int64)
        keep = [
            np.arange(end - size, end)
            for size, end, text in zip(self.groups, ends, self.text, strict=True)
            if text
        ]
        rows = np.concatenate(keep) if keep else np.zeros(0, dtype=np.int64)
        return TrainingSet(
            self.x[rows] if len(rows) else np.zeros((0, self.x.shape[1])),
            self.y[rows],
            self.info,
            self.weights[rows],
            [g for g, t in zip(self.groups, self.text, strict=True) if t],
            [True] * len(keep),
        )


def training_world(engine: Engine, holdout: Holdout, graph: InteractionGraph) -> Engine:
    """The catalogue as it would stand had the held-out groups never happened: every
    member's description without the held-out groups' lines (as far as the descriptions
    tell: the lines all members share, models.training.group_lines), indexed afresh, on
    the network without the held-out interactions. Requests then see what the evaluation
    and the API see: no text of a future project anywhere, not in the query and not in a
    candidate. Only the stripped descriptions are encoded (through the cache)."""
    held = held_group_lines(engine, holdout)
    drop: dict[int, set[str]] = defaultdict(set)
    for g, members in holdout.members.items():
        for m in members:
            drop[m] |= held[g]
    rows = []
    for pk in sorted(drop):
        rec = engine.records.get(pk)
        if rec is None or not rec.profile.description:
            continue
        stripped = strip_lines(rec.profile.description, drop[pk])
        if stripped != rec.profile.description:
            p = rec.profile.model_copy(update={"description": stripped})
            rows.append((pk, p, rec.content_hash))
    # Only the stripped members change: the world copies what their new texts touch
    # (the overall-text index and the lexical index) and shares the rest.
    changed = {
        f
        for pk, p, _ in rows
        for f in FACETS
        if facet_texts(p).get(f) != facet_texts(engine.records[pk].profile).get(f)
    }
    world = engine.fork(changed)
    # the same line-vote gate as the engine it replays (its stripped catalogue may list a
    # few segments fewer): the features the model learns are the ones it is served
    world.lines.set_limit(sys.maxsize if engine.lines.on() else -1)
    world.ingest(rows)
    world.network.use(holdout.kept, graph)
    return world


def held_group_lines(engine: Engine, holdout: Holdout) -> dict[str, set[str]]:
    """Per held-out group, the lines its members' descriptions share (its own text)."""

    def description(pk: int) -> str:
        rec = engine.records.get(pk)
        return (rec.profile.description or "") if rec is not None else ""

    return {
        g: group_lines([description(m) for m in members])
        for g, members in sorted(holdout.members.items())
    }


@dataclass
class Replayed:
    """One replayed query: its pool's features, who took part (1 / 0), and whether it was
    a free-text query (a held-out group's own text) rather than a member's."""

    x: np.ndarray
    y: np.ndarray
    text: bool


def _event_of(e: Edge) -> str | None:
    """The event of an outcome-derived interaction (models.evidence.edges), else None."""
    if not e.grade or not e.context.startswith(CONTEXT_PREFIX):
        return None
    return e.context[len(CONTEXT_PREFIX) :].rsplit(":", 1)[0]


def outcome_queries(engine: Engine) -> list[Replayed]:
    """The graded queries of the events' outcomes: for each event with outcome evidence,
    on the network without that event's evidence (the history before and beside it), each
    organization with evidence there asks for partners among the event's organizations
    with evidence (`within`, as the event's suggestions are ranked); the label of a
    candidate is its grade with the query (1 .. MAX_GRADE), 0 for a rejection, a no-show,
    no interest, or no meeting. A query whose counterparts all turned it down teaches
    the ranker nothing (no positive) and is left out. Sorted by event and node, so a
    seed gives the same set."""
    by_event: dict[str, list[Edge]] = defaultdict(list)
    for e in engine.edges:
        event = _event_of(e)
        if event is not None:
            by_event[event].append(e)
    out: list[Replayed] = []
    for event in sorted(by_event):
        mine = by_event[event]
        graph = engine.network.graph_from([e for e in engine.edges if _event_of(e) != event])
        grades: dict[int, dict[int, int]] = defaultdict(dict)
        for e in mine:
            grades[e.a][e.b] = max(grades[e.a].get(e.b, 0), e.grade)
            grades[e.b][e.a] = max(grades[e.b].get(e.a, 0), e.grade)
        within = np.asarray(sorted(grades), dtype=np.int64)
        for node in sorted(grades):
            rec = engine.records.get(node)
            if rec is None or not any(g > 0 for g in grades[node].values()):
                continue
            found = engine.ranking.candidate_features(
                RankRequest(
                    rec.party(engine.vectors(node)),
                    rec,
                    "partner",
                    k=10,
                    graph=graph,
                    within=within,
                    explain_results=False,
                )
            )
            if found is None:
                continue
            _, x, pool, _ = found
            y = np.asarray(
                [max(0, grades[node].get(int(k), 0)) for k in pool.keys.tolist()], dtype=np.int8
            )
            if y.any():
                out.append(Replayed(x, y, False))
    return out


def replay(
    engine: Engine,
    holdout: Holdout,
    *,
    text_queries: bool = TEXT_QUERIES,
    progress: Callable[[int, int], None] | None = None,
) -> tuple[list[Replayed], int]:
    """The queries of one holdout asked in its training world (`training_world`): each
    participant of a held-out group asks for partners (who were its partners there?), and,
    with `text_queries`, each held-out group's own text asks for participants (who took
    part?). Also returns how many member queries there were."""
    graph = engine.network.graph_from(holdout.kept)
    # Ask only for organizations that still have a history without the held-out groups, as
    # a real query comes from a member with a track record (and a newcomer's partners are
    # not what the network features are for).
    queries = [q for q in holdout.queries if q.node in engine.records and graph.has(q.node)]
    if not queries:
        return [], 0
    world = training_world(engine, holdout, graph)
    held = held_group_lines(engine, holdout)
    texts = {g: "\n".join(sorted(lines)) for g, lines in held.items() if lines}
    if not text_queries:
        texts = {}
    vectors, _ = embed_texts(
        engine.encoder, list(texts.values()), engine.cache, batch_size=engine.batch_size
    )
    out: list[Replayed] = []
    total = len(queries) + len(texts)
    for i, q in enumerate(queries):
        rec = world.records[q.node]
        found = world.ranking.candidate_features(
            RankRequest(rec.party(world.vectors(rec.pk)), rec, "partner", k=10, graph=graph)
        )
        if found is not None:
            _, x, pool, _ = found
            out.append(Replayed(x, np.isin(pool.keys, list(q.relevant)).astype(np.int8), False))
        if progress is not None and (i % 50 == 0 or i == total - 1):
            progress(i + 1, total)
    for j, (g, text) in enumerate(texts.items()):
        vec = vectors[text_hash(text)]
        party = Party.of_text(vec, "partner", script=script(text))
        found = world.ranking.candidate_features(
            RankRequest(party, None, "partner", k=10, query_text=text, graph=graph)
        )
        if found is not None:
            _, x, pool, _ = found
            y = np.isin(pool.keys, list(holdout.members[g])).astype(np.int8)
            out.append(Replayed(x, y, True))
        if progress is not None and (j % 50 == 0 or len(queries) + j == total - 1):
            progress(len(queries) + j + 1, total)
    return out, len(queries)


def training_set(
    engine: Engine,
    *,
    seed: int = 0,
    max_queries: int = 1500,
    fraction: float = HOLDOUT_FRACTION,
    rounds: int = HOLDOUT_ROUNDS,
    text_queries: bool = TEXT_QUERIES,
    progress: Callable[[str, int, int], None] | None = None,
    graded: list[Replayed] | None = None,
) -> TrainingSet:
    """The replayed queries (`replay`) of `rounds` holdouts
    (models.training.sample_holdouts), and the events' graded outcome queries
    (`outcome_queries`; `graded`: already computed, they do not depend on the seed)."""
    holdouts = sample_holdouts(
        engine.edges, seed=seed, max_queries=max_queries, fraction=fraction, rounds=rounds
    )
    rows: list[Replayed] = []
    member_queries = 0
    for r, holdout in enumerate(holdouts):

        def step(done: int, total: int, r: int = r) -> None:
            if progress is not None:
                progress(f"features {r + 1}/{len(holdouts)}", done, total)

        found, asked = replay(engine, holdout, text_queries=text_queries, progress=step)
        rows += found
        member_queries += asked
    if graded is None:
        graded = outcome_queries(engine)
    rows += graded
    member_queries += len(graded)
    if not rows or not member_queries:
        return TrainingSet.empty()
    ys = [row.y for row in rows]
    return TrainingSet(
        np.vstack([row.x for row in rows]),
        np.concatenate(ys),
        {
            "held_groups": sum(h.held_groups for h in holdouts),
            "queries": member_queries,
            "text_queries": sum(row.text for row in rows),
            "outcome_queries": len(graded),
        },
        query_balanced_weights(ys),
        [len(y) for y in ys],
        [row.text for row in rows],
    )


def train_reranker(
    engine: Engine,
    *,
    seed: int = 0,
    max_queries: int = 1500,
    progress: Callable[[str, int, int], None] | None = None,
) -> TrainReport:
    """Train, save beside the index and start using the re-ranker (or fall back)."""
    started = time.perf_counter()
    report = TrainReport(method="hand", seed=seed, interactions=len(engine.edges))
    sets: list[TrainingSet] = []
    graded = outcome_queries(engine)  # (the same for every seed: asked once)
    for i in range(ENSEMBLE):

        def step(stage: str, done: int, total: int, i: int = i) -> None:
            if progress is not None:
                progress(f"set {i + 1}/{ENSEMBLE} {stage}", done, total)

        sets.append(
            training_set(
                engine, seed=seed + i, max_queries=max_queries, progress=step, graded=graded
            )
        )
    sets = [t for t in sets if len(t.y)]
    report.held_groups = sum(t.info["held_groups"] for t in sets)
    report.queries = sum(t.info["queries"] for t in sets)
    report.rows = sum(len(t.y) for t in sets)
    report.positives = sum(int((t.y > 0).sum()) for t in sets)
    model: Reranker | None = None
    if report.queries >= MIN_QUERIES and report.positives >= MIN_POSITIVES:
        if progress is not None:
            progress("training", 0, 1)
        missing = ranker_available()
        if missing:  # the pair classifier instead (sklearn): a little less accurate
            log.warning("training the pair classifier instead of the rankers: %s", missing)
            report.note = f"pair classifier instead of the LightGBM rankers: {missing}"
            model = train(
                np.vstack([t.x for t in sets]),
                (np.concatenate([t.y for t in sets]) > 0).astype(np.int8),
                seed=seed,
                sample_weight=np.concatenate([t.weights for t in sets]),
            )
            report.models = 1
        else:
            members = [
                train(t.x, t.y, seed=seed, groups=t.groups, objective=OBJECTIVE)
                for t in sets
                if t.y.any()
            ]
            texts = [t.texts_only() for t in sets] if TEXT_MODEL_ON_TEXTS else sets
            text_members = [
                train(t.x, t.y, seed=seed, groups=t.groups, objective=TEXT_OBJECTIVE)
                for t in texts
                if t.y.any()
            ]
            model = averaged(members, text_members)
            report.text_objective = TEXT_OBJECTIVE if text_members else ""
            report.models = len(members)
        report.objective = str(model.meta["objective"])
        report.method = "learned"
        if progress is not None:
            progress("training", 1, 1)
    engine.set_reranker(model)
    with transaction(engine.sessions) as session:  # other server processes reload it
        record_changes(session, HISTORY)
    report.took_s = round(time.perf_counter() - started, 2)
    return report
