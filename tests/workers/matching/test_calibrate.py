"""The calibration measure workers.matching.calibrate reports (the engine's own)."""

from __future__ import annotations

import numpy as np
import pytest

from workers.extraction.evaluate import calibration_errors


def expected_calibration_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
    return calibration_errors(labels, probabilities)[1]


def test_expected_calibration_error_is_zero_when_confidence_is_the_observed_rate():
    labels = np.array([1, 0, 0, 0, 1, 1, 1, 1, 0, 0], dtype=float)
    assert expected_calibration_error(
        np.array([0.25] * 4 + [0.75] * 4 + [0.25] * 2), labels
    ) == pytest.approx((6 / 10) * abs(1 / 6 - 0.25) + (4 / 10) * abs(1.0 - 0.75))
    assert expected_calibration_error(np.full(4, 0.5), np.array([1.0, 0.0, 1.0, 0.0])) == 0.0
