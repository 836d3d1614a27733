"""Verdicts: read, edit (If-Match), publish, correct; and the rating scale."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schemas import examples
from schemas.verdicts import (
    CorrectionInSchema,
    RatingScaleSchema,
    VerdictPatchSchema,
    VerdictSchema,
)
from service.api import (
    IF_MATCH,
    OPTIONAL_IF_MATCH,
    Blueprint,
    current_actor,
    db,
    documented_errors,
    etag,
    expected_version,
    optional_expected_version,
    services,
)
from service.auth import require
from service.domain import verdicts as domain
from service.models import Verdict

blp = Blueprint("verdicts", __name__, description="Verdicts on claims, their evidence, publishing")
ratings_blp = Blueprint("ratings", __name__, description="The configured rating scale")


def present(verdicts: Sequence[Verdict]) -> list[dict[str, Any]]:
    """Verdicts with their evidence and the rating's label and value."""
    return domain.presented(db(), verdicts, services().settings.rating_scale)


def with_etag(verdict: Verdict, status: int = 200) -> tuple[dict[str, Any], int, dict[str, str]]:
    return present([verdict])[0], status, {"ETag": etag("verdict", verdict.id, verdict.version)}


@blp.route("/<int:verdict_id>", methods=["GET"])
@require("claims:read")
@blp.response(200, VerdictSchema)
@documented_errors(blp, 404)
def get_verdict(verdict_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A verdict with its evidence; the ETag header is what PATCH's If-Match must send."""
    return with_etag(domain.get_verdict(db(), verdict_id))


@blp.route("/<int:verdict_id>", methods=["PATCH"])
@require("verdicts:write")
@blp.arguments(VerdictPatchSchema, example=examples.VERDICT_PATCH)
@blp.response(200, VerdictSchema)
@documented_errors(blp, 400, 404, 409, 412, 415, 428)
@blp.doc(parameters=[IF_MATCH])
def update_verdict(changes: dict[str, Any], verdict_id: int) -> Any:
    """Edit a proposed verdict (its author or an editor). If-Match required: 428, 412 if stale."""
    domain.get_verdict(db(), verdict_id)
    version = expected_version("verdict", verdict_id)
    scale = services().settings.rating_scale
    updated = domain.update_verdict(db(), verdict_id, version, changes, current_actor(), scale)
    return with_etag(updated)


@blp.route("/<int:verdict_id>/publish", methods=["POST"])
@require("verdicts:publish")
@blp.response(200, VerdictSchema)
@documented_errors(blp, 404, 409, 412)
@blp.doc(parameters=[OPTIONAL_IF_MATCH])
def publish(verdict_id: int) -> Any:
    """Publish a proposed verdict (editors and admins); the claim becomes published.

    Only a `reviewed` claim's verdict is published: 409 otherwise, with `publishable_from`.
    With If-Match, only the version the editor read is published: 412 if it was edited since.
    """
    domain.get_verdict(db(), verdict_id)  # 404 before any If-Match verdict
    version = optional_expected_version("verdict", verdict_id)
    return with_etag(domain.publish_verdict(db(), verdict_id, current_actor(), version))


@blp.route("/<int:verdict_id>/corrections", methods=["POST"])
@require("verdicts:publish")
@blp.arguments(CorrectionInSchema, example=examples.CORRECTION)
@blp.response(201, VerdictSchema)
@documented_errors(blp, 400, 404, 409, 412, 415)
@blp.doc(parameters=[OPTIONAL_IF_MATCH])
def correct(data: dict[str, Any], verdict_id: int) -> Any:
    """Correct a published verdict: a new published version with a reason; the old is kept.

    With If-Match, the correction applies only to the version the editor read (412 if not).
    """
    reason = data.pop("reason")
    scale = services().settings.rating_scale
    domain.get_verdict(db(), verdict_id)  # 404 before any If-Match verdict
    version = optional_expected_version("verdict", verdict_id)
    corrected = domain.correct_verdict(
        db(), verdict_id, data, reason, current_actor(), scale, expected_version=version
    )
    return with_etag(corrected, 201)


@ratings_blp.route("", methods=["GET"])
@require("claims:read")
@ratings_blp.response(200, RatingScaleSchema)
@documented_errors(ratings_blp)
def rating_scale() -> dict[str, Any]:
    """The rating scale verdicts use: key, label (ClaimReview alternateName), numeric value."""
    return {"ratings": services().settings.rating_scale}
