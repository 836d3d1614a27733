"""A signed-in desk client for tests: a Flask test client with the desk's cookie, which
reads a page's CSRF token and sends it with every form, as the browser does."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import TestResponse

from service.db import session_scope
from service.domain.users import IssuedToken, create_user

CSRF_FIELD = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_of(page: TestResponse) -> str:
    found = CSRF_FIELD.search(page.get_data(as_text=True))
    assert found is not None, page.get_data(as_text=True)[:500]
    return found.group(1)


@dataclass
class Desk:
    """A browser on the desk, signed in as `user`."""

    client: FlaskClient
    user: IssuedToken

    def get(self, path: str, **kwargs: Any) -> TestResponse:
        return self.client.get(path, **kwargs)

    def csrf(self) -> str:
        return csrf_of(self.client.get("/desk/"))

    def post(
        self, path: str, data: dict[str, Any] | None = None, *, csrf: bool = True
    ) -> TestResponse:
        form = dict(data or {})
        if csrf:
            form["csrf_token"] = self.csrf()
        return self.client.post(path, data=form)

    def claim_form(self, claim_id: int) -> dict[str, str]:
        """The hidden fields a claim page's forms carry: the version read, the last event seen."""
        page = self.get(f"/desk/claims/{claim_id}").get_data(as_text=True)
        version = re.search(r'name="version" value="(\d+)"', page)
        seen = re.search(r'name="seen" value="(\d+)"', page)
        assert version is not None, page[:500]
        assert seen is not None, page[:500]
        return {"version": version.group(1), "seen": seen.group(1)}


def new_user(sessions: Any, role: str, organization: str | None = None) -> IssuedToken:
    with session_scope(sessions) as session:
        return create_user(
            session, f"{role}-{uuid.uuid4().hex[:8]}", role, actor="test", organization=organization
        )


def session_of(app: Flask, sessions: Any, role: str) -> Desk:
    """A desk session of a new user of `role` made in the database, as sign-in makes one:
    for roles the sign-in page turns away, whose pages must refuse them all the same."""
    from datetime import timedelta

    from service.desk.sessions import COOKIE_NAME, DESK_PATH
    from service.domain.desk_sessions import Lifetimes, create_session

    user = new_user(sessions, role)
    lifetimes = Lifetimes(timedelta(minutes=5), timedelta(hours=1))
    with app.extensions["factcheck"].engine.begin() as connection:
        value = create_session(connection, {}, lifetimes, user_id=user.user_id)
    client = app.test_client()
    client.set_cookie(COOKIE_NAME, value, path=DESK_PATH)
    return Desk(client, user)


def sign_in(app: Flask, sessions: Any, role: str, organization: str | None = None) -> Desk:
    """A new user of `role`, signed in to the desk with its token in a client of its own."""
    user = new_user(sessions, role, organization)
    client = app.test_client()
    page = client.get("/desk/login")
    response = client.post("/desk/login", data={"token": user.token, "csrf_token": csrf_of(page)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return Desk(client, user)
