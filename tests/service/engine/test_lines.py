"""The segment index of the line votes (service.engine.lines) under writes: a request never
waits for a writer, a write changes the index by its change alone, and the index so
changed votes as one built afresh."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from models.encoders import HashingEncoder
from models.lines import LineIndex
from models.matching import Party
from models.profile import Profile
from service.engine import Engine
from service.engine.lines import LineVotes
from service.profiles.service import delete_profile, save_profiles
from service.store.embeddings import DbEmbeddingCache
from service.store.tables import EventRow
from tests.support.db import Sessions, sessions_for

# How long the stand-in for another request's transaction holds SQLite's write lock
# waiting for the match it is queued behind, before it gives up and commits anyway (far
# below SQLite's 30 s busy timeout, far above a match on a loaded machine).
HOLD_S = 15.0


def _profile(i: int, extra: str = "") -> Profile:
    topic = ("battery cells", "solar glass", "medical stents", "gear modules")[i % 4]
    return Profile.model_validate(
        {
            "id": f"p{i}",
            "name": f"Org {i}",
            "kind": "firm",
            "country": "JP",
            "description": f"Maker of {topic}. Project {i % 7} on {topic} testing.{extra}",
            "offers": [f"{topic} parts {i % 5}"],
            "needs": [f"distributors for {topic}"],
        }
    )


class HookedCache(DbEmbeddingCache):
    """The database's embedding cache; while `hook` is set it runs before each write."""

    def __init__(self, sessions: Sessions) -> None:
        super().__init__(sessions)
        self.hook: Callable[[], None] | None = None

    def put_many(self, model_id: str, vectors: Mapping[str, np.ndarray]) -> None:
        if self.hook is not None and vectors:
            self.hook()
        super().put_many(model_id, vectors)


def _engine(tmp_path: Path, cache: DbEmbeddingCache | None = None) -> tuple[Engine, Sessions]:
    sessions = sessions_for(f"sqlite:///{tmp_path / 'lines.db'}")
    engine = Engine(HashingEncoder(), sessions, tmp_path / "index", cache=cache)
    engine.reconcile()
    save_profiles(engine, sessions, [_profile(i) for i in range(40)])
    assert engine.lines.on() and engine.lines.current() is not None
    return engine, sessions


def test_a_write_waiting_for_the_database_does_not_hold_up_matches(tmp_path: Path) -> None:
    """The soak's "database is locked" (issue 21): with two workers, matches run on the
    event loop; a write waited for SQLite's write lock while holding the engine's lock;
    the SQLite lock was another request's, whose commit waited for the loop; the loop
    was matching, and the match waited for the engine's lock (the segment index was
    rebuilt by the writer, and writing the embedding cache inside that rebuild). Here
    each time the writer is about to write the embedding cache, another transaction takes
    SQLite's write lock and commits only once a match and a search have answered: they
    must answer while the writer waits, and the write must succeed."""
    cache = HookedCache(sessions_for(f"sqlite:///{tmp_path / 'lines.db'}"))
    engine, sessions = _engine(tmp_path, cache)
    query = engine.record("p3")
    assert query is not None
    gave_up: list[bool] = []
    threads: list[threading.Thread] = []

    def another_request_meanwhile() -> None:
        matched = threading.Event()
        holding = threading.Event()

        def transaction() -> None:  # a request's write, committed after the loop's match
            with sessions() as s:
                s.add(EventRow(id=str(uuid.uuid4()), name="meanwhile", data={}))
                s.flush()  # SQLite's write lock is held from here to the commit
                holding.set()
                gave_up.append(not matched.wait(HOLD_S))
                s.commit()

        def match() -> None:  # the event loop's request
            engine.matches_for(query, "partner")
            engine.search_text("battery cells testing", "partner")
            matched.set()

        threads.append(threading.Thread(target=transaction))
        threads[-1].start()
        holding.wait()
        threads.append(threading.Thread(target=match))
        threads[-1].start()

    cache.hook = another_request_meanwhile
    report = save_profiles(engine, sessions, [_profile(100, "\nNew line on lidar sensors.")])
    cache.hook = None
    for t in threads:
        t.join()
    assert report.created == 1 and gave_up and not any(gave_up), gave_up
    current = engine.lines.current()
    assert current is not None and "New line on lidar sensors." in current.id_of


def test_requests_vote_with_the_index_before_a_write_while_it_runs(tmp_path: Path) -> None:
    """While a writer holds the engine's lock with the catalogue changed and the segment
    index not yet following it, a match does not wait: it votes with the index from
    before the change; once the writer is done the index is current."""
    engine, _ = _engine(tmp_path)
    before = engine.lines.current()
    query = engine.record("p5")
    assert before is not None and query is not None
    changed, release = threading.Event(), threading.Event()
    new = _profile(5, "\nA line no profile had.")

    def writer() -> None:
        with engine.write_lock:
            rec = engine.record("p5")
            assert rec is not None
            rows = [(rec.pk, new, "h")]
            vectors, _ = engine.embedder.embed(_texts(new))
            engine.catalogue.upsert(rows, vectors)
            changed.set()
            release.wait(HOLD_S)
            engine.lines.changed([rec.pk], vectors, before)

    thread = threading.Thread(target=writer)
    thread.start()
    changed.wait()
    answered: list[int] = []
    matcher = threading.Thread(
        target=lambda: answered.append(len(engine.matches_for(query, "partner")))
    )
    matcher.start()
    matcher.join(HOLD_S)
    waited = matcher.is_alive()
    release.set()
    thread.join()
    matcher.join()
    assert not waited and answered, "the match waited for the writer"
    assert engine.lines.current() is not None
    assert "A line no profile had." in engine.lines.current().id_of  # type: ignore[union-attr]


def _texts(p: Profile) -> list[str]:
    from models.lines import profile_segments
    from service.engine.catalogue import profile_texts

    return [*profile_texts(p), *profile_segments(p.description, p.offers, p.needs)]


def _votes(lines: LineVotes, text: str) -> tuple[np.ndarray, np.ndarray]:
    encoder = lines.catalogue.embedder.encoder
    query = Party.of_text(encoder.encode([text])[0], "partner")
    lexical, dense = lines.votes(query, None, text)
    assert lexical is not None and dense is not None
    return lexical, dense


def test_writes_change_the_index_as_a_fresh_build_would_have_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Creates, replacements (lines gone, lines new) and deletes change the segment index
    by their change alone (nothing is built); it then votes, per profile, as an index
    built afresh from the catalogue, and the lines nobody lists any more never vote."""
    engine, sessions = _engine(tmp_path)
    # every line votes: the row order, which breaks ties within the top k, differs
    # between the two (tests/models/test_lines.py checks a small k without ties)
    engine.lines.k = 10_000
    builds: list[int] = []
    build = LineIndex.build

    def counted(cls: type[LineIndex], *a: Any, **kw: Any) -> LineIndex:
        builds.append(1)
        return build(*a, **kw)

    monkeypatch.setattr(LineIndex, "build", classmethod(counted))
    for i in range(40, 46):
        save_profiles(engine, sessions, [_profile(i, f"\nLine {i} on hydrogen tanks.")])
    for i in (2, 3, 41):  # their old lines go, new ones come
        save_profiles(engine, sessions, [_profile(i, f"\nNow {i} makes lidar sensors.")])
    for pid in ("p7", "p42"):
        assert delete_profile(engine, sessions, pid)
    changed = engine.lines.current()
    assert builds == [] and changed is not None
    assert changed.dead and not changed.alive[changed.id_of["Line 41 on hydrogen tanks."]]
    fresh = LineVotes(engine.catalogue, threading.RLock(), k=engine.lines.k)
    built = fresh.index()
    assert builds == [1] and built is not None and built.dead == 0
    assert {changed.lines[i] for i in np.flatnonzero(changed.alive)} == set(built.lines)
    for text in ("hydrogen tanks line", "lidar sensors", "battery cells testing", "gear"):
        for got, want in zip(_votes(engine.lines, text), _votes(fresh, text), strict=True):
            size = max(got.size, want.size)
            got_all, want_all = np.zeros(size), np.zeros(size)
            got_all[: got.size], want_all[: want.size] = got, want
            np.testing.assert_allclose(got_all, want_all, rtol=1e-5, atol=1e-6)
    assert changed.compacted().dead == 0 and len(changed.compacted()) == len(built)


def test_a_vote_during_a_vocabulary_refit_skips_the_lexical_side(tmp_path: Path) -> None:
    """Between a refit of the lexical vocabulary and the segment index following it, a
    request votes with the index from before: densely only (its lexical rows and a query
    transformed with the new vocabulary would not compare), and without an error."""
    engine, _ = _engine(tmp_path)
    before = engine.lines.current()
    assert before is not None
    lexical, dense = _votes(engine.lines, "battery cells testing")
    assert lexical.any() and dense.any()
    with engine.write_lock:
        engine.catalogue.refit_lexical()  # (a new vocabulary: Engine.refit_lexical's first half)
        assert engine.lines.current() is None
        query = Party.of_text(engine.embedder.encode_query("battery cells testing"), "partner")
        got: list[tuple[np.ndarray | None, np.ndarray | None]] = []
        request = threading.Thread(
            target=lambda: got.append(engine.lines.votes(query, None, "battery cells testing"))
        )
        request.start()
        request.join()
        during = got[0]
        engine.lines.changed([], {}, before)
    assert during[0] is None and during[1] is not None and np.allclose(during[1], dense)
    after = engine.lines.current()
    assert after is not None and after is not before
    assert _votes(engine.lines, "battery cells testing")[0].any()
