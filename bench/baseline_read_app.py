"""The baseline for the review benchmark: read one claim by primary key, answer it as JSON.

Served by the same gunicorn command as the real API (`bench.baseline_read_app:asgi_app()`,
behind the same asyncio worker and body-buffering bridge), so the ratio between the two shows
what the API's own work costs per read: authentication, the session, the verdicts and evidence
of the claim, and marshmallow serialisation.
"""

from __future__ import annotations

import os
from typing import Any

import psycopg2
import psycopg2.pool
from flask import Flask, Response, jsonify

from bench.baseline_app import THREADS_PER_WORKER, borrowed

SELECT_CLAIM = (
    'SELECT id, article_id, revision, start, "end", text, prefix, suffix, kind, checkworthiness,'
    " checkworthy, types, language, status, version, created_at, updated_at"
    " FROM claims WHERE id = %s"
)


def create_app(database_url: str | None = None) -> Flask:
    url = database_url or os.environ["DATABASE_URL"]
    pool = psycopg2.pool.ThreadedConnectionPool(
        1, THREADS_PER_WORKER, url, application_name="bench-baseline-read"
    )
    app = Flask("bench-baseline-read")

    @app.get("/claims/<int:claim_id>")
    def claim(claim_id: int) -> Response | tuple[Response, int]:
        with borrowed(pool) as cursor:
            cursor.execute(SELECT_CLAIM, (claim_id,))
            row = cursor.fetchone()
            names = [column.name for column in cursor.description or ()]
        if row is None:
            return jsonify(detail=f"Claim {claim_id} does not exist."), 404
        return jsonify(dict(zip(names, row, strict=True)))

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def asgi_app() -> Any:
    """The baseline as gunicorn serves the API (`bench.baseline_read_app:asgi_app()`)."""
    from service.config import Settings
    from service.server import BufferedWsgi

    return BufferedWsgi(create_app(), Settings.from_env())
