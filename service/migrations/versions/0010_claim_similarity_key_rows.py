"""Similar-claim candidates come from one row per (key, claim), read newest first per key.

The GIN index on `claims.similarity_keys` could say which claims share a key, but not in any
order: a read stopped after N rows returned whichever N the scan met first, so a claim's
similar claims could differ from one request to the next. Rows of (key, claim_id) under a
btree give each key's newest claims first, a bounded and repeatable read.

Besides its band keys, a claim with keys gets one more: a hash of all of them, shared only by
claims with the same keys (the same text, give or take case and punctuation), so exact
copies are found however many loosely similar claims share each band.

Triggers keep the rows in step with `claims.similarity_keys` on every insert, update, delete
and truncate, whoever writes the claims.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LOOKUP_KEYS = """
CREATE FUNCTION similarity_lookup_keys(keys bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN cardinality(keys) = 0 THEN keys
                ELSE keys || hashtextextended(keys::text, 0) END
$$
"""

SYNC_FUNCTION = """
CREATE FUNCTION claims_sync_similarity_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
        IF TG_OP = 'UPDATE' AND NEW.similarity_keys IS NOT DISTINCT FROM OLD.similarity_keys THEN
            RETURN NULL;
        END IF;
        DELETE FROM claim_similarity_keys
         WHERE claim_id = OLD.id
           AND key = ANY (similarity_lookup_keys(coalesce(OLD.similarity_keys, '{}')));
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
        INSERT INTO claim_similarity_keys (key, claim_id)
        SELECT DISTINCT key, NEW.id
          FROM unnest(similarity_lookup_keys(coalesce(NEW.similarity_keys, '{}'))) AS key;
    END IF;
    RETURN NULL;
END
$$
"""

TRUNCATE_FUNCTION = """
CREATE FUNCTION claims_truncate_similarity_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE claim_similarity_keys;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    op.execute(LOOKUP_KEYS)
    op.create_table(
        "claim_similarity_keys",
        sa.Column("key", sa.BigInteger(), nullable=False),
        sa.Column("claim_id", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("key", "claim_id", name="pk_claim_similarity_keys"),
    )
    op.execute(SYNC_FUNCTION)
    op.execute(
        "CREATE TRIGGER claims_sync_similarity_keys "
        "AFTER INSERT OR DELETE OR UPDATE OF similarity_keys ON claims "
        "FOR EACH ROW EXECUTE FUNCTION claims_sync_similarity_keys()"
    )
    op.execute(TRUNCATE_FUNCTION)
    op.execute(
        "CREATE TRIGGER claims_truncate_similarity_keys AFTER TRUNCATE ON claims "
        "FOR EACH STATEMENT EXECUTE FUNCTION claims_truncate_similarity_keys()"
    )
    # After the triggers: creating them locked claims against writes until this commits, so
    # no claim written meanwhile can be missed by the rows filled here.
    op.execute(
        "INSERT INTO claim_similarity_keys (key, claim_id) "
        "SELECT DISTINCT key, claims.id FROM claims, "
        "unnest(similarity_lookup_keys(claims.similarity_keys)) AS key"
    )
    op.drop_index("ix_claims_similarity_keys", table_name="claims", postgresql_using="gin")


def downgrade() -> None:
    op.create_index(
        "ix_claims_similarity_keys", "claims", ["similarity_keys"], postgresql_using="gin"
    )
    op.execute("DROP TRIGGER claims_truncate_similarity_keys ON claims")
    op.execute("DROP FUNCTION claims_truncate_similarity_keys()")
    op.execute("DROP TRIGGER claims_sync_similarity_keys ON claims")
    op.execute("DROP FUNCTION claims_sync_similarity_keys()")
    op.drop_table("claim_similarity_keys")
    op.execute("DROP FUNCTION similarity_lookup_keys(bigint[])")
