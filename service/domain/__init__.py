"""Business logic: plain functions taking a SQLAlchemy Session and validated data.

Nothing here imports Flask; errors are the domain errors below, mapped to HTTP in one place
(`service.errors`).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, undefer

T = TypeVar("T")


class DomainError(Exception):
    """Base of every error the domain raises on purpose."""

    title = "Error"

    def __init__(self, detail: str, **extra: object) -> None:
        super().__init__(detail)
        self.detail = detail
        self.extra = extra


class NotFound(DomainError):
    title = "Not found"


class Conflict(DomainError):
    title = "Conflict"


class PermissionDenied(DomainError):
    title = "Forbidden"


class InvalidState(DomainError):
    title = "Invalid state"


class Unprocessable(DomainError):
    """Well-formed input that cannot be applied, e.g. an annotation whose text is not there."""

    title = "Unprocessable input"


class PreconditionFailed(DomainError):
    """The caller's copy is stale (its If-Match names an older version)."""

    title = "Precondition failed"


@dataclass(frozen=True)
class Actor:
    """Who acts: the stored user (None for the bootstrap admin), its name and role."""

    user_id: int | None
    name: str
    role: str


@dataclass(frozen=True)
class Scope:
    """What a caller may read.

    The desk's roles read everything (the default). A newsroom reads the articles of its
    own organisation (`organization_id`) and, of the desk's work, only what is published
    (`published_only`). Whatever lies outside the scope is NotFound, exactly as what does
    not exist, so its existence does not show.
    """

    organization_id: int | None = None
    published_only: bool = False

    def sees(self, organization_id: int) -> bool:
        """Whether an article of this organisation is in the scope."""
        return self.organization_id is None or organization_id == self.organization_id


EVERYTHING = Scope()


# What the API calls each thing looked up by id: its words, never a class name.
PUBLIC_NAMES = {
    "Article": "Article",
    "Claim": "Claim",
    "Verdict": "Verdict",
    "User": "User",
    "WebhookSubscription": "Webhook",
    "FactCheck": "Fact-check",
}


def not_found(model: type[Any], entity_id: int) -> NotFound:
    """The error for a missing row, and for one the caller may not see: the same words."""
    return NotFound(f"{PUBLIC_NAMES.get(model.__name__, 'Item')} {entity_id} does not exist.")


def load(
    session: Session,
    model: type[T],
    entity_id: int,
    *,
    for_update: bool = False,
    undeferred: tuple[str, ...] = (),
) -> T:
    """The row with this id (locked for update if asked), or NotFound naming the entity.

    `undeferred` names deferred columns the caller reads, loaded in the same query.
    """
    kind: Any = model
    found: T | None = session.scalars(
        _by_id(kind, for_update, undeferred), {"entity_id": entity_id}
    ).first()
    if found is None:
        raise not_found(model, entity_id)
    return found


@functools.cache
def _by_id(model: type[Any], for_update: bool, undeferred: tuple[str, ...]) -> Select[Any]:
    """The statement `load` runs, built once per kind: building and keying it on every
    request cost 45-100 us each time."""
    table: Any = model
    statement = select(model).where(table.id == bindparam("entity_id"))
    statement = statement.options(*(undefer(getattr(model, name)) for name in undeferred))
    return statement.with_for_update() if for_update else statement
