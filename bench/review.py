"""Review benchmark: the claim queue, search, detail, verdicts and the reviewer desk's pages over
a large seeded database.

Run from the repository root:

    python -m bench.review [--articles 100000] [--claims 1000000] [--requests 2000]
                           [--clients 16] [--api-workers 2]

Postgres and Redis as in `bench.ingest` (BENCH_DATABASE_URL / BENCH_BROKER_URL, else embedded
servers); the fresh `factcheck_bench_<random>` database is migrated, seeded and dropped at the
end.

Phases, all in one run:

1. seed: articles and claims written with COPY ... FROM STDIN from a seeded generator (never
   through the API): each article's body is its claims' sentences, so every claim is a real
   span of it, with number, year and name spans in the engine's shape (so a page weighs
   what a processed one does), and the similarity keys the worker would store (so claim
   detail's similar-claims lookup meets a realistic index). The secondary indexes of both
   tables are dropped for the load and re-created from their own definitions (checked
   identical afterwards), articles' `search` is filled with the expression the worker uses,
   then VACUUM ANALYZE.
2. review: the API under gunicorn (the `factcheck up` command line, as `bench.ingest` runs
   it) with a reviewer token, and a minimal Flask + psycopg2 app reading one claim by primary
   key (`bench/baseline_read_app.py`) under the same settings. Each operation is sent
   `--requests` times over N keep-alive clients after a warm-up, in alternating rounds:
   queue first page, queue page ~50,000 rows deep, full-text search for words of three
   frequencies, claim detail, verdict creation; and the baseline read. Beside the JSON
   endpoints they show, the same API serves two desk pages (HTML, signed in by a desk
   session's cookie made for the reviewer, as a browser sends it): the queue page `/desk/`
   (50 rows, as `GET /claims?limit=50`) and the claim page `/desk/claims/<id>` (the claim
   detail requests' ids). Each desk page's p99 is compared with its JSON endpoint's in the
   same run: the target is at most 1.3x.
3. diagnosis: EXPLAIN (ANALYZE, BUFFERS) of the SQL the API runs for the deep page and each
   search, and a cProfile of one in-process request for every operation above its target
   (a desk page above its target is profiled beside its JSON endpoint, with the SQL
   statements each runs and the time spent rendering templates).

Progress goes to stderr, the summary to stdout.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import hashlib
import http.client
import json
import os
import pstats
import random
import re
import secrets
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from bench.ingest import (
    API_APP,
    BENCH_RATE_PER_TOKEN,
    CLOCK_TICKS,
    FIRST_NAMES,
    HEADLINES,
    HOST,
    PROGRESS_SECONDS,
    REQUEST_TIMEOUT,
    SENTENCES,
    TOPICS,
    Child,
    Connection,
    Infrastructure,
    Load,
    LoadResult,
    Request,
    Sampler,
    Target,
    _child_env,
    _Fields,
    _gunicorn,
    free_port,
    infrastructure,
    machine_busy_ticks,
    progress,
    run_main,
    wait_http_ok,
)

BASELINE_APP = "bench.baseline_read_app:asgi_app()"
CLAIMS_PATH = "/api/v1/claims"
DESK_PATH = "/desk"
SEED = 20_260_214
READ_TARGET_MS = 50.0
WRITE_TARGET_MS = 100.0
# A desk page's p99 against the p99 of the JSON endpoint it shows, in the same run.
DESK_RATIO_TARGET = 1.3
CHECKWORTHY_THRESHOLD = 0.31
PAGE = 50
DEEP_ROWS = 50_000
# Word frequencies (share of claims) the three searches aim at.
SEARCH_TIERS = (("common", 0.05), ("medium", 0.003), ("rare", 0.0001))
VERDICT = {
    "rating": "false",
    "summary": "Benchmark verdict.",
    "evidence": [{"url": "https://example.org/a", "stance": "refutes"}],
}

# --------------------------------------------------------------------------------------------
# Seed data: bench.ingest's news sentences, with long-tailed (Zipf) place and surname pools so
# that full-text search meets words of every frequency, from "said" to a one-off town.
# --------------------------------------------------------------------------------------------

SOURCES = (
    "Daily Ledger", "Evening Courier", "Harbour Gazette", "Northern Echo Online",
    "The Civic Record", "Valley Times", "Metro Bulletin", "Coastal Observer", "Public Wire",
    "The Morning Post-Dispatch", "Riverside Herald", "Union Chronicle", "Capital Review",
    "Frontier Press", "County Standard", "The Weekly Sentinel", "Bay Area Monitor",
    "Highland Journal", "Lakeside News", "Open Newsroom",
)  # fmt: skip
ONSETS = (
    "b", "br", "c", "ch", "d", "dr", "f", "g", "gl", "gr", "h", "k", "l", "m", "n", "p",
    "pr", "r", "s", "sh", "st", "t", "th", "tr", "v", "w", "z",
)  # fmt: skip
VOWELS = ("a", "e", "i", "o", "u", "ai", "ea", "oa", "ou", "y")
TOWN_ENDINGS = (
    "ton", "ford", "by", "wick", "holm", "stead", "mere", "vale", "dale", "burn", "moor",
    "ley", "field", "hurst", "gate", "port", "bridge", "combe",
)  # fmt: skip
NAME_ENDINGS = ("son", "er", "ova", "ski", "ez", "ani", "ard", "ley", "ing", "ock", "ell", "ić")
TOWNS = 4_000
SURNAMES = 3_000
ZIPF_EXPONENT = 1.05
# Most claims are waiting for review. None is `reviewed`: that needs a verdict, and the seed
# writes none.
STATUSES = ("new",) * 94 + ("in_review",) * 5 + ("not_checkworthy",)


def _synthetic_names(rng: random.Random, count: int, endings: Sequence[str]) -> list[str]:
    names: dict[str, None] = {}
    while len(names) < count:
        stem = rng.choice(ONSETS) + rng.choice(VOWELS)
        if rng.random() < 0.6:
            stem += rng.choice(ONSETS) + rng.choice(VOWELS)
        names[(stem + rng.choice(endings)).capitalize()] = None
    return list(names)


def _zipf_cumulative(count: int) -> list[float]:
    total, cumulative = 0.0, []
    for rank in range(1, count + 1):
        total += rank**-ZIPF_EXPONENT
        cumulative.append(total)
    return cumulative


def _claim_types() -> list[str]:
    from schemas.claims import CLAIM_TYPES

    rng = random.Random(SEED)
    pairs = [json.dumps([a, b]) for a in CLAIM_TYPES for b in CLAIM_TYPES if a < b]
    return [json.dumps([t]) for t in CLAIM_TYPES] * 3 + rng.sample(pairs, 12) + ["[]"] * 4


@dataclass(frozen=True)
class SeedClaim:
    start: int
    end: int
    text: str


@dataclass(frozen=True)
class SeedArticle:
    number: int  # 1-based: the article's id
    title: str
    body: str
    source: str
    published: str
    claims: list[SeedClaim]


class Corpus:
    """Article `n` is the same on every run: its own seeded generator draws everything."""

    def __init__(self, articles: int, claims: int) -> None:
        rng = random.Random(SEED)
        self.articles = articles
        self.claims = claims
        self.towns = _synthetic_names(rng, TOWNS, TOWN_ENDINGS)
        self.surnames = _synthetic_names(rng, SURNAMES, NAME_ENDINGS)
        self.town_weights = _zipf_cumulative(len(self.towns))
        self.surname_weights = _zipf_cumulative(len(self.surnames))
        self.types = _claim_types()

    def claims_of(self, number: int) -> int:
        share, extra = divmod(self.claims, self.articles)
        return share + (1 if number <= extra else 0)

    def _fields(self, rng: random.Random, topic: Any) -> _Fields:
        fields = _Fields(rng, topic)
        if rng.random() < 0.5:
            fields["place"] = rng.choices(self.towns, cum_weights=self.town_weights)[0]
        if rng.random() < 0.5:
            surname = rng.choices(self.surnames, cum_weights=self.surname_weights)[0]
            fields["person"] = f"{rng.choice(FIRST_NAMES)} {surname}"
        return fields

    def article(self, number: int) -> SeedArticle:
        rng = random.Random(SEED * 1_000_003 + number)
        topic = rng.choice(TOPICS)
        title = rng.choice(HEADLINES).format_map(self._fields(rng, topic))
        parts: list[str] = []
        claims: list[SeedClaim] = []
        offset = 0
        for index in range(self.claims_of(number)):
            if index:
                separator = "\n\n" if index % 3 == 0 else " "
                parts.append(separator)
                offset += len(separator)
            sentence = rng.choice(SENTENCES).format_map(self._fields(rng, topic))
            parts.append(sentence)
            claims.append(SeedClaim(offset, offset + len(sentence), sentence))
            offset += len(sentence)
        published = (
            f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d} "
            f"{rng.randint(5, 21):02d}:{rng.choice((0, 15, 30, 45)):02d}:00+00"
        )
        return SeedArticle(
            number, title, "".join(parts), SOURCES[number % len(SOURCES)], published, claims
        )


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value: str) -> str:
    return value.translate(_COPY_ESCAPES)


ARTICLE_COLUMNS = (
    "id, source, external_id, title, body, url, language, published_at, revision,"
    " content_hash, status, processed_at, organization_id"
)
CLAIM_COLUMNS = (
    'article_id, revision, start, "end", text, prefix, suffix, checkworthiness, checkworthy,'
    " types, language, status, quantities, dates, entities, similarity_keys"
)
CONTEXT_CHARS = 32
# Spans in the engine's shape, so a seeded claim weighs what a processed one does in a page:
# numbers as quantities, years as dates, capitalised words after the first as entities.
_NUMBER_RE = re.compile(r"\$?\d+(?:[,.]\d+)*%?")
_YEAR_RE = re.compile(r"\b(?:19|20)\d\d\b")
_NAME_RE = re.compile(r"(?<=\s)[A-Z][a-z]+(?:\s[A-Z][a-z]+)*")


def _seed_spans(text: str, offset: int) -> tuple[str, str, str]:
    """quantities, dates and entities of a seeded claim, as JSON, with body offsets."""

    def span(match: re.Match[str], **extra: Any) -> dict[str, Any]:
        start, end = match.span()
        return {"text": match.group(), "start": offset + start, "end": offset + end, **extra}

    years = [span(m, value=m.group(), kind="absolute") for m in _YEAR_RE.finditer(text)]
    quantities = [
        span(m, value=None, unit=None, approximate=None)
        for m in _NUMBER_RE.finditer(text)
        if not _YEAR_RE.fullmatch(m.group())
    ]
    entities = [span(m, label="OTHER") for m in _NAME_RE.finditer(text)]
    return json.dumps(quantities), json.dumps(years), json.dumps(entities)


class CopyRows:
    """A file-like source for `copy_expert`: each read() is the next batch of rows."""

    def __init__(self, label: str, total: int, batches: Iterator[tuple[int, str]]) -> None:
        self.label = label
        self.total = total
        self.rows = 0
        self._batches = batches
        self._started = time.perf_counter()
        self._reported = time.monotonic()

    def read(self, _size: int = -1) -> bytes:
        batch = next(self._batches, None)
        if batch is None:
            return b""
        rows, text = batch
        self.rows += rows
        if time.monotonic() - self._reported >= PROGRESS_SECONDS:
            self._reported = time.monotonic()
            rate = self.rows / (time.perf_counter() - self._started)
            progress(f"seed: {self.label} {self.rows:,}/{self.total:,} ({rate:,.0f} rows/s)")
        return text.encode()


BATCH_ARTICLES = 200


def _article_batches(
    corpus: Corpus, processed_at: str, organization_id: int
) -> Iterator[tuple[int, str]]:
    lines: list[str] = []
    for number in range(1, corpus.articles + 1):
        article = corpus.article(number)
        external_id = f"seed-{number}"
        lines.append(
            "\t".join(
                (
                    str(number),
                    _copy_field(article.source),
                    external_id,
                    _copy_field(article.title),
                    _copy_field(article.body),
                    f"https://news.example.org/{external_id}",
                    "en",
                    article.published,
                    "1",
                    hashlib.sha256(article.body.encode()).hexdigest(),
                    "processed",
                    processed_at,
                    str(organization_id),
                )
            )
        )
        if len(lines) == BATCH_ARTICLES or number == corpus.articles:
            yield len(lines), "\n".join(lines) + "\n"
            lines = []


@dataclass(frozen=True)
class LookupRows:
    """Lookup rows a claims insert trigger writes from a key column: the trigger is off for
    the bulk load, the table's primary key dropped, and the rows written in one INSERT after."""

    trigger: str
    table: str
    primary_key: str  # the constraint's name
    key_columns: str  # its columns
    insert: str  # what the trigger writes, for all claims at once


@dataclass(frozen=True)
class ExtraClaimColumns:
    """Claim columns beyond this seed's, for another benchmark (bench.matching): their names,
    the COPY fields (escaped, tab-joined) of the next `count` claims, and the lookup rows
    they feed."""

    names: str
    fields: Callable[[int], list[str]]
    lookups: tuple[LookupRows, ...] = ()


def _claim_batches(
    corpus: Corpus, timing: dict[str, float], extra: ExtraClaimColumns | None = None
) -> Iterator[tuple[int, str]]:
    """Claims as COPY rows; the seconds spent on similarity keys (and `extra`'s fields) are
    added to `timing`."""
    from service.domain.similar_claims import similarity_keys_of

    lines: list[str] = []
    texts: list[str] = []
    rng = random.Random(SEED + 1)
    for number in range(1, corpus.articles + 1):
        article = corpus.article(number)
        body = article.body
        prefix_id = str(number)
        for claim in article.claims:
            score = rng.randint(0, 10_000) / 10_000
            lines.append(
                "\t".join(
                    (
                        prefix_id,
                        "1",
                        str(claim.start),
                        str(claim.end),
                        _copy_field(claim.text),
                        _copy_field(body[max(0, claim.start - CONTEXT_CHARS) : claim.start]),
                        _copy_field(body[claim.end : claim.end + CONTEXT_CHARS]),
                        repr(score),
                        "t" if score >= CHECKWORTHY_THRESHOLD else "f",
                        rng.choice(corpus.types),
                        "en",
                        rng.choice(STATUSES),
                        *(_copy_field(spans) for spans in _seed_spans(claim.text, claim.start)),
                    )
                )
            )
            texts.append(claim.text)
        if number % BATCH_ARTICLES == 0 or number == corpus.articles:
            # The keys the worker would store, for the batch at once (vectorised).
            began = time.perf_counter()
            keys = similarity_keys_of((text, "sentence") for text in texts)
            timing["similarity keys"] += time.perf_counter() - began
            rows = [
                f"{line}\t{{{','.join(map(str, claim_keys))}}}"
                for line, claim_keys in zip(lines, keys, strict=True)
            ]
            if extra is not None:
                began = time.perf_counter()
                more = extra.fields(len(rows))
                timing["extra columns"] += time.perf_counter() - began
                rows = [f"{row}\t{fields}" for row, fields in zip(rows, more, strict=True)]
            yield len(rows), "\n".join(rows) + "\n"
            lines, texts = [], []


@dataclass
class SeedResult:
    articles: int
    claims: int
    steps: dict[str, float]
    database_mb: float
    indexes: int
    keys_seconds: float  # of "copy claims": similarity keys computed in Python

    @property
    def seconds(self) -> float:
        return sum(self.steps.values())

    @property
    def copy_seconds(self) -> float:
        return self.steps["copy articles"] + self.steps["copy claims"]


SECONDARY_INDEXES = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid IN ('articles'::regclass, 'claims'::regclass) AND NOT i.indisprimary
  AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname
"""


def _search_update_sql() -> str:
    """Articles' `search`, filled with the very expression the extraction worker uses."""
    from sqlalchemy import update
    from sqlalchemy.dialects import postgresql

    from service.domain.extraction import SEARCH_VECTOR
    from service.models import Article

    statement = update(Article).values(search=SEARCH_VECTOR)
    return str(
        statement.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True})
    )


# The trigger that writes a new claim's similarity lookup rows (migrations 0010, 0012), and
# what it writes for each claim.
SIMILARITY_ROWS = LookupRows(
    trigger="claims_insert_similarity_keys",
    table="claim_similarity_keys",
    primary_key="pk_claim_similarity_keys",
    key_columns="key, claim_id",
    insert=(
        "INSERT INTO claim_similarity_keys (key, claim_id) SELECT lookup.key, claims.id"
        " FROM claims, LATERAL (SELECT DISTINCT key FROM"
        " unnest(similarity_lookup_keys(claims.similarity_keys)) AS key) AS lookup"
    ),
)


def seed(
    database_url: str, articles: int, claims: int, extra: ExtraClaimColumns | None = None
) -> SeedResult:
    import psycopg2

    from service.models import DESK_ORGANIZATION

    corpus = Corpus(articles, claims)
    steps: dict[str, float] = {}
    timing = {"similarity keys": 0.0, "extra columns": 0.0}
    lookups = (SIMILARITY_ROWS, *(extra.lookups if extra else ()))
    columns = CLAIM_COLUMNS + (f", {extra.names}" if extra else "")
    connection = psycopg2.connect(database_url, application_name="bench-review-seed")
    connection.autocommit = True

    @contextlib.contextmanager
    def step(name: str) -> Iterator[None]:
        progress(f"seed: {name} ...")
        began = time.perf_counter()
        yield
        steps[name] = time.perf_counter() - began
        progress(f"seed: {name} took {steps[name]:.1f} s")

    try:
        with connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
            cursor.execute("SET maintenance_work_mem = '512MB'")
            cursor.execute(SECONDARY_INDEXES)
            indexes: list[tuple[str, str]] = cursor.fetchall()
            with step("drop secondary indexes"):
                for name, _ in indexes:
                    cursor.execute(f'DROP INDEX "{name}"')
            processed_at = datetime.now(UTC).isoformat()
            # The articles are the desk's own, as the bootstrap admin's submissions are.
            cursor.execute("SELECT id FROM organizations WHERE name = %s", (DESK_ORGANIZATION,))
            (desk,) = cursor.fetchone()
            with step("copy articles"):
                batches = _article_batches(corpus, processed_at, desk)
                source = CopyRows("articles", articles, batches)
                cursor.copy_expert(f"COPY articles ({ARTICLE_COLUMNS}) FROM STDIN", source)
                cursor.execute(
                    "SELECT setval(pg_get_serial_sequence('articles', 'id'), max(id)) FROM articles"
                )
            with step("copy claims"):
                # The lookup rows the insert triggers would add come in bulk below.
                for lookup in lookups:
                    cursor.execute(f"ALTER TABLE claims DISABLE TRIGGER {lookup.trigger}")
                    cursor.execute(
                        f"ALTER TABLE {lookup.table} DROP CONSTRAINT {lookup.primary_key}"
                    )
                source = CopyRows("claims", claims, _claim_batches(corpus, timing, extra))
                cursor.copy_expert(f"COPY claims ({columns}) FROM STDIN", source)
            progress(f"seed: similarity keys took {timing['similarity keys']:.1f} s of that")
            if extra is not None:
                progress(f"seed: extra columns took {timing['extra columns']:.1f} s of that")
            for lookup in lookups:
                with step(f"{lookup.table} rows"):
                    cursor.execute(lookup.insert)
                    cursor.execute(
                        f"ALTER TABLE {lookup.table} ADD CONSTRAINT {lookup.primary_key} "
                        f"PRIMARY KEY ({lookup.key_columns})"
                    )
                    cursor.execute(f"ALTER TABLE claims ENABLE TRIGGER {lookup.trigger}")
            with step("articles search"):
                cursor.execute(_search_update_sql())
            with step("create indexes"):
                _create_indexes(database_url, [definition for _, definition in indexes])
            cursor.execute(SECONDARY_INDEXES)
            if cursor.fetchall() != indexes:
                raise RuntimeError("seed: the re-created indexes differ from the migrated ones")
            with step("vacuum analyze"):
                tables = ", ".join(["articles", "claims", *(lookup.table for lookup in lookups)])
                cursor.execute(f"VACUUM ANALYZE {tables}")
            cursor.execute("SELECT count(*) FROM articles")
            article_rows = _one(cursor)
            cursor.execute("SELECT count(*) FROM claims")
            claim_rows = _one(cursor)
            cursor.execute("SELECT pg_database_size(current_database())")
            size = _one(cursor)
    finally:
        connection.close()
    return SeedResult(
        article_rows, claim_rows, steps, size / 2**20, len(indexes), timing["similarity keys"]
    )


def _one(cursor: Any) -> Any:
    row = cursor.fetchone()
    if row is None:
        raise RuntimeError("expected a row")
    return row[0]


def _create_indexes(database_url: str, definitions: list[str]) -> None:
    """Build the indexes over two connections at once, the slow GIN ones first."""
    import psycopg2

    pending = sorted(definitions, key=lambda d: " gin " not in d)
    lock = threading.Lock()
    errors: list[BaseException] = []

    def build() -> None:
        connection = psycopg2.connect(database_url, application_name="bench-review-index")
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute("SET maintenance_work_mem = '512MB'")
                while True:
                    with lock:
                        if not pending or errors:
                            return
                        definition = pending.pop(0)
                    began = time.perf_counter()
                    cursor.execute(definition)
                    name = re.search(r"INDEX (\S+) ON", definition)
                    progress(
                        f"seed: {name and name[1]} built in {time.perf_counter() - began:.1f} s"
                    )
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    builders = [threading.Thread(target=build, name=f"index-{i}") for i in range(2)]
    for builder in builders:
        builder.start()
    for builder in builders:
        builder.join()
    if errors:
        raise RuntimeError(f"seed: building an index failed: {errors[0]}")


# --------------------------------------------------------------------------------------------
# Load: bench.ingest's clients, able to send GETs too.
# --------------------------------------------------------------------------------------------


class HttpConnection(Connection):
    """bench.ingest's keep-alive connection for any method: a request without a body is a GET.
    The last response's headers are kept in `received`."""

    def __init__(self, port: int, headers: dict[str, str]) -> None:
        super().__init__(port, headers)
        self.received: http.client.HTTPMessage | None = None

    def send(self, request: Request) -> tuple[int, bytes]:
        method = "POST" if request.body else "GET"
        reused = self._connection is not None
        try:
            return self._exchange(method, request)
        except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
            if not reused:
                raise
        return self._exchange(method, request)  # the server had closed an idle connection

    def _exchange(self, method: str, request: Request) -> tuple[int, bytes]:
        self.received = None
        if self._connection is None:
            self._connection = http.client.HTTPConnection(HOST, self.port, REQUEST_TIMEOUT)
        try:
            self._connection.request(method, request.path, request.body or None, self.headers)
            response = self._connection.getresponse()
            data = response.read()
        except (OSError, http.client.HTTPException):
            self.close()
            raise
        if response.will_close:
            self.close()
        self.received = response.headers
        return response.status, data


class ReviewLoad(Load):
    """`Load` over `HttpConnection`s; stops taking requests once `seconds` have passed. With
    `media_type`, a response of the right status must also be of that type."""

    def __init__(
        self, *args: Any, seconds: float, media_type: str | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.seconds = seconds
        self.media_type = media_type
        self.truncated = False

    def _take(self) -> Request | None:
        if self.started and time.perf_counter() - self.started > self.seconds:
            if not self.truncated and self._next < len(self.requests):
                self.truncated = True
            return None
        return super()._take()

    def _client(self) -> None:
        connection = HttpConnection(self.port, self.headers)
        latencies: list[float] = []
        try:
            self._barrier.wait(timeout=30)
            request = self._take()
            while request is not None:
                began = time.perf_counter()
                try:
                    status, data = connection.send(request)
                except (OSError, http.client.HTTPException) as error:
                    status, data = 0, repr(error).encode()
                latencies.append(time.perf_counter() - began)
                problem = self._problem(request, status, data, connection.received)
                with self._lock:
                    self.completed += 1
                    if problem is not None:
                        self.result.failed += 1
                        if len(self.result.failures) < 5:
                            self.result.failures.append(problem)
                request = self._take()
        finally:
            connection.close()
            with self._lock:
                self.result.latencies += latencies
                self._ends.append(time.perf_counter())

    def _problem(
        self,
        request: Request,
        status: int,
        data: bytes,
        received: http.client.HTTPMessage | None,
    ) -> str | None:
        problem = self.check(request, status, data)
        if problem is not None:
            location = received.get("Location") if received is not None else None
            return f"{problem} (to {location})" if location else problem  # sent to sign in?
        if self.media_type is not None:
            return _media_problem(request, received, self.media_type)
        return None


def _expect(status: int) -> Callable[[Request, int, bytes], str | None]:
    def check(request: Request, got: int, data: bytes) -> str | None:
        return None if got == status else f"{request.path}: HTTP {got}: {data[:300]!r}"

    return check


def _media_problem(
    request: Request, received: http.client.HTTPMessage | None, media_type: str
) -> str | None:
    got = received.get_content_type() if received is not None else None
    return None if got == media_type else f"{request.path}: {got}, not {media_type}"


# --------------------------------------------------------------------------------------------
# The operations, prepared against the seeded data.
# --------------------------------------------------------------------------------------------


@dataclass
class Operation:
    name: str
    target: Target
    write: bool
    requests: list[Request]
    status: int = 200
    note: str = ""
    # Sent instead of the run's headers (the reviewer token): a desk page's cookie.
    headers: dict[str, str] | None = None
    media_type: str | None = None  # of every response, when given
    # The JSON endpoint a desk page shows: the page's target is relative to its p99.
    mirrors: Operation | None = None
    result: LoadResult = field(default_factory=LoadResult)
    machine_seconds: float = 0.0
    truncated: bool = False

    @property
    def target_ms(self) -> float:
        if self.mirrors is not None:
            return DESK_RATIO_TARGET * self.mirrors.result.percentile_ms(99)
        return WRITE_TARGET_MS if self.write else READ_TARGET_MS

    @property
    def above_target(self) -> bool:
        p99 = self.result.percentile_ms(99)
        return p99 > self.target_ms if self.mirrors is not None else p99 >= self.target_ms


@dataclass
class SearchWord:
    tier: str
    word: str
    claims: int
    articles: int
    returned: int


@dataclass
class Plan:
    operations: list[Operation]
    depth: int
    deep_cursor: str
    words: list[SearchWord]
    claim_ids: tuple[int, int]


def _get_json(port: int, headers: dict[str, str], path: str) -> Any:
    connection = HttpConnection(port, headers)
    try:
        status, data = connection.send(Request(path, b""))
    finally:
        connection.close()
    if status != 200:
        raise RuntimeError(f"GET {path}: HTTP {status}: {data[:300]!r}")
    return json.loads(data)


def _get_page(port: int, headers: dict[str, str], path: str) -> str:
    """A desk page's HTML; refused unless it is 200 and text/html."""
    connection = HttpConnection(port, headers)
    try:
        status, data = connection.send(Request(path, b""))
    finally:
        connection.close()
    received = connection.received
    if status != 200:
        location = received.get("Location") if received is not None else None
        if location and location.startswith(f"{DESK_PATH}/login"):
            raise RuntimeError(f"GET {path} sent to sign in ({location}): the cookie is wrong")
        raise RuntimeError(f"GET {path}: HTTP {status}: {data[:300]!r}")
    problem = _media_problem(Request(path, b""), received, "text/html")
    if problem is not None:
        raise RuntimeError(f"GET {problem}")
    return data.decode()


def _queue_position(cursor: Any, rows: int) -> tuple[float, int, int]:
    """(score, id) of the queue's `rows`-th row and the id of the next one, by SQL."""
    cursor.execute(
        "SELECT c.checkworthiness, c.id FROM claims c JOIN articles a ON a.id = c.article_id"
        " WHERE c.revision = a.revision AND c.checkworthy"
        " ORDER BY c.checkworthiness DESC NULLS LAST, c.id DESC OFFSET %s LIMIT 2",
        (rows - 1,),
    )
    found = cursor.fetchall()
    if len(found) < 2:
        raise RuntimeError(f"the queue is shorter than {rows + 1} rows")
    (score, last_id), (_, next_id) = found
    return score, last_id, next_id


def _search_words(cursor: Any, claims: int) -> list[tuple[str, str]]:
    """A word per tier whose share of claims (in a sample) is nearest the tier's."""
    percent = min(100.0, 100.0 * 60_000 / max(1, claims))
    cursor.execute("SELECT count(*) FROM claims TABLESAMPLE SYSTEM (%s) REPEATABLE (7)", (percent,))
    sampled = max(1, _one(cursor))
    cursor.execute(
        "SELECT word, ndoc FROM ts_stat(format("
        "'SELECT search FROM claims TABLESAMPLE SYSTEM (%%s) REPEATABLE (7)', %s::float8))"
        " WHERE word ~ '^[a-z]{4,}$'"
        " AND plainto_tsquery('english', word)::text = quote_literal(word)",
        (percent,),
    )
    stats: list[tuple[str, int]] = cursor.fetchall()
    if not stats:
        raise RuntimeError("no words found in the claims")
    chosen: list[tuple[str, str]] = []
    for tier, share in SEARCH_TIERS:
        wanted = share * sampled
        word = min(stats, key=lambda s: (abs(s[1] - wanted) / max(wanted, 1), s[0]))[0]
        chosen.append((tier, word))
    return chosen


def prepare(
    args: argparse.Namespace,
    infra: Infrastructure,
    api: Target,
    baseline: Target,
    headers: dict[str, str],
    desk_headers: dict[str, str],
) -> Plan:
    import psycopg2
    from markupsafe import escape

    rng = random.Random(SEED + 2)
    total = args.warmup + args.requests
    connection = psycopg2.connect(infra.database_url)
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT min(id), max(id) FROM claims")
            low, high = cursor.fetchone() or (0, 0)
            cursor.execute("SELECT count(*) FROM claims WHERE checkworthy")
            queue = _one(cursor)
            depth = min(DEEP_ROWS, queue - 2 * PAGE)
            score, last_id, next_id = _queue_position(cursor, depth)
            words = []
            for tier, term in _search_words(cursor, high - low + 1):
                cursor.execute(
                    "SELECT count(*) FROM claims WHERE search @@ plainto_tsquery('english', %s)",
                    (term,),
                )
                claim_hits = _one(cursor)
                cursor.execute(
                    "SELECT count(*) FROM articles WHERE search @@ plainto_tsquery('english', %s)",
                    (term,),
                )
                words.append(SearchWord(tier, term, claim_hits, _one(cursor), 0))
            candidates = [rng.randint(low, high) for _ in range(total * 2)]
            cursor.execute(
                "SELECT id FROM claims WHERE id = ANY(%s) AND status <> 'not_checkworthy'",
                (candidates,),
            )
            open_ids = {row[0] for row in cursor.fetchall()}
    finally:
        connection.close()
    verdict_ids = [i for i in candidates if i in open_ids][:total]
    if len(verdict_ids) < total:
        raise RuntimeError("not enough open claims for the verdict requests")

    deep_cursor = f"1.{round(score * 10_000)}.{last_id}"
    first = _get_json(api.port, headers, f"{CLAIMS_PATH}?limit={PAGE}")
    deep = _get_json(api.port, headers, f"{CLAIMS_PATH}?limit={PAGE}&cursor={deep_cursor}")
    if len(first["items"]) != PAGE or len(deep["items"]) != PAGE:
        raise RuntimeError(
            f"queue pages hold {len(first['items'])} and {len(deep['items'])} items, not {PAGE}"
        )
    if deep["items"][0]["id"] != next_id:
        raise RuntimeError(f"deep page starts at {deep['items'][0]['id']}, expected {next_id}")
    for word in words:
        found = _get_json(api.port, headers, f"{CLAIMS_PATH}?q={quote(word.word)}&limit={PAGE}")
        word.returned = len(found["items"])
        progress(
            f"search {word.tier} {word.word!r}: {word.claims} claims, {word.articles} articles "
            f"match; first page {word.returned} items"
        )
    progress(f"deep cursor {deep_cursor} ({depth:,} rows deep) verified")

    # The desk's pages show what the JSON endpoints answer: the queue page the first page's
    # claims in order, a claim page its claim.
    queue_page = _get_page(api.port, desk_headers, f"{DESK_PATH}/")
    links = re.findall(rf'href="{DESK_PATH}/claims/(\d+)"', queue_page)
    if list(dict.fromkeys(map(int, links))) != [item["id"] for item in first["items"]]:
        raise RuntimeError(f"the queue page lists other claims than {CLAIMS_PATH}?limit={PAGE}")

    def gets(path: str) -> list[Request]:
        return [Request(path, b"")] * total

    baseline_requests = [Request(f"/claims/{rng.randint(low, high)}", b"") for _ in range(total)]
    detail_ids = [rng.randint(low, high) for _ in range(total)]
    shown = _get_json(api.port, headers, f"{CLAIMS_PATH}/{detail_ids[0]}")
    claim_page = _get_page(api.port, desk_headers, f"{DESK_PATH}/claims/{detail_ids[0]}")
    if str(escape(shown["text"])) not in claim_page:
        raise RuntimeError(f"the claim page of {detail_ids[0]} does not show its text")
    progress(f"desk pages verified (queue page {len(queue_page):,} characters)")

    queue_first = Operation("queue first", api, False, gets(f"{CLAIMS_PATH}?limit={PAGE}"))
    claim_detail = Operation(
        "claim detail",
        api,
        False,
        [Request(f"{CLAIMS_PATH}/{i}", b"") for i in detail_ids],
        note="random ids",
    )
    verdict = json.dumps(VERDICT).encode()
    operations = [
        Operation(
            "baseline",
            baseline,
            False,
            baseline_requests,
            note="bare Flask + psycopg2, one row by primary key",
        ),
        queue_first,
        Operation(
            "desk queue",
            api,
            False,
            gets(f"{DESK_PATH}/"),
            note=f"{DESK_PATH}/ (HTML, {PAGE} rows), beside queue first",
            headers=desk_headers,
            media_type="text/html",
            mirrors=queue_first,
        ),
        Operation(
            "queue deep",
            api,
            False,
            gets(f"{CLAIMS_PATH}?limit={PAGE}&cursor={deep_cursor}"),
            note=f"{depth:,} rows deep",
        ),
        *(
            Operation(
                f"search {w.tier}",
                api,
                False,
                gets(f"{CLAIMS_PATH}?q={quote(w.word)}&limit={PAGE}"),
                note=f"q={w.word}: {w.claims} claims / {w.articles} articles match",
            )
            for w in words
        ),
        claim_detail,
        Operation(
            "desk claim",
            api,
            False,
            [Request(f"{DESK_PATH}/claims/{i}", b"") for i in detail_ids],
            note=f"{DESK_PATH}/claims/<id> (HTML), claim detail's ids",
            headers=desk_headers,
            media_type="text/html",
            mirrors=claim_detail,
        ),
        Operation(
            "verdict create",
            api,
            True,
            [Request(f"{CLAIMS_PATH}/{i}/verdicts", verdict) for i in verdict_ids],
            status=201,
            note="random open claims",
        ),
    ]
    return Plan(operations, depth, deep_cursor, words, (low, high))


def measure(
    args: argparse.Namespace,
    operations: Sequence[Operation],
    headers: dict[str, str],
    sampler: Sampler,
) -> None:
    """Warm every operation up, then send its requests in alternating rounds."""
    budget = args.op_seconds / args.rounds
    for operation in operations:
        warmup = operation.requests[: args.warmup]
        if warmup:
            progress(f"{operation.name}: warm-up, {len(warmup)} requests")
            result, _ = _run_load(args, operation, warmup, headers, budget, sampler)
            if result.failed:
                progress(f"{operation.name}: {result.failed} warm-up failures: {result.failures}")
    chunk = -(-args.requests // args.rounds)
    for number in range(args.rounds):
        for operation in operations if number % 2 == 0 else operations[::-1]:
            measured = operation.requests[args.warmup :]
            requests = measured[number * chunk : (number + 1) * chunk]
            if not requests:
                continue
            busy = machine_busy_ticks()
            result, truncated = _run_load(args, operation, requests, headers, budget, sampler)
            operation.machine_seconds += (machine_busy_ticks() - busy) / CLOCK_TICKS
            operation.truncated |= truncated
            progress(
                f"{operation.name} round {number + 1}/{args.rounds}: "
                f"{result.throughput:.1f} req/s, p50 {result.percentile_ms(50):.1f} ms, "
                f"p99 {result.percentile_ms(99):.1f} ms ({result.requests} requests"
                f"{', stopped at the time budget' if truncated else ''})"
            )
            operation.result.merge(result)


def _run_load(
    args: argparse.Namespace,
    operation: Operation,
    requests: Sequence[Request],
    headers: dict[str, str],
    budget: float,
    sampler: Sampler,
) -> tuple[LoadResult, bool]:
    target = operation.target
    target.child.check_running()
    load = ReviewLoad(
        target.port,
        headers if operation.headers is None else operation.headers,
        requests,
        args.clients,
        check=_expect(operation.status),
        seconds=budget,
        media_type=operation.media_type,
    )
    before = sampler.cpu_seconds(target.name)
    load.start()
    result = load.wait(time.monotonic() + args.timeout, operation.name)
    after = sampler.cpu_seconds(target.name)
    result.cpu = {name: after[name] - before[name] for name in after}
    return result, load.truncated


# --------------------------------------------------------------------------------------------
# Diagnosis: the plans of the SQL the API runs, and profiles of slow requests.
# --------------------------------------------------------------------------------------------


def explain_queue(database_url: str, plan: Plan) -> list[str]:
    """EXPLAIN (ANALYZE, BUFFERS) of every statement `list_queue` itself issues."""
    from sqlalchemy import event

    from service.db import make_engine, make_session_factory
    from service.domain.claims import queue as domain

    engine = make_engine(database_url, pool_size=1)
    captured: list[tuple[str, Any]] = []

    def capture(*event_args: Any) -> None:
        captured.append((event_args[2], event_args[3]))

    event.listen(engine, "before_cursor_execute", capture)
    cases: list[tuple[str, domain.QueueFilter, tuple[int, ...] | None]] = [
        ("queue deep", domain.QueueFilter(), _cursor_tuple(plan.deep_cursor))
    ]
    cases += [(f"search {w.tier}", domain.QueueFilter(query=w.word), None) for w in plan.words]
    lines = []
    try:
        session = make_session_factory(engine)()
        try:
            for name, where, after in cases:
                issued = len(captured)
                domain.list_queue(session, where, sort="score", limit=PAGE, after=after)
                # A search takes several queries (count, window, GIN indexes), and sets the
                # planner up for some: the settings are replayed in order, so each query is
                # explained as the API ran it.
                statements = captured[issued:]
                queries = [s for s in statements if _is_query(s[0])]
                step = 0
                for statement, parameters in statements:
                    if not _is_query(statement):
                        session.connection().exec_driver_sql(statement, parameters)
                        continue
                    step += 1
                    explained = session.connection().exec_driver_sql(
                        "EXPLAIN (ANALYZE, BUFFERS) " + statement, parameters
                    )
                    label = name if len(queries) == 1 else f"{name} {step}/{len(queries)}"
                    lines += _plan_summary(label, [row[0] for row in explained])
        finally:
            session.rollback()
            session.close()
    finally:
        engine.dispose()
    return lines


def _is_query(statement: str) -> bool:
    return statement.lstrip().upper().startswith(("SELECT", "WITH", "("))


def _cursor_tuple(cursor: str) -> tuple[int, ...]:
    return tuple(int(part) for part in cursor.split("."))


def _plan_summary(name: str, plan: list[str]) -> list[str]:
    top = plan[0].strip()
    nodes = [line.strip().removeprefix("->").strip() for line in plan[1:] if "->" in line]
    indexes = sorted(set(re.findall(r"using (\w+)", "\n".join(plan))))
    scans = sorted(set(re.findall(r"((?:Seq|Bitmap Heap) Scan on \w+)", "\n".join(plan))))
    execution = next((line.strip() for line in plan if "Execution Time" in line), "")
    lines = [f"explain {name:<14} {top}"]
    if nodes:
        lines.append(f"        {'':<14} first node: {nodes[0]}")
    lines.append(
        f"        {'':<14} indexes/relations: {', '.join(indexes) or 'none'}"
        f"{'; ' + ', '.join(scans) if scans else ''}; {execution}"
    )
    return lines


# What a profile times apart, when the request runs it: (file, function, label).
PROFILE_STAGES = (
    ("flask/templating.py", "render_template", "templates"),
    ("service/desk/sessions.py", "open_session", "desk session read"),
    ("service/desk/sessions.py", "save_session", "desk session write"),
)
# psycopg2's calls that go to the server (pre-pings are executes too).
ROUND_TRIPS = ("'execute'", "'executemany'", "'commit'", "'rollback'")
# Requests per profiled operation timed without the profiler, for their medians.
TIMED_REQUESTS = 20


class RequestClock:
    """Time spent in SQL statements and in rendering templates, from SQLAlchemy's and Flask's
    events (no profiler), and the statements run, since `reset`."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.sql = self.templates = 0.0
        self._sql_began = self._render_began = 0.0

    def reset(self) -> None:
        self.statements.clear()
        self.sql = self.templates = 0.0

    def before_sql(self, *event_args: Any) -> None:
        self.statements.append(event_args[2])
        self._sql_began = time.perf_counter()

    def after_sql(self, *_args: Any) -> None:
        self.sql += time.perf_counter() - self._sql_began

    def before_render(self, *_args: Any, **_kwargs: Any) -> None:
        self._render_began = time.perf_counter()

    def rendered(self, *_args: Any, **_kwargs: Any) -> None:
        self.templates += time.perf_counter() - self._render_began


def profile_requests(
    infra: Infrastructure, operations: Sequence[Operation], headers: dict[str, str]
) -> list[str]:
    """cProfile of one request per operation, in-process (Flask test client, same settings),
    with the SQL statements it ran, and the medians of TIMED_REQUESTS requests unprofiled."""
    from flask import before_render_template, template_rendered
    from sqlalchemy import event

    from service.app import create_app
    from service.config import Settings

    if not operations:
        return []
    app = create_app(
        Settings(
            database_url=infra.database_url,
            broker_url=infra.broker_url,
            log_level="WARNING",
            rate_limit_per_token=BENCH_RATE_PER_TOKEN,  # as the measured API's
        )
    )
    # No cookie jar: the client would replace a desk page's Cookie header with its own.
    client = app.test_client(use_cookies=False)
    engine = app.extensions["factcheck"].engine
    clock = RequestClock()
    event.listen(engine, "before_cursor_execute", clock.before_sql)
    event.listen(engine, "after_cursor_execute", clock.after_sql)
    before_render_template.connect(clock.before_render, app)
    template_rendered.connect(clock.rendered, app)
    lines = []
    try:
        for operation in operations:
            sent = headers if operation.headers is None else operation.headers

            def call(request: Request, sent: dict[str, str] = sent) -> int:
                if request.body:
                    return client.post(request.path, headers=sent, data=request.body).status_code
                return client.get(request.path, headers=sent).status_code

            call(operation.requests[-1])  # the first request of a process imports and connects
            timed: list[tuple[float, float, float]] = []
            for request in operation.requests[-2 - TIMED_REQUESTS : -2]:
                clock.reset()
                began = time.perf_counter()
                call(request)
                timed.append((time.perf_counter() - began, clock.sql, clock.templates))
            clock.reset()
            profiler = cProfile.Profile()
            began = time.perf_counter()
            profiler.enable()
            status = call(operation.requests[-2])
            profiler.disable()
            seconds = time.perf_counter() - began
            lines += _profile_summary(operation.name, seconds, profiler, clock.statements)
            lines += _timed_summary(timed)
            if status != operation.status:
                lines.append(f"        {'':<14} HTTP {status}, not {operation.status}")
    finally:
        template_rendered.disconnect(clock.rendered, app)
        before_render_template.disconnect(clock.before_render, app)
        event.remove(engine, "after_cursor_execute", clock.after_sql)
        event.remove(engine, "before_cursor_execute", clock.before_sql)
        engine.dispose()
    return lines


def _profile_summary(
    name: str, seconds: float, profiler: cProfile.Profile, statements: Sequence[str] = ()
) -> list[str]:
    table: dict[tuple[str, int, str], tuple[Any, ...]] = vars(pstats.Stats(profiler))["stats"]
    psycopg2 = {
        function: entry
        for (_, _, function), entry in table.items()
        if "psycopg2.extensions.cursor" in function or "psycopg2.extensions.connection" in function
    }
    database = sum(entry[3] for entry in psycopg2.values())
    trips = sum(
        entry[1]
        for function, entry in psycopg2.items()
        if any(method in function for method in ROUND_TRIPS)
    )
    by_own = sorted(table.items(), key=lambda item: item[1][2], reverse=True)[:4]
    top = ", ".join(
        f"{Path(file).name}:{function} {entry[2] * 1000:.1f}"
        for (file, _, function), entry in by_own
    )
    # A stage of no consequence (the desk session of a JSON request) is left out.
    stages = ", ".join(
        f"{label} {entry[3] * 1000:.1f} ms"
        for suffix, wanted, label in PROFILE_STAGES
        for (file, _, function), entry in table.items()
        if function == wanted and file.endswith(suffix) and entry[3] >= 0.0001
    )
    lines = [
        f"profile {name:<14} {seconds * 1000:.1f} ms in-process, of which {database * 1000:.1f} ms "
        f"in psycopg2 ({trips} executes, commits and rollbacks) and "
        f"{(seconds - database) * 1000:.1f} ms in Python",
        f"        {'':<14} most own time (ms, profiled): {top}",
    ]
    if stages:
        lines.append(f"        {'':<14} cumulative (profiled): {stages}")
    if statements:
        lines.append(
            f"        {'':<14} {len(statements)} SQL statements: "
            + ", ".join(_statement_summary(statement) for statement in statements)
        )
    return lines


def _timed_summary(timed: Sequence[tuple[float, float, float]]) -> list[str]:
    """Medians of unprofiled requests: in all, in SQL statements, rendering templates."""
    if not timed:
        return []
    columns = zip(*timed, strict=True)
    total, sql, templates = (statistics.median(column) * 1000 for column in columns)
    rendering = f", {templates:.1f} ms rendering templates" if templates else ""
    return [
        f"        {'':<14} unprofiled, median of {len(timed)}: {total:.1f} ms a request, "
        f"{sql:.1f} ms in SQL statements{rendering}"
    ]


def _statement_summary(statement: str) -> str:
    """A statement's verb and the table it reads or writes first (`SELECT claims`)."""
    words = statement.split(None, 1)
    verb = words[0].upper() if words else "?"
    # A table, not a function (EXTRACT(epoch FROM now() - ...)) nor a subquery (JOIN LATERAL).
    table = re.search(
        r"\b(?:FROM|UPDATE|INTO|JOIN)\s+(?!LATERAL\b)\"?(\w+)\b(?!\()", statement, re.IGNORECASE
    )
    return f"{verb} {table[1]}" if table else verb


# --------------------------------------------------------------------------------------------
# Orchestration and the report.
# --------------------------------------------------------------------------------------------


REVIEWER = "bench-reviewer"


def create_reviewer_token(database_url: str) -> str:
    from service.db import make_engine, make_session_factory, session_scope
    from service.domain.users import create_user

    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return create_user(session, REVIEWER, "reviewer", actor="bench").token
    finally:
        engine.dispose()


def create_desk_cookie(database_url: str) -> str:
    """A `Cookie` header signing the reviewer in to the desk, as signing in would (a stored
    session of the service's default lifetimes)."""
    from service.config import Settings
    from service.db import make_engine, make_session_factory, session_scope
    from service.desk.sessions import COOKIE_NAME, lifetimes
    from service.domain.desk_sessions import create_session
    from service.domain.users import find_user

    engine = make_engine(database_url, pool_size=1)
    try:
        with session_scope(make_session_factory(engine)) as session:
            user_id = find_user(session, REVIEWER).id
        with engine.begin() as connection:
            value = create_session(
                connection,
                {},
                lifetimes(Settings.desk_idle_minutes, Settings.desk_session_hours),
                user_id=user_id,
            )
    finally:
        engine.dispose()
    return f"{COOKIE_NAME}={value}"


def run(args: argparse.Namespace) -> str:
    """Every phase; whatever happens, all children are stopped and the servers cleaned up."""
    with tempfile.TemporaryDirectory(prefix="factcheck-bench-review-") as tmp:
        return _run_in(args, Path(tmp))


def _run_in(args: argparse.Namespace, workdir: Path) -> str:
    # Loaded now, so the in-process profile runs the code the servers started with.
    import service.app  # noqa: F401

    cores = len(os.sched_getaffinity(0))
    sampler = Sampler()
    with infrastructure(workdir) as infra, contextlib.ExitStack() as children:
        progress(f"{infra.postgres}; {infra.redis}; logs in {workdir}")
        seeded = seed(infra.database_url, args.articles, args.claims)
        token = create_reviewer_token(infra.database_url)
        headers = {"Content-Type": "application/json", "Authorization": f"Bearer {token}"}
        desk_headers = {"Cookie": create_desk_cookie(infra.database_url)}
        metrics_dir = workdir / "metrics"
        metrics_dir.mkdir()
        admin_token = "fct_bench_admin_" + secrets.token_urlsafe(24)
        env = _child_env(infra, admin_token, metrics_dir)

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
        progress(f"api on :{api.port}, baseline on :{baseline.port}, {args.api_workers} workers")

        plan = prepare(args, infra, api, baseline, headers, desk_headers)
        explains = explain_queue(infra.database_url, plan)
        for line in explains:
            progress(line)
        measure(args, plan.operations, headers, sampler)
        slow = _to_profile(plan.operations, api)
        profiles: list[str] = []
        if args.profile:
            try:
                profiles = profile_requests(infra, slow, headers)
            except Exception as error:  # diagnosis only: never lose the measurements
                profiles = [f"profile failed: {error!r}"]
        return report(args, cores, infra, seeded, plan, explains, profiles)


def _to_profile(operations: Sequence[Operation], api: Target) -> list[Operation]:
    """The API's operations above target, each desk page among them with its JSON endpoint."""
    above = [op for op in operations if op.target is api and op.above_target]
    mirrored = [op.mirrors for op in above if op.mirrors is not None]
    return [op for op in operations if any(op is chosen for chosen in above + mirrored)]


def report(
    args: argparse.Namespace,
    cores: int,
    infra: Infrastructure,
    seeded: SeedResult,
    plan: Plan,
    explains: list[str],
    profiles: list[str],
) -> str:
    rows = seeded.articles + seeded.claims
    steps = ", ".join(f"{name} {seconds:.1f} s" for name, seconds in seeded.steps.items())
    base = plan.operations[0].result
    lines = [
        f"review benchmark ({cores} cores) {infra.postgres}; {infra.redis}",
        f"        gunicorn {args.api_workers} workers x gthread 4 threads; {args.clients} "
        f"keep-alive clients; {args.requests} requests per operation in {args.rounds} "
        f"alternating rounds after {args.warmup} warm-up (at most {args.op_seconds:.0f} s "
        f"each); reviewer token, desk pages with a desk session's cookie",
        f"seed    {seeded.articles:,} articles + {seeded.claims:,} claims in "
        f"{seeded.seconds:.1f} s = {rows / seeded.seconds:,.0f} rows/s "
        f"(COPY alone {rows / seeded.copy_seconds:,.0f} rows/s); database "
        f"{seeded.database_mb:,.0f} MB",
        f"seed    {steps} (similarity keys {seeded.keys_seconds:.1f} s of copy claims); "
        f"{seeded.indexes} secondary indexes re-created as migrated",
        f"op      {'name':<15} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7}  {'target':<19}"
        f" {'p99/base':>8} {'req/s/base':>10}  server cpu",
    ]
    for operation in plan.operations:
        result = operation.result
        p99 = result.percentile_ms(99)
        verdict = "ABOVE TARGET" if operation.above_target else "ok"
        target = f"< {operation.target_ms:.0f} ms {verdict}"
        if operation.mirrors is not None:
            target = f"<= {DESK_RATIO_TARGET}x JSON {_met(operation)}"
        if operation.target is plan.operations[0].target:
            target = "(baseline)"
        cpu = result.cpu.get(operation.target.name, 0.0) * 1000 / max(1, result.requests)
        machine = operation.machine_seconds * 1000 / max(1, result.requests)
        p99_ratio = p99 / base.percentile_ms(99) if base.percentile_ms(99) else 0.0
        rate_ratio = result.throughput / base.throughput if base.throughput else 0.0
        lines.append(
            f"op      {operation.name:<15} {result.throughput:7.1f} "
            f"{result.percentile_ms(50):7.1f} {p99:7.1f}  {target:<19} {p99_ratio:7.2f}x "
            f"{rate_ratio:9.2f}x  {cpu:.1f} ms/req (machine {machine:.1f})"
        )
        detail = f"{result.requests} requests in {result.seconds:.1f} s"
        if operation.truncated:
            detail += ", stopped at the time budget"
        if result.failed:
            detail += f"; FAILED {result.failed}: {result.failures[:2]}"
        lines.append(f"        {'':<15} {operation.note}{'; ' if operation.note else ''}{detail}")
    lines += _desk_lines(plan.operations)
    lines += explains
    lines += profiles
    return "\n".join(lines)


def _met(operation: Operation) -> str:
    return "MISS" if operation.above_target else "MET"


def _desk_lines(operations: Sequence[Operation]) -> list[str]:
    """Each desk page beside the JSON endpoint it shows, measured in the same rounds."""
    lines = [
        f"desk    {'page':<11} {'p50 ms':>7} {'p99 ms':>7}  {'JSON endpoint':<13} "
        f"{'p50 ms':>7} {'p99 ms':>7} {'p99/JSON':>8}  target"
    ]
    for page in operations:
        json_endpoint = page.mirrors
        if json_endpoint is None:
            continue
        p99, json_p99 = page.result.percentile_ms(99), json_endpoint.result.percentile_ms(99)
        ratio = p99 / json_p99 if json_p99 else 0.0
        lines.append(
            f"desk    {page.name:<11} {page.result.percentile_ms(50):7.1f} {p99:7.1f}  "
            f"{json_endpoint.name:<13} {json_endpoint.result.percentile_ms(50):7.1f} "
            f"{json_p99:7.1f} {ratio:7.2f}x  <= {DESK_RATIO_TARGET}x {_met(page)}"
        )
    return lines if len(lines) > 1 else []


def add_load_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of a load at N clients, as `measure` runs it (also bench.matching's)."""
    parser.add_argument("--requests", type=int, default=2000, help="requests per operation")
    parser.add_argument("--clients", type=int, default=16, help="concurrent HTTP clients")
    parser.add_argument("--api-workers", type=int, default=2, help="gunicorn workers per app")
    parser.add_argument("--warmup", type=int, default=200, help="warm-up requests per operation")
    parser.add_argument("--rounds", type=int, default=2, help="alternating measured rounds")
    parser.add_argument(
        "--op-seconds",
        type=float,
        default=120,
        help="time budget per operation (all rounds; the warm-up gets one round's share)",
    )
    parser.add_argument(
        "--no-profile",
        dest="profile",
        action="store_false",
        help="skip the in-process cProfile of operations above target",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds allowed per load")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.review", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--articles", type=int, default=100_000, help="articles to seed")
    parser.add_argument("--claims", type=int, default=1_000_000, help="claims to seed")
    add_load_arguments(parser)
    args = parser.parse_args(argv)
    for name in ("articles", "claims", "requests", "clients", "api_workers", "rounds"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if args.claims < args.articles:
        parser.error("--claims must be at least --articles")
    if args.warmup < 0:
        parser.error("--warmup must not be negative")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
