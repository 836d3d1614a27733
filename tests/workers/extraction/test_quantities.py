"""Tests for workers.extraction.quantities.find_quantities (invented sentences + real article)."""

from __future__ import annotations

import pytest

from tests.shared_data import shared_article
from workers.extraction.quantities import find_quantities


def only(text: str) -> dict:
    found = find_quantities(text)
    assert len(found) == 1, found
    return found[0]


def assert_anchored(text: str, items: list[dict]) -> None:
    for item in items:
        assert text[item["start"] : item["end"]] == item["text"]


@pytest.mark.parametrize(
    ("sentence", "text", "value", "unit", "approximate"),
    [
        (
            "The port employs over 40,000 dockers.",
            "over 40,000 dockers",
            40000.0,
            "dockers",
            "over",
        ),
        ("Sales fell by 80% in March.", "80%", 80.0, "%", None),
        ("The deal is worth $3bn to the firm.", "$3bn", 3e9, "USD", None),
        ("Inflation hit 3.5 per cent.", "3.5 per cent", 3.5, "%", None),
        ("The bridge cost £1.2 million.", "£1.2 million", 1.2e6, "GBP", None),
        ("Fines reached €40 billion.", "€40 billion", 4e10, "EUR", None),
        (
            "Nearly one million voters stayed home.",
            "Nearly one million voters",
            1e6,
            "voters",
            "nearly",
        ),
        ("Two-thirds of nurses agreed.", "Two-thirds", 2 / 3, None, None),
        ("She bought a dozen eggs.", "a dozen eggs", 12.0, "eggs", None),
        ("The trail is 40 km long.", "40 km", 40.0, "km", None),
        ("The strike lasted 9 weeks.", "9 weeks", 9.0, "weeks", None),
        (
            "It houses more than 300 prisoners.",
            "more than 300 prisoners",
            300.0,
            "prisoners",
            "more than",
        ),
        ("It holds up to 500 seats.", "up to 500 seats", 500.0, "seats", "up to"),
        ("Some 19 coastal towns flooded.", "Some 19 coastal towns", 19.0, "towns", "some"),
        ("The temperature hit 45°C.", "45°C", 45.0, "°C", None),
        ("It was 45 °F by noon.", "45 °F", 45.0, "°F", None),
        ("Highs of 104F are forecast.", "104F", 104.0, "°F", None),
        ("The farm makes 2GW of power.", "2GW", 2.0, "GW", None),
        ("Homes use 300kWh a month.", "300kWh", 300.0, "kWh", None),
    ],
)
def test_quantity_value_unit_and_qualifier(sentence, text, value, unit, approximate):
    item = only(sentence)
    assert item["text"] == text
    assert item["value"] == pytest.approx(value)
    assert item["unit"] == unit
    assert item["approximate"] == approximate
    assert_anchored(sentence, [item])


def test_range_gives_lower_bound_and_between():
    item = only("Between 5 and 10 rangers patrol the park.")
    assert item["text"] == "Between 5 and 10 rangers"
    assert item["value"] == 5.0
    assert item["unit"] == "rangers"
    assert item["approximate"] == "between"


def test_vague_plural_has_no_value():
    item = only("Thousands of fans queued overnight.")
    assert item["value"] is None
    assert item["unit"] == "fans"


@pytest.mark.parametrize(
    "sentence",
    [
        "The mill closed in 2026.",
        "The vote is on January 19, 2026.",
        "It reopened on 3 March.",
        "The 19th century was long.",
        "COVID-19 spread quickly.",
        "One of the judges left.",
        "The meeting starts at 6 pm.",
        "No numbers here at all.",
        "Flat 4F and Room 101C were empty.",
    ],
)
def test_years_dates_ordinals_and_determiners_are_not_quantities(sentence):
    assert find_quantities(sentence) == []


def test_several_quantities_in_order_and_anchored():
    text = "About 12% of 4,500 workers earned $30,000 or less, up from 9% in 2019."
    found = find_quantities(text)
    assert [q["value"] for q in found] == [12.0, 4500.0, 30000.0, 9.0]
    assert found[0]["approximate"] == "about"
    assert_anchored(text, found)


def test_real_article_counts_soldiers_and_victims():
    text = shared_article("001_1c9f022aa12bfb98.txt")
    found = find_quantities(text)
    assert_anchored(text, found)
    by_value = {q["value"]: q for q in found}
    soldiers = by_value[40000.0]
    assert soldiers["unit"] == "soldiers"
    assert soldiers["approximate"] == "over"
    assert by_value[80000.0]["approximate"] == "over"
    assert by_value[1e6]["unit"] == "civilians"
    assert 19.0 in by_value
    # Years such as 2020, 2003 and 2021 are dates, not quantities.
    assert not {2001.0, 2003.0, 2020.0, 2021.0, 2025.0} & set(by_value)


TRICKY_QUANTITY_SENTENCES = [
    "It was done in four years, one in three voters and seven-in-ten homes agreed.",
    "More than 5,000 people, about .5 km, US$3bn, \u00a340m, USD 12 and 40 EUR were seen.",
    "A million, an estimated 300 troops, a dozen eggs, a half, two-thirds and tens of thousands.",
    "Between 5 and 10%, up to 20 per cent, 3.5 percentage points and 19th-century COVID-19.",
    "Dozens of firms, hundreds of jobs, thousands of homes; at 10 a.m. it fell to 4:30.",
    "The \u0130stanbul office sold \u017fix hundred cars and 1,200 vans in 2019.",
    "Thirteen soldiers and zero trillion dollars: none in ten.",
    "Heat: 45°C, 45 \u00b0F, 104F, 2GW and 300kWh, but Flat 4F.",
]


@pytest.mark.parametrize("sentence", TRICKY_QUANTITY_SENTENCES)
def test_candidate_scan_finds_what_the_full_scan_finds(sentence):
    from workers.extraction import quantities

    expected = (
        [m.span() for m in quantities._QUANTITY_RE.finditer(sentence)]
        if quantities._QUICK_RE.search(sentence)
        else []
    )
    assert [m.span() for m in quantities._quantity_matches(sentence)] == expected
    for item in find_quantities(sentence):
        assert sentence[item["start"] : item["end"]] == item["text"]


def test_numbers_inside_dates_are_skipped_however_many_dates_a_text_has():
    text = "On 3 May 2024, 5 people came and in June 2025 12 more; " * 400
    assert [q["text"] for q in find_quantities(text)] == ["5 people", "12"] * 400
