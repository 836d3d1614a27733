"""Agreement between reviewers over a filter."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas.stats import AgreementQuerySchema, AgreementSchema
from service.api import Blueprint, documented_errors, read_db, services
from service.auth import require
from service.domain.stats import agreement_report

blp = Blueprint("stats", __name__, description="Review statistics")


@blp.route("/agreement", methods=["GET"])
@require("claims:read")
@blp.arguments(AgreementQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, AgreementSchema)
@documented_errors(blp)
def agreement(query: dict[str, Any]) -> dict[str, Any]:
    """Krippendorff's alpha (nominal on every rating; ordinal and interval on the numeric
    ones) and pairwise agreement with Cohen's kappa per reviewer pair."""
    return agreement_report(
        read_db(),
        services().settings.rating_scale,
        article_id=query.get("article"),
        source=query.get("source"),
        since=query.get("since"),
        until=query.get("until"),
    )
