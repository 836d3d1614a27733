"""Claim embeddings as bytea: 4 bytes a float4, in network order (float4send's).

A real[] of 384 elements is sent as text and parsed element by element: storing one 700-word
article's ~60 claims took the worker 50-90 ms for the embeddings alone, more than the rest of
the transaction. As bytes the same rows take about 1 ms. `service.models.Embedding` reads
and writes them; the values are the same float4s.

The upgrade converts the stored vectors in SQL. The downgrade cannot turn bytes back into
float4s in SQL, so it empties the column: embeddings are derived data, and processing an
article again (a revision, or the same text submitted again) writes them anew.

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A function in this session's temporary schema: ALTER ... USING takes no subquery.
    op.execute(
        """
        CREATE FUNCTION pg_temp.embedding_bytes(vector real[]) RETURNS bytea
        LANGUAGE sql IMMUTABLE AS $$
            SELECT string_agg(float4send(x), ''::bytea ORDER BY position)
            FROM unnest(vector) WITH ORDINALITY AS element(x, position)
        $$
        """
    )
    op.execute(
        "ALTER TABLE claims ALTER COLUMN embedding TYPE bytea "
        "USING pg_temp.embedding_bytes(embedding)"
    )
    op.execute("DROP FUNCTION pg_temp.embedding_bytes(real[])")


def downgrade() -> None:
    op.alter_column(
        "claims",
        "embedding",
        type_=postgresql.ARRAY(sa.REAL()),
        postgresql_using="NULL::real[]",
    )
