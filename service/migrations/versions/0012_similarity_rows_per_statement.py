"""Claims' similarity lookup rows are written once per INSERT statement, not once per row.

The worker stores an article's claims (some fifty) in one INSERT. Migration 0010's row
trigger then ran its function fifty times, each with its own INSERT of nine rows. A statement
trigger reads the inserted claims from a transition table and writes every lookup row with
one INSERT. Updates of the keys and deletes keep the row trigger (a trigger with a transition
table can serve one event only, and not an UPDATE OF a column list).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INSERT_FUNCTION = """
CREATE OR REPLACE FUNCTION claims_insert_similarity_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO claim_similarity_keys (key, claim_id)
    SELECT DISTINCT key, inserted.id
      FROM inserted_claims AS inserted,
           unnest(similarity_lookup_keys(coalesce(inserted.similarity_keys, '{}'))) AS key;
    RETURN NULL;
END
$$
"""

# Migration 0010's function, unchanged: it still serves UPDATE and DELETE.
ROW_TRIGGER_0010 = (
    "CREATE OR REPLACE TRIGGER claims_sync_similarity_keys "
    "AFTER {events} ON claims FOR EACH ROW EXECUTE FUNCTION claims_sync_similarity_keys()"
)


def upgrade() -> None:
    op.execute(INSERT_FUNCTION)
    # One transaction: no insert goes without its rows in between.
    op.execute(ROW_TRIGGER_0010.format(events="DELETE OR UPDATE OF similarity_keys"))
    op.execute(
        "CREATE OR REPLACE TRIGGER claims_insert_similarity_keys AFTER INSERT ON claims "
        "REFERENCING NEW TABLE AS inserted_claims "
        "FOR EACH STATEMENT EXECUTE FUNCTION claims_insert_similarity_keys()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER claims_insert_similarity_keys ON claims")
    op.execute("DROP FUNCTION claims_insert_similarity_keys()")
    op.execute(ROW_TRIGGER_0010.format(events="INSERT OR DELETE OR UPDATE OF similarity_keys"))
