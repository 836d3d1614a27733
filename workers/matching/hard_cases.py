"""Hand-written hard cases for claim matching: paraphrases to find, and near misses to refuse.

Every sentence here was written for this project. Each case is a query, the fact-check it
must rank first, and either no guard (a paraphrase or near copy to match) or the guard that
must refuse it (the same sentence with one detail changed).
"""

from __future__ import annotations

from dataclasses import dataclass

from workers.matching.records import FactCheck

__all__ = ["HARD_CASES", "HARD_CORPUS", "HardCase"]


def _record(slug: str, claim: str, rating: str) -> FactCheck:
    url = f"https://factcheck.example.org/reviews/{slug}"
    return FactCheck(key=url, url=url, claim=claim, rating=rating, publisher="Example Checks")


HARD_CORPUS = [
    _record(
        "iraq-deaths",
        "American and British troops killed over one million Iraqi civilians in the 2000s.",
        "false",
    ),
    _record(
        "bridge-cost",
        "The new harbour bridge cost 4 million dollars to build.",
        "mostly-true",
    ),
    _record(
        "inflation-points",
        "Inflation in the eurozone rose by 3 percent in 2022.",
        "true",
    ),
    _record(
        "flood-year",
        "The river Severn flooded the whole of Worcester in March 2007.",
        "false",
    ),
    _record(
        "wind-farm",
        "Barack Obama opened the largest wind farm in Texas.",
        "false",
    ),
    _record(
        "wages-rise",
        "Average wages in Scotland did not rise last year.",
        "mostly-false",
    ),
    _record(
        "vaccine-chips",
        "Covid vaccines contain microchips that track the people who receive them.",
        "false",
    ),
    _record(
        "school-meals",
        "Free school meals were cut for 200,000 children in Wales.",
        "mixed",
    ),
    _record(
        "marathon-record",
        "A farmer ran the marathon in under two hours wearing rubber boots.",
        "false",
    ),
]


@dataclass(frozen=True)
class HardCase:
    """A query, the fact-check it should find first, and the guard that must refuse it (or None)."""

    name: str
    query: str
    expected: str
    guard: str | None


def _url(slug: str) -> str:
    return f"https://factcheck.example.org/reviews/{slug}"


HARD_CASES = [
    HardCase(
        "paraphrase",
        "More than a million civilians in Iraq died at the hands of American and British forces "
        "during the 2000s.",
        _url("iraq-deaths"),
        None,
    ),
    HardCase(
        "paraphrase",
        "Vaccines against Covid secretly put tracking chips into whoever gets the jab.",
        _url("vaccine-chips"),
        None,
    ),
    HardCase(
        "near copy",
        "Free school meals were cut for 200,000 children across Wales.",
        _url("school-meals"),
        None,
    ),
    HardCase(
        "number",
        "The new harbour bridge cost 4 billion dollars to build.",
        _url("bridge-cost"),
        "number",
    ),
    HardCase(
        "unit",
        "Inflation in the eurozone rose by 3 percentage points in 2022.",
        _url("inflation-points"),
        "unit",
    ),
    HardCase(
        "date",
        "The river Severn flooded the whole of Worcester in March 2017.",
        _url("flood-year"),
        "date",
    ),
    HardCase(
        "entity",
        "Donald Trump opened the largest wind farm in Texas.",
        _url("wind-farm"),
        "entity",
    ),
    HardCase(
        "negation",
        "Average wages in Scotland rose last year.",
        _url("wages-rise"),
        "negation",
    ),
]
