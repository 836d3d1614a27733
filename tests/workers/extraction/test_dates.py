"""Tests for workers.extraction.dates.find_dates (invented sentences + real articles)."""

from __future__ import annotations

import pytest

from tests.shared_data import FIRST_ARTICLE, SECOND_ARTICLE, shared_article
from workers.extraction.dates import find_dates


@pytest.mark.parametrize(
    ("sentence", "text", "value", "kind"),
    [
        ("Filed 2026-01-19 by the clerk.", "2026-01-19", "2026-01-19", "absolute"),
        ("Stamped 2026-01-19T08:30Z here.", "2026-01-19T08:30Z", "2026-01-19", "absolute"),
        ("It opened on January 19, 2026.", "January 19, 2026", "2026-01-19", "absolute"),
        ("It opened on 19 January 2026.", "19 January 2026", "2026-01-19", "absolute"),
        ("It opened Jan. 19 with fanfare.", "Jan. 19", "--01-19", "absolute"),
        ("The fair returns in June 2027.", "June 2027", "2027-06", "absolute"),
        ("Rents rose in 2025.", "in 2025", "2025", "absolute"),
        ("Music of the 1990s is back.", "the 1990s", "199X", "absolute"),
        ("Prices fell last year.", "last year", None, "relative"),
        ("The mayor spoke on Sunday.", "on Sunday", None, "relative"),
        ("Work starts next month.", "next month", None, "relative"),
        ("The plant shut two weeks ago.", "two weeks ago", None, "relative"),
        ("It snowed yesterday.", "yesterday", None, "relative"),
        ("By mid-2020 it was over.", "mid-2020", "2020", "absolute"),
        ("Prices peaked in late-2019.", "late-2019", "2019", "absolute"),
        (
            "Since September 11, 2001, travel changed.",
            "September 11, 2001",
            "2001-09-11",
            "absolute",
        ),
        ("The law applies until June 30 only.", "June 30", "--06-30", "absolute"),
        ("Prices rose since March.", "since March", "--03", "absolute"),
    ],
)
def test_date_forms(sentence, text, value, kind):
    found = find_dates(sentence)
    assert len(found) == 1, found
    item = found[0]
    assert (item["text"], item["value"], item["kind"]) == (text, value, kind)
    assert sentence[item["start"] : item["end"]] == item["text"]


@pytest.mark.parametrize(
    "sentence",
    [
        "Over 2000 people came.",
        "The budget is $2020 per head.",
        "It may rain, and we march on.",
        "No dates in this sentence.",
    ],
)
def test_amounts_and_verbs_are_not_dates(sentence):
    assert find_dates(sentence) == []


def test_dateline_and_years_in_real_articles():
    first = shared_article(FIRST_ARTICLE)
    found = find_dates(first)
    assert found[0]["value"] == "2026-01-19"
    assert found[0]["start"] < 10
    assert any(d["text"] == "on Sunday" and d["kind"] == "relative" for d in found)
    second = shared_article(SECOND_ARTICLE)
    found = find_dates(second)
    for item in found:
        assert second[item["start"] : item["end"]] == item["text"]
    years = {d["value"] for d in found if d["kind"] == "absolute"}
    assert {"2001", "2003", "2020", "2021", "2025", "200X"} <= years


# Sentences where a date starts after a common word, inside a range, after an apostrophe,
# in capitals, or where lowercasing would shift offsets (the slow path).
TRICKY_DATE_SENTENCES = [
    "The 1990s and the '80s were different from rock'90s.",
    "A few days ago, an hour later, several weeks earlier and afew years later.",
    "Three days later, in 2020 and on Monday morning, 5 to 7 March 2021 came.",
    "LAST YEAR, Next Week, Earlier This Month and mid-March or early April.",
    "From 2019-03-04T10:00:00Z until Sept. 5, 2019 and Jan 2020, or 12th of May.",
    "Stock markets may march; in May 2020 we met on 4 July.",
    "\u0130stanbul said yesterday that \u017fince 2001 the city grew.",
    "Price: $2020, over 1999 people, 2001%, 1,2021 and 2030-01-01.",
    "By mid-2020, Early-2019 and late-1999 (since June 3 and until May) in mid-March.",
]


@pytest.mark.parametrize("sentence", TRICKY_DATE_SENTENCES)
def test_candidate_scan_finds_what_the_full_scan_finds(sentence):
    from workers.extraction import dates

    expected = (
        [m.span() for m in dates._DATE_RE.finditer(sentence)]
        if dates._DIGIT_OR_WORD_RE.search(sentence)
        else []
    )
    assert [m.span() for m in dates._date_matches(sentence)] == expected
    for item in find_dates(sentence):
        assert sentence[item["start"] : item["end"]] == item["text"]


def test_three_days_later_alone_is_not_looked_at():
    # No digit, month, weekday or relative word: the quick check says no dates.
    assert find_dates("Three days later, it ended.") == []
    assert [d["text"] for d in find_dates("Three days ago, it ended.")] == ["Three days ago"]


def test_date_spans_match_find_dates():
    from workers.extraction.dates import date_spans

    sentence = "On Monday, 5 March 2021, two weeks ago."
    assert date_spans(sentence) == [(d["start"], d["end"]) for d in find_dates(sentence)]
    first = find_dates(sentence)
    first[0]["start"] += 100  # callers shift offsets in place; a cached result must not move
    assert find_dates(sentence)[0]["start"] == 0
