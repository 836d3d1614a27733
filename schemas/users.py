"""Users and their tokens."""

from __future__ import annotations

import marshmallow as ma

from schemas.common import PageQuerySchema, PageSchema, Pattern
from service.vocabulary import ROLES

# User and organisation names: short, and safe in a shell and a URL.
NAME = [
    ma.validate.Length(min=1, max=100),
    Pattern(r"^[A-Za-z0-9][A-Za-z0-9._@-]*$", error="Letters, digits, . _ @ -"),
]


class UserInSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    name = ma.fields.String(required=True, validate=NAME)
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    organization = ma.fields.String(
        validate=NAME,
        metadata={
            "description": "Whom the user works for (default the desk's own, `desk`), "
            "created on first use. A newsroom reads its own organisation's articles only."
        },
    )


class UserSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    organization = ma.fields.String(required=True, attribute="organization.name")
    created_at = ma.fields.DateTime(required=True)
    disabled_at = ma.fields.DateTime(allow_none=True)


class IssuedTokenSchema(ma.Schema):
    user = ma.fields.Nested(UserSchema, required=True)
    token = ma.fields.String(
        required=True, metadata={"description": "Shown this once; only its digest is stored"}
    )
    organization_created = ma.fields.Boolean(
        required=True,
        metadata={"description": "The user's organisation is new: it was made for this user"},
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
