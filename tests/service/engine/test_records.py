"""The catalogue's records as columns (service.engine.records): the same record as the
profile it was made from, lookups by id and organization, writes, and the saved files."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from models.profile import Profile, profile_hash
from service.engine import records as records_module
from service.engine.catalogue import org_key
from service.engine.records import Record, RecordTable


def profile(i: int, **kw: object) -> Profile:
    data: dict[str, object] = {
        "id": f"p-{i}",
        "name": f"株式会社テスト{i}",
        "kind": "firm" if i % 3 else "trading_company",
        "country": ["JP", "IT", None][i % 3],
        "cluster": "TAMA" if i % 2 else None,
        "description": "ベトナムの販売代理店を探しています" if i % 4 == 0 else "gears",
        "offers": [f"offer {i % 5}"],
        "needs": ["distributor"],
        "industries": ["機械", f"ind-{i % 7}"],
        "markets": ["DE"] if i % 5 == 0 else [],
        "languages": ["ja", "en"],
        "website": f"https://org{i // 2}.example.jp",
    }
    data.update(kw)
    return Profile.model_validate(data)


def put(table: RecordTable, pk: int, p: Profile) -> Record:
    rec = Record(pk, p, profile_hash(p), org_key(p.website))
    table.put(rec)
    return rec


def same(a: Record, b: Record) -> None:
    for name in (
        "pk",
        "content_hash",
        "org",
        "script",
        "kind",
        "country",
        "cluster",
        "industries",
        "markets",
        "languages",
        "stated_markets",
    ):
        assert getattr(a, name) == getattr(b, name), name
    assert a.profile == b.profile


def test_a_record_reads_back_as_it_was_put() -> None:
    table = RecordTable()
    made = {pk: put(table, pk, profile(pk)) for pk in range(1, 40)}
    assert len(table) == 39 and 5 in table and 0 not in table and 99 not in table
    for pk, rec in made.items():
        same(table[pk], rec)
    # a text-only target market is read once, when the record is made (models.markets)
    assert table[4].stated_markets == ("VN",) and table[5].stated_markets == ("DE",)
    assert sorted(table) == list(range(1, 40)) and table.max_key() == 39


def test_lookups_by_id_and_organization() -> None:
    table = RecordTable()
    for pk in range(1, 11):
        put(table, pk, profile(pk))
    assert table.pk_of("p-7") == 7 and table.pk_of("p-70") is None
    # p-2 and p-3 share a website host: one organization
    assert table.org_members(2).tolist() == [2, 3]
    table.drop(3)
    assert table.org_members(2).tolist() == [2] and table.pk_of("p-3") is None
    assert 3 not in table and table.get(3) is None and len(table) == 9


def test_two_ids_with_one_hash_are_told_apart(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(records_module, "id_hash", lambda profile_id: 42)
    table = RecordTable()
    put(table, 1, profile(1))
    put(table, 2, profile(2))
    assert table.pk_of("p-1") == 1 and table.pk_of("p-2") == 2


def test_a_write_replaces_the_record() -> None:
    table = RecordTable()
    put(table, 1, profile(1))
    changed = put(table, 1, profile(1, kind="university", description="研究"))
    same(table[1], changed)
    assert table[1].kind == "university" and len(table) == 1


def test_saved_records_are_mapped_and_read_back(tmp_path: Path) -> None:
    table = RecordTable()
    made = {pk: put(table, pk, profile(pk)) for pk in range(1, 200)}
    pool = tmp_path / "pool"
    table.save(tmp_path / "gen1", pool)
    blob = tmp_path / "gen1" / "profiles.bin"
    assert blob.stat().st_nlink == 2  # linked from the pool, not a copy
    loaded = RecordTable.load(tmp_path / "gen1", pool)
    assert isinstance(loaded.blob, np.memmap) and not loaded.overlay
    for pk, rec in made.items():
        same(loaded[pk], rec)
    # a write after the load: kept in memory, saved beside the same blob
    newer = put(loaded, 7, profile(7, name="新しい名前"))
    loaded.drop(8)
    loaded.save(tmp_path / "gen2", pool)
    assert os.path.samefile(tmp_path / "gen2" / "profiles.bin", blob)
    again = RecordTable.load(tmp_path / "gen2", pool)
    same(again[7], newer)
    assert 8 not in again and len(again) == 198 and again.pk_of("p-8") is None


def test_many_writes_are_merged_into_a_new_blob(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(records_module, "MERGE_AT", 10)
    table = RecordTable()
    for pk in range(1, 50):
        put(table, pk, profile(pk))
    pool = tmp_path / "pool"
    table.save(tmp_path / "gen1", pool)
    for pk in range(1, 30):
        put(table, pk, profile(pk, name=f"renamed {pk}"))
    table.save(tmp_path / "gen2", pool)
    assert not table.overlay and table.blob_file is not None
    assert not os.path.samefile(
        tmp_path / "gen1" / "profiles.bin", tmp_path / "gen2" / "profiles.bin"
    )
    again = RecordTable.load(tmp_path / "gen2", pool)
    assert again[3].profile.name == "renamed 3" and again[40].profile == profile(40)
    assert again.pk_of("p-3") == 3


def test_damaged_files_are_refused(tmp_path: Path) -> None:
    table = RecordTable()
    for pk in range(1, 20):
        put(table, pk, profile(pk))
    table.save(tmp_path / "gen", tmp_path / "pool")
    (tmp_path / "gen" / "kind.npy").write_bytes(b"not an array")
    with pytest.raises(ValueError):
        RecordTable.load(tmp_path / "gen", tmp_path / "pool")
