"""Users and their tokens."""

from __future__ import annotations

import marshmallow as ma

from schemas.common import PageQuerySchema, PageSchema, Pattern

ROLES = ("admin", "editor", "reviewer", "newsroom", "viewer")


class UserInSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(
        required=True,
        validate=[
            ma.validate.Length(min=1, max=100),
            Pattern(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$", error="Letters, digits, . _ @ -"),
        ],
    )
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class UserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)
    disabled_at = ma.fields.DateTime(allow_none=True)


class IssuedTokenSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, required=True)
    token = ma.fields.String(
        required=True, metadata={"description": "Shown this once; only its digest is stored"}
    )


class TokenSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    prefix = ma.fields.String(
        required=True, metadata={"description": "The token's first characters, to recognise it"}
    )
    created_at = ma.fields.DateTime(required=True)
    revoked_at = ma.fields.DateTime(allow_none=True)


class TokenPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(TokenSchema), required=True)


class UserPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(UserSchema), required=True)


class UserListQuerySchema(PageQuerySchema):
    pass
