"""Claims as the API returns them."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas.common import Cursor, PageQuerySchema, PageSchema


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


class ExtractedClaimSchema(ma.Schema):
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
        metadata={"description": "sentence, clause (of a compound sentence), headline, ..."},
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
    quantities = ma.fields.List(ma.fields.Nested(QuantitySchema))
    dates = ma.fields.List(ma.fields.Nested(DateSchema))
    entities = ma.fields.List(ma.fields.Nested(EntitySchema))
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
    created_at = ma.fields.DateTime(required=True)


class ClaimPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ClaimSchema), required=True)


class ArticleClaimsQuerySchema(PageQuerySchema):
    cursor = Cursor(arity=2, metadata={"description": "`next_cursor` from the previous page"})
    checkworthy = ma.fields.Boolean()
