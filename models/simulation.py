"""A seeded simulation of a program's business-matching events, to measure what outcomes
teach the ranking when no real outcome data exists yet. Pure: the runner
(service.offline.simulation) stores the events and outcomes and asks the engine.

The world (`World`): sellers (a cluster's firms) and buyers (trading companies and
overseas firms). Each buyer has hidden true needs: how much it wants each seller is

    fit = STATED * stated + (1 - STATED) * hidden[buyer, family of the seller] + noise

where `stated` is what its profile says (the caller measures it: the seller's offers
against the buyer's needs, percentile-ranked), `hidden` an unwritten preference per
product family (a Dirichlet draw: a few families matter to each buyer), and `noise` a
pair's own luck. The fit is turned into percentiles, so every threshold below is a
share of all pairs. The matching and the reasons never see `fit`; they see the profiles
and, after events, the outcomes drawn from it.

Events: each invites a sample of the sellers and of the program's buyers (buyers come
back event after event, so their outcomes can teach). The meetings of an event are the
suggestions the ranking makes (its top SUGGESTED per seller) and each buyer's own wishes
(drawn by fit: a buyer knows what it wants); a buyer refuses a suggestion it plainly does
not want (a `no` wish). Outcomes follow the fit: no-shows more often where it is low,
interest by thresholds on the fit plus noise, follow-up stages for the best pairs.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np

from models.outcomes import Interest, Stage

STATED = 0.5  # the share of a buyer's true fit that its profile states
PAIR_NOISE = 0.1  # a pair's own luck, in units of the fit's spread
CONCENTRATION = 0.4  # Dirichlet concentration of hidden needs (small: a few families)
SUGGESTED = 4  # meetings a seller gets from the suggestions
WISHES = 2  # meetings each buyer asks for itself
OUTCOME_NOISE = 0.1  # what the day adds to the fit (in percentiles)

# Families of products, by the industry tags of the demo corpus' firms (Japanese tags):
# a seller's family is its first tag found here, else "other".
FAMILIES: dict[str, tuple[str, ...]] = {
    "machining": (
        "精密加工",
        "歯車",
        "プレス加工",
        "精密板金",
        "表面処理",
        "熱処理",
        "工具",
        "モーター",
    ),
    "automotive": ("自動車部品",),
    "medical": ("医療機器", "医薬", "バイオ"),
    "electronics": ("半導体", "電子部品", "センサー", "IoT", "光学", "計測機器", "検査装置"),
    "energy": ("環境", "水素", "燃料電池", "環境・エネルギー", "蓄電池"),
    "digital": ("IT", "製造業DX", "画像処理", "自動化", "ロボット", "製造装置"),
    "food": ("食品",),
    "materials": ("材料", "セラミックス", "複合材料", "化学", "繊維", "アパレル"),
}


def family_of(industries: Sequence[str]) -> str:
    for tag in industries:
        for family, tags in FAMILIES.items():
            if tag in tags:
                return family
    return "other"


@dataclass(frozen=True)
class World:
    """Sellers and buyers (profile ids) and the hidden fit of each (seller, buyer), as
    percentiles in [0, 1] (`fit[i, j]`: seller i, buyer j)."""

    sellers: tuple[str, ...]
    buyers: tuple[str, ...]
    fit: np.ndarray

    def of(self, seller: str, buyer: str) -> float:
        return float(self.fit[self.sellers.index(seller), self.buyers.index(buyer)])


def percentiles(values: np.ndarray) -> np.ndarray:
    """Each value's rank among all, in [0, 1] (ties by position)."""
    flat = values.ravel()
    order = np.argsort(flat, kind="stable")
    ranks = np.empty(flat.size, dtype=np.float64)
    ranks[order] = np.arange(flat.size) / max(1, flat.size - 1)
    return ranks.reshape(values.shape)


def make_world(
    sellers: Sequence[str],
    families: Sequence[str],
    buyers: Sequence[str],
    stated: np.ndarray,
    seed: int,
    *,
    hidden_by: str = "family",
) -> World:
    """The hidden fit of every pair (see the module): `families[i]` is seller i's,
    `stated[i, j]` what buyer j's profile says of seller i (any scale; NaN: nothing).
    `hidden_by` "pair" is the control: the unwritten part drawn for each pair on its own
    (uniform), so that what one seller's meetings reveal says nothing of another's."""
    rng = np.random.default_rng(seed)
    names = sorted(set(families))
    hidden = rng.dirichlet([CONCENTRATION] * len(names), size=len(buyers))  # (buyers, fam)
    hidden = hidden / hidden.max(axis=1, keepdims=True)  # each buyer's favourite: 1
    col = np.asarray([names.index(f) for f in families])
    hidden_fit = hidden[:, col].T  # (sellers, buyers)
    if hidden_by == "pair":
        hidden_fit = rng.random(hidden_fit.shape)
    elif hidden_by != "family":
        raise ValueError(f"hidden_by must be 'family' or 'pair', not {hidden_by!r}")
    said = percentiles(np.nan_to_num(np.asarray(stated, dtype=np.float64), nan=-1.0))
    raw = STATED * said + (1 - STATED) * hidden_fit
    raw = raw + rng.normal(0.0, PAIR_NOISE * float(raw.std() or 1.0), size=raw.shape)
    return World(tuple(sellers), tuple(buyers), percentiles(raw))


@dataclass(frozen=True)
class EventPlan:
    """Who attends one event (profile ids)."""

    name: str
    sellers: tuple[str, ...]
    buyers: tuple[str, ...]


def plan_events(
    world: World,
    seed: int,
    *,
    events: int = 4,
    sellers_per_event: int = 24,
    program_buyers: int = 24,
    buyers_per_event: int = 16,
) -> list[EventPlan]:
    """`events` events: each invites `sellers_per_event` of the sellers and
    `buyers_per_event` of the program's `program_buyers` buyers (the same pool every
    time: buyers come back)."""
    rng = random.Random(seed)
    pool = sorted(rng.sample(list(world.buyers), k=min(program_buyers, len(world.buyers))))
    out = []
    for e in range(events):
        s = sorted(rng.sample(list(world.sellers), k=min(sellers_per_event, len(world.sellers))))
        b = sorted(rng.sample(pool, k=min(buyers_per_event, len(pool))))
        out.append(EventPlan(f"event-{e + 1}", tuple(s), tuple(b)))
    return out


@dataclass(frozen=True)
class SimOutcome:
    """What came of one seller–buyer pair at an event: `refused` (the buyer said no to
    the suggestion: no meeting), else held or a no-show, each side's interest, and the
    furthest follow-up stage (None: none asked)."""

    seller: str
    buyer: str
    suggested: bool
    refused: bool = False
    no_show: bool = False
    seller_interest: Interest = "some"
    buyer_interest: Interest = "some"
    stage: Stage | None = None


@dataclass
class EventRun:
    plan: EventPlan
    outcomes: list[SimOutcome] = field(default_factory=list)


def run_event(
    world: World,
    plan: EventPlan,
    suggestions: Mapping[str, Sequence[str]],
    seed: int,
) -> EventRun:
    """The meetings of one event and what came of them. `suggestions`: per seller, the
    ranking's buyers best first (its top SUGGESTED are suggested)."""
    rng = random.Random(seed)
    pairs: dict[tuple[str, str], bool] = {}
    for s in plan.sellers:
        for b in list(suggestions.get(s, ()))[:SUGGESTED]:
            if b in plan.buyers:
                pairs[(s, b)] = True
    for b in plan.buyers:  # a buyer's own wishes, by fit (softmax, temperature .1)
        weights = [math.exp(world.of(s, b) / 0.1) for s in plan.sellers]
        chosen: set[str] = set()
        while len(chosen) < min(WISHES, len(plan.sellers)):
            chosen.add(rng.choices(plan.sellers, weights=weights)[0])
        for s in sorted(chosen):
            pairs.setdefault((s, b), False)
    run = EventRun(plan)
    for (s, b), suggested in sorted(pairs.items()):
        fit = world.of(s, b)
        if suggested and fit < 0.2 and rng.random() < 0.5:
            run.outcomes.append(SimOutcome(s, b, suggested, refused=True))
            continue
        if rng.random() < 0.04 + 0.12 * (1 - fit):
            run.outcomes.append(SimOutcome(s, b, suggested, no_show=True))
            continue
        day = fit + rng.gauss(0.0, OUTCOME_NOISE)
        buyer: Interest = "strong" if day >= 0.75 else "none" if day < 0.35 else "some"
        seller: Interest = "strong" if day >= 0.5 else "some"
        stage: Stage | None = None
        if buyer == "strong":
            later = fit + rng.gauss(0.0, OUTCOME_NOISE)
            stage = (
                "contract"
                if later >= 0.93
                else "nda"
                if later >= 0.86
                else "negotiation"
                if later >= 0.78
                else "no_progress"
            )
        run.outcomes.append(SimOutcome(s, b, suggested, False, False, seller, buyer, stage))
    return run


def relevance(fit: float) -> int:
    """The graded relevance of a pair for nDCG, from its hidden fit percentile."""
    return 3 if fit >= 0.9 else 2 if fit >= 0.75 else 1 if fit >= 0.5 else 0


def ndcg(
    world: World, seller: str, ranked: Sequence[str], candidates: Sequence[str], k: int = 10
) -> float:
    """nDCG@k of `ranked` buyers for `seller` against the hidden fit (gains 2^rel - 1,
    the ideal order of all `candidates`); 0 when no candidate is relevant."""
    gain = {b: 2 ** relevance(world.of(seller, b)) - 1 for b in candidates}
    dcg = sum(gain.get(b, 0) / math.log2(i + 2) for i, b in enumerate(list(ranked)[:k]))
    ideal = sorted(gain.values(), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0
