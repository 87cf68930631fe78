"""The change feed: several server processes (or the CLI and a server) on one database and
data directory stay in step without a restart - on SQLite and PostgreSQL alike."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, func, select

from models.encoders import HashingEncoder
from models.profile import Profile
from service.engine import Engine
from service.interactions.service import save_interactions
from service.io.imports import parse_interactions
from service.offline.learning import train_reranker
from service.profiles.service import delete_profile, save_profiles
from service.store.tables import ChangeRow, EmbeddingRow
from service.sync import Follower
from tests.support.app import make_settings, start_api
from tests.support.db import Sessions, sessions_for
from tests.support.samples import SAMPLE


class CountingEncoder(HashingEncoder):
    def __init__(self) -> None:
        super().__init__(dim=64)
        self.calls = 0

    def encode(self, texts: Sequence[str], **kw: Any) -> np.ndarray:
        self.calls += len(texts)
        return super().encode(texts, **kw)


def _profiles() -> list[Profile]:
    return [Profile.model_validate(p) for p in SAMPLE]


def _pair(db_url: str, tmp_path: Path) -> tuple[Sessions, Engine, Engine, CountingEncoder]:
    """Two engines on one database and one index directory, as two workers are."""
    sessions = sessions_for(db_url)
    a = Engine(HashingEncoder(dim=64), sessions, tmp_path / "index")
    b_encoder = CountingEncoder()
    b = Engine(b_encoder, sessions, tmp_path / "index")
    a.reconcile()
    b.reconcile()
    return sessions, a, b, b_encoder


def test_writes_through_one_engine_reach_the_other(db_url: str, tmp_path: Path) -> None:
    sessions, a, b, b_encoder = _pair(db_url, tmp_path)
    follow_a, follow_b = Follower(a), Follower(b)
    save_profiles(a, sessions, _profiles())
    assert len(b) == 0
    done = follow_b.catch_up()
    assert done["indexed"] == len(SAMPLE) and len(b) == len(SAMPLE)
    assert b_encoder.calls == 0  # vectors came from the cache the writer filled
    assert [m.record.profile.id for m in b.matches_for(b.record("jp-1"), "partner")]  # type: ignore[arg-type]

    changed = _profiles()[1].model_copy(update={"description": "cryogenic valves"})
    save_profiles(a, sessions, [changed])
    assert delete_profile(a, sessions, "jp-2")
    done = follow_b.catch_up()
    assert (done["indexed"], done["removed"]) == (1, 1)
    assert b.record("jp-2") is None
    assert b.record(changed.id).profile.description == "cryogenic valves"  # type: ignore[union-attr]
    assert b.records.keys() == a.records.keys()
    # nothing new: nothing done; the writer finds its own changes already applied
    assert follow_b.catch_up()["changes"] == 0
    assert follow_a.catch_up()["indexed"] == 0


def test_history_and_the_reranker_follow(db_url: str, tmp_path: Path) -> None:
    sessions, a, b, _ = _pair(db_url, tmp_path)
    follow_a, follow_b = Follower(a), Follower(b)
    save_profiles(a, sessions, _profiles())
    follow_b.catch_up()
    body = b'{"a": "jp-1", "b": "it-1", "kind": "collaboration", "context": "p:1"}\n'
    parsed = parse_interactions(body, filename="x.jsonl")
    save_interactions(a, sessions, parsed)
    assert len(a.edges) == 1 and len(b.edges) == 0
    assert follow_b.catch_up()["history"] == 1 and len(b.edges) == 1
    assert follow_a.catch_up()["history"] == 0  # its own load already covered the change
    train_reranker(a)  # too little history: the hand weights stay, and it is recorded
    assert follow_b.catch_up()["history"] == 1


def _backdate(sessions: Sessions, seconds: float) -> None:
    """Make every change look `seconds` old."""
    import datetime as dt

    with sessions() as s, s.begin():
        s.execute(
            ChangeRow.__table__.update().values(  # type: ignore[attr-defined]
                at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds)
            )
        )


def test_a_profile_waits_for_its_writers_vectors(db_url: str, tmp_path: Path) -> None:
    """Another process commits rows before it encodes them; a follower does not encode
    the same texts again meanwhile (unless the vectors never come). A change awaited for
    long (a large import elsewhere) is not re-read at every interval."""
    sessions, a, b, b_encoder = _pair(db_url, tmp_path)
    follow_b = Follower(b)
    save_profiles(a, sessions, _profiles()[:1])
    with sessions() as s, s.begin():  # as if the writer had not stored its vectors yet
        s.execute(delete(EmbeddingRow))
    _backdate(sessions, 60)
    done = follow_b.catch_up()
    assert (done["indexed"], done["deferred"]) == (0, 1) and len(b) == 0
    assert follow_b.catch_up()["changes"] == 0  # not re-read at once: the writer is encoding
    follow_b.resume()
    assert follow_b.catch_up()["deferred"] == 1  # read again later
    a.ingest([(pk, r.profile, r.content_hash) for pk, r in a.records.items()])
    # a's cache was emptied: it encodes again, which stores the vectors
    follow_b.resume()
    done = follow_b.catch_up()
    assert (done["indexed"], done["deferred"]) == (1, 0) and b_encoder.calls == 0
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(ChangeRow)) == 1


def test_a_fresh_write_awaited_is_read_again_at_the_next_interval(
    db_url: str, tmp_path: Path
) -> None:
    """Before: a follower that read a write in the moment between its commit and its
    vectors paused 10 s, so another worker or replica matched it only 10 s later, not
    within the sync interval. Now the pause is as long as the change has waited."""
    sessions, a, b, b_encoder = _pair(db_url, tmp_path)
    follow_b = Follower(b)
    save_profiles(a, sessions, _profiles()[:1])
    cached = _take_vectors(sessions)
    assert follow_b.catch_up()["deferred"] == 1
    _put_vectors(sessions, cached)  # the writer stores them a moment later
    time.sleep(0.5)
    done = follow_b.catch_up()
    assert (done["indexed"], done["deferred"]) == (1, 0) and b_encoder.calls == 0


def test_an_import_that_keeps_encoding_is_waited_for(db_url: str, tmp_path: Path) -> None:
    """Past ENCODE_GRACE_S a follower encodes what its writer has not; but not while the
    writer keeps storing the vectors the follower awaits (an import of hours)."""
    import service.sync

    sessions, a, b, b_encoder = _pair(db_url, tmp_path)
    follow_b = Follower(b)
    save_profiles(a, sessions, _profiles()[:3])
    cached = _take_vectors(sessions)
    _backdate(sessions, 10)
    assert follow_b.catch_up()["deferred"] == 3
    first, *rest = _profiles()[:3]
    held = set().union(*map(_texts_of, rest)) - _texts_of(first)
    _put_vectors(sessions, [r for r in cached if r["text_hash"] not in held])  # it goes on
    original = service.sync.ENCODE_GRACE_S
    try:
        service.sync.ENCODE_GRACE_S = 5.0  # the changes are older than this now
        follow_b.resume()
        done = follow_b.catch_up()
        assert (done["indexed"], done["deferred"]) == (1, 2) and b_encoder.calls == 0
        service.sync.ENCODE_GRACE_S = 0.0  # ... and no progress since: encoded here
        follow_b.resume()
        done = follow_b.catch_up()
        assert (done["indexed"], done["deferred"]) == (2, 0) and b_encoder.calls > 0
    finally:
        service.sync.ENCODE_GRACE_S = original


def _texts_of(p: Profile) -> set[str]:
    from models.profile import text_hash
    from service.engine import profile_texts

    return {text_hash(t) for t in profile_texts(p)}


def _take_vectors(sessions: Sessions) -> list[dict[str, Any]]:
    """Remove the cached vectors (as if their writer had not stored them yet)."""
    with sessions() as s, s.begin():
        rows = [
            {c.name: getattr(r, c.name) for c in EmbeddingRow.__table__.columns}
            for r in s.scalars(select(EmbeddingRow))
        ]
        s.execute(delete(EmbeddingRow))
    return rows


def _put_vectors(sessions: Sessions, rows: list[dict[str, Any]]) -> None:
    from sqlalchemy import insert

    with sessions() as s, s.begin():
        s.execute(insert(EmbeddingRow), rows)


@pytest.mark.postgres
def test_a_change_committed_after_later_ones_is_not_missed(tmp_path: Path) -> None:
    """Before: on PostgreSQL a change's position is taken at its insert, so a transaction
    that commits late (a large import) had positions below those a follower had already
    passed, and the follower never applied it."""
    from service.profiles.service import ImportReport, _upsert
    from tests.support.db import postgres_schema

    with postgres_schema() as url:
        sessions, a, b, _ = _pair(url, tmp_path)
        follow_b = Follower(b)
        ps = _profiles()
        long = sessions()  # a long transaction: rows and changes written, not committed
        changed = _upsert(long, ps[:2], ImportReport())
        save_profiles(a, sessions, ps[2:3])  # another writer commits meanwhile
        assert follow_b.catch_up()["indexed"] == 1 and follow_b.holes  # passed unseen
        long.commit()
        long.close()
        a.ingest(changed)
        assert follow_b.catch_up()["indexed"] == 2
        assert sorted(b.records[pk].profile.id for pk in b.records) == sorted(p.id for p in ps[:3])
        assert follow_b.holes == [] and follow_b.catch_up()["changes"] == 0
        # a follower starting after such a transaction looks for it too
        long = sessions()
        changed = _upsert(long, ps[3:4], ImportReport())
        save_profiles(a, sessions, ps[4:5])
        c = Engine(HashingEncoder(dim=64), sessions, tmp_path / "c")
        c.reconcile()
        follow_c = Follower(c)
        assert follow_c.catch_up()["changes"] == 0 and follow_c.holes
        long.commit()
        long.close()
        a.ingest(changed)
        assert follow_c.catch_up()["indexed"] == 1 and len(c) == 5


def test_two_apps_on_one_data_directory(tmp_path: Path, encoder: HashingEncoder) -> None:
    """`serve --workers 2`: a profile written through one worker is matched by the other
    within the sync interval, over HTTP."""
    settings = make_settings(tmp_path, sync_interval_s=0.05)
    first = start_api(settings, encoder)
    api_a = next(first)
    second = start_api(settings, encoder)
    api_b = next(second)
    try:
        for p in SAMPLE:
            r = api_a.client.put(f"/v1/profiles/{p['id']}", json=p, headers=api_a.h())
            assert r.status_code in (200, 201), r.text
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:  # /readyz: the index holds what the DB holds
            ready = api_b.client.get("/readyz")
            if ready.status_code == 200 and ready.json()["in_step"]:
                break
            time.sleep(0.05)
        assert ready.status_code == 200 and ready.json()["profiles"] == len(SAMPLE), ready.text
        r = api_b.client.get("/v1/profiles/jp-1/matches", headers=api_b.h())
        found = {x["profile"]["id"] for x in r.json()["results"]}
        assert r.status_code == 200 and {"it-1", "uni-1"} <= found, r.text
        assert api_a.client.delete("/v1/profiles/it-1", headers=api_a.h()).status_code == 204
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            got = api_b.client.get("/v1/profiles/jp-1/matches", headers=api_b.h()).json()
            if "it-1" not in [m["profile"]["id"] for m in got["results"]]:
                break
            time.sleep(0.05)
        left = [m["profile"]["id"] for m in got["results"]]
        assert left and "it-1" not in left
    finally:
        for gen in (second, first):
            for _ in gen:
                pass


def test_vectors_that_never_come_are_encoded_after_the_grace_period(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import service.sync

    sessions, a, b, b_encoder = _pair(db_url, tmp_path)
    save_profiles(a, sessions, _profiles()[:1])
    with sessions() as s, s.begin():  # the writer died before storing its vectors
        s.execute(delete(EmbeddingRow))
    monkeypatch.setattr(service.sync, "ENCODE_GRACE_S", 0.0)
    done = Follower(b).catch_up()
    assert (done["indexed"], done["deferred"]) == (1, 0) and b_encoder.calls > 0


def test_old_changes_are_pruned_at_startup(db_url: str, tmp_path: Path) -> None:
    import datetime as dt

    from service.store.changes import KEEP_S, record_changes
    from service.store.db import transaction

    sessions, a, _, _ = _pair(db_url, tmp_path)
    save_profiles(a, sessions, _profiles()[:2])
    with transaction(sessions) as s:
        record_changes(s, "history")
        s.execute(
            ChangeRow.__table__.update()  # type: ignore[attr-defined]
            .where(ChangeRow.kind == "history")
            .values(at=dt.datetime.now(dt.UTC) - dt.timedelta(seconds=KEEP_S + 60))
        )
    Engine(HashingEncoder(dim=64), sessions, tmp_path / "index").reconcile()
    with sessions() as s:
        kinds = s.scalars(select(ChangeRow.kind)).all()
    assert kinds == ["profile", "profile"]
