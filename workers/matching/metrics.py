"""Ranking measures of CheckThat! claim retrieval: MAP@k, MRR and success at k."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["RankingScores", "average_precision", "score_rankings"]


def average_precision(ranked: Sequence[str], relevant: set[str], k: int = 5) -> float:
    """Precision at each relevant claim in the first `k`, summed, over the number relevant.

    trec_eval's map_cut and the CheckThat! scorer divide by every relevant claim, not only
    those that fit in k; with one relevant claim a query, as most have, the two agree.
    """
    hits = 0
    total = 0.0
    for position, key in enumerate(ranked[:k], start=1):
        if key in relevant:
            hits += 1
            total += hits / position
    return total / len(relevant) if relevant else 0.0


@dataclass(frozen=True)
class RankingScores:
    """Means over queries."""

    map_at_5: float
    mrr: float
    success_at_10: float
    queries: int

    def row(self) -> str:
        return f"MAP@5 {self.map_at_5:.4f}  MRR {self.mrr:.4f}  S@10 {self.success_at_10:.4f}"


def score_rankings(
    rankings: Sequence[Sequence[str]], relevant: Sequence[set[str]]
) -> RankingScores:
    """MAP@5, MRR (over each ranking as given) and S@10 of rankings against relevant sets."""
    if len(rankings) != len(relevant) or not rankings:
        raise ValueError("one ranking per query, and at least one query")
    map5 = mrr = success = 0.0
    for ranked, wanted in zip(rankings, relevant, strict=True):
        map5 += average_precision(ranked, wanted, 5)
        first = next((i for i, key in enumerate(ranked, start=1) if key in wanted), None)
        mrr += 1.0 / first if first else 0.0
        success += 1.0 if first is not None and first <= 10 else 0.0
    n = len(rankings)
    return RankingScores(map5 / n, mrr / n, success / n, n)
