"""Similar claims: LSH band keys of each claim's text, GIN-indexed, filled for stored claims.

The column is added and committed first; the keys of the claims already stored are then
written in batches of BACKFILL_BATCH (keyset by id), each committed on its own, so the
claims table is never locked for the length of the backfill and rows written meanwhile are
still reached. The index is built last, over the filled column. Every step can run again,
so a backfill interrupted half-way is finished by running the upgrade again.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from workers.extraction.similarity import similarity_keys_many

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

BACKFILL_BATCH = 2_000
# Boilerplate gets no keys: the kinds the engine called boilerplate when this migration was
# written (written out here, so that a later change to the service cannot change what this
# migration does).
NO_KEYS_KINDS = frozenset({"byline", "metadata"})


def upgrade() -> None:
    op.execute(
        "ALTER TABLE claims ADD COLUMN IF NOT EXISTS similarity_keys bigint[] "
        "DEFAULT '{}'::bigint[] NOT NULL"
    )
    with op.get_context().autocommit_block():
        backfill(op.get_bind())
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_claims_similarity_keys ON claims USING gin (similarity_keys)"
    )


def backfill(connection: sa.Connection, batch: int = BACKFILL_BATCH) -> int:
    """Write the keys of every stored claim; returns how many claims got keys."""
    after, filled = 0, 0
    while True:
        rows = connection.execute(
            sa.text("SELECT id, text, kind FROM claims WHERE id > :after ORDER BY id LIMIT :batch"),
            {"after": after, "batch": batch},
        ).all()
        if not rows:
            return filled
        after = rows[-1].id
        keys = similarity_keys_many("" if row.kind in NO_KEYS_KINDS else row.text for row in rows)
        keyed = [
            (row.id, claim_keys) for row, claim_keys in zip(rows, keys, strict=True) if claim_keys
        ]
        if keyed:
            connection.execute(
                sa.text(
                    "UPDATE claims SET similarity_keys = keyed.keys::bigint[] "
                    "FROM unnest(CAST(:ids AS bigint[]), CAST(:keys AS text[])) "
                    "AS keyed(id, keys) WHERE claims.id = keyed.id"
                ),
                {
                    "ids": [claim_id for claim_id, _ in keyed],
                    # Each claim's keys as one array literal: a list of lists would bind as
                    # a two-dimensional array, which unnest flattens.
                    "keys": ["{" + ",".join(map(str, k)) + "}" for _, k in keyed],
                },
            )
            filled += len(keyed)


def downgrade() -> None:
    op.drop_index("ix_claims_similarity_keys", table_name="claims", postgresql_using="gin")
    op.drop_column("claims", "similarity_keys")
