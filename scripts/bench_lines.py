"""Line votes at national scale: what they cost, what an approximate segment index would
cost and recall, and what they buy (issue 22: "the lines feature is switched off above
10,000 distinct segments; make it work at 1M with an approximate segment index, or show
with figures why it should stay off"). Baseline and variants run in the same process.

    .venv/bin/python scripts/bench_lines.py [--steps scale,encode,latency,real,evaluate]
        [--store /work/bench/cache/store-100000/clustermatch.db]
        [--sizes 4000,10000,30000,100000,300000] [--nprobe 8,32,64] [--queries 200]
        [--sets cordis,buyers] [--lines on,off,dense,lexical] [--workdir DIR]

Steps (each prints a table):
- scale: distinct segments per profile on the demo corpus, CORDIS and the synthetic store
  (read-only), extrapolated to 1M profiles; bytes per segment (float32, SQ8, lexical row).
- encode: the real default model's segments/s on ~1,500 real segments (CORDIS + demo),
  and what embedding the 1M catalogue's segments would take.
- latency: the exact vote (models.lines.LineIndex: dense product + lexical product + vote)
  per query at growing segment counts (the synthetic store's segments, tiled beyond with
  near-copies), and beside it FAISS IVF (flat and SQ8) over the same segment vectors,
  top-100 per query segment: latency, recall of the exact top-100 segment set, share of
  the top-20 voted profiles that the exact vote ranks there.
- real: IVF recall on the real model's vectors (the evaluate step's embedding cache).
- evaluate: `clustermatch evaluate` (the API's ranking on a fresh store, the ranker
  trained) on CORDIS and the buyer dev set with line votes at their gate (`on`), forced
  off (Engine(lines_max=-1), `off`), or one side only (`dense`, `lexical`), same process,
  same embedding cache (`--workdir`/eval-cache.db).

One BLAS / FAISS thread throughout (as the API runs a request); the machine is shared, so
each table compares variants of one run. Load averages are printed with every table.
"""

from __future__ import annotations

import os

for _v in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_v, "1")

import argparse  # noqa: E402
import functools  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

CORDIS = Path("/work/shared/benchmarks/cordis-partners")
DEMO = ROOT / "service" / "demo" / "organizations.jsonl"
BUYERS = ROOT / "tests" / "data" / "buyers"


def load() -> str:
    a, b, c = os.getloadavg()
    return f"load {a:.2f} {b:.2f} {c:.2f}"


def _one_side(votes: Any, *, dense: bool) -> Any:
    """LineVotes.votes with one side only: the dense vote (an IVF segment index would
    serve it) or the lexical one."""

    def one(self: Any, *a: Any, **kw: Any) -> tuple[Any, Any]:
        lex, den = votes(self, *a, **kw)
        return (None, den) if dense else (lex, None)

    return one


def step_evaluate(args: argparse.Namespace) -> None:
    """CORDIS dev queries and the buyer dev set, line votes at their gate vs off."""
    workdir: Path = args.workdir
    import service.offline.evaluation as ev
    from service.engine import Engine
    from service.engine.lines import LineVotes
    from service.resources import load_encoder
    from service.settings import Settings

    encoder = load_encoder(Settings())
    cache = workdir / "eval-cache.db"
    sets = [
        (
            "cordis",
            CORDIS / "profiles.jsonl",
            CORDIS / "interactions.jsonl",
            CORDIS / "dev_queries.jsonl",
        ),
        ("buyers", BUYERS / "profiles.jsonl", None, BUYERS / "queries.jsonl"),
    ]
    original = ev.Engine
    original_votes = LineVotes.votes
    rows: list[tuple[str, str, str, dict[str, Any], float]] = []
    try:
        variants = [
            v
            for v in (("on (gate)", None), ("off", -1), ("dense", None), ("lexical", None))
            if v[0].split()[0] in args.lines.split(",")
        ]
        for name, profiles, interactions, queries in sets:
            if name not in args.sets.split(","):
                continue
            for variant, lines_max in variants:
                factory: Any = (
                    original
                    if lines_max is None
                    else functools.partial(Engine, lines_max=lines_max)
                )
                ev.Engine = factory  # type: ignore[misc]
                # one side of the vote only (the other None: no vote, as in training)
                LineVotes.votes = (  # type: ignore[method-assign]
                    original_votes
                    if variant not in ("dense", "lexical")
                    else _one_side(original_votes, dense=variant == "dense")
                )
                t0 = time.perf_counter()
                result = ev.evaluate(
                    profiles,
                    interactions,
                    queries,
                    encoder=encoder,
                    embedding_cache=cache,
                    methods=("system",),
                )
                took = time.perf_counter() - t0
                blocks = {**result["tasks"], **result["slices"], "all": result["all"]}
                for task, block in blocks.items():
                    rows.append((name, variant, task, block["system"], took))
                print(f"[evaluate] {name} {variant}: {took:.0f} s, {load()}", flush=True)
    finally:
        ev.Engine = original  # type: ignore[misc]
        LineVotes.votes = original_votes  # type: ignore[method-assign]
    print(f"\n== evaluate (system, k=10), {load()}")
    print(f"{'set':<8}{'lines':<11}{'task':<22}{'R@10':>8}{'nDCG@10':>9}{'MRR':>8}{'n':>6}")
    for name, variant, task, m, _ in rows:
        print(
            f"{name:<8}{variant:<11}{task:<22}{m['recall']:>8.4f}{m['ndcg']:>9.4f}"
            f"{m['mrr']:>8.4f}{m.get('n', 0):>6}"
        )
    tag = "-".join([args.sets.replace(",", "+"), args.lines.replace(",", "+")])
    (workdir / f"evaluate-{tag}.json").write_text(json.dumps(rows, default=str))


def _profiles_jsonl(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _store_profiles(db: Path, limit: int | None = None) -> list[dict[str, Any]]:
    """The synthetic store's profiles (read-only: the database is opened immutable)."""
    import sqlite3

    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        sql = "select data from profiles order by pk" + (f" limit {limit}" if limit else "")
        return [json.loads(d) for (d,) in con.execute(sql)]
    finally:
        con.close()


def _segs(p: dict[str, Any]) -> list[str]:
    from models.lines import profile_segments

    return profile_segments(p.get("description"), p.get("offers") or [], p.get("needs") or [])


def _growth(by_profile: list[list[str]], seed: int = 0) -> tuple[list[tuple[int, int]], float]:
    """Distinct segments after the first n profiles (shuffled), at 1/8, 1/4, 1/2, all; and
    the exponent b of distinct ~ n^b fitted on the last two points (Heaps-like)."""
    import numpy as np

    order = np.random.default_rng(seed).permutation(len(by_profile))
    marks = {max(1, len(order) * f // 8) for f in (1, 2, 4, 8)}
    seen: set[str] = set()
    points: list[tuple[int, int]] = []
    for i, j in enumerate(order, start=1):
        seen.update(by_profile[j])
        if i in marks:
            points.append((i, len(seen)))
    (n1, d1), (n2, d2) = points[-2], points[-1]
    b = float(np.log(d2 / d1) / np.log(n2 / n1)) if d1 and n2 > n1 else 1.0
    return points, b


def step_scale(args: argparse.Namespace) -> None:
    """Segments per profile, growth, extrapolation to 1M, bytes per segment."""
    from models.lexical import LexicalIndex

    corpora: list[tuple[str, list[dict[str, Any]]]] = [
        ("demo", _profiles_jsonl(DEMO)),
        ("cordis", _profiles_jsonl(CORDIS / "profiles.jsonl")),
    ]
    if args.store.exists():
        corpora.append((f"synthetic {args.store.parent.name}", _store_profiles(args.store)))
    print(f"\n== scale: distinct segments, extrapolated to 1M profiles ({load()})")
    print(
        f"{'corpus':<24}{'profiles':>9}{'segs/prof':>10}{'distinct':>9}{'dist/prof':>10}"
        f"{'growth':>42}{'b':>6}{'1M: n^b':>10}{'1M: linear':>11}{'lex nnz':>8}"
    )
    extras: list[tuple[str, float, float, float]] = []
    for name, profiles in corpora:
        by = [_segs(p) for p in profiles]
        total = sum(len(s) for s in by)
        distinct = list(dict.fromkeys(s for segs in by for s in segs))
        # embedded today: each profile's facet texts and each offer and need
        # (service.engine.catalogue.profile_texts); the segments' extra texts to embed are
        # the description's lines and sentences that are no item
        items = {
            s.strip() for p in profiles for s in (*(p.get("offers") or []), *(p.get("needs") or []))
        }
        facets = sum(1 + bool(p.get("offers")) + bool(p.get("needs")) for p in profiles)
        extra = sum(1 for s in distinct if s not in items)
        embedded_now = facets + len(items)
        points, b = _growth(by)
        n, d = points[-1]
        at_1m = d * (1_000_000 / n) ** b
        linear = d / n * 1_000_000
        # lexical rows as the catalogue makes them: vocabulary fitted on whole texts
        texts = [
            " ".join(
                [p.get("description") or "", *(p.get("offers") or []), *(p.get("needs") or [])]
            )
            for p in profiles[:50_000]
        ]
        lex = LexicalIndex()
        lex.fit(list(range(len(texts))), texts)
        sample = distinct[:20_000]
        nnz = lex.transform(sample).nnz / max(1, len(sample))
        growth = " ".join(
            f"{a // 1000 if a >= 1000 else a}{'k' if a >= 1000 else ''}:{c}" for a, c in points
        )
        print(
            f"{name:<24}{len(profiles):>9}{total / len(profiles):>10.2f}{len(distinct):>9}"
            f"{len(distinct) / len(profiles):>10.3f}{growth:>42}{b:>6.2f}{at_1m:>10.0f}"
            f"{linear:>11.0f}{nnz:>8.0f}"
        )
        extras.append(
            (
                name,
                embedded_now / len(profiles),
                extra / len(profiles),
                extra / max(1, len(distinct)),
            )
        )
    print(f"{'corpus':<24}{'embedded now/prof':>18}{'extra segs/prof':>16}{'extra/distinct':>15}")
    for name, now, ext, share in extras:
        print(f"{name:<24}{now:>18.2f}{ext:>16.2f}{share:>15.2f}")
    # the gate's own cost with the votes off: Catalogue._segment_refs, hash -> live count
    import random
    import tracemalloc

    rng = random.Random(0)
    tracemalloc.start()
    refs = {rng.getrandbits(63): 1 for _ in range(500_000)}
    gate = tracemalloc.get_traced_memory()[0] / len(refs)
    tracemalloc.stop()
    del refs
    print(f"the gate's count per distinct segment (dict of 64-bit hash -> count): {gate:.0f} B")
    dim = 512
    print(
        f"bytes per segment: dense float32 {4 * dim} (dim {dim}), SQ8 {dim} + 8 id, lexical "
        "row nnz x 8 B (float32 + int32 index) x 2 (rows and their transpose, "
        "LineIndex.lexical / lexical_t), owners 16 B per (profile, segment) pair "
        "(owners and owners_t), the segment's text and id_of entry ~150-250 B in Python"
    )


def step_encode(args: argparse.Namespace) -> None:
    """The real default model's segments/s (one thread) on real segments, and what the
    1M catalogue's segments would cost to embed."""
    import random

    from models.encoders import DEFAULT_MODEL, SentenceTransformerEncoder

    pool = list(
        dict.fromkeys(s for p in _profiles_jsonl(CORDIS / "profiles.jsonl") for s in _segs(p))
    )
    demo = list(dict.fromkeys(s for p in _profiles_jsonl(DEMO) for s in _segs(p)))
    rng = random.Random(0)
    sample = rng.sample(pool, 1000) + rng.sample(demo, 500)
    chars = sum(len(s) for s in sample) / len(sample)
    enc = SentenceTransformerEncoder(DEFAULT_MODEL, threads=1)
    enc.encode(sample[:64])  # (warm)
    t0 = time.perf_counter()
    enc.encode(sample, batch_size=64)
    took = time.perf_counter() - t0
    rate = len(sample) / took
    print(
        f"\n== encode: {DEFAULT_MODEL}, one thread, {len(sample)} real segments "
        f"(1,000 CORDIS + 500 demo, {chars:.0f} chars on average) ({load()})"
    )
    print(
        f"{took:.1f} s, {rate:.0f} segments/s; per 1M segments: {1e6 / rate / 3600:.1f} h "
        f"on one core, {1e6 / rate / 3600 / 2:.1f} h on both"
    )


def _pct(xs: list[float], q: float) -> float:
    import numpy as np

    return float(np.percentile(np.asarray(xs), q)) if xs else float("nan")


def _segment_world(args: argparse.Namespace, size: int) -> Any:
    """`size` segment rows for the synthetic store's profiles: its distinct segments
    (HashingEncoder(512) vectors, as the store's own; lexical rows with a vocabulary fitted
    on 20,000 whole texts), tiled beyond with near-copies (each vector plus noise,
    cosine ~0.9 to its original; the same lexical row) owned by random profiles; and the
    queries: `--queries` profiles' own segments."""
    import numpy as np
    from scipy import sparse

    from models.encoders import HashingEncoder
    from models.lexical import LexicalIndex
    from models.lines import LineIndex

    cache = getattr(_segment_world, "cache", None)
    if cache is None:
        profiles = _store_profiles(args.store)
        by_key = {i: _segs(p) for i, p in enumerate(profiles)}
        distinct = list(dict.fromkeys(s for k in sorted(by_key) for s in by_key[k]))
        enc = HashingEncoder(dim=512)
        vectors = enc.encode(distinct).astype(np.float32)
        texts = [
            " ".join(
                [p.get("description") or "", *(p.get("offers") or []), *(p.get("needs") or [])]
            )
            for p in profiles[:20_000]
        ]
        lex = LexicalIndex()
        lex.fit(list(range(len(texts))), texts)
        lexical = lex.transform(distinct)
        cache = (by_key, distinct, vectors, lexical, len(profiles))
        _segment_world.cache = cache  # type: ignore[attr-defined]
    by_key, distinct, vectors, lexical, n_profiles = cache
    rng = np.random.default_rng(size)
    # the first `size` distinct segments (by profile order), or all and near-copies
    base = min(size, len(distinct))
    keep = set(distinct[:base])
    owners_by = {k: [s for s in segs if s in keep] for k, segs in by_key.items()}
    owners_by = {k: v for k, v in owners_by.items() if v}
    idx = LineIndex.build(owners_by, n_profiles, lines=distinct[:base])
    rows, cols = idx.owners.nonzero()
    vec = vectors[:base]
    lex_rows = lexical[:base]
    extra = size - base
    if extra > 0:
        src_rows = rng.integers(0, base, extra)
        noise = rng.standard_normal((extra, vec.shape[1])).astype(np.float32)
        noise /= np.linalg.norm(noise, axis=1, keepdims=True)
        copies = vec[src_rows] * 0.9 + noise * np.float32(np.sqrt(1 - 0.81))
        copies /= np.linalg.norm(copies, axis=1, keepdims=True)
        vec = np.vstack([vec, copies])
        lex_rows = sparse.vstack([lex_rows, lexical[src_rows]], format="csr")
        rows = np.concatenate([rows, np.arange(base, size)])
        cols = np.concatenate([cols, rng.integers(0, n_profiles, extra)])
    owners = sparse.csr_matrix(
        (np.ones(rows.size, dtype=np.float32), (rows, cols)), shape=(size, n_profiles)
    )
    index = LineIndex([f"s{i}" for i in range(size)], owners, lex_rows, np.ascontiguousarray(vec))
    qrng = np.random.default_rng(0)
    q_keys = [k for k in qrng.permutation(sorted(owners_by))[: args.queries]]
    queries = []
    id_of = {s: i for i, s in enumerate(distinct[:base])}
    for k in q_keys:
        ids = [id_of[s] for s in by_key[int(k)] if s in id_of]
        queries.append((int(k), vectors[ids], lexical[ids]))
    return index, queries


def _exact(index: Any, q_vec: Any, q_lex: Any, k: int = 100) -> tuple[Any, Any, Any, float, float]:
    """The exact vote as LineVotes.votes makes it: (dense vote, dense sims, lexical vote,
    dense ms, lexical ms); ms of this thread's CPU time (the machine is shared: wall time
    would count the other processes' turns)."""
    t0 = time.thread_time()
    _, dense = index.similarities(None, q_vec)
    v_dense = index.vote(dense, k=k, power=3.0)
    t1 = time.thread_time()
    lex, _ = index.similarities(q_lex, None)
    v_lex = index.vote(lex, k=k)
    t2 = time.thread_time()
    return v_dense, dense, v_lex, 1000 * (t1 - t0), 1000 * (t2 - t1)


def _approx_vote(index: Any, ivf: Any, q_vec: Any, k: int = 100) -> tuple[Any, Any]:
    """The dense vote from an IVF search: each query segment's `k` nearest segments, each
    segment's best similarity over the query's, the `k` best of those vote (power 3)."""
    import numpy as np

    from models.topn import top_n

    sims, ids = ivf.search(np.ascontiguousarray(q_vec, dtype=np.float32), k)
    ids, sims = ids.ravel(), sims.ravel()
    ok = ids >= 0
    ids, sims = ids[ok], sims[ok]
    order = np.lexsort((-sims, ids))  # per segment its best similarity first
    ids, sims = ids[order], sims[order]
    first = np.ones(ids.size, dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    ids, sims = ids[first], sims[first]
    top = top_n(sims, k)
    # only the voting segments' owners are read (the exact vote's owners_t @ w reads
    # every (profile, segment) pair: linear in the catalogue again)
    w = np.maximum(sims[top], 0.0) ** 3
    rows = index.owners[ids[top]]
    return np.asarray(rows.T @ w, dtype=np.float32).ravel(), ids[top]


def _ivf(kind: str, vec: Any, nlist: int) -> Any:
    """An IVF index (inner product) over `vec`, filled: `sq8` as indexing.ivf trains it
    (8-bit codes, what the compact layout maps), `flat` with float32 vectors and the same
    training (10 k-means iterations, 40 vectors per list)."""
    import faiss

    from indexing.ivf import train as train_sq8

    if kind == "sq8":
        ivf: Any = train_sq8(vec, nlist)
    else:
        quant: Any = faiss.IndexFlatIP(vec.shape[1])
        ivf = faiss.IndexIVFFlat(quant, vec.shape[1], nlist, faiss.METRIC_INNER_PRODUCT)
        ivf.cp.niter = 10
        ivf.cp.max_points_per_centroid = 40
        ivf.train(vec)
        ivf.own_fields = True
        quant.this.disown()  # (the index frees its quantizer)
    ivf.add(vec)
    return ivf


def step_latency(args: argparse.Namespace) -> None:
    """Exact vote vs IVF (flat, SQ8) per query at growing segment counts."""
    import faiss
    import numpy as np

    from indexing.ivf import nlist_for
    from models.topn import top_n

    faiss.omp_set_num_threads(1)
    sizes = [int(s) for s in args.sizes.split(",")]
    nprobes = [int(p) for p in args.nprobe.split(",")]
    print(
        f"\n== latency per query (ms of CPU, one thread), {args.queries} synthetic-profile "
        f"queries "
        f"(segments per query: their own), recall of the exact top-100 segments, overlap "
        f"of the top-20 profiles by dense vote (share of the approximate top 20 that the "
        f"exact vote ranks there, ties included) ({load()})"
    )
    print(
        f"{'segments':>9} {'method':<22}{'median':>8}{'p90':>8}{'p99':>8}{'recall':>8}"
        f"{'top20':>7}{'build s':>8}{'MB':>7}  load"
    )
    for size in sizes:
        index, queries = _segment_world(args, size)
        _exact(index, *queries[0][1:])  # (warm)
        exact = [_exact(index, qv, ql) for _, qv, ql in queries]
        dense_ms = [e[3] for e in exact]
        lex_ms = [e[4] for e in exact]
        mb = index.vectors.nbytes / 1e6
        lex_mb = 2 * index.lexical.nnz * 8 / 1e6
        both = [a + b for a, b in zip(dense_ms, lex_ms, strict=True)]
        for name, xs, size_mb in (
            ("exact dense", dense_ms, mb),
            ("exact lexical", lex_ms, lex_mb),
            ("exact both", both, mb + lex_mb),
        ):
            print(
                f"{size:>9} {name:<22}{_pct(xs, 50):>8.1f}{_pct(xs, 90):>8.1f}"
                f"{_pct(xs, 99):>8.1f}{'':>8}{'':>7}{'':>8}{size_mb:>7.0f}  {load()}",
                flush=True,
            )
        ex_top = [set(top_n(e[1], 100).tolist()) for e in exact]
        # the exact vote's 20th best value: an approximate top-20 profile at or above it
        # is one the exact vote ranks in its top 20 too (ties counted as in: profiles
        # listing the same segments have the same vote, and which of them a top-20 cut
        # keeps is arbitrary)
        ex_prof = [e[0] for e in exact]
        ex_cut = [float(np.sort(e[0])[-20]) for e in exact]
        nlist = nlist_for(size)
        for kind in ("flat", "sq8"):
            t0 = time.perf_counter()
            vec = index.vectors
            ivf = _ivf(kind, vec, nlist)
            built = time.perf_counter() - t0
            per_vec = (vec.shape[1] if kind == "sq8" else 4 * vec.shape[1]) + 8
            for nprobe in nprobes:
                ivf.nprobe = nprobe
                ms, rec, ov = [], [], []
                for (_, qv, _), et, ev, cut in zip(queries, ex_top, ex_prof, ex_cut, strict=True):
                    t1 = time.thread_time()
                    vote, top = _approx_vote(index, ivf, qv)
                    ms.append(1000 * (time.thread_time() - t1))
                    rec.append(len(et & set(top.tolist())) / max(1, len(et)))
                    mine = top_n(vote, 20)
                    ov.append(float(np.mean(ev[mine] >= cut * (1 - 1e-5))))
                label = f"ivf-{kind} {nlist}/{nprobe}"
                print(
                    f"{size:>9} {label:<22}{_pct(ms, 50):>8.1f}{_pct(ms, 90):>8.1f}"
                    f"{_pct(ms, 99):>8.1f}{np.mean(rec):>8.3f}{np.mean(ov):>7.2f}"
                    f"{built:>8.1f}{size * per_vec / 1e6:>7.0f}  {load()}",
                    flush=True,
                )


def step_real(args: argparse.Namespace) -> None:
    """IVF recall on the real model's vectors: every vector in the evaluate step's
    embedding cache (CORDIS texts and segments, use-multilingual-v3) as the rows, the
    CORDIS profiles' own segments as the queries. The latency step's recall is measured
    on HashingEncoder vectors of synthetic segments (tiled beyond 70k with near-copies):
    this says whether real embeddings are easier or harder for IVF at a similar size."""
    import sqlite3

    import faiss
    import numpy as np

    from indexing.ivf import nlist_for
    from models.profile import text_hash
    from models.topn import top_n

    faiss.omp_set_num_threads(1)
    cache = args.workdir / "eval-cache.db"
    con = sqlite3.connect(f"file:{cache}?mode=ro", uri=True)
    rows = con.execute(
        "select text_hash, vector from embeddings where model_id = 'use-multilingual-v3'"
    ).fetchall()
    con.close()
    if not rows:
        print("(no real vectors: run the evaluate step first)")
        return
    row_of = {h: i for i, (h, _) in enumerate(rows)}
    vec = np.vstack([np.frombuffer(b, dtype=np.float32) for _, b in rows])
    vec /= np.linalg.norm(vec, axis=1, keepdims=True)
    profiles = _profiles_jsonl(CORDIS / "profiles.jsonl")
    rng = np.random.default_rng(0)
    queries = []
    for j in rng.permutation(len(profiles)):
        ids = [row_of.get(text_hash(s), -1) for s in _segs(profiles[int(j)])]
        ids = [i for i in ids if i >= 0]
        if ids:
            queries.append(vec[ids])
        if len(queries) >= args.queries:
            break
    exact = [set(top_n((vec @ q.T).max(axis=1), 100).tolist()) for q in queries]
    nlist = nlist_for(len(vec))
    print(
        f"\n== real vectors ({len(vec)} use-multilingual-v3 vectors of CORDIS texts, "
        f"{len(queries)} CORDIS profiles' segments as queries): IVF recall of the exact "
        f"top-100 ({load()})"
    )
    for kind in ("flat", "sq8"):
        ivf = _ivf(kind, vec, nlist)
        for nprobe in [int(p) for p in args.nprobe.split(",")]:
            ivf.nprobe = nprobe
            rec = []
            for q, ex in zip(queries, exact, strict=True):
                sims, found = ivf.search(np.ascontiguousarray(q), 100)
                best: dict[int, float] = {}
                for i, s in zip(found.ravel().tolist(), sims.ravel().tolist(), strict=True):
                    if i >= 0 and s > best.get(i, -2.0):
                        best[i] = s
                top = sorted(best, key=lambda i: -best[i])[:100]
                rec.append(len(ex & set(top)) / max(1, len(ex)))
            print(f"{len(vec):>9} ivf-{kind} {nlist}/{nprobe:<10} recall {np.mean(rec):.3f}")


STEPS = {
    "scale": step_scale,
    "encode": step_encode,
    "latency": step_latency,
    "real": step_real,
    "evaluate": step_evaluate,
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--steps", default=",".join(STEPS))
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/bench-lines"))
    ap.add_argument(
        "--store", type=Path, default=Path("/work/bench/cache/store-100000/clustermatch.db")
    )
    ap.add_argument("--sizes", default="4000,10000,30000,100000,300000")
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--nprobe", default="8,32,64")
    ap.add_argument("--sets", default="cordis,buyers", help="evaluate: which sets")
    ap.add_argument(
        "--lines", default="on,off", help="evaluate: which variants (on, off, dense, lexical)"
    )
    args = ap.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    for step in args.steps.split(","):
        STEPS[step](args)


if __name__ == "__main__":
    main()
