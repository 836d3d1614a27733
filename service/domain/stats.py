"""Review statistics: how far reviewers agree, over the claims a filter selects."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from service.domain.agreement import krippendorff_alpha, pairwise_agreement
from service.domain.verdicts import current_ratings
from service.ratings import Rating

ALPHA_METRICS = ("nominal", "ordinal", "interval")


def agreement_report(
    session: Session,
    scale: Sequence[Rating],
    *,
    article_id: int | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> dict[str, Any]:
    """Krippendorff's alpha per metric (ordinal and interval on the scale's numeric ratings)
    and pairwise agreement per reviewer pair, over each reviewer's current ratings; `claims`
    counts the claims rated by two reviewers or more."""
    ratings = current_ratings(
        session, article_id=article_id, source=source, since=since, until=until
    )
    values = {r.key: float(r.value) for r in scale if r.value is not None}
    per_claim = Counter(r.unit for r in ratings)
    return {
        "claims": sum(1 for count in per_claim.values() if count >= 2),
        "ratings": len(ratings),
        "alpha": {
            metric: krippendorff_alpha(ratings, metric=metric, values=values)
            for metric in ALPHA_METRICS
        },
        "pairs": [
            {
                "reviewers": list(pair.coders),
                "claims": pair.units,
                "agreed": pair.agreed,
                "share": pair.share,
                "kappa": pair.kappa,
            }
            for pair in pairwise_agreement(ratings)
        ],
    }
