"""The reviewer desk: server-rendered pages at /desk/ for the people who check claims.

One more client of the domain, beside the JSON API: the same permission table
(service.vocabulary.PERMISSIONS), the same domain functions and their rules, the same
optimistic locking (a form carries the version it was read at, as If-Match does). It signs
in with a personal token or a one-time link into a server-side session
(`service.desk.sessions`); every form carries a CSRF token (Flask-WTF's CSRFProtect).

- `security`: CSRF protection and its signing key.
- `sessions`: Flask's session, kept in PostgreSQL, for desk paths only.
- `views`: the pages and the forms' actions.
- `forms`: form fields to the API's shapes, validated by the API's schemas.
- `render`: an article's body with its claims marked.
"""

from __future__ import annotations

from flask import Flask

from service.desk.security import csrf
from service.desk.sessions import DeskSessions, lifetimes
from service.desk.views import blp


def install_desk(app: Flask) -> None:
    """Serve the desk at /desk/ on `app` (whose services are installed)."""
    settings = app.extensions["factcheck"].settings
    app.session_interface = DeskSessions(
        lifetimes(settings.desk_idle_minutes, settings.desk_session_hours)
    )
    app.config.update(
        # None: read from the database on the desk's first request (`security.signing_key`).
        WTF_CSRF_SECRET_KEY=settings.desk_signing_key,
        # Checked by the desk's own blueprint, so the JSON API (bearer tokens, no cookies)
        # is left alone.
        WTF_CSRF_CHECK_DEFAULT=False,
        # Bound to the session, which expires; a form left open for an hour still posts.
        WTF_CSRF_TIME_LIMIT=None,
    )
    csrf.init_app(app)
    app.register_blueprint(blp)
