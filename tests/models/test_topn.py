"""models.topn: the exact top n, ties to the lowest positions, on the sampled path and
the plain one."""

from __future__ import annotations

import numpy as np
import pytest

from models import topn
from models.topn import top_n


def reference(scores: np.ndarray, n: int) -> set[int]:
    order = np.lexsort((np.arange(scores.size), -scores))
    return set(order[:n].tolist())


@pytest.mark.parametrize("size", [0, 5, 300, 10_000, 100_000])
@pytest.mark.parametrize("n", [1, 10, 180, 5_000])
@pytest.mark.parametrize("shape", ["uniform", "ties", "ascending", "descending", "zeros"])
def test_top_n_is_the_exact_top_n(size: int, n: int, shape: str) -> None:
    rng = np.random.default_rng(size + n)
    shapes: dict[str, np.ndarray] = {
        "uniform": rng.random(size).astype(np.float32),
        "ties": rng.integers(0, 20, size).astype(np.float32),  # many ties at the n-th
        "ascending": np.sort(rng.normal(size=size)),  # the strided sample misjudges it
        "descending": -np.sort(rng.normal(size=size)),
        "zeros": np.where(rng.random(size) < 0.002, rng.random(size), 0.0),  # mostly 0
    }
    scores = shapes[shape]
    got = top_n(scores, n)
    assert got.dtype == np.int64 and got.size == min(n, size)
    assert set(got.tolist()) == reference(scores, n)


def test_top_n_takes_the_sampled_path_and_falls_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """On a long array the threshold keeps a few hundred scores, not all of them; when it
    keeps too few, every score is partitioned (and the answer is still exact)."""
    seen: list[int] = []
    real = topn._best_of

    def spy(scores: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
        seen.append(positions.size)
        return real(scores, positions, n)

    monkeypatch.setattr(topn, "_best_of", spy)
    rng = np.random.default_rng(1)
    scores = rng.random(100_000)
    top_n(scores, 180)
    assert 180 <= seen[-1] < 2_000
    # the sample reads exactly the high scores: its threshold keeps fewer than n
    fooled = rng.random(100_000) * 0.5
    fooled[:: 100_000 // topn.SAMPLE] = 1.0
    assert set(top_n(fooled, 2_000).tolist()) == reference(fooled, 2_000)
    assert seen[-1] == 100_000
