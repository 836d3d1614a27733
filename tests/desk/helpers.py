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


def sign_in(app: Flask, sessions: Any, role: str, organization: str | None = None) -> Desk:
    """A new user of `role`, signed in to the desk with its token in a client of its own."""
    user = new_user(sessions, role, organization)
    client = app.test_client()
    page = client.get("/desk/login")
    response = client.post("/desk/login", data={"token": user.token, "csrf_token": csrf_of(page)})
    assert response.status_code == 303, response.get_data(as_text=True)
    return Desk(client, user)
