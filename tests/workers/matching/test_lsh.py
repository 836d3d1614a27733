"""Tests for workers.matching.lsh: bounded, deterministic band keys that find near vectors."""

from __future__ import annotations

import numpy as np
import pytest

from workers.matching.lsh import (
    AXES,
    BANDS,
    HASHES,
    QUERY_KEYS,
    BandIndex,
    embedding_center,
    embedding_keys,
    hyperplanes,
    query_keys,
    ranked_query_keys,
    recall_at_k,
)


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
    value = keys & ((1 << 56) - 1)
    assert (value < (2 * AXES) ** HASHES).all()
    # Each hash is a vertex of the cross-polytope: one of 2 * AXES, and all of them are used.
    assert len(np.unique(value % (2 * AXES))) > AXES


def test_keys_are_the_same_in_every_process():
    planes = hyperplanes(2, 3, 4)
    assert planes.shape == (6, 4)
    # Fixed by BLAKE2b of fixed labels: a change here changes every stored key.
    assert np.allclose(hyperplanes(2, 3, 4), planes)
    vector = unit(np.arange(1, 385, dtype=np.float64))
    assert embedding_keys(vector).tolist() == embedding_keys(vector.copy()).tolist()
    # Pinned values: the same in any process, machine or numpy version, or every stored key
    # would have to be made again.
    assert planes[0] == pytest.approx([0.658284, -1.82156, 2.877101, -0.740423], abs=1e-5)
    assert embedding_keys(vector)[0].tolist()[:3] == [
        4611686018427397628,
        4683743612465333038,
        4755801206503270020,
    ]


def test_keys_hash_from_the_claims_mean_not_the_origin():
    center = embedding_center()
    assert center.shape == (384,)
    # MiniLM embeddings share a common direction; hashed from the origin, most vectors would
    # crowd into the buckets of the axes nearest it.
    assert 0.25 < float(np.linalg.norm(center)) < 0.4
    shifted = unit(np.random.default_rng(4).normal(size=(5, 384)))
    assert embedding_keys(shifted + center).tolist() != embedding_keys(shifted).tolist()


def test_a_query_looks_up_its_own_keys_first_then_the_likeliest_neighbouring_buckets():
    vector = unit(np.random.default_rng(2).normal(size=384))
    own = embedding_keys(vector)[0].tolist()
    keys = query_keys(vector)
    assert len(keys) == QUERY_KEYS
    assert sorted(keys[:BANDS]) == sorted(own)
    assert len(set(keys)) == len(keys)
    assert query_keys(vector, count=BANDS) == keys[:BANDS]
    assert ranked_query_keys(np.stack([vector, vector]), 40).tolist() == [keys[:40]] * 2
    with pytest.raises(ValueError, match="at most"):
        query_keys(vector, count=10**6)


def test_a_lookup_reads_the_lowest_ids_of_each_key_up_to_the_cap():
    stored = np.array([[5, 7], [5, 8], [5, 7], [6, 7]], dtype=np.int64)
    index = BandIndex(stored)
    ids, positions = index.lookup([7, 9, 5], read_cap=2)
    assert ids.tolist() == [0, 2, 0, 1]  # key 7: ids 0, 2 (3 left out); key 9: none; key 5: 0, 1
    assert positions.tolist() == [0, 0, 2, 2]
    ids, _ = index.lookup([7, 5], read_cap=None)
    assert ids.tolist() == [0, 2, 3, 0, 1, 2]


def test_near_copies_are_found_and_probing_finds_more():
    rng = np.random.default_rng(3)
    corpus = unit(rng.normal(size=(2000, 384)))
    # Each query is a corpus vector moved a little (cosine about 0.67 to it).
    queries = unit(corpus[:100] + 1.1 * unit(rng.normal(size=(100, 384))))
    wanted = [{i} for i in range(100)]
    plain, probed = recall_at_k(corpus, queries, k=1, budgets=(BANDS, QUERY_KEYS), wanted=wanted)
    assert plain.keys == BANDS
    assert plain.recall >= 0.6
    assert probed.recall >= plain.recall + 0.15
    assert probed.recall >= 0.95
    assert probed.wanted_recall == probed.recall  # the exact top-1 is the moved vector
    assert probed.near_neighbours == 100  # each at cosine about 0.67, above NEAR_COSINE
    assert probed.near_recall == probed.recall
    # Unrelated vectors rarely share a key: few candidates per query.
    assert probed.candidate_fraction < 0.1
    assert probed.rows_read >= probed.candidates
