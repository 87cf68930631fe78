"""A database made by the first migration, holding data, upgraded to the head: nothing is
lost, and the upgraded schema is exactly the one the code declares. SQLite and
PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from models.outcomes import MeetingOutcome
from service.auth import authenticate, key_digest
from service.store import interactions as interaction_store
from service.store import outcomes as outcome_store
from service.store import profiles as profile_store
from service.store.db import MIGRATIONS_DIR, make_engine, make_sessionmaker, upgrade
from service.store.tables import Base, EventRow

NOW = dt.datetime(2025, 4, 1, 9, 0, tzinfo=dt.UTC)
SECRET = "upgrade-test-bootstrap-secret-0001"


def _to(engine_url: str, revision: str) -> None:
    engine = make_engine(engine_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
    engine.dispose()


def _fill_0001(url: str) -> None:
    """Rows in every table of revision 0001, written with plain SQL (the code's tables
    describe the head, not 0001)."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for i, (pid, kind, country) in enumerate(
            [
                ("jp-gear", "firm", "JP"),
                ("it-dist", "trading_company", "IT"),
                ("u-tokyo", "university", "JP"),
            ]
        ):
            data = {"id": pid, "name": f"Org {i} 株式会社", "kind": kind, "country": country}
            conn.execute(
                text(
                    "insert into profiles (id, name, kind, country, cluster, org_key, data,"
                    " content_hash, created_at, updated_at) values (:id, :name, :kind,"
                    " :country, :cluster, :org_key, :data, :hash, :now, :now)"
                ),
                {
                    "id": pid,
                    "name": data["name"],
                    "kind": kind,
                    "country": country,
                    "cluster": "TAMA",
                    "org_key": pid,
                    "data": json.dumps(data, ensure_ascii=False),
                    "hash": f"{i:064d}",
                    "now": NOW,
                },
            )
        conn.execute(
            text(
                "insert into interactions (key, a, b, kind, context, at, created_at)"
                " values ('k1', 'jp-gear', 'it-dist', 'meeting', 'expo 2024', :at, :now)"
            ),
            {"at": dt.date(2024, 11, 5), "now": NOW},
        )
        conn.execute(
            text(
                "insert into api_keys (prefix, key_hash, role, name, profile_id, created_at)"
                " values (:prefix, :hash, 'organizer', 'office', null, :now)"
            ),
            {"prefix": "fixed-" + key_digest(SECRET)[:16], "hash": key_digest(SECRET), "now": NOW},
        )
        conn.execute(
            text(
                "insert into embeddings (model_id, text_hash, dim, vector) values ('m', :h, 2, :v)"
            ),
            {"h": "a" * 64, "v": b"\x00\x00\x80?\x00\x00\x00\x00"},
        )
        conn.execute(
            text(
                "insert into jobs (id, kind, status, phase, done, total, report, error,"
                " created_by, created_at, updated_at, finished_at) values ('j1', 'import',"
                " 'succeeded', 'done', 3, 3, :report, null, null, :now, :now, :now)"
            ),
            {"report": json.dumps({"imported": 3}), "now": NOW},
        )
    engine.dispose()


def test_a_first_revision_database_upgrades_to_the_head_with_nothing_lost(db_url: str) -> None:
    _to(db_url, "0001")
    _fill_0001(db_url)

    engine = make_engine(db_url)
    upgrade(engine)  # what the service does at startup
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
        assert conn.execute(text("select count(*) from embeddings")).scalar_one() == 1
        job = conn.execute(text("select status, done, report from jobs")).one()
        assert (job.status, job.done) == ("succeeded", 3)
    sessions = make_sessionmaker(engine)
    with sessions() as session:
        assert profile_store.count(session) == 3
        data = profile_store.data_of(session, "jp-gear")
        assert data is not None and data["name"] == "Org 0 株式会社"
        edges = interaction_store.of_profile(session, "jp-gear", 10)
        assert [(e.a, e.b, e.kind, e.at) for e in edges] == [
            ("jp-gear", "it-dist", "meeting", dt.date(2024, 11, 5))
        ]
        principal = authenticate(session, SECRET)
        assert principal is not None and principal.role == "organizer"
        # 0009: the key, and every profile, are of the default office
        assert principal.office == "default"
        ids = ["jp-gear", "it-dist", "u-tokyo"]
        assert set(profile_store.offices_of(session, ids).values()) == {"default"}
    # the upgraded database takes the newest tables' rows: an event and an outcome of it
    with sessions() as session, session.begin():
        session.add(EventRow(id="e1", name="TAMA 2025", data={"slots": 1}))
        session.flush()
        outcome_store.add_outcome(
            session, MeetingOutcome("e1", "p", "q", side="p", attendance="held", interest="some")
        )
    with sessions() as session:
        assert [o.interest for o in outcome_store.outcomes_for(session, ["e1"])] == ["some"]
    engine.dispose()


def _fill_0008(url: str) -> None:
    """An organizer's key and console user, an admin's key, their events (one naming two
    profiles), a programme, and a profile in no event: revision 0008's tables."""
    engine = make_engine(url)
    with engine.begin() as conn:
        for pk, role in ((1, "organizer"), (2, "admin"), (3, "organizer")):
            conn.execute(
                text(
                    "insert into api_keys (pk, prefix, key_hash, role, name, profile_id,"
                    " created_at) values (:pk, :prefix, :hash, :role, '', null, :now)"
                ),
                {"pk": pk, "prefix": f"p{pk}", "hash": f"{pk:064d}", "role": role, "now": NOW},
            )
        conn.execute(
            text(
                "insert into users (email, display_name, role, profile_id, principal_key,"
                " time_zone, created_at, updated_at) values ('o@example.jp', 'O',"
                " 'organizer', null, 3, 'Asia/Tokyo', :now, :now)"
            ),
            {"now": NOW},
        )
        for pid in ("in-event", "also-in-event", "in-none"):
            conn.execute(
                text(
                    "insert into profiles (id, name, kind, data, content_hash, created_at,"
                    " updated_at) values (:id, :id, 'firm', :data, :h, :now, :now)"
                ),
                {"id": pid, "data": json.dumps({"id": pid}), "h": "0" * 64, "now": NOW},
            )
        doc = {"participants": [{"id": "a", "profile_id": "in-event"},
                                {"id": "b", "profile_id": "also-in-event"}]}  # fmt: skip
        for eid, owner in (("e-key", 1), ("e-admin", 2), ("e-user", 3), ("e-gone", 99)):
            conn.execute(
                text(
                    "insert into events (id, name, owner_key, data, created_at, updated_at)"
                    " values (:id, :id, :owner, :data, :now, :now)"
                ),
                {"id": eid, "owner": owner, "data": json.dumps(doc), "now": NOW},
            )
        conn.execute(
            text(
                "insert into programs (name, fiscal_year, targets, owner_key, created_at,"
                " updated_at) values ('TAMA', 2025, '{}', 1, :now, :now)"
            ),
            {"now": NOW},
        )
    engine.dispose()


def _offices(url: str) -> dict[str, set[Any]]:
    engine = make_engine(url)
    with engine.connect() as conn:
        out = {
            table: set(conn.execute(text(f"select office from {table}")).scalars())
            for table in ("api_keys", "users", "events", "programs", "profiles")
        }
    engine.dispose()
    return out


def _columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    with engine.connect() as conn:
        names = {c["name"] for c in inspect(conn).get_columns(table)}
    engine.dispose()
    return names


def test_0009_puts_everything_in_the_default_office_and_downgrades(db_url: str) -> None:
    """Offices: before 0009 a deployment serves one office, so every key, user, event,
    programme and profile (in events or not) is of "default" after it. The downgrade
    drops the columns and keeps the rows; upgrading again gives the same."""
    _to(db_url, "0008")
    _fill_0008(db_url)
    for attempt in range(2):
        _to(db_url, "head")
        expected = {"default"}
        assert _offices(db_url) == dict.fromkeys(
            ("api_keys", "users", "events", "programs", "profiles"), expected
        ), attempt
        engine = make_engine(db_url)
        with make_sessionmaker(engine)() as session:
            users = session.execute(text("select count(*) from users")).scalar_one()
            assert users == 1
        engine.dispose()
        _down(db_url, "0008")
        for table in ("api_keys", "users", "events", "programs", "profiles"):
            assert "office" not in _columns(db_url, table), table
        engine = make_engine(db_url)
        with engine.connect() as conn:
            counts = [
                conn.execute(text(f"select count(*) from {t}")).scalar_one()
                for t in ("api_keys", "users", "events", "programs", "profiles")
            ]
        engine.dispose()
        assert counts == [3, 1, 4, 1, 3]


def _down(engine_url: str, revision: str) -> None:
    engine = make_engine(engine_url)
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, revision)
    engine.dispose()
