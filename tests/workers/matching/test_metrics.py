"""Tests for workers.matching.metrics against hand-computed rankings."""

from __future__ import annotations

import pytest

from workers.matching.metrics import average_precision, score_rankings


def test_average_precision_at_5_divides_by_every_relevant_claim():
    assert average_precision(["a", "b", "c"], {"a"}) == 1.0
    assert average_precision(["x", "a"], {"a"}) == 0.5
    assert average_precision(["x", "a", "y", "b"], {"a", "b"}) == pytest.approx((1 / 2 + 2 / 4) / 2)
    assert average_precision(["x", "y", "z", "w", "v", "a"], {"a"}) == 0.0


def test_map_mrr_and_success_at_10():
    rankings = [["a"], ["x", "b"], [str(i) for i in range(10)] + ["c"]]
    scores = score_rankings(rankings, [{"a"}, {"b"}, {"c"}])
    assert scores.map_at_5 == pytest.approx((1 + 0.5 + 0) / 3)
    assert scores.mrr == pytest.approx((1 + 0.5 + 1 / 11) / 3)
    assert scores.success_at_10 == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="at least one query"):
        score_rankings([], [])
