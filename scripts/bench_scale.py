"""Issue 22, national scale: N synthetic profiles served by two workers, layouts side by side.

    .venv/bin/python scripts/bench_scale.py [--sizes 100000,1000000]
        [--modes before,hnsw,compact] [--before DIR] [--cache .bench-cache]
        [--requests 300] [--writes 20] [--recall-queries 200] [--json-out FILE]
        [--skip-serve] [--skip-recall] [--skip-inspect]

Modes: ``before`` runs the checkout given by --before as it is (the code before issue 22:
``git archive a238c91 | tar -x -C DIR``); ``hnsw`` and ``compact`` run this code with
``CLUSTERMATCH_INDEX_LAYOUT`` set so (``hnsw``: the float32 HNSW index and whole lexical
rows of before; ``compact``: the IVF index over 8-bit codes and the pruned lexical index,
both memory-mapped, see indexing/ivf.py and models/lexical_pruned.py). The float32
modes are not run above --max-mode-size: two such workers at 1M would not fit.

Steps, per size:

1. store: N seeded synthetic profiles (scripts/bench_core.py's generator) in a SQLite
   database, every text embedded by HashingEncoder(512) into the embedding cache, and a
   synthetic collaboration history. Built once, in chunks (never the whole list in
   memory), and cached under --cache (``store-N``).
2. index, per mode: the engine's own startup (reconcile) builds and saves the indexes in
   a data directory of that mode on the shared database (cached too: later runs only
   check it); the re-ranker is trained once on the history and copied to every other
   mode and size, so that all rank with the same model.
3. memory by part, per mode: a process loads the saved state as a worker does; the
   bytes per profile of the index, the catalogue (records), the lexical index and the
   line-vote counts, private (each process its own) and mapped (files every worker maps
   read-only, whose pages they share).
4. recall, per mode: the dense candidate retrieval of the matches (each facet's search
   as service.engine.retrieval runs it, with the filters the purposes and the API use)
   against the exact top 10 (and 60, the pool's size) over the store's float32 vectors.
5. serve, per mode: a real server with two uvicorn workers (the `serve --workers 2`
   code path): time to both workers ready; RSS / PSS / USS per worker (PSS splits the
   shared pages, so the two PSS add up to what both take); ``GET
   /v1/profiles/{id}/matches`` p50 / p99 with one and two requests in flight (a
   connection per request, random profiles and purposes); single profile writes (PUT,
   new texts to embed); then a restart, and the texts its workers encoded (must be 0).

The machine is shared: absolute times are noisy; compare the modes within a run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from service.runtime import configure_process

configure_process()

# isort: split
import numpy as np  # noqa: E402
from _bench_util import KEY_ENV  # noqa: E402
from bench_core import (  # noqa: E402
    SEED,
    ProfileGen,
    _children,
    _free_port,
    _stop,
    _wait_ready,
    log,
    machine_info,
    ms,
    open_store,
    pct,
    secs,
)

from models.encoders import HashingEncoder  # noqa: E402
from models.profile import Profile, profile_hash, text_hash  # noqa: E402
from service.engine import org_key, profile_texts  # noqa: E402

#: Bumped when the store's content changes, so that an older cached store is rebuilt.
STORE_VERSION = 1
CHUNK = 10_000
DIM = 512
MODEL_ID = "hashing-test"  # HashingEncoder's default model id, as the bench server uses it


# =========================================================================== 1 store


def _row_values(p: Profile, h: str, now: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "name": p.name,
        "kind": p.kind,
        "country": p.country,
        "cluster": p.cluster,
        "org_key": org_key(p.website),
        "data": p.model_dump(mode="json"),
        "content_hash": h,
        "created_at": now,
        "updated_at": now,
    }


def profile_stream(n: int, seed: int = SEED) -> Iterator[list[Profile]]:
    """The same profiles as bench_core.make_profiles(n), in chunks of CHUNK."""
    gen = ProfileGen(seed)
    websites: list[str] = []
    for start in range(0, n, CHUNK):
        stop = min(start + CHUNK, n)
        yield [Profile.model_validate(gen.profile(i, websites)) for i in range(start, stop)]


def build_store(n: int, root: Path, history_per_1k: int) -> Path:
    """The cached store of n profiles (built here when absent); returns its directory."""
    from service.auth import create_key
    from service.store import profiles as profile_rows
    from service.store.changes import PROFILE, record_changes
    from service.store.db import transaction
    from service.store.embeddings import DbEmbeddingCache
    from service.store.tables import utcnow

    store = root / f"store-{n}"
    done = store / "store.json"
    if done.exists():
        meta = json.loads(done.read_text())
        if meta.get("version") == STORE_VERSION and meta.get("history_per_1k") == history_per_1k:
            log(f"store: reusing {store}")
            return store
    shutil.rmtree(store, ignore_errors=True)
    store.mkdir(parents=True)
    log(f"store: building {n} profiles in {store}")
    t0 = time.perf_counter()
    db, sessions = open_store(f"sqlite:///{store / 'clustermatch.db'}")
    cache = DbEmbeddingCache(sessions)
    encoder = HashingEncoder(dim=DIM)
    seen: set[bytes] = set()
    texts_n = 0
    for chunk in profile_stream(n):
        now = utcnow()
        with transaction(sessions) as session:
            profile_rows.insert_many(session, [_row_values(p, profile_hash(p), now) for p in chunk])
            keys = profile_rows.keys_of(session, [p.id for p in chunk])
            record_changes(session, PROFILE, [keys[p.id][0] for p in chunk])
        todo: dict[str, str] = {}
        for p in chunk:
            for t in profile_texts(p):
                h = text_hash(t)
                if bytes.fromhex(h[:32]) not in seen:
                    todo[h] = t
        if todo:
            vectors = encoder.encode(list(todo.values()))
            cache.put_many(MODEL_ID, dict(zip(todo, vectors, strict=True)))
            seen.update(bytes.fromhex(h[:32]) for h in todo)
            texts_n += len(todo)
        log(f"store: {chunk[-1].id} ({texts_n} texts, {time.perf_counter() - t0:.0f} s)")
    history = add_history(sessions, n, history_per_1k)
    with transaction(sessions) as s:
        _, key = create_key(s, "admin", name="bench")
    db.dispose()
    meta = {
        "version": STORE_VERSION,
        "profiles": n,
        "texts": texts_n,
        "history_per_1k": history_per_1k,
        "interactions": history,
        "key": key,
        "build_s": time.perf_counter() - t0,
    }
    done.write_text(json.dumps(meta, indent=2))
    log(f"store: {n} profiles, {texts_n} texts, {history} interactions in {meta['build_s']:.0f} s")
    return store


def add_history(sessions: Any, n: int, per_1k: int) -> int:
    """Synthetic projects of 2-8 members (Zipf-skewed, as bench_core.add_history), stored
    as collaboration interactions straight into the database (one change-feed entry)."""
    import random

    from bench_core import _zipf_weights
    from sqlalchemy import insert

    from service.interactions.service import interaction_key
    from service.io.imports import Interaction
    from service.store.changes import HISTORY, record_changes
    from service.store.db import transaction
    from service.store.tables import InteractionRow, utcnow

    rng = random.Random(SEED + 7 + n)
    groups = n * per_1k // 1000
    cum = np.cumsum(_zipf_weights(n, 0.8))
    table = InteractionRow.metadata.tables["interactions"]
    total = 0
    rows: dict[str, dict[str, Any]] = {}
    for g in range(groups):
        picks = np.searchsorted(cum, [rng.random() * cum[-1] for _ in range(rng.randint(2, 8))])
        members = sorted({f"org-{int(x):06d}" for x in picks})
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                item = Interaction(a=a, b=b, kind="collaboration", context=f"project:{n}-{g}")
                rows[interaction_key(item)] = {
                    "key": interaction_key(item),
                    "a": a,
                    "b": b,
                    "kind": "collaboration",
                    "context": item.context,
                    "at": None,
                    "created_at": utcnow(),
                }
        if len(rows) >= 50_000 or g == groups - 1:
            with transaction(sessions) as session:
                session.execute(insert(table), list(rows.values()))
                record_changes(session, HISTORY)
            total += len(rows)
            rows = {}
    return total


# =========================================================================== 2 index


def mode_env(store: Path, mode: str) -> dict[str, str]:
    """The environment of a server (or a step) of `mode` on the store."""
    env = {
        **os.environ,
        "CLUSTERMATCH_DATABASE_URL": f"sqlite:///{store / 'clustermatch.db'}",
        "CLUSTERMATCH_LOG_LEVEL": "WARNING",
        "OMP_WAIT_POLICY": "PASSIVE",
    }
    if ARGS.hnsw_threshold:
        env["CLUSTERMATCH_HNSW_THRESHOLD"] = str(ARGS.hnsw_threshold)
    if mode == "before":
        env["PYTHONPATH"] = f"{BASE_CHECKOUT}:{BASE_CHECKOUT / 'scripts'}"
        env["CLUSTERMATCH_DATABASE_URL"] = f"sqlite:///{before_database(store)}"
    else:
        env["CLUSTERMATCH_INDEX_LAYOUT"] = mode
        root = Path(__file__).resolve().parent.parent
        env["PYTHONPATH"] = f"{root}:{root / 'scripts'}"
    return env


BASE_CHECKOUT = Path("/nonexistent")  # set from --before


def before_database(store: Path) -> Path:
    """The `before` checkout's own copy of the store's database, stamped at that
    checkout's last migration: its code cannot open a database at a later one. The
    later migrations only add tables and columns with server defaults, which it neither
    reads nor needs to write."""
    copy = data_dir(store, "before") / "clustermatch.db"
    if not copy.exists():
        import sqlite3

        versions = BASE_CHECKOUT / "service" / "store" / "migrations" / "versions"
        head = max(p.name.split("_", 1)[0] for p in versions.glob("[0-9]*_*.py"))
        copy.parent.mkdir(parents=True, exist_ok=True)
        partial = copy.with_suffix(".partial")
        src, dst = sqlite3.connect(store / "clustermatch.db"), sqlite3.connect(partial)
        try:
            src.backup(dst)
            dst.execute("UPDATE alembic_version SET version_num = ?", (head,))
            dst.commit()
            dst.execute("PRAGMA journal_mode=DELETE")  # (all in the one file renamed)
        finally:
            src.close()
            dst.close()
        partial.rename(copy)
    return copy


def data_dir(store: Path, mode: str) -> Path:
    return store / f"data-{mode}"


def run_step(step: str, store: Path, mode: str, *extra: str) -> dict[str, Any]:
    """One step in a process of its own (its memory is its own, and the `before` mode
    runs another checkout's code); returns the JSON it printed last."""
    out = store / f".{step}-{mode}.json"
    out.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), step, "--store", str(store)]
    cmd += ["--mode", mode, "--out", str(out), *extra]
    # (no compiled re-ranker in these steps: its background compile would outlive them)
    env = {**mode_env(store, mode), "CLUSTERMATCH_NATIVE_RANKER": "false"}
    done = subprocess.run(cmd, env=env, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"step {step} ({mode}) failed with exit status {done.returncode}")
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _settings(store: Path, mode: str) -> Any:
    from service.settings import Settings

    return Settings(
        data_dir=data_dir(store, mode),
        index_save_interval_s=0,
        log_level="WARNING",
        _env_file=None,  # type: ignore[call-arg]
    )


def _open_engine(store: Path, mode: str) -> tuple[Any, Any, Any]:
    """(engine, database, sessions) as a server process builds them."""
    from service.resources import build_engine

    settings = _settings(store, mode)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    db, sessions = open_store(settings.resolved_database_url)
    return build_engine(settings, HashingEncoder(dim=DIM), sessions), db, sessions


def step_prepare(store: Path, mode: str) -> dict[str, Any]:
    """Build (or check) the mode's saved generation: the engine's own startup
    (reconcile), timed; trains the re-ranker when asked (--train)."""
    t0 = time.perf_counter()
    engine, db, _ = _open_engine(store, mode)
    summary = engine.reconcile(progress=_progress("prepare"))
    took = time.perf_counter() - t0
    out: dict[str, Any] = {"reconcile": summary, "took_s": took, "hwm_mib": _status_mib("VmHWM")}
    if ARGS.train:
        from service.offline.learning import train_reranker

        t0 = time.perf_counter()
        report = train_reranker(engine, seed=0)
        out["train"] = {"method": report.method, "took_s": time.perf_counter() - t0}
    engine.save()
    db.dispose()
    return out


def _progress(label: str) -> Any:
    last = [0.0]

    def report(phase: str, done: int, total: int) -> None:
        if time.perf_counter() - last[0] > 30 or done == total:
            last[0] = time.perf_counter()
            log(f"{label}: {phase} {done}/{total}")

    return report


def _status_mib(field: str, pid: int | str = "self") -> float:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def smaps(pid: int) -> dict[str, float]:
    """Rss, Pss (the shared pages split among the processes that map them), USS (the
    private pages) and the anonymous / file-backed shares of Pss, in MiB."""
    out: dict[str, float] = {}
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            parts = line.split()
            if len(parts) >= 3 and parts[-1] == "kB":
                out[parts[0].rstrip(":")] = int(parts[1]) / 1024
    return {
        "rss": out.get("Rss", float("nan")),
        "pss": out.get("Pss", float("nan")),
        "uss": out.get("Private_Clean", 0.0) + out.get("Private_Dirty", 0.0),
        "pss_anon": out.get("Pss_Anon", float("nan")),
        "pss_file": out.get("Pss_File", float("nan")),
    }


# =========================================================================== 5 memory by part


def _deep(obj: Any, seen: set[int] | None = None) -> int:
    """Bytes of an object and what it holds (dicts, lists, tuples, sets, strings, model
    fields; numpy arrays by their buffers)."""
    seen = set() if seen is None else seen
    if id(obj) in seen:
        return 0
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return int(obj.nbytes) if obj.base is None else sys.getsizeof(obj)
    size = sys.getsizeof(obj)
    if isinstance(obj, dict):
        size += sum(_deep(k, seen) + _deep(v, seen) for k, v in obj.items())
    elif isinstance(obj, list | tuple | set | frozenset):
        size += sum(_deep(x, seen) for x in obj)
    elif type(obj).__module__.startswith(("models.", "service.")):  # (only our objects)
        if hasattr(obj, "__dict__"):
            size += _deep(vars(obj), seen)
        for a in getattr(type(obj), "__slots__", ()):
            size += _deep(getattr(obj, a, None), seen)
    return size


def _pickled(obj: Any) -> int:
    import pickle

    return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL))


def _sampled(mapping: Any, keys: Sequence[int], n: int) -> float:
    """Bytes per entry of a mapping of objects, from a sample of its entries."""
    if not keys:
        return 0.0
    pick = keys[:: max(1, len(keys) // n)][:n]
    seen: set[int] = set()
    return sum(_deep(mapping[k], seen) for k in pick) / len(pick)


def _index_bytes(ix: Any) -> tuple[float, float]:
    """(private, mapped) bytes of a VectorIndex, whichever version made it."""
    import faiss

    store = ix._store
    if hasattr(store, "base_ext"):  # the compact layout
        base = store.base_file[0].stat().st_size if store.base_file else 0
        delta = store.delta
        private = (
            len(faiss.serialize_index(delta.index))
            + store.base_ext.nbytes
            + store.base_live.nbytes
            + (store._map.dense.nbytes if store._map.dense is not None else 0)
            + store._list_of.nbytes
            + len(faiss.serialize_index(store.trained))
            + store.base.ntotal * 8  # the IVF's direct map
        )
        return float(private), float(base)
    pos = sys.getsizeof(store.pos) + 2 * 32 * len(store.pos)
    return float(len(faiss.serialize_index(store.index)) + store.ext.nbytes + pos), 0.0


def _lexical_bytes(lex: Any) -> tuple[float, float]:
    if hasattr(lex, "_state"):  # models.lexical_pruned
        state = lex._state
        if state is None:
            return 0.0, 0.0
        m = state.base.matrix
        mapped = m.data.nbytes + m.indices.nbytes + m.indptr.nbytes + state.base.keys.nbytes
        private = state.base.slot.nbytes + _pickled(dict(state.delta)) + _pickled(lex._vec)
        return float(private), float(mapped)
    rows = lex._rows
    keys = list(rows)
    per_row = sum(  # a scipy row: its arrays and 850 B of objects (tracemalloc), + dict entry
        rows[k].data.nbytes + rows[k].indices.nbytes + rows[k].indptr.nbytes + 850 + 100
        for k in keys[:: max(1, len(keys) // 500)]
    ) / len(keys[:: max(1, len(keys) // 500)] or [0])
    snap = lex._snap
    stacked = 0 if snap is None else snap.matrix.data.nbytes + snap.matrix.indices.nbytes
    return float(per_row * len(keys) + stacked + _pickled(lex._vec)), 0.0


def step_inspect(store: Path, mode: str) -> dict[str, Any]:
    """A process that loads the saved state as a worker does (reconcile), then the bytes
    of each part: private (this process alone) and mapped (files every worker shares)."""
    rss0 = smaps(os.getpid())
    t0 = time.perf_counter()
    engine, db, _ = _open_engine(store, mode)
    engine.reconcile()
    took = time.perf_counter() - t0
    cat = engine.catalogue
    n = len(cat)
    parts: dict[str, tuple[float, float]] = {}
    priv = mapped = 0.0
    for f in ("all", "offers", "needs"):
        a, b = _index_bytes(cat.indexes[f])
        priv, mapped = priv + a, mapped + b
    parts["index"] = (priv, mapped)
    parts["lexical"] = _lexical_bytes(cat.lexical)
    records = cat.records
    if hasattr(records, "blob"):  # service.engine.records
        cols = sum(
            getattr(records, c).nbytes
            for c in ("kind", "country", "cluster", "script", "org", "idh", "tags", "digest")
        )
        cols += records.offset.nbytes + records.size.nbytes
        cols += records._id_keys.nbytes + records._id_pks.nbytes
        cols += _deep(records.tuples.values) + _deep(records.overlay)
        blob = 0 if records.blob is None else records.blob.size
        parts["catalogue"] = (float(cols), float(blob))
        segs = cat._segment_refs
    else:  # the code before: a Record with its pydantic profile per key, and lookups
        keys = list(records)
        per = _sampled(records, keys, 500) + 100
        extra = _deep(cat.pk_by_id) if n <= 200_000 else 0
        parts["catalogue"] = (per * n + extra + _deep(cat._by_org), 0.0)
        segs = cat._segment_refs
    parts["lines"] = (float(sys.getsizeof(segs) + 2 * 32 * len(segs)), 0.0)
    rss1 = smaps(os.getpid())
    db.dispose()
    return {
        "profiles": n,
        "load_s": took,
        "parts": {k: {"private": v[0], "mapped": v[1]} for k, v in parts.items()},
        "rss_before_mib": rss0,
        "rss_after_mib": rss1,
        "layout": cat.indexes["all"].layout,
        "lexical": type(cat.lexical).__name__,
    }


# =========================================================================== 4 recall


def _exact_vectors(store: Path, facet: str, pks: np.ndarray, engine: Any) -> np.ndarray:
    """The float32 vectors of a facet for these keys, from the embedding cache (zero rows
    where a profile has no such text); cached under the store by key and content hash."""
    from models.profile import facet_texts

    cache_file = store / f"exact-{facet}.npy"
    stamp_file = store / "exact-digests.npy"
    digests = engine.catalogue.records.digest[pks]
    if cache_file.exists() and stamp_file.exists():
        x = np.load(cache_file, mmap_mode="r")
        old = np.load(stamp_file)
        if x.shape[0] == pks.size and old.shape == digests.shape:
            changed = np.flatnonzero((old != digests).any(axis=1))
            if changed.size <= 1000:
                x = np.array(x)
                _fill(x, pks, changed, facet, engine, facet_texts)
                return x
    log(f"recall: reading the {facet} vectors of {pks.size} profiles from the cache")
    x = np.zeros((pks.size, DIM), dtype=np.float32)
    _fill(x, pks, np.arange(pks.size), facet, engine, facet_texts)
    np.save(cache_file, x)
    np.save(stamp_file, digests)
    return x


def _fill(
    x: np.ndarray, pks: np.ndarray, at: np.ndarray, facet: str, engine: Any, texts: Any
) -> None:
    cache = engine.embedder.cache
    for start in range(0, at.size, 20_000):
        part = at[start : start + 20_000]
        want = {}
        for i in part.tolist():
            t = texts(engine.records[int(pks[i])].profile).get(facet)
            if t is not None:
                want[i] = text_hash(t)
        got = cache.get_many(MODEL_ID, set(want.values()))
        for i, h in want.items():
            x[i] = got[h]


def step_recall(store: Path, mode: str) -> dict[str, Any]:
    """The dense candidate retrieval of the matches (each facet's search as
    service.engine.retrieval runs it, with the filters the purposes and the API use)
    against the exact top k over the same store's float32 vectors."""
    from models.matching import CANDIDATE_KINDS

    engine, db, _ = _open_engine(store, mode)
    engine.reconcile()
    cat, retrieval = engine.catalogue, engine.retrieval
    pks = cat.records.keys_array()
    pos = np.full(int(pks.max()) + 1, -1, dtype=np.int64)
    pos[pks] = np.arange(pks.size)
    rng = np.random.default_rng(SEED)
    queries = rng.choice(pks, min(ARGS.recall_queries, pks.size), replace=False)
    filters: dict[str, Any] = {
        "none": lambda rec: None,
        "country=IT": lambda rec: retrieval.allowed(None, frozenset({"IT"})),
        "kind=trading_company": lambda rec: retrieval.allowed(frozenset({"trading_company"}), None),
        "academia": lambda rec: retrieval.allowed(CANDIDATE_KINDS["academia"], None),
        "buyer": lambda rec: retrieval.allowed(CANDIDATE_KINDS["buyer"], None),
        "overseas (other country)": lambda rec: retrieval.allowed(None, None, rec.country),
    }
    # the index searched, and the query facet it is searched with (retrieval.pool)
    searches = (("all", "all"), ("offers", "needs"), ("needs", "offers"))
    out: dict[str, Any] = {}
    for facet, query_facet in searches:
        x = _exact_vectors(store, facet, pks, engine)
        xq = x if query_facet == facet else _exact_vectors(store, query_facet, pks, engine)
        has = np.flatnonzero(x.any(axis=1))
        index = cat.indexes[facet]
        for fname, make in filters.items():
            hits10 = hits60 = total10 = total60 = 0
            times: list[float] = []
            for q in queries.tolist():
                rec = cat.records[q]
                vec = cat.vectors(q)[query_facet]
                if vec is None:
                    continue
                allowed = make(rec)
                exclude = cat.exclusions(rec)
                t0 = time.perf_counter()
                got = index.search(
                    vec, 60, allowed=allowed, exclude=exclude, exhaustive=facet == "all"
                )[0]
                times.append(time.perf_counter() - t0)
                mask = np.zeros(pks.size, dtype=bool)
                mask[has] = True
                if allowed is not None:
                    keep = np.zeros(pks.size, dtype=bool)
                    inside = allowed[allowed <= pks[-1]]
                    at = pos[inside]
                    keep[at[at >= 0]] = True
                    mask &= keep
                for e in exclude:
                    if e <= pks[-1] and pos[e] >= 0:
                        mask[pos[e]] = False
                cand = np.flatnonzero(mask)
                if not cand.size:
                    continue
                scores = x[cand] @ xq[pos[q]]
                ranked = np.sort(scores)[::-1]
                # Tie-aware: a returned key counts when its exact score reaches the k-th
                # best (synthetic offers repeat word for word: many vectors are equal).
                got_ids = np.asarray([i for i, _ in got], dtype=np.int64)
                exact = x[pos[got_ids]] @ xq[pos[q]] if got_ids.size else np.zeros(0)
                for k, kept in ((10, exact[:10]), (60, exact)):
                    need = min(k, ranked.size)
                    floor = ranked[need - 1] - 1e-5
                    hit = min(need, int(np.count_nonzero(kept >= floor)))
                    if k == 10:
                        hits10, total10 = hits10 + hit, total10 + need
                    else:
                        hits60, total60 = hits60 + hit, total60 + need
            p50, p99 = pct(times) if times else (float("nan"), float("nan"))
            out[f"{facet}/{fname}"] = {
                "recall10": hits10 / max(1, total10),
                "recall60": hits60 / max(1, total60),
                "p50_ms": p50,
                "p99_ms": p99,
                "queries": len(times),
            }
            log(f"recall {mode} {facet} {fname}: {out[f'{facet}/{fname}']}")
        del x, xq
    if ARGS.lexical_check and type(cat.lexical).__name__ == "PrunedLexicalIndex":
        out["lexical"] = _lexical_check(cat, queries)
    db.dispose()
    return out


def _lexical_check(cat: Any, queries: np.ndarray) -> dict[str, float]:
    """The pruned lexical index against whole rows fitted on every text of the store (as
    models.lexical.LexicalIndex, the `hnsw` mode's): how many of the whole rows' top 60
    the pruned search finds, and how the candidates' similarities correlate."""
    from models.lexical import LexicalIndex
    from models.profile import overall_text

    pks = cat.records.keys_array()
    log(f"recall: fitting whole lexical rows on {pks.size} texts")
    texts = {int(pk): overall_text(cat.records[int(pk)].profile) for pk in pks.tolist()}
    exact = LexicalIndex()
    exact.fit(list(texts), list(texts.values()))
    found = total = 0
    corr: list[float] = []
    for q in queries.tolist()[:100]:
        want = exact.search(exact.row(q), 60, exclude=[q])
        got = cat.lexical.search(cat.lexical.row(q), 60, exclude=[q])
        found += len({k for k, _ in want} & {k for k, _ in got})
        total += len(want)
        keys = [k for k, _ in want]
        a = exact.similarity(exact.row(q), keys)
        b = cat.lexical.similarity(cat.lexical.row(q), keys)
        if len(keys) > 2 and a.std() > 0 and b.std() > 0:
            corr.append(float(np.corrcoef(a, b)[0, 1]))
    return {
        "top60_found": found / max(1, total),
        "similarity_corr": float(np.mean(corr)) if corr else float("nan"),
    }


# =========================================================================== 3 serve


def _serve(store: Path, mode: str, port: int, log_file: Path) -> subprocess.Popen[bytes]:
    helper = BASE_CHECKOUT if mode == "before" else Path(__file__).resolve().parent.parent
    cmd = [
        sys.executable,
        str(helper / "scripts" / "_bench_util.py"),
        "serve",
        "--data-dir",
        str(data_dir(store, mode)),
        "--port",
        str(port),
        "--workers",
        "2",
    ]
    with log_file.open("ab") as fh:
        return subprocess.Popen(
            cmd,
            env=mode_env(store, mode),
            stdout=fh,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _drive(
    url: str, key: str, n: int, requests: int, concurrency: int, work: Path, name: str
) -> dict[str, Any]:
    out = work / f"client-{name}.json"
    cmd = [
        sys.executable,
        str(Path(__file__).resolve().with_name("_bench_util.py")),
        "client",
        "--url",
        url,
        "--profiles",
        str(n),
        "--requests",
        str(requests),
        "--concurrency",
        str(concurrency),
        "--budget-s",
        str(ARGS.budget_s),
        "--out",
        str(out),
        "--fresh",
    ]
    env = {**os.environ, KEY_ENV: key}
    subprocess.run(cmd, env=env, check=True, timeout=ARGS.budget_s * 3 + 300)
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def _workers(server: subprocess.Popen[bytes]) -> list[int]:
    return sorted(_children(server.pid))


def _encoded(url: str) -> list[float]:
    """`clustermatch_encoded_texts_total` as each answering worker reports it."""
    import httpx

    seen: list[float] = []
    with httpx.Client(timeout=10, headers={"Connection": "close"}) as c:
        for _ in range(8):
            for line in c.get(url + "/metrics").text.splitlines():
                if line.startswith("clustermatch_encoded_texts_total "):
                    seen.append(float(line.split()[1]))
    return seen


def _write_profiles(url: str, key: str, n: int, count: int) -> list[float]:
    """PUT `count` existing profiles with a changed description and offers (new texts to
    embed, one at a time), timed from request to answer."""
    import httpx

    rng = np.random.default_rng(int(time.time()))
    times: list[float] = []
    nonce = int(time.time())
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60) as c:
        for j in range(count):
            pid = f"org-{int(rng.integers(n)):06d}"
            body = c.get(f"/v1/profiles/{pid}").json()
            body = {k: v for k, v in body.items() if k in PROFILE_FIELDS}
            body["description"] = f"{body.get('description', '')} (bench write {nonce}-{j})"
            body["offers"] = [*body.get("offers", [])[:3], f"bench item {nonce}-{j}"]
            t0 = time.perf_counter()
            r = c.put(f"/v1/profiles/{pid}", json=body)
            times.append(time.perf_counter() - t0)
            if r.status_code not in (200, 201):
                raise RuntimeError(f"PUT {pid}: {r.status_code} {r.text[:300]}")
    return times


PROFILE_FIELDS = set(Profile.model_fields) - {"id"}


def step_serve(store: Path, mode: str, n: int, key: str, work: Path) -> dict[str, Any]:
    url_port = _free_port()
    url = f"http://127.0.0.1:{url_port}"
    server_log = work / f"server-{mode}-{n}.log"
    out: dict[str, Any] = {}
    t0 = time.perf_counter()
    server = _serve(store, mode, url_port, server_log)
    try:
        out["startup_s"] = _wait_ready(server, url, t0, ARGS.ready_timeout)
        workers = _workers(server)
        out["encoded_at_start"] = _encoded(url)
        out["ready"] = {str(p): smaps(p) for p in workers}
        log(f"serve {mode} {n}: ready in {out['startup_s']:.1f} s; {out['ready']}")
        _drive(url, key, n, 60, 2, work, "warm")
        for level in (1, 2):
            run = _drive(url, key, n, ARGS.requests, level, work, f"{mode}-{n}-c{level}")
            lat = run["latencies_s"]
            p50, p99 = pct(lat) if lat else (float("nan"), float("nan"))
            out[f"c{level}"] = {
                "p50_ms": p50,
                "p99_ms": p99,
                "requests": len(lat),
                "errors": run["errors"],
                "rps": run["rps"],
                "statuses": run["statuses"],
            }
            log(f"serve {mode} {n}: concurrency {level}: {out[f'c{level}']}")
        out["loaded"] = {str(p): smaps(p) for p in workers}
        out["hwm"] = {str(p): _status_mib("VmHWM", p) for p in workers}
        writes = _write_profiles(url, key, n, ARGS.writes)
        out["write"] = {"p50_ms": pct(writes)[0], "max_ms": max(writes) * 1e3, "n": len(writes)}
        log(f"serve {mode} {n}: writes {out['write']}")
    finally:
        _stop(server)
    # a restart: from the index saved at shutdown; nothing may be encoded again
    t0 = time.perf_counter()
    server = _serve(store, mode, url_port, server_log)
    try:
        out["restart_s"] = _wait_ready(server, url, t0, ARGS.ready_timeout)
        out["encoded_after_restart"] = _encoded(url)
        out["restart_ready"] = {str(p): smaps(p) for p in _workers(server)}
    finally:
        _stop(server)
    return out


# =========================================================================== main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("step", nargs="?", default="run", help=argparse.SUPPRESS)
    p.add_argument("--sizes", default="100000,1000000", help="profiles, comma-separated")
    p.add_argument(
        "--modes",
        default="before,hnsw,compact",
        help="before: the checkout given by --before (the code before issue 22), as it is; "
        "hnsw / compact: this code with CLUSTERMATCH_INDEX_LAYOUT set so",
    )
    p.add_argument(
        "--before",
        type=Path,
        default=Path("/tmp/scale/base"),
        help="a checkout of the code before (git archive a238c91 | tar -x -C DIR)",
    )
    p.add_argument(
        "--max-mode-size",
        default="before=200000,hnsw=200000",
        help="the largest store each mode is run on (two workers of the float32 layouts "
        "at 1M would not fit in this machine's memory)",
    )
    p.add_argument(
        "--cache",
        type=Path,
        default=Path(__file__).resolve().parent.parent / ".bench-cache",
        help="where stores and index generations are kept between runs",
    )
    p.add_argument(
        "--history-per-1k", type=int, default=20, help="synthetic projects per 1,000 profiles"
    )
    p.add_argument("--requests", type=int, default=300, help="match requests per concurrency level")
    p.add_argument("--budget-s", type=float, default=180, help="time cap per concurrency level")
    p.add_argument("--writes", type=int, default=20, help="single-profile writes timed")
    p.add_argument("--recall-queries", type=int, default=200)
    p.add_argument(
        "--lexical-check",
        action="store_true",
        help="compare the pruned lexical index with whole rows fitted on the same store "
        "(fits TF-IDF on every text: minutes at 100k, skip it at 1M)",
    )
    p.add_argument("--skip-serve", action="store_true")
    p.add_argument("--skip-recall", action="store_true")
    p.add_argument("--skip-inspect", action="store_true")
    p.add_argument("--only-store", action="store_true", help="build (or check) the stores and stop")
    p.add_argument("--json-out", type=Path)
    p.add_argument("--ready-timeout", type=float, default=900)
    p.add_argument(
        "--hnsw-threshold",
        type=int,
        default=0,
        help="CLUSTERMATCH_HNSW_THRESHOLD for every step (a quick run on a small store)",
    )
    # (the steps run in processes of their own)
    p.add_argument("--store", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--mode", help=argparse.SUPPRESS)
    p.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--train", action="store_true", help=argparse.SUPPRESS)
    p.add_argument(
        "--trained",
        type=Path,
        help="a re-ranker file (reranker.bin) for every mode, instead of training one on "
        "the first mode of the first size",
    )
    args = p.parse_args(argv)
    args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    args.mode_list = [m for m in args.modes.split(",") if m]
    args.max_size = {
        k: int(v) for k, v in (x.split("=") for x in args.max_mode_size.split(",") if x)
    }
    return args


ARGS = argparse.Namespace()


def mib(v: float) -> str:
    return f"{v / 1024:.2f} GiB" if v >= 1024 else f"{v:.0f} MiB"


def main(argv: Sequence[str] | None = None) -> int:
    global ARGS, BASE_CHECKOUT
    ARGS = args = parse_args(argv)
    BASE_CHECKOUT = args.before
    steps = {"_prepare": step_prepare, "_inspect": step_inspect, "_recall": step_recall}
    if args.step in steps:
        result = steps[args.step](args.store, args.mode)
        args.out.write_text(json.dumps(result, default=str))
        sys.stdout.flush()
        os._exit(0)  # (background threads of the engine are not waited for)
    args.cache.mkdir(parents=True, exist_ok=True)
    info = machine_info()
    figures: dict[str, Any] = {"machine": info, "sizes": {}}
    rows: list[tuple[str, ...]] = []
    started = time.perf_counter()
    trained: Path | None = None
    for n in args.size_list:
        store = build_store(n, args.cache, args.history_per_1k)
        if args.only_store:
            continue
        key = json.loads((store / "store.json").read_text())["key"]
        per: dict[str, Any] = figures["sizes"].setdefault(str(n), {})
        for mode in args.mode_list:
            if n > args.max_size.get(mode, 1 << 62):
                per[mode] = {"skipped": f"above --max-mode-size {args.max_size[mode]}"}
                log(f"{mode} {n}: skipped (above its --max-mode-size)")
                continue
            m: dict[str, Any] = per.setdefault(mode, {})
            ddir = data_dir(store, mode)
            index_dir = ddir / "index"
            source = trained or args.trained
            if source is not None and not (index_dir / "reranker.bin").exists():
                index_dir.mkdir(parents=True, exist_ok=True)
                shutil.copy(source, index_dir / "reranker.bin")
            fresh = not (index_dir / "CURRENT").exists()
            log(f"{mode} {n}: prepare ({'building' if fresh else 'checking'} the index)")
            extra = (
                ("--train",)
                if trained is None and not (index_dir / "reranker.bin").exists()
                else ()
            )
            m["prepare"] = run_step("_prepare", store, mode, *extra)
            m["prepare"]["fresh"] = fresh
            if (index_dir / "reranker.bin").exists():
                trained = trained or index_dir / "reranker.bin"
            if not args.skip_inspect:
                m["inspect"] = run_step("_inspect", store, mode)
            if not args.skip_recall and mode != "before":
                m["recall"] = run_step("_recall", store, mode)
            if not args.skip_serve:
                m["serve"] = step_serve(store, mode, n, key, store)
            rows += table_rows(n, mode, m)
            if args.json_out:
                args.json_out.write_text(json.dumps(figures, indent=2, default=str))
    info["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print("ClusterMatch at national scale (issue 22): synthetic profiles, two workers")
    print(
        f"machine: {info['cores']} cores, {info['cpu']}; load average at start "
        f"{info['loadavg_start']}, at end {info['loadavg_end']} (shared: compare modes "
        "within a run, not absolute times)"
    )
    print(render(rows))
    print(f"total {(time.perf_counter() - started) / 60:.1f} min")
    if args.json_out:
        args.json_out.write_text(json.dumps(figures, indent=2, default=str))
    return 0


HEADERS = ("size", "mode", "figure", "value", "note")


def table_rows(n: int, mode: str, m: dict[str, Any]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    size = f"{n // 1000}k"

    def add(figure: str, value: str, note: str = "") -> None:
        out.append((size, mode, figure, value, note))

    prep = m.get("prepare", {})
    if prep.get("fresh"):
        add("index build (first start)", secs(prep["took_s"]), json.dumps(prep["reconcile"]))
    serve = m.get("serve")
    if serve:
        ready = serve["loaded"]
        rss = [v["rss"] for v in ready.values()]
        pss = [v["pss"] for v in ready.values()]
        uss = [v["uss"] for v in ready.values()]
        add(
            "RSS per worker (after the load)",
            " / ".join(mib(v) for v in rss),
            "target <= 4 GiB; peak " + " / ".join(mib(v) for v in serve["hwm"].values()),
        )
        add(
            "both workers: RSS sum / PSS sum",
            f"{mib(sum(rss))} / {mib(sum(pss))}",
            f"target <= 10 GiB; USS {' / '.join(mib(v) for v in uss)} (private pages); "
            "PSS splits the shared mapped files between the two",
        )
        for level in (1, 2):
            c = serve[f"c{level}"]
            add(
                f"/matches p50 / p99, {level} in flight",
                f"{ms(c['p50_ms'])} / {ms(c['p99_ms'])}",
                f"target p99 <= {100 if level == 1 else 150} ms; {c['requests']} requests, "
                f"{c['rps']:.1f}/s, errors {c['errors']}",
            )
        add("startup to both workers ready", secs(serve["startup_s"]), "target < 2 min")
        add("restart to ready (after the writes)", secs(serve["restart_s"]))
        w = serve["write"]
        add(
            "single profile write (PUT)",
            f"p50 {ms(w['p50_ms'])}, max {ms(w['max_ms'])}",
            f"target <= 0.5 s; {w['n']} writes, new texts embedded",
        )
        enc = serve["encoded_after_restart"] + serve["encoded_at_start"]
        add("texts encoded by restarted workers", str(int(max(enc, default=0))), "target 0")
    insp = m.get("inspect")
    if insp:
        total_p = total_m = 0.0
        for part in ("index", "catalogue", "lexical", "lines"):
            v = insp["parts"][part]
            total_p += v["private"]
            total_m += v["mapped"]
            add(
                f"bytes per profile: {part}",
                f"{v['private'] / n:,.0f} private + {v['mapped'] / n:,.0f} mapped",
                "mapped: files every worker maps read-only (shared pages)",
            )
        add(
            "bytes per profile: the four parts",
            f"{total_p / n:,.0f} private + {total_m / n:,.0f} mapped",
            f"one loaded process: RSS {mib(insp['rss_after_mib']['rss'])} "
            f"(USS {mib(insp['rss_after_mib']['uss'])}); layout {insp['layout']}, "
            f"lexical {insp['lexical']}",
        )
    rec = dict(m.get("recall") or {})
    lex = rec.pop("lexical", None)
    if lex:
        add(
            "lexical: whole rows' top 60 found by the pruned index",
            f"{lex['top60_found']:.3f}",
            f"similarity correlation on them {lex['similarity_corr']:.3f} (100 queries)",
        )
    if rec:
        for name, r in rec.items():
            add(
                f"recall@10 vs exact: {name}",
                f"{r['recall10']:.3f}",
                f"recall@60 {r['recall60']:.3f}; search p50 / p99 {ms(r['p50_ms'])} / "
                f"{ms(r['p99_ms'])} in process; {r['queries']} queries; target >= .95",
            )
    return out


def render(rows: list[tuple[str, ...]]) -> str:
    table = [HEADERS, *rows]
    widths = [max(len(r[c]) for r in table) for c in range(len(HEADERS) - 1)]
    lines = []
    for j, r in enumerate(table):
        lines.append(" | ".join([*(r[c].ljust(widths[c]) for c in range(len(widths))), r[-1]]))
        if j == 0:
            lines.append("-+-".join("-" * w for w in widths) + "-+-" + "-" * 20)
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
