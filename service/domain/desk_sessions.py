"""The reviewer desk's sessions and one-time sign-in links, stored server-side.

A browser holds only a random value in its cookie; the database holds its SHA-256 digest,
as it does for API tokens. A session names the user it was signed in as and, when signed in
with a token, that token: each request reads the session with its user and token, so a
disabled user or a revoked token ends the session at once, and the role a session acts with
is always the user's current one.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from service.domain import InvalidState
from service.domain.audit import record
from service.domain.users import hash_token
from service.models import ApiToken, DeskLoginLink, DeskSession, ServiceKey, User

# What one purge removes at most: expired sessions go a batch at a time, each time a
# session is made, so no request pays for a backlog.
PURGE_BATCH = 100
CSRF_KEY_NAME = "desk_csrf"
LOGIN_LINK_PREFIX = "fcl_"


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lasts idle, and at most."""

    idle: timedelta
    most: timedelta


@dataclass(frozen=True)
class StoredSession:
    """A session as a request finds it. `user_id` and the rest are None before sign-in, and
    when its user was disabled or its token revoked since."""

    id: int
    data: dict[str, Any]
    seen_seconds_ago: float
    user_id: int | None
    name: str | None
    role: str | None
    organization_id: int | None


def new_value() -> str:
    """A cookie's random value (256 bits)."""
    return secrets.token_urlsafe(32)


# Built once: every desk request runs it.
_FIND = (
    select(
        DeskSession.id,
        DeskSession.data,
        func.extract("epoch", func.now() - DeskSession.seen_at).label("seen_seconds_ago"),
        User.id.label("user_id"),
        User.name,
        User.role,
        User.organization_id,
    )
    .outerjoin(
        ApiToken,
        (ApiToken.id == DeskSession.api_token_id) & ApiToken.revoked_at.is_(None),
    )
    .outerjoin(
        User,
        (User.id == DeskSession.user_id)
        & User.disabled_at.is_(None)
        & ((DeskSession.api_token_id.is_(None)) | ApiToken.id.is_not(None)),
    )
    .where(
        DeskSession.token_hash == bindparam("digest"),
        DeskSession.expires_at > func.now(),
        DeskSession.ends_at > func.now(),
    )
)


def find_session(connection: Connection, value: str) -> StoredSession | None:
    """The live session whose cookie holds `value`, or None (unknown or expired)."""
    row = connection.execute(_FIND, {"digest": hash_token(value)}).first()
    if row is None:
        return None
    return StoredSession(
        row.id,
        dict(row.data),
        float(row.seen_seconds_ago),
        row.user_id,
        row.name,
        row.role,
        row.organization_id,
    )


def create_session(
    connection: Connection,
    data: dict[str, Any],
    lifetimes: Lifetimes,
    *,
    user_id: int | None = None,
    api_token_id: int | None = None,
) -> str:
    """A new session holding `data` (signed in when `user_id` is given); returns the value
    its cookie carries. Removes a batch of expired sessions first."""
    purge_expired(connection)
    value = new_value()
    connection.execute(
        insert(DeskSession).values(
            token_hash=hash_token(value),
            user_id=user_id,
            api_token_id=api_token_id,
            data=data,
            expires_at=func.least(func.now() + lifetimes.idle, func.now() + lifetimes.most),
            ends_at=func.now() + lifetimes.most,
        )
    )
    return value


def save_data(
    connection: Connection, session_id: int, data: dict[str, Any], lifetimes: Lifetimes
) -> None:
    """Store the session's data and move its idle expiry on."""
    connection.execute(
        update(DeskSession)
        .where(DeskSession.id == session_id)
        .values(data=data, **_seen_now(lifetimes))
    )


def touch(connection: Connection, session_id: int, lifetimes: Lifetimes) -> None:
    """Move the idle expiry on (the session was used)."""
    connection.execute(
        update(DeskSession).where(DeskSession.id == session_id).values(**_seen_now(lifetimes))
    )


def _seen_now(lifetimes: Lifetimes) -> dict[str, Any]:
    return {
        "seen_at": func.now(),
        "expires_at": func.least(func.now() + lifetimes.idle, DeskSession.ends_at),
    }


def end_session(connection: Connection, session_id: int) -> None:
    connection.execute(delete(DeskSession).where(DeskSession.id == session_id))


def purge_expired(connection: Connection, batch: int = PURGE_BATCH) -> int:
    """Remove up to `batch` expired sessions; returns how many went."""
    # expires_at never passes ends_at, so its index finds every session that has ended.
    expired = (
        select(DeskSession.id)
        .where(DeskSession.expires_at <= func.now())
        .limit(batch)
        .scalar_subquery()
    )
    result = connection.execute(delete(DeskSession).where(DeskSession.id.in_(expired)))
    return result.rowcount or 0


@dataclass(frozen=True)
class SignIn:
    """Who signs in: the user, and the token used (None for a sign-in link)."""

    user_id: int
    name: str
    api_token_id: int | None


def sign_in_with_token(session: Session, token: str) -> SignIn | None:
    """The user of a live token, or None (unknown, revoked, or its user disabled)."""
    row = session.execute(
        select(User.id, User.name, ApiToken.id.label("token_id"))
        .join(ApiToken, ApiToken.user_id == User.id)
        .where(
            ApiToken.token_hash == hash_token(token.strip()),
            ApiToken.revoked_at.is_(None),
            User.disabled_at.is_(None),
        )
    ).first()
    return None if row is None else SignIn(row.id, row.name, row.token_id)


def create_login_link(session: Session, user: User, *, actor: str, lifetime: timedelta) -> str:
    """A one-time sign-in token for `user`, usable until `lifetime` from now; returned once,
    stored as its digest."""
    if user.disabled_at is not None:
        raise InvalidState(f"User {user.name!r} is disabled.")
    token = LOGIN_LINK_PREFIX + new_value()
    session.add(
        DeskLoginLink(
            token_hash=hash_token(token),
            user_id=user.id,
            created_by=actor,
            expires_at=func.now() + lifetime,
        )
    )
    session.flush()
    record(session, actor, "login_link.created", "user", user.id)
    return token


def use_login_link(session: Session, token: str) -> SignIn | None:
    """Spend a sign-in link: its user, or None if it is unknown, used, expired, or its user
    was disabled since. A link works once, even if two requests race for it."""
    user_id = session.scalar(
        update(DeskLoginLink)
        .where(
            DeskLoginLink.token_hash == hash_token(token),
            DeskLoginLink.used_at.is_(None),
            DeskLoginLink.expires_at > func.now(),
        )
        .values(used_at=func.now())
        .returning(DeskLoginLink.user_id)
    )
    if user_id is None:
        return None
    name = session.scalar(select(User.name).where(User.id == user_id, User.disabled_at.is_(None)))
    if name is None:
        return None
    record(session, name, "login_link.used", "user", user_id)
    return SignIn(user_id, name, None)


def csrf_key(connection: Connection) -> str:
    """The key the desk signs its CSRF tokens with: the one migration 0020 made, or, should
    that row be gone, a new one (every API process then reads the same)."""
    connection.execute(
        pg_insert(ServiceKey)
        .values(name=CSRF_KEY_NAME, value=secrets.token_hex(32))
        .on_conflict_do_nothing(index_elements=[ServiceKey.name])
    )
    return str(connection.scalar(select(ServiceKey.value).where(ServiceKey.name == CSRF_KEY_NAME)))
