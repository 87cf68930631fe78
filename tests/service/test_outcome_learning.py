"""Outcomes teach the ranking, through the real store (SQLite and PostgreSQL): on a small
world where the answer is known, a candidate that organizations like the query met with
strong interest (and a contract) rises, with the outcome reason; one the query met with
no interest falls; candidates without evidence get no outcome reason. And the seeded
simulator is deterministic."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from models.encoders import HashingEncoder
from models.outcomes import FollowUp, MeetingOutcome
from models.profile import Profile
from service.engine import Engine
from service.offline.learning import train_reranker
from service.profiles.service import save_profiles
from service.store import events as event_store
from service.store.db import transaction
from service.store.outcomes import add_follow_up, add_outcome
from service.store.tables import EventRow
from tests.support.db import sessions_for
from tests.support.worlds import topic_world

QUERY = "o3"  # topic 3, with o11, o19, o27, o35
LIKED = "o4"  # topic 4: far from the query's text, met with interest by its look-alikes
SNUBBED = "o11"  # the query's own topic, high at first: the query met it with no interest
T0 = dt.datetime(2026, 5, 1, 10, tzinfo=dt.UTC)


def _engine(url: str, tmp_path: Path) -> Engine:
    sessions = sessions_for(url)
    engine = Engine(HashingEncoder(), sessions, tmp_path / "index")
    engine.reconcile()
    orgs, _ = topic_world(n=40, projects=0)
    save_profiles(engine, sessions, [Profile.model_validate(o) for o in orgs])
    engine.refit_lexical()
    return engine


def _ranked(engine: Engine) -> list[str]:
    rec = engine.record(QUERY)
    assert rec is not None
    found = engine.matches_for(rec, "partner", k=39, explain_results=False)
    return [m.record.profile.id for m in found]


def _held(a: str, b: str, interest_a: str, interest_b: str) -> list[MeetingOutcome]:
    x, y = sorted((f"p-{a}", f"p-{b}"))
    return [
        MeetingOutcome("fair", x, y, f"p-{a}", "held", interest=interest_a, recorded_at=T0),  # type: ignore[arg-type]
        MeetingOutcome("fair", x, y, f"p-{b}", "held", interest=interest_b, recorded_at=T0),  # type: ignore[arg-type]
    ]


def _record_event(engine: Engine) -> None:
    who = [QUERY, SNUBBED, "o19", "o27", "o35", LIKED]
    doc = {
        "slots": 4,
        "tables": [{"id": "T1"}],
        "participants": [{"id": f"p-{p}", "profile_id": p} for p in who],
    }
    with transaction(engine.sessions) as session:
        event_store.add(session, EventRow(id="fair", name="fair", data=doc))
        for peer in ("o19", "o27", "o35"):
            for record in _held(peer, LIKED, "strong", "strong"):
                add_outcome(session, record)
        x, y = sorted(("p-o19", f"p-{LIKED}"))
        add_follow_up(session, FollowUp("fair", x, y, "p-o19", 6, "contract"))
        for record in _held(QUERY, SNUBBED, "none", "some"):
            add_outcome(session, record)


def test_outcomes_move_the_ranking_the_expected_way(db_url: str, tmp_path: Path) -> None:
    engine = _engine(db_url, tmp_path)
    assert train_reranker(engine, seed=0).method == "hand"  # no history: the hand weights
    before = _ranked(engine)
    rec = engine.record(QUERY)
    assert rec is not None
    assert all(
        r.code != "outcomes" for m in engine.matches_for(rec, "partner", k=39) for r in m.reasons
    )
    _record_event(engine)
    engine.network.load(engine.sessions)  # (the outcome routes record a history change)
    assert train_reranker(engine, seed=0).method == "hand"
    after = _ranked(engine)
    assert after.index(LIKED) < before.index(LIKED), (before, after)
    assert after.index(SNUBBED) > before.index(SNUBBED), (before, after)
    matches = {m.record.profile.id: m for m in engine.matches_for(rec, "partner", k=39, lang="ja")}
    liked = matches[LIKED]
    assert liked.scored.features["peer_met"] > 0
    assert "outcomes" in {r.code for r in liked.reasons}
    assert any("強い関心" in r.text for r in liked.reasons)
    # no evidence, no outcome reason (the snubbed one has a rejection, not a success)
    for pid, m in matches.items():
        if pid != LIKED:
            assert all(r.code != "outcomes" for r in m.reasons), pid
    assert matches[SNUBBED].scored.features["peer_declined"] > 0
    # buyer matches (hand weights with the outcome features) move the same way
    buyers = engine.matches_for(rec, "buyer", k=39, explain_results=False)
    assert LIKED in [m.record.profile.id for m in buyers][:5]
