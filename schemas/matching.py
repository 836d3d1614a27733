"""Fact-checks, their import, and matches of claims and text against them."""

from __future__ import annotations

import marshmallow as ma

from schemas.common import (
    DEFAULT_LIMIT,
    ID_PART,
    MAX_LIMIT,
    Cursor,
    TextOrSentencesSchema,
    nonblank_text,
)
from service.vocabulary import FACTCHECK_ORIGINS, MATCH_DECISIONS, MATCH_REVIEWS

# Records one POST /factchecks may carry; larger collections go through the CLI.
MAX_IMPORT_RECORDS = 1_000
MAX_QUERY_TEXT = 100_000
MAX_QUERY_SENTENCES = 100
MAX_QUERY_SENTENCE = 5_000
MAX_TOP = 50


class FactCheckSchema(ma.Schema):
    """A reviewed claim: what was claimed, its rating, by whom, where, on what terms."""

    id = ma.fields.Integer(required=True)
    key = ma.fields.String(
        required=True, metadata={"description": "Its review URL, or id:<value> without one"}
    )
    url = ma.fields.String(allow_none=True)
    claim = ma.fields.String(required=True)
    headline = ma.fields.String(allow_none=True)
    rating = ma.fields.String(allow_none=True, metadata={"description": "As published"})
    rating_key = ma.fields.String(
        allow_none=True, metadata={"description": "Its key on this service's scale, if any"}
    )
    publisher = ma.fields.String(allow_none=True)
    author = ma.fields.String(allow_none=True)
    claimant = ma.fields.String(allow_none=True)
    licence = ma.fields.String(
        allow_none=True, metadata={"description": "The terms it may be shown on (sdLicense)"}
    )
    date = ma.fields.String(allow_none=True, metadata={"description": "Review date, ISO 8601"})
    claim_date = ma.fields.String(allow_none=True)
    language = ma.fields.String(allow_none=True)
    origin = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(FACTCHECK_ORIGINS),
        metadata={"description": "imported, or desk: this desk's own published verdict"},
    )


class ImportErrorSchema(ma.Schema):
    location = ma.fields.String(
        required=True, metadata={"description": '"index 3", "line 7": where the record was'}
    )
    message = ma.fields.String(required=True)


class FactCheckImportSchema(ma.Schema):
    created = ma.fields.Integer(required=True)
    updated = ma.fields.Integer(required=True)
    unchanged = ma.fields.Integer(required=True)
    duplicates = ma.fields.Integer(
        required=True, metadata={"description": "Records sharing a key with a later one"}
    )
    ids = ma.fields.List(ma.fields.Integer(), required=True)
    errors = ma.fields.List(
        ma.fields.Nested(ImportErrorSchema),
        required=True,
        metadata={"description": "Records skipped, each with where it was and why"},
    )


class MatchSchema(ma.Schema):
    """A fact-check found for a query, how sure the matcher is, and why."""

    factcheck_id = ma.fields.Integer(required=True)
    url = ma.fields.String(allow_none=True)
    key = ma.fields.String(required=True)
    claim = ma.fields.String(required=True)
    confidence = ma.fields.Float(
        required=True,
        metadata={"description": "Calibrated probability (0..1) that it reviews the same claim"},
    )
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(MATCH_DECISIONS))
    reason = ma.fields.String(required=True)
    agrees = ma.fields.List(ma.fields.String(), required=True)
    disagrees = ma.fields.List(ma.fields.String(), required=True)
    refused_by = ma.fields.List(
        ma.fields.String(),
        required=True,
        metadata={"description": "The guards that disagree: number, unit, date, entity, negation"},
    )
    rating = ma.fields.String(allow_none=True)
    publisher = ma.fields.String(allow_none=True)
    licence = ma.fields.String(allow_none=True)
    date = ma.fields.String(allow_none=True)
    scores = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Float())


class MatchQuerySchema(TextOrSentencesSchema):
    """Exactly one of `text` (its check-worthy claims are matched) or `sentences`."""

    class Meta:
        unknown = ma.RAISE

    text = nonblank_text(max_length=MAX_QUERY_TEXT, metadata={"description": "A document"})
    sentences = ma.fields.List(
        nonblank_text(max_length=MAX_QUERY_SENTENCE),
        validate=ma.validate.Length(min=1, max=MAX_QUERY_SENTENCES),
        metadata={"description": "Each matched as it is"},
    )
    top = ma.fields.Integer(
        load_default=10,
        validate=ma.validate.Range(min=1, max=MAX_TOP),
        metadata={"description": "Matches per query, weak ones included"},
    )


class MatchResultSchema(ma.Schema):
    query = ma.fields.String(required=True)
    start = ma.fields.Integer(
        allow_none=True, metadata={"description": "The query's offset in `text`, if from text"}
    )
    end = ma.fields.Integer(allow_none=True)
    matches = ma.fields.List(ma.fields.Nested(MatchSchema), required=True)


class MatchResultsSchema(ma.Schema):
    suggest_threshold = ma.fields.Float(required=True)
    match_threshold = ma.fields.Float(required=True)
    results = ma.fields.List(ma.fields.Nested(MatchResultSchema), required=True)


class ClaimMatchSchema(ma.Schema):
    """A fact-check stored as a match of a claim, and a reviewer's word on it."""

    factcheck = ma.fields.Nested(FactCheckSchema, required=True)
    confidence = ma.fields.Float(required=True)
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(MATCH_DECISIONS))
    reason = ma.fields.String(required=True)
    agrees = ma.fields.List(ma.fields.String(), required=True)
    disagrees = ma.fields.List(ma.fields.String(), required=True)
    review = ma.fields.String(allow_none=True, validate=ma.validate.OneOf(MATCH_REVIEWS))
    reviewed_by = ma.fields.String(allow_none=True)
    reviewed_at = ma.fields.DateTime(allow_none=True)


class MatchReviewSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    review = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(MATCH_REVIEWS),
        metadata={"description": "confirmed (shown first) or rejected (never shown again)"},
    )


class ReviewedMatchSchema(ma.Schema):
    """A reviewed match as evaluation data."""

    claim_id = ma.fields.Integer(required=True)
    article_id = ma.fields.Integer(required=True)
    query = ma.fields.String(required=True)
    factcheck_id = ma.fields.Integer(required=True)
    factcheck_key = ma.fields.String(required=True)
    factcheck_claim = ma.fields.String(required=True)
    relevant = ma.fields.Boolean(required=True)
    confidence = ma.fields.Float(required=True)
    decision = ma.fields.String(required=True)
    reviewed_at = ma.fields.DateTime(required=True)


class ReviewedMatchPageSchema(ma.Schema):
    items = ma.fields.List(ma.fields.Nested(ReviewedMatchSchema), required=True)
    next_cursor = ma.fields.String(allow_none=True, required=True)


class ReviewedMatchQuerySchema(ma.Schema):
    cursor = Cursor(ID_PART, ID_PART, metadata={"description": "`next_cursor` of the last page"})
    limit = ma.fields.Integer(
        load_default=DEFAULT_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Page size, at most {MAX_LIMIT}"},
    )


class FactCheckImportInSchema(ma.Schema):
    """What POST /factchecks reads, documented: one ClaimReview, a DataFeed of them, or
    `format` and `content` (JSON Lines, CSV or TSV text). An array of ClaimReviews or flat
    records (claim, url, rating, publisher, date, language, licence, ...) is read too.
    Never loaded through this schema: workers.matching.records reads the body and reports
    each bad record with where it was."""

    class Meta:
        unknown = ma.INCLUDE

    type_ = ma.fields.String(data_key="@type", metadata={"example": "ClaimReview"})
    url = ma.fields.String(metadata={"description": "The review's URL: what identifies it"})
    claimReviewed = ma.fields.String()
    reviewRating = ma.fields.Dict(
        metadata={"description": "A schema.org Rating; its alternateName is the rating"}
    )
    author = ma.fields.Dict(metadata={"description": "The publisher (an Organization)"})
    datePublished = ma.fields.String()
    sdLicense = ma.fields.String(metadata={"description": "The licence it is published under"})
    dataFeedElement = ma.fields.List(ma.fields.Dict())
    format = ma.fields.String(
        validate=ma.validate.OneOf(("jsonl", "csv", "tsv", "jsonld")),
        metadata={"description": "With `content`: the text's format"},
    )
    content = ma.fields.String(metadata={"description": "With `format`: the file's text"})
