"""One flask-smorest Blueprint per resource; views are thin."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import flask
import flask_smorest
from celery import Celery
from flask import current_app, g, request
from flask_smorest import abort
from flask_smorest.utils import load_info_from_docstring
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request

from schemas.common import InputLimits, encode_cursor, input_limits
from service.auth import current_principal
from service.config import Settings
from service.domain import Actor, PreconditionFailed
from service.errors import status_name
from service.jsonio import loads_request
from service.ratelimit import SubmissionQuota
from service.vocabulary import roles_with
from workers.extraction.engine import Engine as Extractor


@dataclass
class Services:
    """What a request needs, kept on `app.extensions["factcheck"]`."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    celery: Celery
    # The claim-extraction engine with the configured check-worthiness threshold.
    extractor: Extractor

    # The read replica's engine and sessions, when DATABASE_REPLICA_URL is set.
    replica_engine: Engine | None = None
    replica_sessions: sessionmaker[Session] | None = None
    # Articles per token per period (FACTCHECK_SUBMIT_QUOTA); None: no quota.
    submit_quota: SubmissionQuota | None = None

    def session(self) -> Session:
        """The request's session, opened on first use and closed at teardown."""
        if "db" not in g:
            g.db = self.sessions()
        session: Session = g.db
        return session

    @property
    def read_sessions(self) -> sessionmaker[Session]:
        """Sessions for list and search reads: the read replica's, else the primary's."""
        return self.replica_sessions or self.sessions

    def read_session(self) -> Session:
        """The request's session for list and search reads: on the read replica when one is
        configured (it may lag the primary), else the request's own session."""
        if self.replica_sessions is None:
            return self.session()
        if "read_db" not in g:
            g.read_db = self.replica_sessions()
        session: Session = g.read_db
        return session


def services() -> Services:
    found: Services = current_app.extensions["factcheck"]
    return found


def current_actor() -> Actor:
    """The caller as the domain's Actor (who is recorded in the audit log)."""
    principal = current_principal()
    return Actor(principal.user_id, principal.name, principal.role)


def db() -> Session:
    """The current request's session."""
    return services().session()


def read_db() -> Session:
    """The session of list and search endpoints: the read replica's, if one is configured.

    Only for reads whose results may lag the primary by the replica's delay; whatever a
    write depends on, or an ETag is computed from, is read with `db()`.
    """
    return services().read_session()


def cursor_id(query: dict[str, Any]) -> int | None:
    """The id a page keyed on id continues from: the query's cursor, if any."""
    cursor = query.get("cursor")
    return cursor[0] if cursor else None


def id_page(items: list[Any], limit: int) -> dict[str, Any]:
    """A page of items keyed on id; a full page has a cursor to the next one."""
    next_cursor = encode_cursor(items[-1].id) if len(items) == limit else None
    return {"items": items, "next_cursor": next_cursor}


class ArgumentsParser(FlaskParser):
    """webargs' parser, decoding a JSON body as `request.get_json` does, and with the
    configured input limits in force while the schemas load.

    webargs alone decodes with the standard library's json; here, as in Flask's JSON
    provider, `service.jsonio.loads_request` does, which refuses what nothing downstream can
    handle (lone surrogates, deep nesting; see service.errors). Malformed JSON is still
    webargs' 400, and an empty body still reads as no fields.
    """

    def _raw_load_json(self, req: flask.Request) -> Any:
        if not is_json_request(req):
            return core.missing
        return loads_request(req.get_data(cache=True))

    def parse(self, *args: Any, **kwargs: Any) -> Any:
        settings = services().settings
        limits = InputLimits(settings.max_article_chars, settings.max_batch_articles)
        with input_limits(limits):
            return super().parse(*args, **kwargs)


class Blueprint(flask_smorest.Blueprint):
    """A Blueprint that refuses to register a view declaring no permission.

    Every view must carry `@require(permission)` or, for health checks, `@public`, so a new
    endpoint cannot be exposed by forgetting authentication.
    """

    ARGUMENTS_PARSER = ArgumentsParser()

    def route(self, rule: str, **options: Any) -> Callable[[Any], Any]:
        register = super().route(rule, **options)

        def guarded(view: Any) -> Any:
            permission = getattr(view, "required_permission", None)
            if permission is None and not getattr(view, "public", False):
                raise TypeError(f"{self.name} {rule}: declare @require(...) or @public")
            if permission is not None:
                _document_roles(view, permission, self.DOCSTRING_INFO_DELIMITER)
            return register(view)

        return guarded


def _document_roles(view: Any, permission: str, delimiter: str) -> None:
    """End the operation's description with the roles that may call it (read from the
    permission the view requires, so the docs cannot drift from what is enforced)."""
    roles = ", ".join(roles_with(permission))
    manual = view.__dict__.setdefault("_apidoc", {}).setdefault("manual_doc", {})
    described = manual.get("description") or load_info_from_docstring(
        view.__doc__, delimiter=delimiter
    ).get("description")
    said = f"**Roles:** {roles} (permission `{permission}`)."
    manual["description"] = f"{described}\n\n{said}" if described else said


def documented_errors(blp: Blueprint, *statuses: int) -> Callable[[Any], Any]:
    """Document 401, 403 and 429 (every authenticated view) plus these problem+json
    responses."""

    def decorate(view: Any) -> Any:
        for status in (401, 403, 429, *statuses):
            view = blp.alt_response(status, response=status_name(status))(view)
        return view

    return decorate


_ETAG = re.compile(r'^(?:W/)?"([a-z]+)-(\d+)-v(\d+)"$')
IF_MATCH = {"in": "header", "name": "If-Match", "required": True, "schema": {"type": "string"}}
# For actions on a version the caller read: without the header, the current version is acted on.
OPTIONAL_IF_MATCH = {
    **IF_MATCH,
    "required": False,
    "description": "The ETag the caller read: 412 if the entity changed since",
}


def etag(kind: str, entity_id: int, version: int) -> str:
    """The ETag of one version of an entity, e.g. "claim-12-v3"."""
    return f'"{kind}-{entity_id}-v{version}"'


def expected_version(kind: str, entity_id: int) -> int:
    """The version If-Match names: 428 without the header, 412 if it names another entity."""
    version = optional_expected_version(kind, entity_id)
    if version is None:
        abort(
            428, message=f"Send If-Match with the {kind}'s ETag (from GET) to avoid lost updates."
        )
        raise AssertionError("unreachable: abort raises")
    return version


def optional_expected_version(kind: str, entity_id: int) -> int | None:
    """The version If-Match names, None without the header; 412 if it names another entity."""
    header = request.headers.get("If-Match")
    if header is None:
        return None
    found = _ETAG.match(header.strip())
    if found is None or found.group(1) != kind or int(found.group(2)) != entity_id:
        raise PreconditionFailed(f"If-Match does not name this {kind}; read it again and retry.")
    return int(found.group(3))
