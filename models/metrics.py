"""Ranking metrics over a cut-off k: Recall@k, nDCG@k (binary gains) and MRR."""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence


def recall_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    return len(rel & set(ranked[:k])) / len(rel)


def ndcg_at_k(ranked: Sequence[str], relevant: Iterable[str], k: int) -> float:
    rel = set(relevant)
    if not rel:
        return 0.0
    dcg = sum(1.0 / math.log2(i + 2) for i, x in enumerate(ranked[:k]) if x in rel)
    ideal = sum(1.0 / math.log2(i + 2) for i in range(min(len(rel), k)))
    return dcg / ideal


def mrr(ranked: Sequence[str], relevant: Iterable[str], k: int | None = None) -> float:
    """Reciprocal rank of the first relevant item (within k when given)."""
    rel = set(relevant)
    for i, x in enumerate(ranked if k is None else ranked[:k]):
        if x in rel:
            return 1.0 / (i + 1)
    return 0.0


def summarize(rows: Sequence[tuple[float, float, float]]) -> dict[str, float]:
    n = len(rows)
    if n == 0:
        return {"recall": 0.0, "ndcg": 0.0, "mrr": 0.0, "n": 0}
    return {
        "recall": round(sum(r[0] for r in rows) / n, 4),
        "ndcg": round(sum(r[1] for r in rows) / n, 4),
        "mrr": round(sum(r[2] for r in rows) / n, 4),
        "n": n,
    }
