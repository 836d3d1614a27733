"""Inter-reviewer agreement on claim verdicts: Krippendorff's alpha, pairwise kappa, per claim.

Ratings are reviewers' current verdicts: when a reviewer rated the same claim more than once,
only the last rating in the sequence counts. Arithmetic is done in exact fractions, so "no
disagreement possible" is detected exactly rather than through a float tolerance.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from fractions import Fraction
from itertools import chain, combinations
from typing import TypeVar

METRICS = ("nominal", "interval", "ordinal")
V = TypeVar("V", bound=Hashable)


@dataclass(frozen=True)
class ReviewerRating:
    """One reviewer's verdict on one claim."""

    unit: int  # the claim id
    coder: str  # the reviewer
    value: str  # the rating key, e.g. "mostly-true"


@dataclass(frozen=True)
class PairAgreement:
    """How often two reviewers agree on the claims both of them rated."""

    coders: tuple[str, str]
    units: int
    agreed: int
    share: float
    kappa: float | None


def current_ratings(ratings: Sequence[ReviewerRating]) -> dict[int, dict[str, str]]:
    """Each claim's ratings by reviewer, a later rating replacing an earlier one."""
    by_unit: dict[int, dict[str, str]] = defaultdict(dict)
    for rating in ratings:
        by_unit[rating.unit][rating.coder] = rating.value
    return dict(by_unit)


def krippendorff_alpha(
    ratings: Sequence[ReviewerRating],
    *,
    metric: str = "nominal",
    values: Mapping[str, float] | None = None,
) -> float | None:
    """Krippendorff's alpha over all claims rated by at least two reviewers.

    `metric` is "nominal" (rating keys compared as labels; `values` is not used), "interval"
    (squared difference of the numbers in `values`) or "ordinal" (Krippendorff's rank distance,
    ranks ordered by the numbers in `values`). For the latter two, a current rating with no
    number in `values` (e.g. "unverifiable") is dropped before units are counted as pairable.

    Returns None when alpha is undefined: no claim has two usable ratings, or every usable
    rating is the same value, so no disagreement is possible (expected disagreement is 0).
    """
    if metric not in METRICS:
        raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")
    by_unit = current_ratings(ratings).values()
    if metric == "nominal":
        return alpha(pairable(list(by_coder.values()) for by_coder in by_unit), nominal_distance)

    if values is None:
        raise ValueError(f"the {metric} metric needs `values` mapping ratings to numbers")
    units = pairable(
        [Fraction(values[v]) for v in by_coder.values() if v in values] for by_coder in by_unit
    )
    if metric == "interval":
        return alpha(units, interval_distance)
    return alpha(units, ordinal_distance(Counter(chain.from_iterable(units))))


def pairable(units: Iterable[list[V]]) -> list[list[V]]:
    """The units with at least two values: a lone value has no one to agree with."""
    return [unit for unit in units if len(unit) >= 2]


def alpha(units: list[list[V]], distance: Callable[[V, V], Fraction]) -> float | None:
    """1 - (n - 1) * Σ o_ck δ²_ck / Σ n_c n_k δ²_ck over pairable units; None if undefined."""
    totals = Counter(chain.from_iterable(units))  # n_c, the coincidence matrix's marginals
    n = sum(totals.values())
    observed = sum(
        (count * distance(c, k) for (c, k), count in coincidences(units).items()), Fraction()
    )
    expected = sum(
        (totals[c] * totals[k] * distance(c, k) for c in totals for k in totals), Fraction()
    )
    if expected == 0:
        return None
    return float(1 - (n - 1) * observed / expected)


def coincidences(units: list[list[V]]) -> dict[tuple[V, V], Fraction]:
    """o_ck: each ordered pair of values from two reviewers of a unit, weighted 1 / (m_u - 1)."""
    matrix: dict[tuple[V, V], Fraction] = defaultdict(Fraction)
    for unit in units:
        counts = Counter(unit)
        weight = Fraction(1, len(unit) - 1)
        for c, n_c in counts.items():
            for k, n_k in counts.items():
                pairs = n_c * (n_k - 1) if c == k else n_c * n_k
                if pairs:
                    matrix[c, k] += pairs * weight
    return matrix


def nominal_distance(c: str, k: str) -> Fraction:
    """δ² for labels: 0 if equal, else 1."""
    return Fraction(c != k)


def interval_distance(c: Fraction, k: Fraction) -> Fraction:
    """δ² for numbers: the squared difference."""
    return (c - k) ** 2


def ordinal_distance(totals: Mapping[Fraction, int]) -> Callable[[Fraction, Fraction], Fraction]:
    """Krippendorff's (2011) ordinal δ²: (Σ n_g for ranks g from c to k - (n_c + n_k) / 2)²."""
    cumulative: dict[Fraction, int] = {}
    running = 0
    for rank in sorted(totals):
        running += totals[rank]
        cumulative[rank] = running

    def distance(c: Fraction, k: Fraction) -> Fraction:
        low, high = min(c, k), max(c, k)
        between = cumulative[high] - cumulative[low] + totals[low]
        return (between - Fraction(totals[c] + totals[k], 2)) ** 2

    return distance


def pairwise_agreement(ratings: Sequence[ReviewerRating]) -> list[PairAgreement]:
    """Agreement of every two reviewers who rated at least one claim in common, sorted by name.

    `kappa` is Cohen's kappa over their common claims; None when it is undefined, i.e. chance
    agreement is certain (both gave one and the same rating to every common claim).
    """
    by_coder: dict[str, dict[int, str]] = defaultdict(dict)
    for unit, by_unit_coder in current_ratings(ratings).items():
        for coder, value in by_unit_coder.items():
            by_coder[coder][unit] = value

    pairs = []
    for first, second in combinations(sorted(by_coder), 2):
        common = by_coder[first].keys() & by_coder[second].keys()
        if not common:
            continue
        labels = [(by_coder[first][u], by_coder[second][u]) for u in common]
        agreed = sum(a == b for a, b in labels)
        pairs.append(
            PairAgreement(
                coders=(first, second),
                units=len(common),
                agreed=agreed,
                share=agreed / len(common),
                kappa=cohen_kappa(labels),
            )
        )
    return pairs


def cohen_kappa(labels: list[tuple[str, str]]) -> float | None:
    """Cohen's kappa of two raters' labels on the same items; None when chance agreement is 1."""
    n = len(labels)
    observed = Fraction(sum(a == b for a, b in labels), n)
    first = Counter(a for a, _ in labels)
    second = Counter(b for _, b in labels)
    chance = sum(Fraction(first[v] * second[v], n * n) for v in first)
    if chance == 1:
        return None
    return float((observed - chance) / (1 - chance))


def unit_agreement(values: Sequence[str]) -> str:
    """How one claim's current ratings stand: "none", "single", "unanimous" or "split"."""
    if not values:
        return "none"
    if len(values) == 1:
        return "single"
    return "unanimous" if len(set(values)) == 1 else "split"
