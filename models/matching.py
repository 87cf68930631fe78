"""Purpose-aware two-sided scoring and explanations, pure: vectors and profile fields in,
scores and reasons out. The service layer finds candidates (FAISS) and hands them here.

Each purpose says which organizations are candidates and what makes a good fit. Scores
combine features that each lie in [0, 1]-ish ranges:

- topic: cosine of the overall texts (what both do);
- complement: the query's needs against the candidate's offers and the candidate's needs
  against the query's offers, averaged over the directions both sides filled in - the score
  says how well each side fits the other, not only how similar they are;
- demand / channel (buyer): the query's offers against the candidate's needs, and the
  candidate's offers (its channels, services) against the query's needs;
- market: the query's target markets served by the candidate (country or markets);
- language: languages both can work in (overseas);
- cluster / industry / kind fit: context that coordinators use.

The weights here are the hand-set fallback; a learned re-ranker can replace `score`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol, get_args

import numpy as np

Purpose = Literal["partner", "buyer", "overseas", "academia"]
PURPOSES: tuple[str, ...] = get_args(Purpose)
Lang = Literal["en", "ja"]

BUYER_KIND_FIT: dict[str, float] = {"trading_company": 1.0, "firm": 0.6, "other": 0.3}
CANDIDATE_KINDS: dict[str, frozenset[str] | None] = {
    "partner": None,
    "overseas": None,
    "buyer": frozenset(BUYER_KIND_FIT),
    "academia": frozenset({"university", "research_institute"}),
}

WEIGHTS: dict[str, dict[str, float]] = {
    "partner": {
        "topic": 0.45,
        "complement": 0.40,
        "industry": 0.05,
        "cluster": 0.05,
        "kind_fit": 0.05,
    },
    "overseas": {
        "topic": 0.40,
        "complement": 0.35,
        "language": 0.10,
        "industry": 0.05,
        "market": 0.10,
    },
    "buyer": {"demand": 0.60, "channel": 0.10, "market": 0.25, "kind_fit": 0.15},
    "academia": {"research": 0.50, "topic": 0.40, "cluster": 0.05, "kind_fit": 0.05},
}


@dataclass
class Party:
    """One side of a match: the fields scoring needs and the facet vectors (L2-normalised;
    `offers` / `needs` are None when the profile leaves them empty)."""

    key: int
    kind: str
    country: str | None = None
    cluster: str | None = None
    industries: Sequence[str] = ()
    markets: Sequence[str] = ()
    languages: Sequence[str] = ()
    all: np.ndarray | None = None
    offers: np.ndarray | None = None
    needs: np.ndarray | None = None
    script: str | None = None  # dominant writing system of its text (models.lexical.script)

    @classmethod
    def of_text(
        cls,
        vec: np.ndarray,
        purpose: Purpose,
        *,
        script: str | None = None,
        country: str | None = None,
    ) -> Party:
        """A free-text query (encoded as `vec`): what the searcher looks for, and, for
        buyer searches, also what they offer."""
        return cls(
            key=-1,
            kind="other",
            country=country,
            all=vec,
            needs=vec,
            offers=vec if purpose == "buyer" else None,
            script=script,
        )


class Described(Protocol):
    """The fields candidates are compared on (a `Party`, or a stored profile)."""

    @property
    def kind(self) -> str: ...
    @property
    def country(self) -> str | None: ...
    @property
    def cluster(self) -> str | None: ...
    @property
    def industries(self) -> Sequence[str]: ...
    @property
    def markets(self) -> Sequence[str]: ...
    @property
    def languages(self) -> Sequence[str]: ...


@dataclass
class Candidates:
    """The candidates of one query as columns: what feature computation reads, one array or
    list per field instead of one `Party` per candidate (a query scores hundreds of them).
    Facet matrices hold zero rows where a candidate has no such facet (`has_*` False)."""

    keys: np.ndarray  # int64 (m,)
    kinds: Sequence[str]
    countries: Sequence[str | None]
    clusters: Sequence[str | None]
    industries: Sequence[Sequence[str]]
    markets: Sequence[Sequence[str]]
    languages: Sequence[Sequence[str]]
    scripts: Sequence[str | None]
    all: np.ndarray  # float32 (m, dim)
    offers: np.ndarray
    needs: np.ndarray
    has_all: np.ndarray  # bool (m,)
    has_offers: np.ndarray
    has_needs: np.ndarray

    def __len__(self) -> int:
        return int(self.keys.size)

    def party(self, i: int) -> Party:
        """Candidate `i` as a `Party` (for per-candidate scoring and explanations)."""
        return Party(
            key=int(self.keys[i]),
            kind=self.kinds[i],
            country=self.countries[i],
            cluster=self.clusters[i],
            industries=self.industries[i],
            markets=self.markets[i],
            languages=self.languages[i],
            all=self.all[i] if self.has_all[i] else None,
            offers=self.offers[i] if self.has_offers[i] else None,
            needs=self.needs[i] if self.has_needs[i] else None,
            script=self.scripts[i],
        )

    @classmethod
    def assemble(
        cls,
        keys: np.ndarray,
        fields: Sequence[Described],
        scripts: Sequence[str | None],
        facets: Mapping[str, tuple[np.ndarray, np.ndarray]],
    ) -> Candidates:
        """Columns from per-candidate fields (profiles or parties), their scripts and the
        (matrix, present) pair of each facet."""
        return cls(
            keys=keys,
            kinds=[f.kind for f in fields],
            countries=[f.country for f in fields],
            clusters=[f.cluster for f in fields],
            industries=[f.industries for f in fields],
            markets=[f.markets for f in fields],
            languages=[f.languages for f in fields],
            scripts=list(scripts),
            all=facets["all"][0],
            offers=facets["offers"][0],
            needs=facets["needs"][0],
            has_all=facets["all"][1],
            has_offers=facets["offers"][1],
            has_needs=facets["needs"][1],
        )

    @classmethod
    def of(cls, parties: Sequence[Party], dim: int) -> Candidates:
        """Columns from `Party` objects (tests, small callers)."""

        def facet(name: str) -> tuple[np.ndarray, np.ndarray]:
            rows = [getattr(p, name) for p in parties]
            has = np.asarray([r is not None for r in rows], dtype=bool)
            out = np.zeros((len(parties), dim), dtype=np.float32)
            for i, r in enumerate(rows):
                if r is not None:
                    out[i] = r
            return out, has

        return cls.assemble(
            np.asarray([p.key for p in parties], dtype=np.int64),
            parties,
            [p.script for p in parties],
            {name: facet(name) for name in ("all", "offers", "needs")},
        )


def cosines(q: np.ndarray | None, block: np.ndarray, present: np.ndarray) -> np.ndarray:
    """Cosine of a query facet with each row of a block (NaN where the query or the
    candidate lacks that facet), clipped to [-1, 1] like `cosine`."""
    out = np.full(present.shape, np.nan, dtype=np.float64)
    if q is None or not present.any():
        return out
    sims = np.clip(block @ q, -1.0, 1.0)
    out[present] = sims[present]
    return out


@dataclass
class Scored:
    key: int
    score: float
    features: dict[str, float] = field(default_factory=dict)


def candidate_kinds(purpose: Purpose, requested: Sequence[str] | None) -> frozenset[str] | None:
    """Kinds that may be returned for a purpose, narrowed by a caller's filter. An empty
    set means the filter excludes every candidate the purpose allows."""
    allowed = CANDIDATE_KINDS[purpose]
    if not requested:
        return allowed
    wanted = frozenset(requested)
    return wanted if allowed is None else wanted & allowed


def cosine(a: np.ndarray | None, b: np.ndarray | None) -> float | None:
    if a is None or b is None:
        return None
    v = float(a @ b)
    return -1.0 if v < -1.0 else 1.0 if v > 1.0 else v  # np.clip costs 3 us per call here


def _mean(values: Sequence[float | None]) -> float | None:
    present = [v for v in values if v is not None]
    return sum(present) / len(present) if present else None


def overlap(a: Sequence[str], b: Sequence[str]) -> float:
    if not a or not b:
        return 0.0
    sa, sb = {x.casefold() for x in a}, {x.casefold() for x in b}
    return len(sa & sb) / min(len(sa), len(sb))


def features(q: Party, c: Party, purpose: Purpose) -> dict[str, float]:
    """The features of candidate `c` for query `q`. Missing facets fall back to the overall
    text, discounted, so profiles without offers/needs still rank sensibly."""
    topic = cosine(q.all, c.all) or 0.0
    need_offer = cosine(q.needs, c.offers)
    offer_need = cosine(q.offers, c.needs)
    f: dict[str, float] = {"topic": topic}
    if need_offer is not None:
        f["need_offer"] = need_offer
    if offer_need is not None:
        f["offer_need"] = offer_need
    complement = _mean([need_offer, offer_need])
    f["complement"] = complement if complement is not None else 0.8 * topic
    f["industry"] = overlap(q.industries, c.industries)
    f["cluster"] = 1.0 if q.cluster and c.cluster and q.cluster == c.cluster else 0.0
    served = {c.country, *c.markets} - {None}
    f["market"] = (len(set(q.markets) & served) / len(set(q.markets))) if q.markets else 0.0
    f["language"] = 1.0 if set(q.languages) & set(c.languages) else 0.0
    if purpose == "buyer":
        # one pair's product fit, unstandardized; a pool's ranking standardizes each
        # comparison over the pool instead (models.ranking.product_fit)
        demand = offer_need
        if demand is None:
            demand = _mean([cosine(q.offers, c.all), cosine(q.all, c.needs)])
        f["demand"] = demand if demand is not None else 0.7 * topic
        f["channel"] = need_offer if need_offer is not None else 0.0
        f["kind_fit"] = BUYER_KIND_FIT.get(c.kind, 0.0)
    elif purpose == "academia":
        research = need_offer if need_offer is not None else cosine(q.needs, c.all)
        f["research"] = research if research is not None else 0.8 * topic
        f["kind_fit"] = 1.0 if q.kind not in CANDIDATE_KINDS["academia"] else 0.5  # type: ignore[operator]
    else:
        # Industry-academia and firm-firm pairs are what cluster programmes broker.
        f["kind_fit"] = 1.0 if q.kind != c.kind or q.kind == "firm" else 0.5
    return f


def score(f: dict[str, float], purpose: Purpose) -> float:
    """The hand-weighted score of one pair's features (models.ranking `purpose_scores`
    computes it for a whole pool at once)."""
    return sum(w * f.get(name, 0.0) for name, w in WEIGHTS[purpose].items())


# ---------------------------------------------------------------------------------------
# Explanations


@dataclass(frozen=True)
class Calibration:
    """Similarities (cosines of the model's embeddings) above which a pair means something,
    calibrated per model by scripts/calibrate_reasons.py: each is the 95th percentile of the
    same similarity among unrelated pairs of the demo corpus (no shared industry, no past
    interaction), so that an unrelated pair passes it 5 % of the time.

    item        a need and an offer close enough to be named as a reason
    topic       overall texts close enough for "similar activities"
    demand      one side's offers (as one text) against the other's needs: "they ask for
                what you offer" (what keeps a same-product firm a buyer)
    same_offer  both sides' offers: they make the same thing (a competitor, for buyers)
    text_item, text_topic
                `item` and `topic` for a free-text query (a sentence against an offer, or
                against an overall text, sits lower than two profiles' texts)
    """

    item: float
    topic: float
    demand: float
    same_offer: float
    text_item: float
    text_topic: float

    def for_text(self) -> Calibration:
        """The thresholds of a free-text query's reasons."""
        return replace(self, item=self.text_item, topic=self.text_topic)


CALIBRATIONS: dict[str, Calibration] = {
    # scripts/calibrate_reasons.py, seed 0, 4,000 unrelated demo pairs, 126 related ones
    # (the demo's past deals, collaborations and meetings). Passing: item .31 of related
    # pairs and .835 of the 255 offer / need translations of tests/data; topic .72 of
    # related pairs; demand .44; same_offer .96 of the 24 pairs of demo firms making the
    # same product in two languages; text_topic and text_item 1.0 of the 24 organizations
    # the 8 queries of tests/data/demo_topics.json are written for (unrelated: the 1,448
    # other query-organization pairs). The pair "欧州の販売代理店" / "Traction inverters for
    # commercial EVs" is at .36: not named.
    "use-multilingual-v3": Calibration(
        item=0.47, topic=0.42, demand=0.38, same_offer=0.35, text_item=0.25, text_topic=0.26
    ),
    # the tests' HashingEncoder(dim=64), same script and data
    "hashing-test": Calibration(
        item=0.36, topic=0.31, demand=0.29, same_offer=0.26, text_item=0.26, text_topic=0.23
    ),
}
DEFAULT_CALIBRATION = CALIBRATIONS["use-multilingual-v3"]
"""For a model not calibrated here (run scripts/calibrate_reasons.py --model NAME and add
it): the default model's."""


def calibration_for(model_id: str) -> Calibration:
    return CALIBRATIONS.get(model_id, DEFAULT_CALIBRATION)


@dataclass(frozen=True)
class ItemMatch:
    query_item: str
    candidate_item: str
    similarity: float


def best_item_match(
    q_items: Sequence[str],
    q_vecs: np.ndarray | None,
    c_items: Sequence[str],
    c_vecs: np.ndarray | None,
) -> ItemMatch | None:
    """The closest pair between two lists of embedded items (e.g. needs vs offers)."""
    if not q_items or not c_items or q_vecs is None or c_vecs is None:
        return None
    sims = q_vecs @ c_vecs.T
    i, j = np.unravel_index(int(np.argmax(sims)), sims.shape)
    return ItemMatch(q_items[int(i)], c_items[int(j)], float(sims[i, j]))


@dataclass(frozen=True)
class Reason:
    code: str
    text: str
    weight: float
    detail: dict[str, object] = field(default_factory=dict)


_TEXTS: dict[str, dict[Lang, str]] = {
    "need_offer": {
        "en": "Your need “{q}” ↔ their offer “{c}”",
        "ja": "貴社のニーズ「{q}」↔ 先方の提供「{c}」",
    },
    "offer_need": {
        "en": "Their need “{c}” ↔ your offer “{q}”",
        "ja": "先方のニーズ「{c}」↔ 貴社の提供「{q}」",
    },
    "topic": {
        "en": "Similar activities (similarity {s:.2f})",
        "ja": "事業・研究内容が近い（類似度 {s:.2f}）",
    },
    "industry": {"en": "Shared industries: {v}", "ja": "共通の分野: {v}"},
    "cluster": {"en": "Same cluster: {v}", "ja": "同じクラスター: {v}"},
    "market": {"en": "Serves your target markets: {v}", "ja": "貴社の目標市場に対応: {v}"},
    "language": {"en": "Common working languages: {v}", "ja": "共通の業務言語: {v}"},
    "kind": {"en": "A {v} — a sales channel", "ja": "{v}（販路）"},
    "region": {
        "en": "In {region}, as your search asks ({v})",
        "ja": "ご指定の地域「{region}」の組織（{v}）",
    },
}

NO_REASON: dict[Lang, str] = {"en": "similar profile", "ja": "類似したプロフィール"}
"""The `reason` of a result without reasons (matching leaves those out; kept for callers
that rank without explaining)."""

_KIND_LABEL: dict[Lang, dict[str, str]] = {
    "en": {"trading_company": "trading company", "firm": "firm"},
    "ja": {"trading_company": "商社", "firm": "企業"},
}

# Which features a purpose's reasons draw on; a feature below its floor is not a reason.
# Item pairs and the overall texts' similarity have the model's calibrated floors
# (`Calibration`): below them a similarity says nothing, and the reasons name only what
# else drove the match (markets, languages, kind, cluster, network), or nothing.
_FLOORS = {
    "industry": 0.01,
    "cluster": 0.5,
    "market": 0.01,
    "language": 0.5,
}


def explain(
    q: Party,
    c: Party,
    f: dict[str, float],
    purpose: Purpose,
    *,
    need_offer: ItemMatch | None = None,
    offer_need: ItemMatch | None = None,
    lang: Lang = "en",
    limit: int = 3,
    calibration: Calibration = DEFAULT_CALIBRATION,
) -> list[Reason]:
    """The reasons behind a score, strongest contribution first. Item matches (which of the
    query's needs meets which of the candidate's offers) name the actual items, when they
    are closer than `calibration.item`."""
    weights = WEIGHTS[purpose]
    out: list[Reason] = []

    def add(code: str, contribution: float, detail: dict[str, object], **fmt: object) -> None:
        out.append(Reason(code, _TEXTS[code][lang].format(**fmt), round(contribution, 4), detail))

    complement_w = weights.get("complement", 0.0) / 2 + weights.get("research", 0.0)
    if need_offer and need_offer.similarity >= calibration.item:
        w = complement_w + weights.get("channel", 0.0)
        add(
            "need_offer",
            w * need_offer.similarity,
            {
                "query_item": need_offer.query_item,
                "candidate_item": need_offer.candidate_item,
                "similarity": round(need_offer.similarity, 4),
            },
            q=need_offer.query_item,
            c=need_offer.candidate_item,
        )
    if offer_need and offer_need.similarity >= calibration.item:
        w = weights.get("complement", 0.0) / 2 + weights.get("demand", 0.0)
        add(
            "offer_need",
            w * offer_need.similarity,
            {
                "query_item": offer_need.query_item,
                "candidate_item": offer_need.candidate_item,
                "similarity": round(offer_need.similarity, 4),
            },
            q=offer_need.query_item,
            c=offer_need.candidate_item,
        )
    if f["topic"] >= calibration.topic:
        # a buyer match counts the whole texts as one of the four comparisons of its
        # product fit (models.ranking.product_fit)
        topic_w = weights.get("topic", weights.get("demand", 0.0) / 4)
        add(
            "topic",
            topic_w * f["topic"],
            {"similarity": round(f["topic"], 4)},
            s=f["topic"],
        )
    shared = sorted(
        {x for x in q.industries if x.casefold() in {y.casefold() for y in c.industries}}
    )
    if shared:
        add(
            "industry",
            weights.get("industry", 0.02) * f["industry"],
            {"values": shared},
            v=", ".join(shared[:4]),
        )
    if f["cluster"] >= _FLOORS["cluster"] and c.cluster:
        add("cluster", weights.get("cluster", 0.02), {"value": c.cluster}, v=c.cluster)
    served = sorted(set(q.markets) & ({c.country, *c.markets} - {None}))
    if served and purpose in ("buyer", "overseas"):
        add(
            "market",
            weights.get("market", 0.0) * f["market"],
            {"values": served},
            v=", ".join(served[:6]),
        )
    common = sorted(set(q.languages) & set(c.languages))
    if common and purpose == "overseas":
        add("language", weights["language"], {"values": common}, v=", ".join(common))
    if purpose == "buyer" and c.kind == "trading_company":
        add(
            "kind",
            weights["kind_fit"] * f["kind_fit"],
            {"value": c.kind},
            v=_KIND_LABEL[lang][c.kind],
        )
    out.sort(key=lambda r: -r.weight)
    return out[:limit]


def region_reason(
    region: str, country: str, lang: Lang, weight: float, detail: dict[str, object]
) -> Reason:
    """Why a free-text search put this organization first: the text named its region (or
    its country), e.g. "In Europe, as your search asks (Italy)"; labels in `lang`."""
    return Reason("region", _TEXTS["region"][lang].format(region=region, v=country), weight, detail)


_NETWORK_TEXTS: dict[str, dict[Lang, str]] = {
    "tie": {"en": "Has worked with you before", "ja": "過去に協業・商談の実績あり"},
    "shared_partners": {"en": "Shared partners: {v}", "ja": "共通のパートナー: {v}"},
    "network": {
        "en": "Close in your network (partners of your partners)",
        "ja": "ネットワーク上で近い（パートナーのパートナー）",
    },
    "track_record": {
        "en": "Active: about {n} past collaborations",
        "ja": "活発: 過去の連携 約{n}件",
    },
    "lexical": {
        "en": "Similar wording (text similarity {s:.2f})",
        "ja": "記述が類似（テキスト類似度 {s:.2f}）",
    },
}


#: The ranking feature behind each reason code: a learned ranker's contribution of that
#: feature weighs the reason (only these features' contributions are computed).
REASON_FEATURES: dict[str, str] = {
    "need_offer": "need_offer",
    "offer_need": "offer_need",
    "topic": "dense",
    "industry": "industry",
    "cluster": "same_cluster",
    "market": "market",
    "language": "language",
    "kind": "kind_lift",
    "lexical": "lexical",
    "tie": "tie",
    "shared_partners": "common",
    "network": "walk",
    "track_record": "log_activity",
    "outcomes": "peer_met",
}


def network_reasons(
    f: dict[str, float],
    lang: Lang,
    *,
    shared: Sequence[str] = (),
    contributions: dict[str, float] | None = None,
) -> list[Reason]:
    """Reasons from track record, network and wording (the features that the learned
    ranker weighs); weights are the features' contributions when known."""
    contributions = contributions or {}

    def w(name: str, default: float) -> float:
        return round(float(contributions.get(name, default)), 4)

    out: list[Reason] = []
    if f.get("tie", 0.0) > 0:
        out.append(Reason("tie", _NETWORK_TEXTS["tie"][lang], w(REASON_FEATURES["tie"], 0.05)))
    if shared:
        out.append(
            Reason(
                "shared_partners",
                _NETWORK_TEXTS["shared_partners"][lang].format(v=", ".join(shared)),
                w(REASON_FEATURES["shared_partners"], 0.04),
                {"partners": list(shared)},
            )
        )
    elif f.get("walk", 0.0) > 0.001:
        out.append(
            Reason("network", _NETWORK_TEXTS["network"][lang], w(REASON_FEATURES["network"], 0.03))
        )
    activity = f.get("log_activity", 0.0)
    if activity >= 2.0:
        n = round(float(np.expm1(activity)))
        out.append(
            Reason(
                "track_record",
                _NETWORK_TEXTS["track_record"][lang].format(n=n),
                w(REASON_FEATURES["track_record"], 0.01),
                {"interactions": n},
            )
        )
    if f.get("lexical", 0.0) >= 0.25:
        out.append(
            Reason(
                "lexical",
                _NETWORK_TEXTS["lexical"][lang].format(s=f["lexical"]),
                w(REASON_FEATURES["lexical"], 0.02),
                {"similarity": round(f["lexical"], 4)},
            )
        )
    return out
