"""`clustermatch backup` while profiles are being written, and `restore` into a fresh data
directory (and, on PostgreSQL, a fresh database): every write acknowledged before the
backup began is back, no row is half there, and the index is in step with the database.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from models.encoders import HashingEncoder
from service.engine import Engine
from service.ops.backup import MANIFEST, BackupError, backup, read_manifest, restore
from service.store import profiles as profile_store
from service.store.db import make_engine, make_sessionmaker
from tests.support.app import make_settings, start_api
from tests.support.db import PG_URL


def _profile(i: int) -> dict[str, Any]:
    return {
        "id": f"w-{i}",
        "name": f"書き込み {i} 株式会社",
        "kind": "firm",
        "country": "JP",
        "description": f"precision part number {i} for machines",
        "offers": [f"part {i}"],
    }


def _engine(api: Any) -> Engine:
    engine: Engine = api.client.app.state.engine
    return engine


class Writer(threading.Thread):
    """Writes profiles one by one through the API, noting each acknowledged one."""

    def __init__(self, api: Any) -> None:
        super().__init__(daemon=True)
        self.api = api
        self.acked: list[str] = []
        self.stop = threading.Event()
        self.errors: list[str] = []

    def run(self) -> None:
        i = 0
        while not self.stop.is_set() and i < 2000:
            body = _profile(i)
            r = self.api.put(f"/v1/profiles/{body['id']}", json=body, headers=self.api.h())
            if r.status_code in (200, 201):
                self.acked.append(body["id"])
            else:
                self.errors.append(f"{r.status_code} {r.text[:200]}")
            i += 1


@contextmanager
def _fresh_target(db_url: str) -> Iterator[str | None]:
    """Where to restore: SQLite into the new data directory (None: its default file);
    PostgreSQL into a new database, under the same schema name the backup holds."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        yield None
        return
    name = "restore_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'create database "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'drop database if exists "{name}" with (force)'))
        admin.dispose()


def test_backup_during_writes_restores_every_acknowledged_row(
    db_url: str, tmp_path: Path, encoder: HashingEncoder
) -> None:
    settings = make_settings(tmp_path / "live", db_url)
    dest = tmp_path / "backup"
    api_cm = contextmanager(start_api)(settings, encoder)
    api = api_cm.__enter__()
    writer = Writer(api)
    try:
        for i in range(2000, 2040):  # some rows, and a saved index, before the writes
            body = _profile(i)
            assert api.put(f"/v1/profiles/{body['id']}", json=body, headers=api.h()).is_success
        _engine(api).save()
        writer.start()
        while len(writer.acked) < 30:
            writer.join(0.01)
        acked_before = set(writer.acked) | {f"w-{i}" for i in range(2000, 2040)}
        report = backup(settings, dest)
        writer.stop.set()
        writer.join()
    finally:
        writer.stop.set()
        api_cm.__exit__(None, None, None)
    assert writer.errors == []
    assert report.profiles >= len(acked_before)
    assert report.index_generation is not None
    manifest = json.loads((dest / MANIFEST).read_text())
    assert manifest["database"]["dialect"] == make_url(db_url).get_backend_name()

    with _fresh_target(db_url) as target_url:
        target = make_settings(tmp_path / "restored", target_url)
        done = restore(target, dest)
        assert done.index_generation == report.index_generation
        sessions = make_sessionmaker(make_engine(target.resolved_database_url))
        with sessions() as s:
            _, rows = profile_store.page(
                s, kinds=None, countries=None, cluster=None, limit=5000, offset=0
            )
            restored = {r.id: r.data for r in rows}
        assert acked_before <= set(restored)
        for pid, data in restored.items():  # whole rows only
            written = _profile(int(pid[2:]))
            assert (data["name"], data["description"]) == (written["name"], written["description"])
        # the restored service starts with its index in step with the database
        with contextmanager(start_api)(target, encoder) as rapi:
            ready = rapi.get("/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["profiles"] == len(restored)
            assert len(_engine(rapi)) == len(restored)

        # restoring again over data is refused unless forced
        with pytest.raises(BackupError, match="holds data"):
            restore(target, dest)


def test_a_damaged_or_unfinished_backup_is_refused(tmp_path: Path, encoder: HashingEncoder) -> None:
    settings = make_settings(tmp_path / "live", None)
    with contextmanager(start_api)(settings, encoder) as api:
        assert api.put("/v1/profiles/w-1", json=_profile(1), headers=api.h()).is_success
        backup(settings, tmp_path / "b")
    with pytest.raises(BackupError, match="not empty"):
        backup(settings, tmp_path / "b")
    copy = tmp_path / "b" / "database.sqlite"
    copy.write_bytes(copy.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(BackupError, match="checksum"):
        read_manifest(tmp_path / "b")
    (tmp_path / "b" / MANIFEST).unlink()
    with pytest.raises(BackupError, match="no finished backup"):
        restore(make_settings(tmp_path / "other", None), tmp_path / "b")
