"""service.shortlists and its migration on the database (SQLite and PostgreSQL): the
schema matches the tables and downgrades, who sees which list, entries once each, names
of the keys, the spreadsheet rows, and sending to an event through the events service."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from service.auth import Principal, create_key
from service.errors import Forbidden, NotFound, ValidationFailed
from service.events import service as events
from service.shortlists import service as shortlists
from service.store.db import make_engine, transaction, upgrade
from service.store.tables import Base, ProfileRow
from tests.support.db import sessions_for


def _profiles(factory: Any, *items: tuple[str, str, str]) -> None:
    with transaction(factory) as s:
        for pid, name, country in items:
            s.add(
                ProfileRow(
                    id=pid,
                    name=name,
                    kind="firm",
                    country=country,
                    data={"id": pid, "name": name, "name_en": f"{pid} en", "kind": "firm"},
                    content_hash="x",
                )
            )


def _codes(exc: pytest.ExceptionInfo[ValidationFailed]) -> list[str]:
    return [e["code"] for e in exc.value.extra["errors"]]


def test_migration_matches_the_tables_and_downgrades(db_url: str) -> None:
    from alembic import command
    from alembic.config import Config

    from service.store.db import MIGRATIONS_DIR

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0004")
    tables = set(inspect(engine).get_table_names())
    assert "users" in tables and not {"shortlists", "shortlist_entries"} & tables
    upgrade(engine)
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    engine.dispose()


def test_lists_belong_to_their_owner_and_admins_see_all(db_url: str) -> None:
    factory = sessions_for(db_url)
    _profiles(factory, ("it-1", "Veneto", "IT"), ("kr-1", "서울", "KR"))
    with transaction(factory) as s:
        owner_key, _ = create_key(s, "organizer", name="事務局 A")
        other_key, _ = create_key(s, "organizer", name="事務局 B")
    owner, other = Principal(owner_key.pk, "organizer"), Principal(other_key.pk, "organizer")
    admin, member = Principal(999, "admin"), Principal(998, "member", "it-1")
    with transaction(factory) as s:
        pk = shortlists.create(s, owner, "  イタリア  ").pk
        added = shortlists.add(s, owner, pk, ["it-1", " kr-1", "it-1"], note="first")
        assert added.added == ["it-1", "kr-1"] and added.already == []
        again = shortlists.add(s, owner, pk, ["kr-1"])
        assert again.added == [] and again.already == ["kr-1"]
    with transaction(factory) as s:
        assert [x.name for x in shortlists.listing(s, owner)] == ["イタリア"]
        assert shortlists.listing(s, other) == []
        (summary,) = shortlists.listing(s, admin)
        assert summary.owner == "事務局 A" and summary.entries == 2
        for caller in (other,):
            with pytest.raises(NotFound):
                shortlists.get(s, caller, pk)
            with pytest.raises(NotFound):
                shortlists.add(s, caller, pk, ["it-1"])
            with pytest.raises(NotFound):
                shortlists.rename(s, caller, pk, "x")
            with pytest.raises(NotFound):
                shortlists.delete(s, caller, pk)
        with pytest.raises(Forbidden):
            shortlists.listing(s, member)
        with pytest.raises(Forbidden):
            shortlists.get(s, member, pk)
        with pytest.raises(NotFound):
            shortlists.get(s, owner, 2**40)
        items = shortlists.entries(s, admin, pk)
        assert [(e.profile_id, e.name, e.country, e.note) for e in items] == [
            ("it-1", "Veneto", "IT", "first"),
            ("kr-1", "서울", "KR", "first"),
        ]
        assert items[0].name_en == "it-1 en"
        assert shortlists.added_by_names(s, items) == {owner_key.pk: "事務局 A"}


def test_bad_input_names_the_field_and_a_code(db_url: str) -> None:
    factory = sessions_for(db_url)
    _profiles(factory, ("it-1", "Veneto", "IT"))
    owner = Principal(1, "organizer")
    with transaction(factory) as s:
        pk = shortlists.create(s, owner, "A").pk
        cases: list[tuple[Any, str]] = [
            (lambda: shortlists.create(s, owner, " "), "shortlist.name_blank"),
            (lambda: shortlists.create(s, owner, "x" * 201), "shortlist.name_too_long"),
            (lambda: shortlists.create(s, owner, "a\x00b"), "shortlist.name_invalid"),
            (lambda: shortlists.create(s, owner, "A"), "shortlist.name_taken"),
            (lambda: shortlists.add(s, owner, pk, []), "shortlist.no_profiles"),
            (lambda: shortlists.add(s, owner, pk, ["nope"]), "shortlist.profile_unknown"),
            (lambda: shortlists.add(s, owner, pk, ["x" * 500]), "shortlist.profile_unknown"),
            (lambda: shortlists.add(s, owner, pk, ["it-1"], "n" * 2001), "shortlist.note_too_long"),
        ]
        for call, code in cases:
            with pytest.raises(ValidationFailed) as exc:
                call()
            assert _codes(exc) == [code]
        assert shortlists.entries(s, owner, pk) == []  # nothing half-written
        assert shortlists.create(s, Principal(2, "organizer"), "A").name == "A"  # per owner


def test_notes_rename_remove_delete_and_the_rows_for_a_spreadsheet(db_url: str) -> None:
    factory = sessions_for(db_url)
    _profiles(factory, ("it-1", "Veneto", "IT"), ("kr-1", "Seoul", "KR"))
    owner = Principal(1, "organizer")
    with transaction(factory) as s:
        pk = shortlists.create(s, owner, "A").pk
        shortlists.add(s, owner, pk, ["it-1", "kr-1"])
        first, second = shortlists.entries(s, owner, pk)
        shortlists.set_note(s, owner, pk, first.pk, "  一行目\r\n=二行目  ")
        with pytest.raises(NotFound):
            shortlists.set_note(s, owner, pk, 10**6, "x")
        shortlists.rename(s, owner, pk, "B")
        row, rows = shortlists.export_rows(s, owner, pk, "Europe/Rome")
        assert row.name == "B" and len(rows) == 2
        assert rows[0][:7] == [1, "it-1", "Veneto", "it-1 en", "firm", "IT", "一行目\n=二行目"]
        assert rows[0][8] == "#1"  # a key number without a name
        assert shortlists.remove(s, owner, pk, second.pk) == "kr-1"
        assert [e.profile_id for e in shortlists.entries(s, owner, pk)] == ["it-1"]
        shortlists.delete(s, owner, pk)
        assert shortlists.listing(s, owner) == []


def test_send_to_event_goes_through_the_events_rules(db_url: str) -> None:
    factory = sessions_for(db_url)
    _profiles(factory, ("it-1", "Veneto", "IT"), ("kr-1", "Seoul", "KR"), ("gone", "G", "FR"))
    owner, other = Principal(1, "organizer"), Principal(2, "organizer", office="north")
    with transaction(factory) as s:
        pk = shortlists.create(s, owner, "A").pk
        shortlists.add(s, owner, pk, ["it-1", "kr-1", "gone"])
        s.delete(s.query(ProfileRow).filter_by(id="gone").one())
        mine = events.create(
            s, owner, {"name": "E", "slots": 2, "tables": 1, "participants": [{"id": "kr-1"}]}
        ).id
        theirs = events.create(s, other, {"name": "F", "slots": 2, "tables": 1}).id
    with transaction(factory) as s:
        with pytest.raises(NotFound):  # another office's event, as if it did not exist
            shortlists.send_to_event(s, owner, pk, theirs)
        with pytest.raises(ValidationFailed):
            shortlists.send_to_event(s, owner, pk, mine, group="g" * 65)
        outcome = shortlists.send_to_event(s, owner, pk, mine, group="visitors")
        assert (outcome.added, outcome.skipped, outcome.missing) == (["it-1"], ["kr-1"], ["gone"])
        assert outcome.participants == 2 and not outcome.group_meets_no_one
    with transaction(factory) as s:
        data = events.get(s, owner, mine).data
        assert data["participants"][1] == {
            "id": "it-1",
            "name": "Veneto",
            "profile_id": "it-1",
            "group": "visitors",
            "min": 0,
        }
