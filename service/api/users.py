"""Users and tokens, for admins: create, list, rotate or revoke a token, disable (revoking
every token)."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas import examples
from schemas.common import PageQuerySchema
from schemas.users import (
    IssuedTokenSchema,
    TokenPageSchema,
    TokenSchema,
    UserInSchema,
    UserListQuerySchema,
    UserPageSchema,
    UserSchema,
)
from service.api import Blueprint, cursor_id, db, documented_errors, id_page
from service.auth import current_principal, require
from service.domain import users as domain
from service.models import ApiToken, User

blp = Blueprint("users", __name__, description="Users and their API tokens (admins only)")


def _issued(issued: domain.IssuedToken) -> dict[str, Any]:
    return {
        "user": domain.get_user(db(), issued.user_id),
        "token": issued.token,
        "organization_created": issued.organization_created,
    }


@blp.route("", methods=["POST"])
@require("users:manage")
@blp.arguments(UserInSchema, example=examples.USER)
@blp.response(201, IssuedTokenSchema)
@documented_errors(blp, 400, 409, 415)
def create_user(data: dict[str, Any]) -> dict[str, Any]:
    """Create a user with a first token. The token is in this response only.

    The user belongs to `organization` (default the desk's own), which is created if it is
    new.
    """
    return _issued(
        domain.create_user(
            db(),
            data["name"],
            data["role"],
            actor=current_principal().name,
            organization=data.get("organization"),
        )
    )


@blp.route("", methods=["GET"])
@require("users:manage")
@blp.arguments(UserListQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, UserPageSchema)
@documented_errors(blp)
def list_users(query: dict[str, Any]) -> dict[str, Any]:
    """Users in creation order (tokens are never listed: only their digests are stored)."""
    items = domain.list_users(db(), limit=query["limit"], after_id=cursor_id(query))
    return id_page(items, query["limit"])


@blp.route("/<int:user_id>/tokens", methods=["POST"])
@require("users:manage")
@blp.response(201, IssuedTokenSchema)
@documented_errors(blp, 404, 409)
def rotate_token(user_id: int) -> dict[str, Any]:
    """Issue a new token and revoke every older one at once (rotation)."""
    return _issued(domain.rotate_token(db(), user_id, actor=current_principal().name))


@blp.route("/<int:user_id>/tokens", methods=["GET"])
@require("users:manage")
@blp.arguments(PageQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, TokenPageSchema)
@documented_errors(blp, 404)
def list_tokens(query: dict[str, Any], user_id: int) -> dict[str, Any]:
    """A user's tokens, oldest first: id, prefix, created and revoked dates (never a secret)."""
    items = domain.list_tokens(db(), user_id, limit=query["limit"], after_id=cursor_id(query))
    return id_page(items, query["limit"])


@blp.route("/<int:user_id>/tokens/<int:token_id>", methods=["DELETE"])
@require("users:manage")
@blp.response(200, TokenSchema)
@documented_errors(blp, 404)
def revoke_token(user_id: int, token_id: int) -> ApiToken:
    """Revoke one token at once (the user stays enabled; rotation issues a new one)."""
    return domain.revoke_token(db(), user_id, token_id, actor=current_principal().name)


@blp.route("/<int:user_id>", methods=["DELETE"])
@require("users:manage")
@blp.response(200, UserSchema)
@documented_errors(blp, 404)
def disable_user(user_id: int) -> User:
    """Disable a user and revoke their tokens; their past work stays attributed."""
    return domain.disable_user(db(), user_id, actor=current_principal().name)
