"""The audit log refuses TRUNCATE too, not only UPDATE and DELETE.

Row triggers do not fire on TRUNCATE, so `TRUNCATE audit_log` (or a TRUNCATE ... CASCADE
that reaches it) emptied the append-only log. A statement trigger refuses it with the same
function and error as the row trigger.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute(
        "CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log "
        "FOR EACH STATEMENT EXECUTE FUNCTION audit_log_refuse_change()"
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER IF EXISTS audit_log_no_truncate ON audit_log")
