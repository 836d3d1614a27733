"""Check-worthiness scorer: sentences in, calibrated probabilities of a check-worthy claim out.

The model is a linear classifier over hashed features (:mod:`workers.extraction.features`)
and, when it was trained with one, the sentence's embedding from the shipped encoder
(:mod:`workers.extraction.encoder`), followed by Platt scaling. It is stored as a compressed
``.npz`` of its non-zero weights; the model is trained by :mod:`workers.extraction.train`.
"""

from __future__ import annotations

import functools
import os
import zipfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workers.extraction.features import FeatureConfig, TokenFeaturizer

__all__ = ["BASELINE_MODEL_PATH", "DEFAULT_MODEL_PATH", "CheckworthinessModel", "load_model"]

DEFAULT_MODEL_PATH = Path(__file__).resolve().parent / "models" / "checkworthiness.npz"
# The model of hashed features only that shipped before the encoder: kept to measure against.
BASELINE_MODEL_PATH = DEFAULT_MODEL_PATH.with_name("checkworthiness-linear.npz")
FIXED_ARCHIVE_TIMESTAMP = (1980, 1, 1, 0, 0, 0)
SCORING_CHUNK_SENTENCES = 4096


class CheckworthinessModel:
    """A calibrated linear check-worthiness scorer."""

    def __init__(
        self,
        config: FeatureConfig,
        weights: np.ndarray,
        bias: float,
        calibration_slope: float,
        calibration_intercept: float,
        threshold: float,
        version: str,
        unknown_position_offset: float = 0.0,
        embedding_weights: np.ndarray | None = None,
    ) -> None:
        self.config = config
        self.weights = weights
        self.bias = bias
        self.calibration_slope = calibration_slope
        self.calibration_intercept = calibration_intercept
        self.threshold = threshold
        self.version = version
        # Expected contribution of the position features over the training sentences, added
        # when a position is unknown so such sentences are not shifted in either direction.
        self.unknown_position_offset = unknown_position_offset
        # Weights of the sentence embedding, or None for a model of the hashed features only.
        self.embedding_weights = embedding_weights
        self._featurizer = TokenFeaturizer(config)

    @property
    def uses_embeddings(self) -> bool:
        return self.embedding_weights is not None

    def decision_function(
        self,
        sentences: Sequence[str],
        positions: Sequence[float | None] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> np.ndarray:
        """Uncalibrated linear scores (log-odds before Platt scaling).

        `embeddings` are the sentences' encodings, one row each; a model that uses them
        encodes the sentences itself when they are not given.
        """
        batch = self._featurizer.transform(sentences, positions)
        scores = batch.dot(self.weights) + self.bias
        if self.embedding_weights is not None:
            if embeddings is None:
                from workers.extraction.encoder import load_encoder  # onnxruntime: when needed

                embeddings = load_encoder().encode(sentences)
            if embeddings.shape != (len(sentences), self.embedding_weights.shape[0]):
                raise ValueError("embeddings must have one row of the encoder's size per sentence")
            scores = scores + embeddings @ self.embedding_weights
        if self.config.position:
            if positions is None:
                scores += self.unknown_position_offset
            else:
                unknown = np.array([p is None for p in positions], dtype=bool)
                scores[unknown] += self.unknown_position_offset
        return scores

    def score(
        self,
        sentences: Sequence[str],
        positions: Sequence[float | None] | None = None,
        embeddings: np.ndarray | None = None,
    ) -> list[float]:
        """Probability (0..1) that each sentence is a check-worthy factual claim.

        `positions` are the sentences' relative positions in their document (0 = first,
        1 = last), or None when unknown; `embeddings` their encodings, when already made.
        """
        if len(sentences) == 0:
            return []
        if positions is not None and len(positions) != len(sentences):
            raise ValueError("positions must have one entry per sentence")
        if embeddings is not None and len(embeddings) != len(sentences):
            raise ValueError("embeddings must have one row per sentence")
        chunk = SCORING_CHUNK_SENTENCES
        # Chunks bound the memory of the intermediate arrays however large the batch is.
        raw_scores = np.concatenate(
            [
                self.decision_function(
                    sentences[start : start + chunk],
                    None if positions is None else positions[start : start + chunk],
                    None if embeddings is None else embeddings[start : start + chunk],
                )
                for start in range(0, len(sentences), chunk)
            ]
        )
        logits = self.calibration_slope * raw_scores + self.calibration_intercept
        return (1.0 / (1.0 + np.exp(-logits))).tolist()

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the model as a compressed .npz holding only the non-zero weights.

        The archive is written with fixed member timestamps (``np.savez_compressed`` stamps
        the current time), so retraining on the same data gives a byte-identical file.
        """
        nonzero = np.flatnonzero(self.weights)
        arrays = {
            "config": np.array(self.config.to_json()),
            "weight_indices": nonzero.astype(np.uint32),
            "weight_values": self.weights[nonzero].astype(np.float32),
            "scalars": np.array(
                [
                    self.bias,
                    self.calibration_slope,
                    self.calibration_intercept,
                    self.threshold,
                    self.unknown_position_offset,
                ],
                dtype=np.float64,
            ),
            "version": np.array(self.version),
        }
        if self.embedding_weights is not None:
            arrays["embedding_weights"] = self.embedding_weights.astype(np.float32)
        with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, array in arrays.items():
                member = zipfile.ZipInfo(f"{name}.npy", date_time=FIXED_ARCHIVE_TIMESTAMP)
                member.compress_type = zipfile.ZIP_DEFLATED
                with archive.open(member, "w") as handle:
                    np.lib.format.write_array(handle, array, allow_pickle=False)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> CheckworthinessModel:
        """Read a model written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as stored:
            config = FeatureConfig.from_json(str(stored["config"]))
            weights = np.zeros(config.n_features, dtype=np.float32)
            weights[stored["weight_indices"]] = stored["weight_values"]
            bias, slope, intercept, threshold, unknown_offset = stored["scalars"].tolist()
            version = str(stored["version"])
            embedding_weights = (
                stored["embedding_weights"] if "embedding_weights" in stored.files else None
            )
        return cls(
            config=config,
            weights=weights,
            bias=bias,
            calibration_slope=slope,
            calibration_intercept=intercept,
            threshold=threshold,
            version=version,
            unknown_position_offset=unknown_offset,
            embedding_weights=embedding_weights,
        )


@functools.cache
def _load_default_model() -> CheckworthinessModel:
    return CheckworthinessModel.load(DEFAULT_MODEL_PATH)


def load_model(path: str | os.PathLike[str] | None = None) -> CheckworthinessModel:
    """The model at `path`, or the shipped model (loaded once and cached) when None."""
    if path is None:
        return _load_default_model()
    return CheckworthinessModel.load(path)
