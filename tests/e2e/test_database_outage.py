"""Postgres stops: readiness and writes answer 503 problem+json; it comes back: all recovers."""

from __future__ import annotations

import pgserver
import pytest

from service.app import create_app
from service.config import Settings
from service.embedded import start_postgres
from service.migrations import upgrade
from tests.conftest import ADMIN_TOKEN
from tests.factories import article_payload, wait_until

pytestmark = pytest.mark.e2e


def test_database_restart_gives_503_then_recovers(tmp_path, broker_url, admin_headers):
    home = tmp_path / "outage"
    server, url = start_postgres(home)
    try:
        upgrade(url)
        client = create_app(
            Settings(database_url=url, broker_url=broker_url, admin_token=ADMIN_TOKEN)
        ).test_client()
        before = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers)
        assert before.status_code == 202

        server.cleanup()  # stops the server: this process held its only handle

        readiness = client.get("/readyz")
        assert readiness.status_code == 503
        assert readiness.mimetype == "application/problem+json"
        assert readiness.get_json()["checks"]["database"] == "unavailable"
        for response in (
            client.post("/api/v1/articles", json=article_payload(), headers=admin_headers),
            client.get("/api/v1/articles", headers=admin_headers),
        ):
            assert response.status_code == 503
            assert response.mimetype == "application/problem+json"
            assert "Retry-After" in response.headers

        server = pgserver.get_server(home / "pgdata", cleanup_mode="stop")
        wait_until(lambda: client.get("/readyz").status_code == 200, 30, "readiness")
        after = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers)
        assert after.status_code == 202
        listed = client.get("/api/v1/articles", headers=admin_headers).get_json()["items"]
        assert {a["id"] for a in listed} == {before.get_json()["id"], after.get_json()["id"]}
    finally:
        server.cleanup()
