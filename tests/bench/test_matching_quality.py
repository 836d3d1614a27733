"""The measures of bench.matching_quality: by hand on made-up candidates, and both paths
through a tiny corpus in the test database."""

from __future__ import annotations

import numpy as np
import pytest

from bench.matching_quality import (
    Candidate,
    KnownVectors,
    database_candidates,
    import_corpus,
    offline_candidates,
    score_path,
)
from service.domain.matching import Matching
from workers.extraction.encoder import load_encoder
from workers.extraction.evaluate import calibration_errors
from workers.matching.clef import RetrievalSet
from workers.matching.matcher import FEATURES, ConfidenceModel, FactCheckIndex, MatchSettings
from workers.matching.records import FactCheck as Record

# Confidence from the cosine alone: 0.5 at cosine 0.5, about 0.95 at 0.8.
BY_COSINE = ConfidenceModel(coef=(0.0, 0.0, 10.0, 0.0, 0.0), intercept=-5.0)


def candidate(key: str, cosine: float, relevant: bool) -> Candidate:
    features = np.zeros(len(FEATURES))
    features[FEATURES.index("cosine")] = cosine
    return Candidate(key, features, relevant)


def test_a_path_is_scored_on_its_ranking_its_candidates_and_its_confidence():
    per_query = [
        # The relevant one second by cosine: MAP@5 1/2, its top match suggested but wrong.
        [candidate("a", 0.6, False), candidate("b", 0.55, True)],
        # The relevant one first and matched (confidence above 0.9).
        [candidate("c", 0.3, False), candidate("d", 0.9, True)],
        # Nothing relevant among the candidates, nothing suggested.
        [candidate("e", 0.1, False)],
    ]
    relevant = [{"b"}, {"d"}, {"z"}]
    scores = score_path(per_query, relevant, BY_COSINE, MatchSettings())
    assert scores.ranking.map_at_5 == pytest.approx((0.5 + 1.0 + 0.0) / 3)
    assert scores.ranking.success_at_10 == pytest.approx(2 / 3)
    assert scores.found == pytest.approx(2 / 3)
    assert scores.candidates == pytest.approx(5 / 3)
    assert scores.suggested == (2, 1)  # (top matches at or above 0.5, of them relevant)
    assert scores.matched == (1, 1)
    cosines = np.array([0.6, 0.55, 0.9, 0.3, 0.1])
    brier, ece = calibration_errors(
        [0, 1, 1, 0, 0], 1 / (1 + np.exp(-(10 * cosines - 5)))
    )  # calibrate's rows: each query's first-stage best, here all five
    assert (scores.brier, scores.ece) == pytest.approx((brier, ece))


CORPUS = [
    Record(key="iraq", claim="The US and UK invasion of Iraq killed over a million civilians."),
    Record(key="libraries", claim="The city council approved a new budget for public libraries."),
    Record(key="wind", claim="Wind farms produced a fifth of the country's electricity last year."),
    Record(
        key="waiting",
        claim="Hospital waiting lists have doubled since 2019.",
        headline="Did waiting lists double?",
    ),
]
QUERIES = RetrievalSet(
    name="hand-made",
    split="test",
    corpus=CORPUS,
    queries=[
        ("q1", "More than a million Iraqi civilians died because of the American invasion."),
        ("q2", "NHS waiting lists are twice as long as they were in 2019"),
    ],
    relevant={"q1": {"iraq"}, "q2": {"waiting"}},
)


@pytest.mark.usefixtures("database_url")
def test_both_paths_find_the_paraphrases_of_a_tiny_corpus_imported_into_the_database(sessions):
    encoder = load_encoder()
    index = FactCheckIndex(CORPUS, encoder=encoder)
    import_corpus(sessions, index)
    vectors = encoder.encode([text for _, text in QUERIES.queries])
    matching = Matching(MatchSettings(), ConfidenceModel.load())
    relevant = [QUERIES.relevant[q] for q, _ in QUERIES.queries]
    offline = score_path(
        offline_candidates(index, QUERIES, vectors), relevant, matching.model, matching.settings
    )
    stored = database_candidates(sessions, QUERIES, vectors, matching)
    database = score_path(stored, relevant, matching.model, matching.settings)
    for scores in (offline, database):
        assert (scores.ranking.map_at_5, scores.found) == (1.0, 1.0)
    # The candidates are the stored fact-checks, each query's relevant one among them.
    assert {c.key for found in stored for c in found} <= {r.key for r in CORPUS}
    assert [[c.key for c in found if c.relevant] for found in stored] == [["iraq"], ["waiting"]]


def test_known_vectors_encode_only_what_they_have_not_seen():
    class Counting:
        def __init__(self):
            self.texts = []

        def encode(self, texts):
            self.texts += texts
            return np.ones((len(texts), 2))

    counting = Counting()
    known = KnownVectors(counting, ["a", "b"], np.zeros((2, 2)))  # type: ignore[arg-type]
    assert known.encode(["b", "c", "a", "c"]).tolist() == [[0, 0], [1, 1], [0, 0], [1, 1]]
    assert counting.texts == ["c"]
