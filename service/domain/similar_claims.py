"""Similar claims: the same or nearly the same claim in other articles, "already checked?".

Every stored claim carries the LSH band keys of its text (`workers.extraction.similarity`),
written wherever claim text is written; the database copies them, with one more key that
only exact copies share, into `claim_similarity_keys` (migration 0010). A claim's similar
claims are found in two steps: candidates, the newest CANDIDATES_PER_KEY claims sharing each
key (a bounded read, and the same one on every request), then the exact Jaccard similarity
of the texts, which decides and ranks.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy import text as sql_text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.types import BigInteger

from service.models import Claim, Verdict
from service.ratings import Rating
from service.vocabulary import NON_CLAIM_KINDS
from workers.extraction.similarity import jaccard_to, similarity_keys_many
from workers.matching.lsh import embedding_keys

SIMILAR_LIMIT = 5
# Claims read per lookup key, newest first: at most 9 x 12 rows (8 band keys and the key
# of exact copies), however many thousand claims share a stock phrase.
CANDIDATES_PER_KEY = 12
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
    """A claim of another article, how similar it is (0..1), and its published verdict."""

    id: int
    article_id: int
    text: str
    status: str
    similarity: float
    published_verdict: PublishedRating | None


def similarity_keys_of(claims: Iterable[tuple[str, str]]) -> list[list[int]]:
    """The similarity keys of each (text, kind); boilerplate (bylines, metadata) gets none."""
    return similarity_keys_many("" if kind in NON_CLAIM_KINDS else text for text, kind in claims)


def claim_similarity_keys(text: str, kind: str) -> list[int]:
    """The similarity keys of one claim's text."""
    return similarity_keys_of([(text, kind)])[0]


def lookup_keys_of(claims: Sequence[Mapping[str, Any]]) -> list[dict[str, list[int]]]:
    """The lookup columns of each claim the engine annotated (text, kind, embedding): its
    similarity keys (near copies by words) and embedding keys (workers.matching.lsh, the
    same claim by meaning). Boilerplate gets neither, a claim without an embedding no
    embedding keys."""
    kinds = [claim.get("kind", "sentence") for claim in claims]
    words = similarity_keys_of(
        (claim["text"], kind) for claim, kind in zip(claims, kinds, strict=True)
    )
    embedded = [
        row
        for row, (claim, kind) in enumerate(zip(claims, kinds, strict=True))
        if claim.get("embedding") is not None and kind not in NON_CLAIM_KINDS
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
    limit: int = SIMILAR_LIMIT,
) -> list[SimilarClaim]:
    """Claims of other articles at least `min_jaccard` similar to `claim`, best first.

    Ties go to the newest claim. Only claims a reader of the queue could reach are
    considered: those of their article's current revision, and orphaned reviewer work.
    """
    keys = list(claim.similarity_keys or [])
    if not keys:
        return []
    candidates = session.execute(
        _CANDIDATES,
        {"keys": keys, "article_id": claim.article_id, "per_key": CANDIDATES_PER_KEY},
    )
    rows = list({row.id: row for row in candidates}.values())
    similarities = jaccard_to(claim.text, [row.text for row in rows])
    scored = [
        (round(similarity, SIMILARITY_DECIMALS), row)
        for similarity, row in zip(similarities, rows, strict=True)
    ]
    best = sorted(
        (found for found in scored if found[0] >= min_jaccard),
        key=lambda found: (-found[0], -found[1].id),
    )[:limit]
    published = _published_ratings(session, [row.id for _, row in best], scale)
    return [
        SimilarClaim(
            row.id, row.article_id, row.text, row.status, similarity, published.get(row.id)
        )
        for similarity, row in best
    ]


# Each lookup key's newest claims of other articles that a queue reader could reach, read
# backwards along the primary key (key, claim_id): it stops after CANDIDATES_PER_KEY.
_CANDIDATES = sql_text(
    """
    SELECT found.id, found.article_id, found.text, found.status
      FROM unnest(similarity_lookup_keys(CAST(:keys AS bigint[]))) AS wanted(key)
     CROSS JOIN LATERAL (
           SELECT claims.id, claims.article_id, claims.text, claims.status
             FROM claim_similarity_keys AS sharing
             JOIN claims ON claims.id = sharing.claim_id
             JOIN articles ON articles.id = claims.article_id
            WHERE sharing.key = wanted.key
              AND claims.article_id <> :article_id
              AND (claims.revision = articles.revision OR claims.orphaned)
            ORDER BY sharing.claim_id DESC
            LIMIT :per_key
           ) AS found
    """
).bindparams(bindparam("keys", type_=ARRAY(BigInteger)))


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
