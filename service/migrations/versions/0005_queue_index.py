"""The unfiltered review queue (check-worthy, by score) gets an index of its own.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_claims_checkworthy_score",
        "claims",
        [sa.text("checkworthiness DESC NULLS LAST"), sa.text("id DESC")],
        postgresql_where=sa.text("checkworthy"),
    )


def downgrade() -> None:
    op.drop_index("ix_claims_checkworthy_score", table_name="claims")
