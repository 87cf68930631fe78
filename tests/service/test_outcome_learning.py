"""Outcomes teach the ranking, through the real store (SQLite and PostgreSQL): on a small
world where the answer is known, a candidate that organizations like the query met with
strong interest (and a contract) rises, with the outcome reason; one the query met with
no interest falls; candidates without evidence get no outcome reason. And the seeded
simulator is deterministic."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from models.encoders import HashingEncoder
from models.outcomes import FollowUp, Interest, MeetingOutcome, Stage
from models.profile import Profile
from service.engine import Engine
from service.interactions.service import save_interactions
from service.io.imports import parse_interactions
from service.offline.learning import train_reranker
from service.profiles.service import save_profiles
from service.store import events as event_store
from service.store.db import transaction
from service.store.outcomes import add_follow_up, add_outcome
from service.store.tables import EventRow
from tests.support.app import make_settings, start_api
from tests.support.db import sessions_for
from tests.support.jobs import wait_for_job
from tests.support.worlds import TOPICS, topic_world

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
    found = engine.matches_for(rec, "partner", k=59, explain_results=False)
    return [m.record.profile.id for m in found]


def _held(
    a: str, b: str, interest_a: Interest, interest_b: Interest, event: str = "fair"
) -> list[MeetingOutcome]:
    x, y = sorted((f"p-{a}", f"p-{b}"))
    return [
        MeetingOutcome(event, x, y, f"p-{a}", "held", interest=interest_a, recorded_at=T0),
        MeetingOutcome(event, x, y, f"p-{b}", "held", interest=interest_b, recorded_at=T0),
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


def _topic(t: int) -> list[str]:
    return [f"o{i}" for i in range(60) if i % len(TOPICS) == t]


def test_retraining_the_learned_ranker_with_outcomes(tmp_path: Path) -> None:
    """With enough history for the learned rankers: three events in which each topic's
    firms met one organization of the next topic with strong interest (and follow-ups)
    and one of their own topic with no interest. Retrained on them, the query (which
    took part in none of it) finds the one its look-alikes liked higher, and the one they
    turned down lower."""
    sessions = sessions_for(f"sqlite:///{tmp_path / 'l.db'}")
    engine = Engine(HashingEncoder(), sessions, tmp_path / "index")
    engine.reconcile()
    orgs, rows = topic_world()
    save_profiles(engine, sessions, [Profile.model_validate(o) for o in orgs])
    engine.refit_lexical()
    data = "\n".join(json.dumps(r) for r in rows).encode()
    save_interactions(engine, sessions, parse_interactions(data, format="jsonl"))
    assert train_reranker(engine, seed=1).method == "learned"
    before = _ranked(engine)
    stages: list[Stage] = ["negotiation", "nda", "contract"]
    with transaction(engine.sessions) as session:
        for e in range(3):
            event, who = f"fair-{e}", set()
            records: list[MeetingOutcome | FollowUp] = []
            for t in range(len(TOPICS)):
                liked, snubbed = _topic((t + 1) % len(TOPICS))[0], _topic(t)[-1]
                for seller in _topic(t)[1 + e : 3 + e]:
                    who |= {seller, liked, snubbed}
                    records += _held(seller, liked, "strong", "strong", event)
                    x, y = sorted((f"p-{seller}", f"p-{liked}"))
                    records.append(FollowUp(event, x, y, f"p-{seller}", 3, stages[e]))
                    records += _held(seller, snubbed, "some", "none", event)
            doc = {
                "slots": 4,
                "tables": [{"id": "T1"}],
                "participants": [{"id": f"p-{p}", "profile_id": p} for p in sorted(who)],
            }
            event_store.add(session, EventRow(id=event, name=event, data=doc))
            for r in records:
                if isinstance(r, FollowUp):
                    add_follow_up(session, r)
                else:
                    add_outcome(session, r)
    engine.network.load(engine.sessions)
    report = train_reranker(engine, seed=1)
    assert report.method == "learned"
    after = _ranked(engine)
    # o3's look-alikes (topic 3) liked o4 (topic 4) and turned down o59 (topic 3)
    assert after.index("o4") < before.index("o4"), (before, after)
    assert after.index("o59") > before.index("o59"), (before, after)


def test_api_retraining_reads_the_outcomes_recorded_since(tmp_path: Path) -> None:
    """POST /v1/ranker/train reads the history as stored when it runs: outcomes written
    after the server loaded its network are evidence for the retrained ranking, and the
    match list then names them as a reason (in the caller's language)."""
    orgs, _ = topic_world(n=40, projects=0)
    body = "\n".join(json.dumps(o) for o in orgs).encode()
    for api in start_api(make_settings(tmp_path), HashingEncoder()):
        r = api.post("/v1/profiles/import", content=body, headers=api.h())
        assert r.status_code == 200
        url = f"/v1/profiles/{QUERY}/matches"
        query = {"purpose": "partner", "k": 10, "lang": "en"}
        first = api.get(url, params=query, headers=api.h()).json()["results"]
        assert all(r["code"] != "outcomes" for m in first for r in m["reasons"])
        engine = api.client.app.state.engine  # type: ignore[attr-defined]
        _record_event(engine)  # written to the store directly, after the network loaded
        r = api.post("/v1/ranker/train", headers=api.h())
        assert r.status_code == 202
        job = wait_for_job(api, r.headers["location"])
        assert job["status"] == "succeeded", job
        res = api.get(url, params=query, headers=api.h()).json()["results"]
        ids = [m["profile"]["id"] for m in res]
        assert LIKED in ids and LIKED not in [m["profile"]["id"] for m in first]
        liked = res[ids.index(LIKED)]
        assert "Similar organizations met them with strong interest" in [
            r["text"] for r in liked["reasons"]
        ]
        assert liked["features"]["peer_met"] > 0
