"""Tests for workers.matching.lsh_study: the grown corpus keeps the real claims and their shape."""

from __future__ import annotations

import numpy as np

from workers.matching.lsh_study import grown_corpus


def test_a_grown_corpus_keeps_every_claim_and_adds_unit_vectors_near_them():
    rng = np.random.default_rng(5)
    # Claims in 20 tight topics, as real claims cluster.
    topics = rng.normal(size=(20, 384))
    claims = topics[rng.integers(0, 20, 400)] + 0.3 * rng.normal(size=(400, 384))
    claims = (claims / np.linalg.norm(claims, axis=1, keepdims=True)).astype(np.float32)
    grown = grown_corpus(claims, 2000, np.random.default_rng(6))
    assert grown.shape == (2000, 384)
    assert np.allclose(np.linalg.norm(grown, axis=1), 1.0, atol=1e-5)
    # Every real claim is in it once; the rest are new vectors.
    real = {row.tobytes() for row in claims}
    kept = [row.tobytes() in real for row in grown]
    assert sum(kept) == 400
    synthetic = grown[~np.array(kept)]
    # Synthetic vectors sit in the claims' topics (as near to a claim as claims are to each
    # other), not off in random directions.
    nearest_synthetic = (synthetic @ claims.T).max(axis=1)
    between_claims = claims @ claims.T
    np.fill_diagonal(between_claims, -1.0)
    nearest_claim = between_claims.max(axis=1)
    assert abs(np.median(nearest_synthetic) - np.median(nearest_claim)) < 0.15
    assert np.median(nearest_synthetic) > 0.5
    assert np.median(nearest_synthetic) < 0.97  # new vectors, not copies of claims
    # A corpus no larger than the claims is a shuffled subset of them.
    assert sorted(r.tobytes() for r in grown_corpus(claims, 400, rng)) == sorted(real)
