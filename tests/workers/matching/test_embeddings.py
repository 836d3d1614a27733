"""Tests for workers.matching.embeddings: a corpus is encoded once, keyed by its content."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from workers.extraction.encoder import load_encoder
from workers.matching.embeddings import encode_cached, texts_key


def test_a_corpus_is_encoded_once_and_read_back_from_the_cache(tmp_path: Path):
    encoder = load_encoder()
    texts = ["Bus fares doubled in Leeds.", "The moon is made of cheese."]
    first = encode_cached(texts, encoder, cache_dir=tmp_path)
    (cached,) = tmp_path.glob("*.npy")
    assert cached.name == f"{texts_key(encoder.version, texts)}.npy"
    assert np.allclose(first, encoder.encode(texts))
    # What is read back is the file, not a new encoding: overwrite it and see it come back.
    np.save(cached, np.ones_like(first))
    assert (encode_cached(texts, encoder, cache_dir=tmp_path) == 1.0).all()


def test_a_changed_text_or_order_is_a_new_key():
    key = texts_key("v1", ["a", "b"])
    assert texts_key("v1", ["b", "a"]) != key
    assert texts_key("v1", ["ab"]) != texts_key("v1", ["a", "b"])
    assert texts_key("v2", ["a", "b"]) != key
    assert texts_key("v1", ["a", "b"]) == key


def test_nothing_to_encode_is_an_empty_matrix(tmp_path: Path):
    assert encode_cached([], cache_dir=tmp_path).shape == (0, 384)
    assert list(tmp_path.iterdir()) == []
