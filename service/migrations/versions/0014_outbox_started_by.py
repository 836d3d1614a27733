"""The outbox names the worker that started each message.

A worker that was killed and started again under the same name (a supervisor's or a
container's restart) knows that whatever that name started and did not complete was cut off
with its previous incarnation, and sends it again at once instead of after the task's time
limit.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A nullable column without a default: no table rewrite, a brief lock only.
    op.add_column("outbox", sa.Column("started_by", sa.String(200), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "started_by")
