"""Tests for workers.extraction.train, and the evaluate command built on the same loaders.

Training runs on a small synthetic corpus written here; the evaluation test reads the real
labelled sets from the shared data folder and is skipped when that folder is missing.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import average_precision_score

from tests.shared_data import shared_path
from workers.extraction import evaluate
from workers.extraction.checkworthiness import load_model
from workers.extraction.evaluate import LabelledSentence
from workers.extraction.features import FeatureConfig
from workers.extraction.train import (
    best_f1_threshold,
    document_folds,
    train_model,
)

SMALL_CONFIG = FeatureConfig(hash_bits=16)
CLAIM_TEMPLATES = [
    "Unemployment rose to {n}% in {year}.",
    "The deficit grew by ${n} billion since {year}.",
    "We spent {n} million dollars on schools in {year}.",
]
NON_CLAIM_TEMPLATES = [
    "Thank you, {name}.",
    "I think {name} is a good person.",
    "Let me say something about {name}.",
]
NAMES = ["Jim", "Senator", "my friend", "the governor", "everyone"]


def synthetic_corpus(seed: int = 7, n: int = 240) -> list[LabelledSentence]:
    """Sentences made from claim and non-claim templates, spread over eight documents."""
    generator = random.Random(seed)
    sentences = []
    for i in range(n):
        is_claim = i % 3 == 0
        template = generator.choice(CLAIM_TEMPLATES if is_claim else NON_CLAIM_TEMPLATES)
        text = template.format(
            n=generator.randint(2, 95),
            year=generator.randint(1990, 2020),
            name=generator.choice(NAMES),
        )
        sentences.append(LabelledSentence(text=text, label=is_claim, document=f"doc-{i % 8}"))
    return sentences


def test_training_on_a_small_corpus_writes_a_loadable_model(tmp_path: Path) -> None:
    trained = train_model(synthetic_corpus(), SMALL_CONFIG, regularisation_grid=(1.0,), n_folds=2)
    path = tmp_path / "model.npz"
    trained.model.save(path)

    model = load_model(path)
    claim, non_claim = model.score(["Unemployment rose to 7% in 2003.", "Thank you, Jim."])

    assert claim > model.threshold > non_claim


def test_training_with_embeddings_ships_their_weights_and_scores_with_them(
    tmp_path: Path,
) -> None:
    from workers.extraction.encoder import load_encoder

    corpus = synthetic_corpus()
    vectors = load_encoder().encode([s.text for s in corpus])
    weights = np.where([s.document == "doc-0" for s in corpus], 4.0, 1.0)
    trained = train_model(
        corpus, SMALL_CONFIG, (1.0,), n_folds=2, embeddings=vectors, sample_weights=weights
    )
    path = tmp_path / "model.npz"
    trained.model.save(path)

    model = load_model(path)
    assert model.embedding_weights is not None
    assert np.abs(model.embedding_weights).max() > 0
    texts = ["Unemployment rose to 7% in 2003.", "Thank you, Jim."]
    claim, non_claim = model.score(texts)  # encoding them itself
    assert claim > model.threshold > non_claim
    assert model.score(texts, embeddings=load_encoder().encode(texts)) == [claim, non_claim]


def test_training_twice_gives_a_byte_identical_model_file(tmp_path: Path) -> None:
    digests = []
    for attempt in range(2):
        path = tmp_path / f"model-{attempt}.npz"
        train_model(synthetic_corpus(), SMALL_CONFIG, (1.0,), n_folds=2).model.save(path)
        digests.append(hashlib.sha256(path.read_bytes()).hexdigest())

    assert digests[0] == digests[1]


def test_documents_never_straddle_folds() -> None:
    documents = ["a", "b", "a", "c", "b", "d", "a"]

    folds = document_folds(documents, 2)

    for document in set(documents):
        assert (
            len({fold for doc, fold in zip(documents, folds, strict=True) if doc == document}) == 1
        )
    assert set(folds) == {0, 1}


def test_the_chosen_threshold_separates_separable_scores() -> None:
    labels = np.array([0, 0, 1, 0, 1, 1])
    probabilities = np.array([0.1, 0.2, 0.65, 0.3, 0.7, 0.9])

    threshold = best_f1_threshold(labels, probabilities)

    assert 0.3 < threshold <= 0.65


def test_average_precision_agrees_with_scikit_learn() -> None:
    generator = np.random.default_rng(3)
    labels = generator.random(300) < 0.3
    scores = np.round(labels * 0.5 + generator.random(300), 1)  # rounding makes ties

    assert evaluate.average_precision(labels, scores) == pytest.approx(
        average_precision_score(labels, scores)
    )


def test_evaluate_prints_every_labelled_set(capsys: pytest.CaptureFixture[str]) -> None:
    shared_path("checkthat2024")

    assert evaluate.main([]) == 0

    output = capsys.readouterr().out
    assert "ClaimBuster groundtruth: precision" in output
    assert "CheckThat! 2024 dev-test: precision" in output
    assert "newsclaims-dev: precision" in output
    assert "sentences flagged" in output
    assert "claimer accuracy (newsclaims-dev):" in output
    assert "news-text dev (this team's labels" in output
    assert "baseline: the linear model of hashed features only" in output


def test_claimer_accuracy_counts_partial_name_matches() -> None:
    articles = {"a": [("a-0", "Fauci said masks work."), ("a-1", "Masks work.")]}
    claims = {
        "a": {"a-0": {"claimer": "Dr. Anthony Fauci"}, "a-1": {"claimer": "Dr. Anthony Fauci"}}
    }

    accuracy, n_claims = evaluate.claimer_accuracy(
        lambda sentences: ["Fauci" if "Fauci" in s else None for s in sentences], articles, claims
    )

    assert n_claims == 2
    assert accuracy == 0.5
