"""The desk's CSRF protection (Flask-WTF's CSRFProtect) and the key it signs tokens with."""

from __future__ import annotations

from flask import Flask
from flask_wtf.csrf import CSRFProtect

from service.domain.desk_sessions import csrf_key

csrf = CSRFProtect()


def signing_key(app: Flask) -> str:
    """The key CSRF tokens are signed with: FACTCHECK_DESK_SIGNING_KEY, else the database's
    (read once per process, so creating the app needs no database)."""
    key: str | None = app.config.get("WTF_CSRF_SECRET_KEY")
    if key is None:
        with app.extensions["factcheck"].engine.begin() as connection:
            key = csrf_key(connection)
        app.config["WTF_CSRF_SECRET_KEY"] = key
    return key
