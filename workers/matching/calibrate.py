"""Fit the confidence model of workers.matching.matcher on CLEF-2020 CheckThat! train qrels.

    python -m workers.matching.calibrate [--data DIR]

For every train tweet, the first stage's CANDIDATES best candidates become rows of FEATURES
labelled by the qrels; a logistic regression fitted on them is
the confidence (Platt scaling over several scores). The dev split only measures it (Brier
score and expected calibration error); the test split is never read here, and nothing of
CheckThat! 2022 is. Writes workers/matching/models/confidence.json. Needs scikit-learn (the
`train` extra); matching itself reads only the coefficients.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workers.extraction.evaluate import calibration_errors
from workers.matching.clef import RetrievalSet, load_retrieval_set
from workers.matching.matcher import CONFIDENCE_MODEL, FEATURES, ConfidenceModel, FactCheckIndex

__all__ = ["candidate_rows", "fit", "fit_model", "main", "model_file"]

FIT_SET = ("clef2020", "train")
CHECK_SET = ("clef2020", "dev")
REGULARISATION = 1.0
# Candidates a query contributes: past 30 the first stage hardly ever holds a relevant claim,
# and more negatives only push every confidence down.
CANDIDATES = 30


def candidate_rows(index: FactCheckIndex, data: RetrievalSet) -> tuple[np.ndarray, np.ndarray]:
    """Features and 0/1 labels of each query's CANDIDATES best first-stage candidates."""
    vectors = index.encoder.encode([text for _, text in data.queries])
    features: list[np.ndarray] = []
    labels: list[np.ndarray] = []
    for (query_id, text), vector in zip(data.queries, vectors, strict=True):
        rows, rows_features = index.first_stage(text, vector)
        rows, rows_features = rows[:CANDIDATES], rows_features[:CANDIDATES]
        keys = [index.records[int(row)].key for row in rows]
        features.append(rows_features)
        labels.append(np.array([key in data.relevant[query_id] for key in keys], dtype=float))
    return np.vstack(features), np.concatenate(labels)


def fit_model(features: np.ndarray, labels: np.ndarray) -> ConfidenceModel:
    """The logistic regression of 0/1 `labels` on rows of FEATURES, as the confidence model."""
    from sklearn.linear_model import LogisticRegression

    regression = LogisticRegression(C=REGULARISATION, max_iter=1000)
    regression.fit(features, labels)
    return ConfidenceModel(
        coef=tuple(float(c) for c in regression.coef_[0]),
        intercept=float(regression.intercept_[0]),
    )


def model_file(
    model: ConfidenceModel,
    fitted_on: str,
    labels: np.ndarray,
    checked_on: str,
    dev_features: np.ndarray,
    dev_labels: np.ndarray,
) -> dict[str, object]:
    """What confidence.json holds: the coefficients, what they were fitted on (`labels` the
    training rows' labels) and their Brier score and ECE on the rows of `checked_on`."""
    brier, ece = calibration_errors(dev_labels, model.confidence(dev_features))
    return {
        "features": list(FEATURES),
        "coef": [round(c, 6) for c in model.coef],
        "intercept": round(model.intercept, 6),
        "fitted_on": f"{fitted_on}, {len(labels)} candidates, {int(labels.sum())} relevant",
        "checked_on": {
            "set": checked_on,
            "candidates": len(dev_labels),
            "relevant": int(dev_labels.sum()),
            "brier": round(brier, 4),
            "expected_calibration_error": round(ece, 4),
        },
    }


def fit(root: Path | None = None) -> dict[str, object]:
    """The fitted model and its dev measurements, as written to confidence.json."""
    train = load_retrieval_set(*FIT_SET, root=root)
    unfitted = ConfidenceModel(coef=(0.0,) * len(FEATURES), intercept=0.0)
    index = FactCheckIndex(train.corpus, model=unfitted)
    x_train, y_train = candidate_rows(index, train)
    model = fit_model(x_train, y_train)
    dev = load_retrieval_set(*CHECK_SET, root=root)
    x_dev, y_dev = candidate_rows(index, dev)
    return model_file(
        model,
        f"{FIT_SET[0]} {FIT_SET[1]} qrels: {len(train.queries)} queries",
        y_train,
        f"{CHECK_SET[0]} {CHECK_SET[1]}",
        x_dev,
        y_dev,
    )


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m workers.matching.calibrate", description=__doc__
    )
    parser.add_argument("--data", type=Path, help="shared data folder (default ../shared/data)")
    parser.add_argument("--output", type=Path, default=CONFIDENCE_MODEL)
    args = parser.parse_args(argv)
    fitted = fit(args.data)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(fitted, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(fitted, indent=2))


if __name__ == "__main__":
    main()
