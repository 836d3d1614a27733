"""Tests for workers.extraction.claimtypes.classify_types."""

from __future__ import annotations

import pytest

from workers.extraction.claimtypes import CLAIM_TYPES, classify_types


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        ("The library lent 12,000 books.", ["quantity"]),
        ("The canal is expected to reopen soon.", ["prediction"]),
        ("Tourism will double by 2030.", ["prediction"]),
        ("The outage was caused by a storm.", ["correlation/causation"]),
        ("Crime fell due to new street lamps.", ["correlation/causation"]),
        ("The new law makes fishing here illegal.", ["rules/laws"]),
        ("I saw the ferry sink.", ["personal experience"]),
        ("My family lived by the harbour.", ["personal experience"]),
        ("Residents voted in the referendum.", ["voting"]),
        ("The union backs the pay deal.", ["support"]),
        ("The council opposes the plan.", ["support"]),
        ("This is the worst stadium in the league.", ["opinion"]),
        ("Ministers should resign.", ["opinion"]),
        ("The ferry left the harbour at dawn.", ["other"]),
    ],
)
def test_single_type(sentence, expected):
    assert classify_types(sentence) == expected


def test_several_types_come_in_taxonomy_order():
    types = classify_types("I think the ban will cut traffic by 30% because fewer cars enter.")
    assert types == ["quantity", "prediction", "correlation/causation", "rules/laws", "opinion"]
    assert types == sorted(types, key=CLAIM_TYPES.index)


def test_precomputed_quantities_are_used():
    assert classify_types("The ferry left at dawn.", quantities=[{"value": 1.0}]) == ["quantity"]
    assert classify_types("It carried 40 cars.", quantities=[]) == ["other"]


@pytest.mark.parametrize(
    "sentence",
    [
        "The right to vote is basic.",  # "right to" (rules/laws) and "right" (opinion)
        "They won a mandate from voters.",  # "mandate from" (voting) and "mandate" (rules/laws)
        "I saw it; We lived there and my own children felt it.",
        "It WILL double By 2030 because of the BAN.",
        "They \u017fhould vote.",  # long s: IGNORECASE reads it as "s"
        "\u0130t is illegal.",  # lowercasing changes the length
        "Nothing here at all.",
    ],
)
def test_one_pass_finds_what_each_cue_pattern_finds(sentence):
    from workers.extraction import claimtypes

    expected = [name for name, pattern in claimtypes._CUES if pattern.search(sentence)]
    assert classify_types(sentence, quantities=[]) == (expected or ["other"])
