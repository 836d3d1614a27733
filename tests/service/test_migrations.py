"""Migrations are the only way the schema is made: they run up, down and up again."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.exc import DBAPIError

from service.db import psycopg2_url
from service.domain.similar_claims import claim_similarity_keys
from service.migrations import MigrationRefused, alembic_config, upgrade
from service.models import Base


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


def test_upgrade_gives_claims_already_stored_their_similarity_keys(scratch_url):
    upgrade(scratch_url, "0006")
    engine = create_engine(psycopg2_url(scratch_url))
    with engine.begin() as connection:
        article_id = connection.scalar(
            text("INSERT INTO articles (body, content_hash) VALUES ('x', 'x') RETURNING id")
        )
        # More claims than one backfill batch (2,000 in 0007 and 0010), plus a byline and a
        # short claim.
        connection.execute(
            text(
                'INSERT INTO claims (article_id, revision, start, "end", text, kind) '
                "SELECT :article, 1, n, n + 1, 'Claim ' || n || ' says the council approved "
                "a budget', 'sentence' FROM generate_series(1, 4500) AS n"
            ),
            {"article": article_id},
        )
        connection.execute(
            text(
                'INSERT INTO claims (article_id, revision, start, "end", text, kind) VALUES '
                "(:article, 1, 0, 5000, 'By Jane Smith and John Doe', 'byline'), "
                "(:article, 1, 0, 5001, 'Prices rose.', 'sentence')"
            ),
            {"article": article_id},
        )
    upgrade(scratch_url)
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT id, text, kind, similarity_keys FROM claims")).all()
        lookup = connection.execute(text("SELECT key, claim_id FROM claim_similarity_keys")).all()
    engine.dispose()
    assert len(rows) == 4502
    assert all(row.similarity_keys == claim_similarity_keys(row.text, row.kind) for row in rows)
    assert sum(1 for row in rows if row.similarity_keys) == 4500
    # 0010 gave each of them its lookup rows: every band key, and one key of them all.
    by_claim: dict[int, set[int]] = {}
    for key, claim_id in lookup:
        by_claim.setdefault(claim_id, set()).add(key)
    assert len(lookup) == sum(len(keys) for keys in by_claim.values())
    assert {row.id for row in rows if row.similarity_keys} == set(by_claim)
    for row in rows:
        if row.similarity_keys:
            band_keys = set(row.similarity_keys)
            assert band_keys < by_claim[row.id]
            assert len(by_claim[row.id]) == len(band_keys) + 1


def _insert_unsourced(connection, external_id: str, body: str) -> None:
    connection.execute(
        text(
            "INSERT INTO articles (source, external_id, body, content_hash) "
            "VALUES (NULL, :external_id, :body, 'x')"
        ),
        {"external_id": external_id, "body": body},
    )


def test_upgrade_makes_external_id_without_a_source_unique(scratch_url):
    upgrade(scratch_url, "0007")
    engine = create_engine(psycopg2_url(scratch_url))
    with engine.begin() as connection:
        _insert_unsourced(connection, "wire-1", "One.")
    upgrade(scratch_url)
    with (
        pytest.raises(DBAPIError, match="uq_articles_source_external_id"),
        engine.begin() as connection,
    ):
        _insert_unsourced(connection, "wire-1", "Again.")
    with engine.begin() as connection:
        _insert_unsourced(connection, "wire-2", "Another id is another article.")
        connection.execute(
            text(
                "INSERT INTO articles (source, external_id, body, content_hash) "
                "VALUES ('desk', 'wire-1', 'A named source is another namespace.', 'x')"
            )
        )
        assert connection.scalar(text("SELECT count(*) FROM articles")) == 3
    engine.dispose()


def test_upgrade_refuses_existing_unsourced_duplicates_and_changes_nothing(scratch_url):
    upgrade(scratch_url, "0007")
    engine = create_engine(psycopg2_url(scratch_url))
    with engine.begin() as connection:
        _insert_unsourced(connection, "wire-1", "First copy.")
        _insert_unsourced(connection, "wire-1", "Second copy.")
        _insert_unsourced(connection, "wire-2", "Not duplicated.")
    before_query = text("SELECT id, source, external_id, body FROM articles ORDER BY id")
    with engine.connect() as connection:
        before = connection.execute(before_query).all()
    with pytest.raises(MigrationRefused) as refused:
        upgrade(scratch_url)
    message = str(refused.value)
    assert "1 external_id" in message
    assert "wire-1" in message
    # The message names the query that lists them.
    assert "GROUP BY external_id HAVING count(*) > 1" in message
    with engine.connect() as connection:
        assert connection.execute(before_query).all() == before
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0007"
        # The old index is still there, unchanged: nothing half-done.
        (index,) = connection.scalars(
            text("SELECT indexdef FROM pg_indexes WHERE indexname LIKE 'uq_articles_source%'")
        ).all()
        assert "NULLS NOT DISTINCT" not in index
    # Once an operator has resolved them (here: told the copy its own source), it upgrades.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE articles SET source = 'legacy' WHERE body = 'Second copy.'")
        )
    upgrade(scratch_url)
    engine.dispose()


def test_audit_log_refuses_update_delete_and_truncate(engine):
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO audit_log (actor, action, entity_type) VALUES ('a', 'x', 'y')")
        )
    for statement in (
        "UPDATE audit_log SET actor = 'mallory'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log",
        "TRUNCATE articles, audit_log CASCADE",
    ):
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
