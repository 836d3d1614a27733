"""Review queue: claim lifecycle, assignee, version (ETag), full-text search.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("claims", sa.Column("assignee_id", sa.BigInteger(), nullable=True))
    op.create_foreign_key(
        op.f("fk_claims_assignee_id_users"), "claims", "users", ["assignee_id"], ["id"],
        ondelete="SET NULL",
    )  # fmt: skip
    op.add_column(
        "claims", sa.Column("version", sa.Integer(), server_default=sa.text("1"), nullable=False)
    )
    op.add_column(
        "claims",
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
    )
    op.add_column(
        "claims",
        sa.Column(
            "search",
            postgresql.TSVECTOR(),
            sa.Computed("to_tsvector('english'::regconfig, text)", persisted=True),
            nullable=True,
        ),
    )
    op.create_check_constraint(
        op.f("ck_claims_status"),
        "claims",
        "status IN ('new', 'in_review', 'reviewed', 'published', 'not_checkworthy')",
    )
    op.create_index("ix_claims_search", "claims", ["search"], postgresql_using="gin")
    op.create_index(
        "ix_claims_queue",
        "claims",
        ["status", sa.text("checkworthiness DESC NULLS LAST"), sa.text("id DESC")],
        postgresql_where=sa.text("checkworthy"),
    )
    op.create_index("ix_claims_assignee", "claims", ["assignee_id", "id"])


def downgrade() -> None:
    op.drop_index("ix_claims_assignee", table_name="claims")
    op.drop_index("ix_claims_queue", table_name="claims")
    op.drop_index("ix_claims_search", table_name="claims")
    op.drop_constraint(op.f("ck_claims_status"), "claims", type_="check")
    op.drop_column("claims", "search")
    op.drop_column("claims", "updated_at")
    op.drop_column("claims", "version")
    op.drop_constraint(op.f("fk_claims_assignee_id_users"), "claims", type_="foreignkey")
    op.drop_column("claims", "assignee_id")
