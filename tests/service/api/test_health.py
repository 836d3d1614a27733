"""Health, readiness and metrics."""

from __future__ import annotations

import logging

from prometheus_client import CONTENT_TYPE_LATEST
from sqlalchemy import text

from service.app import create_app
from tests.conftest import ADMIN_TOKEN
from tests.factories import article_payload


def test_healthz_answers_without_touching_dependencies(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_each_dependency(client):
    response = client.get("/readyz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ready", "checks": {"database": "ok", "broker": "ok"}}


def test_metrics_count_requests_per_route(client, admin_headers):
    client.get("/api/v1/articles", headers=admin_headers)
    response = client.get("/metrics", headers=admin_headers)
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    # The exposition format's own type, with its one charset (Flask added a second).
    assert response.headers["Content-Type"] == CONTENT_TYPE_LATEST
    assert response.headers["Content-Type"].count("charset") == 1
    text = response.get_data(as_text=True)
    assert (
        'factcheck_http_requests_total{endpoint="/api/v1/articles",method="GET",status="200"}'
        in text
    )
    assert "factcheck_http_request_seconds_bucket" in text


def test_metrics_report_the_backlogs(client, admin_headers, engine):
    client.post("/api/v1/articles", json=article_payload(), headers=admin_headers)
    with engine.begin() as connection:
        connection.execute(text("UPDATE articles SET status = 'processing'"))
    client.post("/api/v1/articles", json=article_payload(), headers=admin_headers)
    text_ = client.get("/metrics", headers=admin_headers).get_data(as_text=True)
    # No worker runs here, so both extraction messages are still pending.
    assert "factcheck_outbox_pending 2.0" in text_
    assert "factcheck_webhook_deliveries_pending 0.0" in text_
    assert 'factcheck_articles_backlog{status="queued"} 1.0' in text_
    assert 'factcheck_articles_backlog{status="processing"} 1.0' in text_


def test_start_up_logs_settings_without_secrets_at_debug_only(settings, caplog):
    with caplog.at_level(logging.INFO, logger="service.app"):
        create_app(settings)
    assert "factcheck API settings" not in caplog.text, "each API process would print them"
    with caplog.at_level(logging.DEBUG, logger="service.app"):
        create_app(settings)
    assert "factcheck API settings" in caplog.text
    assert ADMIN_TOKEN not in caplog.text


def test_token_never_reaches_the_logs(client, caplog):
    with caplog.at_level(logging.DEBUG):
        client.get("/api/v1/articles", headers={"Authorization": "Bearer fct_not_a_real_token"})
        client.get("/api/v1/articles", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert "fct_not_a_real_token" not in caplog.text
    assert ADMIN_TOKEN not in caplog.text


def test_database_errors_say_what_happened(settings):
    """A timeout and a rolled-back transaction are not "the database is unavailable"."""
    from psycopg2.extensions import TransactionRollbackError
    from sqlalchemy.exc import OperationalError

    from service.api import db

    app = create_app(settings)

    def slow() -> str:
        db().execute(text("SET LOCAL statement_timeout = 50"))
        db().execute(text("SELECT pg_sleep(2)"))
        return "never"

    def collided() -> str:
        raise OperationalError("UPDATE claims ...", {}, TransactionRollbackError("deadlock"))

    app.add_url_rule("/test/slow", view_func=slow)
    app.add_url_rule("/test/collided", view_func=collided)
    client = app.test_client()
    for path, kind, retry in [
        ("/test/slow", "database-timeout", "5"),
        ("/test/collided", "transaction-conflict", "1"),
    ]:
        response = client.get(path)
        assert response.status_code == 503
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["type"].endswith("/" + kind)
        assert response.headers["Retry-After"] == retry


def test_a_starved_pool_answers_503_at_its_timeout(settings):
    """Every connection in use: a request waits FACTCHECK_DB_POOL_TIMEOUT, not 30 s, then 503."""
    from dataclasses import replace

    app = create_app(
        replace(settings, db_pool_size=1, db_max_overflow=0, db_pool_timeout_seconds=0.5)
    )
    engine = app.extensions["factcheck"].engine
    assert engine.pool.timeout() == 0.5
    client = app.test_client()
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    with engine.connect() as held:
        held.execute(text("SELECT 1"))
        response = client.get("/api/v1/articles", headers=headers)
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.get_json()["type"].endswith("/database-busy")
    assert response.headers["Retry-After"] == "1"
    assert client.get("/api/v1/articles", headers=headers).status_code == 200
    engine.dispose()
