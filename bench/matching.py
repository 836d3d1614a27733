"""Matching benchmark: claim detail with its matches and POST /matches over 1M claims and 300k
fact-checks, recall@10 of the vector search against exact search, and import throughput.

Run from the repository root:

    python -m bench.matching [--articles 100000] [--claims 1000000] [--factchecks 300000]
                             [--requests 2000] [--clients 16] [--api-workers 2]

Postgres and Redis as in `bench.ingest` (BENCH_DATABASE_URL / BENCH_BROKER_URL, else embedded
servers); the fresh `factcheck_bench_<random>` database is migrated, seeded and dropped at the
end. The real fact-checks come from FACTCHECK_DATA_DIR (default ../shared/data),
`fact-checked-claims/fact_checked_claims.tsv`, read at run time.

Seed. Encoding 1.3M texts would take this machine over an hour (~300 sentences/s), so a pool
of real vectors is encoded and the rest derived from it:

- pool: --pool real fact-checks (a seeded shuffle of the file), their claims and headlines
  encoded once and cached on disk (workers.matching.embeddings.encode_cached).
- fact-checks: each seeded one mixes two pool records, i (its main one) and j:
  claim vector normalise(a c_i + (1 - a) c_j + s g), with a ~ U(0.55, 1), g Gaussian noise
  of unit expected norm and s ~ U(0.1, 0.4); headline vector the same mixture of the pool's
  headline vectors with noise of its own (none where i has no headline). Its claim and
  headline texts are i's words, each kept with probability a, then j's, each taken with
  probability 1 - a: full-text search meets the pool's vocabulary at its frequencies, and a
  query shares words with the fact-checks that share its meaning. Rating, publisher and
  dates are i's. With pool^2 pairs and a continuous weight, the collection's neighbourhoods
  are a continuum rather than clusters of copies; the report prints the nearest-neighbour
  cosines of held-out real claims among the real pool and among as many seeded fact-checks,
  to compare. Band keys of both vectors (workers.matching.lsh.embedding_keys) as
  import_factchecks stores them. Written by COPY with the keys trigger off; factcheck_keys
  is then written in one INSERT and the GIN index re-created.
- claims: bench.review's seed (articles, claims, similarity keys, its indexes dropped and
  re-created), each claim with an embedding derived the same way from the pool's claim
  vectors and its band keys; claim_embedding_keys written in bulk after. No measured request
  reads a claim's embedding: it gives the rows and the lookup table their processed size.
- claim matches: --matched (a share) of the claims get 1 to STORED_MATCHES rows of
  claim_matches as the worker's store_matches writes them (confidence, decision, reason,
  agreements), with random seeded fact-checks.

Phases:

1. recall: --queries held-out real claims (not in the pool) encoded, and as many repeats of
   seeded fact-checks in other words (a new mixture of the same pair). Exact search: the
   top 10 by similarity, the greater cosine with a fact-check's claim and headline vectors
   (what its band keys index), over the whole collection in numpy. Vector search: the keys
   query_keys(q) gives, each key's FACTCHECKS_PER_KEY newest fact-checks (what match_vector's
   SQL reads; checked equal to that SQL's candidates for some queries), re-ranked by the same
   similarity. Also without the per-key cap, to show what the cap costs.
2. HTTP: the API under gunicorn and the bare one-row Flask app (bench/baseline_read_app.py)
   under the same settings, as bench.review runs them, in alternating rounds of --requests
   at N keep-alive clients after a warm-up: the baseline read, claim detail of claims with
   stored matches, and POST /api/v1/matches of one held-out sentence.
3. import: --imports held-out real records through import_factchecks in batches of
   IMPORT_BATCH, each batch first encoded by the bare encoder (the same two encode() calls
   the import makes: claims, then headlines) and timed apart, so noise hits both alike.
4. diagnosis: EXPLAIN (ANALYZE, BUFFERS) of the SQL match_vector and claim detail run, and a
   cProfile of one in-process request for each operation above its target.

Targets: p99 at most 2x the baseline's; recall@10 at least 0.95; import throughput at least
0.8x the bare encoder's on the same texts. Progress goes to stderr, the summary to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.ingest import (
    Child,
    Infrastructure,
    Request,
    Sampler,
    Target,
    _child_env,
    _gunicorn,
    free_port,
    infrastructure,
    progress,
    run_main,
    wait_http_ok,
)
from bench.review import (
    API_APP,
    BASELINE_APP,
    CLAIMS_PATH,
    CopyRows,
    ExtraClaimColumns,
    LookupRows,
    Operation,
    SeedResult,
    _copy_field,
    _get_json,
    _one,
    _plan_summary,
    add_load_arguments,
    create_reviewer_token,
    measure,
    profile_requests,
)
from bench.review import seed as seed_claims

MATCHES_PATH = "/api/v1/matches"
SEED = 20_260_301
FACTCHECKS_FILE = ("fact-checked-claims", "fact_checked_claims.tsv")
# Targets.
P99_RATIO_TARGET = 2.0
RECALL_TARGET = 0.95
IMPORT_RATIO_TARGET = 0.8
TOP = 10
# The mixture: the main record's weight, and the noise's scale.
MAIN_WEIGHT = (0.55, 1.0)
NOISE = (0.1, 0.4)
# Seeded rows written per COPY batch.
BATCH_ROWS = 2000
# SQL checks of the numpy vector search: queries whose candidates are compared.
SQL_CHECKS = 10
MATCH_SENTENCES = 1000

FACTCHECK_COLUMNS = (
    "key, url, claim, headline, rating, rating_key, publisher, licence, date, claim_date,"
    " language, claimant, origin, embedding, headline_embedding, keys"
)
MATCH_COLUMNS = "claim_id, factcheck_id, confidence, decision, reason, agrees, disagrees"
# The fact-checks' and claims' band-key lookup rows (migration 0019), written in bulk.
FACTCHECK_ROWS = LookupRows(
    trigger="factchecks_insert_keys",
    table="factcheck_keys",
    primary_key="pk_factcheck_keys",
    key_columns="key, factcheck_id",
    insert=(
        "INSERT INTO factcheck_keys (key, factcheck_id) SELECT DISTINCT band.key, factchecks.id"
        " FROM factchecks, unnest(factchecks.keys) AS band(key)"
    ),
)
CLAIM_EMBEDDING_ROWS = LookupRows(
    trigger="claims_insert_embedding_keys",
    table="claim_embedding_keys",
    primary_key="pk_claim_embedding_keys",
    key_columns="key, claim_id",
    insert=(
        "INSERT INTO claim_embedding_keys (key, claim_id) SELECT DISTINCT band.key, claims.id"
        " FROM claims, unnest(claims.embedding_keys) AS band(key)"
    ),
)
SEARCH_INDEX = "ix_factchecks_search"

# --------------------------------------------------------------------------------------------
# The real records: a pool to derive from, held-out queries, sentences and imports.
# --------------------------------------------------------------------------------------------


@dataclass
class Pool:
    """Real fact-checks and their vectors (a record without a headline reuses its claim's)."""

    records: list[Any]
    claims: np.ndarray
    headlines: np.ndarray
    headlined: np.ndarray  # bool per record
    claim_words: list[list[str]]
    headline_words: list[list[str]]
    rating_keys: list[str | None]
    encode_seconds: float

    def __len__(self) -> int:
        return len(self.records)


@dataclass
class Sources:
    pool: Pool
    queries: list[Any]  # held out: recall queries
    sentences: list[str]  # held out: POST /matches
    imports: list[Any]  # held out: imported


def real_records(args: argparse.Namespace) -> list[Any]:
    from workers.extraction.evaluate import data_dir
    from workers.matching.records import read_factchecks

    path = data_dir().joinpath(*FACTCHECKS_FILE)
    if not path.exists():
        raise RuntimeError(f"{path} is missing (set FACTCHECK_DATA_DIR to the shared data folder)")
    report = read_factchecks(path)
    records = [r for r in report.records if r.claim.strip()]
    random.Random(SEED).shuffle(records)
    wanted = args.pool + args.queries + MATCH_SENTENCES + args.imports
    if len(records) < wanted:
        raise RuntimeError(f"{path} holds {len(records)} records; {wanted} are needed")
    return records


def sources(args: argparse.Namespace) -> Sources:
    from service.ratings import DEFAULT_SCALE, scale_key
    from workers.extraction.encoder import load_encoder
    from workers.matching.embeddings import encode_cached

    records = real_records(args)
    pool_records = records[: args.pool]
    rest = records[args.pool :]
    queries, rest = rest[: args.queries], rest[args.queries :]
    sentences, rest = rest[:MATCH_SENTENCES], rest[MATCH_SENTENCES:]
    imports = rest[: args.imports]
    progress(f"pool: encoding {len(pool_records):,} claims and their headlines (cached) ...")
    began = time.perf_counter()
    encoder = load_encoder()
    claims = encode_cached([r.claim for r in pool_records], encoder)
    headlined = np.asarray([bool(r.headline) for r in pool_records])
    headlines = claims.copy()
    rows = np.flatnonzero(headlined)
    headlines[rows] = encode_cached([pool_records[i].headline for i in rows], encoder)
    seconds = time.perf_counter() - began
    pool = Pool(
        records=pool_records,
        claims=claims,
        headlines=headlines,
        headlined=headlined,
        claim_words=[r.claim.split() for r in pool_records],
        headline_words=[(r.headline or "").split() for r in pool_records],
        rating_keys=[scale_key(r.rating, DEFAULT_SCALE) for r in pool_records],
        encode_seconds=seconds,
    )
    progress(f"pool: {len(pool):,} records ready in {seconds:.1f} s")
    return Sources(pool, queries, [r.claim for r in sentences], imports)


# --------------------------------------------------------------------------------------------
# Derived vectors and texts.
# --------------------------------------------------------------------------------------------


@dataclass
class Mixture:
    main: np.ndarray  # pool rows
    other: np.ndarray
    weight: np.ndarray  # of the main row

    @classmethod
    def draw(cls, rng: np.random.Generator, pool: int, count: int) -> Mixture:
        main = rng.integers(0, pool, count)
        other = (main + rng.integers(1, pool, count)) % pool  # never main itself
        return cls(main, other, rng.uniform(*MAIN_WEIGHT, count))

    def vectors(self, rng: np.random.Generator, basis: np.ndarray) -> np.ndarray:
        """normalise(a b_main + (1 - a) b_other + s g), one row per mixture."""
        weight = self.weight[:, None].astype(np.float32)
        mixed = weight * basis[self.main] + (1 - weight) * basis[self.other]
        dim = basis.shape[1]
        scale = rng.uniform(*NOISE, len(self.main))[:, None] / np.sqrt(dim)
        mixed += (rng.standard_normal((len(self.main), dim)) * scale).astype(np.float32)
        mixed /= np.linalg.norm(mixed, axis=1, keepdims=True)
        return mixed.astype(np.float32)


def mixed_text(rng: random.Random, main: Sequence[str], other: Sequence[str], a: float) -> str:
    """Main's words each kept with probability a, then other's each with 1 - a."""
    words = [w for w in main if rng.random() < a] + [w for w in other if rng.random() >= a]
    return " ".join(words or main)


def _bytea(vector: np.ndarray) -> str:
    """A vector as a COPY text bytea field: big-endian float4s, hex."""
    return "\\\\x" + vector.astype(">f4").tobytes().hex()


def _array(values: Sequence[int]) -> str:
    return "{" + ",".join(map(str, values)) + "}"


def _row_keys(claim: np.ndarray, headline: np.ndarray | None) -> list[int]:
    """Sorted distinct keys of a claim vector's and its headline's bands (as _keys)."""
    keys = set(claim.tolist())
    if headline is not None:
        keys.update(headline.tolist())
    return sorted(keys)


# --------------------------------------------------------------------------------------------
# Seed: claims (bench.review's, with embeddings), fact-checks, claim matches.
# --------------------------------------------------------------------------------------------


@dataclass
class Collection:
    """The seeded fact-checks' vectors and keys, kept for the recall measurement."""

    first_id: int
    claims: np.ndarray
    headlines: np.ndarray  # a row without a headline holds its claim vector
    keys: list[list[int]]
    mixtures: Mixture


def claim_embeddings(pool: Pool) -> ExtraClaimColumns:
    """bench.review's extra claim columns: an embedding mixed from the pool, its band keys."""
    from workers.matching.lsh import embedding_keys

    rng = np.random.default_rng(SEED + 1)

    def fields(count: int) -> list[str]:
        vectors = Mixture.draw(rng, len(pool), count).vectors(rng, pool.claims)
        keys = embedding_keys(vectors)
        return [
            f"{_bytea(vector)}\t{_array(sorted(set(row.tolist())))}"
            for vector, row in zip(vectors, keys, strict=True)
        ]

    return ExtraClaimColumns("embedding, embedding_keys", fields, (CLAIM_EMBEDDING_ROWS,))


def _factcheck_batches(pool: Pool, total: int, kept: Collection) -> Iterator[tuple[int, str]]:
    from workers.matching.lsh import embedding_keys

    rng = np.random.default_rng(SEED + 2)
    words = random.Random(SEED + 3)
    mixtures = Mixture.draw(rng, len(pool), total)
    kept.mixtures = mixtures
    for start in range(0, total, BATCH_ROWS):
        part = slice(start, min(total, start + BATCH_ROWS))
        batch = Mixture(mixtures.main[part], mixtures.other[part], mixtures.weight[part])
        claims = batch.vectors(rng, pool.claims)
        headlines = batch.vectors(rng, pool.headlines)
        has_headline = pool.headlined[batch.main]
        headlines[~has_headline] = claims[~has_headline]
        kept.claims[part] = claims
        kept.headlines[part] = headlines
        claim_keys, headline_keys = embedding_keys(claims), embedding_keys(headlines)
        lines = []
        for row in range(len(batch.main)):
            number = start + row
            i, j, a = int(batch.main[row]), int(batch.other[row]), float(batch.weight[row])
            record = pool.records[i]
            headlined = bool(has_headline[row])
            keys = _row_keys(claim_keys[row], headline_keys[row] if headlined else None)
            kept.keys.append(keys)
            claim = mixed_text(words, pool.claim_words[i], pool.claim_words[j], a)
            headline = (
                mixed_text(words, pool.headline_words[i], pool.headline_words[j], a)
                if headlined
                else None
            )
            url = f"https://factchecks.example.org/bench/{number}"

            def text(value: str | None) -> str:
                return "\\N" if value is None else _copy_field(value)

            lines.append(
                "\t".join(
                    (
                        url,
                        url,
                        text(claim),
                        text(headline),
                        text(record.rating),
                        text(pool.rating_keys[i]),
                        text(record.publisher),
                        text(record.licence),
                        text(record.date),
                        text(record.claim_date),
                        text(record.language),
                        text(record.claimant),
                        "imported",
                        _bytea(claims[row]),
                        _bytea(headlines[row]) if headlined else "\\N",
                        _array(keys),
                    )
                )
            )
        yield len(lines), "\n".join(lines) + "\n"


def seed_factchecks(
    database_url: str, pool: Pool, total: int, steps: dict[str, float]
) -> Collection:
    import psycopg2

    dim = pool.claims.shape[1]
    kept = Collection(
        0,
        np.zeros((total, dim), dtype=np.float32),
        np.zeros((total, dim), dtype=np.float32),
        [],
        Mixture(np.zeros(0, int), np.zeros(0, int), np.zeros(0)),
    )
    connection = psycopg2.connect(database_url, application_name="bench-matching-seed")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor, _steps(steps) as step:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute(
                "SELECT pg_get_indexdef(%s::regclass)", (SEARCH_INDEX,)
            )  # re-created as migrated
            search_index = _one(cursor)
            with step("copy fact-checks"):
                cursor.execute(f"DROP INDEX {SEARCH_INDEX}")
                cursor.execute(f"ALTER TABLE factchecks DISABLE TRIGGER {FACTCHECK_ROWS.trigger}")
                cursor.execute(
                    f"ALTER TABLE factcheck_keys DROP CONSTRAINT {FACTCHECK_ROWS.primary_key}"
                )
                source = CopyRows("fact-checks", total, _factcheck_batches(pool, total, kept))
                cursor.copy_expert(f"COPY factchecks ({FACTCHECK_COLUMNS}) FROM STDIN", source)
            with step("factcheck_keys rows"):
                cursor.execute(FACTCHECK_ROWS.insert)
                cursor.execute(
                    f"ALTER TABLE factcheck_keys ADD CONSTRAINT {FACTCHECK_ROWS.primary_key} "
                    f"PRIMARY KEY ({FACTCHECK_ROWS.key_columns})"
                )
                cursor.execute(f"ALTER TABLE factchecks ENABLE TRIGGER {FACTCHECK_ROWS.trigger}")
            with step("fact-check search index"):
                cursor.execute(search_index)
            cursor.execute("SELECT min(id), max(id), count(*) FROM factchecks")
            low, high, count = cursor.fetchone()
            if count != total or high - low + 1 != total:
                raise RuntimeError(f"seed: fact-check ids {low}..{high} for {count} rows")
            kept.first_id = low
    finally:
        connection.close()
    return kept


@contextlib.contextmanager
def _steps(steps: dict[str, float]) -> Iterator[Any]:
    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        progress(f"seed: {name} ...")
        began = time.perf_counter()
        yield
        steps[name] = time.perf_counter() - began
        progress(f"seed: {name} took {steps[name]:.1f} s")

    yield step


def _match_batches(
    claim_ids: np.ndarray, factchecks: tuple[int, int], pool: Pool, kept: Collection
) -> Iterator[tuple[int, str]]:
    """Rows as store_matches writes them: 1..STORED_MATCHES per claim, best first."""
    from service.domain.matching import STORED_MATCHES

    rng = random.Random(SEED + 4)
    low, high = factchecks
    lines: list[str] = []
    for number, claim_id in enumerate(claim_ids.tolist()):
        for factcheck_id in rng.sample(range(low, high + 1), rng.randint(1, STORED_MATCHES)):
            record = pool.records[int(kept.mixtures.main[factcheck_id - low])]
            names = [w.strip(".,\"'") for w in record.claim.split()[1:] if w[:1].isupper()]
            agrees = [f"entity {n!r}" for n in names[:2]]
            confidence = rng.uniform(0.5, 0.99)
            if rng.random() < 0.1:
                decision, disagrees = "refused", ["number: the claim says 4 million, the "
                                                  "fact-check 4 billion"]  # fmt: skip
                reason = disagrees[0]
            else:
                decision = "match" if confidence >= 0.9 else "suggest"
                reason = f"meaning {rng.uniform(0.6, 0.95):.2f}, words {rng.random():.2f}"
                if agrees:
                    reason += "; agrees on " + ", ".join(agrees)
                disagrees = []
            lines.append(
                "\t".join(
                    (
                        str(claim_id),
                        str(factcheck_id),
                        repr(confidence),
                        decision,
                        _copy_field(reason),
                        _copy_field(json.dumps(agrees)),
                        _copy_field(json.dumps(disagrees)),
                    )
                )
            )
        if len(lines) >= BATCH_ROWS or number == len(claim_ids) - 1:
            yield len(lines), "\n".join(lines) + "\n"
            lines = []


def seed_matches(
    database_url: str, share: float, pool: Pool, kept: Collection, steps: dict[str, float]
) -> tuple[int, int]:
    """claim_matches for `share` of the claims: (claims with matches, rows)."""
    import psycopg2

    connection = psycopg2.connect(database_url, application_name="bench-matching-seed")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor, _steps(steps) as step:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SELECT min(id), max(id) FROM claims")
            low, high = cursor.fetchone()
            count = round(share * (high - low + 1))
            rng = np.random.default_rng(SEED + 5)
            claim_ids = np.sort(rng.choice(np.arange(low, high + 1), count, replace=False))
            factchecks = (kept.first_id, kept.first_id + len(kept.claims) - 1)
            with step("copy claim matches"):
                if count:
                    batches = _match_batches(claim_ids, factchecks, pool, kept)
                    source = CopyRows("claim matches", count, batches)
                    cursor.copy_expert(f"COPY claim_matches ({MATCH_COLUMNS}) FROM STDIN", source)
            with step("vacuum analyze matching"):
                cursor.execute("VACUUM ANALYZE factchecks, factcheck_keys, claim_matches")
            cursor.execute("SELECT count(*) FROM claim_matches")
            rows = _one(cursor)
    finally:
        connection.close()
    return count, rows


@dataclass
class Seeded:
    claims: SeedResult
    factchecks: int
    steps: dict[str, float]
    matched_claims: int
    match_rows: int
    database_mb: float
    key_rows: int
    claim_key_rows: int

    @property
    def seconds(self) -> float:
        return self.claims.seconds + sum(self.steps.values())


def seed(database_url: str, args: argparse.Namespace, pool: Pool) -> tuple[Seeded, Collection]:
    from bench.ingest import sql

    claims = seed_claims(database_url, args.articles, args.claims, claim_embeddings(pool))
    steps: dict[str, float] = {}
    kept = seed_factchecks(database_url, pool, args.factchecks, steps)
    matched, rows = seed_matches(database_url, args.matched, pool, kept, steps)
    ((size, key_rows, claim_key_rows),) = sql(
        database_url,
        "SELECT pg_database_size(current_database()), (SELECT count(*) FROM factcheck_keys),"
        " (SELECT count(*) FROM claim_embedding_keys)",
    )
    return Seeded(
        claims, args.factchecks, steps, matched, rows, size / 2**20, key_rows, claim_key_rows
    ), kept


# --------------------------------------------------------------------------------------------
# Recall of the vector search against exact search.
# --------------------------------------------------------------------------------------------


class KeyIndex:
    """factcheck_keys in memory: each key's fact-check ids, newest (highest id) first."""

    def __init__(self, keys: Sequence[Sequence[int]], first_id: int) -> None:
        lengths = np.fromiter((len(k) for k in keys), dtype=np.int64, count=len(keys))
        flat = np.fromiter((key for row in keys for key in row), dtype=np.int64)
        ids = np.repeat(np.arange(len(keys), dtype=np.int64) + first_id, lengths)
        order = np.lexsort((-ids, flat))
        self.ids = ids[order]
        self.keys, self.starts, self.counts = np.unique(
            flat[order], return_index=True, return_counts=True
        )

    def candidates(self, query: Sequence[int], cap: int | None) -> np.ndarray:
        wanted = np.asarray(query, dtype=np.int64)
        at = np.minimum(np.searchsorted(self.keys, wanted), len(self.keys) - 1)
        found = self.keys[at] == wanted
        parts = [
            self.ids[start : start + (count if cap is None else min(count, cap))]
            for start, count in zip(self.starts[at[found]], self.counts[at[found]], strict=True)
        ]
        return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)

    def occupancy(self) -> tuple[float, int, float]:
        """Mean and largest fact-checks per key, and the share of keys holding more than
        FACTCHECKS_PER_KEY."""
        from service.domain.matching import FACTCHECKS_PER_KEY

        return (
            float(self.counts.mean()),
            int(self.counts.max()),
            float((self.counts > FACTCHECKS_PER_KEY).mean()),
        )


@dataclass
class Recall:
    """Recall@10 of one kind of query: counts summed over its queries."""

    label: str
    queries: int = 0
    wanted: int = 0  # exact top-10 rows, all queries
    found: int = 0  # of those among the vector search's top 10, with the per-key cap
    found_uncapped: int = 0  # the same without the cap
    near: int = 0  # exact top-10 rows at NEAR_COSINE or above
    found_near: int = 0
    candidates: list[int] = field(default_factory=list)
    uncapped_candidates: list[int] = field(default_factory=list)
    best: list[float] = field(default_factory=list)  # each query's best exact similarity

    @property
    def recall(self) -> float:
        return self.found / self.wanted if self.wanted else 1.0

    @property
    def uncapped(self) -> float:
        return self.found_uncapped / self.wanted if self.wanted else 1.0

    @property
    def near_recall(self) -> float | None:
        return self.found_near / self.near if self.near else None

    def merged(self, other: Recall, label: str) -> Recall:
        return Recall(
            label,
            self.queries + other.queries,
            self.wanted + other.wanted,
            self.found + other.found,
            self.found_uncapped + other.found_uncapped,
            self.near + other.near,
            self.found_near + other.found_near,
            self.candidates + other.candidates,
            self.uncapped_candidates + other.uncapped_candidates,
            self.best + other.best,
        )


@dataclass
class RecallResult:
    kinds: list[Recall]
    sql_agree: int
    sql_checked: int
    occupancy: tuple[float, int, float]
    neighbour_cosines: tuple[float, float]  # held-out claims' best: real pool, seeded sample
    seconds: float

    @property
    def overall(self) -> Recall:
        return self.kinds[-1]


def _recall(
    label: str, queries: np.ndarray, kept: Collection, index: KeyIndex, cap: int
) -> tuple[Recall, list[list[int]]]:
    """Recall of `queries`, and each one's candidate ids under the cap."""
    from service.domain.matching import keys_to_look_up
    from workers.matching.lsh import NEAR_COSINE, query_keys

    result = Recall(label, len(queries))
    capped_sets: list[list[int]] = []
    count = keys_to_look_up(len(kept.claims))  # as match_vector looks up at this size
    for query in queries:
        scores = np.maximum(kept.claims @ query, kept.headlines @ query)
        exact = np.argsort(-scores, kind="stable")[:TOP]
        wanted = set(exact.tolist())
        near = {row for row in wanted if scores[row] >= NEAR_COSINE}
        result.wanted += len(wanted)
        result.near += len(near)
        result.best.append(float(scores[exact[0]]))
        keys = query_keys(query, count)
        for limit in (cap, None):
            rows = index.candidates(keys, limit) - kept.first_id
            top = set(rows[np.argsort(-scores[rows], kind="stable")[:TOP]].tolist())
            if limit is None:
                result.found_uncapped += len(top & wanted)
                result.uncapped_candidates.append(len(rows))
            else:
                result.found += len(top & wanted)
                result.found_near += len(top & near)
                result.candidates.append(len(rows))
                capped_sets.append(sorted((rows + kept.first_id).tolist()))
    return result, capped_sets


def measure_recall(
    database_url: str, args: argparse.Namespace, src: Sources, kept: Collection
) -> RecallResult:
    from service.domain.matching import FACTCHECKS_PER_KEY
    from workers.extraction.encoder import load_encoder
    from workers.matching.embeddings import encode_cached

    began = time.perf_counter()
    progress("recall: indexing the keys, encoding the held-out queries ...")
    index = KeyIndex(kept.keys, kept.first_id)
    real = encode_cached([r.claim for r in src.queries], load_encoder())
    rng = np.random.default_rng(SEED + 6)
    picked = rng.choice(len(kept.claims), len(real), replace=False)
    mixtures = kept.mixtures
    again = Mixture(
        mixtures.main[picked], mixtures.other[picked], rng.uniform(*MAIN_WEIGHT, len(picked))
    )
    repeats = again.vectors(rng, src.pool.claims)
    progress(f"recall: {len(real)} held-out claims and {len(repeats)} repeats ...")
    held_out, capped = _recall("held-out claims", real, kept, index, FACTCHECKS_PER_KEY)
    repeated, _ = _recall("repeats", repeats, kept, index, FACTCHECKS_PER_KEY)
    kinds = [held_out, repeated, held_out.merged(repeated, "all")]
    checked = min(SQL_CHECKS, len(real))
    agree = _sql_agreement(database_url, real[:checked], capped[:checked])
    # The real pool against as many seeded fact-checks: how near the nearest neighbour is.
    sample = rng.choice(len(kept.claims), len(src.pool), replace=False)
    in_pool = (real @ src.pool.claims.T).max(axis=1)
    in_seeded = (real @ kept.claims[sample].T).max(axis=1)
    return RecallResult(
        kinds,
        agree,
        checked,
        index.occupancy(),
        (float(np.median(in_pool)), float(np.median(in_seeded))),
        time.perf_counter() - began,
    )


def _sql_agreement(database_url: str, queries: np.ndarray, expected: list[list[int]]) -> int:
    """Queries whose candidates by meaning in match_vector's own SQL (no words: an empty
    text) are the numpy search's capped candidates."""
    from sqlalchemy import text as sql_text

    from service.db import make_engine
    from service.domain import matching
    from workers.matching.lsh import query_keys

    engine = make_engine(database_url, pool_size=1)
    agree = 0
    try:
        with engine.connect() as connection:
            size = connection.scalar(sql_text("SELECT count(*) FROM factchecks"))
            keys = matching.keys_to_look_up(int(size or 0))
            for query, wanted in zip(queries, expected, strict=True):
                rows = connection.execute(
                    matching._CANDIDATES,
                    {
                        "text": "",
                        "common": [],
                        "keys": query_keys(query, keys),
                        "candidates": 0,
                        "per_key": matching.FACTCHECKS_PER_KEY,
                        "claim_id": 0,
                    },
                ).all()
                agree += sorted(row.id for row in rows) == wanted
            connection.execute(sql_text("SELECT 1"))
    finally:
        engine.dispose()
    return agree


# --------------------------------------------------------------------------------------------
# Import throughput against the bare encoder.
# --------------------------------------------------------------------------------------------


@dataclass
class ImportRun:
    records: int
    batches: int
    import_seconds: float
    encode_seconds: float
    created: int

    @property
    def rate(self) -> float:
        return self.records / self.import_seconds

    @property
    def encoder_rate(self) -> float:
        return self.records / self.encode_seconds


def measure_import(infra: Infrastructure, records: Sequence[Any]) -> ImportRun:
    from service.config import Settings
    from service.db import make_engine, make_session_factory, session_scope
    from service.domain.factchecks import IMPORT_BATCH, import_factchecks
    from workers.extraction.encoder import load_encoder

    encoder = load_encoder()
    encoder.encode(["A warm-up sentence."])
    scale = Settings(infra.database_url, infra.broker_url).rating_scale
    engine = make_engine(infra.database_url, pool_size=1)
    factory = make_session_factory(engine)
    import_seconds = encode_seconds = 0.0
    created = batches = 0
    try:
        for start in range(0, len(records), IMPORT_BATCH):
            batch = records[start : start + IMPORT_BATCH]
            began = time.perf_counter()
            encoder.encode([r.claim for r in batch])
            headlines = [r.headline for r in batch if r.headline]
            if headlines:
                encoder.encode(headlines)
            encode_seconds += time.perf_counter() - began
            began = time.perf_counter()
            with session_scope(factory) as session:
                result = import_factchecks(
                    session, batch, encoder, actor="bench", user_id=None, scale=scale
                )
            import_seconds += time.perf_counter() - began
            created += result.created
            batches += 1
            progress(
                f"import: {start + len(batch):,}/{len(records):,} "
                f"({(start + len(batch)) / import_seconds:.1f}/s imported, "
                f"{(start + len(batch)) / encode_seconds:.1f}/s bare encoder)"
            )
    finally:
        engine.dispose()
    if created != len(records):
        raise RuntimeError(f"import: {created} of {len(records)} records created")
    return ImportRun(len(records), batches, import_seconds, encode_seconds, created)


# --------------------------------------------------------------------------------------------
# HTTP: the operations, and their diagnosis.
# --------------------------------------------------------------------------------------------


@dataclass
class Plan:
    operations: list[Operation]
    detail_claims: list[int]
    matches_shown: float  # mean matches in a claim detail


def prepare(
    args: argparse.Namespace,
    database_url: str,
    api: Target,
    baseline: Target,
    headers: dict[str, str],
    sentences: Sequence[str],
) -> Plan:
    from bench.ingest import sql

    rng = random.Random(SEED + 7)
    total = args.warmup + args.requests
    ((low, high),) = sql(database_url, "SELECT min(id), max(id) FROM claims")
    matched = [row[0] for row in sql(database_url, "SELECT DISTINCT claim_id FROM claim_matches")]
    if not matched:
        raise RuntimeError("no claim has stored matches")
    detail = [rng.choice(matched) for _ in range(total)]
    shown = [
        len(_get_json(api.port, headers, f"{CLAIMS_PATH}/{i}")["matches"]) for i in detail[:20]
    ]
    if not all(shown):
        raise RuntimeError("a claim detail shows none of its stored matches")
    sample = _post_json(api.port, headers, MATCHES_PATH, {"sentences": [sentences[0]]})
    progress(
        f"claim detail shows {np.mean(shown):.1f} matches on average; POST /matches found "
        f"{len(sample['results'][0]['matches'])} for {sentences[0]!r}"
    )

    def body(sentence: str) -> bytes:
        return json.dumps({"sentences": [sentence]}).encode()

    operations = [
        Operation(
            "baseline",
            baseline,
            False,
            [Request(f"/claims/{rng.randint(low, high)}", b"") for _ in range(total)],
            note="bare Flask + psycopg2, one row by primary key",
        ),
        Operation(
            "claim detail",
            api,
            False,
            [Request(f"{CLAIMS_PATH}/{i}", b"") for i in detail],
            note=f"random claims with stored matches ({np.mean(shown):.1f} shown on average)",
        ),
        Operation(
            "POST /matches",
            api,
            False,
            [Request(MATCHES_PATH, body(sentences[n % len(sentences)])) for n in range(total)],
            note=f"one held-out sentence a request ({len(sentences)} distinct), top {TOP}",
        ),
    ]
    return Plan(operations, detail, float(np.mean(shown)))


def _post_json(port: int, headers: dict[str, str], path: str, document: Any) -> Any:
    from bench.review import HttpConnection

    connection = HttpConnection(port, headers)
    try:
        status, data = connection.send(Request(path, json.dumps(document).encode()))
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"POST {path}: HTTP {status}: {data[:300]!r}")
    return json.loads(data)


def explain(infra: Infrastructure, sentence: str, claim_id: int) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of the statements match_vector (for `sentence`) and claim
    detail (of `claim_id`) issue, with the plan nodes of the matching query."""
    from sqlalchemy import event

    from service.config import Settings
    from service.db import make_engine, make_session_factory
    from service.domain import matching
    from service.domain.claims.detail import claim_detail
    from workers.extraction.encoder import load_encoder

    settings = Settings(infra.database_url, infra.broker_url)
    engine = make_engine(infra.database_url, pool_size=1)
    captured: list[tuple[str, Any]] = []

    def capture(*event_args: Any) -> None:
        captured.append((event_args[2], event_args[3]))

    vector = load_encoder().encode([sentence])[0]
    lines: list[str] = []
    event.listen(engine, "before_cursor_execute", capture)
    try:
        session = make_session_factory(engine)()
        try:
            cases = [
                (
                    "match",
                    lambda: matching.match_vector(
                        session, sentence, vector, matching.Matching.default(), top=TOP
                    ),
                ),
                (
                    "detail",
                    lambda: claim_detail(
                        session,
                        claim_id,
                        scale=settings.rating_scale,
                        min_jaccard=settings.similar_min_jaccard,
                    ),
                ),
            ]
            for name, call in cases:
                issued = len(captured)
                began = time.perf_counter()
                call()
                lines.append(
                    f"explain {name:<14} in-process call {1000 * (time.perf_counter() - began):.1f}"
                    f" ms, {len(captured) - issued} statements"
                )
                statements = [s for s in captured[issued:] if _is_query(s[0])]
                for step, (statement, parameters) in enumerate(statements, 1):
                    plan = [
                        row[0]
                        for row in session.connection().exec_driver_sql(
                            "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                        )
                    ]
                    label = f"{name} {step}/{len(statements)}"
                    lines += _plan_summary(label, plan)
                    if name == "match":
                        lines += [f"        {'':<14} {line.rstrip()[:150]}" for line in plan]
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()
    return lines


def _is_query(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("SELECT", "WITH", "("))


# --------------------------------------------------------------------------------------------
# Orchestration and the report.
# --------------------------------------------------------------------------------------------


def run(args: argparse.Namespace) -> str:
    """Every phase; whatever happens, all children are stopped and the servers cleaned up."""
    with tempfile.TemporaryDirectory(prefix="factcheck-bench-matching-") as tmp:
        return _run_in(args, Path(tmp))


def _run_in(args: argparse.Namespace, workdir: Path) -> str:
    import service.app  # noqa: F401 (loaded now, as the servers load it)

    cores = len(os.sched_getaffinity(0))
    started = time.perf_counter()
    src = sources(args)
    sampler = Sampler()
    with infrastructure(workdir) as infra:
        progress(f"{infra.postgres}; {infra.redis}; logs in {workdir}")
        seeded, kept = seed(infra.database_url, args, src.pool)
        recall = measure_recall(infra.database_url, args, src, kept)
        del kept  # the vectors: about 3 KB a fact-check
        for kind in recall.kinds:
            progress(f"recall {kind.label}: {kind.recall:.3f} (uncapped {kind.uncapped:.3f})")
        token = create_reviewer_token(infra.database_url)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        with contextlib.ExitStack() as children:
            metrics_dir = workdir / "metrics"
            metrics_dir.mkdir()
            env = _child_env(infra, "fct_bench_admin_" + secrets.token_urlsafe(24), metrics_dir)

            def start(name: str, app: str) -> Target:
                port = free_port()
                child = Child(name, _gunicorn(port, args.api_workers, app), env, workdir)
                children.callback(child.stop)
                return Target(name, child, port)

            sampler.start()
            children.callback(sampler.stop)
            api, baseline = start("api", API_APP), start("baseline", BASELINE_APP)
            for target in (api, baseline):
                wait_http_ok(target.child, target.port, "/healthz")
                sampler.watch(target.name, target.child.pid)
            progress(f"api on :{api.port}, baseline on :{baseline.port}")
            plan = prepare(args, infra.database_url, api, baseline, headers, src.sentences)
            measure(args, plan.operations, headers, sampler)
        base = plan.operations[0].result.percentile_ms(99)
        slow = [
            op
            for op in plan.operations[1:]
            if op.result.percentile_ms(99) > P99_RATIO_TARGET * base
        ]
        diagnosis: list[str] = []
        try:
            diagnosis = explain(infra, src.sentences[0], plan.detail_claims[0])
            if args.profile and slow:
                diagnosis += profile_requests(infra, slow, headers)
        except Exception as error:  # diagnosis only: never lose the measurements
            diagnosis.append(f"diagnosis failed: {error!r}")
        imported = measure_import(infra, src.imports)
    return report(
        args, cores, infra, src, seeded, recall, plan, imported, diagnosis,
        time.perf_counter() - started,
    )  # fmt: skip


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def report(
    args: argparse.Namespace,
    cores: int,
    infra: Infrastructure,
    src: Sources,
    seeded: Seeded,
    recall: RecallResult,
    plan: Plan,
    imported: ImportRun,
    diagnosis: list[str],
    seconds: float,
) -> str:
    from service.domain.factchecks import IMPORT_BATCH
    from service.domain.matching import FACTCHECKS_PER_KEY, keys_to_look_up
    from workers.matching.lsh import AXES, BANDS, HASHES, NEAR_COSINE

    claims = seeded.claims
    steps = {**claims.steps, **seeded.steps}
    step_text = ", ".join(f"{name} {s:.1f} s" for name, s in steps.items())
    mean, largest, crowded = recall.occupancy
    in_pool, in_seeded = recall.neighbour_cosines
    lines = [
        f"matching benchmark ({cores} cores) {infra.postgres}; {infra.redis}; "
        f"{seconds / 60:.1f} min in all",
        f"        gunicorn {args.api_workers} workers x gthread 4 threads; {args.clients} "
        f"keep-alive clients; {args.requests} requests per operation in {args.rounds} "
        f"alternating rounds after {args.warmup} warm-up (at most {args.op_seconds:.0f} s each)",
        f"seed    {claims.articles:,} articles + {claims.claims:,} claims with embeddings "
        f"({seeded.claim_key_rows:,} claim key rows) + {seeded.factchecks:,} fact-checks "
        f"({seeded.key_rows:,} key rows) + {seeded.match_rows:,} claim matches of "
        f"{seeded.matched_claims:,} claims in {seeded.seconds:.1f} s; database "
        f"{seeded.database_mb:,.0f} MB",
        f"seed    {step_text}",
        f"pool    {len(src.pool):,} real fact-checks encoded in {src.pool.encode_seconds:.1f} s "
        f"(cached); held-out claims' nearest cosine, median: {in_pool:.3f} among the real pool, "
        f"{in_seeded:.3f} among as many seeded fact-checks",
        f"lsh     cross-polytope, {BANDS} bands of {HASHES} x {AXES} axes, "
        f"{keys_to_look_up(seeded.factchecks)} keys a query at this size, at most "
        f"{FACTCHECKS_PER_KEY} fact-checks a key: {mean:.0f} per key on "
        f"average, {largest:,} at most, {crowded:.0%} of keys hold more than the cap",
        f"op      {'name':<15} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'p99/base':>8}  target",
    ]
    base = plan.operations[0].result
    for operation in plan.operations:
        result = operation.result
        p99 = result.percentile_ms(99)
        ratio = p99 / base.percentile_ms(99) if base.percentile_ms(99) else 0.0
        target = "(baseline)"
        if operation is not plan.operations[0]:
            target = (
                f"p99 <= {P99_RATIO_TARGET:.0f}x baseline {_verdict(ratio <= P99_RATIO_TARGET)}"
            )
        lines.append(
            f"op      {operation.name:<15} {result.throughput:7.1f} "
            f"{result.percentile_ms(50):7.1f} {p99:7.1f} {ratio:7.2f}x  {target}"
        )
        cpu = result.cpu.get(operation.target.name, 0.0) * 1000 / max(1, result.requests)
        detail = (
            f"{result.requests} requests in {result.seconds:.1f} s, server cpu {cpu:.1f} ms/req"
        )
        if operation.truncated:
            detail += ", stopped at the time budget"
        if result.failed:
            detail += f"; FAILED {result.failed}: {result.failures[:2]}"
        lines.append(f"        {'':<15} {operation.note}; {detail}")
    for kind in recall.kinds:
        target = ""
        if kind is recall.overall:
            target = f"  target >= {RECALL_TARGET} {_verdict(kind.recall >= RECALL_TARGET)}"
        near = "" if kind.near_recall is None else (
            f"; of those at cosine >= {NEAR_COSINE}: {kind.near_recall:.3f} ({kind.near})"
        )  # fmt: skip
        lines.append(
            f"recall  {kind.label:<15} recall@{TOP} {kind.recall:.3f}{target}; "
            f"{kind.queries} queries, {np.mean(kind.candidates):,.0f} candidates each; without "
            f"the per-key cap {kind.uncapped:.3f} ({np.mean(kind.uncapped_candidates):,.0f})"
            f"{near}; best exact similarity median {np.median(kind.best):.3f}"
        )
    lines.append(
        f"recall  match_vector's SQL gave the numpy search's candidates for {recall.sql_agree}/"
        f"{recall.sql_checked} queries; measured in {recall.seconds:.1f} s"
    )
    ratio = imported.rate / imported.encoder_rate
    lines.append(
        f"import  {imported.records:,} real records in {imported.batches} batches of "
        f"{IMPORT_BATCH}: {imported.rate:.1f} fact-checks/s through import_factchecks, bare "
        f"encoder {imported.encoder_rate:.1f}/s on the same texts: {ratio:.2f}x  target >= "
        f"{IMPORT_RATIO_TARGET}x {_verdict(ratio >= IMPORT_RATIO_TARGET)}"
    )
    lines += diagnosis
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.matching", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--articles", type=int, default=100_000, help="articles to seed")
    parser.add_argument("--claims", type=int, default=1_000_000, help="claims to seed")
    parser.add_argument("--factchecks", type=int, default=300_000, help="fact-checks to seed")
    parser.add_argument("--pool", type=int, default=4000, help="real fact-checks encoded")
    parser.add_argument("--queries", type=int, default=200, help="held-out recall queries")
    parser.add_argument("--imports", type=int, default=2048, help="real records imported")
    parser.add_argument(
        "--matched", type=float, default=0.2, help="share of claims with stored matches"
    )
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    for name in (
        "articles", "claims", "factchecks", "pool", "queries", "imports", "requests",
        "clients", "api_workers", "rounds",
    ):  # fmt: skip
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.claims < args.articles:
        parser.error("--claims must be at least --articles")
    if not 0 < args.matched <= 1:
        parser.error("--matched must be in (0, 1]")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
