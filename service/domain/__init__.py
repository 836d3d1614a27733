"""Business logic: plain functions taking a SQLAlchemy Session and validated data.

Nothing here imports Flask; errors are the domain errors below, mapped to HTTP in one place
(`service.errors`).
"""

from __future__ import annotations

import functools
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
        raise NotFound(f"{model.__name__} {entity_id} does not exist.")
    return found


@functools.cache
def _by_id(model: type[Any], for_update: bool, undeferred: tuple[str, ...]) -> Select[Any]:
    """The statement `load` runs, built once per kind: building and keying it on every
    request cost 45-100 us each time."""
    table: Any = model
    statement = select(model).where(table.id == bindparam("entity_id"))
    statement = statement.options(*(undefer(getattr(model, name)) for name in undeferred))
    return statement.with_for_update() if for_update else statement
