"""Native scoring of the learned re-ranker: each LightGBM booster compiled to machine code
with lleaves (LLVM), the same trees giving the same scores (to float rounding) several
times faster than LightGBM's own interpreter of them. A request scores its candidate pool
(~300 rows) and the reasons' probes (~70) with every averaged model, three boosters of 150
trees; LightGBM against compiled, one thread (`scripts/bench_native.py --model
DATA/index/reranker.bin`): on the CORDIS model's own pools 5.2 against 0.87 ms and 1.46
against 0.16 ms, on the 100k benchmark store's model 8.8 against 2.1 ms and 2.2 against
0.5 ms.

Compiling takes a few seconds per booster, so the object code is kept in a cache
directory under a name made of the model text, the host CPU and the compiler versions:
a restart (and every other worker process) loads it instead of compiling again, and a
file compiled for another CPU is never loaded. Anything that goes wrong (lleaves or
llvmlite missing or incompatible, a compile error) leaves the booster in charge: `compile`
then returns None and says why in the log.
"""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger("clustermatch.native")


class NativeBooster:
    """A compiled booster: `predict` gives the booster's raw scores."""

    def __init__(self, model: Any, source: str) -> None:
        self._model = model
        self.source = source  # "compiled" or "cache"

    def predict(self, x: np.ndarray) -> np.ndarray:
        rows = np.ascontiguousarray(x, dtype=np.float64)
        return np.asarray(self._model.predict(rows, n_jobs=1), dtype=np.float64)


def unavailable() -> str | None:
    """None when lleaves can compile here, else why not."""
    try:
        import lleaves  # noqa: F401
    except (ImportError, OSError) as exc:
        return f"lleaves does not load ({exc})"
    return None


# How the object code is built (part of the cache key): raw scores, as the booster's
# `predict` gives them to the ranking.
COMPILE_FLAGS: dict[str, Any] = {"raw_score": True}


def _host() -> str:
    from importlib.metadata import version

    import llvmlite
    import llvmlite.binding as llvm

    return "|".join(
        (
            llvm.get_process_triple(),
            llvm.get_host_cpu_name(),
            llvm.get_host_cpu_features().flatten(),
            llvmlite.__version__,
            version("lleaves"),
            repr(sorted(COMPILE_FLAGS.items())),
        )
    )


def cache_name(model_text: str) -> str:
    """The object file's name: the model, this CPU and the compiler, hashed."""
    digest = hashlib.sha256(model_text.encode())
    digest.update(_host().encode())
    return f"lleaves-{digest.hexdigest()[:32]}.o"


def compile_booster(booster: Any, cache_dir: Path) -> NativeBooster | None:
    """The booster compiled (or loaded from `cache_dir`), or None where lleaves cannot
    compile it (the reason is logged)."""
    why = unavailable()
    if why is not None:
        log.info("re-ranker not compiled: %s", why)
        return None
    import lleaves

    try:
        text = booster.model_to_string()
        cache_dir.mkdir(parents=True, exist_ok=True)
        target = cache_dir / cache_name(text)
        with tempfile.TemporaryDirectory(dir=cache_dir) as tmp:
            model_file = Path(tmp) / "model.txt"
            model_file.write_text(text)
            model = lleaves.Model(model_file=str(model_file))
            if target.exists():
                model.compile(cache=str(target), **COMPILE_FLAGS)
                native = NativeBooster(model, "cache")
            else:
                # compiled to a private file and renamed: a process that reads the cache
                # meanwhile never sees half an object file
                built = Path(tmp) / "model.o"
                model.compile(cache=str(built), **COMPILE_FLAGS)
                os.replace(built, target)
                native = NativeBooster(model, "compiled")
        if not agrees(native, booster):
            target.unlink(missing_ok=True)
            log.warning("re-ranker not compiled: its scores differ from LightGBM's")
            return None
        return native
    except Exception as exc:
        log.warning("re-ranker not compiled, LightGBM scores it: %s", exc)
        return None


def agrees(native: NativeBooster, booster: Any, rows: int = 64) -> bool:
    """Whether the compiled code scores probe rows (random values, some missing) as the
    booster does, to float rounding."""
    rng = np.random.default_rng(0)
    x = rng.normal(0.0, 2.0, (rows, booster.num_feature()))
    x[rng.random(x.shape) < 0.2] = np.nan
    want = np.asarray(booster.predict(x), dtype=np.float64)
    return bool(np.allclose(native.predict(x), want, rtol=1e-9, atol=1e-12))


def prune_cache(cache_dir: Path, keep: int) -> int:
    """Delete all but the `keep` newest object files of `cache_dir`; how many went."""
    try:
        files = sorted(cache_dir.glob("lleaves-*.o"), key=lambda p: p.stat().st_mtime, reverse=True)
    except OSError:
        return 0
    gone = 0
    for path in files[keep:]:
        try:
            path.unlink()
            gone += 1
        except OSError:  # (another process pruned it first)
            pass
    return gone
