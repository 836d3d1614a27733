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
    # To 0008 only: from 0013 on, an article names its organisation too.
    upgrade(scratch_url, "0008")
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


def _index(connection, name: str) -> str:
    return connection.scalar(
        text("SELECT indexdef FROM pg_indexes WHERE indexname = :name"), {"name": name}
    )


def _submit_raw(connection, body: str, **fields) -> int:
    columns = ["body", "content_hash", *fields]
    return connection.scalar(
        text(
            f"INSERT INTO articles ({', '.join(columns)}) "  # noqa: S608 (the test's own names)
            f"VALUES ({', '.join(':' + c for c in columns)}) RETURNING id"
        ),
        {"body": body, "content_hash": body, **fields},
    )


def _user(connection, name: str) -> int:
    return connection.scalar(
        text("INSERT INTO users (name, role) VALUES (:name, 'newsroom') RETURNING id"),
        {"name": name},
    )


def test_upgrade_puts_every_user_and_article_in_the_desks_organisation(scratch_url):
    upgrade(scratch_url, "0012")
    engine = create_engine(psycopg2_url(scratch_url))
    with engine.begin() as connection:
        planet, bugle = _user(connection, "planet"), _user(connection, "bugle")
        _submit_raw(connection, "One.", source="wire", external_id="1", submitted_by=planet)
        _submit_raw(connection, "Two.", idempotency_key="k", submitted_by=planet)
        _submit_raw(connection, "Three.", idempotency_key="j", submitted_by=bugle)
    upgrade(scratch_url)
    with engine.begin() as connection:
        desk = connection.scalar(text("SELECT id FROM organizations WHERE name = 'desk'"))
        assert connection.execute(text("SELECT DISTINCT organization_id FROM users")).all() == [
            (desk,)
        ]
        assert connection.execute(text("SELECT DISTINCT organization_id FROM articles")).all() == [
            (desk,)
        ]
        # The defaults that filled old rows are gone: every new row names its organisation.
        defaults = connection.execute(
            text(
                "SELECT table_name, column_default FROM information_schema.columns "
                "WHERE column_name = 'organization_id'"
            )
        ).all()
        assert sorted(defaults) == [("articles", None), ("users", None)]
        assert connection.scalar(
            text(
                "SELECT bool_and(convalidated) FROM pg_constraint "
                "WHERE conname LIKE 'fk_%_organization_id_organizations'"
            )
        )
        assert "(organization_id, source, external_id)" in _index(
            connection, "uq_articles_source_external_id"
        )
        assert "(organization_id, idempotency_key)" in _index(
            connection, "uq_articles_idempotency_key"
        )
        other = connection.scalar(
            text("INSERT INTO organizations (name) VALUES ('the-rag') RETURNING id")
        )
        # Another organisation may use the same external id and key; the desk may not.
        _submit_raw(connection, "Mine.", source="wire", external_id="1", organization_id=other)
        _submit_raw(connection, "Mine too.", idempotency_key="k", organization_id=other)
    with (
        pytest.raises(DBAPIError, match="uq_articles_source_external_id"),
        engine.begin() as connection,
    ):
        _submit_raw(connection, "Again.", source="wire", external_id="1", organization_id=desk)
    engine.dispose()


def test_upgrade_refuses_a_key_two_submitters_shared_and_changes_nothing(scratch_url):
    upgrade(scratch_url, "0012")
    engine = create_engine(psycopg2_url(scratch_url))
    with engine.begin() as connection:
        planet, bugle = _user(connection, "planet"), _user(connection, "bugle")
        _submit_raw(connection, "Planet's.", idempotency_key="2026-001", submitted_by=planet)
        shared = _submit_raw(connection, "Bugle's.", idempotency_key="2026-001", submitted_by=bugle)
    with pytest.raises(MigrationRefused) as refused:
        upgrade(scratch_url)
    message = str(refused.value)
    assert "'2026-001'" in message
    assert "Nothing was changed" in message
    assert "GROUP BY idempotency_key HAVING count(*) > 1" in message
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0012"
        assert connection.scalar(text("SELECT to_regclass('organizations')")) is None
    # Once the operator has chosen which article keeps the key, it upgrades.
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE articles SET idempotency_key = NULL WHERE id = :id"), {"id": shared}
        )
    upgrade(scratch_url)
    engine.dispose()


def test_an_interrupted_upgrade_finishes_when_run_again(scratch_url):
    upgrade(scratch_url, "0013")
    engine = create_engine(psycopg2_url(scratch_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        desk = connection.scalar(text("SELECT id FROM organizations WHERE name = 'desk'"))
        for body in ("One.", "Two."):
            _submit_raw(connection, body, organization_id=desk)
        # As 0013 leaves things when stopped halfway: one index not swapped yet, a build
        # that failed (an invalid index left behind), and the version not stamped.
        connection.execute(text("DROP INDEX uq_articles_idempotency_key"))
        connection.execute(
            text(
                "CREATE UNIQUE INDEX uq_articles_idempotency_key ON articles "
                "(submitted_by, idempotency_key) NULLS NOT DISTINCT "
                "WHERE idempotency_key IS NOT NULL"
            )
        )
        connection.execute(text("DROP INDEX ix_articles_organization_id"))
        with pytest.raises(DBAPIError, match="could not create unique index"):
            connection.execute(
                text(
                    "CREATE UNIQUE INDEX CONCURRENTLY ix_articles_organization_id "
                    "ON articles (organization_id)"
                )
            )
        connection.execute(text("UPDATE alembic_version SET version_num = '0012'"))
    upgrade(scratch_url, "0013")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0013"
        assert "(organization_id, idempotency_key)" in _index(
            connection, "uq_articles_idempotency_key"
        )
        assert _index(connection, "uq_articles_idempotency_key_0013") is None
        assert "(organization_id, id)" in _index(connection, "ix_articles_organization_id")
        assert connection.scalar(text("SELECT bool_and(indisvalid) FROM pg_index"))
        assert connection.scalar(text("SELECT count(*) FROM organizations")) == 1
    engine.dispose()


def test_downgrade_refuses_ids_two_organisations_share_then_restores_the_old_indexes(
    scratch_url,
):
    from alembic import command

    upgrade(scratch_url)
    engine = create_engine(psycopg2_url(scratch_url))
    with engine.begin() as connection:
        desk = connection.scalar(text("SELECT id FROM organizations WHERE name = 'desk'"))
        other = connection.scalar(
            text("INSERT INTO organizations (name) VALUES ('the-rag') RETURNING id")
        )
        _submit_raw(connection, "Ours.", source="wire", external_id="1", organization_id=desk)
        theirs = _submit_raw(
            connection, "Theirs.", source="wire", external_id="1", organization_id=other
        )
    with pytest.raises(MigrationRefused, match="source, external_id: 1"):
        command.downgrade(alembic_config(scratch_url), "0012")
    with engine.begin() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version")) == "0013"
        connection.execute(text("DELETE FROM articles WHERE id = :id"), {"id": theirs})
    command.downgrade(alembic_config(scratch_url), "0012")
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT to_regclass('organizations')")) is None
        assert "(source, external_id)" in _index(connection, "uq_articles_source_external_id")
        assert "(submitted_by, idempotency_key)" in _index(
            connection, "uq_articles_idempotency_key"
        )
        assert connection.scalar(text("SELECT count(*) FROM articles")) == 1
    upgrade(scratch_url)
    engine.dispose()


def test_upgrade_keeps_each_stored_embedding_as_the_same_float4s_in_bytes(scratch_url):
    import numpy as np
    from sqlalchemy import select

    from service.models import Claim

    upgrade(scratch_url, "0017")
    vectors = np.random.default_rng(7).standard_normal((3, 384)).astype(np.float32)
    engine = create_engine(psycopg2_url(scratch_url))
    with engine.begin() as connection:
        desk = connection.scalar(text("SELECT id FROM organizations WHERE name = 'desk'"))
        article_id = _submit_raw(connection, "One. Two. Three.", organization_id=desk)
        for n, vector in enumerate([*vectors.tolist(), None]):
            connection.execute(
                text(
                    'INSERT INTO claims (article_id, revision, start, "end", text, kind, '
                    "embedding) VALUES (:article, 1, :n, :n + 1, 'Claim.', 'sentence', :vector)"
                ),
                {"article": article_id, "n": n, "vector": vector},
            )
    upgrade(scratch_url)
    with engine.connect() as connection:
        stored = connection.execute(select(Claim.embedding).order_by(Claim.start)).scalars().all()
        raw = connection.scalar(text("SELECT embedding FROM claims ORDER BY start LIMIT 1"))
    engine.dispose()
    assert stored[3] is None
    assert np.array_equal(np.array(stored[:3], dtype=np.float32), vectors)
    assert bytes(raw) == vectors[0].astype(">f4").tobytes()
