"""Scoring the learned re-ranker: LightGBM's own predict vs the compiled code
(models.native), on the same model and the same rows, in one process.

    .venv/bin/python scripts/bench_native.py [--model DATA_DIR/index/reranker.bin]
        [--rows 300,70] [--repeats 300]

Without `--model`, three rankers are trained as the service trains them
(models.ranking.train, LightGBM rank_xendcg, 150 trees of up to 31 leaves over FEATURES)
on synthetic pools, and averaged as the service averages them. A request scores its
candidate pool (~300 rows) and then the reasons' probes (~70 rows), with every model.
Prints the compile time (cold, and from the cache), the time per scoring call of each
way with the ratio, and the largest difference between their scores.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models.ranking import FEATURES, INDEX, Averaged, Reranker, averaged, train


def synthetic_model(seed: int = 0, queries: int = 400, pool: int = 150) -> Reranker:
    """Three rankers on pools whose labels depend on several features at once."""
    rng = np.random.default_rng(seed)
    n = queries * pool
    x = rng.normal(size=(n, len(FEATURES)))
    x[rng.random(x.shape) < 0.1] = np.nan
    z = np.nan_to_num(x)
    logit = (
        1.5 * z[:, INDEX["dense"]]
        + z[:, INDEX["tie"]] * (z[:, INDEX["walk"]] > 0)
        + 0.7 * np.tanh(z[:, INDEX["log_activity"]])
        + 0.5 * z[:, INDEX["lexical"]] * z[:, INDEX["line_dense"]]
        - 2.5
    )
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    groups = [pool] * queries
    parts = [train(x, y, seed=s, groups=groups, objective="rank_xendcg") for s in range(3)]
    return averaged(parts)


def per_call_ms(fn: object, x: np.ndarray, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn(x)  # type: ignore[operator]
        times.append(time.perf_counter() - t)
    return float(np.median(times) * 1e3)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] if __doc__ else None)
    p.add_argument("--model", type=Path, help="a saved re-ranker (reranker.bin)")
    p.add_argument("--rows", default="300,70", help="rows per scoring call")
    p.add_argument("--repeats", type=int, default=300)
    args = p.parse_args(argv)
    t = time.perf_counter()
    model = Reranker.load(args.model) if args.model else synthetic_model()
    print(f"model: {args.model or 'synthetic, trained'} in {time.perf_counter() - t:.1f} s")
    if not isinstance(model.model, Averaged):
        print("not a LightGBM ranker ensemble: nothing to compile")
        return 1
    lightgbm = Averaged(model.model.models)
    # both scored as a request scores (Reranker.score: one OpenMP thread for LightGBM)
    slow = Reranker(lightgbm, model.meta)
    with tempfile.TemporaryDirectory() as cache:
        t = time.perf_counter()
        if not model.compile(Path(cache)):
            print("could not compile here (see the log): LightGBM would score")
            return 1
        cold = time.perf_counter() - t
        t = time.perf_counter()  # a restart: the same models, compiled from the cache
        again = Averaged(model.model.models)
        again.compile(Path(cache))
        warm = time.perf_counter() - t
    trees = sum(m.booster_.num_trees() for m in lightgbm.models)
    print(f"{len(lightgbm.models)} boosters, {trees} trees in all")
    print(f"compile: {cold:.2f} s cold, {warm:.3f} s from the cache")
    rng = np.random.default_rng(1)
    print(
        f"{'rows':>6}{'LightGBM ms':>14}{'native ms':>12}{'native/LightGBM':>18}{'max |diff|':>13}"
    )
    for rows in (int(r) for r in args.rows.split(",")):
        x = rng.normal(size=(rows, len(FEATURES)))
        x[rng.random(x.shape) < 0.1] = np.nan
        base = per_call_ms(slow.score, x, args.repeats)
        fast = per_call_ms(model.score, x, args.repeats)
        diff = float(np.abs(slow.score(x) - model.score(x)).max())
        print(f"{rows:>6}{base:>14.3f}{fast:>12.3f}{fast / base:>17.2f}x{diff:>13.1e}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
