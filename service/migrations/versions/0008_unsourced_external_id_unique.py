"""An external_id submitted without a source is unique too (NULLS NOT DISTINCT).

The unique index on (source, external_id) treated every NULL source as different, so a
retried submission with an external_id and no source made a new article each time. The index
is rebuilt with NULLS NOT DISTINCT (PostgreSQL 15+). Articles that already share an
external_id without a source stop the upgrade with a message saying how to find them:
which copy keeps the id is an editorial choice, so nothing is merged, changed or deleted.

Writes to articles wait (reads do not) while the check runs and the new index is built, so
no duplicate can slip in between; the old index is dropped only once the new one exists.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

from service.migrations import MigrationRefused

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

INDEX = "uq_articles_source_external_id"
WHERE = sa.text("external_id IS NOT NULL")
DUPLICATES = (
    "SELECT external_id, array_agg(id ORDER BY id) AS ids FROM articles "
    "WHERE source IS NULL AND external_id IS NOT NULL "
    "GROUP BY external_id HAVING count(*) > 1"
)
RESOLVE = (
    "For each, decide which article keeps the external_id (retries will return it) and give "
    "the others a source (UPDATE articles SET source = '...' WHERE id IN (...)) or clear their "
    "external_id; then run `factcheck db upgrade` again."
)
SHOWN = 5


def upgrade() -> None:
    op.execute("LOCK TABLE articles IN SHARE ROW EXCLUSIVE MODE")
    duplicates = op.get_bind().execute(sa.text(f"{DUPLICATES} ORDER BY external_id")).all()
    if duplicates:
        raise MigrationRefused(_refusal(duplicates))
    _rebuild(nulls_not_distinct=True)


def downgrade() -> None:
    _rebuild(nulls_not_distinct=False)


def _rebuild(*, nulls_not_distinct: bool) -> None:
    op.create_index(
        f"{INDEX}_new",
        "articles",
        ["source", "external_id"],
        unique=True,
        postgresql_nulls_not_distinct=nulls_not_distinct,
        postgresql_where=WHERE,
    )
    op.drop_index(INDEX, table_name="articles", postgresql_where=WHERE)
    op.execute(f"ALTER INDEX {INDEX}_new RENAME TO {INDEX}")


def _refusal(duplicates: Sequence[sa.Row[Any]]) -> str:
    examples = "; ".join(f"{row.external_id!r}: articles {row.ids}" for row in duplicates[:SHOWN])
    more = f" and {len(duplicates) - SHOWN} more" if len(duplicates) > SHOWN else ""
    return (
        f"migration 0008 refused: {len(duplicates)} external_id value(s) are shared by several "
        f"articles submitted without a source ({examples}{more}), so (source, external_id) "
        "cannot be made unique. Nothing was changed. List them with:\n"
        f"    {DUPLICATES};\n{RESOLVE}"
    )
