"""The simulated loop of outcomes into matching (models.simulation): the demo corpus in a
fresh store, four events, the outcomes of events 1-3 recorded through the real outcome
store, the ranking retrained on them, and event 4's suggestions measured against the
hidden fit, beside the ranking without outcomes. Every figure here is simulated.

Per seed: the ranking without outcomes (the demo's history only, `train_reranker` as
`clustermatch train` runs it) suggests each seller's buyers at events 1-3; outcomes are
drawn from the hidden fit and stored (events with their participants, suggestions and
`no` wishes; meeting outcomes and follow-ups, models.outcomes); the network is reloaded
with them as evidence (models.evidence) and the ranking retrained; event 4 is ranked
before and after. The engine never reads the hidden fit.
"""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from models.encoders import Encoder
from models.matching import Purpose
from models.outcomes import FollowUp, MeetingOutcome
from models.profile import Profile
from models.simulation import (
    EventPlan,
    EventRun,
    World,
    family_of,
    make_world,
    ndcg,
    plan_events,
    run_event,
)
from service.demo.seed import HISTORY, ORGANIZATIONS
from service.engine import DbEmbeddingCache, Engine
from service.interactions.service import save_interactions
from service.io.imports import parse_interactions
from service.offline.learning import train_reranker
from service.profiles.service import save_profiles
from service.store import events as event_store
from service.store.db import make_engine, make_sessionmaker, transaction, upgrade
from service.store.outcomes import add_follow_up, add_outcome
from service.store.tables import EventRow

PURPOSES: tuple[Purpose, ...] = ("partner", "buyer")
"""Event suggestions rank with `partner` (service.events.service.suggest_pairs), the
member's buyer matches with `buyer` (hand weights plus the outcome features)."""


@dataclass
class SeedResult:
    """One seed's nDCG@10 on event 4 per purpose, without and with outcomes, and what
    the training saw."""

    seed: int
    without: dict[str, float] = field(default_factory=dict)
    with_outcomes: dict[str, float] = field(default_factory=dict)
    method_without: str = ""
    method_with: str = ""
    meetings: int = 0
    evidence: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def demo_world(engine: Engine, seed: int, hidden_by: str = "family") -> World:
    """The demo corpus' sellers (Japanese firms) and buyers (trading companies and
    overseas firms), with the hidden fit (models.simulation.make_world); what a buyer's
    profile states of a seller is the seller's offers against the buyer's needs (the
    overall texts where a side has none), percentile-ranked there."""
    recs = sorted(engine.records.values(), key=lambda r: r.profile.id)
    sellers = [r for r in recs if r.profile.kind == "firm" and r.profile.country == "JP"]
    buyers = [
        r
        for r in recs
        if r.profile.kind == "trading_company"
        or (r.profile.kind == "firm" and r.profile.country != "JP")
    ]
    stated = np.full((len(sellers), len(buyers)), np.nan)
    for i, s in enumerate(sellers):
        sv = engine.vectors(s.pk)
        for j, b in enumerate(buyers):
            bv = engine.vectors(b.pk)
            offers, needs = sv.get("offers"), bv.get("needs")
            if offers is None or needs is None:
                offers, needs = sv.get("all"), bv.get("all")
            if offers is not None and needs is not None:
                stated[i, j] = float(np.dot(offers, needs))
    return make_world(
        [s.profile.id for s in sellers],
        [family_of(s.profile.industries) for s in sellers],
        [b.profile.id for b in buyers],
        stated,
        seed,
        hidden_by=hidden_by,
    )


def rank_buyers(
    engine: Engine, plan: EventPlan, purpose: Purpose, k: int = 10
) -> dict[str, list[str]]:
    """Per seller of the event, its buyers there as the engine ranks them (best first)."""
    within = np.asarray(
        sorted(r.pk for b in plan.buyers if (r := engine.record(b)) is not None), dtype=np.int64
    )
    out: dict[str, list[str]] = {}
    for s in plan.sellers:
        rec = engine.record(s)
        if rec is None:
            continue
        found = engine.matches_for(rec, purpose, k=k, within=within, explain_results=False)
        out[s] = [m.record.profile.id for m in found]
    return out


def measure(engine: Engine, world: World, plan: EventPlan) -> dict[str, float]:
    """Mean nDCG@10 over the event's sellers of their ranked buyers, per purpose."""
    out: dict[str, float] = {}
    for purpose in PURPOSES:
        ranked = rank_buyers(engine, plan, purpose)
        scores = [ndcg(world, s, ranked.get(s, []), plan.buyers) for s in plan.sellers]
        out[purpose] = float(np.mean(scores)) if scores else 0.0
    return out


def _pid(profile_id: str) -> str:
    return f"p-{profile_id}"


def store_event(engine: Engine, run: EventRun, day: dt.datetime) -> None:
    """The event (participants with their profiles, the suggested pairs, the buyers' `no`
    wishes) and its outcomes, through the real stores: both sides' records of a meeting
    held, the seller's of a no-show, the seller's follow-up at 3 months."""
    plan = run.plan
    doc: dict[str, Any] = {
        "slots": 6,
        "tables": [{"id": "T1"}],
        "participants": [{"id": _pid(p), "profile_id": p} for p in (*plan.sellers, *plan.buyers)],
        "suggestions": [
            {"a": _pid(o.seller), "b": _pid(o.buyer), "score": 0.5, "reason": ""}
            for o in run.outcomes
            if o.suggested
        ],
        "wishes": [
            {"from": _pid(o.buyer), "to": _pid(o.seller), "level": "no"}
            for o in run.outcomes
            if o.refused
        ],
    }
    with transaction(engine.sessions) as session:
        event_store.add(session, EventRow(id=plan.name, name=plan.name, data=doc))
        for o in run.outcomes:
            if o.refused:
                continue
            s, b = _pid(o.seller), _pid(o.buyer)
            a, c = (s, b) if s < b else (b, s)
            if o.no_show:
                add_outcome(
                    session,
                    MeetingOutcome(plan.name, a, c, s, "no_show", no_show=(b,), recorded_at=day),
                )
                continue
            for side, interest in ((s, o.seller_interest), (b, o.buyer_interest)):
                add_outcome(
                    session,
                    MeetingOutcome(
                        plan.name, a, c, side, "held", interest=interest, recorded_at=day
                    ),
                )
            if o.stage is not None:
                add_follow_up(
                    session,
                    FollowUp(
                        plan.name, a, c, s, 3, o.stage, recorded_at=day + dt.timedelta(days=90)
                    ),
                )


def run_seed(
    encoder: Encoder,
    seed: int,
    workdir: Path,
    cache_path: Path | None = None,
    hidden_by: str = "family",
) -> SeedResult:
    """One seed of the simulation in a fresh store under `workdir` (see the module);
    `hidden_by`: models.simulation.make_world's."""
    db = make_engine(f"sqlite:///{workdir / 'sim.db'}")
    upgrade(db)
    sessions = make_sessionmaker(db)
    cache = None
    if cache_path is not None:
        cache_db = make_engine(f"sqlite:///{cache_path}")
        upgrade(cache_db)
        cache = DbEmbeddingCache(make_sessionmaker(cache_db))
    engine = Engine(encoder, sessions, workdir / "index", cache=cache)
    engine.reconcile()
    orgs = [json.loads(line) for line in ORGANIZATIONS.read_text(encoding="utf-8").splitlines()]
    save_profiles(engine, sessions, [Profile.model_validate(o) for o in orgs])
    engine.refit_lexical()
    save_interactions(engine, sessions, parse_interactions(HISTORY.read_bytes(), format="jsonl"))
    world = demo_world(engine, seed, hidden_by)
    plans = plan_events(world, seed)
    result = SeedResult(seed)
    result.method_without = train_reranker(engine, seed=seed).method
    result.without = measure(engine, world, plans[-1])
    day = dt.datetime(2026, 4, 1, tzinfo=dt.UTC)
    for e, plan in enumerate(plans[:-1]):
        run = run_event(world, plan, rank_buyers(engine, plan, "partner"), seed * 100 + e)
        result.meetings += sum(not o.refused for o in run.outcomes)
        store_event(engine, run, day + dt.timedelta(days=60 * e))
    engine.network.load(sessions)
    grades = [e.grade for e in engine.edges if e.grade]
    result.evidence = {
        "positive": sum(g > 0 for g in grades),
        "negative": sum(g < 0 for g in grades),
    }
    result.method_with = train_reranker(engine, seed=seed).method
    result.with_outcomes = measure(engine, world, plans[-1])
    db.dispose()
    return result


def simulate(
    encoder: Encoder,
    seeds: Sequence[int],
    cache_path: Path | None = None,
    hidden_by: str = "family",
) -> list[SeedResult]:
    """`run_seed` for each seed, each in its own temporary store."""
    out = []
    for seed in seeds:
        with tempfile.TemporaryDirectory(prefix="clustermatch-sim-") as tmp:
            out.append(run_seed(encoder, seed, Path(tmp), cache_path, hidden_by))
    return out
