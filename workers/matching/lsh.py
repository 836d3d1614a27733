"""Approximate nearest neighbours by embedding: cross-polytope band keys, probed by likelihood.

Postgres 15 without pgvector cannot index vectors, but it indexes integers well, and the
project already keeps bounded rows of LSH keys per claim for near copies
(workers/extraction/similarity.py, MinHash bands of word bigrams). The same scheme serves
embeddings. Each of BANDS bands projects a vector on HASHES groups of AXES fixed random
directions; a group's hash is the direction the vector lies closest to, with its sign (the
nearest vertex of a cross-polytope, 2 * AXES values), and the band's key is the HASHES hashes
together. Cross-polytope hashing (Andoni, Indyk, Laarhoven, Razenshteyn, Schmidt, "Practical
and optimal LSH for angular distance", NeurIPS 2015; the FALCONN library) separates near from
far vectors better than random hyperplanes for the same number of buckets: measured here at
the same rows read, it finds clearly more of the exact neighbours (see below).

Every stored vector has exactly BANDS keys (bounded rows). A query looks up QUERY_KEYS keys:
its own BANDS keys, then the neighbouring buckets across all bands in the order a near
neighbour is most likely to fall in them (query-directed multi-probe, Lv et al. 2007: a
group's alternative is the direction whose projection comes closest to the largest, and a
bucket's cost is the sum of its groups' shortfalls), so the probes go where they help most
instead of a fixed number per band. At most READ_CAP ids are read per key, so a query reads at
most QUERY_KEYS * READ_CAP rows, however skewed the buckets become. Candidates are then
re-ranked by the exact cosine; `recall_at_k` measures that pipeline against exact search.

In Postgres, with a table (key bigint, id bigint, primary key (key, id)):

    SELECT DISTINCT hit.id FROM unnest(:query_keys) AS wanted(key)
    CROSS JOIN LATERAL (SELECT id FROM embedding_keys AS stored WHERE stored.key = wanted.key
                        ORDER BY id LIMIT :read_cap) AS hit

is an index-only scan of at most QUERY_KEYS * READ_CAP index entries, the same rows as
`BandIndex.lookup` here (the lowest ids of a key first).

Vectors are hashed from the mean of the real claims' embeddings (embedding_center, kept in
CENTER_FILE), not from the origin: MiniLM embeddings share a common direction (the mean has
norm 0.32, unrelated claims sit near cosine 0.12), so from the origin most vectors crowd into
the few buckets of the axes nearest it. FALCONN's GloVe example centres data and queries the
same way. Measured, hashing from the mean reads 3.8 times fewer rows for the same keys and
finds more at the same rows read (see below).

Measured by `python -m workers.matching.lsh_study` (int8 MiniLM embeddings of the 46,871
distinct real claims of the shared data, 300 held out as queries beside 300 CLEF-2020 tweets
and CheckThat! 2022 2B debate sentences of train and dev; the corpus grown to 300,000 with
synthetic vectors whose nearest-neighbour cosines about match the real claims'). At 300,000 vectors,
per query (recall@10 of the candidates re-ranked by cosine against the exact top 10; "near"
the same for the exact top-10 neighbours at cosine >= NEAR_COSINE, 4.9 a query):

    keys looked up    recall@10   near    rows read, mean (99th percentile)
     32 (own only)     0.368     0.566      539  (909)
    100                0.555     0.774    1,537  (2,530)
    200 (QUERY_KEYS)   0.678     0.879    2,930  (4,756)
    300                0.749     0.926    4,266  (6,786)
    400                0.795     0.949    5,567  (8,754)

Reading every id of a key instead of READ_CAP: 0.693 and 0.893 at 3,226 rows (p99 6,459) for
200 keys. Other schemes on the same vectors, every id read (recall@10 / near, rows):
2 x 64 axes, 100 keys: 0.655 / 0.854, 3,318; 2 x 128 axes, 300 keys: 0.703 / 0.895, 2,958;
2 x 96 hashed from the origin, own keys only: 0.48 / 0.72, 2,568; random hyperplanes from the
mean, 32 bands of 14 and 100 keys: 0.40 / 0.61, 2,550; the former 16 bands of 10 hyperplanes
from the origin with 6 probes a band (112 keys): 0.872 / 0.966 but 66,090 rows, a fifth of
the corpus. Orthogonal rather than Gaussian axes made no difference. The whole exact top-10 is
out of reach within a few thousand rows: its tenth neighbour sits near cosine 0.55 while
unrelated claims sit near 0.12, too little contrast for band keys of this size; near recall
0.95 takes about 400 keys and 5,600 rows. On the real claims alone (46,571 vectors) 200 keys
read only 518 rows and find 0.546 and 0.842 (400 keys: 0.687 and 0.927 at 968 rows): a smaller
corpus can afford more keys (`query_keys(vector, count)`, at most BANDS * 64): among 10,000
real claims, 800 keys find 0.657 and 0.960 at 391 rows, 2,048 keys 0.837 and 0.994 at 906.

Deterministic across processes and machines: the directions come from BLAKE2b of fixed
strings (Box-Muller on its output), never from a random generator whose stream could change
between numpy versions. Changing BANDS, HASHES, AXES, the labels or CENTER_FILE changes every
key, so stored keys would need recomputing.

Key layout (non-negative int64, Postgres bigint): bit 62 set marks an embedding key (MinHash
keys of similarity.py keep it clear, so both can share one column), the band index sits in
bits 56..61 and the HASHES hashes below (each in [0, 2 * AXES), the first most significant).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from workers.extraction.encoder import EMBEDDING_DIM

__all__ = [
    "AXES",
    "BANDS",
    "CENTER_FILE",
    "HASHES",
    "MAX_QUERY_KEYS",
    "NEAR_COSINE",
    "QUERY_KEYS",
    "READ_CAP",
    "BandIndex",
    "LshRecall",
    "embedding_center",
    "embedding_keys",
    "hyperplanes",
    "query_keys",
    "ranked_query_keys",
    "recall_at_k",
]

# Stored keys a vector, and the shape of each band's key: 2 * AXES values per hash, so
# (2 * AXES) ** HASHES buckets a band (36,864), about 8 vectors each at 300,000.
BANDS = 32
HASHES = 2
AXES = 96
# Keys looked up per query and ids read per key, chosen for about 3,000 rows a query at
# 300,000 vectors (measured in the module docstring).
QUERY_KEYS = 200
READ_CAP = 50
# Neighbours at least this near are the ones that could be the same claim (matches confident
# enough to suggest sit above it): recall is measured for them apart.
NEAR_COSINE = 0.6
# Alternatives considered per hash when ranking the buckets to probe (the nearest directions).
_ALTERNATIVES = 8
# The most keys a query can look up: every choice of alternatives, in every band.
MAX_QUERY_KEYS = BANDS * min(_ALTERNATIVES, AXES) ** HASHES
# The mean of the real claims' embeddings (written by `python -m workers.matching.lsh_study
# --write-center`): vectors are hashed from it, not from the origin (see the module docstring).
CENTER_FILE = Path(__file__).resolve().parent / "models" / "embedding_center.json"
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


def hyperplanes(bands: int, rows: int, dim: int = EMBEDDING_DIM) -> np.ndarray:
    """(bands * rows, dim) Gaussian random directions, fixed for these sizes."""
    count = bands * rows * dim
    u1 = _uniforms("factcheck-simhash-radius", count)
    u2 = _uniforms("factcheck-simhash-angle", count)
    normals = np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)
    return normals.reshape(bands * rows, dim).astype(np.float32)


_DIRECTIONS: dict[tuple[int, int, int, int], np.ndarray] = {}


def _directions(bands: int, hashes: int, axes: int, dim: int) -> np.ndarray:
    """(bands * hashes * axes, dim) unit directions, the rows of each hash's axes together."""
    shape = (bands, hashes, axes, dim)
    if shape not in _DIRECTIONS:
        normals = hyperplanes(bands, hashes * axes, dim)
        _DIRECTIONS[shape] = normals / np.linalg.norm(normals, axis=1, keepdims=True)
    return _DIRECTIONS[shape]


@functools.cache
def embedding_center() -> np.ndarray:
    """(384,) float32 point the band keys hash from: the real claims' mean embedding."""
    center = np.asarray(json.loads(CENTER_FILE.read_text())["center"], dtype=np.float32)
    center.setflags(write=False)
    return center


def _projections(vectors: np.ndarray, bands: int, hashes: int, axes: int) -> np.ndarray:
    vectors = np.atleast_2d(np.asarray(vectors, dtype=np.float32)) - embedding_center()
    directions = _directions(bands, hashes, axes, vectors.shape[1])
    return (vectors @ directions.T).reshape(len(vectors), bands, hashes, axes)


def _vertex(projections: np.ndarray, axis: np.ndarray) -> np.ndarray:
    """The hash of picking `axis` of each group: 2 * axis, plus 1 when its projection is < 0."""
    negative = np.take_along_axis(projections, axis, axis=-1) < 0
    return axis.astype(np.int64) * 2 + negative


def _pack(vertices: np.ndarray, axes: int) -> np.ndarray:
    """Keys from (n, bands, ..., hashes) vertices."""
    value = np.zeros(vertices.shape[:-1], dtype=np.int64)
    for group in range(vertices.shape[-1]):
        value = value * (2 * axes) + vertices[..., group]
    band = np.arange(vertices.shape[1], dtype=np.int64).reshape(-1, *[1] * (value.ndim - 2))
    return _MARKER | np.left_shift(band, _BAND_SHIFT) | value


def embedding_keys(
    vectors: np.ndarray, bands: int = BANDS, hashes: int = HASHES, axes: int = AXES
) -> np.ndarray:
    """(n, bands) int64 keys of each vector (the rows stored per claim or fact-check)."""
    projections = _projections(vectors, bands, hashes, axes)
    nearest = np.abs(projections).argmax(axis=-1)[..., None]
    return _pack(_vertex(projections, nearest)[..., 0], axes)


def ranked_query_keys(
    vectors: np.ndarray,
    count: int = QUERY_KEYS,
    bands: int = BANDS,
    hashes: int = HASHES,
    axes: int = AXES,
) -> np.ndarray:
    """(n, count) keys to look up per query vector, the likeliest first (its own keys lead)."""
    projections = _projections(vectors, bands, hashes, axes)
    size = np.abs(projections)
    alternatives = min(_ALTERNATIVES, axes)
    order = np.argsort(-size, axis=-1, kind="stable")[..., :alternatives]
    shortfall = np.take_along_axis(size, order, axis=-1)
    shortfall = shortfall[..., :1] - shortfall  # 0 for the group's own axis
    vertices = _vertex(projections, order)  # (n, bands, hashes, alternatives)
    # Every choice of one alternative per hash of a band; the own bucket is choice 0.
    choices = np.array(list(itertools.product(range(alternatives), repeat=hashes)))
    groups = np.arange(hashes)
    cost = shortfall[..., groups, choices].sum(axis=-1)  # (n, bands, choices)
    keys = _pack(vertices[..., groups, choices], axes)  # (n, bands, choices)
    cost = cost.reshape(len(cost), -1)
    keys = keys.reshape(len(keys), -1)
    if count > keys.shape[1]:
        raise ValueError(f"at most {keys.shape[1]} keys per query, not {count}")
    best = np.argsort(cost, axis=1, kind="stable")[:, :count]
    return np.take_along_axis(keys, best, axis=1)


def query_keys(vector: np.ndarray, count: int = QUERY_KEYS) -> list[int]:
    """The keys to look up for one query vector: its own per band, then the likeliest probes."""
    return [int(key) for key in ranked_query_keys(np.asarray(vector).reshape(1, -1), count)[0]]


class BandIndex:
    """Stored keys sorted like the Postgres primary key (key, id), looked up as it would be."""

    def __init__(self, keys: np.ndarray) -> None:
        rows, bands = keys.shape
        flat = keys.reshape(-1)
        ids = np.repeat(np.arange(rows), bands)
        order = np.lexsort((ids, flat))
        self.ids = ids[order]
        self.keys, self.starts, self.counts = np.unique(
            flat[order], return_index=True, return_counts=True
        )

    def lookup(self, keys: Sequence[int] | np.ndarray, read_cap: int | None = READ_CAP):
        """(ids, position of the key that read each): at most `read_cap` lowest ids per key."""
        keys = np.asarray(keys, dtype=np.int64)
        where = np.minimum(np.searchsorted(self.keys, keys), len(self.keys) - 1)
        present = self.keys[where] == keys
        counts = np.where(present, self.counts[where], 0)
        if read_cap is not None:
            counts = np.minimum(counts, read_cap)
        starts = self.starts[where]
        total = int(counts.sum())
        offsets = np.repeat(starts - np.cumsum(counts) + counts, counts) + np.arange(total)
        return self.ids[offsets], np.repeat(np.arange(len(keys)), counts)


@dataclass(frozen=True)
class LshRecall:
    """How LSH candidates re-ranked by cosine compare with exact search, per query on average."""

    recall: float
    keys: int
    read_cap: int | None
    rows_read: float
    # The most rows any query in a hundred reads (the 99th percentile).
    rows_read_p99: float
    candidates: float
    corpus: int
    k: int
    queries: int
    # The same recall for the exact top-k at cosine NEAR_COSINE or above, and how many those were.
    near_recall: float | None = None
    near_neighbours: int = 0
    # Share of the wanted rows (one set per query, when given) among the candidates.
    wanted_recall: float | None = None

    @property
    def candidate_fraction(self) -> float:
        return self.candidates / self.corpus if self.corpus else 0.0


def recall_at_k(
    corpus: np.ndarray,
    queries: np.ndarray,
    k: int = 10,
    budgets: Sequence[int] = (QUERY_KEYS,),
    read_cap: int | None = READ_CAP,
    wanted: Sequence[set[int]] | None = None,
    near: float = NEAR_COSINE,
    stored: np.ndarray | None = None,
    shape: tuple[int, int, int] = (BANDS, HASHES, AXES),
) -> list[LshRecall]:
    """Per number of keys looked up: share of the exact top-k among the candidates' top-k.

    Also the same share for the exact top-k at cosine `near` or above (the neighbours that
    could be the same claim) and, with `wanted` (rows that should be found for each query,
    such as its relevant fact-checks), the share of those among the candidates. `stored`
    (the corpus's embedding_keys) saves computing them again; `shape` is (bands, hashes, axes).
    """
    index = BandIndex(embedding_keys(corpus, *shape) if stored is None else stored)
    ranked = ranked_query_keys(queries, max(budgets), *shape)
    tally = {budget: np.zeros(7) for budget in budgets}
    rows: dict[int, list[int]] = {budget: [] for budget in budgets}
    for start in range(0, len(queries), 256):
        scores_block = queries[start : start + 256] @ corpus.T
        for offset, scores in enumerate(scores_block):
            number = start + offset
            exact = np.argsort(-scores, kind="stable")[:k]
            near_rows = exact[scores[exact] >= near]
            ids, positions = index.lookup(ranked[number], read_cap)
            for budget in budgets:
                read = ids[positions < budget]
                rows[budget].append(len(read))
                candidates = np.unique(read)
                found = candidates[np.argsort(-scores[candidates], kind="stable")[:k]]
                hits = len(wanted[number] & set(candidates.tolist())) if wanted else 0
                tally[budget] += (
                    len(np.intersect1d(found, exact)),
                    len(np.intersect1d(found, near_rows)),
                    len(near_rows),
                    len(read),
                    len(candidates),
                    hits,
                    len(wanted[number]) if wanted else 0,
                )
    results = []
    count = max(len(queries), 1)
    for budget in budgets:
        exact_found, near_found, near_all, rows_total, distinct, hits_total, total = (
            float(value) for value in tally[budget]
        )
        results.append(
            LshRecall(
                recall=exact_found / (k * count) if len(queries) else 1.0,
                keys=budget,
                read_cap=read_cap,
                rows_read=rows_total / count,
                rows_read_p99=float(np.percentile(rows[budget], 99)) if rows[budget] else 0.0,
                candidates=distinct / count,
                corpus=len(corpus),
                k=k,
                queries=len(queries),
                near_recall=near_found / near_all if near_all else None,
                near_neighbours=int(near_all),
                wanted_recall=hits_total / total if wanted is not None and total else None,
            )
        )
    return results
