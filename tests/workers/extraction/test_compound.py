"""Tests for workers.extraction.compound.split_compound."""

from __future__ import annotations

import pytest

from workers.extraction.compound import split_compound


def parts(text: str) -> list[str]:
    return [text[start:end] for start, end in split_compound(text)]


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Bus fares rose by 5% last year, but rail fares fell by 2% in the same period.",
            ["Bus fares rose by 5% last year", "rail fares fell by 2% in the same period."],
        ),
        (
            "The mayor says the tunnel is safe; engineers say it has cracked badly.",
            ["The mayor says the tunnel is safe", "engineers say it has cracked badly."],
        ),
        (
            "Exports grew strongly in May, while imports stayed flat over the quarter.",
            ["Exports grew strongly in May", "imports stayed flat over the quarter."],
        ),
        (
            "The school has 400 pupils, and the village has two shops.",
            ["The school has 400 pupils", "the village has two shops."],
        ),
    ],
)
def test_independent_clauses_are_split(sentence, expected):
    assert parts(sentence) == expected


@pytest.mark.parametrize(
    "sentence",
    [
        "Apples, pears, and plums are sold here.",
        "The mayor said the tunnel was safe.",
        "He called it “cheap, but very slow to build” on Monday.",
        "The plan (costly, but popular with voters) passed the council.",
        "Rain fell, but briefly.",
    ],
)
def test_not_compound(sentence):
    assert split_compound(sentence) == []
