"""The review queue and the claim lifecycle: list, read, take, change, add, history."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas import examples
from schemas.claims import (
    ClaimDetailSchema,
    ClaimPatchSchema,
    HistorySchema,
    NewClaimSchema,
    QueueQuerySchema,
    ReviewClaimPageSchema,
    ReviewClaimSchema,
)
from schemas.common import PageQuerySchema, encode_cursor
from schemas.verdicts import VerdictInSchema, VerdictSchema
from service.api import (
    IF_MATCH,
    Blueprint,
    current_actor,
    cursor_id,
    db,
    documented_errors,
    etag,
    expected_version,
    id_page,
    read_db,
    services,
)
from service.api.verdicts import with_etag as verdict_with_etag
from service.auth import require
from service.domain import verdicts as verdicts_domain
from service.domain.claims import lifecycle, queue
from service.domain.claims.detail import claim_detail
from service.domain.claims.spans import add_claim
from service.models import Claim

blp = Blueprint("claims", __name__, description="Claims under review")


def _with_etag(claim: Claim, status: int = 200) -> tuple[Claim, int, dict[str, str]]:
    return claim, status, {"ETag": etag("claim", claim.id, claim.version)}


@blp.route("", methods=["GET"])
@require("claims:read")
@blp.arguments(QueueQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, ReviewClaimPageSchema)
@documented_errors(blp)
def list_queue(query: dict[str, Any]) -> dict[str, Any]:
    """The review queue: check-worthy claims of current revisions, highest score first.

    Filters combine; `checkworthy=false` lists the rest, including claims in languages that
    are not scored; `sort=recency` lists newest first.
    """
    where = queue.queue_filter(query)
    limit = query["limit"]
    items = queue.list_queue(
        read_db(), where, sort=query["sort"], limit=limit, after=query.get("cursor")
    )
    next_cursor = encode_cursor(*queue.queue_cursor(items[-1])) if len(items) == limit else None
    return {"items": items, "next_cursor": next_cursor}


@blp.route("", methods=["POST"])
@require("claims:review")
@blp.arguments(NewClaimSchema, example=examples.NEW_CLAIM)
@blp.response(201, ReviewClaimSchema)
@documented_errors(blp, 400, 404, 409, 415)
def create(data: dict[str, Any]) -> tuple[Claim, int, dict[str, str]]:
    """Add a claim the engine missed: a span of the article's current body, scored and typed.

    A span that is already a claim is 409 naming it in `claim_id`.
    """
    claim = add_claim(
        db(), data["article_id"], data["start"], data["end"], current_actor(), services().extractor
    )
    return _with_etag(claim, 201)


@blp.route("/<int:claim_id>", methods=["GET"])
@require("claims:read")
@blp.response(200, ClaimDetailSchema, headers={"ETag": {"schema": {"type": "string"}}})
@documented_errors(blp, 404)
def get_claim(claim_id: int) -> tuple[dict[str, Any], int, dict[str, str]]:
    """A claim with its verdicts and evidence, whether reviewers agree, similar claims and
    matching fact-checks.

    `similar` lists the same claim in other articles, by words or by meaning, each with its
    published verdict if it has one; `seen_in` counts the articles and outlets it appeared in
    and since when. `matches` lists fact-checks, ours and imported, that review it, with
    rating, publisher, URL, licence, confidence and reason. The ETag header is what PATCH's
    If-Match must send.
    """
    detail = detail_of(claim_id)
    return detail, 200, {"ETag": etag("claim", claim_id, detail["version"])}


def detail_of(claim_id: int) -> dict[str, Any]:
    """What GET /claims/{id} shows, with the configured scale and similarity thresholds (the
    desk's claim page shows the same)."""
    settings = services().settings
    return claim_detail(
        db(),
        claim_id,
        scale=settings.rating_scale,
        min_jaccard=settings.similar_min_jaccard,
        min_cosine=settings.similar_min_cosine,
    )


@blp.route("/<int:claim_id>", methods=["PATCH"])
@require("claims:review")
@blp.arguments(ClaimPatchSchema, example=examples.CLAIM_PATCH)
@blp.response(200, ReviewClaimSchema)
@documented_errors(blp, 400, 404, 409, 412, 415, 428)
@blp.doc(parameters=[IF_MATCH])
def update(changes: dict[str, Any], claim_id: int) -> tuple[Claim, int, dict[str, str]]:
    """Change status, assignee or span. If-Match is required: 428 without it, 412 if stale.

    Invalid status moves are 409 with the `allowed` ones, as is `reviewed` for a claim with
    no verdict. Reviewers may take or release a claim, and change the status or span of a
    claim that is free or theirs (403 for one someone else holds); editors may assign anyone. A
    corrected span is annotated afresh (context, score, types, speaker, quantities, dates,
    entities), as if added there; a span that is already another claim is 409 naming it in
    `claim_id`.
    """
    lifecycle.get_claim(db(), claim_id)  # 404 before any verdict on If-Match
    version = expected_version("claim", claim_id)
    claim = lifecycle.update_claim(
        db(), claim_id, version, changes, current_actor(), extractor=services().extractor
    )
    return _with_etag(claim)


@blp.route("/<int:claim_id>/take", methods=["POST"])
@require("claims:review")
@blp.response(200, ReviewClaimSchema)
@documented_errors(blp, 404, 409)
def take(claim_id: int) -> tuple[Claim, int, dict[str, str]]:
    """Assign the claim to yourself and start reviewing it (409 if someone else has it)."""
    return _with_etag(lifecycle.take_claim(db(), claim_id, current_actor()))


@blp.route("/<int:claim_id>/verdicts", methods=["POST"])
@require("verdicts:write")
@blp.arguments(VerdictInSchema, example=examples.VERDICT)
@blp.response(201, VerdictSchema)
@documented_errors(blp, 400, 404, 409, 415)
def add_verdict(data: dict[str, Any], claim_id: int) -> Any:
    """Add your verdict on a claim, with evidence. Several reviewers may each give one."""
    scale = services().settings.rating_scale
    verdict = verdicts_domain.add_verdict(db(), claim_id, data, current_actor(), scale)
    return verdict_with_etag(verdict, 201)


@blp.route("/<int:claim_id>/history", methods=["GET"])
@require("claims:read")
@blp.arguments(PageQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, HistorySchema)
@documented_errors(blp, 404)
def history(query: dict[str, Any], claim_id: int) -> dict[str, Any]:
    """Every recorded change to the claim, oldest first: who, what, when, before, after."""
    items = lifecycle.history(db(), claim_id, limit=query["limit"], after_id=cursor_id(query))
    return id_page(items, query["limit"])
