"""Alembic environment: online migrations only, serialised by an advisory lock."""

from __future__ import annotations

from alembic import context
from sqlalchemy import text

from service.db import make_engine
from service.migrations import MIGRATION_LOCK_ID
from service.models import Base


def run_migrations_online() -> None:
    engine = make_engine(context.config.get_main_option("sqlalchemy.url") or "", pool_size=1)
    with engine.connect() as connection:
        # Two processes starting at once (api + worker) must not migrate concurrently, and a
        # migration must not wait forever behind a long-running query.
        connection.execute(text("SELECT pg_advisory_lock(:id)"), {"id": MIGRATION_LOCK_ID})
        connection.execute(text("SET lock_timeout = '10s'"))
        connection.commit()
        try:
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                compare_type=True,
                transaction_per_migration=True,
            )
            with context.begin_transaction():
                context.run_migrations()
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": MIGRATION_LOCK_ID})
            connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `factcheck db upgrade`")
run_migrations_online()
