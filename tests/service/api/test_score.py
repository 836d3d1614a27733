"""POST /api/v1/score: the engine over text or sentences, nothing stored."""

from __future__ import annotations

import dataclasses

from sqlalchemy import text

from service.app import create_app
from tests.shared_data import shared_articles
from workers.extraction.engine import default_engine

URL = "/api/v1/score"
FRENCH = (
    "Le gouvernement a annoncé mardi une hausse de 4 % du budget de la santé. "
    "Les syndicats estiment que cette mesure ne suffira pas."
)


def test_document_is_segmented_scored_and_anchored(client, admin_headers, engine):
    body = shared_articles()[0].read_text(encoding="utf-8")
    response = client.post(URL, json={"text": body}, headers=admin_headers)
    assert response.status_code == 200
    result = response.get_json()
    assert 0 < result["threshold"] < 1
    assert result["model_version"]
    claims = result["claims"]
    assert len(claims) > 5
    for claim in claims:
        assert body[claim["start"] : claim["end"]] == claim["text"]
        assert claim["scored"] is True
        assert 0.0 <= claim["checkworthiness"] <= 1.0
        assert claim["checkworthy"] == (claim["checkworthiness"] >= result["threshold"])
        assert claim["language"] == "en"
        for item in claim["quantities"] + claim["dates"] + claim["entities"]:
            assert body[item["start"] : item["end"]] == item["text"]
    assert any(c["speaker"] for c in claims)
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM claims")) == 0


def test_sentences_are_scored_one_by_one(client, admin_headers):
    sentences = ["Unemployment fell to 4.1% in May, the lowest since 2001.", "Thank you all."]
    response = client.post(URL, json={"sentences": sentences}, headers=admin_headers)
    assert response.status_code == 200
    claims = response.get_json()["claims"]
    assert [c["text"] for c in claims] == sentences
    assert claims[0]["checkworthiness"] > claims[1]["checkworthiness"]
    assert claims[0]["checkworthy"] is True
    assert claims[1]["checkworthy"] is False
    assert "quantity" in claims[0]["types"]
    percent = next(q for q in claims[0]["quantities"] if q["text"] == "4.1%")
    assert (percent["value"], percent["unit"]) == (4.1, "%")
    assert {d["value"] for d in claims[0]["dates"]} >= {"2001"}


def test_sentences_name_their_own_speaker_as_a_document_does(client, admin_headers):
    sentences = [
        "Unemployment fell to 4.1% in May, the statistics office said.",
        "Mayor Ana Ruiz said rents rose 20% in two years.",
        "Rents rose 20% in two years.",
    ]
    one_by_one = client.post(URL, json={"sentences": sentences}, headers=admin_headers)
    assert [c["speaker"] for c in one_by_one.get_json()["claims"]] == [
        "the statistics office",
        "Ana Ruiz",
        None,
    ]
    document = client.post(URL, json={"text": "\n".join(sentences)}, headers=admin_headers)
    claims = document.get_json()["claims"]
    assert [c["speaker"] for c in claims if c["kind"] == "sentence"] == [
        c["speaker"] for c in one_by_one.get_json()["claims"]
    ]
    # The document also offers what each speaker said as a span of its own.
    assert [(c["text"], c["speaker"]) for c in claims if c["kind"] == "reported"] == [
        ("Unemployment fell to 4.1% in May", "the statistics office"),
        ("rents rose 20% in two years.", "Ana Ruiz"),
    ]


def test_the_configured_threshold_decides_what_is_checkworthy(settings, admin_headers):
    jobs = "Unemployment fell to 4.1% in May, the lowest since 2001."
    crime = "The mayor said crime rose 12% last year."
    low, high = sorted(
        c["checkworthiness"] for c in default_engine().score_sentences([jobs, crime])
    )
    assert low < high
    threshold = round((low + high) / 2, 4)  # between the two: one is check-worthy, one not
    client = create_app(
        dataclasses.replace(settings, checkworthy_threshold=threshold)
    ).test_client()
    for payload in ({"sentences": [jobs, crime]}, {"text": f"{jobs} {crime}"}):
        result = client.post(URL, json=payload, headers=admin_headers).get_json()
        assert result["threshold"] == threshold
        claims = result["claims"]
        assert [c["checkworthy"] for c in claims] == [
            c["checkworthiness"] >= threshold for c in claims
        ]
        # The document also offers what the mayor said ("crime rose 12% last year."): the
        # two sentences are what both inputs share.
        claims = [c for c in claims if c["kind"] == "sentence"]
        scores = [c["checkworthiness"] for c in claims]
        # The model's own threshold would call both check-worthy.
        assert min(scores) >= default_engine().threshold
        assert sorted(c["checkworthy"] for c in claims) == [False, True]


def test_other_languages_are_flagged_unscored_never_guessed(client, admin_headers):
    response = client.post(URL, json={"text": FRENCH}, headers=admin_headers)
    claims = response.get_json()["claims"]
    assert len(claims) == 2
    for claim in claims:
        assert claim["language"] == "fr"
        assert claim["scored"] is False
        assert claim["checkworthiness"] is None
        assert claim["checkworthy"] is None


def test_a_single_spanish_sentence_is_not_scored_as_english(client, admin_headers):
    sentence = "El desempleo subió al 14 % en febrero, según las cifras oficiales."
    for payload in ({"sentences": [sentence]}, {"text": sentence}):
        (claim,) = client.post(URL, json=payload, headers=admin_headers).get_json()["claims"]
        assert claim["language"] == "es"
        assert claim["scored"] is False
        assert claim["checkworthiness"] is None


def test_a_declared_language_skips_detection(client, admin_headers):
    sentence = "El desempleo subió al 14 % en febrero, según las cifras oficiales."
    response = client.post(
        URL, json={"sentences": [sentence], "language": "en"}, headers=admin_headers
    )
    (claim,) = response.get_json()["claims"]
    assert (claim["language"], claim["scored"]) == ("en", True)


def test_exactly_one_input_is_required(client, admin_headers):
    for payload in ({}, {"text": "A.", "sentences": ["B."]}):
        response = client.post(URL, json=payload, headers=admin_headers)
        assert response.status_code == 422
        assert "_schema" in response.get_json()["errors"]


def test_too_many_or_blank_sentences_are_422(client, admin_headers):
    for sentences in (["x"] * 1001, ["  "], []):
        response = client.post(URL, json={"sentences": sentences}, headers=admin_headers)
        assert response.status_code == 422


def test_text_with_more_candidates_than_allowed_is_422(settings, admin_headers):
    bounded = create_app(dataclasses.replace(settings, max_article_claims=5)).test_client()
    sentence = "Rents rose 4% in May. "
    assert bounded.post(URL, json={"text": sentence * 5}, headers=admin_headers).status_code == 200
    response = bounded.post(URL, json={"text": sentence * 6}, headers=admin_headers)
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    detail = response.get_json()["detail"]
    assert "more than 5 candidate claims" in detail
    assert "FACTCHECK_MAX_ARTICLE_CLAIMS" in detail
