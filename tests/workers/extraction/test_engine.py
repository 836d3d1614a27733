"""The engine's entry point: anchored, scored, typed and attributed candidate claims."""

from __future__ import annotations

import pytest

from tests.factories import shared_articles
from workers.extraction.engine import (
    CONTEXT_CHARS,
    Engine,
    TooManyCandidates,
    default_engine,
    extract,
)

FIELDS = {
    "text", "start", "end", "kind", "checkworthiness", "checkworthy", "scored", "types",
    "speaker", "quantities", "dates", "entities", "language", "prefix", "suffix",
}  # fmt: skip


def assert_anchored(body: str, claims: list[dict]) -> None:
    for claim in claims:
        assert set(claim) == FIELDS
        assert body[claim["start"] : claim["end"]] == claim["text"]
        assert claim["prefix"] == body[max(0, claim["start"] - CONTEXT_CHARS) : claim["start"]]
        assert claim["suffix"] == body[claim["end"] : claim["end"] + CONTEXT_CHARS]
        for item in claim["quantities"] + claim["dates"] + claim["entities"]:
            assert body[item["start"] : item["end"]] == item["text"]
            assert claim["start"] <= item["start"] < item["end"] <= claim["end"]


@pytest.mark.parametrize("path", shared_articles(), ids=lambda p: p.name)
def test_seed_articles_yield_anchored_scored_claims(path):
    body = path.read_text(encoding="utf-8")
    claims = extract(body)
    assert_anchored(body, claims)
    sentences = [c for c in claims if c["kind"] == "sentence"]
    assert len(sentences) > 5
    assert all(c["language"] == "en" and c["scored"] for c in claims)
    assert any(c["checkworthy"] for c in sentences)
    assert any(c["speaker"] for c in sentences)
    assert any(c["quantities"] for c in claims) or path.name.startswith("000_")


def test_first_seed_article_keeps_boilerplate_as_non_claims():
    path = next(p for p in shared_articles() if p.name.startswith("000_"))
    claims = extract(path.read_text(encoding="utf-8"))
    kinds = [c["kind"] for c in claims[:3]]
    assert kinds == ["metadata", "headline", "byline"]
    for claim in claims:
        if claim["kind"] in ("metadata", "byline"):
            assert (claim["checkworthiness"], claim["checkworthy"]) == (0.0, False)
            assert claim["types"] == []


def test_compound_sentence_offers_each_clause_and_keeps_the_sentence():
    body = "Exports rose 12% to $4bn last year, but imports fell 3% over the same period."
    claims = extract(body)
    assert_anchored(body, claims)
    assert claims[0]["kind"] == "sentence"
    assert claims[0]["text"] == body
    clauses = [c for c in claims if c["kind"] == "clause"]
    assert len(clauses) == 2
    assert clauses[0]["text"].startswith("Exports rose 12%")
    assert clauses[1]["text"].startswith("imports fell 3%")


def test_other_languages_are_segmented_but_never_scored():
    body = "Die Regierung erhöhte die Steuern um 5 Prozent. Die Opposition ist dagegen."
    claims = extract(body)
    assert_anchored(body, claims)
    assert len(claims) == 2
    for claim in claims:
        assert claim["language"] == "de"
        assert claim["scored"] is False
        assert claim["checkworthiness"] is None
        assert claim["checkworthy"] is None


def test_declared_language_skips_detection():
    claims = extract("Prices rose 4% in May.", language="en")
    assert claims[0]["language"] == "en"
    assert claims[0]["scored"] is True


def test_a_declared_tag_is_read_as_its_language():
    # What an article may declare (BCP 47) and what the CLI passes through as typed.
    for tag, scored in (("en-GB", True), ("EN", True), ("fr-CA", False)):
        (claim,) = extract("Prices rose 4% in May.", language=tag)
        assert claim["language"] == tag.split("-")[0].lower()
        assert claim["scored"] is scored


def test_single_sentences_are_detected_one_by_one():
    engine = default_engine()
    claims = engine.score_sentences(
        [
            "El paro bajó al 9 % en marzo, según el ministerio.",
            "I do not know, I do not care.",
            "Thanks!",
        ]
    )
    assert [c["language"] for c in claims] == ["es", "en", "en"]
    assert [c["scored"] for c in claims] == [False, True, True]
    assert claims[0]["checkworthiness"] is None


def test_threshold_decides_checkworthy():
    body = "Unemployment fell to 4.1% in May. Thank you very much."
    strict, lenient = Engine(threshold=0.999), Engine(threshold=0.0)
    assert not any(c["checkworthy"] for c in strict.extract(body))
    assert all(c["checkworthy"] for c in lenient.extract(body))


def test_quoted_claim_is_attributed_to_its_speaker():
    body = "“Rents rose 20% in two years,” said Mayor Ana Ruiz. She added that wages had not."
    claims = [c for c in extract(body) if c["kind"] == "sentence"]
    assert claims[0]["speaker"] == "Ana Ruiz"
    assert claims[1]["speaker"] == "Ana Ruiz"


def test_standalone_sentences_score_like_document_sentences():
    engine = default_engine()
    (claim,) = engine.score_sentences(["Crime fell 8% in 2024, police figures show."])
    assert claim["start"] == 0
    assert claim["scored"] is True
    assert "quantity" in claim["types"]


def test_max_candidates_stops_an_article_with_more_claims_than_it_allows():
    sentence = "Rents rose 4% in May. "
    bounded = Engine(model=default_engine().model, max_candidates=5)
    assert len(bounded.extract(sentence * 5)) == 5
    with pytest.raises(TooManyCandidates, match="more than 5 candidate claims"):
        bounded.extract(sentence * 6)
    # Clauses count too: a compound sentence is three candidates.
    compound = "Exports rose 12% to $4bn last year, but imports fell 3% over the same period. "
    assert len(Engine(model=default_engine().model, max_candidates=3).extract(compound)) == 3
    with pytest.raises(TooManyCandidates):
        Engine(model=default_engine().model, max_candidates=5).extract(compound * 2)


def test_an_unbounded_engine_extracts_everything():
    assert default_engine().max_candidates is None
    assert len(extract("Rents rose 4% in May. " * 300)) == 300
