"""The review queue and the claim lifecycle: list, read, take, change, add, history."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import request
from flask_smorest import abort

from schemas.claims import (
    ClaimPatchSchema,
    HistorySchema,
    NewClaimSchema,
    QueueQuerySchema,
    ReviewClaimPageSchema,
    ReviewClaimSchema,
)
from schemas.common import encode_cursor
from service.api import Blueprint, db, documented_errors
from service.auth import current_principal, require
from service.domain import PreconditionFailed
from service.domain import claims as domain
from service.domain.claim_creation import add_claim
from service.models import Claim

blp = Blueprint("claims", __name__, description="Claims under review")

ETAG = re.compile(r'^(?:W/)?"claim-(\d+)-v(\d+)"$')
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}


def _actor() -> domain.Actor:
    principal = current_principal()
    return domain.Actor(principal.user_id, principal.name, principal.role)


def _etag(claim: Claim) -> str:
    return f'"claim-{claim.id}-v{claim.version}"'


def _with_etag(claim: Claim, status: int = 200) -> tuple[Claim, int, dict[str, str]]:
    return claim, status, {"ETag": _etag(claim)}


def _expected_version(claim_id: int) -> int:
    """The version named by If-Match: 428 without one, 412 when it is not this claim's."""
    header = request.headers.get("If-Match")
    if header is None:
        abort(428, message="Send If-Match with the claim's ETag (from GET), to avoid lost updates.")
        raise AssertionError("unreachable: abort raises")
    found = ETAG.match(header.strip())
    if found is None or int(found.group(1)) != claim_id:
        raise PreconditionFailed("If-Match does not name this claim; read it again and retry.")
    return int(found.group(2))


@blp.route("", methods=["GET"])
@require("claims:read")
@blp.arguments(QueueQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, ReviewClaimPageSchema)
@documented_errors(blp)
def list_queue(query: dict[str, Any]) -> dict[str, Any]:
    """The review queue: check-worthy claims of current revisions, highest score first.

    Filters combine; `checkworthy=false` lists the rest; `sort=recency` lists newest first.
    """
    where = domain.QueueFilter(
        status=query.get("status"),
        checkworthy=query["checkworthy"],
        min_score=query.get("min_score"),
        claim_type=query.get("type"),
        assignee_id=query.get("assignee"),
        article_id=query.get("article"),
        source=query.get("source"),
        created_after=query.get("created_after"),
        created_before=query.get("created_before"),
        query=query.get("q"),
    )
    limit = query["limit"]
    items = domain.list_queue(
        db(), where, sort=query["sort"], limit=limit, after=query.get("cursor")
    )
    next_cursor = encode_cursor(*domain.queue_cursor(items[-1])) if len(items) == limit else None
    return {"items": items, "next_cursor": next_cursor}


@blp.route("", methods=["POST"])
@require("claims:review")
@blp.arguments(NewClaimSchema)
@blp.response(201, ReviewClaimSchema)
@documented_errors(blp, 400, 404, 409, 415)
def create(data: dict[str, Any]) -> tuple[Claim, int, dict[str, str]]:
    """Add a claim the engine missed: a span of the article's current body, scored and typed."""
    claim = add_claim(db(), data["article_id"], data["start"], data["end"], _actor())
    return _with_etag(claim, 201)


@blp.route("/<int:claim_id>", methods=["GET"])
@require("claims:read")
@blp.response(200, ReviewClaimSchema, headers={"ETag": {"schema": {"type": "string"}}})
@documented_errors(blp, 404)
def get_claim(claim_id: int) -> tuple[Claim, int, dict[str, str]]:
    """A claim with its lifecycle; the ETag header is what PATCH's If-Match must send."""
    return _with_etag(domain.get_claim(db(), claim_id))


@blp.route("/<int:claim_id>", methods=["PATCH"])
@require("claims:review")
@blp.arguments(ClaimPatchSchema)
@blp.response(200, ReviewClaimSchema)
@documented_errors(blp, 400, 404, 409, 412, 415, 428)
@blp.doc(parameters=[IF_MATCH])
def update(changes: dict[str, Any], claim_id: int) -> tuple[Claim, int, dict[str, str]]:
    """Change status, assignee or span. If-Match is required: 428 without it, 412 if stale.

    Invalid status moves are 409 with the `allowed` ones. Reviewers may take or release a
    claim; editors may assign anyone.
    """
    domain.get_claim(db(), claim_id)  # 404 before any verdict on If-Match
    version = _expected_version(claim_id)
    return _with_etag(domain.update_claim(db(), claim_id, version, changes, _actor()))


@blp.route("/<int:claim_id>/take", methods=["POST"])
@require("claims:review")
@blp.response(200, ReviewClaimSchema)
@documented_errors(blp, 404, 409)
def take(claim_id: int) -> tuple[Claim, int, dict[str, str]]:
    """Assign the claim to yourself and start reviewing it (409 if someone else has it)."""
    return _with_etag(domain.take_claim(db(), claim_id, _actor()))


@blp.route("/<int:claim_id>/history", methods=["GET"])
@require("claims:read")
@blp.response(200, HistorySchema)
@documented_errors(blp, 404)
def history(claim_id: int) -> dict[str, Any]:
    """Every recorded change to the claim, oldest first: who, what, when, before, after."""
    return {"items": domain.history(db(), claim_id)}
