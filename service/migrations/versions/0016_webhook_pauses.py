"""A subscription whose receiver keeps failing is paused, not retried by every worker at once.

`failing_attempts` counts attempts in a row that timed out, could not connect or got a 5xx or
429; from `FACTCHECK_WEBHOOK_PAUSE_AFTER` of them on, deliveries to it wait until
`paused_until` (growing pauses), then one attempt probes the receiver for all of them. A
slow or dead receiver then costs the webhook workers one attempt per pause instead of one
per delivery, and the other subscribers' deliveries are not queued behind its.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A constant default and a nullable column: no table rewrite.
    op.add_column(
        "webhooks",
        sa.Column("failing_attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
    )
    op.add_column("webhooks", sa.Column("paused_until", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    op.drop_column("webhooks", "paused_until")
    op.drop_column("webhooks", "failing_attempts")
