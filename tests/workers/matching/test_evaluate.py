"""Tests for workers.matching.evaluate: the hand-written hard cases."""

from __future__ import annotations

from workers.matching.evaluate import evaluate_hard_cases


def test_every_hand_written_hard_case_passes():
    results = evaluate_hard_cases()
    assert [name for name, passed, _ in results if not passed] == []
    assert {name for name, _, _ in results} >= {
        "paraphrase",
        "number",
        "unit",
        "date",
        "entity",
        "negation",
    }
