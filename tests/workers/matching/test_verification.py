"""Tests for workers.matching.verification: each guard refuses with its reason, omissions pass."""

from __future__ import annotations

import pytest

from workers.matching.verification import verify


@pytest.mark.parametrize(
    ("claim", "factcheck", "guard", "reason"),
    [
        (
            "The new stadium cost 4 billion pounds.",
            "The new stadium cost 4 million pounds.",
            "number",
            "number: the claim says '4 billion pounds', the fact-check '4 million pounds'",
        ),
        (
            "Rents in Bristol rose by 7 percentage points in 2021.",
            "Rents in Bristol rose by 7% in 2021.",
            "unit",
            "unit: the claim says '7 percentage points', the fact-check '7%'",
        ),
        (
            "The ferry cost $30 million.",
            "The ferry cost €30 million.",
            "unit",
            "unit: the claim says '$30 million', the fact-check '€30 million'",
        ),
        (
            "The dam burst in June 2012 after heavy rain.",
            "The dam burst in June 2015 after heavy rain.",
            "date",
            "date: the claim says 'June 2012', the fact-check 'June 2015'",
        ),
        (
            "Angela Merkel opened the new airport.",
            "Emmanuel Macron opened the new airport.",
            "entity",
            "entity: the claim names 'Angela Merkel', the fact-check 'Emmanuel Macron'",
        ),
        (
            "Exports to Japan rose last year.",
            "Exports to Japan did not rise last year.",
            "negation",
            "negation: the fact-check negates ('not'), the claim does not",
        ),
        (
            "The minister never visited the flooded towns.",
            "The minister visited the flooded towns.",
            "negation",
            "negation: the claim negates ('never'), the fact-check does not",
        ),
    ],
)
def test_a_guard_refuses_a_changed_detail_with_its_reason(claim, factcheck, guard, reason):
    found = verify(claim, factcheck)
    assert found.refused
    assert [d.guard for d in found.disagreements] == [guard]
    assert found.reason == reason


def test_agreeing_details_are_listed_and_nothing_is_refused():
    found = verify(
        "Angela Merkel said 3,000 jobs went in Hamburg in 2019.",
        "In 2019, 3000 jobs were lost in Hamburg, Angela Merkel said.",
    )
    assert not found.refused
    assert found.reason is None
    assert "number '3,000 jobs'" in found.agreements
    assert "date 'in 2019'" in found.agreements
    assert "place 'Hamburg'" in found.agreements


def test_a_detail_left_out_is_not_a_disagreement():
    # The fact-check gives no number, no date and no name: nothing contradicts the claim.
    found = verify(
        "Ed Miliband said 40% of trains were late in May 2019.", "Most trains were late."
    )
    assert found.disagreements == []


def test_an_approximate_number_is_given_room():
    assert not verify("About 1,050 people marched.", "1,000 people marched.").refused
    assert verify("1,050 people marched.", "1,000 people marched.").refused


def test_a_date_elsewhere_in_a_post_and_a_negation_in_a_loosely_related_text_do_not_refuse():
    # A tweet's own date stamp is not the date of the claim it repeats.
    assert not verify(
        "Obama freed terrorists from Guantanamo — Jo Bloggs (@jb) March 3, 2016",
        "122 detainees released from Guantanamo in 2009 re-engaged in terrorism.",
    ).refused
    # "not" in a sentence that shares little with the fact-check says nothing about it.
    assert not verify(
        "I am not surprised that detainees went back to the fight.",
        "122 detainees released from Guantanamo re-engaged in terrorist activities.",
    ).refused


def test_numbers_of_different_kinds_or_beside_an_agreeing_one_do_not_refuse():
    # Years of policy against dollars of income: not the same quantity.
    assert not verify(
        "Over the last four years incomes fell.", "Families lost over $4,000 a year in income."
    ).refused
    # The claim gives the fact-check's number and one more: more detail, not a contradiction.
    found = verify(
        "We lose $500 billion a year with China and $75 billion a year with Japan.",
        "We lose $500 billion a year in trade with China.",
    )
    assert not found.refused
    assert "number '$500 billion'" in found.agreements
