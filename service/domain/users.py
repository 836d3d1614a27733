"""Users and their bearer tokens."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from service.auth import hash_token, new_token
from service.domain import Conflict
from service.domain.audit import record
from service.models import ROLES, ApiToken, User


@dataclass(frozen=True)
class IssuedToken:
    user_id: int
    name: str
    role: str
    token: str


def create_user(session: Session, name: str, role: str, *, actor: str) -> IssuedToken:
    """Create a user with a first token; the token is returned once and stored hashed."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if session.scalar(select(User.id).where(User.name == name)) is not None:
        raise Conflict(f"A user named {name!r} already exists.")
    user = User(name=name, role=role)
    session.add(user)
    session.flush()
    token = issue_token(session, user)
    record(session, actor, "user.created", "user", user.id, after={"name": name, "role": role})
    return IssuedToken(user_id=user.id, name=name, role=role, token=token)


def issue_token(session: Session, user: User) -> str:
    token = new_token()
    session.add(ApiToken(user_id=user.id, token_hash=hash_token(token), prefix=token[:12]))
    session.flush()
    return token
