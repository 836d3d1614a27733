"""The engine's entry point: anchored, scored, typed and attributed candidate claims."""

from __future__ import annotations

import pytest

from tests.factories import REPO
from tests.shared_data import FIRST_ARTICLE, article_names, shared_article, shared_articles
from workers.extraction.engine import (
    CLAIM_KINDS,
    CONTEXT_CHARS,
    NON_CLAIM_KINDS,
    Engine,
    TooManyCandidates,
    default_engine,
    extract,
)

FIELDS = {
    "text", "start", "end", "kind", "checkworthiness", "checkworthy", "scored", "types",
    "speaker", "quantities", "dates", "entities", "language", "prefix", "suffix", "embedding",
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


@pytest.mark.parametrize("name", article_names())
def test_seed_articles_yield_anchored_scored_claims(name):
    body = shared_article(name)
    claims = extract(body)
    assert_anchored(body, claims)
    sentences = [c for c in claims if c["kind"] == "sentence"]
    assert len(sentences) > 5
    assert all(c["language"] == "en" and c["scored"] for c in claims)
    assert any(c["checkworthy"] for c in sentences)
    assert any(c["speaker"] for c in sentences)
    assert any(c["quantities"] for c in claims) or name == FIRST_ARTICLE
    assert any(c["kind"] == "reported" for c in claims)
    # In text order: an article's claims are listed by start, then in the order made.
    assert [c["start"] for c in claims] == sorted(c["start"] for c in claims)


def test_first_seed_article_keeps_boilerplate_as_non_claims():
    claims = extract(shared_article(FIRST_ARTICLE))
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


def test_reported_speech_offers_what_was_said_as_its_own_claim():
    body = (
        "Mayor Ana Ruiz said rents rose 20% to €1,400 in 2025.\n"
        "Unemployment fell to 4.1% in May, the statistics office said.\n"
    )
    claims = extract(body)
    assert_anchored(body, claims)
    assert [(c["kind"], c["speaker"]) for c in claims] == [
        ("sentence", "Ana Ruiz"),
        ("reported", "Ana Ruiz"),
        ("sentence", "the statistics office"),
        ("reported", "the statistics office"),
    ]
    rents, jobs = claims[1], claims[3]
    assert rents["text"] == "rents rose 20% to €1,400 in 2025."
    assert jobs["text"] == "Unemployment fell to 4.1% in May"
    # Annotated like a clause: the sentence's spans inside it, its own types, scored.
    assert [q["text"] for q in rents["quantities"]] == [q["text"] for q in claims[0]["quantities"]]
    assert [d["value"] for d in rents["dates"]] == ["2025"]
    assert not rents["entities"]  # "Ana Ruiz" is outside what she said
    assert claims[0]["entities"]
    for claim in (rents, jobs):
        assert "quantity" in claim["types"]
        assert claim["scored"] is True
        assert 0.0 <= claim["checkworthiness"] <= 1.0


def test_a_compound_report_is_cut_clause_by_clause():
    body = "Ruiz said rents rose 20% in two years, but wages fell 3% over the same period."
    claims = extract(body)
    assert_anchored(body, claims)
    assert [(c["kind"], c["text"], c["speaker"]) for c in claims[1:]] == [
        ("clause", "Ruiz said rents rose 20% in two years", "Ruiz"),
        ("reported", "rents rose 20% in two years", "Ruiz"),
        ("clause", "wages fell 3% over the same period.", "Ruiz"),
    ]
    # Text order, as an article's claims are listed (by start, then as the engine made them).
    assert [c["start"] for c in claims] == sorted(c["start"] for c in claims)
    # A compound quotation is not split (no clause is cut inside quote marks): Y is whole.
    quoted = "“Rents rose 20% in two years, but wages fell 3%,” Ruiz said."
    assert [(c["kind"], c["text"]) for c in extract(quoted)] == [
        ("sentence", quoted),
        ("reported", "Rents rose 20% in two years, but wages fell 3%"),
    ]


def test_every_kind_the_engine_makes_is_listed():
    bodies = [p.read_text(encoding="utf-8") for p in (REPO / "examples").glob("*.txt")]
    bodies += [p.read_text(encoding="utf-8") for p in shared_articles()]
    made = {c["kind"] for body in bodies for c in extract(body)}
    assert {"sentence", "headline", "reported"} <= made
    assert made <= set(CLAIM_KINDS)
    assert "span" in CLAIM_KINDS
    assert set(CLAIM_KINDS) >= NON_CLAIM_KINDS


def test_reported_spans_count_towards_max_candidates():
    said = "Mayor Ana Ruiz said rents rose 20% in two years. "
    assert [c["kind"] for c in extract(said)] == ["sentence", "reported"]
    assert len(Engine(model=default_engine().model, max_candidates=4).extract(said * 2)) == 4
    with pytest.raises(TooManyCandidates):
        Engine(model=default_engine().model, max_candidates=3).extract(said * 2)


def test_standalone_sentences_name_the_speaker_they_name_themselves():
    claims = default_engine().score_sentences(
        [
            "Unemployment fell to 4.1% in May, the statistics office said.",
            "“Rents rose 20% in two years,” said Mayor Ana Ruiz.",
            "He said rents rose 20% in two years.",  # nobody named before: no speaker
            "Rents rose 20% in two years.",
        ]
    )
    assert [c["speaker"] for c in claims] == ["the statistics office", "Ana Ruiz", None, None]
    assert [c["kind"] for c in claims] == ["sentence"] * 4  # one claim per sentence


def test_every_claim_has_a_unit_embedding_and_one_score_whatever_the_entry_point():
    """extract, annotate_span and score_sentences encode a text alike and score it alike."""
    body = "Rents rose 4% in May, the statistics office said. Thank you all for coming."
    engine = default_engine()
    claims = engine.extract(body)
    for claim in claims:
        assert len(claim["embedding"]) == 384
        assert abs(sum(x * x for x in claim["embedding"]) - 1.0) < 1e-3
    first = next(c for c in claims if c["kind"] == "sentence")
    alone = engine.score_sentences([first["text"]])[0]
    span = engine.annotate_span(body, first["start"], first["end"])
    assert alone["checkworthiness"] == span["checkworthiness"] == first["checkworthiness"]
    assert alone["embedding"] == span["embedding"] == first["embedding"]


def test_clauses_and_reported_spans_are_pooled_from_their_sentence_pass():
    """One forward pass per sentence: a part's vector comes from its sentence's token states,
    and a sentence's vector is the same whatever else the article holds."""
    sentence = "Rents rose 20% in two years, Mayor Ana Ruiz said, but wages fell 3% last year."
    body = f"Thank you all for coming. {sentence}"
    engine = default_engine()
    claims = engine.extract(body)
    whole = next(c for c in claims if c["text"] == sentence)
    parts = [c for c in claims if c["kind"] in ("clause", "reported")]
    assert parts

    spans = [(c["start"] - whole["start"], c["end"] - whole["start"]) for c in parts]
    vectors, (pooled,) = engine.encoder.encode_with_spans([sentence], [spans])

    assert whole["embedding"] == vectors[0].tolist()
    assert [c["embedding"] for c in parts] == pooled.tolist()
    assert engine.extract(sentence)[0]["embedding"] == whole["embedding"]
