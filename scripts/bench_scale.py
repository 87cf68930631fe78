"""National scale (issue 22): N synthetic profiles served by two workers, index layouts side by side.

    .venv/bin/python scripts/bench_scale.py [--sizes 100000,1000000] [--modes hnsw,compact]
        [--cache .bench-cache] [--requests 400] [--writes 20] [--recall-queries 200]
        [--json-out FILE] [--skip-serve] [--skip-recall]

Steps, per size:

1. store: N seeded synthetic profiles (scripts/bench_core.py's generator) in a SQLite
   database, with every text embedded by HashingEncoder(512) into the embedding cache, and
   a synthetic collaboration history. Built once, streamed in chunks (never the whole list
   in memory), and cached under --cache (``store-N``): later runs reuse it.
2. index, per mode (``hnsw``: the exact / HNSW float32 layout as before; ``compact``:
   ``CLUSTERMATCH_INDEX_LAYOUT=compact``): the engine's own reconcile builds and saves the
   indexes in a data directory of that mode on the shared database (cached too), and the
   re-ranker is trained on the history once and copied to the other modes, so that all
   modes rank with the same model.
3. serve, per mode: a real server with two uvicorn workers (`clustermatch serve
   --workers 2`'s code path) on that data directory: the time from start to both workers
   ready, RSS / PSS / USS per worker (PSS splits the pages the workers share, such as a
   memory-mapped index, so that the two PSS add up to what both really take),
   ``GET /v1/profiles/{id}/matches`` p50 / p99 with one and with two requests in flight
   (a connection per request, random profiles and purposes), the time of one profile
   write over HTTP (PUT of a changed profile, until its answer), and how many texts the
   restarted workers encoded (must be 0).
4. recall, per mode: the saved indexes loaded as a server loads them, the dense
   candidate retrieval of the matches (each facet's search, with the filters the purposes
   and the API use: none, country, kind, academia, buyer, another country) against the
   exact top 10 over the same store's float32 vectors, from the embedding cache.
5. memory per profile by part (index, catalogue, lexical, lines) in a process that loads
   the saved state as a worker does.

Modes run one after the other on the same cached store, so that every figure of the new
layout stands next to the old one's from the same run. The machine is shared: absolute
times are noisy, compare modes within a run.
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
from bench_core import (  # noqa: E402
    SEED,
    ProfileGen,
    log,
    open_store,
    pct,
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
            profile_rows.insert_many(
                session, [_row_values(p, profile_hash(p), now) for p in chunk]
            )
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


# =========================================================================== main


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--sizes", default="100000,1000000", help="profiles, comma-separated")
    p.add_argument(
        "--cache",
        type=Path,
        default=Path(__file__).resolve().parent.parent / ".bench-cache",
        help="where stores and index generations are kept between runs",
    )
    p.add_argument("--history-per-1k", type=int, default=20, help="synthetic projects per 1,000 profiles")
    p.add_argument("--only-store", action="store_true", help="build (or check) the stores and stop")
    args = p.parse_args(argv)
    args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    for n in args.size_list:
        build_store(n, args.cache, args.history_per_1k)
    return 0


if __name__ == "__main__":
    sys.exit(main())
