"""Sentence embeddings of many texts, cached on disk by content so a corpus is encoded once.

A fact-check corpus of ten thousand claims takes the encoder a minute or two; `encode_cached`
keys the result by the encoder graph's version (its cache key) and a hash of every text, so a
changed text, order or model is a new file and never a stale one. Files live under
FACTCHECK_MODEL_CACHE (see workers/extraction/encoder.py), in `matching/`, never in the
repository.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workers.extraction.encoder import (
    EMBEDDING_DIM,
    EncoderSettings,
    SentenceEncoder,
    load_encoder,
    write_atomically,
)

__all__ = ["embeddings_cache_dir", "encode_cached", "texts_key"]


def embeddings_cache_dir() -> Path:
    """Where encoded corpora are kept: FACTCHECK_MODEL_CACHE/matching."""
    return EncoderSettings.from_env().cache_dir / "matching"


def texts_key(encoder_version: str, texts: Sequence[str]) -> str:
    """A hex digest of the encoder's version and every text, in order."""
    digest = hashlib.sha256(encoder_version.encode())
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "little"))
        digest.update(encoded)
    return digest.hexdigest()


def encode_cached(
    texts: Sequence[str],
    encoder: SentenceEncoder | None = None,
    cache_dir: Path | None = None,
) -> np.ndarray:
    """(len(texts), 384) unit-length embeddings, read from the cache when encoded before."""
    if not texts:
        return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    encoder = load_encoder() if encoder is None else encoder
    directory = embeddings_cache_dir() if cache_dir is None else cache_dir
    path = directory / f"{texts_key(encoder.version, texts)}.npy"
    if path.exists():
        cached = np.load(path)
        if cached.shape == (len(texts), EMBEDDING_DIM):
            return cached
    embeddings = encoder.encode(list(texts))
    directory.mkdir(parents=True, exist_ok=True)
    # Written under a temporary name and renamed, so a concurrent reader never sees half a file.
    write_atomically(path, lambda temporary: _save(temporary, embeddings))
    return embeddings


def _save(path: str, embeddings: np.ndarray) -> None:
    with open(path, "wb") as file:  # a file, not a name: np.save would append ".npy" to it
        np.save(file, embeddings)
