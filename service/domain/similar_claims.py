"""Similar claims: the same or nearly the same claim in other articles, "already checked?".

Every stored claim carries the LSH band keys of its text (`workers.extraction.similarity`),
written wherever claim text is written. A claim's similar claims are found in two steps:
candidates from the GIN index on the keys (at most 2 x CANDIDATE_LIMIT rows, however large
the corpus), then the exact Jaccard similarity of the texts, which decides and ranks.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Select, bindparam, cast, or_, select, union_all
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import BigInteger

from service.models import Article, Claim, Verdict
from service.ratings import Rating
from workers.extraction.engine import NON_CLAIM_KINDS
from workers.extraction.similarity import jaccard_to, similarity_keys_many

SIMILAR_LIMIT = 5
# Rows read per candidate query. Text that shares a stock phrase with thousands of claims
# would otherwise make one claim's detail read thousands of rows. 50, not 200: on
# bench.review's templated corpus (100k claims) that took a claim detail from 31.5 to 22.2 ms
# in-process, and five are shown.
CANDIDATE_LIMIT = 50
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
    candidates = session.execute(_CANDIDATES, {"keys": keys, "article_id": claim.article_id})
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


def _candidates(sharing: ColumnElement[bool]) -> Select:
    return (
        select(Claim.id, Claim.article_id, Claim.text, Claim.status)
        .join(Article, Article.id == Claim.article_id)
        .where(
            sharing,
            Claim.article_id != bindparam("article_id"),
            or_(Claim.revision == Article.revision, Claim.orphaned),
        )
        .limit(CANDIDATE_LIMIT)
    )


_WANTED = cast(bindparam("keys", type_=ARRAY(BigInteger)), ARRAY(BigInteger))
# Two bounded reads in one statement: claims sharing every key (the same text, give or take
# punctuation), then claims sharing any. With only the second, a claim whose keys thousands
# of loosely similar claims share could miss its exact copies, since which CANDIDATE_LIMIT
# rows an unordered read returns is arbitrary. Built once: building and keying it took
# 0.4 ms of every claim detail.
_CANDIDATES = union_all(
    _candidates(Claim.similarity_keys.contains(_WANTED)),
    _candidates(Claim.similarity_keys.overlap(_WANTED)),
)


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
