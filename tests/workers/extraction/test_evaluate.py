"""Tests for workers.extraction.evaluate's span matching (invented data, and newsclaims-dev)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.shared_data import shared_path
from workers.extraction.engine import extract
from workers.extraction.evaluate import (
    data_dir,
    load_newsclaims_articles,
    load_newsclaims_claims,
    span_match,
)

FIRST = "Officials said rents rose 20% in two years."
SECOND = "Prices fell."


def candidate(kind: str, start: int, end: int, speaker: str | None = None) -> dict[str, Any]:
    return {"kind": kind, "start": start, "end": end, "speaker": speaker}


def test_a_reported_span_that_fits_the_labelled_span_better_counts_as_an_improvement():
    articles = {"a": [("a-1", FIRST), ("a-2", SECOND)]}
    said = FIRST.index("rents")
    # The labelled span "rents rose 20% in two years", its last character included.
    claims = {"a": {"a-1": {"claim_span": [said, len(FIRST) - 2], "claimer": "officials"}}}

    def extract_with(*extra: dict[str, Any]):
        def run(body: str) -> list[dict[str, Any]]:
            assert body == f"{FIRST} {SECOND}"  # the article as its sentences, joined
            second = len(FIRST) + 1
            return [
                candidate("sentence", 0, len(FIRST)),
                *extra,
                candidate("sentence", second, second + len(SECOND)),
            ]

        return run

    plain = span_match(extract_with(), articles, claims)
    assert (plain.n, plain.improved, plain.reported) == (1, 0, 0)
    assert (
        plain.mean_with == plain.mean_without == pytest.approx((len(FIRST) - 1 - said) / len(FIRST))
    )

    exact = candidate("reported", said, len(FIRST) - 1, "Officials")
    better = span_match(extract_with(exact), articles, claims)
    assert (better.improved, better.improved_speaker_correct, better.reported) == (1, 1, 1)
    assert better.mean_with == pytest.approx(1.0)
    assert better.mean_without == plain.mean_without

    wrong = candidate("reported", said, len(FIRST) - 1, "Critics")
    assert span_match(extract_with(wrong), articles, claims).improved_speaker_correct == 0
    elsewhere = candidate("reported", len(FIRST) + 1, len(FIRST) + 6, "Officials")
    assert span_match(extract_with(elsewhere), articles, claims).improved == 0


def test_reported_spans_cover_newsclaims_dev_claims_better():
    shared_path("newsclaims-dev/claims.json")
    directory = data_dir()
    match = span_match(
        lambda body: extract(body, "en"),
        load_newsclaims_articles(directory),
        load_newsclaims_claims(directory),
    )
    assert match.n > 50
    assert match.reported > 50
    assert match.mean_with >= match.mean_without + 0.04
    assert match.improved >= 15
    assert match.improved_speaker_correct >= 0.7 * match.improved
