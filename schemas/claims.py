"""Claims as the API returns them."""

from __future__ import annotations

import marshmallow as ma

from schemas.common import Cursor, PageQuerySchema, PageSchema


class ClaimSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    article_id = ma.fields.Integer(required=True)
    revision = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)
    start = ma.fields.Integer(
        required=True, metadata={"description": "Code-point offset: body[start:end] == text"}
    )
    end = ma.fields.Integer(required=True)
    prefix = ma.fields.String(required=True)
    suffix = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    checkworthiness = ma.fields.Float(allow_none=True)
    checkworthy = ma.fields.Boolean(allow_none=True)
    types = ma.fields.List(ma.fields.String())
    speaker = ma.fields.String(allow_none=True)
    quantities = ma.fields.List(ma.fields.Dict())
    dates = ma.fields.List(ma.fields.Dict())
    entities = ma.fields.List(ma.fields.Dict())
    language = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True)
    origin = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)


class ClaimPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(ClaimSchema), required=True)


class ArticleClaimsQuerySchema(PageQuerySchema):
    cursor = Cursor(arity=2, metadata={"description": "`next_cursor` from the previous page"})
    checkworthy = ma.fields.Boolean()
