"""Fact-checks, claims' embedding keys, and the matches between them.

- `factchecks`: reviewed claims with their rating, publisher, URL, date, language and
  licence, imported (ClaimReview, JSON Lines, CSV) or the desk's own published verdicts. A
  record is known by its `key` (its review URL, or `id:<value>` for research sets without
  URLs), so importing it again updates it in place. `search` is its words for full-text
  search; `embedding` and `headline_embedding` the engine's sentence embeddings; `keys` the
  cross-polytope band keys of both (workers.matching.lsh).
- `factcheck_keys` and `claim_embedding_keys`: one row per (key, id), read newest first per
  key through the primary key, for the vector search (a bounded read on a stock PostgreSQL
  without extensions). Triggers keep them equal to `factchecks.keys` and
  `claims.embedding_keys`, as migrations 0010 and 0012 do for the similarity keys.
- `claim_matches`: the fact-checks found for a claim, with the matcher's confidence,
  decision and reason, a reviewer's confirmation or rejection, and when `claim.matched`
  announced it (once).

Revision ID: 0019
Revises: 0018
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

# For each owner table: (table, its key column, the rows table, the rows' id column).
KEY_ROWS = (
    ("factchecks", "keys", "factcheck_keys", "factcheck_id"),
    ("claims", "embedding_keys", "claim_embedding_keys", "claim_id"),
)

INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_insert_{column}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO {rows} (key, {id})
    SELECT DISTINCT band.key, inserted.id
      FROM inserted_rows AS inserted, unnest(coalesce(inserted.{column}, '{{}}')) AS band(key);
    RETURN NULL;
END
$$
"""

SYNC_FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_sync_{column}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.{column} IS NOT DISTINCT FROM OLD.{column} THEN
        RETURN NULL;
    END IF;
    DELETE FROM {rows}
     WHERE {rows}.{id} = OLD.id AND {rows}.key = ANY (coalesce(OLD.{column}, '{{}}'));
    IF TG_OP = 'UPDATE' THEN
        INSERT INTO {rows} (key, {id})
        SELECT DISTINCT band.key, NEW.id FROM unnest(coalesce(NEW.{column}, '{{}}')) AS band(key);
    END IF;
    RETURN NULL;
END
$$
"""

TRUNCATE_FUNCTION = """
CREATE OR REPLACE FUNCTION {table}_truncate_{column}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE {rows};
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.create_table(
        "factchecks",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(1000), nullable=False),
        sa.Column("url", sa.Text),
        sa.Column("claim", sa.Text, nullable=False),
        sa.Column("headline", sa.Text),
        sa.Column("rating", sa.Text),
        sa.Column("rating_key", sa.String(50)),
        sa.Column("publisher", sa.Text),
        sa.Column("author", sa.Text),
        sa.Column("claimant", sa.Text),
        sa.Column("licence", sa.Text),
        sa.Column("date", sa.String(10)),
        sa.Column("claim_date", sa.String(10)),
        sa.Column("language", sa.String(35)),
        sa.Column("origin", sa.String(20), nullable=False, server_default="imported"),
        sa.Column("verdict_id", sa.BigInteger, sa.ForeignKey("verdicts.id", ondelete="CASCADE")),
        sa.Column("claim_id", sa.BigInteger, sa.ForeignKey("claims.id", ondelete="SET NULL")),
        sa.Column("imported_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("embedding", sa.LargeBinary, nullable=False),
        sa.Column("headline_embedding", sa.LargeBinary),
        sa.Column(
            "keys",
            postgresql.ARRAY(sa.BigInteger),
            nullable=False,
            server_default=sa.text("'{}'::bigint[]"),
        ),
        sa.Column(
            "search",
            postgresql.TSVECTOR,
            sa.Computed(
                "to_tsvector('english'::regconfig, claim || ' ' || coalesce(headline, ''))",
                persisted=True,
            ),
        ),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint("origin IN ('imported', 'desk')", name=op.f("ck_factchecks_origin")),
        sa.UniqueConstraint("key", name=op.f("uq_factchecks_key")),
        sa.UniqueConstraint("verdict_id", name=op.f("uq_factchecks_verdict_id")),
    )
    op.create_index("ix_factchecks_search", "factchecks", ["search"], postgresql_using="gin")
    op.create_index("ix_factchecks_claim_id", "factchecks", ["claim_id"])
    op.add_column(
        "claims",
        sa.Column(
            "embedding_keys",
            postgresql.ARRAY(sa.BigInteger),
            nullable=False,
            server_default=sa.text("'{}'::bigint[]"),
        ),
    )
    for table, column, rows, id_column in KEY_ROWS:
        names = {"table": table, "column": column, "rows": rows, "id": id_column}
        op.execute(
            f"CREATE TABLE {rows} (key bigint NOT NULL, {id_column} bigint NOT NULL, "
            f"CONSTRAINT pk_{rows} PRIMARY KEY (key, {id_column}))"
        )
        op.execute(INSERT_FUNCTION.format(**names))
        op.execute(
            f"CREATE TRIGGER {table}_insert_{column} AFTER INSERT ON {table} "
            "REFERENCING NEW TABLE AS inserted_rows "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_insert_{column}()"
        )
        op.execute(SYNC_FUNCTION.format(**names))
        op.execute(
            f"CREATE TRIGGER {table}_sync_{column} AFTER DELETE OR UPDATE OF {column} "
            f"ON {table} FOR EACH ROW EXECUTE FUNCTION {table}_sync_{column}()"
        )
        op.execute(TRUNCATE_FUNCTION.format(**names))
        op.execute(
            f"CREATE TRIGGER {table}_truncate_{column} AFTER TRUNCATE ON {table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_truncate_{column}()"
        )
    op.create_table(
        "claim_matches",
        sa.Column(
            "claim_id",
            sa.BigInteger,
            sa.ForeignKey("claims.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "factcheck_id",
            sa.BigInteger,
            sa.ForeignKey("factchecks.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("confidence", sa.Float, nullable=False),
        sa.Column("decision", sa.String(10), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column(
            "agrees", postgresql.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
        sa.Column(
            "disagrees", postgresql.JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
        sa.Column("review", sa.String(10)),
        sa.Column("reviewed_by", sa.BigInteger, sa.ForeignKey("users.id", ondelete="SET NULL")),
        sa.Column("reviewed_at", sa.DateTime(timezone=True)),
        sa.Column("announced_at", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "decision IN ('match', 'suggest', 'none', 'refused')",
            name=op.f("ck_claim_matches_decision"),
        ),
        sa.CheckConstraint(
            "review IS NULL OR review IN ('confirmed', 'rejected')",
            name=op.f("ck_claim_matches_review"),
        ),
    )
    op.create_index("ix_claim_matches_factcheck_id", "claim_matches", ["factcheck_id"])


def downgrade() -> None:
    op.drop_table("claim_matches")
    for table, column, rows, _ in KEY_ROWS:
        for trigger in ("insert", "sync", "truncate"):
            op.execute(f"DROP TRIGGER {table}_{trigger}_{column} ON {table}")
            op.execute(f"DROP FUNCTION {table}_{trigger}_{column}()")
        op.drop_table(rows)
    op.drop_column("claims", "embedding_keys")
    op.drop_table("factchecks")
