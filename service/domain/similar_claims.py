"""Similar claims: the same claim in other articles and outlets, by words and by meaning.

Every stored claim carries the LSH band keys of its text (`workers.extraction.similarity`),
written wherever claim text is written; the database copies them, with one more key that
only exact copies share, into `claim_similarity_keys` (migration 0010). It also carries the
cross-polytope band keys of its embedding (`workers.matching.lsh`), copied into
`claim_embedding_keys` (migration 0019). A claim's similar claims are found in two steps:
candidates, the newest CANDIDATES_PER_KEY claims sharing each key of either kind (a bounded
read, and the same one on every request), then the exact Jaccard similarity of the texts and
cosine of the embeddings, with the matcher's guards, which decide and rank.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from service.models import Article, Claim, Verdict
from service.ratings import Rating
from service.vocabulary import NON_CLAIM_KINDS
from workers.extraction.similarity import jaccard_to, similarity_keys_many
from workers.matching.lsh import embedding_keys
from workers.matching.verification import details, verify

SIMILAR_LIMIT = 5
# Claims read per lookup key, newest first: at most 9 x 12 rows (8 band keys and the key
# of exact copies), however many thousand claims share a stock phrase.
CANDIDATES_PER_KEY = 12
# Claims read per embedding key (32 keys a claim), and how many of those near enough in
# meaning the guards check.
MEANING_PER_KEY = 4
GUARDED = 24
# Similarities are shown, and ranked, at this many decimals.
SIMILARITY_DECIMALS = 3


@dataclass(frozen=True)
class PublishedRating:
    """A similar claim's published verdict: its id, rating key and the rating's label."""

    id: int
    rating: str
    label: str | None


@dataclass(frozen=True)
class SimilarClaim:
    """A claim of another article, how similar it is, and its published verdict.

    `similarity` is the Jaccard similarity of the two texts' word pairs (0..1), `meaning` the
    cosine of their sentence embeddings (None when either has none).
    """

    id: int
    article_id: int
    text: str
    status: str
    similarity: float
    published_verdict: PublishedRating | None
    meaning: float | None = None
    source: str | None = None
    created_at: datetime | None = None


@dataclass(frozen=True)
class SeenIn:
    """Where a claim has been seen: every similar claim found, and the claim itself."""

    articles: int
    outlets: int
    first_seen: datetime | None


def similarity_keys_of(claims: Iterable[tuple[str, str]]) -> list[list[int]]:
    """The similarity keys of each (text, kind); boilerplate (bylines, metadata) gets none."""
    return similarity_keys_many("" if kind in NON_CLAIM_KINDS else text for text, kind in claims)


def claim_similarity_keys(text: str, kind: str) -> list[int]:
    """The similarity keys of one claim's text."""
    return similarity_keys_of([(text, kind)])[0]


def lookup_keys_of(claims: Sequence[Mapping[str, Any]]) -> list[dict[str, list[int]]]:
    """The lookup columns of each claim the engine annotated (text, kind, embedding): its
    similarity keys (near copies by words) and embedding keys (workers.matching.lsh, the
    same claim by meaning). Boilerplate and claims under four words get neither, a claim
    without an embedding no embedding keys."""
    kinds = [claim.get("kind", "sentence") for claim in claims]
    words = similarity_keys_of(
        (claim["text"], kind) for claim, kind in zip(claims, kinds, strict=True)
    )
    # A claim too short for similarity keys (under four words) is too short to be the
    # same claim as another by meaning: "Prices rose." says too little.
    embedded = [
        row for row, claim in enumerate(claims) if claim.get("embedding") is not None and words[row]
    ]
    meaning: list[list[int]] = [[] for _ in claims]
    if embedded:
        vectors = np.asarray([claims[row]["embedding"] for row in embedded], dtype=np.float32)
        for row, keys in zip(embedded, embedding_keys(vectors).tolist(), strict=True):
            meaning[row] = keys
    return [
        {"similarity_keys": similarity, "embedding_keys": embedding}
        for similarity, embedding in zip(words, meaning, strict=True)
    ]


def similar_claims(
    session: Session,
    claim: Claim,
    *,
    min_jaccard: float,
    scale: Sequence[Rating],
    min_cosine: float = 1.0,
    limit: int = SIMILAR_LIMIT,
) -> tuple[list[SimilarClaim], SeenIn]:
    """Claims of other articles that say the same, best first, and where it was seen.

    A candidate shares a similarity key (near copies by words) or an embedding key (the same
    claim by meaning) with `claim`. It is similar when its words are at least `min_jaccard`
    similar, or its meaning at least `min_cosine` near and no guard of the matcher finds a
    number, unit, date, name or negation that disagrees. Ranked by the larger of the two
    similarities, ties to the newest claim. Only claims a reader of the queue could reach are
    considered: those of their article's current revision, and orphaned reviewer work.
    """
    own = SeenIn(1, 1 if claim.article_id else 0, claim.created_at)
    words = list(claim.similarity_keys or [])
    meaning = list(claim.embedding_keys or [])
    if not words and not meaning:
        return [], own
    found = {}
    for statement, keys, per_key in (
        (_CANDIDATES, words, CANDIDATES_PER_KEY),
        (MEANING_CANDIDATES, meaning, MEANING_PER_KEY),
    ):
        if keys:
            parameters = {"keys": keys, "article_id": claim.article_id, "per_key": per_key}
            found.update({row.id: row for row in session.execute(statement, parameters)})
    rows = list(found.values())
    jaccards = [
        round(j, SIMILARITY_DECIMALS) for j in jaccard_to(claim.text, [r.text for r in rows])
    ]
    vector = None if claim.embedding is None else np.asarray(claim.embedding, dtype=np.float32)
    cosines: list[float | None] = [
        None
        if vector is None or row.embedding is None
        else round(float(np.frombuffer(row.embedding, dtype=">f4") @ vector), SIMILARITY_DECIMALS)
        for row in rows
    ]
    # The guards read the nearest by meaning only, at most GUARDED of them (the same text
    # read once): a claim repeated in hundreds of articles costs no more than a rare one.
    near = sorted(
        (i for i, c in enumerate(cosines) if c is not None and c >= min_cosine),
        key=lambda i: -(cosines[i] or 0.0),
    )[:GUARDED]
    query = details(claim.text)
    refused = {text: verify(query, details(text)).refused for text in {rows[i].text for i in near}}
    same_meaning = {i for i in near if not refused[rows[i].text]}
    accepted = [
        (max(jaccard, cosine or 0.0), jaccard, cosine, row)
        for i, (jaccard, cosine, row) in enumerate(zip(jaccards, cosines, rows, strict=True))
        if jaccard >= min_jaccard or i in same_meaning
    ]
    accepted.sort(key=lambda found: (-found[0], -found[3].id))
    best = accepted[:limit]
    published = _published_ratings(session, [row.id for *_, row in best], scale)
    similar = [
        SimilarClaim(
            row.id, row.article_id, row.text, row.status, jaccard, published.get(row.id),
            meaning=cosine, source=row.source, created_at=row.created_at,
        )
        for _, jaccard, cosine, row in best
    ]  # fmt: skip
    seen = [row for *_, row in accepted]
    sources = {row.source for row in seen} | {_source_of(session, claim)}
    first = min([row.created_at for row in seen] + [claim.created_at])
    return similar, SeenIn(
        articles=1 + len({row.article_id for row in seen}),
        outlets=len(sources - {None}),
        first_seen=first,
    )


def _source_of(session: Session, claim: Claim) -> str | None:
    return session.scalar(select(Article.source).where(Article.id == claim.article_id))


# Each lookup key's newest claims of other articles that a queue reader could reach, read
# backwards along the primary key (key, claim_id): it stops after CANDIDATES_PER_KEY.
def _sharing_a_key(rows_table: str, lookup: str) -> Any:
    """Each lookup key's newest claims of other articles that a queue reader could reach,
    read backwards along the primary key (key, claim_id) of `rows_table`: it stops after
    `per_key`. `lookup` gives the keys to look up from the bound `keys`."""
    return sql_text(
        f"""
        SELECT found.*
          FROM unnest({lookup}) AS wanted(key)
         CROSS JOIN LATERAL (
               SELECT claims.id, claims.article_id, claims.text, claims.status,
                      claims.embedding, claims.created_at, articles.source
                 FROM {rows_table} AS sharing
                 JOIN claims ON claims.id = sharing.claim_id
                 JOIN articles ON articles.id = claims.article_id
                WHERE sharing.key = wanted.key
                  AND claims.article_id <> :article_id
                  AND (claims.revision = articles.revision OR claims.orphaned)
                ORDER BY sharing.claim_id DESC
                LIMIT :per_key
               ) AS found
        """  # noqa: S608 (the two tables and lookups below, never input)
    ).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))


# Near copies by words (migration 0010), with the one key only exact copies share.
_CANDIDATES = _sharing_a_key(
    "claim_similarity_keys", "similarity_lookup_keys(CAST(:keys AS bigint[]))"
)
# The same claim by meaning: the embedding keys (workers.matching.lsh, migration 0019).
MEANING_CANDIDATES = _sharing_a_key("claim_embedding_keys", "CAST(:keys AS bigint[])")


_PUBLISHED = select(Verdict.claim_id, Verdict.id, Verdict.rating).where(
    Verdict.claim_id.in_(bindparam("claim_ids", expanding=True)), Verdict.status == "published"
)


def _published_ratings(
    session: Session, claim_ids: Sequence[int], scale: Sequence[Rating]
) -> dict[int, PublishedRating]:
    """The published verdict of each claim that has one (at most one per claim)."""
    if not claim_ids:
        return {}
    labels = {rating.key: rating.label for rating in scale}
    rows = session.execute(_PUBLISHED, {"claim_ids": list(claim_ids)})
    return {
        row.claim_id: PublishedRating(row.id, row.rating, labels.get(row.rating)) for row in rows
    }
