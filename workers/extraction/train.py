"""Train, calibrate and export the check-worthiness model.

``python -m workers.extraction.train [--data DIR] [--out PATH] [--experiments]``

1. Training data: ClaimBuster ``crowdsourced.csv`` (Verdict 1 positive; 0 and -1 negative).
2. Development data: out-of-fold predictions of a 5-fold split of crowdsourced *by debate*
   (all sentences of one debate fall in the same fold), so every dev score comes from a
   model that never saw that debate. The regularisation strength is chosen on them by
   average precision, Platt scaling is fitted on them, and the default threshold is the one
   that maximises F1 of the positive class on the calibrated dev probabilities.
3. The shipped model is refitted on all of crowdsourced with the chosen settings, and the
   dev Platt scaling and threshold are attached to it. ClaimBuster groundtruth, CheckThat!
   2024 dev-test and newsclaims-dev are never used here: they are evaluation sets.

``--experiments`` also prints the dev effect of switching each feature group on or off.
Progress lines go to stderr, dev metrics to stdout. Everything is seeded and
deterministic: the same data gives the same model file, byte for byte.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from workers.extraction.checkworthiness import DEFAULT_MODEL_PATH, CheckworthinessModel
from workers.extraction.evaluate import (
    LabelledSentence,
    average_precision,
    binary_metrics,
    calibration_errors,
    data_dir,
    load_claimbuster,
)
from workers.extraction.features import FeatureConfig, TokenFeaturizer

MODEL_FORMAT_VERSION = "1"
N_FOLDS = 5
REGULARISATION_GRID = (2.0, 4.0, 8.0, 16.0)
DEFAULT_CONFIG = FeatureConfig()


@dataclass(frozen=True)
class DevResult:
    """Out-of-fold (dev) evaluation of one configuration."""

    config: FeatureConfig
    regularisation: float
    raw_scores: np.ndarray
    average_precision: float


@dataclass(frozen=True)
class TrainedModel:
    """The exported model with the dev figures that justify its settings."""

    model: CheckworthinessModel
    dev: DevResult
    dev_probabilities: np.ndarray
    labels: np.ndarray


def progress(message: str) -> None:
    """One progress line on stderr."""
    print(f"[train] {message}", file=sys.stderr, flush=True)


def feature_matrix(
    featurizer: TokenFeaturizer, sentences: Sequence[LabelledSentence]
) -> sparse.csr_matrix:
    """Sparse feature matrix of labelled sentences (positions passed when all are known)."""
    texts = [s.text for s in sentences]
    positions = [s.position for s in sentences]
    batch = featurizer.transform(texts, None if None in positions else positions)
    return sparse.csr_matrix(
        (batch.values, (batch.rows, batch.cols)), shape=(batch.n_rows, batch.n_cols)
    )


def document_folds(documents: Sequence[str], n_folds: int) -> np.ndarray:
    """Fold number per sentence; documents are dealt to folds in sorted order, round robin."""
    fold_of_document = {doc: i % n_folds for i, doc in enumerate(sorted(set(documents)))}
    return np.array([fold_of_document[doc] for doc in documents], dtype=np.int64)


def fit_classifier(
    matrix: sparse.csr_matrix, labels: np.ndarray, regularisation: float
) -> LogisticRegression:
    """L2-regularised logistic regression (liblinear: deterministic with a fixed seed)."""
    classifier = LogisticRegression(
        C=regularisation, solver="liblinear", max_iter=1000, random_state=0
    )
    return classifier.fit(matrix, labels)


def out_of_fold_scores(
    matrix: sparse.csr_matrix, labels: np.ndarray, folds: np.ndarray, regularisation: float
) -> np.ndarray:
    """Decision scores for every row from a model trained without that row's fold."""
    scores = np.zeros(len(labels), dtype=np.float64)
    for fold in np.unique(folds):
        held_out = folds == fold
        classifier = fit_classifier(matrix[~held_out], labels[~held_out], regularisation)
        scores[held_out] = classifier.decision_function(matrix[held_out])
    return scores


def fit_platt_scaling(scores: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """(slope, intercept) of Platt scaling: P(positive) = sigmoid(slope * score + intercept)."""
    calibrator = LogisticRegression(C=1e6, solver="lbfgs", max_iter=1000)
    calibrator.fit(scores.reshape(-1, 1), labels)
    return float(calibrator.coef_[0, 0]), float(calibrator.intercept_[0])


def best_f1_threshold(labels: np.ndarray, probabilities: np.ndarray) -> float:
    """The probability threshold that maximises F1 of the positive class on dev."""
    order = np.argsort(-probabilities, kind="mergesort")
    sorted_probabilities = probabilities[order]
    true_positives = np.cumsum(labels[order])
    flagged = np.arange(1, len(labels) + 1)
    f1 = 2 * true_positives / (flagged + labels.sum())
    # Only cut between distinct probabilities; round down so the chosen sentence is flagged.
    valid = np.r_[np.diff(sorted_probabilities) != 0, True]
    best = int(np.argmax(np.where(valid, f1, -1.0)))
    return float(np.floor(sorted_probabilities[best] * 1000) / 1000)


def evaluate_on_dev(
    config: FeatureConfig,
    sentences: Sequence[LabelledSentence],
    labels: np.ndarray,
    folds: np.ndarray,
    regularisation_grid: Sequence[float],
) -> DevResult:
    """Out-of-fold scores of `config` at the regularisation with the best dev AP."""
    matrix = feature_matrix(TokenFeaturizer(config), sentences)
    best: DevResult | None = None
    for regularisation in regularisation_grid:
        scores = out_of_fold_scores(matrix, labels, folds, regularisation)
        result = DevResult(config, regularisation, scores, average_precision(labels, scores))
        progress(f"  C={regularisation:g}: dev AP {result.average_precision:.4f}")
        if best is None or result.average_precision > best.average_precision:
            best = result
    assert best is not None
    return best


def position_offset(
    weights: np.ndarray, config: FeatureConfig, sentences: Sequence[LabelledSentence]
) -> float:
    """Mean contribution of the position features over the training sentences."""
    if not config.position:
        return 0.0
    featurizer = TokenFeaturizer(config)
    with_position = featurizer.transform(
        [s.text for s in sentences], [s.position for s in sentences]
    )
    without_position = featurizer.transform([s.text for s in sentences], None)
    return float(np.mean(with_position.dot(weights) - without_position.dot(weights)))


def model_version(weights: np.ndarray, scalars: Sequence[float]) -> str:
    """A version string derived from the model's content, so retraining keeps it stable."""
    digest = zlib.crc32(weights.tobytes() + np.asarray(scalars, dtype=np.float64).tobytes())
    return f"checkworthiness-{MODEL_FORMAT_VERSION}.{digest:08x}"


def train_model(
    sentences: Sequence[LabelledSentence],
    config: FeatureConfig = DEFAULT_CONFIG,
    regularisation_grid: Sequence[float] = REGULARISATION_GRID,
    n_folds: int = N_FOLDS,
) -> TrainedModel:
    """Choose C, calibrate and pick the threshold on grouped out-of-fold dev scores, then refit."""
    labels = np.array([s.label for s in sentences], dtype=np.int64)
    folds = document_folds([s.document for s in sentences], n_folds)
    progress(f"{len(sentences)} training sentences, {labels.sum()} positive, {n_folds} folds")
    dev = evaluate_on_dev(config, sentences, labels, folds, regularisation_grid)
    slope, intercept = fit_platt_scaling(dev.raw_scores, labels)
    dev_probabilities = 1.0 / (1.0 + np.exp(-(slope * dev.raw_scores + intercept)))
    threshold = best_f1_threshold(labels, dev_probabilities)
    progress(f"chosen C={dev.regularisation:g}; refitting on all training sentences")
    classifier = fit_classifier(
        feature_matrix(TokenFeaturizer(config), sentences), labels, dev.regularisation
    )
    weights = classifier.coef_[0].astype(np.float32)
    bias = float(classifier.intercept_[0])
    unknown_offset = position_offset(weights, config, sentences)
    scalars = (bias, slope, intercept, threshold, unknown_offset)
    model = CheckworthinessModel(
        config=config,
        weights=weights,
        bias=bias,
        calibration_slope=slope,
        calibration_intercept=intercept,
        threshold=threshold,
        version=model_version(weights, scalars),
        unknown_position_offset=unknown_offset,
    )
    return TrainedModel(model=model, dev=dev, dev_probabilities=dev_probabilities, labels=labels)


ABLATIONS: tuple[tuple[str, dict[str, Any]], ...] = (
    (
        "word unigrams",
        {
            "word_bigrams": False,
            "word_trigrams": False,
            "shapes": False,
            "lexicon": False,
            "counts": False,
            "prefixes": False,
        },
    ),
    (
        "+ word bigrams",
        {
            "word_trigrams": False,
            "shapes": False,
            "lexicon": False,
            "counts": False,
            "prefixes": False,
        },
    ),
    (
        "+ shapes (numbers, years, %, names)",
        {"word_trigrams": False, "lexicon": False, "counts": False, "prefixes": False},
    ),
    (
        "+ lexicon (attribution, hedges, person)",
        {"word_trigrams": False, "counts": False, "prefixes": False},
    ),
    ("+ counts (length, numbers, names)", {"word_trigrams": False, "prefixes": False}),
    ("+ word prefixes", {"word_trigrams": False}),
    ("+ word trigrams (shipped)", {}),
    ("shipped + position (rejected)", {"position": True}),
    ("shipped + char 3,4-grams (rejected)", {"char_ngrams": True}),
)


def run_experiments(sentences: Sequence[LabelledSentence]) -> None:
    """Print dev AP and best F1 as feature groups are added one by one."""
    labels = np.array([s.label for s in sentences], dtype=np.int64)
    folds = document_folds([s.document for s in sentences], N_FOLDS)
    print("feature groups (cumulative)                 C     dev AP   dev best F1")
    for name, changes in ABLATIONS:
        config = dataclasses.replace(DEFAULT_CONFIG, **changes)
        progress(f"experiment: {name}")
        dev = evaluate_on_dev(config, sentences, labels, folds, REGULARISATION_GRID)
        slope, intercept = fit_platt_scaling(dev.raw_scores, labels)
        probabilities = 1.0 / (1.0 + np.exp(-(slope * dev.raw_scores + intercept)))
        threshold = best_f1_threshold(labels, probabilities)
        f1 = binary_metrics(labels.astype(bool), probabilities, threshold).f1
        print(f"{name:42s} {dev.regularisation:5g}   {dev.average_precision:.4f}   {f1:.4f}")


def print_dev_report(trained: TrainedModel) -> None:
    """Dev (out-of-fold, by debate) metrics of the chosen configuration on stdout."""
    labels = trained.labels.astype(bool)
    metrics = binary_metrics(labels, trained.dev_probabilities, trained.model.threshold)
    brier, ece = calibration_errors(labels, trained.dev_probabilities)
    print(f"model {trained.model.version}")
    print(f"dev (crowdsourced, {N_FOLDS}-fold by debate): C={trained.dev.regularisation:g}")
    print(
        f"  threshold {trained.model.threshold:.3f} (max F1 on dev): precision "
        f"{metrics.precision:.3f}  recall {metrics.recall:.3f}  F1 {metrics.f1:.3f}  "
        f"AP {metrics.average_precision:.3f}"
    )
    print(f"  calibration (Platt on dev): Brier {brier:.4f}  ECE {ece:.4f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Train on ClaimBuster crowdsourced and write the model file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", help="shared data folder (default: $FACTCHECK_DATA_DIR or ../shared/data)"
    )
    parser.add_argument("--out", default=str(DEFAULT_MODEL_PATH), help="model file to write")
    parser.add_argument(
        "--experiments", action="store_true", help="also print feature ablations on dev"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    sentences = load_claimbuster(data_dir(args.data), "crowdsourced")
    if args.experiments:
        run_experiments(sentences)
    trained = train_model(sentences)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    trained.model.save(out)
    print_dev_report(trained)
    progress(
        f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB) in {time.perf_counter() - started:.0f} s"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
