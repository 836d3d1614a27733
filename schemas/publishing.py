"""Linked-data documents: schema.org ClaimReview and W3C Web Annotation (JSON-LD).

The output schemas document what `service.domain.publishing` builds; the `@` keys of JSON-LD
are declared with `data_key`.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas.common import (
    ID_PART,
    MAX_LIMIT,
    OFFSET_PART,
    Cursor,
    PageQuerySchema,
    PageSchema,
    Timestamp,
)

MAX_ANNOTATION_TEXT = 100_000
# A feed cursor starts with a publication time in microseconds since 1970 (UTC): 17 digits
# reach the year 5138, where 18 could pass the last time a datetime holds (in the year 9999).
PUBLISHED_MICROSECONDS_PART = "[0-9]{1,17}"


def ld_type(value: str) -> ma.fields.String:
    return ma.fields.String(
        data_key="@type", required=True, metadata={"enum": [value], "example": value}
    )


# --------------------------------------------------------------------------------------------
# schema.org ClaimReview
# --------------------------------------------------------------------------------------------


class PartySchema(ma.Schema):
    type = ma.fields.String(
        data_key="@type", required=True, validate=ma.validate.OneOf(("Organization", "Person"))
    )
    name = ma.fields.String(required=True)
    url = ma.fields.String()


class RatingLDSchema(ma.Schema):
    type = ld_type("Rating")
    alternateName = ma.fields.String(
        required=True, metadata={"description": "The rating's label from the rating scale"}
    )
    ratingValue = ma.fields.Integer(
        metadata={"description": "Absent for ratings without a numeric value (misleading...)"}
    )
    bestRating = ma.fields.Integer()
    worstRating = ma.fields.Integer()


class CreativeWorkSchema(ma.Schema):
    type = ld_type("CreativeWork")
    url = ma.fields.String(metadata={"description": "The article's URL"})
    headline = ma.fields.String()
    datePublished = ma.fields.String(metadata={"format": "date"})


class ReviewedClaimSchema(ma.Schema):
    type = ld_type("Claim")
    author = ma.fields.Nested(PartySchema, metadata={"description": "The speaker, when known"})
    appearance = ma.fields.Nested(CreativeWorkSchema, required=True)
    datePublished = ma.fields.String(metadata={"format": "date"})


class ClaimReviewSchema(ma.Schema):
    context = ma.fields.String(
        data_key="@context", required=True, metadata={"example": "https://schema.org"}
    )
    type = ld_type("ClaimReview")
    url = ma.fields.String(required=True)
    claimReviewed = ma.fields.String(required=True)
    datePublished = ma.fields.String(
        required=True,
        metadata={"format": "date", "description": "First publication (kept by corrections)"},
    )
    dateModified = ma.fields.String(
        metadata={"format": "date-time", "description": "Present on corrections"}
    )
    author = ma.fields.Nested(PartySchema, required=True)
    reviewRating = ma.fields.Nested(RatingLDSchema, required=True)
    itemReviewed = ma.fields.Nested(ReviewedClaimSchema, required=True)
    reviewBody = ma.fields.String(required=True)


class ClaimReviewPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ClaimReviewSchema), required=True)


class ClaimReviewQuerySchema(PageQuerySchema):
    cursor = Cursor(
        PUBLISHED_MICROSECONDS_PART,
        ID_PART,
        metadata={"description": "`next_cursor` from the previous page"},
    )
    published_after = Timestamp(metadata={"description": "Published at or after"})
    published_before = Timestamp(metadata={"description": "Published before"})


# --------------------------------------------------------------------------------------------
# W3C Web Annotation
# --------------------------------------------------------------------------------------------


class SelectorSchema(ma.Schema):
    """A TextQuoteSelector (exact, prefix, suffix) or a TextPositionSelector (start, end)."""

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(
        required=True,
        validate=ma.validate.Length(min=1, max=100),
        metadata={"example": "TextQuoteSelector"},
    )
    exact = ma.fields.String(validate=ma.validate.Length(min=1, max=MAX_ANNOTATION_TEXT))
    prefix = ma.fields.String(validate=ma.validate.Length(max=MAX_ANNOTATION_TEXT))
    suffix = ma.fields.String(validate=ma.validate.Length(max=MAX_ANNOTATION_TEXT))
    start = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=2**31 - 1))
    end = ma.fields.Integer(strict=True, validate=ma.validate.Range(min=0, max=2**31 - 1))

    @ma.validates_schema
    def complete(self, data: dict[str, Any], **_kwargs: Any) -> None:
        if data["type"] == "TextQuoteSelector" and "exact" not in data:
            raise ma.ValidationError("A TextQuoteSelector needs `exact`.", "exact")
        if data["type"] == "TextPositionSelector":
            if "start" not in data or "end" not in data:
                raise ma.ValidationError("A TextPositionSelector needs `start` and `end`.")
            if data["start"] >= data["end"]:
                raise ma.ValidationError("`start` must be less than `end`.", "end")


class SelectorListField(ma.fields.Field):
    """One selector or a list of them, as the Web Annotation model allows."""

    def _deserialize(self, value: Any, attr: Any, data: Any, **kwargs: Any) -> Any:
        items = value if isinstance(value, list) else [value]
        if not items or len(items) > 10:
            raise ma.ValidationError("Send one to ten selectors.")
        return SelectorSchema(many=True).load(items)


class TargetSchema(ma.Schema):
    class Meta:
        unknown = ma.INCLUDE

    source = ma.fields.String(validate=ma.validate.Length(min=1, max=2_000))
    selector = SelectorListField(
        required=True,
        metadata={
            "description": "A selector or a list of them",
            "oneOf": [
                {"$ref": "#/components/schemas/Selector"},
                {
                    "type": "array",
                    "items": {"$ref": "#/components/schemas/Selector"},
                    "minItems": 1,
                    "maxItems": 10,
                },
            ],
        },
    )


class AnnotationInSchema(ma.Schema):
    """A W3C Web Annotation made elsewhere; its target's selectors locate the claim."""

    class Meta:
        unknown = ma.INCLUDE

    context = ma.fields.Raw(
        data_key="@context",
        allow_none=True,
        metadata={"description": "Usually http://www.w3.org/ns/anno.jsonld; not checked"},
    )
    type = ma.fields.String(
        validate=ma.validate.Equal("Annotation"),
        metadata={"enum": ["Annotation"], "example": "Annotation"},
    )
    target = ma.fields.Nested(TargetSchema, required=True)


class TextualBodySchema(ma.Schema):
    """A body: a TextualBody (value, purpose), or an evidence link (id, purpose linking)."""

    id = ma.fields.String()
    type = ma.fields.String(required=True)
    purpose = ma.fields.String(
        validate=ma.validate.OneOf(("tagging", "describing", "assessing", "linking"))
    )
    value = ma.fields.String()
    title = ma.fields.String()
    stance = ma.fields.String(metadata={"description": "Evidence stance (an extension term)"})


class AnnotationTargetSchema(ma.Schema):
    source = ma.fields.String(required=True)
    selector = ma.fields.List(ma.fields.Nested(SelectorSchema), required=True)


class AnnotationSchema(ma.Schema):
    id = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"example": "Annotation"})
    motivation = ma.fields.String(
        required=True, validate=ma.validate.OneOf(("highlighting", "assessing"))
    )
    creator = ma.fields.Dict()
    created = ma.fields.String(metadata={"format": "date-time"})
    generated = ma.fields.String(metadata={"format": "date-time"})
    body = ma.fields.List(ma.fields.Nested(TextualBodySchema))
    target = ma.fields.Nested(AnnotationTargetSchema, required=True)


class AnnotationPageSchema(ma.Schema):
    id = ma.fields.String(required=True)
    type = ma.fields.String(required=True, metadata={"example": "AnnotationPage"})
    part_of = ma.fields.String(data_key="partOf", metadata={"description": "The collection"})
    items = ma.fields.List(ma.fields.Nested(AnnotationSchema), required=True)
    next = ma.fields.String(metadata={"description": "The next page; absent on the last"})


class AnnotationCollectionSchema(ma.Schema):
    """An AnnotationCollection with its first page embedded; with `cursor`, that page
    alone (type AnnotationPage: `partOf`, `items`, `next`)."""

    context = ma.fields.String(
        data_key="@context",
        required=True,
        metadata={"example": "http://www.w3.org/ns/anno.jsonld"},
    )
    id = ma.fields.String(required=True)
    type = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(("AnnotationCollection", "AnnotationPage")),
        metadata={"example": "AnnotationCollection"},
    )
    label = ma.fields.String()
    total = ma.fields.Integer(metadata={"description": "Annotations in the whole collection"})
    first = ma.fields.Nested(AnnotationPageSchema)
    part_of = ma.fields.String(data_key="partOf")
    items = ma.fields.List(ma.fields.Nested(AnnotationSchema))
    next = ma.fields.String()


class AnnotationQuerySchema(ma.Schema):
    checkworthy = ma.fields.Boolean(
        metadata={"description": "Only check-worthy claims (true) or only the rest (false)"}
    )
    limit = ma.fields.Integer(
        load_default=MAX_LIMIT,
        validate=ma.validate.Range(min=1, max=MAX_LIMIT),
        metadata={"description": f"Claims per page (each with its verdict), at most {MAX_LIMIT}"},
    )
    cursor = Cursor(  # the last claim's start, end and id
        OFFSET_PART,
        OFFSET_PART,
        ID_PART,
        metadata={"description": "From a page's `next` link: that page alone"},
    )
