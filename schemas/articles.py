"""Articles: submission, revision and responses."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas.common import (
    PageQuerySchema,
    PageSchema,
    Pattern,
    Timestamp,
    current_limits,
    http_url,
    nonblank_text,
    text,
)
from service.vocabulary import ARTICLE_STATUSES

MAX_TITLE = 1_000
MAX_SHORT = 200


def _within_article_limit(body: str) -> None:
    limits = current_limits()
    if limits is not None and len(body) > limits.max_article_chars:
        raise ma.ValidationError(
            f"Longer than the limit of {limits.max_article_chars} characters per article "
            f"(this body has {len(body)}): submit it in parts."
        )


def article_body() -> Any:
    """An article's body: text, at most the configured number of characters."""
    return nonblank_text(
        also=[_within_article_limit],
        required=True,
        metadata={
            "description": "Plain text; claim offsets are code points into it. At most "
            "FACTCHECK_MAX_ARTICLE_CHARS code points (200,000 unless configured)"
        },
    )


class ArticleInSchema(ma.Schema):
    """An article as a newsroom submits it. Unknown fields are refused."""

    class Meta:
        unknown = ma.RAISE

    title = text(max_length=MAX_TITLE, allow_none=True)
    body = article_body()
    url = http_url(allow_none=True, metadata={"example": "https://news.example.org/2026/01/story"})
    source = text(1, MAX_SHORT, allow_none=True)
    external_id = text(
        1,
        500,
        allow_none=True,
        metadata={"description": "Your id; (source, external_id) makes submission idempotent"},
    )
    published_at = Timestamp(allow_none=True)
    language = ma.fields.String(
        validate=[
            ma.validate.Length(max=35),
            Pattern(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{1,8})*$"),
        ],
        allow_none=True,
        metadata={"description": "BCP 47 tag, e.g. en or en-GB"},
    )
    authors = ma.fields.List(
        text(1, MAX_SHORT),
        validate=ma.validate.Length(max=50),
        load_default=list,
    )


class ArticleRevisionInSchema(ma.Schema):
    """A new body (and optionally title) for an existing article."""

    class Meta:
        unknown = ma.RAISE

    body = article_body()
    title = text(max_length=MAX_TITLE, allow_none=True)


class SubmitHeadersSchema(ma.Schema):
    """The request headers a submission reads (every other header is ignored)."""

    class Meta:
        unknown = ma.EXCLUDE

    idempotency_key = text(
        1,
        MAX_SHORT,
        data_key="Idempotency-Key",
        metadata={
            "description": "Your request id: the same key from the same user returns the "
            "article it first created (200) instead of a second one; with another body, 409"
        },
    )


class BatchItemSchema(ArticleInSchema):
    idempotency_key = text(1, MAX_SHORT, allow_none=True)


class ArticleBatchInSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    articles = ma.fields.List(
        ma.fields.Nested(BatchItemSchema),
        required=True,
        validate=ma.validate.Length(min=1),
        metadata={"description": "At most FACTCHECK_MAX_BATCH_ARTICLES (100 unless configured)"},
    )

    @ma.pre_load
    def _count_first(self, data: Any, **_kwargs: Any) -> Any:
        """Refuse an oversized batch from its length, before any item is built: validated
        one by one, 900,000 tiny items took 30 s of CPU and 537 MB."""
        limits = current_limits()
        items = data.get("articles") if isinstance(data, dict) else None
        if limits and isinstance(items, list) and len(items) > limits.max_batch_articles:
            raise ma.ValidationError(
                f"At most {limits.max_batch_articles} articles per batch "
                f"(this one has {len(items)}).",
                "articles",
            )
        return data


class ClaimCountsSchema(ma.Schema):
    total = ma.fields.Integer(required=True)
    checkworthy = ma.fields.Integer(required=True)


class ArticleSummarySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    title = ma.fields.String(allow_none=True)
    url = ma.fields.String(allow_none=True)
    source = ma.fields.String(allow_none=True)
    external_id = ma.fields.String(allow_none=True)
    published_at = ma.fields.DateTime(allow_none=True)
    language = ma.fields.String(allow_none=True)
    authors = ma.fields.List(ma.fields.String())
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(ARTICLE_STATUSES))
    failure_reason = ma.fields.String(allow_none=True)
    revision = ma.fields.Integer(required=True)
    content_hash = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    processed_at = ma.fields.DateTime(allow_none=True)


class ArticleSchema(ArticleSummarySchema):
    body = ma.fields.String(required=True)
    claim_counts = ma.fields.Nested(ClaimCountsSchema, required=True)


class ArticlePageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ArticleSummarySchema), required=True)


class ArticleListQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=ma.validate.OneOf(ARTICLE_STATUSES))
    source = text(1, MAX_SHORT)
    q = text(
        1,
        500,
        metadata={
            "description": "Full-text search on the title and body of processed articles "
            '(web search syntax: words, "quoted phrases", -excluded)'
        },
    )


class BatchResultSchema(ma.Schema):
    index = ma.fields.Integer(required=True)
    outcome = ma.fields.String(
        required=True, validate=ma.validate.OneOf(("accepted", "existing", "conflict"))
    )
    article = ma.fields.Nested(ArticleSummarySchema, allow_none=True)
    detail = ma.fields.String(allow_none=True)


class ArticleBatchOutSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(BatchResultSchema), required=True)
