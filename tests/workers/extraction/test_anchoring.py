"""Re-anchoring quoted spans in revised text."""

from __future__ import annotations

from workers.extraction.anchoring import anchor


def test_span_that_moved_is_found_at_its_new_offset():
    old = "Intro. Prices rose 4%. Outro."
    new = "A new first paragraph.\n\nIntro. Prices rose 4%. Outro."
    start = old.index("Prices")
    found = anchor(new, "Prices rose 4%.", old[:start][-8:], old[start + 15 :][:8], start)
    assert found is not None
    assert new[found : found + 15] == "Prices rose 4%."


def test_span_that_was_edited_away_is_gone():
    assert anchor("Prices rose 5%.", "Prices rose 4%.") is None
    assert anchor("anything", "") is None


def test_repeated_text_is_resolved_by_its_context():
    body = "Tax: It rose. Jobs: It rose. Rent: It rose."
    assert anchor(body, "It rose.", prefix="Jobs: ", suffix=" Rent") == body.index("Jobs: ") + 6
    assert anchor(body, "It rose.", prefix="Rent: ") == body.rindex("It rose.")


def test_without_context_the_nearest_occurrence_wins():
    body = "It rose. " * 5
    assert anchor(body, "It rose.", near=20) == 18
