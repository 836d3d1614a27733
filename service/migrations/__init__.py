"""Alembic migrations: the only way the schema is created or changed."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

HERE = Path(__file__).resolve().parent
# Held while the schema or the service role's grants change, so two processes never do it at
# once. Any constant works; it only has to be the same for every process migrating this database.
MIGRATION_LOCK_ID = 0x46_43_4B_4D


class MigrationRefused(RuntimeError):
    """A migration found data it cannot change safely; the message says what to do."""


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(HERE))
    config.set_main_option("sqlalchemy.url", database_url.replace("%", "%%"))
    return config


def upgrade(database_url: str, revision: str = "head") -> None:
    """Bring the database at `database_url` to `revision`."""
    command.upgrade(alembic_config(database_url), revision)
