"""Train, calibrate and export the check-worthiness model.

``python -m workers.extraction.train [--data DIR] [--out PATH] [--no-embeddings]``

1. Training data: ClaimBuster ``crowdsourced.csv`` (Verdict 1 positive; 0 and -1 negative)
   and the train split of this team's news labels (``labels/news-text.tsv``), a news sentence
   weighing NEWS_WEIGHT; each sentence's hashed features beside its sentence embedding.
2. Development data: out-of-fold predictions of a 5-fold split *by document* (all sentences
   of one debate or article fall in the same fold), so every dev score comes from a model
   that never saw that document. The regularisation strength is chosen on them by average
   precision, Platt scaling is fitted on them, and the default threshold is the one that
   maximises F1 of the positive class on the calibrated dev probabilities.
3. The shipped model is refitted on all the training sentences with the chosen settings,
   and the dev Platt scaling and threshold are attached to it. ClaimBuster groundtruth,
   CheckThat! 2024 dev-test, newsclaims-dev and the news dev split are never used here:
   they are evaluation sets.

``--no-embeddings`` trains the baseline of hashed features on ClaimBuster only (the model
shipped before the encoder, ``models/checkworthiness-linear.npz``). Progress lines go to
stderr, dev metrics to stdout. Everything is seeded and deterministic.
"""

from __future__ import annotations

import argparse
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

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
    load_news_text,
)
from workers.extraction.features import FeatureConfig, TokenFeaturizer

MODEL_FORMAT_VERSION = "1"
N_FOLDS = 5
REGULARISATION_GRID = (0.5, 1.0, 2.0)
# The grid the hashed-features-only baseline (checkworthiness-linear.npz) was chosen on.
BASELINE_REGULARISATION_GRID = (2.0, 4.0, 8.0, 16.0)
DEFAULT_CONFIG = FeatureConfig()
# The embedding block's scale beside the hashed features (whose values are mostly 0/1 and a
# few counts): one L2 penalty applies to both, so the scale sets their relative freedom.
EMBEDDING_SCALE = 1.0
# A sentence of this team's news labels counts as much as this many ClaimBuster sentences:
# news is what the service reads, and it has 1,280 labelled sentences to ClaimBuster's 22,501.
NEWS_WEIGHT = 4.0


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
    featurizer: TokenFeaturizer,
    sentences: Sequence[LabelledSentence],
    embeddings: np.ndarray | None = None,
    embedding_scale: float = EMBEDDING_SCALE,
) -> sparse.csr_matrix:
    """Feature matrix of labelled sentences (positions passed when all are known): the hashed
    features, then the sentence embeddings times `embedding_scale` when there are some."""
    texts = [s.text for s in sentences]
    positions = [s.position for s in sentences]
    batch = featurizer.transform(texts, None if None in positions else positions)
    hashed = sparse.csr_matrix(
        (batch.values, (batch.rows, batch.cols)), shape=(batch.n_rows, batch.n_cols)
    )
    if embeddings is None:
        return hashed
    return sparse.hstack([hashed, sparse.csr_matrix(embedding_scale * embeddings)], "csr")


def document_folds(documents: Sequence[str], n_folds: int) -> np.ndarray:
    """Fold number per sentence; documents are dealt to folds in sorted order, round robin."""
    fold_of_document = {doc: i % n_folds for i, doc in enumerate(sorted(set(documents)))}
    return np.array([fold_of_document[doc] for doc in documents], dtype=np.int64)


def fit_classifier(
    matrix: sparse.csr_matrix,
    labels: np.ndarray,
    regularisation: float,
    sample_weights: np.ndarray | None = None,
) -> LogisticRegression:
    """L2-regularised logistic regression (liblinear: deterministic with a fixed seed)."""
    classifier = LogisticRegression(
        C=regularisation, solver="liblinear", max_iter=2000, random_state=0
    )
    return classifier.fit(matrix, labels, sample_weight=sample_weights)


def out_of_fold_scores(
    matrix: sparse.csr_matrix,
    labels: np.ndarray,
    folds: np.ndarray,
    regularisation: float,
    sample_weights: np.ndarray | None = None,
) -> np.ndarray:
    """Decision scores for every row from a model trained without that row's fold."""
    scores = np.zeros(len(labels), dtype=np.float64)
    for fold in np.unique(folds):
        held_out = folds == fold
        weights = None if sample_weights is None else sample_weights[~held_out]
        classifier = fit_classifier(matrix[~held_out], labels[~held_out], regularisation, weights)
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
    embeddings: np.ndarray | None = None,
    sample_weights: np.ndarray | None = None,
) -> DevResult:
    """Out-of-fold scores of `config` at the regularisation with the best dev AP."""
    matrix = feature_matrix(TokenFeaturizer(config), sentences, embeddings)
    best: DevResult | None = None
    for regularisation in regularisation_grid:
        scores = out_of_fold_scores(matrix, labels, folds, regularisation, sample_weights)
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


def model_version(
    weights: np.ndarray, scalars: Sequence[float], embedding_weights: np.ndarray | None = None
) -> str:
    """A version string derived from the model's content, so retraining keeps it stable."""
    content = weights.tobytes() + np.asarray(scalars, dtype=np.float64).tobytes()
    if embedding_weights is not None:
        content += embedding_weights.tobytes()
    return f"checkworthiness-{MODEL_FORMAT_VERSION}.{zlib.crc32(content):08x}"


def train_model(
    sentences: Sequence[LabelledSentence],
    config: FeatureConfig = DEFAULT_CONFIG,
    regularisation_grid: Sequence[float] = REGULARISATION_GRID,
    n_folds: int = N_FOLDS,
    embeddings: np.ndarray | None = None,
    sample_weights: np.ndarray | None = None,
) -> TrainedModel:
    """Choose C, calibrate and pick the threshold on grouped out-of-fold dev scores, then refit.

    With `embeddings` (one row per sentence, from the shipped encoder) the model weighs them
    beside the hashed features; `sample_weights` count some sentences more than others.
    """
    labels = np.array([s.label for s in sentences], dtype=np.int64)
    folds = document_folds([s.document for s in sentences], n_folds)
    progress(f"{len(sentences)} training sentences, {labels.sum()} positive, {n_folds} folds")
    dev = evaluate_on_dev(
        config, sentences, labels, folds, regularisation_grid, embeddings, sample_weights
    )
    slope, intercept = fit_platt_scaling(dev.raw_scores, labels)
    dev_probabilities = 1.0 / (1.0 + np.exp(-(slope * dev.raw_scores + intercept)))
    threshold = best_f1_threshold(labels, dev_probabilities)
    progress(f"chosen C={dev.regularisation:g}; refitting on all training sentences")
    classifier = fit_classifier(
        feature_matrix(TokenFeaturizer(config), sentences, embeddings),
        labels,
        dev.regularisation,
        sample_weights,
    )
    coefficients = classifier.coef_[0].astype(np.float32)
    weights = coefficients[: config.n_features]
    embedding_weights = None
    if embeddings is not None:  # the scale folded in: the model reads raw embeddings
        embedding_weights = coefficients[config.n_features :] * np.float32(EMBEDDING_SCALE)
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
        version=model_version(weights, scalars, embedding_weights),
        unknown_position_offset=unknown_offset,
        embedding_weights=embedding_weights,
    )
    return TrainedModel(model=model, dev=dev, dev_probabilities=dev_probabilities, labels=labels)


@dataclass(frozen=True)
class TrainingData:
    """The training sentences, how much each counts, and their embeddings (or None)."""

    sentences: list[LabelledSentence]
    sample_weights: np.ndarray
    embeddings: np.ndarray | None


def training_data(directory: Path, *, embeddings: bool = True) -> TrainingData:
    """ClaimBuster crowdsourced and the train split of this team's news labels, a news
    sentence counting NEWS_WEIGHT debate sentences; with their sentence embeddings."""
    debates = load_claimbuster(directory, "crowdsourced")
    news = load_news_text(directory, "train")
    sentences = debates + news
    weights = np.r_[np.ones(len(debates)), np.full(len(news), NEWS_WEIGHT)]
    vectors = embed([s.text for s in sentences]) if embeddings else None
    return TrainingData(sentences, weights, vectors)


def embed(texts: Sequence[str]) -> np.ndarray:
    """The shipped encoder's embeddings of `texts`, with progress on stderr."""
    from workers.extraction.encoder import load_encoder

    encoder = load_encoder()
    started = time.perf_counter()
    chunks = []
    step = 4096
    for first in range(0, len(texts), step):
        chunks.append(encoder.encode(texts[first : first + step]))
        done = min(first + step, len(texts))
        rate = done / max(time.perf_counter() - started, 1e-9)
        progress(f"encoded {done}/{len(texts)} sentences ({rate:.0f}/s)")
    return np.concatenate(chunks) if chunks else np.zeros((0, 384), dtype=np.float32)


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
    """Train on ClaimBuster crowdsourced and the news labels, and write the model file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data", help="shared data folder (default: $FACTCHECK_DATA_DIR or ../shared/data)"
    )
    parser.add_argument("--out", default=str(DEFAULT_MODEL_PATH), help="model file to write")
    parser.add_argument(
        "--no-embeddings",
        action="store_true",
        help="the hashed features only, as the baseline model (checkworthiness-linear.npz)",
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    directory = data_dir(args.data)
    if args.no_embeddings:
        sentences = load_claimbuster(directory, "crowdsourced")
        trained = train_model(sentences, regularisation_grid=BASELINE_REGULARISATION_GRID)
    else:
        data = training_data(directory)
        trained = train_model(
            data.sentences,
            embeddings=data.embeddings,
            sample_weights=data.sample_weights,
        )
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
