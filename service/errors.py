"""Every error leaves the API as application/problem+json (RFC 9457), from this one place."""

from __future__ import annotations

import http
import logging
from collections.abc import Mapping
from typing import Any

import marshmallow as ma
from flask import Flask, Response, json
from flask_limiter import RateLimitExceeded
from flask_smorest import Api
from flask_smorest.spec import prepare_response
from psycopg2.errors import QueryCanceled
from psycopg2.extensions import TransactionRollbackError
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from werkzeug.exceptions import HTTPException

from service.domain import (
    Conflict,
    DomainError,
    InvalidState,
    NotFound,
    PermissionDenied,
    PreconditionFailed,
    Unprocessable,
)
from service.jsonio import MAX_DEPTH, LoneSurrogate, NestedTooDeep
from service.ratelimit import QuotaExceeded
from workers.extraction.engine import TooManyCandidates

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_BASE = "https://factcheck.invalid/problems/"
WEBARGS_LOCATIONS = frozenset({"json", "query", "headers", "form", "view_args"})

# Python 3.13 renamed these statuses after RFC 9110 (CONTENT_TOO_LARGE, UNPROCESSABLE_CONTENT);
# the OpenAPI document keeps the names its clients reference.
_DOCUMENTED_NAMES = {413: "REQUEST_ENTITY_TOO_LARGE", 422: "UNPROCESSABLE_ENTITY"}


def status_name(status: int) -> str:
    """The name of a status's response in the OpenAPI document, e.g. "NOT_FOUND"."""
    return _DOCUMENTED_NAMES.get(status) or http.HTTPStatus(status).name


_DOMAIN_STATUS: dict[type[DomainError], int] = {
    NotFound: 404,
    Conflict: 409,
    InvalidState: 409,
    PermissionDenied: 403,
    PreconditionFailed: 412,
    Unprocessable: 422,
}


def domain_status(error: DomainError) -> int:
    """The HTTP status a domain error answers with (the API's and the desk's)."""
    return _DOMAIN_STATUS.get(type(error), 400)


class ProblemSchema(ma.Schema):
    """RFC 9457 problem details, with `errors` (field -> messages) for validation failures.

    Problems may carry extension members (RFC 9457 section 3.2), e.g. `article_id` on a
    conflict or `checks` on a failed readiness probe.
    """

    class Meta:
        unknown = ma.INCLUDE

    type = ma.fields.String(required=True, metadata={"example": PROBLEM_BASE + "validation"})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String()
    instance = ma.fields.String()
    errors = ma.fields.Dict(
        keys=ma.fields.String(),
        values=ma.fields.List(ma.fields.String()),
        metadata={"description": "Field path -> messages, for validation errors"},
    )


def problem_body(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
) -> dict[str, Any]:
    """The members of a problem document; the server layer (service/server.py) sends them
    where no Flask response exists, for requests refused before the app sees them."""
    phrase = http.HTTPStatus(status).phrase
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + (kind or phrase.lower().replace(" ", "-")),
        "title": title or phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if errors:
        body["errors"] = dict(errors)
    return body


def body_over_limit(limit: int) -> str:
    """The detail of a 413, the same from the server layer and from the app."""
    return f"The request body is over the {limit}-byte limit."


def problem(
    status: int,
    detail: str | None = None,
    *,
    kind: str | None = None,
    title: str | None = None,
    errors: Mapping[str, list[str]] | None = None,
    headers: Mapping[str, str] | None = None,
    extensions: Mapping[str, object] | None = None,
) -> Response:
    """Build a problem+json response."""
    body = problem_body(status, detail, kind=kind, title=title, errors=errors)
    body.update(extensions or {})
    response = Response(json.dumps(body), status=status, mimetype=PROBLEM_JSON)
    response.headers.update(dict(headers or {}))
    return response


def flatten_messages(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """webargs/marshmallow nested messages -> {"field.path": [messages]}."""
    if isinstance(messages, Mapping):
        flat: dict[str, list[str]] = {}
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            flat.update(flatten_messages(value, path))
        return flat
    if isinstance(messages, list) and all(isinstance(m, str) for m in messages):
        return {prefix or "_schema": list(messages)}
    if isinstance(messages, list):
        flat = {}
        for index, value in enumerate(messages):
            flat.update(flatten_messages(value, f"{prefix}.{index}" if prefix else str(index)))
        return flat
    return {prefix or "_schema": [str(messages)]}


class ProblemApi(Api):
    """flask-smorest's Api, speaking and documenting problem+json for every error."""

    ERROR_SCHEMA = ProblemSchema

    def _register_responses(self) -> None:
        for status in http.HTTPStatus:
            response: dict[str, Any] = {"description": status.phrase}
            if status >= 400:
                response["schema"] = self.ERROR_SCHEMA
                prepare_response(response, self.spec, PROBLEM_JSON)
            self.spec.components.response(status_name(status), response, lazy=True)
        default: dict[str, Any] = {"description": "Error", "schema": self.ERROR_SCHEMA}
        prepare_response(default, self.spec, PROBLEM_JSON)
        self.spec.components.response("DEFAULT_ERROR", default, lazy=True)

    def handle_http_exception(self, error: HTTPException) -> Response:
        status = error.code or 500
        data = getattr(error, "data", None) or {}
        messages = data.get("errors") or data.get("messages")
        errors = None
        if messages:
            # webargs keys messages by location ("json", "query", ...); the field path is enough.
            if isinstance(messages, Mapping) and set(messages) <= WEBARGS_LOCATIONS:
                merged: dict[str, Any] = {}
                for location, found in messages.items():
                    merged.update(found if isinstance(found, Mapping) else {location: found})
                messages = merged
            errors = flatten_messages(messages)
        detail = data.get("message") or error.description
        if status == 400 and errors:
            detail = " ".join(m for found in errors.values() for m in found)
            errors = None
        elif status == 422 and errors:
            detail = "The request did not validate: see `errors` for each field."
        # Keep what werkzeug says in headers (Allow on 405, Retry-After...), not its type.
        headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
        headers.update(data.get("headers") or {})
        return problem(
            status,
            detail,
            kind="validation" if status == 422 else None,
            errors=errors,
            headers=headers,
        )


def register_error_handlers(app: Flask) -> None:
    """Map domain errors, database outages and anything unexpected to problem+json."""

    @app.errorhandler(DomainError)
    def _domain_error(error: DomainError) -> Response:
        return problem(
            domain_status(error), error.detail, title=error.title, extensions=error.extra
        )

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(error: RateLimitExceeded) -> Response:
        # Retry-After and the X-RateLimit headers are added with every limited response.
        return problem(
            429,
            f"Over the rate limit of {error.limit.limit} {error.description}; retry after "
            "the seconds in Retry-After.",
            kind="too-many-requests",
            extensions={"limit": str(error.limit.limit)},
        )

    @app.errorhandler(QuotaExceeded)
    def _over_quota(error: QuotaExceeded) -> Response:
        return problem(
            429,
            error.detail,
            kind="quota-exceeded",
            title="Submission quota exceeded",
            headers={"Retry-After": str(error.retry_after)},
            extensions={
                "quota": error.quota,
                "remaining": error.remaining,
                "resets_at": error.resets_at.isoformat(),
            },
        )

    @app.errorhandler(LoneSurrogate)
    def _lone_surrogate(error: LoneSurrogate) -> Response:
        where = "This key" if error.in_key else "This text"
        message = (
            f"{where} holds {error.escape}, half of a UTF-16 surrogate pair without the other "
            "half, which is no character: send the character itself, or its whole pair."
        )
        return problem(
            422,
            "The JSON body holds text that is not Unicode: see `errors`.",
            kind="validation",
            errors={error.path or "_schema": [message]},
        )

    @app.errorhandler(NestedTooDeep)
    def _nested_too_deep(_error: NestedTooDeep) -> Response:
        return problem(400, f"The JSON body nests arrays or objects over {MAX_DEPTH} levels deep.")

    @app.errorhandler(TooManyCandidates)
    def _too_many_candidates(error: TooManyCandidates) -> Response:
        return problem(
            422,
            f"The text has {error} (sentences, clauses and reported spans), the most "
            "FACTCHECK_MAX_ARTICLE_CLAIMS allows: send it in parts.",
        )

    @app.errorhandler(OperationalError)
    def _database_unavailable(error: OperationalError) -> Response:
        if isinstance(error.orig, TransactionRollbackError):  # a deadlock, a serialization failure
            log.warning("transaction rolled back: %s", error.orig.__class__.__name__)
            return problem(
                503,
                "The change collided with a concurrent one and was not saved; retry it.",
                kind="transaction-conflict",
                headers={"Retry-After": "1"},
            )
        if isinstance(error.orig, QueryCanceled):
            log.warning("statement timeout")
            return problem(
                503,
                "The database took too long to answer; retry, or narrow the request.",
                kind="database-timeout",
                headers={"Retry-After": "5"},
            )
        log.error("database unavailable: %s", error.orig.__class__.__name__ if error.orig else "")
        return problem(
            503,
            "The database is unavailable; retry shortly.",
            kind="database-unavailable",
            headers={"Retry-After": "5"},
        )

    @app.errorhandler(PoolTimeout)
    def _pool_exhausted(_error: PoolTimeout) -> Response:
        # Every connection of this process's pool stayed in use for FACTCHECK_DB_POOL_TIMEOUT:
        # answer now rather than queue more requests behind the ones holding them.
        log.warning("no database connection came free within the pool timeout")
        return problem(
            503,
            "Every database connection is busy; retry shortly.",
            kind="database-busy",
            headers={"Retry-After": "1"},
        )

    @app.errorhandler(DBAPIError)
    def _database_error(error: DBAPIError) -> Response:
        if error.connection_invalidated:
            return _database_unavailable(error)  # type: ignore[arg-type]
        log.exception("database error")
        return problem(500, "An internal error occurred.")

    # Flask picks the most specific handler, so HTTPException still reaches ProblemApi.
    @app.errorhandler(Exception)
    def _unexpected(error: Exception) -> Response:
        log.exception("unhandled error")
        return problem(500, "An internal error occurred.")
