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
CREATE OR REPLACE FUNCTION similarity_lookup_keys(keys bigint[]) RETURNS bigint[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE WHEN cardinality(keys) = 0 THEN keys
                ELSE keys || hashtextextended(keys::text, 0) END
$$
"""

SYNC_FUNCTION = """
CREATE OR REPLACE FUNCTION claims_sync_similarity_keys() RETURNS trigger LANGUAGE plpgsql AS $$
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
CREATE OR REPLACE FUNCTION claims_truncate_similarity_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE claim_similarity_keys;
    RETURN NULL;
END
$$
"""


BACKFILL_BATCH = 2_000
BACKFILL = sa.text(
    """
    WITH batch AS (
        SELECT id, similarity_keys FROM claims
         WHERE id > :after ORDER BY id LIMIT :batch FOR SHARE
    ), filled AS (
        INSERT INTO claim_similarity_keys (key, claim_id)
        SELECT DISTINCT key, batch.id
          FROM batch, unnest(similarity_lookup_keys(batch.similarity_keys)) AS key
        ON CONFLICT DO NOTHING
    )
    SELECT max(id) FROM batch
    """
)


def upgrade() -> None:
    op.execute(LOOKUP_KEYS)
    op.execute(
        "CREATE TABLE IF NOT EXISTS claim_similarity_keys ("
        "key bigint NOT NULL, claim_id bigint NOT NULL, "
        "CONSTRAINT pk_claim_similarity_keys PRIMARY KEY (key, claim_id))"
    )
    op.execute(SYNC_FUNCTION)
    op.execute(
        "CREATE OR REPLACE TRIGGER claims_sync_similarity_keys "
        "AFTER INSERT OR DELETE OR UPDATE OF similarity_keys ON claims "
        "FOR EACH ROW EXECUTE FUNCTION claims_sync_similarity_keys()"
    )
    op.execute(TRUNCATE_FUNCTION)
    op.execute(
        "CREATE OR REPLACE TRIGGER claims_truncate_similarity_keys AFTER TRUNCATE ON claims "
        "FOR EACH STATEMENT EXECUTE FUNCTION claims_truncate_similarity_keys()"
    )
    # The triggers are committed first, so claims written from now on get their rows; the
    # claims stored before them get theirs in batches, each committed on its own, and the old
    # index goes without blocking reads. Every step can run again after an interruption.
    with op.get_context().autocommit_block():
        backfill(op.get_bind())
        op.execute("DROP INDEX CONCURRENTLY IF EXISTS ix_claims_similarity_keys")


def backfill(connection: sa.Connection, batch: int = BACKFILL_BATCH) -> None:
    """Give every stored claim its lookup rows, BACKFILL_BATCH claims per transaction.

    A batch's claims are locked FOR SHARE while their rows are written, so a concurrent
    change of their keys waits, and its trigger then replaces what was written here.
    """
    after = 0
    while True:
        last = connection.execute(BACKFILL, {"after": after, "batch": batch}).scalar()
        if last is None:
            return
        after = last


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
