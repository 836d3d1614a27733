"""Migrations are the only way the schema is made: they run up, down and up again."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from service.db import psycopg2_url
from service.embedded import ensure_database
from service.migrations import alembic_config, upgrade
from service.models import Base
from tests.conftest import with_database


@pytest.fixture
def scratch_url(database_url):
    name = f"factcheck_scratch_{uuid.uuid4().hex[:8]}"
    admin_url = with_database(database_url, "postgres")
    ensure_database(admin_url, name)
    yield with_database(database_url, name)
    admin = create_engine(psycopg2_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_upgrade_creates_every_model_table_and_downgrade_removes_them(scratch_url):
    from alembic import command

    upgrade(scratch_url)
    engine = create_engine(psycopg2_url(scratch_url))
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    command.downgrade(alembic_config(scratch_url), "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(scratch_url)
    assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_audit_log_refuses_update_and_delete(engine):
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_log (actor, action, entity_type) VALUES ('a', 'x', 'y')")
        )
    for statement in ("UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT actor FROM audit_log")) == "a"


def test_migrations_and_models_describe_the_same_schema(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert drift == []
