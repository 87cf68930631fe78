"""The positions of the n highest scores in a long array, exact, without sorting it.

`np.argpartition` over the 100k scores of a lexical search takes ~1 ms, a fifth of the
search. `top_n` first takes a threshold from a strided sample of the scores that about 2n
of them should reach, keeps those (one comparison per score), and partitions only them;
when fewer than n reach it (a sample that misjudged the spread) it partitions all of them,
so the answer is always the exact top n. Ties at the n-th score go to the lowest
positions, so that the same scores always give the same set.
"""

from __future__ import annotations

import numpy as np

#: Below this many scores a plain partition is as fast.
SAMPLE_FROM = 8_192
#: Scores read for the threshold.
SAMPLE = 1_024


def top_n(scores: np.ndarray, n: int) -> np.ndarray:
    """Positions (int64, unordered) of the min(n, len) highest of a 1-d array of finite
    numbers; ties at the n-th score to the lowest positions."""
    size = scores.size
    if n <= 0:
        return np.zeros(0, dtype=np.int64)
    if size <= n:
        return np.arange(size, dtype=np.int64)
    if size >= SAMPLE_FROM and 4 * n < size:
        sample = scores[:: size // SAMPLE]
        # the sample's rank that ~2n of all the scores should reach, with some slack
        rank = min(sample.size - 1, int(sample.size * 2 * n / size) + 8)
        threshold = np.partition(sample, sample.size - 1 - rank)[sample.size - 1 - rank]
        kept = np.flatnonzero(scores >= threshold)
        if kept.size >= n:
            return _best_of(scores, kept, n)
    return _best_of(scores, np.arange(size, dtype=np.int64), n)


def _best_of(scores: np.ndarray, positions: np.ndarray, n: int) -> np.ndarray:
    """The n best of these (ascending) positions, ties at the n-th to the first."""
    values = scores[positions]
    nth = values[np.argpartition(-values, n - 1)[n - 1]] if values.size > n else values.min()
    above = positions[values > nth]
    tied = positions[values == nth]
    return np.concatenate([above, tied[: n - above.size]]).astype(np.int64)
