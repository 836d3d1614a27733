"""Business logic: plain functions taking a SQLAlchemy Session and validated data.

Nothing here imports Flask; errors are the domain errors below, mapped to HTTP in one place
(`service.errors`).
"""

from __future__ import annotations


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


class PreconditionFailed(DomainError):
    """The caller's copy is stale (its If-Match names an older version)."""

    title = "Precondition failed"
