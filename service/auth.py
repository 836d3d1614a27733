"""Bearer tokens, roles, and the permission decorator every API view declares."""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import current_app, g, request
from flask_smorest import abort
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from service.domain import EVERYTHING, Scope
from service.domain.organizations import desk_organization_id
from service.domain.users import hash_token
from service.models import ApiToken, User
from service.vocabulary import OUTSIDE_ROLES, PERMISSIONS

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Principal:
    """Who is calling: a stored user, or the bootstrap admin (user_id None, acting for the
    desk's organisation)."""

    user_id: int | None
    name: str
    role: str
    organization_id: int

    @property
    def actor(self) -> str:
        return self.name

    @property
    def scope(self) -> Scope:
        """What this caller may read (the domain applies it)."""
        if self.role in OUTSIDE_ROLES:
            return Scope(organization_id=self.organization_id, published_only=True)
        return EVERYTHING


# Built once: every request runs it, and building and keying it again cost more than the
# index lookup itself.
_TOKEN_OWNER = (
    select(User.id, User.name, User.role, User.organization_id)
    .join(ApiToken, ApiToken.user_id == User.id)
    .where(
        ApiToken.token_hash == bindparam("digest"),
        ApiToken.revoked_at.is_(None),
        User.disabled_at.is_(None),
    )
)


def authenticate(session: Session, token: str, admin_token: str | None) -> Principal | None:
    """The principal a token belongs to, or None if it is unknown, revoked or disabled."""
    digest = hash_token(token)
    if admin_token and hmac.compare_digest(digest, hash_token(admin_token)):
        return Principal(
            user_id=None,
            name="bootstrap-admin",
            role="admin",
            organization_id=desk_organization_id(session),
        )
    # On the session's connection, as queue pages read: a plain row needs none of the ORM.
    row = session.connection().execute(_TOKEN_OWNER, {"digest": digest}).first()
    if row is None:
        return None
    return Principal(row.id, row.name, row.role, row.organization_id)


def _bearer_token() -> str | None:
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    token = token.strip()
    return token if scheme.lower() == "bearer" and token else None


# Per request, not on `g`: a test (or a CLI command) holding an app context would share `g`
# between the requests it makes.
_CALLER = "factcheck.caller"
# Who is signed in to the desk (service.desk.sessions puts it there when it opens the
# request's session): the desk's pages are called by a session, never by a bearer token.
DESK_CALLER = "factcheck.desk_caller"


def caller() -> Principal | None:
    """Whom the request's bearer token belongs to (None without a valid token), looked up
    once per request: the rate limiter keys on it before the view checks its permission."""
    environ = request.environ
    if DESK_CALLER in environ:
        desk: Principal | None = environ[DESK_CALLER]
        return desk
    if _CALLER not in environ:
        token = _bearer_token()
        services = current_app.extensions["factcheck"]
        environ[_CALLER] = (
            None
            if token is None
            else authenticate(services.session(), token, services.settings.admin_token)
        )
    principal: Principal | None = environ[_CALLER]
    return principal


def token_key() -> str:
    """The request's token as a rate-limit key: a prefix of its digest, never the token; on
    the desk, the signed-in user's (all their sessions count as one token)."""
    desk = request.environ.get(DESK_CALLER)
    if desk is not None:
        return f"desk-user-{desk.user_id}"
    token = _bearer_token()
    return hash_token(token)[:32] if token else ""


def guard(
    permission: str,
    *,
    signed_out: Callable[[], Any],
    refused: Callable[[Principal], Any],
    mark: str,
) -> Callable[[F], F]:
    """Serve the view only to a caller whose role holds `permission`; otherwise answer
    `signed_out()` (no caller) or `refused(principal)`. The view is marked with the
    permission under the attribute `mark` (what registration checks). The API's `require`
    and the desk's `needs` differ only in how they refuse."""
    if permission not in PERMISSIONS:
        raise ValueError(f"unknown permission {permission!r}")
    roles = PERMISSIONS[permission]

    def decorate(view: F) -> F:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            principal = caller()
            if principal is None:
                return signed_out()
            if principal.role not in roles:
                return refused(principal)
            g.principal = principal
            return view(*args, **kwargs)

        setattr(wrapper, mark, permission)
        return wrapper  # type: ignore[return-value]

    return decorate


def refusal(principal: Principal, permission: str) -> str:
    """Why the caller is refused: the same words from the API and the desk."""
    return f"The {principal.role} role may not {permission}."


def require(permission: str) -> Callable[[F], F]:
    """Refuse the view unless the caller's token grants `permission` (401, then 403)."""

    def signed_out() -> None:
        abort(
            401,
            message="A valid bearer token is required.",
            headers={"WWW-Authenticate": 'Bearer realm="factcheck"'},
        )

    def refused(principal: Principal) -> None:
        abort(403, message=refusal(principal, permission))

    return guard(permission, signed_out=signed_out, refused=refused, mark="required_permission")


def public(view: F) -> F:
    """Mark a view as open to anyone (health checks only)."""
    view.public = True  # type: ignore[attr-defined]
    return view


def current_principal() -> Principal:
    principal: Principal = g.principal
    return principal
