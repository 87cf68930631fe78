"""Ranking metrics (models.metrics), checked by hand."""

from __future__ import annotations

import math

import pytest

from models.metrics import mrr, ndcg_at_k, recall_at_k, summarize


def test_metrics_by_hand() -> None:
    ranked = ["a", "x", "b", "y"]
    assert recall_at_k(ranked, {"a", "b", "c"}, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, {"a", "b", "c"}, 4) == pytest.approx(2 / 3)
    ideal = 1 + 1 / math.log2(3) + 1 / math.log2(4)
    assert ndcg_at_k(ranked, {"a", "b", "c"}, 4) == pytest.approx((1 + 1 / math.log2(4)) / ideal)
    assert ndcg_at_k(["a", "b"], {"a", "b"}, 10) == pytest.approx(1.0)
    assert mrr(ranked, {"b"}) == pytest.approx(1 / 3)
    assert mrr(ranked, {"b"}, k=2) == 0.0
    assert recall_at_k(ranked, set(), 2) == 0.0
    assert summarize([(1.0, 0.5, 1.0), (0.0, 0.0, 0.0)]) == {
        "recall": 0.5,
        "ndcg": 0.25,
        "mrr": 0.5,
        "n": 2,
    }
