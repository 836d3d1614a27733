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
    EmbeddingCache,
    Recipe,
    best_f1_threshold,
    document_folds,
    embed,
    held_out_texts,
    text_key,
    train_model,
    training_data,
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


def shared_set(name: str) -> Path:
    """The shared data folder holding the set `name` (skipped, for the one reason, without
    the folder)."""
    return shared_path(name).parent


def test_normalised_text_folds_case_punctuation_and_width() -> None:
    assert evaluate.normalised_text("“Taxes ROSE,” he said —  by 10%.") == (
        "taxes rose he said by 10"
    )
    assert evaluate.normalised_text("ﬁve") == "five"  # NFKC


def test_auxiliary_rows_are_scored_neither_for_c_nor_for_the_threshold() -> None:
    target = synthetic_corpus()
    # Auxiliary rows that contradict the templates: were they scored, dev AP would fall.
    auxiliary = [
        LabelledSentence(f"Thank you, friend number {i}.", True, f"aux-{i}") for i in range(40)
    ]
    scored = np.r_[np.ones(len(target), dtype=bool), np.zeros(len(auxiliary), dtype=bool)]

    trained = train_model(target + auxiliary, SMALL_CONFIG, (1.0,), n_folds=2, scored=scored)

    assert len(trained.labels) == len(target)
    assert trained.labels.sum() == sum(s.label for s in target)
    assert trained.dev.average_precision == pytest.approx(
        evaluate.average_precision(trained.labels, trained.dev_probabilities)
    )


def test_the_threshold_is_chosen_on_the_threshold_rows_alone() -> None:
    corpus = synthetic_corpus()
    everything = train_model(corpus, SMALL_CONFIG, (1.0,), n_folds=2)
    first_documents = np.array([s.document in ("doc-0", "doc-1") for s in corpus])

    some = train_model(corpus, SMALL_CONFIG, (1.0,), n_folds=2, threshold_rows=first_documents)

    labels = everything.labels
    assert some.model.threshold == best_f1_threshold(
        labels[first_documents], some.dev_probabilities[first_documents]
    )
    assert everything.model.threshold == best_f1_threshold(labels, everything.dev_probabilities)


def test_embeddings_are_read_back_from_the_cache_without_encoding(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.extraction.encoder import load_encoder

    monkeypatch.setenv("FACTCHECK_EMBEDDING_CACHE", str(tmp_path))
    texts = ["Unemployment rose to 7% in 2003.", "Thank you, Jim.", "Thank you, Jim."]
    first = embed(texts)
    assert list(tmp_path.glob("*/*.npz"))

    def no_encoding(*args: object, **kwargs: object) -> np.ndarray:
        raise AssertionError("a cached sentence was encoded again")

    monkeypatch.setattr(load_encoder(), "encode", no_encoding)
    again = embed(texts)

    assert np.array_equal(first, again)
    assert np.array_equal(first[:2], load_encoder().__class__.encode(load_encoder(), texts[:2]))


def test_an_embedding_cache_shard_holds_its_keys_and_vectors(tmp_path: Path) -> None:
    keys = [text_key("a"), text_key("b")]
    vectors = np.arange(2 * 384, dtype=np.float32).reshape(2, 384)
    EmbeddingCache(tmp_path).add(keys, vectors)

    reread = EmbeddingCache(tmp_path)

    assert np.array_equal(reread.get(text_key("b")), vectors[1])  # type: ignore[arg-type]
    assert reread.get(text_key("c")) is None
    assert not list(tmp_path.glob(".*"))  # no temporary file left behind


def test_fact_checked_claims_are_unique_unquoted_positives() -> None:
    directory = shared_set("fact-checked-claims")

    claims = evaluate.load_fact_checked_claims(directory)

    assert len(claims) > 20_000
    assert all(claim.label for claim in claims)
    keys = [evaluate.normalised_text(claim.text) for claim in claims]
    assert len(set(keys)) == len(keys)
    assert not [claim for claim in claims if claim.text.startswith("Says ")]
    quoted = [
        c for c in claims if c.text[0] == '"' and c.text[-1] == '"' and c.text.count('"') == 2
    ]
    assert not quoted
    assert any(claim.text.startswith('"') for claim in claims)  # a quote of part of it stays


def test_subjectivity_sentences_are_read_with_their_labels() -> None:
    directory = shared_set("subjectivity-news")

    sentences = evaluate.load_subjectivity(directory)

    assert len(sentences) == 1292
    assert sum(s.label for s in sentences) == 298 + 240  # SUBJ in train and dev
    assert len({s.document for s in sentences}) == len(sentences)


def test_checkthat_debates_leave_out_the_sentences_claimbuster_has() -> None:
    directory = shared_set("checkthat-debates")

    debates = evaluate.load_checkthat_debates(directory)

    claimbuster = {
        evaluate.normalised_text(s.text)
        for s in evaluate.load_claimbuster(directory, "crowdsourced")
    }
    long_ones = [s for s in debates if len(evaluate.normalised_text(s.text).split()) >= 6]
    assert len(debates) > 70_000
    assert 800 < sum(s.label for s in debates) < 1_199
    assert not [s for s in long_ones if evaluate.normalised_text(s.text) in claimbuster]


def test_no_auxiliary_sentence_repeats_an_evaluation_or_target_sentence() -> None:
    directory = shared_set("fact-checked-claims")
    shared_set("checkthat-debates")
    shared_set("subjectivity-news")
    sources = ("claimbuster", "news", "checkthat-debates", "fact-checked", "subjective")

    data = training_data(
        directory, Recipe(tuple((source, 1.0) for source in sources)), embeddings=False
    )

    target = [s for s, scored in zip(data.sentences, data.scored, strict=True) if scored]
    auxiliary = [s for s, scored in zip(data.sentences, data.scored, strict=True) if not scored]
    assert len(target) == len(evaluate.load_claimbuster(directory, "crowdsourced")) + len(
        evaluate.load_news_text(directory, "train")
    )
    blocked = held_out_texts(directory) | {evaluate.normalised_text(s.text) for s in target}
    assert len(auxiliary) > 90_000
    assert not [s.text for s in auxiliary if evaluate.normalised_text(s.text) in blocked]
    assert data.threshold_rows.tolist() == data.scored.tolist()  # threshold_on "all"


def test_the_cache_reads_back_a_key_that_ends_in_a_nul_byte(tmp_path):
    keys = [b"\x01" * 19 + b"\x00", b"\x00" * 20]
    vectors = np.arange(2 * 4, dtype=np.float32).reshape(2, 4)
    EmbeddingCache(tmp_path).add(keys, vectors)
    reread = EmbeddingCache(tmp_path)
    assert np.array_equal(reread.get(keys[0]), vectors[0])  # type: ignore[arg-type]
    assert np.array_equal(reread.get(keys[1]), vectors[1])  # type: ignore[arg-type]
