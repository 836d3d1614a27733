"""The reviewer desk's sign-in: server-side sessions, one-time sign-in links, and the key
that signs its CSRF tokens.

- `desk_sessions`: one row per browser session, known by the SHA-256 digest of the random
  value its cookie holds (the value itself is never stored). A session before sign-in holds
  only its CSRF token (`data`); once signed in it names the user and, when signed in with a
  token, that token, so revoking the token or disabling the user ends the session.
  `expires_at` is the idle expiry, moved on as the session is used, never past
  `ends_at` (the absolute one).
- `desk_login_links`: `factcheck users login-link NAME` links, each usable once before it
  expires, stored as digests too.
- `service_keys`: the key Flask-WTF signs CSRF tokens with, made here once so that every API
  process signs alike (FACTCHECK_DESK_SIGNING_KEY overrides it).

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def _now() -> sa.Column[Any]:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
    )


def upgrade() -> None:
    op.create_table(
        "desk_sessions",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.BigInteger, sa.ForeignKey("users.id", ondelete="CASCADE")),
        sa.Column(
            "api_token_id", sa.BigInteger, sa.ForeignKey("api_tokens.id", ondelete="CASCADE")
        ),
        sa.Column(
            "data",
            postgresql.JSONB,
            nullable=False,
            server_default=sa.text("'{}'::jsonb"),
        ),
        _now(),
        sa.Column(
            "seen_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_desk_sessions_expires_at", "desk_sessions", ["expires_at"])
    op.create_index("ix_desk_sessions_user_id", "desk_sessions", ["user_id"])
    op.create_table(
        "desk_login_links",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
        sa.Column(
            "user_id",
            sa.BigInteger,
            sa.ForeignKey("users.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("created_by", sa.String(100), nullable=False),
        _now(),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )
    keys = op.create_table(
        "service_keys",
        sa.Column("name", sa.String(50), primary_key=True),
        sa.Column("value", sa.String(200), nullable=False),
        _now(),
    )
    op.bulk_insert(keys, [{"name": "desk_csrf", "value": secrets.token_hex(32)}])


def downgrade() -> None:
    op.drop_table("service_keys")
    op.drop_table("desk_login_links")
    op.drop_table("desk_sessions")
