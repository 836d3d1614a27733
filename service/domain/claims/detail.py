"""What a claim's page shows: the claim, its verdicts with their evidence, whether its
reviewers agree, the same claim in other articles, and fact-checks that reviewed it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from service.domain.agreement import unit_agreement
from service.domain.claims.fields import SHOWN_FIELDS
from service.domain.claims.lifecycle import get_claim
from service.domain.matching import claim_matches
from service.domain.similar_claims import similar_claims
from service.domain.verdicts import claim_verdicts, presented, reviewer_ratings
from service.ratings import Rating


def claim_detail(
    session: Session,
    claim_id: int,
    *,
    scale: Sequence[Rating],
    min_jaccard: float,
    min_cosine: float = 1.0,
) -> dict[str, Any]:
    """The claim's shown fields, `verdicts` (oldest first, with evidence), `agreement`,
    `similar` (the same claim in other articles: words at least `min_jaccard` similar, or
    meaning at least `min_cosine` near), `seen_in` (how many articles and outlets, since
    when) and `matches` (fact-checks); NotFound if none."""
    claim = get_claim(session, claim_id, similarity_keys=True)
    verdicts = claim_verdicts(session, claim_id)
    similar, seen_in = similar_claims(
        session, claim, min_jaccard=min_jaccard, min_cosine=min_cosine, scale=scale
    )
    return {
        **{name: getattr(claim, name) for name in SHOWN_FIELDS},
        "verdicts": presented(session, verdicts, scale),
        "agreement": unit_agreement(reviewer_ratings(verdicts)),
        "similar": similar,
        "seen_in": seen_in,
        "matches": claim_matches(session, claim_id),
    }
