"""Linked data out (schema.org ClaimReview, W3C Web Annotation) and annotations in."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import Response, url_for

from schemas import examples
from schemas.claims import ReviewClaimSchema
from schemas.common import encode_cursor
from schemas.publishing import (
    AnnotationCollectionSchema,
    AnnotationInSchema,
    AnnotationQuerySchema,
    ClaimReviewPageSchema,
    ClaimReviewQuerySchema,
    ClaimReviewSchema,
)
from service.api import (
    Blueprint,
    current_actor,
    db,
    documented_errors,
    etag,
    read_db,
    services,
)
from service.auth import current_principal, require
from service.domain import publishing as domain

JSON_LD = "application/ld+json"
ANNOTATION_MEDIA_TYPE = f'{JSON_LD}; profile="{domain.ANNOTATION_CONTEXT}"'

reviews_blp = Blueprint(
    "claimreviews", __name__, description="Published verdicts as schema.org ClaimReview"
)
annotations_blp = Blueprint(
    "annotations", __name__, description="Claims and verdicts as W3C Web Annotations"
)


def _json(document: Any, mimetype: str, status: int = 200) -> Response:
    return Response(json.dumps(document, ensure_ascii=False), status=status, mimetype=mimetype)


def _review_url(verdict_id: int) -> str:
    template = services().settings.claimreview_url_template
    if template:
        return template.format(id=verdict_id)
    return url_for("claimreviews.claim_review", verdict_id=verdict_id, _external=True)


def _publisher() -> domain.Publisher:
    settings = services().settings
    return domain.Publisher(settings.organization_name, settings.organization_url)


def claim_review_document(review: domain.Review) -> dict[str, Any]:
    """A published review as schema.org ClaimReview (the API's and the desk's)."""
    return domain.claim_review(
        review, services().settings.rating_scale, _publisher(), _review_url(review.verdict.id)
    )


@reviews_blp.route("/verdicts/<int:verdict_id>/claimreview", methods=["GET"])
@require("reviews:read")
@reviews_blp.response(200, ClaimReviewSchema, content_type=JSON_LD)
@documented_errors(reviews_blp, 404, 409)
def claim_review(verdict_id: int) -> Response:
    """schema.org ClaimReview (JSON-LD) of a published verdict; 409 if it is not published.

    A corrected verdict answers 409 naming its correction (`superseded_by`). To a newsroom
    token a verdict never published is 404, as a missing one. The review's `url` is
    FACTCHECK_CLAIMREVIEW_URL with the verdict id, or this endpoint's own URL.
    """
    review = domain.published_review(db(), verdict_id, current_principal().scope)
    return _json(claim_review_document(review), JSON_LD)


@reviews_blp.route("/claimreviews", methods=["GET"])
@require("reviews:read")
@reviews_blp.arguments(ClaimReviewQuerySchema, location="query", unknown=ma.RAISE)
@reviews_blp.response(200, ClaimReviewPageSchema)
@documented_errors(reviews_blp)
def claim_reviews(query: dict[str, Any]) -> Response:
    """Every published review, newest publication first: a feed for pages and aggregators.

    Corrections replace what they correct, so each claim appears once, with its current
    review. Poll with `published_after`; page with `cursor`.
    """
    limit = query["limit"]
    reviews = domain.published_reviews(
        read_db(),
        limit=limit,
        after=query.get("cursor"),
        published_after=query.get("published_after"),
        published_before=query.get("published_before"),
    )
    next_cursor = (
        encode_cursor(*domain.review_cursor(reviews[-1])) if len(reviews) == limit else None
    )
    page = {"items": [claim_review_document(r) for r in reviews], "next_cursor": next_cursor}
    return _json(page, "application/json")


@annotations_blp.route("/articles/<int:article_id>/annotations", methods=["GET"])
@require("articles:read")
@annotations_blp.arguments(AnnotationQuerySchema, location="query", unknown=ma.RAISE)
@annotations_blp.response(200, AnnotationCollectionSchema, content_type=ANNOTATION_MEDIA_TYPE)
@documented_errors(annotations_blp, 404)
def article_annotations(query: dict[str, Any], article_id: int) -> Response:
    """The article's claims (`highlighting`) and published verdicts (`assessing`).

    Each annotation targets the article's URL with a TextQuoteSelector (exact, prefix,
    suffix) and a TextPositionSelector (start, end, code points) on its current body.
    The claims are those of the current revision (as `GET /articles/{id}/claims` lists them
    to the caller) and the verdicts are published ones only, signed by the organisation, so
    whoever may read the article (a newsroom token: its own organisation's) may read its
    annotations.

    W3C paging: the AnnotationCollection embeds its first page of `limit` claims; a page's
    `next` is the URL of the following one, which comes back as an AnnotationPage alone.
    """
    collection = annotation_document(
        article_id,
        checkworthy=query.get("checkworthy"),
        limit=query["limit"],
        after=query.get("cursor"),
    )
    return _json(collection, ANNOTATION_MEDIA_TYPE)


@annotations_blp.route("/articles/<int:article_id>/annotations", methods=["POST"])
@require("claims:review")
@annotations_blp.arguments(AnnotationInSchema, example=examples.ANNOTATION)
@annotations_blp.response(201, ReviewClaimSchema)
@documented_errors(annotations_blp, 400, 404, 409, 415)
def import_annotation(annotation: dict[str, Any], article_id: int) -> Any:
    """Import a W3C annotation made elsewhere as a claim on the article's current body.

    The target's TextPositionSelector is used when it selects the quoted text; otherwise the
    TextQuoteSelector's exact text is found (prefix and suffix choose among repeats). 422
    when neither anchors, 409 when that span is already a claim.
    """
    claim = domain.import_annotation(
        db(), article_id, annotation, current_actor(), services().extractor
    )
    return claim, 201, {"ETag": etag("claim", claim.id, claim.version)}


def annotation_document(
    article_id: int,
    *,
    checkworthy: bool | None = None,
    limit: int,
    after: tuple[int, int, int] | None = None,
) -> dict[str, Any]:
    """The article's W3C AnnotationCollection as the caller may read it (the API's and the
    desk's), its URLs the API's."""
    endpoint = "annotations.article_annotations"
    collection_id = url_for(
        endpoint, article_id=article_id, checkworthy=checkworthy, _external=True
    )

    def page_url(position: tuple[int, int, int] | None) -> str:
        if position is None:
            return collection_id + "#page1"
        return url_for(
            endpoint,
            article_id=article_id,
            checkworthy=checkworthy,
            limit=limit,
            cursor=encode_cursor(*position),
            _external=True,
        )

    return domain.annotation_collection(
        db(),
        article_id,
        scope=current_principal().scope,
        publisher=_publisher(),
        collection_id=collection_id,
        page_url=page_url,
        article_url=url_for("articles.get_article", article_id=article_id, _external=True),
        claim_url=lambda claim_id: url_for("claims.get_claim", claim_id=claim_id, _external=True),
        verdict_url=lambda verdict_id: url_for(
            "verdicts.get_verdict", verdict_id=verdict_id, _external=True
        ),
        checkworthy=checkworthy,
        limit=limit,
        after=after,
    )
