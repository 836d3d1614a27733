"""Each claim keeps the engine's sentence embedding, for matching it against fact-checks.

`embedding` is the shipped encoder's L2-normalised vector of the claim's text (384 float4s
for all-MiniLM-L6-v2), the same forward pass that fed its check-worthiness score. Claims
stored before this revision have none (NULL) until their article is processed again.
PostgreSQL here has no pgvector: a real[] column, read into numpy for matching.

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable with no default: no table rewrite. Stored out of line (TOAST) when large.
    op.add_column("claims", sa.Column("embedding", postgresql.ARRAY(sa.REAL()), nullable=True))


def downgrade() -> None:
    op.drop_column("claims", "embedding")
