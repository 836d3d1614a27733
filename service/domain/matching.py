"""Matching claims against the stored fact-checks, ours and imported: "already checked?".

The offline matcher (workers.matching.matcher) holds its collection in memory; here the
collection is the `factchecks` table and both searches run in PostgreSQL, with no extension:

- by words: full-text search on the claim and headline (`search`, GIN-indexed): the best by
  `ts_rank_cd` of the fact-checks with every word of the query, and of those with any of its
  rarer words (a lexeme in over COMMON_LEXEME_ROWS fact-checks, by the statistics
  ANALYZE keeps, finds no candidates: an OR over "says" would rank half of PolitiFact);
- by meaning: the query embedding's cross-polytope band keys (workers.matching.lsh, its own
  and the likeliest neighbouring buckets, as many as the collection's size affords) looked up
  in `factcheck_keys`, at most FACTCHECKS_PER_KEY fact-checks per key, newest first (a
  bounded read however large the collection).

Of the union, the nearest by claim embedding and the best by words are ranked as the offline
matcher ranks (`candidate_features`, the confidence model, the guards and thresholds), the
word score being each candidate's `ts_rank_cd` against any word of the query divided by the
best candidate's. A claim's matches are stored (`claim_matches`) when its article is processed
(`match_claims`), with the reviewer's confirmation or rejection kept across re-matching; a
rejected fact-check is never offered for that claim again, and a claim never matches the
desk's own fact-check of itself.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from sqlalchemy import bindparam, delete, func, select, tuple_, update
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session, undefer
from sqlalchemy.types import BigInteger, Text

from service.domain import Actor, Conflict, load, not_found
from service.domain.audit import record
from service.domain.factchecks import (
    STORED_FIELDS,
    DeskPublisher,
    factcheck_record,
    store_desk_factcheck,
)
from service.domain.outbox import complete
from service.domain.publishing import claim_selectors
from service.domain.similar_claims import MEANING_CANDIDATES
from service.domain.webhooks import emit, verdict_event
from service.models import Article, Claim, ClaimMatch, FactCheck, User, Verdict
from service.vocabulary import ALERT_RATINGS, MATCH_REVIEWS, NON_CLAIM_KINDS
from workers.matching.lsh import MAX_QUERY_KEYS, QUERY_KEYS, READ_CAP, query_keys
from workers.matching.matcher import (
    ConfidenceModel,
    Match,
    MatchSettings,
    candidate_features,
    rank,
)
from workers.matching.verification import details, verify

__all__ = [
    "FACTCHECKS_PER_KEY",
    "STORED_MATCHES",
    "FoundMatch",
    "Matching",
    "claim_matches",
    "claims_near",
    "find_repeats",
    "match_claims",
    "match_text",
    "rematch_near",
    "review_match",
]

# Fact-checks read per lookup key, newest first: the read cap workers.matching.lsh measured.
FACTCHECKS_PER_KEY = READ_CAP
# Rows a query's key lookups should read (lsh's QUERY_KEYS keys read about this many at
# 300,000 fact-checks): a smaller collection reads fewer per key, so it can afford more keys.
TARGET_ROWS_READ = 3_000
ROWS_PER_KEY_AT_300K = 14.6


def keys_to_look_up(collection_size: int) -> int:
    """How many of a query's ranked keys to look up in a collection of this many vectors:
    QUERY_KEYS at 300,000 and more, up to every probe lsh ranks for a small one (each key
    then holds fewer vectors, and recall rises with keys: among 10,000 claims, 2,048 keys find
    99% of the near neighbours reading some 900 rows)."""
    per_key = ROWS_PER_KEY_AT_300K * max(collection_size, 1) / 300_000
    return int(min(MAX_QUERY_KEYS, max(QUERY_KEYS, TARGET_ROWS_READ / per_key)))


# The planner's estimate (as of the last ANALYZE) or the live rows the statistics count
# (kept as rows are written), whichever is larger: a bulk import is seen at once.
_ESTIMATED_ROWS = sql_text(
    """
    SELECT CASE WHEN pg_class.reltuples >= 0 OR stats.n_live_tup > 0
                THEN greatest(pg_class.reltuples::bigint, coalesce(stats.n_live_tup, 0)) END
      FROM pg_class LEFT JOIN pg_stat_user_tables AS stats ON stats.relid = pg_class.oid
     WHERE pg_class.oid = CAST(:table AS regclass)
    """
)


def collection_size(session: Session, table: str) -> int:
    """About how many rows a table holds, from the statistics; counted when there are none
    yet (a new table)."""
    estimate = session.scalar(_ESTIMATED_ROWS, {"table": table})
    if estimate is None:
        estimate = session.scalar(sql_text(f"SELECT count(*) FROM {table}"))  # noqa: S608
    return int(estimate or 0)


# Matches kept per claim: those a reviewer would be shown ("suggest" and above, and refused
# candidates as confident, whose reason says why), the best this many.
STORED_MATCHES = 5
SHOWN_DECISIONS = ("match", "suggest", "refused")


@dataclass(frozen=True)
class Matching:
    """What matching needs beside the database: thresholds and the confidence model."""

    settings: MatchSettings
    model: ConfidenceModel

    @classmethod
    @cache
    def default(cls) -> Matching:
        """The settings from the environment and the shipped model, loaded once."""
        return cls(MatchSettings.from_env(), ConfidenceModel.load())


@dataclass(frozen=True)
class FoundMatch:
    """A match of a stored fact-check: its id and row, and the matcher's verdict on it."""

    factcheck_id: int
    factcheck: Any
    match: Match

    def to_dict(self) -> dict[str, Any]:
        return {"factcheck_id": self.factcheck_id} | self.match.to_dict()


# A lexeme in more fact-checks than this is too common to find candidates by ("says" is in
# half of PolitiFact's): an OR over it would rank that many rows, or most of the collection.
COMMON_LEXEME_ROWS = 500
# A bulk import is seen within this long.
COLLECTION_STATS_TTL_SECONDS = 30.0

_COMMON_LEXEMES = sql_text(
    """
    SELECT CAST(CAST(most_common_elems AS text) AS text[]) AS lexemes,
           most_common_elem_freqs AS shares
      FROM pg_stats
     WHERE schemaname = current_schema() AND tablename = 'factchecks' AND attname = 'search'
    """
)


@dataclass(frozen=True)
class CollectionStats:
    """What sizes a query against the fact-checks: about how many there are, and which
    lexemes are too common to find candidates by."""

    size: int
    common: frozenset[str]


_collection_stats: dict[str, tuple[float, CollectionStats]] = {}


def forget_collection_stats() -> None:
    """Read the fact-checks' statistics afresh on the next query (after a bulk change)."""
    _collection_stats.clear()


def collection_stats(session: Session) -> CollectionStats:
    """The fact-checks' CollectionStats, read again every COLLECTION_STATS_TTL_SECONDS (two
    catalogue reads, not two on every query). The common lexemes: those of more than
    COMMON_LEXEME_ROWS fact-checks, by the statistics ANALYZE keeps (autovacuum refreshes
    them as imports change the table); none before the table is first analyzed, nor in a
    small collection."""
    database = str(session.get_bind().engine.url)
    now = time.monotonic()
    cached = _collection_stats.get(database)
    if cached is not None and now - cached[0] < COLLECTION_STATS_TTL_SECONDS:
        return cached[1]
    size = collection_size(session, "factchecks")
    row = session.execute(_COMMON_LEXEMES).first()
    common: frozenset[str] = frozenset()
    if row is not None and row.lexemes:
        # The element shares are followed by their minimum, maximum and the null share.
        shares = row.shares[: len(row.lexemes)]
        least = COMMON_LEXEME_ROWS / max(size, 1)
        common = frozenset(
            lexeme for lexeme, share in zip(row.lexemes, shares, strict=True) if share > least
        )
    stats = CollectionStats(size, common)
    _collection_stats[database] = (now, stats)
    return stats


# The query's lexemes: every one, and those rarer than the collection's common lexemes.
_QUERY_WORDS = """
    WITH lexemes AS (
        SELECT lexeme FROM unnest(tsvector_to_array(to_tsvector('english', :text))) AS lexeme
    ), query AS (
        SELECT plainto_tsquery('english', :text) AS every_word,
               (SELECT CAST(string_agg(quote_literal(lexeme), ' | ') AS tsquery)
                  FROM lexemes WHERE lexeme <> ALL (CAST(:common AS text[]))) AS rare_words,
               (SELECT CAST(string_agg(quote_literal(lexeme), ' | ') AS tsquery)
                  FROM lexemes) AS any_word
    )
"""
# Candidates by words (the best by `ts_rank_cd` of those with every word of the query, and of
# those with any of its rarer words, with that rank) and by meaning (the band keys), each
# with its claim embedding.
_CANDIDATES = sql_text(
    _QUERY_WORDS  # noqa: S608 (constant SQL joined, nothing from input)
    + """
    , by_every_word AS (
        SELECT factchecks.id, ts_rank_cd(factchecks.search, query.any_word, 1) AS words
          FROM factchecks, query
         WHERE factchecks.search @@ query.every_word
         ORDER BY words DESC, factchecks.id DESC
         LIMIT :candidates
    ), by_rare_word AS (
        SELECT factchecks.id, ts_rank_cd(factchecks.search, query.any_word, 1) AS words
          FROM factchecks, query
         WHERE factchecks.search @@ query.rare_words
         ORDER BY words DESC, factchecks.id DESC
         LIMIT :candidates
    ), by_meaning AS (
        SELECT found.factcheck_id AS id, CAST(NULL AS real) AS words
          FROM unnest(CAST(:keys AS bigint[])) AS wanted(key)
         CROSS JOIN LATERAL (
               SELECT factcheck_keys.factcheck_id FROM factcheck_keys
                WHERE factcheck_keys.key = wanted.key
                ORDER BY factcheck_keys.factcheck_id DESC
                LIMIT :per_key
               ) AS found
    ), candidates AS (
        SELECT id, max(words) AS words
          FROM (SELECT * FROM by_every_word UNION ALL SELECT * FROM by_rare_word
                UNION ALL SELECT * FROM by_meaning) AS found
         GROUP BY id
    )
    SELECT factchecks.id, factchecks.embedding, candidates.words
      FROM candidates JOIN factchecks USING (id)
     WHERE factchecks.claim_id IS DISTINCT FROM :claim_id
       AND NOT EXISTS (
           SELECT 1 FROM claim_matches
            WHERE claim_matches.claim_id = :claim_id
              AND claim_matches.factcheck_id = factchecks.id
              AND claim_matches.review = 'rejected')
    """
).bindparams(bindparam("keys", type_=ARRAY(BigInteger)), bindparam("common", type_=ARRAY(Text)))
# What ranking reads of the candidates kept, with each one's word score against any word of
# the query (for a candidate found by meaning alone too).
_CANDIDATE_ROWS = sql_text(
    _QUERY_WORDS  # noqa: S608 (constant SQL joined, nothing from input)
    + """
    SELECT factchecks.id, factchecks.key, factchecks.rating_key, factchecks.origin,
           factchecks.verdict_id, factchecks.claim_id,
           factchecks.url, factchecks.claim, factchecks.headline, factchecks.rating,
           factchecks.publisher, factchecks.author, factchecks.claimant, factchecks.licence,
           factchecks.date, factchecks.claim_date, factchecks.language,
           factchecks.embedding, factchecks.headline_embedding,
           coalesce(ts_rank_cd(factchecks.search, query.any_word, 1), 0) AS words
      FROM factchecks, query
     WHERE factchecks.id = ANY (CAST(:ids AS bigint[]))
     ORDER BY factchecks.id
    """
).bindparams(bindparam("ids", type_=ARRAY(BigInteger)), bindparam("common", type_=ARRAY(Text)))


def _vectors(rows: Sequence[Any], column: str) -> np.ndarray:
    """The candidates' embeddings in `column`, one row each: as the bytea read by plain SQL
    (big-endian float4s) or as the floats `service.models.Embedding` reads. A row without one
    reuses its claim embedding."""
    vectors = []
    for row in rows:
        value = getattr(row, column) or row.embedding
        if isinstance(value, bytes | memoryview):
            vectors.append(np.frombuffer(value, dtype=">f4").astype(np.float32))
        else:
            vectors.append(np.asarray(value, dtype=np.float32))
    return np.stack(vectors)


def match_vector(
    session: Session,
    text: str,
    vector: Sequence[float] | np.ndarray,
    matching: Matching,
    *,
    top: int = 10,
    claim_id: int | None = None,
) -> list[FoundMatch]:
    """Up to `top` stored fact-checks matching `text` (embedded as `vector`), best first.

    Of the candidates, the `candidates` (MatchSettings) nearest by their claim's embedding
    and the as many best by words are ranked, as the offline matcher takes the best of each
    view. `claim_id`, for a stored claim: its own desk fact-check and the fact-checks a
    reviewer rejected for it are left out.
    """
    query = np.asarray(vector, dtype=np.float32)
    stats = collection_stats(session)
    common = sorted(stats.common)
    found = session.execute(
        _CANDIDATES,
        {
            "text": text,
            "common": common,
            "keys": query_keys(query, keys_to_look_up(stats.size)),
            "candidates": matching.settings.candidates,
            "per_key": FACTCHECKS_PER_KEY,
            "claim_id": claim_id or 0,  # 0: no claim (ids start at 1)
        },
    ).all()
    if not found:
        return []
    count = matching.settings.candidates
    by_meaning = np.argsort(-(_vectors(found, "embedding") @ query), kind="stable")[:count]
    by_words = [i for i, row in enumerate(found) if row.words is not None]
    kept = sorted({int(found[i].id) for i in [*by_meaning.tolist(), *by_words]})
    rows = session.execute(_CANDIDATE_ROWS, {"text": text, "common": common, "ids": kept}).all()
    words = np.asarray([row.words for row in rows], dtype=np.float64)
    best = float(words.max())
    order, features = candidate_features(
        _vectors(rows, "embedding") @ query,
        _vectors(rows, "headline_embedding") @ query,
        words / best if best > 0 else words,
    )
    ordered = [rows[i] for i in order]
    query_details = details(text)
    ranked = rank(
        features,
        matching.model,
        matching.settings,
        top,
        record=lambda i: factcheck_record(ordered[i]),
        verification=lambda i: verify(query_details, details(ordered[i].claim)),
    )
    by_key = {row.key: row for row in ordered}
    return [FoundMatch(by_key[m.factcheck.key].id, by_key[m.factcheck.key], m) for m in ranked]


def match_text(
    session: Session,
    texts: Sequence[str],
    vectors: Sequence[Sequence[float]] | np.ndarray,
    matching: Matching,
    *,
    top: int = 10,
) -> list[list[FoundMatch]]:
    """The matches of each text (POST /matches): nothing is stored."""
    return [
        match_vector(session, text, vector, matching, top=top)
        for text, vector in zip(texts, vectors, strict=True)
    ]


# ---- a processed article's claims -----------------------------------------------------------


def match_claims(
    session: Session,
    article_id: int,
    revision: int,
    matching: Matching,
    *,
    outbox_id: int | None = None,
) -> int:
    """Match the check-worthy claims of an article revision and store what a reviewer would be
    shown (`store_matches`, which announces). Safe to run again: a stored match is updated,
    never duplicated, and announced once. Returns the matches stored."""
    if not complete(session, outbox_id):
        return 0  # a re-delivery of work already done
    article = session.get(Article, article_id)
    if article is None or article.revision != revision:
        return 0  # gone, or revised since: the new revision's own task matches it
    if session.scalar(select(FactCheck.id).limit(1)) is None:
        return 0  # nothing to match against
    claims = session.scalars(
        select(Claim)
        .where(
            Claim.article_id == article_id,
            Claim.revision == revision,
            Claim.embedding.is_not(None),
            Claim.kind.not_in(NON_CLAIM_KINDS),
            (Claim.checkworthy.is_(True)) | (Claim.origin == "reviewer"),
        )
        .options(undefer(Claim.embedding))
        .order_by(Claim.id)
    ).all()
    return sum(len(store_matches(session, claim, matching)) for claim in claims)


def store_matches(session: Session, claim: Claim, matching: Matching) -> list[FoundMatch]:
    """Match one claim and store its shown matches; emit `claim.matched` for a "match" with
    an imported fact-check rated false, mostly false or misleading, once per claim and
    fact-check however often and by whichever task it is found (the claim newly processed, or
    re-matched after an import). The desk's own verdicts are announced as `verdict.repeated`.
    """
    assert claim.embedding is not None
    found = [
        m
        for m in match_vector(
            session, claim.text, claim.embedding, matching, top=STORED_MATCHES, claim_id=claim.id
        )
        if m.match.decision in SHOWN_DECISIONS
        and m.match.confidence >= matching.settings.suggest_threshold
    ]
    # What the matcher no longer offers goes, unless a reviewer has ruled on it.
    session.execute(
        delete(ClaimMatch).where(
            ClaimMatch.claim_id == claim.id,
            ClaimMatch.review.is_(None),
            ClaimMatch.factcheck_id.not_in([m.factcheck_id for m in found]),
        )
    )
    if not found:
        return []
    insert = pg_insert(ClaimMatch).values(
        [
            {
                "claim_id": claim.id,
                "factcheck_id": m.factcheck_id,
                "confidence": m.match.confidence,
                "decision": m.match.decision,
                "reason": m.match.reason,
                "agrees": list(m.match.agrees),
                "disagrees": list(m.match.disagrees),
            }
            for m in found
        ]
    )
    upsert = insert.on_conflict_do_update(
        index_elements=[ClaimMatch.claim_id, ClaimMatch.factcheck_id],
        set_={
            c: insert.excluded[c]
            for c in ("confidence", "decision", "reason", "agrees", "disagrees")
        }
        | {"updated_at": func.now()},
    )
    session.execute(upsert)
    for alert in found:
        if _first_alert(session, claim, alert):
            _announce(session, claim, alert)
    return found


def _first_alert(session: Session, claim: Claim, found: FoundMatch) -> bool:
    """Whether this match is one to announce that was not announced yet (marked so now)."""
    row = found.factcheck
    if not (
        found.match.decision == "match"
        and row.rating_key in ALERT_RATINGS
        and row.origin == "imported"
    ):
        return False
    marked = session.execute(
        update(ClaimMatch)
        .where(
            ClaimMatch.claim_id == claim.id,
            ClaimMatch.factcheck_id == found.factcheck_id,
            ClaimMatch.announced_at.is_(None),
        )
        .values(announced_at=func.now())
        .returning(ClaimMatch.claim_id)
    ).first()
    return marked is not None


def _announce(session: Session, claim: Claim, found: FoundMatch) -> None:
    fact = factcheck_view(found.factcheck) | {"id": found.factcheck_id}
    emit(session, "claim.matched", _claim_matched(session, claim, found) | {"factcheck": fact})


def _claim_matched(session: Session, claim: Claim, found: FoundMatch) -> dict[str, Any]:
    """What the alerts say of a claim that matched: where it is, its span, how sure, why."""
    article = session.get(Article, claim.article_id)
    assert article is not None
    return {
        "claim_id": claim.id,
        "article_id": claim.article_id,
        "article_url": article.url,
        "revision": claim.revision,
        "claim_text": claim.text,
        "target": claim_selectors(claim),
        "confidence": round(found.match.confidence, 4),
        "reason": found.match.reason,
    }


def factcheck_view(row: Any) -> dict[str, Any]:
    """A fact-check as the API and webhooks show it: where it comes from and on what terms."""
    return {f: getattr(row, f) for f in STORED_FIELDS} | {
        "key": row.key,
        "rating_key": row.rating_key,
        "origin": row.origin,
    }


# ---- a published verdict repeated in the archive ----------------------------------------------


# Claims read per embedding key when looking for the claims near a fact-check.
CLAIMS_PER_KEY = READ_CAP
# Of those, the ones matched again: at least this near, the nearest so many. A "match" needs
# a cosine well above it (the confidence model gives 0.5 near 0.7 only with every word shared).
NEAR_CLAIM_COSINE = 0.7
NEAR_CLAIMS = 50


def claims_near(
    session: Session, vector: Sequence[float], *, exclude_article_id: int | None = None
) -> list[int]:
    """The stored claims nearest `vector` by meaning (current revisions and orphaned reviewer
    work, of other articles than `exclude_article_id`), at least NEAR_CLAIM_COSINE near, the
    NEAR_CLAIMS nearest: a bounded read."""
    query = np.asarray(vector, dtype=np.float32)
    found = session.execute(
        MEANING_CANDIDATES,
        {
            "keys": query_keys(query),
            "article_id": exclude_article_id or 0,
            "per_key": CLAIMS_PER_KEY,
        },
    ).all()
    rows = [r for r in {row.id: row for row in found}.values() if r.embedding is not None]
    if not rows:
        return []
    cosines = _vectors(rows, "embedding") @ query
    order = np.argsort(-cosines, kind="stable")[:NEAR_CLAIMS]
    return [int(rows[i].id) for i in order if cosines[i] >= NEAR_CLAIM_COSINE]


def rematch_near(
    session: Session,
    factcheck_ids: Sequence[int],
    matching: Matching,
    *,
    outbox_id: int | None = None,
) -> int:
    """Match again the claims near new or changed fact-checks, so claims processed before an
    import get their matches (and alerts) too. Returns the claims matched again."""
    if not complete(session, outbox_id):
        return 0
    factchecks = session.execute(
        select(FactCheck.embedding).where(FactCheck.id.in_(list(factcheck_ids)))
    ).all()
    claim_ids = sorted({c for row in factchecks for c in claims_near(session, row.embedding)})
    for claim in _claims_with_embeddings(session, claim_ids):
        store_matches(session, claim, matching)
    return len(claim_ids)


def _claims_with_embeddings(session: Session, claim_ids: Sequence[int]) -> Sequence[Claim]:
    return session.scalars(
        select(Claim)
        .where(Claim.id.in_(list(claim_ids)), Claim.embedding.is_not(None))
        .options(undefer(Claim.embedding))
        .order_by(Claim.id)
    ).all()


def find_repeats(
    session: Session,
    verdict_id: int,
    matching: Matching,
    desk: DeskPublisher,
    *,
    outbox_id: int | None = None,
) -> list[dict[str, Any]]:
    """Make a published verdict a fact-check of the desk's, then find the archive's claims
    that repeat it, once per verdict.

    The claims near it by meaning are matched again (their stored matches updated); those
    whose match with the verdict's fact-check is a "match" are repeats, announced in one
    `verdict.repeated` event with each span. Returns the repeats.
    """
    if not complete(session, outbox_id):
        return []  # a re-delivery of work already done
    verdict = session.get(Verdict, verdict_id)
    if verdict is None or verdict.status != "published":
        return []  # superseded since: its correction's own task takes over
    original = session.get(Claim, verdict.claim_id)
    assert original is not None
    factcheck = store_desk_factcheck(session, verdict, original, desk)
    if factcheck is None:
        return []  # a claim without an embedding cannot be matched by meaning
    assert original.embedding is not None
    # Repeats elsewhere: the article that published the verdict is left out.
    claim_ids = claims_near(session, original.embedding, exclude_article_id=original.article_id)
    repeats: list[dict[str, Any]] = []
    for claim in _claims_with_embeddings(session, claim_ids):
        repeats.extend(
            _claim_matched(session, claim, found)
            for found in store_matches(session, claim, matching)
            if found.factcheck_id == factcheck.id and found.match.decision == "match"
        )
    if repeats:
        emit(
            session,
            "verdict.repeated",
            verdict_event(verdict, original)
            | {"factcheck": factcheck_view(factcheck) | {"id": factcheck.id}, "repeats": repeats},
        )
    return repeats


# ---- claim detail and review ----------------------------------------------------------------


def claim_matches(session: Session, claim_id: int) -> list[dict[str, Any]]:
    """A claim's stored matches, confirmed first, then by confidence; rejected ones never."""
    rows = session.execute(
        select(ClaimMatch, FactCheck, User.name)
        .join(FactCheck, FactCheck.id == ClaimMatch.factcheck_id)
        .outerjoin(User, User.id == ClaimMatch.reviewed_by)
        .where(
            ClaimMatch.claim_id == claim_id,
            ClaimMatch.review.is_distinct_from("rejected"),
        )
        .order_by(
            (ClaimMatch.review == "confirmed").desc().nulls_last(),
            ClaimMatch.confidence.desc(),
            ClaimMatch.factcheck_id,
        )
    ).all()
    return [match_view(m, f, reviewer) for m, f, reviewer in rows]


def match_view(match: ClaimMatch, factcheck: FactCheck, reviewer: str | None) -> dict[str, Any]:
    return {
        "factcheck": factcheck_view(factcheck) | {"id": factcheck.id},
        "confidence": round(match.confidence, 4),
        "decision": match.decision,
        "reason": match.reason,
        "agrees": list(match.agrees),
        "disagrees": list(match.disagrees),
        "review": match.review,
        "reviewed_by": reviewer,
        "reviewed_at": match.reviewed_at,
    }


def review_match(
    session: Session, claim_id: int, factcheck_id: int, review: str, actor: Actor
) -> dict[str, Any]:
    """Confirm or reject a claim's match (audited); its view after the change."""
    if review not in MATCH_REVIEWS:
        raise ValueError(f"unknown review {review!r}")
    load(session, Claim, claim_id)
    match = session.scalar(
        select(ClaimMatch)
        .where(ClaimMatch.claim_id == claim_id, ClaimMatch.factcheck_id == factcheck_id)
        .with_for_update()
    )
    if match is None:
        raise not_found(FactCheck, factcheck_id)
    before = {"review": match.review, "reviewed_by": match.reviewed_by}
    if match.review == review:
        raise Conflict(f"The match is already {review}.")
    session.execute(
        update(ClaimMatch)
        .where(ClaimMatch.claim_id == claim_id, ClaimMatch.factcheck_id == factcheck_id)
        .values(review=review, reviewed_by=actor.user_id, reviewed_at=func.now(),
                updated_at=func.now())
    )  # fmt: skip
    record(
        session, actor.name, f"match.{review}", "claim", claim_id,
        before=before | {"factcheck_id": factcheck_id},
        after={"review": review, "reviewed_by": actor.user_id, "factcheck_id": factcheck_id},
    )  # fmt: skip
    session.expire(match)
    return match_view(match, load(session, FactCheck, factcheck_id), actor.name)


def reviewed_matches(
    session: Session, *, after: tuple[int, int] = (0, 0), limit: int = 1000
) -> list[dict[str, Any]]:
    """Reviewed matches as evaluation data, after the (claim id, fact-check id) `after`: the
    claim, the fact-check and the reviewer's label (`relevant`)."""
    rows = session.execute(
        select(ClaimMatch, Claim.text, Claim.article_id, FactCheck.key, FactCheck.claim)
        .join(Claim, Claim.id == ClaimMatch.claim_id)
        .join(FactCheck, FactCheck.id == ClaimMatch.factcheck_id)
        .where(
            ClaimMatch.review.is_not(None),
            tuple_(ClaimMatch.claim_id, ClaimMatch.factcheck_id) > tuple_(*after),
        )
        .order_by(ClaimMatch.claim_id, ClaimMatch.factcheck_id)
        .limit(limit)
    ).all()
    return [
        {
            "claim_id": m.claim_id,
            "article_id": article_id,
            "query": text,
            "factcheck_id": m.factcheck_id,
            "factcheck_key": key,
            "factcheck_claim": claim,
            "relevant": m.review == "confirmed",
            "confidence": round(m.confidence, 4),
            "decision": m.decision,
            "reviewed_at": m.reviewed_at,
        }
        for m, text, article_id, key, claim in rows
    ]
