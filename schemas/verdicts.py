"""Verdicts, their evidence, and the rating scale."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas.common import Timestamp, http_url, nonblank_text, text
from service.vocabulary import STANCES, VERDICT_STATUSES

MAX_EVIDENCE = 50


class EvidenceSchema(ma.Schema):
    """A source backing (or refuting, or giving context to) a verdict."""

    class Meta:
        unknown = ma.RAISE

    url = http_url(required=True, metadata={"example": "https://stats.example.gov/labour/2026"})
    title = text(1, 500, allow_none=True)
    publisher = text(1, 200, allow_none=True)
    excerpt = text(1, 5_000, allow_none=True, metadata={"description": "Quoted passage"})
    stance = ma.fields.String(required=True, validate=ma.validate.OneOf(STANCES))
    archived_url = http_url(allow_none=True)
    accessed_at = Timestamp(allow_none=True)


class VerdictFieldsSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    rating = ma.fields.String(
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "A key of the rating scale (GET /api/v1/ratings)"},
    )
    summary = nonblank_text(max_length=2_000)
    rationale = text(0, 50_000, allow_none=True)
    confidence = ma.fields.Float(allow_none=True, validate=ma.validate.Range(min=0.0, max=1.0))
    evidence = ma.fields.List(
        ma.fields.Nested(EvidenceSchema), validate=ma.validate.Length(max=MAX_EVIDENCE)
    )


class VerdictInSchema(VerdictFieldsSchema):
    """A new verdict: rating and summary are required."""

    rating = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=50),
        metadata={"description": "A key of the rating scale (GET /api/v1/ratings)"},
    )
    summary = nonblank_text(max_length=2_000, required=True)


class VerdictPatchSchema(VerdictFieldsSchema):
    """Changes to a proposed verdict; `evidence`, when sent, replaces the whole list."""

    @ma.validates_schema
    def something_to_change(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if not data:
            raise ma.ValidationError("Send at least one field to change.", "_schema")


class CorrectionInSchema(VerdictFieldsSchema):
    """A correction: what changes (the rest is kept) and why, shown with the verdict."""

    reason = nonblank_text(max_length=2_000, required=True)


class EvidenceOutSchema(ma.Schema):
    url = ma.fields.String(required=True)
    title = ma.fields.String(allow_none=True)
    publisher = ma.fields.String(allow_none=True)
    excerpt = ma.fields.String(allow_none=True)
    stance = ma.fields.String(required=True)
    archived_url = ma.fields.String(allow_none=True)
    accessed_at = ma.fields.DateTime(allow_none=True)


class VerdictSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    claim_id = ma.fields.Integer(required=True)
    author = ma.fields.String(required=True)
    rating = ma.fields.String(required=True)
    rating_label = ma.fields.String(allow_none=True)
    rating_value = ma.fields.Integer(allow_none=True)
    summary = ma.fields.String(required=True)
    rationale = ma.fields.String(allow_none=True)
    confidence = ma.fields.Float(allow_none=True)
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(VERDICT_STATUSES))
    version = ma.fields.Integer(required=True, metadata={"description": "Also the ETag"})
    supersedes_id = ma.fields.Integer(allow_none=True)
    correction_reason = ma.fields.String(allow_none=True)
    published_at = ma.fields.DateTime(allow_none=True)
    published_by = ma.fields.String(allow_none=True)
    created_at = ma.fields.DateTime(required=True)
    updated_at = ma.fields.DateTime(required=True)
    evidence = ma.fields.List(ma.fields.Nested(EvidenceOutSchema), required=True)


class RatingSchema(ma.Schema):
    key = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    value = ma.fields.Integer(allow_none=True)


class RatingScaleSchema(ma.Schema):
    ratings = ma.fields.List(ma.fields.Nested(RatingSchema), required=True)
