"""Learned re-ranking: the feature vector of a (query, candidate) pair, gradient-boosted
rankers (or a pair classifier) trained on past interactions, and the hand-weighted
fallback used when there is too little history.

Features (missing values are NaN, which the model handles natively):

| name | meaning |
|---|---|
| dense | cosine of the overall texts (multilingual embedding) |
| need_offer / offer_need | the query's needs vs the candidate's offers, and the reverse |
| lexical | TF-IDF cosine on character n-grams |
| dense_rr / lexical_rr | reciprocal rank of the candidate in that source's list |
| log_activity | log(1 + the candidate's past interactions): track record, popularity |
| days_since | days since the candidate's last interaction (recency) |
| tie | past interactions between query and candidate |
| common / adamic_adar | shared partners (network proximity) |
| walk | personalised PageRank from the query over shared groups (projects, events) |
| pseudo_walk | partners of the organizations most similar in text to the query |
| same_country | 1 / 0, NaN when a side has no country |
| kind_lift | how much more often the two kinds interact than chance (learned from history) |
| country_lift | the same for the two countries (e.g. neighbours, one language) |
| same_cluster, market, language, industry | context (see models.matching) |
| query_log_activity | the query's own track record (0 for free text and newcomers) |
| line_lexical / line_dense | its votes among the segments closest to the query's (models.lines) |
| *_rel | line_lexical, line_dense, walk, log_activity over the best in the query's pool |
| peer_met | outcomes of organizations like the query with the candidate (models.evidence) |
| peer_declined | the same for rejections, no-shows, "no interest" (`peer_seeds`) |
"""

from __future__ import annotations

import hashlib
import io
import json
import math
import pickle
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.graph import InteractionGraph
from models.matching import (
    BUYER_KIND_FIT,
    CANDIDATE_KINDS,
    DEFAULT_CALIBRATION,
    WEIGHTS,
    Calibration,
    Candidates,
    Party,
    Purpose,
    cosines,
    overlap,
)
from models.native import NativeBooster, compile_booster, prune_cache

FEATURES: tuple[str, ...] = (
    "dense",
    "need_offer",
    "offer_need",
    "lexical",
    "dense_rr",
    "lexical_rr",
    "log_activity",
    "days_since",
    "tie",
    "common",
    "adamic_adar",
    "walk",
    "pseudo_walk",
    "same_country",
    "kind_lift",
    "country_lift",
    "same_cluster",
    "market",
    "language",
    "industry",
    "query_log_activity",
    "line_lexical",
    "line_dense",
    "line_lexical_rel",
    "line_dense_rel",
    "walk_rel",
    "log_activity_rel",
    "peer_met",
    "peer_declined",
)
INDEX = {name: i for i, name in enumerate(FEATURES)}

# The learned score may only rise with these (+1) or fall (-1); 0 leaves the shape free.
# History replayed for training never looks quite like the requests the model then sees
# (fewer past projects, other organizations), and an unconstrained model learns bumps
# that do not carry over; the constraints keep the shapes that do (partner and consortium
# nDCG@10 on the CORDIS dev queries are higher with them, `clustermatch evaluate`).
MONOTONE: dict[str, int] = {
    "dense": 1,
    "need_offer": 1,
    "offer_need": 1,
    "lexical": 1,
    "dense_rr": 1,
    "lexical_rr": 1,
    "log_activity": 1,
    "tie": 1,
    "common": 1,
    "adamic_adar": 1,
    "walk": 1,
    "pseudo_walk": 1,
    "kind_lift": 1,
    "country_lift": 1,
    "same_cluster": 1,
    "market": 1,
    "language": 1,
    "industry": 1,
    "line_lexical": 1,
    "line_dense": 1,
    "line_lexical_rel": 1,
    "line_dense_rel": 1,
    "walk_rel": 1,
    "log_activity_rel": 1,
    # outcomes: more organizations like the query that met the candidate with interest can
    # only help it, more that turned it down only hurt it
    "peer_met": 1,
    "peer_declined": -1,
}
# Features also given relative to the best candidate of the same query: a vote or a walk
# score means little across queries (a broad query spreads more mass), and the model
# scores pairs one at a time, so it sees each candidate against its pool's best.
RELATIVE: tuple[str, ...] = ("line_lexical", "line_dense", "walk", "log_activity")
# The model file's format: the pickle holds the model for profile queries and the one
# for free text (a dict). A file of another version is refused (retrain).
FORMAT_VERSION = 2
# LightGBM ranking objectives, and the settings that differ from _fit_ranker's defaults.
# On the CORDIS dev queries the cross-entropy objective (rank_xendcg, larger leaves) ranks
# an organization's partners better than LambdaRank and a project text's participants
# worse, so each query type gets its own (service.offline.learning OBJECTIVE and
# TEXT_OBJECTIVE).
RANKER_OBJECTIVES: dict[str, dict[str, Any]] = {
    "lambdarank": {},
    "rank_xendcg": {"min_child_samples": 100},
}

# Compiled object files kept beside the index (six boosters per trained model: the newest
# models' files stay, older ones go).
NATIVE_KEEP = 24

# The hand weight of the outcome evidence (peer_met, and against peer_declined): used by
# the hand-weighted ranking and, always, by buyer matches (purpose_scores + hand_score)
PEER_WEIGHT = 0.4
# Organizations like the query whose outcomes are read (`peer_seeds`)
PEER_SEEDS = 10

# The fallback when nothing was learned: text fit first, then network and track record.
HAND_WEIGHTS: dict[str, float] = {
    "dense": 0.45,
    "lexical": 0.15,
    "need_offer": 0.10,
    "offer_need": 0.10,
    "walk": 0.10,
    "pseudo_walk": 0.05,
    "tie": 0.02,
    "log_activity": 0.02,
    "same_cluster": 0.03,
    # outcome evidence (0 without any, so nothing changes where no outcome is recorded);
    # set by hand, not tuned: a candidate the query itself (or a near twin) met with
    # strong interest (peer_met .25) gains what a .22 higher `dense` would give it
    "peer_met": PEER_WEIGHT,
    "peer_declined": -PEER_WEIGHT,
}


# The hand weights' text features: a buyer match measures text fit its own way
# (`product_fit`) and takes only the rest (network, track record, cluster) from here.
TEXT_FEATURES = frozenset({"dense", "lexical", "need_offer", "offer_need"})


def hand_score(x: np.ndarray, *, text: bool = True) -> np.ndarray:
    """Weighted sum of bounded features (NaN counts as 0, except that a lexical similarity
    that cannot be measured, across writing systems, borrows the dense one). `text`
    False: without TEXT_FEATURES."""
    x = x.copy()
    lex = x[:, INDEX["lexical"]]
    x[:, INDEX["lexical"]] = np.where(np.isnan(lex), x[:, INDEX["dense"]], lex)
    z = np.nan_to_num(x, nan=0.0)
    out = np.zeros(len(z), dtype=np.float64)
    bounded = {
        "walk": lambda v: np.minimum(1.0, v * 10),
        "pseudo_walk": lambda v: np.minimum(1.0, v * 10),
        "tie": lambda v: np.minimum(1.0, v),
        "log_activity": lambda v: np.minimum(1.0, v / 6),
    }
    for name, w in HAND_WEIGHTS.items():
        if not text and name in TEXT_FEATURES:
            continue
        col = z[:, INDEX[name]]
        out += w * (bounded[name](col) if name in bounded else col)
    return out


class Averaged:
    """Several rankers as one: the mean of their raw scores. Rankers trained on different
    samples of held-out history disagree by chance (their nDCG@10 on the CORDIS dev
    queries varies with the training seed); their mean varies less and ranks a little
    better than any one of them on average (see service.offline.learning.ENSEMBLE)."""

    def __init__(self, models: Sequence[Any]) -> None:
        if not models:
            raise ValueError("nothing to average")
        self.models = list(models)
        # the models compiled to native code (models.native), once `compile` succeeded:
        # the same scores, faster; never pickled (object code is per machine)
        self.native: list[NativeBooster] | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"models": self.models}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.models = state["models"]
        self.native = None

    def predict(self, x: np.ndarray) -> np.ndarray:
        native = self.native
        if native is not None:
            return np.mean([m.predict(x) for m in native], axis=0)
        return np.mean([_raw_score(m, x) for m in self.models], axis=0)

    def compile(self, cache_dir: Path) -> bool:
        """Compile every model (LightGBM boosters only) to native code, or none: True
        when `predict` now runs the compiled code."""
        boosters = [getattr(m, "booster_", None) for m in self.models]
        if not boosters or any(b is None for b in boosters):
            return False
        native = []
        for booster in boosters:
            compiled = compile_booster(booster, cache_dir)
            if compiled is None:
                return False
            native.append(compiled)
        self.native = native
        return True


def _raw_score(model: Any, x: np.ndarray) -> np.ndarray:
    """A ranker's raw scores. A LightGBM model is asked through its booster: the sklearn
    wrapper's input checks cost about 0.4 ms a call, ten times the scoring of 10 rows,
    and a request scores its pool and then the reasons' probes, once per averaged
    model."""
    booster = getattr(model, "booster_", None)
    return np.asarray((model if booster is None else booster).predict(x), dtype=np.float64)


@dataclass
class Reranker:
    """A fitted model over FEATURES (a pair classifier, or a ranker of each query's pool),
    and optionally another one for free-text queries; `score` is higher for the better
    partner."""

    model: Any
    meta: dict[str, Any] = field(default_factory=dict)
    text_model: Any = None  # None: `model` scores free-text queries too
    digest: str = ""  # checksum of the file it was saved to or loaded from ("": neither)

    def compile(self, cache_dir: Path) -> bool:
        """Score with native code from now on (models.native), the model for profile
        queries and the one for free texts; True when both run compiled. Compiled object
        files are kept in `cache_dir` (the newest NATIVE_KEEP)."""
        parts = [m for m in (self.model, self.text_model) if m is not None]
        done = all(isinstance(m, Averaged) and m.compile(cache_dir) for m in parts)
        prune_cache(cache_dir, NATIVE_KEEP)
        return done

    @property
    def native(self) -> bool:
        """Whether scoring runs compiled code (`compile`)."""
        parts = [m for m in (self.model, self.text_model) if m is not None]
        return all(getattr(m, "native", None) is not None for m in parts)

    def score(self, x: np.ndarray, *, text: bool = False) -> np.ndarray:
        """Per pair, a score in (0, 1): the classifier's probability, or a ranker's raw
        score through the logistic function (the same order). `text`: the query is a
        free text (no profile), scored by `text_model` where there is one."""
        model = self.text_model if text and self.text_model is not None else self.model
        with _one_thread():
            if hasattr(model, "predict_proba"):
                return np.asarray(model.predict_proba(x)[:, 1], dtype=np.float64)
            raw = _raw_score(model, x)
            return np.asarray(1.0 / (1.0 + np.exp(-raw)), dtype=np.float64)

    def contributions(
        self,
        x: np.ndarray,
        base: np.ndarray | None = None,
        names: Collection[str] | None = None,
        *,
        text: bool = False,
    ) -> np.ndarray:
        """Per pair and feature, how much the score drops when that feature is replaced by
        its typical (median) value: which features drove this candidate's score. `base`:
        the scores of `x` when the caller has them (saves a pass over every tree).
        `names`: only these features (the others' columns are 0); each one costs a pass
        of every tree over the rows. `text`: as in `score`."""
        if base is None:
            base = self.score(x, text=text)
        medians = np.asarray(self.meta.get("medians", [np.nan] * len(FEATURES)))
        m, f = x.shape
        cols = [j for j, name in enumerate(FEATURES) if names is None or name in names]
        out = np.zeros((m, f))
        if not cols or not m:
            return out
        probe = np.repeat(x[None, :, :], len(cols), axis=0)  # (cols, m, F)
        for i, j in enumerate(cols):
            probe[i, :, j] = medians[j]
        scores = self.score(probe.reshape(len(cols) * m, f), text=text).reshape(len(cols), m)
        out[:, cols] = (base[None, :] - scores).T
        return out  # (m, F)

    def save(self, path: Path) -> None:
        """Pickle of the model with a JSON header (format, features, checksum); written to
        a temporary file and renamed, so a crash never leaves half a model."""
        buf = io.BytesIO()
        models = {"model": self.model, "text_model": self.text_model}
        pickle.dump(models, buf, protocol=pickle.HIGHEST_PROTOCOL)
        blob = buf.getvalue()
        header = {
            "format_version": FORMAT_VERSION,
            "features": list(FEATURES),
            "sha256": hashlib.sha256(blob).hexdigest(),
            **self.meta,
        }
        self.digest = header["sha256"]
        tmp = path.with_name(path.name + ".tmp")
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            head = json.dumps(header).encode()
            fh.write(len(head).to_bytes(8, "little"))
            fh.write(head)
            fh.write(blob)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path) -> Reranker:
        """Raises ValueError when the file is not a model for these features."""
        data = path.read_bytes()
        if len(data) < 8:
            raise ValueError("model file is truncated")
        size = int.from_bytes(data[:8], "little")
        try:
            header = json.loads(data[8 : 8 + size])
        except ValueError as exc:
            raise ValueError("model header is unreadable") from exc
        blob = data[8 + size :]
        version, features = header.get("format_version"), header.get("features")
        if version != FORMAT_VERSION or features != list(FEATURES):
            raise ValueError("model was trained for another feature set")
        if hashlib.sha256(blob).hexdigest() != header.get("sha256"):
            raise ValueError("model file is corrupt")
        loaded = pickle.loads(blob)  # our own file, checksum verified above
        meta = {
            k: v for k, v in header.items() if k not in ("format_version", "features", "sha256")
        }
        return cls(loaded["model"], meta, loaded["text_model"], header["sha256"])


_THREADPOOLS: Any = None


def _one_thread() -> Any:
    """OpenMP limited to the calling thread, for scoring a few hundred rows: the model
    opens a parallel region per tree, and waking a thread team 300 times per request
    (with passive waiting, which the service sets) costs several times the scoring."""
    global _THREADPOOLS
    if _THREADPOOLS is None:
        from threadpoolctl import ThreadpoolController

        _THREADPOOLS = ThreadpoolController()  # inspects the loaded libraries once
    return _THREADPOOLS.limit(limits=1, user_api="openmp")


def query_balanced_weights(ys: Sequence[np.ndarray]) -> np.ndarray:
    """Sample weights for the rows of several queries (one label array each, stacked in
    that order): in every query the positives together weigh as much as the negatives
    together, and every query as much as any other; mean 1. A query with many partners or
    a big pool does not outweigh the rest, as in the per-query mean the evaluation
    takes."""
    parts = []
    for y in ys:
        pos = int(np.sum(y > 0))  # (graded labels: any grade above 0)
        neg = len(y) - pos
        parts.append(np.where(y > 0, 1.0 / max(1, pos), 1.0 / max(1, neg)))
    w = np.concatenate(parts) if parts else np.zeros(0)
    return w * (len(w) / w.sum()) if w.sum() > 0 else w


def train(
    x: np.ndarray,
    y: np.ndarray,
    *,
    seed: int = 0,
    max_iter: int = 150,
    sample_weight: np.ndarray | None = None,
    groups: Sequence[int] | None = None,
    objective: str = "lambdarank",
) -> Reranker:
    """Fit the re-ranker. Deterministic for a seed. Without `groups`: a histogram
    gradient-boosted classifier of the pairs (weighted by `sample_weight`); with
    `groups` (the pool size of each query, rows stacked in that order): a LightGBM
    ranker (`objective`, one of RANKER_OBJECTIVES) that learns the order within each
    query's pool, which is what the API returns (query groups without a positive teach it
    nothing and are dropped)."""
    x = x.copy()
    # A feature the history never filled in (no dates, say) carries no information; the
    # binner rejects all-NaN columns, so give them a constant.
    x[:, np.isnan(x).all(axis=0)] = 0.0
    monotone = [MONOTONE.get(name, 0) for name in FEATURES]
    model: Any
    if groups is None:
        from sklearn.ensemble import HistGradientBoostingClassifier

        model = HistGradientBoostingClassifier(
            max_iter=max_iter,
            learning_rate=0.1,
            max_leaf_nodes=31,
            min_samples_leaf=40,
            l2_regularization=1.0,
            early_stopping=False,
            random_state=seed,
            monotonic_cst=monotone,
        )
        model.fit(x, y, sample_weight=sample_weight)
    else:
        model = _fit_ranker(
            x,
            y,
            list(groups),
            seed=seed,
            max_iter=max_iter,
            monotone=monotone,
            objective=objective,
        )
    medians = [float(v) if not math.isnan(v) else 0.0 for v in np.nanmedian(x, axis=0)]
    meta = {
        "seed": seed,
        "rows": len(y),
        "positives": int((y > 0).sum()),
        "medians": medians,
        "objective": "binary" if groups is None else objective,
    }
    return Reranker(model, meta)


def averaged(parts: Sequence[Reranker], text_parts: Sequence[Reranker] = ()) -> Reranker:
    """One re-ranker from several trained on different samples of history: their models
    averaged (`Averaged`), `text_parts` likewise as the model for free-text queries; the
    typical values for `contributions` are `parts`' mean medians (their training sets hold
    every replayed query; the text parts' may be a subset of them, the free texts only)."""
    if not parts:
        raise ValueError("nothing to average")
    medians = np.mean([p.meta["medians"] for p in parts], axis=0)
    meta = {
        **parts[0].meta,
        "rows": sum(int(p.meta["rows"]) for p in parts),
        "positives": sum(int(p.meta["positives"]) for p in parts),
        "medians": [float(v) for v in medians],
        "members": len(parts),
    }
    if text_parts:
        meta["text_objective"] = text_parts[0].meta["objective"]
    return Reranker(
        Averaged([p.model for p in parts]),
        meta,
        Averaged([p.model for p in text_parts]) if text_parts else None,
    )


def ranker_available() -> str | None:
    """None when LightGBM (the LambdaRank ranker) loads here, else why not: its wheel needs
    the system's OpenMP runtime (libgomp1), which minimal images lack."""
    try:
        import lightgbm  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"LightGBM does not load ({exc})"
    return None


def _fit_ranker(
    x: np.ndarray,
    y: np.ndarray,
    groups: list[int],
    *,
    seed: int,
    max_iter: int,
    monotone: list[int],
    objective: str = "lambdarank",
) -> Any:
    """A LightGBM ranker over the query groups that have a positive, on one thread
    (deterministic, and the API scores a pool on one thread anyway)."""
    from lightgbm import LGBMRanker

    if objective not in RANKER_OBJECTIVES:
        raise ValueError(f"unknown ranking objective {objective!r}")
    if sum(groups) != len(y):
        raise ValueError("groups must add up to the number of rows")
    ends = np.cumsum(groups)
    starts = ends - np.asarray(groups)
    keep = [i for i, (a, b) in enumerate(zip(starts, ends, strict=True)) if y[a:b].any()]
    if not keep:
        raise ValueError("no query group has a positive")
    rows = np.concatenate([np.arange(starts[i], ends[i]) for i in keep])
    params: dict[str, Any] = {
        "n_estimators": max_iter,
        "learning_rate": 0.05,
        "num_leaves": 31,
        "min_child_samples": 40,
        "reg_lambda": 1.0,
        **RANKER_OBJECTIVES[objective],
    }
    model = LGBMRanker(
        objective=objective,
        monotone_constraints=monotone,
        monotone_constraints_method="advanced",
        random_state=seed,
        deterministic=True,
        force_row_wise=True,
        n_jobs=1,
        verbose=-1,
        **params,
    )
    model.fit(x[rows], y[rows], group=[groups[i] for i in keep])
    return model


def diversify(scores: np.ndarray, log_activity: np.ndarray, strength: float) -> np.ndarray:
    """Scores discounted by how established each candidate already is, so the same few big
    organizations do not fill every list: the discount is `strength` times the candidate's
    activity relative to the most active one in the pool, in units of the score spread.
    0 leaves the ranking as it is."""
    if strength <= 0 or scores.size == 0:
        return scores
    act = np.nan_to_num(log_activity, nan=0.0)
    top = float(act.max())
    if top <= 0:
        return scores
    spread = float(np.ptp(scores)) or 1.0
    return scores - strength * spread * act / top


def reciprocal_ranks(ranked: Sequence[int]) -> dict[int, float]:
    return {k: 1.0 / (i + 1) for i, k in enumerate(ranked)}


@dataclass(frozen=True, slots=True, eq=False)
class Signals:
    """What the retrieval sources said about one query's candidates: the lexical
    similarity of each (in the candidates' order), the reciprocal rank of each key in the
    dense and the lexical list, the network's walk / pseudo-walk scores per node
    (models.graph spread vectors), and the line votes per node (models.lines; None: no
    vote, 0). `lines` False: line votes are off for this catalogue (models.lines.LINES_MAX),
    their features NaN."""

    lexical: np.ndarray
    dense_rr: Mapping[int, float]
    lexical_rr: Mapping[int, float]
    walk: np.ndarray | None = None
    pseudo: np.ndarray | None = None
    line_lexical: np.ndarray | None = None
    line_dense: np.ndarray | None = None
    lines: bool = True


@dataclass(frozen=True, slots=True, eq=False)
class Lifts:
    """How much more often two kinds, and two countries, interact than chance
    (models.graph `kind_lift`; None: no history), with the code of each kind and country
    (a country first seen after the lift was computed has none there: NaN)."""

    kind: np.ndarray | None
    kind_code: Mapping[str, int]
    country: np.ndarray | None
    country_code: Mapping[str, int]


def peer_seeds(
    similarity: np.ndarray, nodes: np.ndarray, floor: float, q_node: int | None = None
) -> dict[int, float]:
    """The organizations like the query whose outcomes count (`peer_met`), with their
    weights: of the `nodes` that have outcome evidence, the PEER_SEEDS most similar to the
    query (`similarity`: cosines of the overall texts, in the order of `nodes`) above
    `floor` (the model's calibrated "similar activities" threshold), weighted by how far
    above it, 0..1; the query's own node, when it has evidence, weighs 1 (its own
    outcomes say the most)."""
    sims = np.nan_to_num(np.asarray(similarity, dtype=np.float64), nan=0.0)
    weights = np.clip((sims - floor) / max(1e-6, 1.0 - floor), 0.0, 1.0)
    keep = np.flatnonzero(weights > 0)
    keep = keep[np.lexsort((nodes[keep], -weights[keep]))][:PEER_SEEDS]
    seeds = {int(nodes[i]): float(weights[i]) for i in keep}
    if q_node is not None and bool(np.isin(q_node, nodes)):
        seeds[int(q_node)] = 1.0
    return seeds


def feature_matrix(
    q: Party,
    cands: Candidates,
    signals: Signals,
    *,
    graph: InteractionGraph | None = None,
    q_node: int | None = None,
    lifts: Lifts | None = None,
    peers: dict[int, float] | None = None,
) -> np.ndarray:
    """One row of FEATURES per candidate. `q_node` is the query's node in the graph (None
    for free text); `peers` the organizations like the query whose outcomes count
    (`peer_seeds`). Computed a column at a time (similarities as one matrix product per
    facet): a query scores hundreds of candidates."""
    m = len(cands)
    x = np.full((m, len(FEATURES)), np.nan, dtype=np.float64)
    if m == 0:
        return x
    keys = cands.keys
    x[:, INDEX["lexical"]] = signals.lexical
    if q.script:
        other_script = [bool(s) and s != q.script for s in cands.scripts]
        x[np.asarray(other_script, dtype=bool), INDEX["lexical"]] = np.nan
    dense_rr, lexical_rr = signals.dense_rr, signals.lexical_rr
    x[:, INDEX["dense_rr"]] = [dense_rr.get(k, 0.0) for k in keys.tolist()]
    x[:, INDEX["lexical_rr"]] = [lexical_rr.get(k, 0.0) for k in keys.tolist()]
    x[:, INDEX["dense"]] = cosines(q.all, cands.all, cands.has_all)
    x[:, INDEX["need_offer"]] = cosines(q.needs, cands.offers, cands.has_offers)
    x[:, INDEX["offer_need"]] = cosines(q.offers, cands.needs, cands.has_needs)
    if q.country:
        x[:, INDEX["same_country"]] = [
            float(q.country == c) if c else math.nan for c in cands.countries
        ]
    x[:, INDEX["same_cluster"]] = (
        [float(q.cluster == c) for c in cands.clusters] if q.cluster else 0.0
    )
    if q.markets:
        wanted = set(q.markets)
        x[:, INDEX["market"]] = [
            len(wanted & ({c, *mk} - {None})) / len(wanted)
            for c, mk in zip(cands.countries, cands.markets, strict=True)
        ]
    else:
        x[:, INDEX["market"]] = 0.0
    if q.languages:
        spoken = set(q.languages)
        x[:, INDEX["language"]] = [float(bool(spoken & set(ls))) for ls in cands.languages]
    else:
        x[:, INDEX["language"]] = 0.0
    x[:, INDEX["industry"]] = (
        [overlap(q.industries, ind) for ind in cands.industries] if q.industries else 0.0
    )
    if lifts is not None and lifts.kind is not None and q.kind in lifts.kind_code:
        kind_lift, kind_code = lifts.kind, lifts.kind_code
        codes = np.asarray([kind_code[k] for k in cands.kinds], dtype=np.int64)
        x[:, INDEX["kind_lift"]] = kind_lift[kind_code[q.kind], codes]
    if lifts is not None and lifts.country is not None and q.country:
        country_lift, country_code = lifts.country, lifts.country_code
        known = country_lift.shape[0]  # (countries first seen after the lift was computed: NaN)
        qc = country_code.get(q.country, known)
        cc = np.asarray([country_code.get(c, known) if c else known for c in cands.countries])
        if qc < known:
            inside = cc < known
            x[:, INDEX["country_lift"]] = np.where(
                inside, country_lift[qc, np.where(inside, cc, 0)], np.nan
            )
    if graph is not None:
        inside = keys < graph.n
        safe = np.where(inside, keys, 0)
        x[:, INDEX["log_activity"]] = np.where(inside, np.log1p(graph.activity[safe]), 0.0)
        x[:, INDEX["days_since"]] = np.where(inside, graph.days_since[safe], np.nan)
        if q_node is not None and graph.has(q_node):
            x[:, INDEX["tie"]] = np.where(inside, np.log1p(graph.ties(q_node, safe)), 0.0)
            common, aa = graph.common_and_aa(q_node, safe)
            x[:, INDEX["common"]] = np.where(inside, np.log1p(common), 0.0)
            x[:, INDEX["adamic_adar"]] = np.where(inside, aa, 0.0)
            x[:, INDEX["query_log_activity"]] = math.log1p(float(graph.activity[q_node]))
        else:
            x[:, INDEX["tie"]] = 0.0
            x[:, INDEX["common"]] = 0.0
            x[:, INDEX["adamic_adar"]] = 0.0
            x[:, INDEX["query_log_activity"]] = 0.0
        for name, vec in (("walk", signals.walk), ("pseudo_walk", signals.pseudo)):
            x[:, INDEX[name]] = np.where(inside, vec[safe], 0.0) if vec is not None else 0.0
        # the seeds' weights add up (not a mean): one very similar firm's contract says
        # more than ten loosely similar firms' silence takes away
        if peers:
            met, declined = graph.peer_evidence(peers, safe)
            x[:, INDEX["peer_met"]] = np.where(inside, met, 0.0)
            x[:, INDEX["peer_declined"]] = np.where(inside, declined, 0.0)
        else:
            x[:, [INDEX["peer_met"], INDEX["peer_declined"]]] = 0.0
    lines = signals.lines
    for name, votes in (("line_lexical", signals.line_lexical), ("line_dense", signals.line_dense)):
        if not lines:
            continue  # NaN, here and in the *_rel column below
        if votes is None:
            x[:, INDEX[name]] = 0.0
        else:
            within = keys < votes.size
            x[:, INDEX[name]] = np.where(within, votes[np.where(within, keys, 0)], 0.0)
    relative_columns(x)
    if not lines:
        x[:, [INDEX["line_lexical_rel"], INDEX["line_dense_rel"]]] = np.nan
    return x


def _mean_present(columns: Sequence[np.ndarray], default: np.ndarray) -> np.ndarray:
    """Per row, the mean of the columns' non-NaN values (`default` where all are NaN): the
    column form of models.matching's `_mean` of the similarities a pair has."""
    stacked = np.stack(columns)
    present = (~np.isnan(stacked)).sum(axis=0)
    total = np.nan_to_num(stacked, nan=0.0).sum(axis=0)
    return np.where(present > 0, total / np.maximum(present, 1), default)


def purpose_scores(
    q: Party, cands: Candidates, x: np.ndarray, purpose: Purpose, fit: np.ndarray | None = None
) -> np.ndarray:
    """The hand-weighted purpose score (models.matching `score` of `features`) of every
    candidate at once, from the columns of its feature matrix `x`: what ranks candidates
    when there is no learned re-ranker (and always for buyers). `fit`: the buyer's
    `product_fit` of this pool when the caller has it."""
    nan0 = np.nan_to_num
    topic = nan0(x[:, INDEX["dense"]], nan=0.0)
    need_offer = x[:, INDEX["need_offer"]]
    offer_need = x[:, INDEX["offer_need"]]
    complement = _mean_present([need_offer, offer_need], 0.8 * topic)
    f: dict[str, np.ndarray] = {
        "topic": topic,
        "complement": complement,
        "industry": x[:, INDEX["industry"]],
        "cluster": x[:, INDEX["same_cluster"]],
        "market": x[:, INDEX["market"]],
        "language": x[:, INDEX["language"]],
    }
    if purpose == "buyer":
        f["demand"] = product_fit(q, cands, x) if fit is None else fit
        f["channel"] = nan0(need_offer, nan=0.0)
        f["kind_fit"] = np.asarray([BUYER_KIND_FIT.get(k, 0.0) for k in cands.kinds])
    elif purpose == "academia":
        via_all = cosines(q.needs, cands.all, cands.has_all)
        research = np.where(np.isnan(via_all), 0.8 * topic, via_all)
        f["research"] = np.where(np.isnan(need_offer), research, need_offer)
        academic = CANDIDATE_KINDS["academia"] or frozenset()
        f["kind_fit"] = np.full(len(cands), 1.0 if q.kind not in academic else 0.5)
    else:
        f["kind_fit"] = np.asarray(
            [1.0 if q.kind != k or q.kind == "firm" else 0.5 for k in cands.kinds]
        )
    out = np.zeros(len(cands))
    for name, w in WEIGHTS[purpose].items():
        out += w * f[name]
    return out


# Below this many measured candidates a pool's spread says little: its similarities are
# used as they are (centred on the calibrated unrelated level instead).
FIT_MIN_POOL = 5
# The spread (in standard deviations of the pool) that maps to 1.0 of the fit.
FIT_SPREAD = 3.0
# How much of its text fit a maker without stated needs keeps (`product_fit`).
MAKER_GUESS = 0.5


def _standardized(col: np.ndarray) -> np.ndarray:
    """A similarity column in units of its pool's spread: (value - pool mean) / pool std,
    NaN where the value is. The pool is mostly unrelated organizations, so its mean is the
    level an unrelated pair reaches for this comparison and this query, which differs by
    comparison (an offer list against a need list sits higher than against a whole
    description) and by query; standardized, comparisons on different scales agree."""
    present = ~np.isnan(col)
    out = np.full(col.shape, np.nan)
    if present.sum() < FIT_MIN_POOL:
        out[present] = col[present] - 0.3  # about the unrelated level of the model
        return out * FIT_SPREAD
    v = col[present]
    sd = float(v.std()) or 1.0
    out[present] = (v - float(v.mean())) / sd
    return out


def product_fit(q: Party, cands: Candidates, x: np.ndarray) -> np.ndarray:
    """How well what the query offers fits what each candidate buys, from every
    comparison both sides allow: the query's offers against the candidate's needs and its
    whole text, the query's whole text against the candidate's needs and its whole text.
    Each is standardized over the pool (`_standardized`) and the available ones averaged,
    so a buyer that lists its needs and one that only describes them compete on one scale
    (raw, an offer list against a need list sits far above the same offers against a
    description). Scaled so that FIT_SPREAD pool deviations make 1.0, about the span of
    the other buyer features."""
    # A trading company's text says what it trades, that is what it buys; a maker's text
    # says what it makes (alike: a competitor), so a maker that lists needs is read by
    # them alone.
    by_needs = cands.has_needs & np.asarray([k != "trading_company" for k in cands.kinds])
    whole = [
        np.where(by_needs, np.nan, c)
        for c in (cosines(q.offers, cands.all, cands.has_all), x[:, INDEX["dense"]])
    ]
    columns = [x[:, INDEX["offer_need"]], cosines(q.all, cands.needs, cands.has_needs), *whole]
    fit = _mean_present([_standardized(c) for c in columns], np.zeros(len(cands)))
    # A maker that names no needs is a buyer only by guess: its text fits what it makes
    # (a neighbour or a competitor), so that fit counts half.
    guess = ~cands.has_needs & np.asarray([k != "trading_company" for k in cands.kinds])
    fit = np.where(guess & (fit > 0), MAKER_GUESS * fit, fit)
    return fit / FIT_SPREAD


def competitors(
    q: Party,
    cands: Candidates,
    x: np.ndarray,
    purpose: Purpose,
    calibration: Calibration = DEFAULT_CALIBRATION,
    *,
    free_text: bool = False,
) -> np.ndarray:
    """The candidates that may not be ranked for `purpose` (a bool mask): for buyers, the
    competitors, that is firms offering what the query offers (offers as close as
    `calibration.same_offer`) whose needs do not ask for it (offers against needs below
    `calibration.demand`, or no needs). The one place this rule lives: a gear maker is
    not a buyer for another gear maker unless its needs say it buys gears. A free text
    stands for what is sought and what is offered alike (models.matching `Party.of_text`),
    so it names no competitor."""
    if purpose != "buyer" or q.offers is None or free_text:
        return np.zeros(len(cands), dtype=bool)
    same = cosines(q.offers, cands.offers, cands.has_offers)
    asks = x[:, INDEX["offer_need"]]
    with np.errstate(invalid="ignore"):  # NaN (a facet missing) compares as False
        return (same >= calibration.same_offer) & ~(asks >= calibration.demand)


def relative_columns(x: np.ndarray) -> None:
    """Fill the `*_rel` columns of one query's pool in place: each RELATIVE feature over
    its largest value in the pool (0 where none is positive; NaN counts as 0)."""
    for name in RELATIVE:
        col = np.nan_to_num(x[:, INDEX[name]], nan=0.0)
        top = float(col.max()) if col.size else 0.0
        x[:, INDEX[name + "_rel"]] = col / top if top > 0 else 0.0
