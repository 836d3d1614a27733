"""Tests for workers.extraction.features: the tokenizer and hashed features."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workers.extraction.features import FeatureConfig, TokenFeaturizer, tokenize

REPO_ROOT = Path(__file__).resolve().parents[3]
SENTENCES = [
    "Unemployment fell to 4.1% in May, the lowest since 2001.",
    "Thank you very much.",
    "Senator Smith said we spent $3.5 billion on it.",
    "",
    "I think that's right.",
]


def features_of(featurizer: TokenFeaturizer, sentences: list[str]) -> list[dict[int, float]]:
    """{column: value} for each sentence of a batch."""
    batch = featurizer.transform(sentences)
    rows: list[dict[int, float]] = [{} for _ in sentences]
    for row, col, value in zip(batch.rows, batch.cols, batch.values, strict=True):
        rows[row][int(col)] = float(value)
    return rows


@pytest.fixture
def featurizer() -> TokenFeaturizer:
    return TokenFeaturizer(FeatureConfig())


def test_tokenize_keeps_numbers_percentages_and_contractions_whole() -> None:
    assert tokenize("Unemployment fell to 4.1% in May, we've got 1,200 jobs.") == [
        "Unemployment",
        "fell",
        "to",
        "4.1%",
        "in",
        "May",
        ",",
        "we've",
        "got",
        "1,200",
        "jobs",
        ".",
    ]


def test_feature_indices_stay_inside_the_hashed_space(featurizer: TokenFeaturizer) -> None:
    batch = featurizer.transform(SENTENCES)

    assert batch.n_rows == len(SENTENCES)
    assert batch.cols.min() >= 0
    assert batch.cols.max() < FeatureConfig().n_features
    assert set(np.unique(batch.rows)) == set(range(len(SENTENCES)))
    assert np.all(batch.values > 0)


def test_a_sentence_gets_the_same_features_alone_or_in_a_batch(
    featurizer: TokenFeaturizer,
) -> None:
    in_batch = features_of(featurizer, SENTENCES)
    alone = [features_of(TokenFeaturizer(FeatureConfig()), [s])[0] for s in SENTENCES]

    assert in_batch == alone


def test_typographic_apostrophes_and_quotes_give_the_same_features(
    featurizer: TokenFeaturizer,
) -> None:
    typographic, plain = features_of(
        featurizer,
        ["That\u2019s \u201cthe\u201d plan \u2014 he said.", 'That\'s "the" plan - he said.'],
    )

    assert typographic == plain


def test_the_case_of_the_first_word_does_not_change_features(
    featurizer: TokenFeaturizer,
) -> None:
    capitalised, lowered = features_of(featurizer, ["The economy grew.", "the economy grew."])

    assert capitalised == lowered


def test_shape_features_see_any_number_the_same_way() -> None:
    shapes_only = TokenFeaturizer(
        FeatureConfig(words=False, prefixes=False, lexicon=False, counts=False)
    )

    twelve, seventeen, no_number = features_of(
        shapes_only,
        [
            "Prices rose 12% last year.",
            "Prices rose 17% last year.",
            "Prices rose a lot last year.",
        ],
    )

    assert twelve == seventeen
    assert twelve != no_number


def test_feature_hashes_do_not_depend_on_the_process_hash_seed(
    featurizer: TokenFeaturizer,
) -> None:
    script = (
        "from workers.extraction.features import FeatureConfig, TokenFeaturizer\n"
        "batch = TokenFeaturizer(FeatureConfig()).transform(['Crime fell 5% in 2019.'])\n"
        "print(sorted(batch.cols.tolist()))\n"
    )
    outputs = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=REPO_ROOT,
            env={"PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        for seed in ("1", "2")
    }

    expected = sorted(featurizer.transform(["Crime fell 5% in 2019."]).cols.tolist())
    assert outputs == {f"{expected}\n"}


def test_config_survives_a_json_round_trip() -> None:
    config = FeatureConfig(hash_bits=18, char_ngrams=True, char_ngram_sizes=(3,))

    assert FeatureConfig.from_json(config.to_json()) == config


def test_known_positions_add_a_feature_only_when_position_features_are_on() -> None:
    with_positions = TokenFeaturizer(FeatureConfig(position=True))
    without_positions = TokenFeaturizer(FeatureConfig(position=False))
    sentence = ["Taxes went up."]

    assert len(with_positions.transform(sentence, [0.5]).cols) == (
        len(with_positions.transform(sentence).cols) + 1
    )
    assert len(without_positions.transform(sentence, [0.5]).cols) == len(
        without_positions.transform(sentence).cols
    )
