"""The outbox counts how often a worker started each message, not only how often it was sent.

A message waiting its turn in a backlog was re-sent every redelivery period and, after the
maximum number of re-sends, given up on and its article marked failed, although no worker
had tried it. Giving up now needs that many *worker starts* without completion (work that
kills its worker every time); re-sends back off instead.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "outbox", sa.Column("starts", sa.Integer(), server_default=sa.text("0"), nullable=False)
    )
    op.add_column("outbox", sa.Column("started_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "started_at")
    op.drop_column("outbox", "starts")
