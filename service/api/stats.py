"""Agreement between reviewers over a filter."""

from __future__ import annotations

from collections import Counter
from typing import Any

import marshmallow as ma

from schemas.stats import AgreementQuerySchema, AgreementSchema
from service.api import Blueprint, documented_errors, read_db, services
from service.auth import require
from service.domain.agreement import krippendorff_alpha, pairwise_agreement
from service.domain.verdicts import current_ratings

blp = Blueprint("stats", __name__, description="Review statistics")


@blp.route("/agreement", methods=["GET"])
@require("claims:read")
@blp.arguments(AgreementQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, AgreementSchema)
@documented_errors(blp)
def agreement(query: dict[str, Any]) -> dict[str, Any]:
    """Krippendorff's alpha (nominal on every rating; ordinal and interval on the numeric
    ones) and pairwise agreement with Cohen's kappa per reviewer pair."""
    ratings = current_ratings(
        read_db(),
        article_id=query.get("article"),
        source=query.get("source"),
        since=query.get("since"),
        until=query.get("until"),
    )
    values = {
        r.key: float(r.value) for r in services().settings.rating_scale if r.value is not None
    }
    per_claim = Counter(r.unit for r in ratings)
    return {
        "claims": sum(1 for count in per_claim.values() if count >= 2),
        "ratings": len(ratings),
        "alpha": {
            metric: krippendorff_alpha(ratings, metric=metric, values=values)
            for metric in ("nominal", "ordinal", "interval")
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
