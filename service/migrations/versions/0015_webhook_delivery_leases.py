"""A webhook delivery being sent holds a lease instead of a row lock.

The worker claims the delivery (its attempt counted, `sending_until` set) and commits before
contacting the receiver, then records the outcome in a second transaction: a slow receiver
no longer keeps a transaction open, nor makes the deletion of its subscription wait. A lease
that lapsed (its worker was killed) is found by the `resume_webhooks` sweep through the
existing partial index of pending deliveries.

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default: no table rewrite, a brief lock only.
    op.add_column(
        "webhook_deliveries",
        sa.Column("sending_until", sa.DateTime(timezone=True), nullable=True),
    )


def downgrade() -> None:
    op.drop_column("webhook_deliveries", "sending_until")
