"""Flask's session, for the desk only, kept in PostgreSQL (service.domain.desk_sessions).

The cookie holds a random value and nothing else: HttpOnly, SameSite=Strict, Secure when the
request came over TLS, scoped to the desk's path. Requests outside the desk get no session at
all, so the JSON API never reads or sets a cookie (and cannot be driven by one).
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

from flask import Flask, Request, Response, current_app
from flask import request as current_request
from flask.sessions import SessionInterface, SessionMixin
from sqlalchemy.exc import DBAPIError
from werkzeug.datastructures import CallbackDict

from service.auth import DESK_CALLER, Principal
from service.domain import desk_sessions as stored
from service.domain.desk_sessions import Lifetimes, StoredSession

log = logging.getLogger(__name__)

COOKIE_NAME = "factcheck_desk"
DESK_PATH = "/desk"
STATIC_PATH = DESK_PATH + "/static/"
# A session used again within this many seconds is not written back: its idle expiry moves
# on at most once a minute, not on every page.
TOUCH_AFTER_SECONDS = 60


class DeskSession(CallbackDict[str, Any], SessionMixin):
    """The request's session data, with the row it came from and who is signed in."""

    def __init__(self, found: StoredSession | None = None) -> None:
        def changed(_data: Any) -> None:
            self.modified = True

        super().__init__(found.data if found else None, changed)
        self.found = found
        self.modified = False
        # The database error that kept the session from being read, if one did.
        self.unavailable: DBAPIError | None = None
        # Set by `sign_in` and `sign_out`: the next response carries a fresh cookie value
        # (no session fixation) or none.
        self.signing_in: stored.SignIn | None = None
        self.signing_out = False

    @property
    def principal(self) -> Principal | None:
        found = self.found
        if found is None or found.user_id is None or self.signing_out:
            return None
        assert found.name is not None
        assert found.role is not None
        assert found.organization_id is not None
        return Principal(found.user_id, found.name, found.role, found.organization_id)


class DeskSessions(SessionInterface):
    def __init__(self, lifetimes: Lifetimes) -> None:
        self.lifetimes = lifetimes

    def open_session(self, app: Flask, request: Request) -> DeskSession | None:
        if not _is_desk(request.path):
            return None  # Flask's null session: nothing is read, nothing is written
        value = request.cookies.get(COOKIE_NAME)
        found = None
        unavailable = None
        if value:
            try:
                connection = current_app.extensions["factcheck"].session().connection()
                found = stored.find_session(connection, value)
            except DBAPIError as error:
                # Raised by the desk's first handler, where the app's error handlers answer
                # 503 as for any request the database cannot serve.
                unavailable = error
        session = DeskSession(found)
        session.unavailable = unavailable
        request.environ[DESK_CALLER] = session.principal
        return session

    def save_session(self, app: Flask, session: SessionMixin, response: Response) -> None:
        assert isinstance(session, DeskSession)
        changing = session.signing_in is not None or session.signing_out
        if session.unavailable is not None or (not changing and _nothing_to_write(session)):
            return
        # In a transaction of its own: the request's has been committed (or rolled back)
        # by the time Flask saves the session, so a failure here cannot undo the request's
        # work; it is logged, and the browser keeps the session it had (or none).
        try:
            self._write(app, session, response, changing)
        except DBAPIError:
            log.exception("the desk session could not be saved")

    def _write(self, app: Flask, session: DeskSession, response: Response, changing: bool) -> None:
        found = session.found
        with app.extensions["factcheck"].engine.begin() as connection:
            if changing and found is not None:
                stored.end_session(connection, found.id)
            if session.signing_out:
                self._forget(response)
            elif session.signing_in is not None:
                signed = session.signing_in
                value = stored.create_session(
                    connection,
                    dict(session),
                    self.lifetimes,
                    user_id=signed.user_id,
                    api_token_id=signed.api_token_id,
                )
                self._remember(response, value)
            elif found is None:
                value = stored.create_session(connection, dict(session), self.lifetimes)
                self._remember(response, value)
            elif session.modified:
                stored.save_data(connection, found.id, dict(session), self.lifetimes)
            else:
                stored.touch(connection, found.id, self.lifetimes)

    def _remember(self, response: Response, value: str) -> None:
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=int(self.lifetimes.most.total_seconds()),
            path=DESK_PATH,
            secure=current_request.is_secure,
            httponly=True,
            samesite="Strict",
        )
        response.vary.add("Cookie")

    def _forget(self, response: Response) -> None:
        response.delete_cookie(COOKIE_NAME, path=DESK_PATH, httponly=True, samesite="Strict")


def _nothing_to_write(session: DeskSession) -> bool:
    """No row to make (nothing kept before sign-in), or a session used a moment ago whose
    data did not change."""
    if session.found is None:
        return not (session.modified and session)
    return not session.modified and session.found.seen_seconds_ago <= TOUCH_AFTER_SECONDS


def _is_desk(path: str) -> bool:
    """Whether the path is a desk page (its static files need no session)."""
    if path.startswith(STATIC_PATH):
        return False
    return path == DESK_PATH or path.startswith(DESK_PATH + "/")


def lifetimes(idle_minutes: int, most_hours: int) -> Lifetimes:
    return Lifetimes(idle=timedelta(minutes=idle_minutes), most=timedelta(hours=most_hours))


def sign_in(session: SessionMixin, who: stored.SignIn) -> None:
    """Sign the browser in as `who`: the response carries a new cookie value, the old
    session (and its value) ends."""
    assert isinstance(session, DeskSession)
    session.signing_in = who
    session.clear()


def sign_out(session: SessionMixin) -> None:
    assert isinstance(session, DeskSession)
    session.signing_out = True
    session.clear()
