"""Measure the LSH band keys of workers.matching.lsh against exact cosine search, at scale.

    python -m workers.matching.lsh_study [--data DIR] [--sizes real,300000] [--queries 300]
        [--keys 32,64,...] [--caps none,50] [--schemes 32x2x96,...] [--write-center]

Vectors: the int8 MiniLM embeddings (workers.extraction.encoder, cached by
workers.matching.embeddings) of every distinct claim text of the shared data's fact-checked
claims (PolitiFact and LIAR), CLEF-2020 and CheckThat! 2022 2A verified claims (Snopes):
46,871. `--queries` of them (300) are held out as queries, beside as many CLEF-2020 tweets and
CheckThat! 2022 2B debate sentences of the train and dev splits (never a test split). The rest
is the corpus; to reach a size beyond it, synthetic vectors are added (`grown_corpus`).

For each corpus size, scheme (bands x hashes x axes), read cap and number of keys looked up,
it prints recall@10 of the candidates re-ranked by exact cosine against the exact top 10, the
same recall for the exact top-10 neighbours at cosine >= NEAR_COSINE (and how many a query
has), and the rows read (Postgres index entries returned, mean and 99th percentile) and
distinct candidates (embeddings to read) per query. About five minutes on two shared cores,
the first run longer (about 50,000 texts to encode once).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workers.extraction.evaluate import data_dir
from workers.matching.embeddings import encode_cached
from workers.matching.lsh import (
    AXES,
    BANDS,
    CENTER_FILE,
    HASHES,
    NEAR_COSINE,
    READ_CAP,
    embedding_keys,
    recall_at_k,
)

# Share of the spread of real claims added to each synthetic vector (see grown_corpus).
SYNTHETIC_NOISE = 0.5

# (file under the data folder, text column) of the real claims, read in this order.
CORPUS_FILES = (
    ("fact-checked-claims/fact_checked_claims.tsv", "claim"),
    ("claim-retrieval-clef2020/verified_claims.tsv", "vclaim"),
    ("claim-retrieval-clef2022-en/2a/verified_claims.tsv", "vclaim"),
)
# Queries as the service meets them: tweets and debate sentences, train and dev splits only.
QUERY_FILES = (
    ("claim-retrieval-clef2020/tweets_train.tsv", "tweet_content"),
    ("claim-retrieval-clef2020/tweets_dev.tsv", "tweet_content"),
    ("claim-retrieval-clef2022-en/2b/queries_train.tsv", "iclaim"),
    ("claim-retrieval-clef2022-en/2b/queries_dev.tsv", "iclaim"),
)


def _column(path: Path, column: str) -> list[str]:
    with path.open(encoding="utf-8", newline="") as file:
        rows = csv.DictReader(file, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [row[column] for row in rows if row[column].strip()]


def real_embeddings(root: Path | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(claims, queries): embeddings of every distinct real claim text, and of the queries."""
    folder = root or data_dir()
    seen: set[str] = set()
    parts = []
    for name, column in CORPUS_FILES:
        # A text in an earlier file is left out (the CheckThat! 2022 2A claims repeat CLEF-2020's).
        texts = []
        for text in _column(folder / name, column):
            if text not in seen:
                seen.add(text)
                texts.append(text)
        parts.append(encode_cached(texts))
    queries = [t for name, column in QUERY_FILES for t in _column(folder / name, column)]
    return np.concatenate(parts), encode_cached(queries)


def write_center(claims: np.ndarray) -> None:
    """Write the mean of `claims` to CENTER_FILE (every stored key depends on it)."""
    center = claims.mean(axis=0)
    record = {
        "made_by": "python -m workers.matching.lsh_study --write-center",
        "of": f"the int8 MiniLM embeddings of {len(claims)} distinct real claims: "
        + ", ".join(name for name, _ in CORPUS_FILES),
        "norm": round(float(np.linalg.norm(center)), 6),
        "center": [round(float(value), 6) for value in center],
    }
    CENTER_FILE.write_text(json.dumps(record, indent=1) + "\n")


def _nearest(vectors: np.ndarray, count: int, block: int = 2048) -> np.ndarray:
    """(n, count) rows of each vector's `count` nearest other vectors by cosine."""
    nearest = np.empty((len(vectors), count), dtype=np.int64)
    for start in range(0, len(vectors), block):
        scores = vectors[start : start + block] @ vectors.T
        scores[np.arange(len(scores)), np.arange(start, start + len(scores))] = -2.0
        nearest[start : start + block] = np.argpartition(-scores, count, axis=1)[:, :count]
    return nearest


def grown_corpus(
    claims: np.ndarray, size: int, rng: np.random.Generator, noise: float = SYNTHETIC_NOISE
) -> np.ndarray:
    """`claims` and synthetic vectors up to `size`, shuffled (ids in no order of origin).

    A synthetic vector mixes a real claim with one of its 10 nearest (a random share of each),
    plus `noise` times the difference of two random real claims: noise that follows the
    claims' own spread instead of pointing off into unused dimensions. With the default, the
    synthetic vectors' nearest-neighbour cosines match the real claims' (median about 0.8).
    """
    extra = size - len(claims)
    if extra <= 0:
        return claims[rng.permutation(len(claims))[:size]]
    first = rng.integers(0, len(claims), extra)
    second = _nearest(claims, 10)[first, rng.integers(0, 10, extra)]
    share = rng.uniform(0.0, 1.0, (extra, 1)).astype(np.float32)
    mixed = _unit(share * claims[first] + (1 - share) * claims[second])
    spread = (
        claims[rng.integers(0, len(claims), extra)] - claims[rng.integers(0, len(claims), extra)]
    )
    grown = np.concatenate([claims, _unit(mixed + noise * spread)])
    return grown[rng.permutation(len(grown))]


def _unit(vectors: np.ndarray) -> np.ndarray:
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m workers.matching.lsh_study", description=__doc__
    )
    parser.add_argument("--data", type=Path, help="shared data folder (default ../shared/data)")
    parser.add_argument(
        "--sizes", default="real,300000", help="corpus sizes, real: the real claims (%(default)s)"
    )
    parser.add_argument(
        "--queries", type=int, default=300, help="of each kind (default %(default)s)"
    )
    parser.add_argument("--keys", default="32,64,100,150,200,300,400", help="keys per query")
    parser.add_argument(
        "--caps", default=f"none,{READ_CAP}", help="ids read per key: numbers or none"
    )
    parser.add_argument(
        "--schemes",
        default=f"{BANDS}x{HASHES}x{AXES}",
        help="bands x hashes x axes, comma-separated",
    )
    parser.add_argument(
        "--write-center", action="store_true", help=f"write the claims' mean to {CENTER_FILE.name}"
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("FACTCHECK_ENCODER_THREADS", "2")
    rng = np.random.default_rng(0)
    claims, tweets = real_embeddings(args.data)
    if args.write_center:
        write_center(claims)
    order = rng.permutation(len(claims))
    held, claims = claims[order[: args.queries]], claims[order[args.queries :]]
    tweets = tweets[rng.choice(len(tweets), min(args.queries, len(tweets)), replace=False)]
    queries = np.concatenate([held, tweets])
    budgets = [int(item) for item in args.keys.split(",")]
    caps = [None if item == "none" else int(item) for item in args.caps.split(",")]
    print(
        f"{len(held)} held-out claims and {len(tweets)} tweets / debate sentences as queries; "
        f"{len(claims)} real claims in the corpus"
    )
    for size in (len(claims) if item == "real" else int(item) for item in args.sizes.split(",")):
        corpus = grown_corpus(claims, size, rng)
        for scheme in args.schemes.split(","):
            bands, hashes, axes = (int(part) for part in scheme.split("x"))
            started = time.perf_counter()
            stored = embedding_keys(corpus, bands, hashes, axes)
            for cap in caps:
                for found in recall_at_k(
                    corpus,
                    queries,
                    budgets=budgets,
                    read_cap=cap,
                    stored=stored,
                    shape=(bands, hashes, axes),
                ):
                    near = "-" if found.near_recall is None else f"{found.near_recall:.3f}"
                    print(
                        f"{size:>7} {scheme:>9} keys {found.keys:>3} cap {cap!s:>4}  "
                        f"recall@10 {found.recall:.3f}  near (cos >= {NEAR_COSINE}) {near} "
                        f"of {found.near_neighbours / len(queries):.1f}/query  "
                        f"rows read {found.rows_read:5.0f} (p99 {found.rows_read_p99:5.0f})  "
                        f"candidates {found.candidates:5.0f}",
                        flush=True,
                    )
            print(f"  [{time.perf_counter() - started:.0f} s]", flush=True)


if __name__ == "__main__":
    main()
