"""A read replica (DATABASE_REPLICA_URL) serves list and search endpoints, nothing else.

The tests point the replica at the test database itself: what they check is which engine
each request reads through, and that the replica's sessions can never write.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import replace

import pytest
from sqlalchemy import event, exc, text

from service.app import create_app
from service.config import Settings
from tests.factories import article_payload

LIST_AND_SEARCH = [
    "/api/v1/articles",
    "/api/v1/articles?q=unemployment",
    "/api/v1/claims",
    "/api/v1/claims?q=unemployment&checkworthy=false",
    "/api/v1/claimreviews",
    "/api/v1/stats/agreement",
    "/api/v1/exports/claims.csv",
]


@pytest.fixture
def replicated(settings: Settings) -> Iterator[tuple[object, Counter[str]]]:
    """An app whose replica is the test database, and a count of statements per engine."""
    app = create_app(replace(settings, database_replica_url=settings.database_url))
    found = app.extensions["factcheck"]
    counts: Counter[str] = Counter()

    def counter(name: str) -> Callable[..., None]:
        def count(*_args: object) -> None:
            counts[name] += 1

        return count

    event.listen(found.engine, "before_cursor_execute", counter("primary"))
    event.listen(found.replica_engine, "before_cursor_execute", counter("replica"))
    yield app, counts
    found.engine.dispose()
    found.replica_engine.dispose()


def test_list_and_search_endpoints_read_the_replica(replicated, admin_headers):
    app, counts = replicated
    client = app.test_client()
    created = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers)
    assert created.status_code == 202
    for path in LIST_AND_SEARCH:
        counts.clear()
        response = client.get(path, headers=admin_headers)
        body = response.get_data(as_text=True)  # a streamed export reads as it is sent
        response.close()
        assert response.status_code == 200, (path, body)
        assert counts["replica"] > 0, path


def test_writes_and_single_resources_stay_on_the_primary(replicated, admin_headers):
    app, counts = replicated
    client = app.test_client()
    counts.clear()
    created = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers)
    assert created.status_code == 202
    article_id = created.get_json()["id"]
    for path in (f"/api/v1/articles/{article_id}", f"/api/v1/articles/{article_id}/claims"):
        assert client.get(path, headers=admin_headers).status_code == 200
    assert counts["primary"] > 0
    assert counts["replica"] == 0


def test_replica_sessions_refuse_writes(replicated):
    app, _ = replicated
    session = app.extensions["factcheck"].replica_sessions()
    try:
        assert session.scalar(text("SELECT count(*) FROM articles")) is not None
        with pytest.raises(exc.InternalError, match="read-only transaction"):
            session.execute(text("DELETE FROM articles"))
    finally:
        session.rollback()
        session.close()


def test_readiness_includes_the_replica(replicated, settings):
    app, _ = replicated
    ready = app.test_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json()["checks"]["replica"] == "ok"

    unreachable = "postgresql://postgres@127.0.0.1:1/factcheck"
    broken = create_app(replace(settings, database_replica_url=unreachable))
    response = broken.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.get_json()["checks"] == {
        "database": "ok",
        "broker": "ok",
        "replica": "unavailable",
    }


def test_without_a_replica_everything_reads_the_primary(app):
    found = app.extensions["factcheck"]
    assert found.replica_engine is None
    assert found.replica_sessions is None
    assert "replica" not in app.test_client().get("/readyz").get_json()["checks"]
