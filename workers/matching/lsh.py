"""Approximate nearest neighbours by embedding: random-hyperplane (SimHash) band keys.

Postgres 15 without pgvector cannot index vectors, but it indexes integers well, and the
project already keeps bounded rows of LSH keys per claim for near copies
(workers/extraction/similarity.py, MinHash bands of word bigrams). The same scheme serves
embeddings: each of BANDS bands takes ROWS random hyperplanes, and a vector's key in that band
is the pattern of sides it falls on. Two unit vectors at angle t fall on the same side of a
random hyperplane with probability 1 - t/pi, so they share a band's key with probability
(1 - t/pi)**ROWS and at least one of BANDS keys with 1 - (1 - (1 - t/pi)**ROWS)**BANDS.

Every stored vector has exactly BANDS keys (bounded rows). A query may also probe nearby
buckets: `query_keys(..., probes=P)` adds, per band, the keys with each of the P hyperplanes
it lies closest to flipped (the sides most likely to differ for a near neighbour), so recall
rises while the stored rows stay BANDS a vector. Candidates sharing a key are then re-ranked
by the exact cosine. `recall_at_k` measures that pipeline against exact search.

Deterministic across processes and machines: the hyperplanes come from BLAKE2b of fixed
strings (Box-Muller on its output), never from a random generator whose stream could change
between numpy versions. Changing BANDS, ROWS or the labels changes every key, so stored keys
would need recomputing.

Key layout (non-negative int64, Postgres bigint): bit 62 set marks an embedding key (MinHash
keys of similarity.py keep it clear, so both can share one column), the band index sits in
bits 56..61 and the ROWS side bits below.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from workers.extraction.encoder import EMBEDDING_DIM

__all__ = [
    "BANDS",
    "NEAR_COSINE",
    "PROBES",
    "ROWS",
    "LshRecall",
    "embedding_keys",
    "hyperplanes",
    "query_keys",
    "recall_at_k",
]

BANDS = 16
ROWS = 10
# Neighbouring buckets probed per band by default at query time, measured by
# `python -m workers.matching.evaluate` on CLEF-2020 test (10,375 claims): 6 probes find 98% of
# the exact top-10 at cosine >= 0.6 and 70% of the whole exact top-10, looking at 18% of rows.
PROBES = 6
# Neighbours at least this near are the ones that could be the same claim (matches confident
# enough to suggest sit above it): recall is measured for them apart.
NEAR_COSINE = 0.6
_MARKER = np.int64(1 << 62)
_BAND_SHIFT = 56


def _uniforms(label: str, count: int) -> np.ndarray:
    """`count` floats in (0, 1) from BLAKE2b of `label` and a counter."""
    chunks = []
    needed = count * 8
    counter = 0
    while needed > 0:
        block = hashlib.blake2b(f"{label}:{counter}".encode(), digest_size=64).digest()
        chunks.append(block)
        needed -= len(block)
        counter += 1
    raw = np.frombuffer(b"".join(chunks)[: count * 8], dtype="<u8")
    return (raw >> np.uint64(11)).astype(np.float64) / float(1 << 53) + 0.5 / float(1 << 53)


def hyperplanes(bands: int = BANDS, rows: int = ROWS, dim: int = EMBEDDING_DIM) -> np.ndarray:
    """(bands * rows, dim) Gaussian normals of the hyperplanes, fixed for these sizes."""
    count = bands * rows * dim
    u1 = _uniforms("factcheck-simhash-radius", count)
    u2 = _uniforms("factcheck-simhash-angle", count)
    normals = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return normals.reshape(bands * rows, dim).astype(np.float32)


_PLANES: dict[tuple[int, int, int], np.ndarray] = {}


def _planes(bands: int, rows: int, dim: int) -> np.ndarray:
    shape = (bands, rows, dim)
    if shape not in _PLANES:
        _PLANES[shape] = hyperplanes(bands, rows, dim)
    return _PLANES[shape]


def _pack(signs: np.ndarray, bands: int, rows: int) -> np.ndarray:
    weights = np.left_shift(np.int64(1), np.arange(rows, dtype=np.int64))
    bits = (signs.reshape(-1, bands, rows).astype(np.int64) * weights).sum(axis=2)
    band = np.left_shift(np.arange(bands, dtype=np.int64), _BAND_SHIFT)
    return _MARKER | band | bits


def embedding_keys(vectors: np.ndarray, bands: int = BANDS, rows: int = ROWS) -> np.ndarray:
    """(n, bands) int64 keys of each vector (the rows stored per claim or fact-check)."""
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32))
    projections = vectors @ _planes(bands, rows, vectors.shape[1]).T
    return _pack(projections >= 0, bands, rows)


def query_keys(
    vector: np.ndarray, probes: int = PROBES, bands: int = BANDS, rows: int = ROWS
) -> list[int]:
    """The keys to look up for one query vector: its own per band, then `probes` flips each."""
    vector = np.asarray(vector, dtype=np.float32).reshape(1, -1)
    projections = (vector @ _planes(bands, rows, vector.shape[1]).T).reshape(bands, rows)
    own = _pack(projections >= 0, bands, rows)[0]
    keys = [int(key) for key in own]
    if probes > 0:
        nearest = np.argsort(np.abs(projections), axis=1)[:, :probes]
        for band in range(bands):
            for row in nearest[band]:
                keys.append(int(own[band] ^ (np.int64(1) << np.int64(row))))
    return keys


@dataclass(frozen=True)
class LshRecall:
    """How LSH candidates re-ranked by cosine compare with exact search."""

    recall: float
    candidate_fraction: float
    k: int
    probes: int
    queries: int
    # The same recall for the exact top-k at cosine NEAR_COSINE or above, and how many those were.
    near_recall: float | None = None
    near_neighbours: int = 0
    # Share of the wanted rows (one set per query, when given) among the candidates.
    wanted_recall: float | None = None


def recall_at_k(
    corpus: np.ndarray,
    queries: np.ndarray,
    k: int = 10,
    probes: int = PROBES,
    wanted: Sequence[set[int]] | None = None,
    near: float = NEAR_COSINE,
) -> LshRecall:
    """Share of the queries' exact top-k found among their LSH candidates' top-k.

    Also the same share for the exact top-k at cosine `near` or above (the neighbours that
    could be the same claim) and, with `wanted` (rows that should be found for each query,
    such as its relevant fact-checks), the share of those among the candidates.
    """
    stored = embedding_keys(corpus)
    index: dict[int, list[int]] = {}
    for row, keys in enumerate(stored.tolist()):
        for key in keys:
            index.setdefault(key, []).append(row)
    found_exact = all_exact = found_near = all_near = 0
    fractions: list[float] = []
    hits = total = 0
    for number, query in enumerate(queries):
        scores = corpus @ query
        exact = np.argsort(-scores, kind="stable")[:k]
        candidates = {row for key in query_keys(query, probes) for row in index.get(key, ())}
        found = set(sorted(candidates, key=lambda row: -scores[row])[:k])
        near_rows = {int(row) for row in exact if scores[row] >= near}
        found_exact += len(found.intersection(exact.tolist()))
        all_exact += len(exact)
        found_near += len(found & near_rows)
        all_near += len(near_rows)
        fractions.append(len(candidates) / len(corpus))
        if wanted is not None:
            hits += len(wanted[number] & candidates)
            total += len(wanted[number])
    return LshRecall(
        recall=found_exact / all_exact if all_exact else 1.0,
        candidate_fraction=float(np.mean(fractions)) if fractions else 0.0,
        k=k,
        probes=probes,
        queries=len(queries),
        near_recall=found_near / all_near if all_near else None,
        near_neighbours=all_near,
        wanted_recall=hits / total if wanted is not None and total else None,
    )
