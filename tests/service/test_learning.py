"""Interactions over HTTP and the CLI, and the learned re-ranker: trained from history,
deterministic for a seed, saved with the index, used by the API with reasons that name
the features that drove each match."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.encoders import HashingEncoder
from models.profile import Profile, profile_hash
from models.ranking import Reranker
from service.engine import RERANKER_FILE, Engine, RankRequest
from service.interactions.service import save_interactions
from service.io.imports import parse_interactions
from service.offline.learning import TrainingSet, train_reranker
from service.profiles.service import save_profiles
from tests.support.app import Api, make_settings, start_api
from tests.support.db import Sessions, sessions_for
from tests.support.jobs import wait_for_job
from tests.support.samples import SAMPLE
from tests.support.worlds import TOPICS, topic_world


def _engine(tmp_path: Path) -> tuple[Engine, Sessions]:
    sessions = sessions_for(f"sqlite:///{tmp_path / 'l.db'}")
    engine = Engine(HashingEncoder(), sessions, tmp_path / "index")
    engine.reconcile()
    orgs, rows = topic_world()
    save_profiles(engine, sessions, [Profile.model_validate(o) for o in orgs])
    engine.refit_lexical()
    data = "\n".join(json.dumps(r) for r in rows).encode()
    save_interactions(engine, sessions, parse_interactions(data, format="jsonl"))
    return engine, sessions


def test_training_learns_and_is_deterministic(tmp_path: Path) -> None:
    engine, sessions = _engine(tmp_path)
    first = train_reranker(engine, seed=5)
    assert first.method == "learned" and first.positives >= 100, first
    assert engine.reranker is not None
    rec = engine.record("o3")
    assert rec is not None
    a = [(m.record.profile.id, m.scored.score) for m in engine.matches_for(rec, "partner")]
    second = train_reranker(engine, seed=5)
    b = [(m.record.profile.id, m.scored.score) for m in engine.matches_for(rec, "partner")]
    assert a == b and first.rows == second.rows
    # most of the top matches share o3's topic (same community)
    same = sum(int(pid[1:]) % len(TOPICS) == 3 for pid, _ in a[:5])
    assert same >= 3
    # reasons name what drove the score
    top = engine.matches_for(rec, "partner")[0]
    assert top.reasons and any(
        r.code in {"tie", "shared_partners", "network", "topic", "lexical", "track_record"}
        for r in top.reasons
    )
    # a profile's query is scored by the partner model, a free text by the text model
    asked: list[bool] = []
    score = engine.reranker.score

    def spy(x: np.ndarray, *, text: bool = False) -> np.ndarray:
        asked.append(text)
        return score(x, text=text)

    engine.reranker.score = spy  # type: ignore[method-assign]
    engine.matches_for(rec, "partner", explain_results=False)
    engine.search_text(TOPICS[3], "partner", explain_results=False)
    assert asked == [False, True]
    engine.reranker.score = score  # type: ignore[method-assign]
    # the model is saved with the index and used again after a restart
    restarted = Engine(HashingEncoder(), sessions, tmp_path / "index")
    restarted.reconcile()
    assert restarted.reranker is not None
    again = restarted.record("o3")
    assert again is not None
    c = [(m.record.profile.id, m.scored.score) for m in restarted.matches_for(again, "partner")]
    assert [x for x, _ in c] == [x for x, _ in a]
    assert np.allclose([s for _, s in c], [s for _, s in a])


def test_history_reload_swaps_the_model_in_one_step(tmp_path: Path, monkeypatch: Any) -> None:
    """Another process's change to the history makes every process reload the network and
    the saved model (service.sync): the model in use is replaced in one step, never by
    the hand weights meanwhile, and a reload of the very file in use keeps it as it is
    (compiled code included)."""
    engine, _ = _engine(tmp_path)
    train_reranker(engine, seed=5)
    in_use = engine.reranker
    assert in_use is not None and in_use.digest
    seen: list[object] = []
    load = Reranker.load

    def watch(path: Path) -> Reranker:  # what a request would find mid-reload
        seen.append(engine.reranker)
        return load(path)

    monkeypatch.setattr(Reranker, "load", watch)
    engine.load_history()
    assert engine.reranker is in_use and seen == [in_use]
    # a model trained elsewhere (another process) replaces it, again in one step
    other, _ = _engine(tmp_path / "other")
    train_reranker(other, seed=6)
    (tmp_path / "index" / RERANKER_FILE).write_bytes(
        (tmp_path / "other" / "index" / RERANKER_FILE).read_bytes()
    )
    engine.load_history()
    assert seen == [in_use, in_use]
    assert engine.reranker is not in_use and engine.reranker is not None
    assert engine.reranker.digest == other.reranker.digest  # type: ignore[union-attr]
    (tmp_path / "index" / RERANKER_FILE).unlink()
    engine.load_history()
    assert engine.reranker is None and engine.ranker_note is None


def test_without_lightgbm_training_falls_back_to_the_pair_classifier(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """LightGBM's wheel needs the system's OpenMP runtime; where it does not load, the
    re-ranker is the sklearn pair classifier, and the report says why."""
    import service.offline.learning as learning

    engine, _ = _engine(tmp_path)
    report = train_reranker(engine, seed=5)
    assert (report.objective, report.text_objective) == ("rank_xendcg", "lambdarank")
    assert report.models == learning.ENSEMBLE and engine.reranker is not None
    assert engine.reranker.text_model is not None
    monkeypatch.setattr(learning, "ranker_available", lambda: "LightGBM does not load (test)")
    report = train_reranker(engine, seed=5)
    assert report.method == "learned" and report.objective == "binary"
    assert "LightGBM does not load" in report.note and report.models == 1
    assert engine.reranker is not None and hasattr(engine.reranker.model, "predict_proba")


def test_too_little_history_keeps_hand_weights(tmp_path: Path) -> None:
    sessions = sessions_for(f"sqlite:///{tmp_path / 'l.db'}")
    engine = Engine(HashingEncoder(), sessions, tmp_path / "index")
    engine.reconcile()
    save_profiles(engine, sessions, [Profile.model_validate(p) for p in SAMPLE])
    report = train_reranker(engine)
    assert report.method == "hand" and engine.reranker is None


def _jsonl(rows: list[dict]) -> bytes:
    return "\n".join(json.dumps(r, ensure_ascii=False) for r in rows).encode()


def test_interactions_api(api: Api) -> None:
    api.post("/v1/profiles/import", content=_jsonl(SAMPLE), headers=api.h())
    rows = [
        {"a": "jp-1", "b": "it-1", "kind": "deal", "context": "商談会 2025", "at": "2025-06-01"},
        {"a": "jp-1", "b": "uni-1", "kind": "collaboration"},
    ]
    r = api.post("/v1/interactions/import", content=_jsonl(rows), headers=api.h())
    assert r.status_code == 200 and r.json()["report"]["created"] == 2
    again = api.post("/v1/interactions/import", content=_jsonl(rows), headers=api.h()).json()
    assert again["report"]["unchanged"] == 2 and again["report"]["created"] == 0
    bad = [
        *rows,
        {"a": "jp-1", "b": "ghost", "kind": "meeting"},
        {"a": "jp-1", "b": "jp-1", "kind": "meeting"},
    ]
    r = api.post("/v1/interactions/import", content=_jsonl(bad), headers=api.h())
    assert r.status_code == 422
    assert {(e["row"], e["field"]) for e in r.json()["errors"]} == {(3, "b"), (4, "b")}
    r = api.post(
        "/v1/interactions",
        json={"a": "kr-1", "b": "it-1", "kind": "meeting"},
        headers=api.h("organizer"),
    )
    assert r.status_code == 201
    r = api.post(
        "/v1/interactions", json={"a": "kr-1", "b": "it-1", "kind": "party"}, headers=api.h()
    )
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "kind"
    assert (
        api.post(
            "/v1/interactions",
            json={"a": "kr-1", "b": "it-1", "kind": "meeting"},
            headers=api.h("member"),
        ).status_code
        == 403
    )
    hist = api.get("/v1/profiles/jp-1/interactions", headers=api.h()).json()
    assert hist["count"] == 2 and {i["kind"] for i in hist["items"]} == {"deal", "collaboration"}
    assert api.get("/v1/profiles/nope/interactions", headers=api.h()).status_code == 404
    # the network now explains matches
    res = api.get("/v1/profiles/uni-1/matches", headers=api.h()).json()["results"]
    it1 = next(x for x in res if x["profile"]["id"] == "it-1")
    assert "shared_partners" in {r["code"] for r in it1["reasons"]} or it1["features"]["walk"] > 0


def _native_status(api: Api) -> dict[str, Any]:
    """GET /v1/ranker once the background compile of the model in use is over."""
    for _ in range(1200):
        status = api.get("/v1/ranker", headers=api.h()).json()
        if status["native"]:
            break
        time.sleep(0.05)
    return status


def test_ranker_train_over_api(tmp_path: Path) -> None:
    orgs, rows = topic_world()
    for api in start_api(make_settings(tmp_path, native_ranker=True), HashingEncoder()):
        assert (
            api.post("/v1/profiles/import", content=_jsonl(orgs), headers=api.h()).status_code
            == 200
        )
        r = api.post("/v1/interactions/import", content=_jsonl(rows), headers=api.h())
        assert r.status_code == 200
        assert api.get("/v1/ranker", headers=api.h()).json()["method"] == "hand"
        assert api.post("/v1/ranker/train", headers=api.h("organizer")).status_code == 403
        r = api.post("/v1/ranker/train", params={"seed": 3}, headers=api.h())
        assert r.status_code == 202
        job = wait_for_job(api, r.headers["location"])
        assert job["status"] == "succeeded" and job["report"]["method"] == "learned", job
        status = api.get("/v1/ranker", headers=api.h()).json()
        assert status["method"] == "learned" and status["model"]["seed"] == 3
        assert status["note"] is None
        res = api.get("/v1/profiles/o3/matches", headers=api.h()).json()["results"]
        assert res and res[0]["reasons"]
        # compiled to native code in the background: the same matches, scores and reasons
        assert _native_status(api)["native"] is True
        native = api.get("/v1/profiles/o3/matches", headers=api.h()).json()["results"]
        assert [m["profile"]["id"] for m in native] == [m["profile"]["id"] for m in res]
        assert np.allclose([m["score"] for m in native], [m["score"] for m in res], atol=1e-9)
        assert [m["reasons"] for m in native] == [m["reasons"] for m in res]
    compiled = sorted(p.name for p in (make_settings(tmp_path).index_dir / "native").glob("*.o"))
    assert len(compiled) == 6  # three partner and three free-text models
    # a restart loads the saved model and its object code; without the setting, LightGBM
    for api in start_api(make_settings(tmp_path, native_ranker=True), HashingEncoder()):
        assert _native_status(api)["native"] is True
    assert sorted(p.name for p in (tmp_path / "data" / "index" / "native").glob("*.o")) == compiled
    for api in start_api(make_settings(tmp_path), HashingEncoder()):
        status = api.get("/v1/ranker", headers=api.h()).json()
        assert status["method"] == "learned" and status["native"] is False
    # An upgrade that changes the features leaves a model the service cannot use: it says
    # so (hand weights meanwhile) instead of only logging it.
    settings = make_settings(tmp_path)
    path = settings.index_dir / RERANKER_FILE
    raw = path.read_bytes()
    size = int.from_bytes(raw[:8], "little")
    header = json.loads(raw[8 : 8 + size])
    header["features"] = header["features"][:-1]
    head = json.dumps(header).encode()
    path.write_bytes(len(head).to_bytes(8, "little") + head + raw[8 + size :])
    for api in start_api(settings, HashingEncoder()):
        status = api.get("/v1/ranker", headers=api.h()).json()
        assert status["method"] == "hand"
        assert "another feature set" in status["note"] and "retrain" in status["note"]


def test_training_world_has_no_text_of_the_held_out_groups(tmp_path: Path) -> None:
    """As in the evaluation (no held-out project's text in any profile), the replayed
    queries see no line of a held-out group, in the query nor in any candidate."""
    from models.training import sample_holdout
    from service.offline.learning import held_group_lines, training_world

    engine, _ = _engine(tmp_path)
    # each project also leaves a line in its members' descriptions
    edited: dict[int, Profile] = {}
    for e in engine.edges:
        for pk in (e.a, e.b):
            p = edited.get(pk) or engine.records[pk].profile
            line = f"Project {e.context}"
            if line not in (p.description or ""):
                edited[pk] = p.model_copy(update={"description": f"{p.description}\n{line}"})
    engine.ingest([(pk, p, profile_hash(p)) for pk, p in edited.items()])
    holdout = sample_holdout(engine.edges, seed=1, fraction=0.3)
    graph = engine.network.graph_from(holdout.kept)
    held = held_group_lines(engine, holdout)
    assert held and all(f"Project {g}" in lines for g, lines in held.items())
    world = training_world(engine, holdout, graph)
    held_text = {f"Project {g}" for g in held}
    for pk, rec in world.records.items():
        lines = set((rec.profile.description or "").splitlines())
        assert not lines & held_text
        dropped: set[str] = set()
        for g, members in holdout.members.items():
            if pk in members:
                assert not lines & held[g]
                dropped |= held[g]
        # the rest of the history stays (a kept project whose team is exactly a held-out
        # group's shares all its lines with it: group_lines cannot tell them apart)
        kept = {f"Project {e.context}" for e in holdout.kept if pk in (e.a, e.b)}
        assert kept - dropped <= lines
    assert world.network.graph is graph and len(world) == len(engine)
    # the engine itself is untouched: its own overall-text index and records keep the lines
    assert world.indexes["all"] is not engine.indexes["all"]
    assert world.indexes["offers"] is engine.indexes["offers"]  # (no offer changed)
    assert any(
        set((rec.profile.description or "").splitlines()) & held_text
        for rec in engine.records.values()
    )
    stripped = next(pk for pk in world.records if world.records[pk] is not engine.records[pk])
    forked, own = world.indexes["all"].vector(stripped), engine.indexes["all"].vector(stripped)
    assert forked is not None and own is not None and not np.array_equal(forked, own)
    lines_index = world.lines.index()
    assert lines_index is not None and not set(lines_index.lines) & held_text


def test_line_votes_gate(tmp_path: Path, monkeypatch: Any) -> None:
    """Line votes only while the catalogue lists at most `lines_max` distinct segments
    (models.lines.LINES_MAX): above it no LineIndex is built or changed, not even after a
    change of the catalogue, and the features are NaN; the training world follows its
    engine's gate. Below it a write changes the index by its change (no build)."""
    from models.lines import LINES_MAX, LineIndex
    from models.ranking import INDEX
    from models.training import sample_holdout
    from service.offline.learning import training_world

    engine, sessions = _engine(tmp_path)
    builds: list[str] = []  # "build" (the whole catalogue) or "changed" (a write's change)
    build, changed = LineIndex.build, LineIndex.changed

    def counted_build(cls: type[LineIndex], *a: Any, **kw: Any) -> LineIndex:
        builds.append("build")
        return build(*a, **kw)

    def counted_changed(self: LineIndex, *a: Any, **kw: Any) -> LineIndex:
        builds.append("changed")
        return changed(self, *a, **kw)

    monkeypatch.setattr(LineIndex, "build", classmethod(counted_build))
    monkeypatch.setattr(LineIndex, "changed", counted_changed)
    line_cols = [INDEX[n] for n in ("line_lexical", "line_dense", "line_lexical_rel")]
    line_cols.append(INDEX["line_dense_rel"])
    descriptions = {r.profile.description for r in engine.records.values()}
    assert engine.lines.segments() == len(descriptions) and engine.lines.max_segments == LINES_MAX
    rec = engine.record("o1")
    assert rec is not None

    def features() -> np.ndarray:
        request = RankRequest(rec.party(engine.vectors(rec.pk)), rec, "partner", k=10)
        found = engine.ranking.candidate_features(request)
        assert found is not None
        return found[1][:, line_cols]

    # below the gate: computed (the profile's own line is listed by its topic community)
    assert engine.lines.on() and np.isfinite(features()).all() and features()[:, 0].max() > 0
    assert builds == [] and engine.lines.index() is not None  # (built by the writes)
    # a new segment, then its profile gone again: counted as profiles come and go
    extra = Profile.model_validate(
        {"id": "x1", "name": "X", "kind": "firm", "description": "Quantum sensors. Lidar."}
    )
    save_profiles(engine, sessions, [extra])
    assert engine.lines.segments() == len(descriptions) + 2 and builds == ["changed"]
    # above the gate: NaN, and nothing built, not after a catalogue change either
    engine.lines.set_limit(len(descriptions) - 1)
    assert not engine.lines.on() and np.isnan(features()).all()
    assert engine.lines.index() is None and engine.lines.current() is None
    x1 = engine.record("x1")
    assert x1 is not None
    engine.remove([x1.pk])
    assert engine.lines.segments() == len(descriptions) and not engine.lines.on()
    assert np.isnan(features()).all() and builds == ["changed"]
    holdout = sample_holdout(engine.edges, seed=1, fraction=0.3)
    world = training_world(engine, holdout, engine.network.graph_from(holdout.kept))
    assert not world.lines.on()
    # back under it: built once for the catalogue as it is now
    engine.lines.set_limit(LINES_MAX)
    assert np.isfinite(features()).all() and builds == ["changed", "build"]
    world = training_world(engine, holdout, engine.network.graph_from(holdout.kept))
    assert world.lines.on()


def test_fork_copies_what_it_changes_and_shares_the_rest(tmp_path: Path) -> None:
    """An engine fork (the training world) takes writes without touching the engine:
    copied indexes change in the fork only; shared ones refuse writes; a profile whose
    offers are unchanged is not re-inserted into the offers index."""
    engine, _ = _engine(tmp_path)
    pk = engine.catalogue.pk_by_id["o3"]
    before = engine.records[pk].profile
    with_offers = before.model_copy(update={"offers": ["robot gripper fingers"]})
    engine.ingest([(pk, with_offers, engine.records[pk].content_hash)])
    offers_index = engine.indexes["offers"]
    inserted: list[int] = []
    real_upsert = offers_index.upsert

    def spy(ids: Any, vectors: Any) -> None:
        inserted.extend(int(i) for i in ids)
        real_upsert(ids, vectors)

    offers_index.upsert = spy  # type: ignore[method-assign]
    edited = with_offers.model_copy(update={"description": "solar module maker"})
    engine.ingest([(pk, edited, engine.records[pk].content_hash)])
    assert inserted == []  # only the description changed: the offers vector stays
    world = engine.fork({"all"})
    moved = edited.model_copy(update={"description": "hydrogen tank maker"})
    world.ingest([(pk, moved, engine.records[pk].content_hash)])
    assert world.records[pk].profile.description == "hydrogen tank maker"
    assert engine.records[pk].profile.description == "solar module maker"
    forked, own = world.indexes["all"].vector(pk), engine.indexes["all"].vector(pk)
    assert forked is not None and own is not None and not np.array_equal(forked, own)
    assert world.catalogue.lexical.row(pk) is not engine.catalogue.lexical.row(pk)
    with pytest.raises(RuntimeError, match="shared offers"):
        world.ingest([(pk, moved.model_copy(update={"offers": ["tanks"]}), "x")])
    assert inserted == []  # the engine's offers index was never written


def test_segment_index_is_built_by_writers_not_requests(tmp_path: Path) -> None:
    """With line votes on, the segment index is current after every write and after
    startup, so that no request pays for rebuilding it."""
    engine, sessions = _engine(tmp_path)
    assert engine.lines.on()

    def current(e: Engine) -> bool:
        return e.lines.current() is not None

    assert current(engine)
    p = engine.records[engine.catalogue.pk_by_id["o5"]].profile
    save_profiles(
        engine, sessions, [p.model_copy(update={"description": "battery cell maker. Anodes."})]
    )
    assert current(engine) and "Anodes." in engine.lines.current().lines  # type: ignore[union-attr]
    engine.remove([engine.catalogue.pk_by_id["o6"]])
    assert current(engine)
    fresh = Engine(HashingEncoder(), sessions, tmp_path / "index")
    fresh.reconcile()
    assert current(fresh) and fresh.ready


def test_training_set_keeps_the_free_text_queries_apart() -> None:
    """`texts_only` keeps the rows of the free-text queries, in order, with their groups."""
    x = np.arange(14, dtype=np.float64).reshape(7, 2)
    y = np.asarray([1, 0, 0, 1, 1, 0, 0], dtype=np.int8)
    full = TrainingSet(x, y, {"queries": 3}, np.ones(7), [2, 3, 2], [False, True, True])
    texts = full.texts_only()
    assert texts.groups == [3, 2] and texts.text == [True, True]
    assert texts.x[:, 0].tolist() == [4, 6, 8, 10, 12] and texts.y.tolist() == [0, 1, 1, 0, 0]
    none = TrainingSet(x, y, {}, np.ones(7), [2, 3, 2], [False] * 3).texts_only()
    assert none.x.shape == (0, 2) and none.groups == [] and not none.y.any()
