"""Tests for workers.matching.matcher: paraphrases found, guards refusing, thresholds."""

from __future__ import annotations

import pytest

from workers.matching.hard_cases import HARD_CASES, HARD_CORPUS
from workers.matching.matcher import ConfidenceModel, FactCheckIndex, MatchSettings
from workers.matching.records import FactCheck


@pytest.fixture(scope="module")
def index() -> FactCheckIndex:
    return FactCheckIndex(HARD_CORPUS, settings=MatchSettings())


def test_the_paraphrase_from_the_issue_is_found_first_and_suggested(index: FactCheckIndex):
    (matches,) = index.match(
        [
            "More than a million civilians in Iraq died at the hands of American and British "
            "forces during the 2000s."
        ]
    )
    best = matches[0]
    assert best.factcheck.url == "https://factcheck.example.org/reviews/iraq-deaths"
    assert best.decision in ("match", "suggest")
    assert best.confidence >= MatchSettings().suggest_threshold
    # Everything else is unrelated: far less sure.
    assert all(m.confidence < 0.5 * best.confidence for m in matches[1:])
    assert best.reason.startswith("meaning ")


@pytest.mark.parametrize("case", [c for c in HARD_CASES if c.guard], ids=lambda c: c.name)
def test_a_near_miss_is_found_but_refused_with_the_guards_reason(index: FactCheckIndex, case):
    (matches,) = index.match([case.query], top=3)
    best = matches[0]
    assert best.factcheck.key == case.expected
    assert best.decision == "refused"
    assert best.reason.startswith(f"{case.guard}: ")
    assert best.disagrees == (best.reason,)


def test_at_most_top_matches_best_first_with_weak_ones_included(index: FactCheckIndex):
    (matches,) = index.match(["Wind farms in Texas"], top=5)
    assert len(matches) == 5
    confidences = [m.confidence for m in matches]
    assert confidences == sorted(confidences, reverse=True)
    assert all(0.0 <= c <= 1.0 for c in confidences)
    assert any(m.decision == "none" for m in matches)
    with pytest.raises(ValueError, match="top"):
        index.match(["x"], top=0)


def test_thresholds_decide_suggest_and_match():
    everything = FactCheckIndex(
        HARD_CORPUS, settings=MatchSettings(suggest_threshold=0.0, match_threshold=0.0)
    )
    (matches,) = everything.match(["Free school meals were cut for children in Wales."], top=9)
    assert {m.decision for m in matches} == {"match"}
    nothing = FactCheckIndex(
        HARD_CORPUS, settings=MatchSettings(suggest_threshold=1.0, match_threshold=1.0)
    )
    (matches,) = nothing.match(["Free school meals were cut for children in Wales."], top=9)
    assert {m.decision for m in matches} == {"none"}


def test_settings_come_from_the_environment_and_bad_ones_fail_clearly():
    settings = MatchSettings.from_env(
        {"FACTCHECK_MATCH_SUGGEST_THRESHOLD": "0.6", "FACTCHECK_MATCH_THRESHOLD": "0.97"}
    )
    assert (settings.suggest_threshold, settings.match_threshold, settings.candidates) == (
        0.6,
        0.97,
        100,
    )
    with pytest.raises(ValueError, match="suggest <= match"):
        MatchSettings.from_env({"FACTCHECK_MATCH_SUGGEST_THRESHOLD": "0.99"})
    with pytest.raises(ValueError, match="FACTCHECK_MATCH_CANDIDATES must be a number"):
        MatchSettings.from_env({"FACTCHECK_MATCH_CANDIDATES": "many"})


def test_the_shipped_confidence_rises_with_meaning_and_words():
    model = ConfidenceModel.load()
    # cosine to the claim, to the headline, their maximum, its margin to the best, BM25
    low, middle, high = model.confidence(
        [[0.3, 0.3, 0.3, -0.4, 0.1], [0.7, 0.6, 0.7, -0.05, 0.5], [0.95, 0.9, 0.95, 0.0, 1.0]]
    )
    assert low < 0.05 < middle < high
    assert high > 0.9
    assert "train" in model.fitted_on


def test_an_empty_collection_is_refused():
    with pytest.raises(ValueError, match="no fact-checks"):
        FactCheckIndex([])


def test_a_record_without_a_headline_is_matched_on_its_claim():
    records = [
        FactCheck(key="id:1", claim="The moon landing in 1969 was filmed in a studio."),
        FactCheck(key="id:2", claim="Drinking hot water cures the flu."),
    ]
    (matches,) = FactCheckIndex(records).match(["Hot water will cure your flu"], top=2)
    assert [m.factcheck.key for m in matches] == ["id:2", "id:1"]
    assert matches[0].to_dict()["url"] is None
