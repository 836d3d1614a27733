"""Train, calibrate and export the check-worthiness model.

``python -m workers.extraction.train [--data DIR] [--out PATH] [--recipe NAME]
[--weight SOURCE=W ...] [--threshold-on all|news] [--grid C ...] [--no-embeddings]``

1. Training data, by recipe (RECIPES; the shipped one is DEFAULT_RECIPE). The target data
   is ClaimBuster ``crowdsourced.csv`` (Verdict 1 positive; 0 and -1 negative) and the train
   split of this team's news labels (``labels/news-text.tsv``), a news sentence weighing
   NEWS_WEIGHT. Auxiliary sets (the CheckThat! 2019/2020 debates or only their fact-checked
   lines, the PolitiFact claims, the subjective news sentences as negatives) join with a
   weight of their own, without any sentence that repeats an evaluation or target sentence.
   Each sentence's hashed features sit beside its sentence embedding; the embeddings are
   cached on disk by text hash (EMBEDDING_CACHE_ENV, default the temporary folder).
2. Development data: out-of-fold predictions of a 5-fold split *by document* (all sentences
   of one debate or article fall in the same fold), so every dev score comes from a model
   that never saw that document. Only the target rows are scored: the regularisation
   strength is chosen on them by average precision and Platt scaling is fitted on them. The
   default threshold maximises F1 of the positive class on the calibrated dev probabilities
   of the recipe's `threshold_on` rows (the shipped recipe: the news train split's).
3. The shipped model is refitted on all the training sentences with the chosen settings,
   and the dev Platt scaling and threshold are attached to it. ClaimBuster groundtruth,
   CheckThat! 2024 dev-test, newsclaims-dev and the news dev split are never used here:
   they are evaluation sets.

``--weight`` and ``--threshold-on`` change the recipe, to measure a variant (write it with
``--out`` elsewhere and read it with ``evaluate --model``). ``--no-embeddings`` trains the
baseline of hashed features on ClaimBuster only (the model shipped before the encoder,
``models/checkworthiness-linear.npz``). Progress lines go to stderr, dev metrics to stdout.
Everything is seeded and deterministic.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import tempfile
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
    load_checkthat,
    load_checkthat_debates,
    load_claimbuster,
    load_fact_checked_claims,
    load_news_text,
    load_newsclaims,
    load_subjectivity,
    normalised_text,
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
# Sentence embeddings are cached here between runs (never in the repository).
EMBEDDING_CACHE_ENV = "FACTCHECK_EMBEDDING_CACHE"


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
    # Whether each dev row is a news sentence (the rest are debate lines).
    dev_news: np.ndarray


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
        started = time.perf_counter()
        classifier = fit_classifier(matrix[~held_out], labels[~held_out], regularisation, weights)
        scores[held_out] = classifier.decision_function(matrix[held_out])
        progress(
            f"    C={regularisation:g} fold {fold + 1}/{len(np.unique(folds))} fitted "
            f"in {time.perf_counter() - started:.0f} s"
        )
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
    scored: np.ndarray | None = None,
) -> DevResult:
    """Out-of-fold scores of `config` at the regularisation with the best dev AP, the AP
    taken over the `scored` rows (all when None)."""
    matrix = feature_matrix(TokenFeaturizer(config), sentences, embeddings)
    rows = np.ones(len(labels), dtype=bool) if scored is None else scored
    best: DevResult | None = None
    for regularisation in regularisation_grid:
        scores = out_of_fold_scores(matrix, labels, folds, regularisation, sample_weights)
        ap = average_precision(labels[rows], scores[rows])
        result = DevResult(config, regularisation, scores, ap)
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
    scored: np.ndarray | None = None,
    threshold_rows: np.ndarray | None = None,
) -> TrainedModel:
    """Choose C, calibrate and pick the threshold on grouped out-of-fold dev scores, then refit.

    With `embeddings` (one row per sentence, from the shipped encoder) the model weighs them
    beside the hashed features; `sample_weights` count some sentences more than others.
    `scored` marks the rows whose out-of-fold scores choose C and fit Platt scaling (all when
    None: auxiliary data is trained on but not judged by); `threshold_rows` those whose F1 the
    threshold maximises (the scored rows when None).
    """
    labels = np.array([s.label for s in sentences], dtype=np.int64)
    folds = document_folds([s.document for s in sentences], n_folds)
    rows = np.ones(len(labels), dtype=bool) if scored is None else scored
    cut_rows = rows if threshold_rows is None else threshold_rows
    progress(
        f"{len(sentences)} training sentences, {labels.sum()} positive, {n_folds} folds; "
        f"{int(rows.sum())} scored on dev"
    )
    dev = evaluate_on_dev(
        config, sentences, labels, folds, regularisation_grid, embeddings, sample_weights, rows
    )
    slope, intercept = fit_platt_scaling(dev.raw_scores[rows], labels[rows])
    all_probabilities = 1.0 / (1.0 + np.exp(-(slope * dev.raw_scores + intercept)))
    threshold = best_f1_threshold(labels[cut_rows], all_probabilities[cut_rows])
    dev_probabilities = all_probabilities[rows]
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
    news = np.array([s.document.startswith("news-text:") for s in sentences], dtype=bool)
    return TrainedModel(
        model=model,
        dev=dev,
        dev_probabilities=dev_probabilities,
        labels=labels[rows],
        dev_news=news[rows],
    )


# The sets a recipe can train on. "claimbuster" and "news" are the target data: their
# out-of-fold scores choose C, fit Platt scaling and set the threshold. The others are
# auxiliary: trained on with their own weight, never judged by.
TARGET_SOURCES = ("claimbuster", "news")
AUXILIARY_SOURCES = ("checkthat-debates", "checkthat-positives", "fact-checked", "subjective")


@dataclass(frozen=True)
class Recipe:
    """What the model is trained on: a weight per source (a sentence of it counts that many
    ClaimBuster sentences), and which training rows the threshold maximises F1 on ("all" the
    scored rows, or "news": the news train split's out-of-fold predictions alone)."""

    weights: tuple[tuple[str, float], ...]
    threshold_on: str = "all"


RECIPES: dict[str, Recipe] = {
    # The first model with the encoder: its threshold set on debates and news together.
    "claimbuster+news": Recipe((("claimbuster", 1.0), ("news", NEWS_WEIGHT))),
    # The shipped model (MODEL_CARD.md, "Variants measured"): the CheckThat! 2019/2020
    # sentences a journalist fact-checked join as positives (their negatives are only "not
    # fact-checked", and hurt), and the threshold is the news train split's max-F1 one.
    "claimbuster+news+checkthat-positives": Recipe(
        (("claimbuster", 1.0), ("news", NEWS_WEIGHT), ("checkthat-positives", 1.0)),
        threshold_on="news",
    ),
}
DEFAULT_RECIPE = "claimbuster+news+checkthat-positives"


def source_sentences(directory: Path, source: str) -> list[LabelledSentence]:
    """The labelled sentences of one training source."""
    if source == "claimbuster":
        return load_claimbuster(directory, "crowdsourced")
    if source == "news":
        return load_news_text(directory, "train")
    if source == "checkthat-debates":
        return load_checkthat_debates(directory)
    if source == "checkthat-positives":
        return [s for s in load_checkthat_debates(directory) if s.label]
    if source == "fact-checked":
        return load_fact_checked_claims(directory)
    if source == "subjective":  # an author's opinion is not a check-worthy claim
        return [
            LabelledSentence(s.text, False, s.document)
            for s in load_subjectivity(directory)
            if s.label
        ]
    raise ValueError(f"unknown training source {source!r}")


def held_out_texts(directory: Path) -> set[str]:
    """Normalised texts of 6+ words of every evaluation set, which no training row may repeat."""
    evaluation = [
        *load_claimbuster(directory, "groundtruth"),
        *load_checkthat(directory),
        *load_newsclaims(directory),
        *load_news_text(directory, "dev"),
    ]
    return {key for s in evaluation if len((key := normalised_text(s.text)).split()) >= 6}


@dataclass(frozen=True)
class TrainingData:
    """The training sentences, how much each counts, which are scored on dev (the target
    sources), which set the threshold, and their embeddings (or None)."""

    sentences: list[LabelledSentence]
    sample_weights: np.ndarray
    scored: np.ndarray
    threshold_rows: np.ndarray
    embeddings: np.ndarray | None


def training_data(
    directory: Path, recipe: Recipe | None = None, *, embeddings: bool = True
) -> TrainingData:
    """The sentences of `recipe`'s sources (default: the shipped recipe), with their weights
    and embeddings. An auxiliary sentence whose normalised text (6+ words) is in an
    evaluation set or in the target data is left out, so nothing leaks into dev or eval."""
    recipe = RECIPES[DEFAULT_RECIPE] if recipe is None else recipe
    parts = {source: source_sentences(directory, source) for source, _ in recipe.weights}
    blocked = held_out_texts(directory) if set(parts) - set(TARGET_SOURCES) else set()
    for source in TARGET_SOURCES:
        blocked |= {normalised_text(s.text) for s in parts.get(source, [])}
    sentences: list[LabelledSentence] = []
    weights: list[float] = []
    scored: list[bool] = []
    is_news: list[bool] = []
    for source, weight in recipe.weights:
        rows = parts[source]
        if source not in TARGET_SOURCES:
            rows = [s for s in rows if normalised_text(s.text) not in blocked]
        progress(
            f"{source}: {len(rows)} sentences, {sum(s.label for s in rows)} positive, "
            f"weight {weight:g}"
        )
        sentences.extend(rows)
        weights.extend([weight] * len(rows))
        scored.extend([source in TARGET_SOURCES] * len(rows))
        is_news.extend([source == "news"] * len(rows))
    scored_rows = np.array(scored, dtype=bool)
    threshold_rows = np.array(is_news, dtype=bool) if recipe.threshold_on == "news" else scored_rows
    vectors = embed([s.text for s in sentences]) if embeddings else None
    return TrainingData(sentences, np.array(weights), scored_rows, threshold_rows, vectors)


def embedding_cache_dir(encoder_version: str) -> Path:
    """Where embeddings made by the encoder `encoder_version` are cached between runs:
    $FACTCHECK_EMBEDDING_CACHE, else the system's temporary folder, one subfolder per encoder
    graph (its file name holds the graph's cache key, so a rebuilt encoder starts afresh)."""
    root = os.environ.get(EMBEDDING_CACHE_ENV, "").strip()
    base = Path(root).expanduser() if root else Path(tempfile.gettempdir()) / "factcheck-embeddings"
    return base / encoder_version


KEY_BYTES = 20  # a SHA-1 digest


def text_key(text: str) -> bytes:
    """The cache key of a sentence: SHA-1 of its UTF-8 bytes."""
    return hashlib.sha1(text.encode("utf-8"), usedforsecurity=False).digest()


class EmbeddingCache:
    """Sentence embeddings on disk, keyed by text hash: shards of (keys, vectors) .npz files,
    each written whole under a temporary name and renamed, so readers never see half a shard."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._rows: dict[bytes, np.ndarray] = {}
        for shard in sorted(directory.glob("*.npz")) if directory.is_dir() else []:
            with np.load(shard) as content:
                keys, vectors = content["keys"], content["vectors"]
            # Each key's 20 bytes as they are: an "S20" element would drop trailing NULs
            # (shards written before this were "S20"; the view reads those whole too).
            digests = keys.view(np.uint8).reshape(len(keys), KEY_BYTES)
            self._rows.update(zip((d.tobytes() for d in digests), vectors, strict=True))

    def get(self, key: bytes) -> np.ndarray | None:
        return self._rows.get(key)

    def add(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store `vectors` under `keys`, in memory and as one new shard."""
        self._rows.update(zip(keys, vectors, strict=True))
        self.directory.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(b"".join(keys), usedforsecurity=False).hexdigest()[:20]
        partial = self.directory / f".{name}.{os.getpid()}.tmp.npz"
        digests = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
        np.savez(partial, keys=digests, vectors=vectors)
        partial.replace(self.directory / f"{name}.npz")


def embed(texts: Sequence[str], cache: bool = True) -> np.ndarray:
    """The shipped encoder's embeddings of `texts` (a sentence's vector does not depend on
    the sentences batched with it, so it can be cached), with progress on
    stderr. With `cache`, vectors of texts seen in an earlier run are read back instead."""
    from workers.extraction.encoder import EMBEDDING_DIM, load_encoder

    encoder = load_encoder()
    store = EmbeddingCache(embedding_cache_dir(encoder.version)) if cache else None
    keys = [text_key(text) for text in texts]
    missing: dict[bytes, str] = {}
    for key, text in zip(keys, texts, strict=True):
        if (store is None or store.get(key) is None) and key not in missing:
            missing[key] = text
    if store is not None:
        progress(
            f"{len(texts) - len(missing)} of {len(texts)} embeddings cached in {store.directory}"
        )
    fresh: dict[bytes, np.ndarray] = {}
    started = time.perf_counter()
    todo = list(missing.items())
    step = 4096
    for first in range(0, len(todo), step):
        chunk = todo[first : first + step]
        vectors = encoder.encode([text for _, text in chunk])
        chunk_keys = [key for key, _ in chunk]
        if store is not None:
            store.add(chunk_keys, vectors)
        fresh.update(zip(chunk_keys, vectors, strict=True))
        done = first + len(chunk)
        rate = done / max(time.perf_counter() - started, 1e-9)
        progress(f"encoded {done}/{len(todo)} sentences ({rate:.0f}/s)")
    out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
    for row, key in enumerate(keys):
        vector = fresh.get(key)
        out[row] = vector if vector is not None else store.get(key)  # type: ignore[union-attr]
    return out


def print_dev_report(trained: TrainedModel) -> None:
    """Dev (out-of-fold, by document) metrics of the chosen configuration on stdout: all the
    scored rows, then debates and news apart, with the threshold news alone would choose."""
    labels = trained.labels.astype(bool)
    probabilities = trained.dev_probabilities
    threshold = trained.model.threshold
    brier, ece = calibration_errors(labels, probabilities)
    print(f"model {trained.model.version}")
    print(f"dev ({N_FOLDS}-fold by document): C={trained.dev.regularisation:g}")
    for name, rows in (
        ("all", np.ones(len(labels), dtype=bool)),
        ("debates", ~trained.dev_news),
        ("news", trained.dev_news),
    ):
        if rows.any() and labels[rows].any():
            metrics = binary_metrics(labels[rows], probabilities[rows], threshold)
            print(
                f"  {name}, threshold {threshold:.3f}: precision {metrics.precision:.3f}  "
                f"recall {metrics.recall:.3f}  F1 {metrics.f1:.3f}  "
                f"AP {metrics.average_precision:.3f}  flagged {metrics.flagged_fraction:.3f}"
            )
    if trained.dev_news.any() and labels[trained.dev_news].any():
        news_threshold = best_f1_threshold(
            labels[trained.dev_news].astype(np.int64), probabilities[trained.dev_news]
        )
        print(f"  max-F1 threshold of the news rows alone: {news_threshold:.3f}")
    print(f"  calibration (Platt on dev): Brier {brier:.4f}  ECE {ece:.4f}")


def main(argv: Sequence[str] | None = None) -> int:
    """Train on the recipe's sets and write the model file."""
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
    parser.add_argument(
        "--recipe", choices=sorted(RECIPES), default=DEFAULT_RECIPE, help="default: %(default)s"
    )
    parser.add_argument(
        "--weight",
        action="append",
        default=[],
        metavar="SOURCE=W",
        help=f"change a source's weight in the recipe (0 drops it); sources: "
        f"{', '.join((*TARGET_SOURCES, *AUXILIARY_SOURCES))}",
    )
    parser.add_argument("--threshold-on", choices=("all", "news"), help="override the recipe's")
    parser.add_argument(
        "--grid", type=float, nargs="+", help="C values to choose from (default: 0.5 1 2)"
    )
    args = parser.parse_args(argv)
    started = time.perf_counter()
    directory = data_dir(args.data)
    if args.no_embeddings:
        sentences = load_claimbuster(directory, "crowdsourced")
        trained = train_model(sentences, regularisation_grid=BASELINE_REGULARISATION_GRID)
    else:
        recipe = RECIPES[args.recipe]
        if args.weight or args.threshold_on:  # a variant of the recipe, to measure it
            weights = dict(recipe.weights)
            for item in args.weight:
                source, _, value = item.partition("=")
                if source not in (*TARGET_SOURCES, *AUXILIARY_SOURCES):
                    parser.error(f"unknown source {source!r} in --weight")
                weights[source] = float(value)
            recipe = Recipe(
                tuple((source, w) for source, w in weights.items() if w > 0),
                args.threshold_on or recipe.threshold_on,
            )
        progress(f"recipe {args.recipe}: {recipe}")
        data = training_data(directory, recipe)
        trained = train_model(
            data.sentences,
            regularisation_grid=tuple(args.grid) if args.grid else REGULARISATION_GRID,
            embeddings=data.embeddings,
            sample_weights=data.sample_weights,
            scored=data.scored,
            threshold_rows=data.threshold_rows,
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
