"""Articles: submit, batch submit, list, read, and their claims."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas import examples
from schemas.articles import (
    ArticleBatchInSchema,
    ArticleBatchOutSchema,
    ArticleInSchema,
    ArticleListQuerySchema,
    ArticlePageSchema,
    ArticleRevisionInSchema,
    ArticleSchema,
    ArticleSummarySchema,
    SubmitHeadersSchema,
)
from schemas.claims import ArticleClaimsQuerySchema, ClaimPageSchema
from schemas.common import encode_cursor
from service.api import (
    Blueprint,
    cursor_id,
    db,
    documented_errors,
    id_page,
    read_db,
)
from service.auth import current_principal, require
from service.domain import articles as domain
from service.domain.revisions import revise_article
from service.ratelimit import charge_submissions

blp = Blueprint("articles", __name__, description="Articles submitted for fact-checking")


def _submitter() -> domain.Submitter:
    principal = current_principal()
    return domain.Submitter(principal.user_id, principal.actor, principal.organization_id)


@blp.route("", methods=["POST"])
@require("articles:submit")
@blp.arguments(ArticleInSchema, example=examples.ARTICLE)
@blp.arguments(SubmitHeadersSchema, location="headers")
@blp.response(202, ArticleSummarySchema, description="Accepted: queued for claim extraction")
@blp.alt_response(
    200, schema=ArticleSummarySchema, description="Already submitted: the existing one"
)
@documented_errors(blp, 400, 409, 413, 415, 503)
def submit(data: dict[str, Any], headers: dict[str, Any]) -> tuple[dict[str, Any], int]:
    """Submit an article for claim extraction.

    Answers with the article's summary (not its body, which the caller has). Idempotent on
    (source, external_id) and on the `Idempotency-Key` header, both within the caller's
    organisation: a repeat returns the existing article with 200; the same key with a
    different body is 409. Another organisation's ids and keys are its own. Counts one
    article against the token's submission quota (429 when it is used up).
    """
    charge_submissions(1)
    key = headers.get("idempotency_key")
    result = domain.submit_article(db(), data, _submitter(), idempotency_key=key)
    return result.article, 202 if result.created else 200


@blp.route("/batch", methods=["POST"])
@require("articles:submit")
@blp.arguments(ArticleBatchInSchema, example=examples.ARTICLE_BATCH)
@blp.response(202, ArticleBatchOutSchema)
@documented_errors(blp, 400, 413, 415, 503)
def submit_batch(data: dict[str, Any]) -> dict[str, Any]:
    """Submit many articles in one transaction; each result says accepted, existing or conflict.

    Each item may carry its own `idempotency_key`. Every item counts against the token's
    submission quota: a batch with no room for all of them is refused whole (429).
    """
    items = data["articles"]
    charge_submissions(len(items))
    pairs = [(item, item.get("idempotency_key")) for item in items]
    results = []
    for index, outcome in enumerate(domain.submit_articles(db(), pairs, _submitter())):
        if isinstance(outcome, domain.SubmitResult):
            label = "accepted" if outcome.created else "existing"
            results.append({"index": index, "outcome": label, "article": outcome.article})
        else:
            results.append({"index": index, "outcome": "conflict", "detail": outcome.detail})
    return {"results": results}


@blp.route("", methods=["GET"])
@require("articles:read")
@blp.arguments(ArticleListQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, ArticlePageSchema)
@documented_errors(blp)
def list_articles(query: dict[str, Any]) -> dict[str, Any]:
    """List articles, newest first, filtered by status, source or full-text query `q`.

    A newsroom token lists its own organisation's articles.
    """
    items = domain.list_articles(
        read_db(),
        scope=current_principal().scope,
        limit=query["limit"],
        after_id=cursor_id(query),
        status=query.get("status"),
        source=query.get("source"),
        query=query.get("q"),
    )
    return id_page(items, query["limit"])


@blp.route("/<int:article_id>", methods=["GET"])
@require("articles:read")
@blp.response(200, ArticleSchema)
@documented_errors(blp, 404)
def get_article(article_id: int) -> dict[str, Any]:
    """An article with its body, processing status, revision and claim counts.

    Another organisation's article is 404 to a newsroom token, as a missing one; its claim
    counts are of the claims it lists.
    """
    return domain.article_detail(db(), article_id, current_principal().scope)


@blp.route("/<int:article_id>", methods=["PUT"])
@require("articles:submit")
@blp.arguments(ArticleRevisionInSchema, example=examples.ARTICLE_REVISION)
@blp.response(202, ArticleSummarySchema, description="A new revision, queued for extraction")
@blp.alt_response(200, schema=ArticleSummarySchema, description="Same text: nothing changed")
@documented_errors(blp, 400, 404, 413, 415)
def revise(data: dict[str, Any], article_id: int) -> tuple[dict[str, Any], int]:
    """Revise an article: a new revision, re-extracted. Reviewed claims whose text still
    appears keep their verdicts; the others are kept and flagged orphaned.

    The same text again changes nothing (200), except on an article whose extraction
    failed, which is queued again (202). A newsroom token revises its own organisation's
    articles (another's is 404, as a missing one); editors and admins revise any. A
    revision counts one article against the token's submission quota.
    """
    charge_submissions(1)
    principal = current_principal()
    result = revise_article(db(), article_id, data, _submitter(), principal.scope)
    return result.article, 202 if result.created else 200


@blp.route("/<int:article_id>/claims", methods=["GET"])
@require("articles:read")
@blp.arguments(ArticleClaimsQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, ClaimPageSchema)
@documented_errors(blp, 404)
def list_claims(query: dict[str, Any], article_id: int) -> dict[str, Any]:
    """Claims of the article's current revision, in text order.

    Another organisation's article is 404 to a newsroom token, as a missing one. To a
    newsroom token, a claim's `status` is `published` or `new` (review in progress is not
    shown), and claims a reviewer added, or orphaned ones, appear once published.
    """
    limit = query["limit"]
    items = domain.list_claims(
        db(),
        article_id,
        scope=current_principal().scope,
        limit=limit,
        after=query.get("cursor"),
        checkworthy=query.get("checkworthy"),
        orphaned=query["orphaned"],
    )
    next_cursor = encode_cursor(items[-1].start, items[-1].id) if len(items) == limit else None
    return {"items": items, "next_cursor": next_cursor}
