"""The re-ranker compiled to native code (lleaves): the same scores as LightGBM's, cached
per model and CPU, never pickled, and LightGBM in charge whenever compiling cannot work."""

from __future__ import annotations

import os
import pickle
import time
from pathlib import Path
from typing import Any

import numpy as np

import models.native as native_mod
from models.native import agrees, cache_name, compile_booster, prune_cache
from models.ranking import Averaged, Reranker, averaged, train
from tests.support.worlds import toy_features


def _model() -> tuple[Reranker, np.ndarray]:
    x, y = toy_features()
    groups = [50] * (len(y) // 50)
    parts = [
        train(x, y, seed=s, max_iter=40, groups=groups, objective="rank_xendcg") for s in (1, 2)
    ]
    text = train(x, y, seed=1, max_iter=30, groups=groups)
    return averaged(parts, [text]), x


def test_compiled_scores_are_lightgbms(tmp_path: Path) -> None:
    model, x = _model()
    before = model.score(x), model.score(x, text=True)
    contrib = model.contributions(x[:7])
    assert not model.native
    assert model.compile(tmp_path / "native")
    assert model.native
    assert isinstance(model.model, Averaged) and model.model.native is not None
    assert [m.source for m in model.model.native] == ["compiled", "compiled"]
    after = model.score(x), model.score(x, text=True)
    for a, b in zip(before, after, strict=True):
        assert np.allclose(a, b, rtol=0, atol=1e-12)
    # same order, hence the same ranking, and the same reasons
    assert np.array_equal(
        np.argsort(-before[0], kind="stable"), np.argsort(-after[0], kind="stable")
    )
    assert np.allclose(model.contributions(x[:7]), contrib, atol=1e-12)
    # one object file per booster (two partner models, one text model)
    assert len(list((tmp_path / "native").glob("lleaves-*.o"))) == 3


def test_cache_is_reused_and_compiled_code_is_never_pickled(tmp_path: Path) -> None:
    model, x = _model()
    lightgbm = model.score(x)
    cache = tmp_path / "native"
    assert model.compile(cache)
    files = {p.name: p.stat().st_mtime_ns for p in cache.glob("*.o")}
    # the pickled model (what Reranker.save writes) carries no object code ...
    back = pickle.loads(pickle.dumps(model.model))
    assert isinstance(back, Averaged) and back.native is None
    assert np.allclose(back.predict(x), model.model.predict(x), atol=1e-12)
    # ... and a restart loads it from the cache instead of compiling again
    path = tmp_path / "r.bin"
    model.save(path)
    loaded = Reranker.load(path)
    assert not loaded.native
    assert loaded.compile(cache)
    assert isinstance(loaded.model, Averaged) and loaded.model.native is not None
    assert {m.source for m in loaded.model.native} == {"cache"}
    assert {p.name: p.stat().st_mtime_ns for p in cache.glob("*.o")} == files
    # the object code from the cache scores as LightGBM does
    assert np.allclose(loaded.score(x), lightgbm, rtol=0, atol=1e-12)


def test_cache_name_depends_on_the_model_and_the_host(monkeypatch: Any) -> None:
    a, b = cache_name("tree A"), cache_name("tree B")
    assert a != b and a == cache_name("tree A")
    monkeypatch.setattr(native_mod, "_host", lambda: "another-cpu")
    assert cache_name("tree A") != a


def test_where_lleaves_cannot_compile_lightgbm_scores(tmp_path: Path, monkeypatch: Any) -> None:
    model, x = _model()
    before = model.score(x)
    monkeypatch.setattr(native_mod, "unavailable", lambda: "no LLVM here")
    assert not model.compile(tmp_path / "native")
    assert not model.native
    assert np.array_equal(model.score(x), before)
    assert not list((tmp_path / "native").glob("*.o"))


def test_a_compile_that_disagrees_is_dropped(tmp_path: Path, monkeypatch: Any) -> None:
    model, _ = _model()
    assert isinstance(model.model, Averaged)
    booster = model.model.models[0].booster_
    # the check compares the compiled code's scores with the booster's on the same rows:
    # it holds for the booster compiled, not for another booster's trees
    native = compile_booster(booster, tmp_path / "checked")
    assert native is not None and agrees(native, booster)
    assert not agrees(native, model.model.models[1].booster_)
    monkeypatch.setattr(native_mod, "agrees", lambda native, booster: False)
    assert compile_booster(booster, tmp_path) is None
    assert not list(tmp_path.glob("*.o"))  # the suspect object file is not kept
    # a classifier (no LightGBM booster) is left as it is: it scores by its own
    # probabilities
    xs, ys = toy_features()
    clf = train(xs, ys, seed=1, max_iter=20)
    proba = clf.model.predict_proba(xs)[:, 1]
    assert not clf.compile(tmp_path) and not clf.native
    assert np.array_equal(clf.score(xs), proba)


def test_prune_keeps_the_newest(tmp_path: Path) -> None:
    now = time.time()
    for i in range(30):
        p = tmp_path / f"lleaves-{i:02d}.o"
        p.write_bytes(b"x")
        os.utime(p, (now - 1000 + i, now - 1000 + i))
    (tmp_path / "other.txt").write_text("kept")
    assert prune_cache(tmp_path, 24) == 6
    left = sorted(p.name for p in tmp_path.glob("lleaves-*.o"))
    assert left == [f"lleaves-{i:02d}.o" for i in range(6, 30)]
    assert (tmp_path / "other.txt").exists()
    assert prune_cache(tmp_path / "missing", 24) == 0
