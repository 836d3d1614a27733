"""The engine's entry point: every segment becomes an anchored candidate claim."""

from __future__ import annotations

from tests.factories import shared_articles
from workers.extraction.engine import CONTEXT_CHARS, extract


def test_claims_anchor_with_quote_selector_context():
    body = "Intro line\n\nPrices rose 4% in May. “It is temporary,” she said. Rates held."
    claims = extract(body)
    assert [c["text"] for c in claims][-3:] == [
        "Prices rose 4% in May.",
        "“It is temporary,” she said.",
        "Rates held.",
    ]
    for claim in claims:
        assert body[claim["start"] : claim["end"]] == claim["text"]
        assert claim["prefix"] == body[max(0, claim["start"] - CONTEXT_CHARS) : claim["start"]]
        assert claim["suffix"] == body[claim["end"] : claim["end"] + CONTEXT_CHARS]


def test_fields_not_computed_yet_are_empty_not_guessed():
    (claim,) = extract("Turnout was 61%.")
    assert claim["checkworthiness"] is None
    assert claim["checkworthy"] is None
    assert claim["speaker"] is None
    assert claim["types"] == claim["quantities"] == claim["dates"] == claim["entities"] == []


def test_seed_articles_keep_boilerplate_as_non_sentence_kinds():
    for path in shared_articles():
        body = path.read_text(encoding="utf-8")
        kinds = [c["kind"] for c in extract(body)]
        assert kinds.count("sentence") > 5
        if path.name.startswith("000_"):
            assert kinds[:3] == ["metadata", "headline", "byline"]
