"""The store on SQLite and PostgreSQL alike: profile writes, the embedding cache, keys,
and index reconciliation after a crash between the database write and the index write."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from models.encoders import HashingEncoder
from models.profile import Profile
from service.auth import authenticate, create_key, revoke_key
from service.engine import Engine
from service.engine.retrieval import Retrieval
from service.errors import Unauthorized
from service.profiles.service import delete_profile, save_profiles
from service.store.db import transaction
from service.store.tables import EmbeddingRow, ProfileRow
from tests.support.db import Sessions, sessions_for
from tests.support.samples import SAMPLE


def _profiles() -> list[Profile]:
    return [Profile.model_validate(p) for p in SAMPLE]


def _engine(sessions: Sessions, tmp_path: Path, encoder: HashingEncoder) -> Engine:
    engine = Engine(encoder, sessions, tmp_path / "index")
    engine.reconcile()
    return engine


def test_save_profiles_upserts_and_caches_embeddings(
    db_url: str, tmp_path: Path, encoder: HashingEncoder
) -> None:
    sessions = sessions_for(db_url)
    engine = _engine(sessions, tmp_path, encoder)
    report = save_profiles(engine, sessions, _profiles())
    assert (report.created, report.updated, report.unchanged) == (len(SAMPLE), 0, 0)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProfileRow)) == len(SAMPLE)
        cached = s.scalar(select(func.count()).select_from(EmbeddingRow))
    assert cached and report.encoded_texts == cached
    assert len(engine) == len(SAMPLE)

    again = save_profiles(engine, sessions, _profiles())
    assert (again.created, again.updated, again.unchanged, again.encoded_texts) == (
        0,
        0,
        len(SAMPLE),
        0,
    )

    changed = _profiles()[0].model_copy(update={"description": "new text"})
    third = save_profiles(engine, sessions, [changed])
    assert third.updated == 1
    # only the changed overall text and its one sentence (a segment, models.lines) are
    # new; offers / needs items came from the cache
    assert third.encoded_texts == 2

    assert delete_profile(engine, sessions, "jp-1")
    assert not delete_profile(engine, sessions, "jp-1")
    assert engine.record("jp-1") is None and len(engine) == len(SAMPLE) - 1


def test_a_failed_write_stores_nothing(
    db_url: str, tmp_path: Path, encoder: HashingEncoder
) -> None:
    sessions = sessions_for(db_url)
    engine = _engine(sessions, tmp_path, encoder)

    class Boom(RuntimeError):
        pass

    def fail(*_a: object, **_k: object) -> int:
        raise Boom()

    engine.ingest = fail  # type: ignore[method-assign]
    with pytest.raises(Boom):
        save_profiles(engine, sessions, _profiles())
    # the database committed (it is the source of truth); a restart indexes the rows
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ProfileRow)) == len(SAMPLE)
    fresh = _engine(sessions, tmp_path, encoder)
    assert len(fresh) == len(SAMPLE)


def test_api_keys_are_hashed_and_revocable(db_url: str) -> None:
    sessions = sessions_for(db_url)
    with transaction(sessions) as s:
        row, key = create_key(s, "organizer", name="TAMA office")
    with sessions() as s:
        stored = s.get(type(row), row.pk)
        assert stored is not None and key not in (stored.key_hash, stored.prefix)
        who = authenticate(s, key)
        assert who is not None and who.role == "organizer"
        with pytest.raises(Unauthorized):
            authenticate(s, key + "x")
    with transaction(sessions) as s:
        assert revoke_key(s, row.pk)
    with sessions() as s, pytest.raises(Unauthorized):
        authenticate(s, key)
    with transaction(sessions) as s, pytest.raises(ValueError):
        create_key(s, "member")  # a member key needs its profile


def test_crash_between_db_and_index_loses_nothing(
    db_url: str, tmp_path: Path, encoder: HashingEncoder
) -> None:
    sessions = sessions_for(db_url)
    engine = _engine(sessions, tmp_path, encoder)
    save_profiles(engine, sessions, _profiles()[:3])
    saved_gen = engine.save()

    # Simulate a process that commits to the database and dies before touching the index:
    # one new profile, one changed, one deleted, written behind the engine's back.
    with transaction(sessions) as s:
        from service.profiles.service import _row_values

        p = _profiles()[3]
        s.add(ProfileRow(**_row_values(p, "h-new")))
        row = s.scalar(select(ProfileRow).where(ProfileRow.id == "it-1"))
        assert row is not None
        data = {**row.data, "description": "changed while the index was not looking"}
        row.data, row.content_hash = data, "h-changed"
        s.delete(s.scalar(select(ProfileRow).where(ProfileRow.id == "uni-1")))
    del engine  # the process is gone; the index on disk is the old generation
    assert saved_gen.exists()

    restarted = Engine(encoder, sessions, tmp_path / "index")
    summary = restarted.reconcile()
    assert summary["reindexed"] == 2 and summary["removed"] == 1
    assert {r.profile.id for r in restarted.records.values()} == {"jp-1", "it-1", "kr-1"}
    assert "changed" in restarted.record("it-1").profile.description  # type: ignore[union-attr]
    assert len(restarted.indexes["all"]) == 3
    # (unexplained: every indexed candidate, also one that nothing drives)
    hits = restarted.matches_for(
        restarted.record("jp-1"),  # type: ignore[arg-type]
        "partner",
        explain_results=False,
    )
    assert {m.record.profile.id for m in hits} == {"it-1", "kr-1"}


def test_corrupt_or_foreign_index_is_rebuilt(tmp_path: Path, encoder: HashingEncoder) -> None:
    sessions = sessions_for(f"sqlite:///{tmp_path / 'x.db'}")
    engine = _engine(sessions, tmp_path, encoder)
    save_profiles(engine, sessions, _profiles())
    gen = engine.save()
    for f in (gen / "all").rglob("*"):
        if f.is_file() and f.suffix != ".json" and f.stat().st_size > 64:
            f.write_bytes(b"garbage")
    restarted = Engine(encoder, sessions, tmp_path / "index")
    summary = restarted.reconcile()
    assert summary["reindexed"] == len(SAMPLE) and summary["encoded"] == 0
    other_model = HashingEncoder(dim=32, model_id="other")
    switched = Engine(other_model, sessions, tmp_path / "index")
    assert switched.reconcile()["encoded"] > 0  # a new model re-encodes, from the DB
    assert len(switched) == len(SAMPLE)


def test_embedding_cache_write_race_keeps_the_first_vector(
    db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two processes on one database may both miss a text in the cache and both write
    its vector: the second write is skipped rather than failing on the UNIQUE constraint
    (which would answer the PUT with a 500)."""
    import numpy as np

    from service.store.embeddings import DbEmbeddingCache

    sessions = sessions_for(db_url)
    first, second = DbEmbeddingCache(sessions), DbEmbeddingCache(sessions)
    v = np.ones(4, dtype=np.float32) / 2
    first.put_many("m", {"h1": v})
    # the second process checked before the first one's write landed
    monkeypatch.setattr(DbEmbeddingCache, "_present", staticmethod(lambda *a: set()))
    second.put_many("m", {"h1": v * 2, "h2": v})
    got = first.get_many("m", ["h1", "h2"])
    assert np.array_equal(got["h1"], v) and np.array_equal(got["h2"], v)
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(EmbeddingRow)) == 2


def test_a_profile_removed_during_a_request_is_still_ranked_whole(
    db_url: str, tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process's delete reaches this one through the change feed, on its own
    thread, while requests run: a candidate removed between the candidate pool and the
    explanations is answered from the record the pool took, not with a KeyError (a 500).
    Its vectors are gone by then, so its score may differ; the next request drops it."""
    sessions = sessions_for(db_url)
    engine = _engine(sessions, tmp_path, encoder)
    save_profiles(engine, sessions, _profiles())
    query = engine.record("jp-1")
    assert query is not None
    before = {m.record.profile.id: m.reasons for m in engine.matches_for(query, "partner")}
    expected = list(before)
    real_pool = Retrieval.pool
    removed: list[str] = []

    def pool_then_remove(self: Retrieval, *args: object, **kwargs: object) -> object:
        pool = real_pool(self, *args, **kwargs)  # type: ignore[arg-type]
        gone = int(pool.keys[0])
        removed.append(engine.records[gone].profile.id)
        engine.remove([gone])  # what the change feed does in another thread
        return pool

    monkeypatch.setattr(Retrieval, "pool", pool_then_remove)
    got = engine.matches_for(query, "partner")
    assert removed and engine.record(removed[0]) is None
    assert sorted(m.record.profile.id for m in got) == sorted(expected)
    for m in got:  # the others are explained as before
        assert m.record.profile.id == removed[0] or m.reasons == before[m.record.profile.id]
    after = [m.record.profile.id for m in engine.matches_for(query, "partner")]
    assert removed[0] not in after and len(after) == len(expected) - 1


def test_a_restarted_engine_explains_matches_without_reading_the_database(
    db_url: str, tmp_path: Path, encoder: HashingEncoder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Reconciliation fills the item-vector cache that reasons read, so the first requests
    of a restarted process make no embedding-cache reads (~1 ms each)."""
    sessions = sessions_for(db_url)
    first = _engine(sessions, tmp_path, encoder)
    save_profiles(first, sessions, _profiles())
    first.save()
    restarted = Engine(encoder, sessions, tmp_path / "index")
    assert restarted.reconcile()["reindexed"] == 0  # loaded, not re-embedded
    reads: list[int] = []
    real = restarted.cache.get_many

    def counting(model_id: str, hashes: object) -> dict:
        wanted = list(hashes)  # type: ignore[call-overload]
        reads.append(len(wanted))
        return real(model_id, wanted)

    monkeypatch.setattr(restarted.cache, "get_many", counting)
    query = restarted.record("jp-1")
    assert query is not None
    got = restarted.matches_for(query, "partner")
    assert got and reads == []
    assert [m.reasons for m in got] == [m.reasons for m in first.matches_for(query, "partner")]
