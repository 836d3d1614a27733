"""The baseline for the accept benchmark: parse a JSON article, insert one row, answer 202.

It is served by the same gunicorn command as the real API (`bench.baseline_app:asgi_app()`),
so the ratio between the two shows what the API's own work costs per request: validation,
authentication, the article, revision, outbox and audit rows, and publishing the task.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import psycopg2
import psycopg2.pool
from flask import Flask, Response, jsonify, request

CREATE_TABLE = "CREATE TABLE IF NOT EXISTS bench_baseline (id bigserial PRIMARY KEY, body text)"
INSERT = "INSERT INTO bench_baseline (body) VALUES (%s) RETURNING id"
# Every gunicorn worker runs the DDL at start-up; the lock keeps them from racing on it.
DDL_LOCK = 7_302_213_001
THREADS_PER_WORKER = 4


def create_app(database_url: str | None = None) -> Flask:
    url = database_url or os.environ["DATABASE_URL"]
    pool = psycopg2.pool.ThreadedConnectionPool(
        1, THREADS_PER_WORKER, url, application_name="bench-baseline"
    )
    _create_table(pool)
    app = Flask("bench-baseline")

    @app.post("/api/v1/articles")
    def submit() -> tuple[Response, int]:
        data: Any = request.get_json(silent=True)
        if not isinstance(data, dict) or not isinstance(data.get("body"), str):
            return jsonify(detail="Send a JSON object with a string `body`."), 422
        with borrowed(pool) as cursor:
            cursor.execute(INSERT, (data["body"],))
            row = cursor.fetchone()
        return jsonify(id=row[0] if row else None, status="queued"), 202

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


@contextmanager
def borrowed(pool: psycopg2.pool.ThreadedConnectionPool) -> Iterator[Any]:
    """A cursor on a pooled connection: committed on success, rolled back on error, returned."""
    connection = pool.getconn()
    broken = False
    try:
        with connection.cursor() as cursor:
            yield cursor
        connection.commit()
    except psycopg2.Error:
        broken = bool(connection.closed)
        if not broken:
            connection.rollback()
        raise
    finally:
        pool.putconn(connection, close=broken)


def _create_table(pool: psycopg2.pool.ThreadedConnectionPool) -> None:
    with borrowed(pool) as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", (DDL_LOCK,))
        cursor.execute(CREATE_TABLE)


def asgi_app() -> Any:
    """The baseline as gunicorn serves the API (`bench.baseline_app:asgi_app()`): behind the
    same asyncio worker and the same body-buffering bridge, so the two differ only in the app."""
    from service.config import Settings
    from service.server import BufferedWsgi

    return BufferedWsgi(create_app(), Settings.from_env())
