"""Tests for workers.extraction.checkworthiness: the shipped scorer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workers.extraction.checkworthiness import (
    BASELINE_MODEL_PATH,
    DEFAULT_MODEL_PATH,
    CheckworthinessModel,
    load_model,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
CHECK_WORTHY = [
    "Unemployment fell to 4.1% in May, the lowest since 2001.",
    "The federal deficit has tripled over the last four years to $1.4 trillion.",
    "Crime in our cities went up 20 percent last year.",
]
NOT_CHECK_WORTHY = [
    "Thank you very much.",
    "I think that's right.",
    "Let me answer the question.",
]


@pytest.fixture(scope="module")
def model() -> CheckworthinessModel:
    return load_model()


def test_scores_are_probabilities(model: CheckworthinessModel) -> None:
    sentences = [*CHECK_WORTHY, *NOT_CHECK_WORTHY, "", "?!", "\U0001f600 wow", "x" * 5000]

    scores = model.score(sentences)

    assert len(scores) == len(sentences)
    assert all(0.0 <= score <= 1.0 for score in scores)


def test_typical_claims_score_above_the_threshold(model: CheckworthinessModel) -> None:
    assert all(score >= model.threshold for score in model.score(CHECK_WORTHY))


def test_typical_non_claims_score_below_the_threshold(model: CheckworthinessModel) -> None:
    assert all(score < model.threshold for score in model.score(NOT_CHECK_WORTHY))


def test_scoring_is_deterministic_and_independent_of_the_batch(
    model: CheckworthinessModel,
) -> None:
    batch = model.score(CHECK_WORTHY + NOT_CHECK_WORTHY)
    one_by_one = [model.score([s])[0] for s in CHECK_WORTHY + NOT_CHECK_WORTHY]

    # The embedding's dot product is float32: summed in another order, scores move by ~1e-8.
    assert batch == pytest.approx(one_by_one, abs=1e-6)
    assert model.score(CHECK_WORTHY) == model.score(CHECK_WORTHY)


def test_positions_are_accepted_known_or_unknown(model: CheckworthinessModel) -> None:
    scores = model.score(CHECK_WORTHY, positions=[0.0, None, 1.0])

    assert all(0.0 <= score <= 1.0 for score in scores)
    with pytest.raises(ValueError, match="one entry per sentence"):
        model.score(CHECK_WORTHY, positions=[0.5])


def test_empty_input_gives_no_scores(model: CheckworthinessModel) -> None:
    assert model.score([]) == []


def test_the_default_model_is_cached_and_describes_itself() -> None:
    assert load_model() is load_model()
    assert load_model().version.startswith("checkworthiness-")
    assert 0.0 < load_model().threshold < 1.0


def test_the_shipped_model_file_is_small() -> None:
    assert DEFAULT_MODEL_PATH.stat().st_size < 20_000_000


def test_a_saved_model_scores_the_same_after_loading(
    model: CheckworthinessModel, tmp_path: Path
) -> None:
    path = tmp_path / "copy.npz"
    model.save(path)

    reloaded = load_model(path)

    assert reloaded.version == model.version
    assert reloaded.threshold == model.threshold
    assert reloaded.score(CHECK_WORTHY) == model.score(CHECK_WORTHY)


def test_loading_and_scoring_does_not_import_scikit_learn() -> None:
    script = (
        "import sys\n"
        "from workers.extraction.checkworthiness import load_model\n"
        "load_model().score(['Taxes rose 3% in 2019.'])\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    )

    assert result.stdout.strip() == "[]"


def test_the_shipped_model_reads_the_sentence_embedding() -> None:
    model = load_model()
    assert model.uses_embeddings
    assert model.embedding_weights is not None
    assert model.embedding_weights.shape == (384,)
    assert not load_model(BASELINE_MODEL_PATH).uses_embeddings


def test_given_embeddings_score_as_the_model_encoding_them_itself() -> None:
    from workers.extraction.encoder import load_encoder

    model = load_model()
    vectors = load_encoder().encode(CHECK_WORTHY)
    assert model.score(CHECK_WORTHY, embeddings=vectors) == pytest.approx(
        model.score(CHECK_WORTHY), abs=1e-6
    )
    # The embedding counts: another sentence's vector moves the score.
    swapped = model.score(CHECK_WORTHY, embeddings=vectors[::-1])
    assert swapped != pytest.approx(model.score(CHECK_WORTHY), abs=1e-3)


def test_embeddings_of_the_wrong_shape_are_refused() -> None:
    model = load_model()
    with pytest.raises(ValueError, match="one row"):
        model.score(CHECK_WORTHY, embeddings=np.zeros((len(CHECK_WORTHY) - 1, 384), np.float32))
    with pytest.raises(ValueError, match="encoder's size"):
        model.score(CHECK_WORTHY, embeddings=np.zeros((len(CHECK_WORTHY), 10), np.float32))
