"""Tests for workers.matching.lsh: bounded, deterministic band keys that find near vectors."""

from __future__ import annotations

import numpy as np
import pytest

from workers.matching.lsh import BANDS, embedding_keys, hyperplanes, query_keys, recall_at_k


def unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)).astype(np.float32)


def test_every_vector_has_exactly_bands_keys_that_fit_a_bigint_and_never_collide_across_bands():
    vectors = unit(np.random.default_rng(1).normal(size=(50, 384)))
    keys = embedding_keys(vectors)
    assert keys.shape == (50, BANDS)
    assert keys.dtype == np.int64
    assert (keys > 0).all()
    bands = (keys >> 56) & 0x3F
    assert (bands == np.arange(BANDS)).all()
    assert ((keys >> 62) & 1).all()  # marked apart from the MinHash keys of similarity.py


def test_keys_are_the_same_in_every_process():
    planes = hyperplanes(2, 3, 4)
    assert planes.shape == (6, 4)
    # Fixed by BLAKE2b of fixed labels: a change here changes every stored key.
    assert np.allclose(hyperplanes(2, 3, 4), planes)
    vector = unit(np.arange(1, 385, dtype=np.float64))
    assert embedding_keys(vector).tolist() == embedding_keys(vector.copy()).tolist()
    # Pinned values, as computed when the keys were first stored: the same in any process,
    # machine or numpy version, or every stored key would have to be made again.
    assert planes[0] == pytest.approx([0.658284, -1.82156, 2.877101, -0.740423], abs=1e-5)
    assert embedding_keys(vector)[0].tolist()[:3] == [
        4611686018427388762,
        4683743612465316578,
        4755801206503244155,
    ]


def test_a_query_looks_up_its_own_keys_first_then_probes():
    vector = unit(np.random.default_rng(2).normal(size=384))
    own = embedding_keys(vector)[0].tolist()
    keys = query_keys(vector, probes=2)
    assert keys[:BANDS] == own
    assert len(keys) == BANDS * 3
    assert len(set(keys)) == len(keys)
    assert query_keys(vector, probes=0) == own


def test_near_copies_are_found_and_probing_finds_more():
    rng = np.random.default_rng(3)
    corpus = unit(rng.normal(size=(2000, 384)))
    # Each query is a corpus vector moved a little (cosine about 0.9 to it).
    queries = unit(corpus[:100] + 0.5 * unit(rng.normal(size=(100, 384))))
    wanted = [{i} for i in range(100)]
    plain = recall_at_k(corpus, queries, k=1, probes=0, wanted=wanted)
    probed = recall_at_k(corpus, queries, k=1, probes=4, wanted=wanted)
    assert plain.recall >= 0.8
    assert probed.recall >= plain.recall
    assert probed.recall >= 0.95
    assert probed.wanted_recall == probed.recall  # the exact top-1 is the moved vector
    assert probed.near_neighbours == 100  # each at cosine about 0.9, above NEAR_COSINE
    assert probed.near_recall == probed.recall
    # Unrelated vectors rarely share a key: few candidates per query.
    assert probed.candidate_fraction < 0.1
