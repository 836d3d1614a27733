"""Users and their bearer tokens."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from service.domain import Conflict, InvalidState, NotFound, load
from service.domain.audit import record
from service.domain.organizations import find_or_create_organization
from service.models import DESK_ORGANIZATION, ApiToken, DeskSession, User
from service.vocabulary import ROLES

TOKEN_PREFIX = "fct_"  # noqa: S105 (a marker, not a secret)


def new_token() -> str:
    """A random bearer token (256 bits), shown to its owner once."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """Tokens are high-entropy random strings, so a plain SHA-256 digest is a safe lookup key."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class IssuedToken:
    user_id: int
    name: str
    role: str
    token: str
    organization: str
    # Whether the user's organisation was made for it (its first user).
    organization_created: bool = False


def create_user(
    session: Session,
    name: str,
    role: str,
    *,
    actor: str,
    organization: str | None = None,
) -> IssuedToken:
    """Create a user of `organization` (default the desk's own) with a first token; the
    token is returned once and stored hashed. An organisation not known yet is created."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"A user named {name!r} already exists.")
    organization = organization or DESK_ORGANIZATION
    found = find_or_create_organization(session, organization, actor=actor)
    user = User(name=name, role=role, organization=found.organization)
    session.add(user)
    session.flush()
    token = issue_token(session, user)
    record(
        session, actor, "user.created", "user", user.id,
        after={"name": name, "role": role, "organization": organization},
    )  # fmt: skip
    return IssuedToken(user.id, name, role, token, organization, found.created)


def issue_token(session: Session, user: User) -> str:
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:12]))
    session.flush()
    return token


def get_user(session: Session, user_id: int) -> User:
    return load(session, User, user_id)


def find_user(session: Session, name: str) -> User:
    user = session.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"No user named {name!r}.")
    return user


def list_users(session: Session, *, limit: int, after_id: int | None = None) -> list[User]:
    statement = select(User).order_by(User.id).limit(limit)
    if after_id is not None:
        statement = statement.where(User.id > after_id)
    return list(session.scalars(statement))


def list_tokens(
    session: Session, user_id: int, *, limit: int, after_id: int | None = None
) -> list[ApiToken]:
    """A user's tokens, oldest first: their prefixes and dates, never a secret or digest."""
    get_user(session, user_id)
    statement = (
        select(ApiToken).where(ApiToken.user_id == user_id).order_by(ApiToken.id).limit(limit)
    )
    if after_id is not None:
        statement = statement.where(ApiToken.id > after_id)
    return list(session.scalars(statement))


def revoke_token(session: Session, user_id: int, token_id: int, *, actor: str) -> ApiToken:
    """Revoke one of a user's tokens (a leaked one, say); the user stays enabled and may be
    issued a new one by rotation. Revoking a revoked token changes nothing."""
    get_user(session, user_id)
    token = session.scalar(
        select(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.user_id == user_id)
        .with_for_update()
    )
    if token is None:
        raise NotFound(f"User {user_id} has no token {token_id}.")
    if token.revoked_at is None:
        token.revoked_at = func.now()
        session.flush()
        session.refresh(token)
        record(
            session, actor, "token.revoked", "user", user_id,
            after={"token_id": token.id, "prefix": token.prefix},
        )  # fmt: skip
    return token


def _revoke_all(session: Session, user_id: int) -> int:
    result = session.execute(
        update(ApiToken)
        .where(ApiToken.user_id == user_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount or 0  # type: ignore[attr-defined]


def _end_desk_sessions(session: Session, user_id: int) -> None:
    """Sign the user out of the desk everywhere (sessions opened with a sign-in link hang on
    no token, so revoking tokens alone would leave them)."""
    session.execute(delete(DeskSession).where(DeskSession.user_id == user_id))


def rotate_token(session: Session, user_id: int, *, actor: str) -> IssuedToken:
    """A new token for the user; every older token stops working at once, and every desk
    session of the user ends."""
    user = get_user(session, user_id)
    if user.disabled_at is not None:
        raise InvalidState(f"User {user.name!r} is disabled.")
    revoked = _revoke_all(session, user.id)
    _end_desk_sessions(session, user.id)
    token = issue_token(session, user)
    record(session, actor, "token.rotated", "user", user.id, after={"revoked": revoked})
    return IssuedToken(user.id, user.name, user.role, token, user.organization.name)


def disable_user(session: Session, user_id: int, *, actor: str) -> User:
    """Disable a user, revoke every token and end every desk session; their past work stays
    attributed to them."""
    user = get_user(session, user_id)
    revoked = _revoke_all(session, user.id)
    _end_desk_sessions(session, user.id)
    if user.disabled_at is None:
        user.disabled_at = func.now()
    session.flush()
    session.refresh(user)
    record(session, actor, "user.disabled", "user", user.id, after={"revoked": revoked})
    return user
