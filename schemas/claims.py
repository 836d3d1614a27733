"""Claims as the API returns them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas.common import (
    FLAG_PART,
    ID_PART,
    OFFSET_PART,
    Cursor,
    FastDumpSchema,
    PageQuerySchema,
    PageSchema,
    StoredSpans,
    Timestamp,
    text,
)
from schemas.matching import ClaimMatchSchema
from schemas.verdicts import VerdictSchema
from service.vocabulary import CLAIM_KINDS, CLAIM_STATUSES, CLAIM_TYPES


class SpanSchema(ma.Schema):
    """Something found inside a claim; offsets are into the article body, like the claim's."""

    text = ma.fields.String(required=True)
    start = ma.fields.Integer(required=True)
    end = ma.fields.Integer(required=True)


class QuantitySchema(SpanSchema):
    value = ma.fields.Float(allow_none=True, metadata={"description": "e.g. $3bn -> 3e9"})
    unit = ma.fields.String(allow_none=True, metadata={"description": "%, USD, soldiers..."})
    approximate = ma.fields.String(
        allow_none=True, metadata={"description": "qualifier: over, about, between..."}
    )


class DateSchema(SpanSchema):
    value = ma.fields.String(
        allow_none=True, metadata={"description": "ISO 8601 (may be partial); null if relative"}
    )
    kind = ma.fields.String(validate=ma.validate.OneOf(("absolute", "relative")))


class EntitySchema(SpanSchema):
    label = ma.fields.String(validate=ma.validate.OneOf(("PERSON", "ORG", "PLACE", "OTHER")))


class ExtractedClaimSchema(FastDumpSchema):
    """A claim as the engine produces it."""

    text = ma.fields.String(required=True)
    start = ma.fields.Integer(
        required=True, metadata={"description": "Code-point offset: body[start:end] == text"}
    )
    end = ma.fields.Integer(required=True)
    prefix = ma.fields.String(required=True)
    suffix = ma.fields.String(required=True)
    kind = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(CLAIM_KINDS),
        metadata={
            "description": "sentence; headline; clause (one clause of a compound sentence); "
            "reported (what a speaker is reported to have said, inside its sentence); span (a "
            "reviewer's); byline, metadata, dateline, caption, credit: boilerplate, never "
            "check-worthy"
        },
    )
    checkworthiness = ma.fields.Float(
        allow_none=True, metadata={"description": "Calibrated probability; null when unscored"}
    )
    checkworthy = ma.fields.Boolean(allow_none=True)
    scored = ma.fields.Function(
        lambda claim: _get(claim, "checkworthiness") is not None,
        metadata={"description": "False when scoring is unavailable (a language not supported)"},
    )
    types = ma.fields.List(ma.fields.String())
    speaker = ma.fields.String(allow_none=True)
    quantities = StoredSpans(ma.fields.Nested(QuantitySchema))
    dates = StoredSpans(ma.fields.Nested(DateSchema))
    entities = StoredSpans(ma.fields.Nested(EntitySchema))
    language = ma.fields.String(allow_none=True)


def _get(claim: Any, name: str) -> Any:
    return claim.get(name) if isinstance(claim, dict) else getattr(claim, name)


class ClaimSchema(ExtractedClaimSchema):
    """A stored claim."""

    id = ma.fields.Integer(required=True)
    article_id = ma.fields.Integer(required=True)
    revision = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    origin = ma.fields.String(required=True)
    orphaned = ma.fields.Boolean(
        required=True,
        metadata={"description": "Its text no longer appears in the revised article"},
    )
    created_at = ma.fields.DateTime(required=True)


class ClaimPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ClaimSchema), required=True)


class ArticleClaimsQuerySchema(PageQuerySchema):
    cursor = Cursor(  # the last claim's start and id
        OFFSET_PART, ID_PART, metadata={"description": "`next_cursor` from the previous page"}
    )
    checkworthy = ma.fields.Boolean()
    orphaned = ma.fields.Boolean(
        load_default=False,
        metadata={"description": "Reviewed claims of earlier revisions whose text is gone"},
    )


class ReviewClaimSchema(ClaimSchema):
    """A claim in the review queue: its lifecycle on top of what the engine found."""

    assignee_id = ma.fields.Integer(allow_none=True)
    version = ma.fields.Integer(required=True, metadata={"description": "Also the ETag"})
    updated_at = ma.fields.DateTime(required=True)


class ReviewClaimPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ReviewClaimSchema), required=True)


class QueueQuerySchema(PageQuerySchema):
    cursor = Cursor(  # whether the last claim was scored (0 or 1), its score x 10^4, its id
        FLAG_PART,
        ID_PART,
        ID_PART,
        metadata={"description": "`next_cursor` from the previous page (same sort)"},
    )
    status = ma.fields.String(validate=ma.validate.OneOf(CLAIM_STATUSES))
    checkworthy = ma.fields.Boolean(
        load_default=True, metadata={"description": "Default true: the check-worthy queue"}
    )
    min_score = ma.fields.Float(validate=ma.validate.Range(min=0.0, max=1.0))
    type = ma.fields.String(validate=ma.validate.OneOf(CLAIM_TYPES))
    kind = ma.fields.String(
        validate=ma.validate.OneOf(CLAIM_KINDS),
        metadata={"description": "Only claims of this kind, e.g. reported"},
    )
    assignee = ma.fields.Integer(
        validate=ma.validate.Range(min=1, max=2**63 - 1), metadata={"description": "User id"}
    )
    article = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**63 - 1))
    source = text(1, 200)
    created_after = Timestamp()
    created_before = Timestamp()
    q = text(1, 500, metadata={"description": "Full-text search on claim and article text"})
    sort = ma.fields.String(load_default="score", validate=ma.validate.OneOf(("score", "recency")))


class ClaimPatchSchema(ma.Schema):
    """What a reviewer or editor may change; send only what changes."""

    class Meta:
        unknown = ma.RAISE

    status = ma.fields.String(
        validate=ma.validate.OneOf(tuple(s for s in CLAIM_STATUSES if s != "published")),
        metadata={"description": "Allowed moves follow the lifecycle; others are 409"},
    )
    assignee_id = ma.fields.Integer(
        strict=True, allow_none=True, validate=ma.validate.Range(min=1, max=2**63 - 1)
    )
    start = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=2**31 - 1))
    end = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=1, max=2**31 - 1))

    @ma.validates_schema
    def something_to_change(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_schema")


class NewClaimSchema(ma.Schema):
    """A claim the engine missed: a span of the article's current body."""

    class Meta:
        unknown = ma.RAISE

    article_id = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=1, max=2**63 - 1)
    )
    start = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=0, max=2**31 - 1)
    )
    end = ma.fields.Integer(
        strict=True, required=True, validate=ma.validate.Range(min=1, max=2**31 - 1)
    )


class AuditEventSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    actor = ma.fields.String(required=True)
    action = ma.fields.String(required=True)
    before = ma.fields.Dict(allow_none=True)
    after = ma.fields.Dict(allow_none=True)
    at = ma.fields.DateTime(required=True)


class HistorySchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(AuditEventSchema), required=True)


class PublishedRatingSchema(ma.Schema):
    """The published verdict of a similar claim: what it was already rated."""

    id = ma.fields.Integer(required=True, metadata={"description": "The verdict's id"})
    rating = ma.fields.String(required=True, metadata={"description": "A rating scale key"})
    label = ma.fields.String(
        allow_none=True, metadata={"description": "The rating's label (null if off the scale)"}
    )


class SimilarClaimSchema(ma.Schema):
    """The same or nearly the same claim in another article."""

    id = ma.fields.Integer(required=True)
    article_id = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(CLAIM_STATUSES))
    similarity = ma.fields.Float(
        required=True,
        validate=ma.validate.Range(min=0.0, max=1.0),
        metadata={
            "description": "Jaccard similarity of the two texts' word pairs, to 3 decimals "
            "(1.0: the same words in the same order)"
        },
    )
    published_verdict = ma.fields.Nested(
        PublishedRatingSchema,
        required=True,
        allow_none=True,
        metadata={"description": "Its published verdict, if it has one"},
    )
    meaning = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "Cosine of the two claims' sentence embeddings, to 3 decimals "
            "(null when either has none)"
        },
    )
    source = ma.fields.String(
        required=True, allow_none=True, metadata={"description": "Its article's source (outlet)"}
    )
    created_at = ma.fields.DateTime(required=True, metadata={"description": "When it was seen"})


class SeenInSchema(ma.Schema):
    """Where a claim has been seen: it and its similar claims (all found, not only listed)."""

    articles = ma.fields.Integer(required=True)
    outlets = ma.fields.Integer(
        required=True, metadata={"description": "Distinct article sources among them"}
    )
    first_seen = ma.fields.DateTime(required=True)


class ClaimDetailSchema(ReviewClaimSchema):
    matches = ma.fields.List(
        ma.fields.Nested(ClaimMatchSchema),
        required=True,
        metadata={
            "description": "Fact-checks, ours and imported, that review the same claim: "
            "confirmed ones first, then by confidence; rejected ones never"
        },
    )
    verdicts = ma.fields.List(ma.fields.Nested(VerdictSchema), required=True)
    agreement = ma.fields.String(
        required=True,
        metadata={"description": "unanimous, split, single or none: reviewers' current ratings"},
    )
    similar = ma.fields.List(
        ma.fields.Nested(SimilarClaimSchema),
        required=True,
        metadata={
            "description": "Up to 5 claims of other articles whose words are at least "
            "FACTCHECK_SIMILAR_MIN_JACCARD similar (default 0.5), or whose meaning is at least "
            "FACTCHECK_SIMILAR_MIN_COSINE near (default 0.9) with no number, unit, date, name "
            "or negation disagreeing; most similar first (the larger of the two), then newest; "
            "empty for boilerplate (bylines, metadata, captions, credits)"
        },
    )
    seen_in = ma.fields.Nested(SeenInSchema, required=True)
