"""The catalogue's records: what the engine keeps per indexed profile, as columns.

One Python object per profile (the pydantic profile, its lists and strings) costs ~2.9 KB,
so 2.9 GB per worker at a million profiles, and a startup that decodes them all from the
database (~100 s). `RecordTable` keeps what filters and ranking read for every candidate
in numpy columns indexed by key: kind, country, cluster, script, organization (a hash of
the website host), industries / markets / languages / stated target markets (codes of
interned tuples), the content hash, and where the profile's JSON is. The JSON of the
profiles of the saved generation is one file that every worker maps read-only (its pages
are shared); profiles written since are kept in memory (`overlay`) until a save merges
them. A `Record` is made on access from the columns; its `profile` is decoded from the
JSON when first read (the top of a ranking, its reasons), and the last few thousand are
kept.

Saved with the index generation (service.engine.snapshot): the columns as .npy files,
the tables as JSON, the JSON blob linked from a pool (``records/``: a merge writes a new
one there; a save links it), so that a save after a few writes does not rewrite it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np
import numpy.typing as npt

from models.lexical import script as script_of
from models.markets import stated_markets
from models.matching import Party
from models.profile import KINDS, Facet, Profile, digest_of, overall_text

__all__ = ["Record", "RecordTable", "id_hash", "org_key"]

KIND_CODE: dict[str, int] = {k: i for i, k in enumerate(KINDS)}
SCRIPTS = ("", "latin", "cjk", "hangul", "cyrillic", "other")
_SCRIPT_CODE = {s: i for i, s in enumerate(SCRIPTS)}
#: decoded records kept per process (LRU): the candidates of recent requests
CACHE = 20_000
#: profiles written since the blob was written that a save merges into a new blob
MERGE_AT = 50_000
BLOB_POOL = "records"
POOL_GRACE_S = 600.0
_FORMAT = 1
_TAGS = ("industries", "markets", "languages", "stated")
_COLUMNS = (
    "kind",
    "country",
    "cluster",
    "script",
    "org",
    "idh",
    "tags",
    "digest",
    "offset",
    "size",
)

IntArray = npt.NDArray[np.int64]


def id_hash(profile_id: str) -> int:
    """A 64-bit hash of a profile id (the id -> key lookup; collisions are handled)."""
    digest = hashlib.blake2b(profile_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


def org_key(website: str | None) -> str | None:
    """Profiles that share a website host are treated as one organization (a firm and its
    branch office): they are never suggested to each other."""
    if not website:
        return None
    raw = website.strip().lower()
    host = urlsplit(raw if "://" in raw else "http://" + raw).hostname or ""
    host = host.removeprefix("www.")
    return host or None


def _org_hash(org: str | None) -> int:
    return 0 if not org else id_hash("org:" + org) or 1


class Record:
    """What the engine keeps per indexed profile: filtering and ranking fields, and the
    profile itself (decoded from the table's JSON when first read)."""

    __slots__ = (
        "_load",
        "_org",
        "_profile",
        "cluster",
        "content_hash",
        "country",
        "industries",
        "kind",
        "languages",
        "markets",
        "pk",
        "script",
        "stated_markets",
    )

    def __init__(
        self,
        pk: int,
        profile: Profile,
        content_hash: str,
        org: str | None,
        script: str = "",
    ) -> None:
        self.pk = pk
        self.content_hash = content_hash
        self._org: str | bool | None = org
        self.script = script or script_of(overall_text(profile))
        self.kind: str = profile.kind
        self.country: str | None = profile.country
        self.cluster: str | None = profile.cluster
        self.industries: tuple[str, ...] = tuple(profile.industries)
        self.markets: tuple[str, ...] = tuple(profile.markets)
        self.languages: tuple[str, ...] = tuple(profile.languages)
        # its target markets: `markets`, else the ones its text names (models.markets)
        self.stated_markets: tuple[str, ...] = tuple(
            stated_markets(profile.markets, profile.description, profile.needs, profile.country)
        )
        self._profile: Profile | None = profile
        self._load: Callable[[], Profile] | None = None

    @property
    def org(self) -> str | None:
        """Its organization (the website host: models.matching never suggests one profile
        of an organization to another); made from the profile when first read."""
        org = self._org
        if org is False:
            org = self._org = org_key(self.profile.website)
        return org if isinstance(org, str) else None

    @property
    def profile(self) -> Profile:
        p = self._profile
        if p is None:
            assert self._load is not None
            p = self._profile = self._load()
        return p

    def party(self, vectors: Mapping[Facet, np.ndarray | None]) -> Party:
        return Party(
            key=self.pk,
            kind=self.kind,
            country=self.country,
            cluster=self.cluster,
            industries=self.industries,
            markets=self.markets,
            languages=self.languages,
            all=vectors.get("all"),
            offers=vectors.get("offers"),
            needs=vectors.get("needs"),
            script=self.script,
        )

    def __repr__(self) -> str:
        return f"Record(pk={self.pk}, kind={self.kind!r}, country={self.country!r})"


class _Interned:
    """Values (strings or tuples of strings) and their codes, in order of first use."""

    def __init__(self, values: Sequence[Any] = ()) -> None:
        self.values: list[Any] = list(values)
        self.codes: dict[Any, int] = {v: i for i, v in enumerate(self.values)}

    def code(self, value: Any) -> int:
        found = self.codes.get(value)
        if found is None:
            found = self.codes[value] = len(self.values)
            self.values.append(value)
        return found


def _grown(column: np.ndarray, size: int, fill: Any) -> np.ndarray:
    shape = (size, *column.shape[1:])
    out = np.full(shape, fill, dtype=column.dtype)
    out[: column.shape[0]] = column
    return out


class RecordTable(Mapping[int, Record]):
    """The records by key (see the module doc). Written by the engine under its write
    lock; read by requests without it: a column is replaced whole when it grows, and a
    record read during a write is that of before or after it."""

    def __init__(self) -> None:
        self.kind = np.full(0, -1, dtype=np.int16)  # -1: no live record
        self.country = np.full(0, -1, dtype=np.int16)
        self.cluster = np.zeros(0, dtype=np.int32)
        self.script = np.zeros(0, dtype=np.int8)
        self.org = np.zeros(0, dtype=np.int64)
        self.idh = np.zeros(0, dtype=np.int64)  # id_hash of the profile id
        self.tags = np.zeros((0, len(_TAGS)), dtype=np.int32)
        self.digest = np.zeros((0, 32), dtype=np.uint8)
        self.offset = np.full(0, -1, dtype=np.int64)  # in the blob; -1: in the overlay
        self.size = np.zeros(0, dtype=np.int32)
        self.countries = _Interned()  # (no country: -2 in the column, as before)
        self.clusters = _Interned([None])
        self.tuples = _Interned([()])
        self.blob: np.ndarray | None = None  # the saved JSON, mapped
        self.blob_file: Path | None = None
        self.overlay: dict[int, bytes] = {}
        self._n = 0
        self._id_keys = np.zeros(0, dtype=np.int64)  # sorted id hashes of the blob's time
        self._id_pks = np.zeros(0, dtype=np.int64)
        self._id_new: dict[int, int] = {}  # id hash -> key, written since (0: removed)
        self._exact: dict[str, int] = {}  # ids whose hash another live id has
        self._cache: OrderedDict[int, Record] = OrderedDict()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ reading

    def __len__(self) -> int:
        return self._n

    def __contains__(self, pk: object) -> bool:
        kind = self.kind
        return isinstance(pk, int | np.integer) and 0 <= int(pk) < kind.size and kind[pk] >= 0

    def __iter__(self) -> Iterator[int]:
        return iter(np.flatnonzero(self.kind >= 0).tolist())

    def keys_array(self) -> IntArray:
        return np.flatnonzero(self.kind >= 0).astype(np.int64)

    def max_key(self) -> int:
        live = np.flatnonzero(self.kind >= 0)
        return int(live[-1]) if live.size else 0

    def __getitem__(self, pk: int) -> Record:
        rec = self.get(pk)
        if rec is None:
            raise KeyError(pk)
        return rec

    def get(self, pk: int, default: Any = None) -> Any:
        with self._lock:
            rec = self._cache.get(pk)
            if rec is not None:
                self._cache.move_to_end(pk)
                return rec
        if pk not in self:
            return default
        rec = self._make(int(pk))
        with self._lock:
            self._cache[int(pk)] = rec
            while len(self._cache) > CACHE:
                self._cache.popitem(last=False)
        return rec

    def _make(self, pk: int) -> Record:
        rec = Record.__new__(Record)
        rec.pk = pk
        rec.content_hash = self.digest[pk].tobytes().hex()
        rec._org = False if self.org[pk] else None  # (from the profile, when read)
        rec.script = SCRIPTS[int(self.script[pk])]
        rec.kind = KINDS[int(self.kind[pk])]
        code = int(self.country[pk])
        rec.country = self.countries.values[code] if code >= 0 else None
        rec.cluster = self.clusters.values[int(self.cluster[pk])]
        values = self.tuples.values
        ind, mk, lang, stated = self.tags[pk].tolist()
        rec.industries, rec.markets = values[ind], values[mk]
        rec.languages, rec.stated_markets = values[lang], values[stated]
        rec._profile = None
        rec._load = lambda: self.profile(pk)
        return rec

    def json(self, pk: int) -> bytes:
        """The stored JSON of a live record."""
        data = self.overlay.get(pk)
        if data is not None:
            return data
        off, size = int(self.offset[pk]), int(self.size[pk])
        assert self.blob is not None and off >= 0
        return bytes(self.blob[off : off + size])

    def profile(self, pk: int) -> Profile:
        return Profile.model_validate_json(self.json(pk))

    def pk_of(self, profile_id: str) -> int | None:
        """The key of a profile id among the live records (None: none)."""
        pk = self._exact.get(profile_id)
        if pk is not None:
            return pk
        h = id_hash(profile_id)
        pk = self._id_new.get(h)
        if pk is None:
            keys = self._id_keys
            at = int(np.searchsorted(keys, h))
            if at < keys.size and keys[at] == h:
                pk = int(self._id_pks[at])
        if not pk or pk not in self:
            return None
        return pk

    def org_members(self, pk: int) -> IntArray:
        """Keys of the live records of the same organization as `pk` (itself included)."""
        h = int(self.org[pk]) if pk in self else 0
        if not h:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.org == h).astype(np.int64)

    def content_digest(self, pks: IntArray) -> npt.NDArray[np.uint8]:
        return self.digest[pks]

    # ------------------------------------------------------------------ writing

    def _ensure(self, pk: int) -> None:
        if pk < self.kind.size:
            return
        size = max(pk + 1, 2 * self.kind.size, 1024)
        # each column replaced whole: a reader sees the old one or the new one
        self.country = _grown(self.country, size, -1)
        self.cluster = _grown(self.cluster, size, 0)
        self.script = _grown(self.script, size, 0)
        self.org = _grown(self.org, size, 0)
        self.idh = _grown(self.idh, size, 0)
        self.tags = _grown(self.tags, size, 0)
        self.digest = _grown(self.digest, size, 0)
        self.offset = _grown(self.offset, size, -1)
        self.size = _grown(self.size, size, 0)
        self.kind = _grown(self.kind, size, -1)  # last: it says which keys are live

    def put(self, rec: Record, data: bytes | None = None) -> None:
        """Store a record (its profile read from `rec`; `data`: its JSON, else dumped)."""
        pk = rec.pk
        p = rec.profile
        self._ensure(pk)
        was = pk in self
        if was and int(self.idh[pk]) != id_hash(p.id):
            self.drop(pk)  # (another id under this key: the lookups change)
            was = False
        # (a replaced record stays live while its columns change: a reader sees the old
        # record or the new one, field by field, never none)
        self.country[pk] = -2 if rec.country is None else self.countries.code(rec.country)
        self.cluster[pk] = self.clusters.code(rec.cluster)
        self.script[pk] = _SCRIPT_CODE.get(rec.script, len(SCRIPTS) - 1)
        self.org[pk] = _org_hash(rec.org)
        self.tags[pk] = [
            self.tuples.code(rec.industries),
            self.tuples.code(rec.markets),
            self.tuples.code(rec.languages),
            self.tuples.code(rec.stated_markets),
        ]
        self.digest[pk] = np.frombuffer(digest_of(rec.content_hash), dtype=np.uint8)
        self.overlay[pk] = data if data is not None else _dump(p)
        self.offset[pk] = -1
        self.size[pk] = 0
        h = id_hash(p.id)
        self.idh[pk] = h
        if not was:
            other = self.pk_of_hash(h)
            if other is not None and other != pk and self.profile(other).id != p.id:
                self._exact[p.id] = pk  # (two live ids with one hash: this one by its id)
            else:
                self._id_new[h] = pk
            self._n += 1
        self.kind[pk] = KIND_CODE[rec.kind]
        with self._lock:
            self._cache.pop(pk, None)

    def pk_of_hash(self, h: int) -> int | None:
        pk = self._id_new.get(h)
        if pk is None:
            keys = self._id_keys
            at = int(np.searchsorted(keys, h))
            if at < keys.size and keys[at] == h:
                pk = int(self._id_pks[at])
        return pk if pk and pk in self else None

    def drop(self, pk: int) -> bool:
        if pk not in self:
            return False
        h = int(self.idh[pk])
        if self.pk_of_hash(h) == pk:
            self._id_new[h] = 0
        elif self._exact:
            self._exact = {i: k for i, k in self._exact.items() if k != pk}
        self.kind[pk] = -1
        self.org[pk] = 0
        self.overlay.pop(pk, None)
        self._n -= 1
        with self._lock:
            self._cache.pop(pk, None)
        return True

    def clear(self) -> None:
        self.__init__()  # type: ignore[misc]

    def copy(self) -> RecordTable:
        """A copy to change without touching this one (the blob shared, read-only)."""
        out = RecordTable()
        for name in _COLUMNS:
            setattr(out, name, getattr(self, name).copy())
        out.offset, out.size = self.offset.copy(), self.size.copy()
        out.countries = _copy_interned(self.countries)
        out.clusters = _copy_interned(self.clusters)
        out.tuples = _copy_interned(self.tuples)
        out.blob, out.blob_file = self.blob, self.blob_file
        out.overlay = dict(self.overlay)
        out._n = self._n
        out._id_keys, out._id_pks = self._id_keys, self._id_pks
        out._id_new = dict(self._id_new)
        out._exact = dict(self._exact)
        return out

    # ------------------------------------------------------------------ files

    def save(self, folder: Path, pool: Path) -> None:
        """Write the columns and tables into `folder` and link the JSON blob there (from
        `pool`, where a merge writes a new blob when many profiles were written since)."""
        folder.mkdir(parents=True, exist_ok=True)
        if self.blob is None or len(self.overlay) > MERGE_AT or self._blob_garbage() > 0.25:
            self._merge(pool)
        elif self.blob_file is None or not self.blob_file.exists():
            self._merge(pool)  # (the pool's file is gone: written again)
        assert self.blob_file is not None
        _link(self.blob_file, folder / "profiles.bin")
        live = self.keys_array()
        over = sorted(pk for pk in self.overlay if pk in self)
        with (folder / "overlay.bin").open("wb") as fh:
            sizes = []
            for pk in over:
                fh.write(self.overlay[pk])
                sizes.append(len(self.overlay[pk]))
        arrays = {name: getattr(self, name) for name in _COLUMNS}
        arrays["overlay_pks"] = np.asarray(over, dtype=np.int64)
        arrays["overlay_sizes"] = np.asarray(sizes, dtype=np.int64)
        arrays["id_keys"], arrays["id_pks"] = self._id_keys, self._id_pks
        for name, arr in arrays.items():
            np.save(folder / f"{name}.npy", arr, allow_pickle=False)
        tables = {
            "format": _FORMAT,
            "count": int(live.size),
            "blob": self.blob_file.name,
            "countries": self.countries.values,
            "clusters": self.clusters.values,
            "tuples": [list(t) for t in self.tuples.values],
            "exact": self._exact,
            "id_new": {str(k): v for k, v in self._id_new.items()},
        }
        (folder / "tables.json").write_text(json.dumps(tables, ensure_ascii=False))
        _prune_pool(pool, self.blob_file)

    def _blob_garbage(self) -> float:
        """The share of the blob's bytes no live record points at."""
        if self.blob is None or not self.blob.size:
            return 0.0
        used = int(self.size[(self.kind >= 0) & (self.offset >= 0)].sum())
        return 1.0 - used / self.blob.size

    def _merge(self, pool: Path) -> None:
        """A new blob with every live record's JSON (the overlay emptied into it), and the
        id lookup rebuilt from the live records."""
        pool.mkdir(parents=True, exist_ok=True)
        live = self.keys_array()
        tmp = pool / f".tmp-{uuid.uuid4().hex}"
        offsets = np.full(self.kind.size, -1, dtype=np.int64)
        sizes = np.zeros(self.kind.size, dtype=np.int32)
        exact = set(self._exact.values())
        try:
            with tmp.open("wb") as fh:
                at = 0
                for pk in live.tolist():
                    data = self.json(pk)
                    fh.write(data)
                    offsets[pk], sizes[pk] = at, len(data)
                    at += len(data)
                fh.flush()
                os.fsync(fh.fileno())
            final = pool / f"{uuid.uuid4().hex}.bin"
            os.rename(tmp, final)
        finally:
            tmp.unlink(missing_ok=True)
        keep = live[~np.isin(live, np.fromiter(exact, dtype=np.int64, count=len(exact)))]
        hashes = self.idh[keep]
        order = np.argsort(hashes, kind="stable")
        self._id_keys, self._id_pks = hashes[order], keep[order]
        self._id_new = {}
        self.blob = _map(final)
        self.blob_file = final
        self.offset, self.size = offsets, sizes
        self.overlay = {}

    @classmethod
    def load(cls, folder: Path, pool: Path | None = None) -> RecordTable:
        """What `save` wrote; ValueError when it is incomplete or inconsistent."""
        try:
            tables = json.loads((folder / "tables.json").read_text())
            if tables.get("format") != _FORMAT:
                raise ValueError(f"records format {tables.get('format')}")
            arrays = {
                name: np.load(folder / f"{name}.npy", allow_pickle=False)
                for name in (*_COLUMNS, "overlay_pks", "overlay_sizes", "id_keys", "id_pks")
            }
        except (OSError, KeyError, TypeError) as exc:
            raise ValueError(f"records in {folder} are not usable: {exc}") from exc
        out = cls()
        for name in _COLUMNS:
            setattr(out, name, arrays[name])
        n = out.kind.size
        if any(getattr(out, c).shape[0] != n for c in _COLUMNS):
            raise ValueError(f"records in {folder} are inconsistent")
        out.countries = _Interned(tables["countries"])
        out.clusters = _Interned(tables["clusters"])
        out.tuples = _Interned([tuple(t) for t in tables["tuples"]])
        out._exact = {str(k): int(v) for k, v in tables["exact"].items()}
        out._id_new = {int(k): int(v) for k, v in tables["id_new"].items()}
        out._id_keys, out._id_pks = arrays["id_keys"], arrays["id_pks"]
        blob = folder / "profiles.bin"
        out.blob = _map(blob)
        out.blob_file = blob
        if pool is not None:  # (a save links the blob from the pool, by its name)
            pooled = pool / str(tables["blob"])
            with contextlib.suppress(OSError):
                if not pooled.exists():
                    pool.mkdir(parents=True, exist_ok=True)
                    os.link(blob, pooled)
                if pooled.stat().st_ino == blob.stat().st_ino:
                    out.blob_file = pooled
        data = (folder / "overlay.bin").read_bytes()
        at = 0
        for pk, size in zip(
            arrays["overlay_pks"].tolist(), arrays["overlay_sizes"].tolist(), strict=True
        ):
            out.overlay[pk] = data[at : at + size]
            at += size
        out._n = int(np.count_nonzero(out.kind >= 0))
        if out._n != tables["count"] or at != len(data):
            raise ValueError(f"records in {folder} are inconsistent")
        bad = (out.kind >= 0) & (out.offset >= 0) & (out.offset + out.size > out.blob.size)
        if bad.any() or any((out.kind >= 0) & (out.offset < 0) & ~_isin(n, out.overlay)):
            raise ValueError(f"records in {folder} point outside their files")
        return out


def _isin(n: int, overlay: Mapping[int, bytes]) -> npt.NDArray[np.bool_]:
    mask = np.zeros(n, dtype=bool)
    keys = np.fromiter(overlay, dtype=np.int64, count=len(overlay))
    mask[keys[keys < n]] = True
    return mask


def _copy_interned(src: _Interned) -> _Interned:
    return _Interned(src.values)


def _map(path: Path) -> np.ndarray:
    if path.stat().st_size == 0:
        return np.zeros(0, dtype=np.uint8)
    return np.memmap(path, dtype=np.uint8, mode="r")


def _link(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        import shutil

        shutil.copyfile(src, dst)


def _prune_pool(pool: Path, keep: Path | None) -> None:
    """Blobs in the pool that no generation links any more, after a grace time (another
    process may have just merged to one and not saved yet: it writes it again then)."""
    cutoff = time.time() - POOL_GRACE_S
    with contextlib.suppress(OSError):
        for file in pool.glob("*.bin"):
            with contextlib.suppress(OSError):
                st = file.stat()
                if file != keep and st.st_nlink == 1 and st.st_mtime < cutoff:
                    file.unlink()


def _dump(p: Profile) -> bytes:
    return p.model_dump_json(exclude_none=True).encode("utf-8")
