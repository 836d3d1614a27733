"""SQLAlchemy 2 tables. The schema itself is only ever created by the Alembic migrations."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Computed,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, TSVECTOR
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from service.vocabulary import (
    ARTICLE_STATUSES,
    CLAIM_STATUSES,
    DELIVERY_STATUSES,
    FACTCHECK_ORIGINS,
    MATCH_DECISIONS,
    MATCH_REVIEWS,
    ROLES,
    STANCES,
    VERDICT_STATUSES,
)

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# The desk's own organisation (migration 0013): its users by default, and the bootstrap admin.
DESK_ORGANIZATION = "desk"


class Embedding(TypeDecorator[list[float]]):
    """A sentence embedding stored as bytea: its float4s, 4 bytes each in network order (what
    PostgreSQL's float4send writes, so SQL can convert too: migration 0018). Python sees a list
    of floats. A real[] of 384 elements cost the worker 50-90 ms per 700-word article to send
    and parse (bench.ingest); these bytes cost about 1 ms."""

    impl = LargeBinary
    cache_ok = True

    def process_bind_param(self, value: Sequence[float] | None, dialect: Any) -> bytes | None:
        return None if value is None else np.asarray(value, dtype=">f4").tobytes()

    def process_result_value(self, value: bytes | None, dialect: Any) -> list[float] | None:
        if value is None:
            return None
        floats: list[float] = np.frombuffer(value, dtype=">f4").astype(np.float64).tolist()
        return floats


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSONB, list[Any]: JSONB}


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), nullable=False, server_default=func.now())


class Organization(Base):
    """Whom users work for. A newsroom's token reads only its organisation's articles, and
    external ids and idempotency keys are unique within an organisation."""

    __tablename__ = "organizations"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = _now()


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    role: Mapped[str] = mapped_column(String(20))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    created_at: Mapped[datetime] = _now()
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    organization: Mapped[Organization] = relationship(lazy="joined", innerjoin=True)

    __table_args__ = (CheckConstraint(f"role IN {ROLES!r}", name="role"),)


class ApiToken(Base):
    """A bearer token, stored only as its SHA-256 digest (the token itself is shown once)."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = _now()
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Article(Base):
    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    source: Mapped[str | None] = mapped_column(String(200))
    external_id: Mapped[str | None] = mapped_column(String(500))
    idempotency_key: Mapped[str | None] = mapped_column(String(200))
    # The submitter's organisation: the namespace of its external ids and idempotency keys,
    # and whose newsroom tokens may read it.
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id"))
    submitted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    language: Mapped[str | None] = mapped_column(String(35))
    authors: Mapped[list[Any]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revision: Mapped[int] = mapped_column(Integer, server_default=sql_text("1"))
    content_hash: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(20), server_default=sql_text("'queued'"))
    failure_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    processed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Filled when the article is processed (keeping the accept path cheap); tsvector values
    # are capped at 1 MB, so only the head of very long bodies is indexed.
    search: Mapped[Any | None] = mapped_column(TSVECTOR, deferred=True)

    __table_args__ = (
        CheckConstraint(f"status IN {ARTICLE_STATUSES!r}", name="status"),
        Index("ix_articles_search", "search", postgresql_using="gin"),
        Index(
            "uq_articles_source_external_id",
            "organization_id",
            "source",
            "external_id",
            unique=True,
            # Source is optional: an external_id without one must still be submitted once.
            postgresql_nulls_not_distinct=True,
            postgresql_where=sql_text("external_id IS NOT NULL"),
        ),
        Index(
            "uq_articles_idempotency_key",
            "organization_id",
            "idempotency_key",
            unique=True,
            postgresql_where=sql_text("idempotency_key IS NOT NULL"),
        ),
        Index("ix_articles_status_id", "status", "id"),
        Index("ix_articles_source_id", "source", "id"),
        # A newsroom's article list: its organisation's articles, newest first.
        Index("ix_articles_organization_id", "organization_id", "id"),
    )


class ArticleRevision(Base):
    """Every body an article has had; the current one is also on `articles.body`."""

    __tablename__ = "article_revisions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    title: Mapped[str | None] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = _now()

    __table_args__ = (UniqueConstraint("article_id", "revision", name="uq_article_revisions"),)


class Claim(Base):
    """A span of an article body: `body[start:end] == text`, offsets in code points."""

    __tablename__ = "claims"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    revision: Mapped[int] = mapped_column(Integer)
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    prefix: Mapped[str] = mapped_column(Text, server_default=sql_text("''"))
    suffix: Mapped[str] = mapped_column(Text, server_default=sql_text("''"))
    kind: Mapped[str] = mapped_column(String(20), server_default=sql_text("'sentence'"))
    checkworthiness: Mapped[float | None] = mapped_column(Float)
    checkworthy: Mapped[bool | None] = mapped_column(Boolean)
    types: Mapped[list[Any]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    speaker: Mapped[str | None] = mapped_column(Text)
    quantities: Mapped[list[Any]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    dates: Mapped[list[Any]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    entities: Mapped[list[Any]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    language: Mapped[str | None] = mapped_column(String(35))
    # The engine's sentence embedding of `text` (migrations 0017, 0018), deferred: only matching
    # reads it.
    embedding: Mapped[list[float] | None] = mapped_column(Embedding(), deferred=True)
    status: Mapped[str] = mapped_column(String(20), server_default=sql_text("'new'"))
    origin: Mapped[str] = mapped_column(String(20), server_default=sql_text("'engine'"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Bumped on every change: the ETag, so a stale write is refused rather than lost.
    version: Mapped[int] = mapped_column(Integer, server_default=sql_text("1"))
    # Reviewer work whose text no longer appears in a revised article: kept, and flagged.
    orphaned: Mapped[bool] = mapped_column(Boolean, server_default=sql_text("false"))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed("to_tsvector('english'::regconfig, text)", persisted=True),
        deferred=True,
    )
    # LSH band keys of the text (workers.extraction.similarity), written with the text; empty
    # for boilerplate and very short claims. Claims sharing a key are similar-claim candidates,
    # found through ClaimSimilarityKey, which a trigger keeps in step with this column.
    # Deferred: only claim detail reads them, so queue pages don't carry them.
    similarity_keys: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=sql_text("'{}'::bigint[]"), deferred=True
    )
    # Random-hyperplane band keys of the embedding (workers.matching.lsh), written with it;
    # a trigger keeps ClaimEmbeddingKey in step (migration 0019). Matching reads them.
    embedding_keys: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=sql_text("'{}'::bigint[]"), deferred=True
    )

    __table_args__ = (
        CheckConstraint('start >= 0 AND "end" > start', name="span"),
        CheckConstraint(f"status IN {CLAIM_STATUSES!r}", name="status"),
        UniqueConstraint("article_id", "revision", "start", "end", name="uq_claims_span"),
        Index("ix_claims_search", "search", postgresql_using="gin"),
        # The review queue: check-worthy claims by score, newest first within a score.
        Index(
            "ix_claims_queue",
            "status",
            sql_text("checkworthiness DESC NULLS LAST"),
            sql_text("id DESC"),
            postgresql_where=sql_text("checkworthy"),
        ),
        Index(
            "ix_claims_checkworthy_score",
            sql_text("checkworthiness DESC NULLS LAST"),
            sql_text("id DESC"),
            postgresql_where=sql_text("checkworthy"),
        ),
        Index("ix_claims_assignee", "assignee_id", "id"),
    )


class ClaimSimilarityKey(Base):
    """One similar-claim lookup key of a claim (migration 0010): the database writes these.

    A trigger on `claims` keeps them equal to `similarity_lookup_keys(similarity_keys)`: the
    band keys plus one hash of them all. The primary key reads a key's newest claims first.
    """

    __tablename__ = "claim_similarity_keys"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class ClaimEmbeddingKey(Base):
    """One embedding band key of a claim (migration 0019): the database writes these."""

    __tablename__ = "claim_embedding_keys"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    claim_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class OutboxMessage(Base):
    """Work promised in the same transaction as the write that needs it.

    A row is sent at once after commit and re-sent by the relay until `completed_at` is set
    by the task that did the work. `attempts` counts re-sends, `starts` the times a worker
    began the task.
    """

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    task: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = _now()
    last_sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    attempts: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    starts: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    started_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # The worker (Celery node name) that started it last.
    started_by: Mapped[str | None] = mapped_column(String(200))
    completed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index("ix_outbox_pending", "id", postgresql_where=sql_text("completed_at IS NULL")),
    )


class Verdict(Base):
    """A reviewer's rating of a claim. Published verdicts are never edited, only corrected:
    a correction is a new published verdict that supersedes the old one, which is kept."""

    __tablename__ = "verdicts"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claims.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(100))
    rating: Mapped[str] = mapped_column(String(50))
    summary: Mapped[str] = mapped_column(Text)
    rationale: Mapped[str | None] = mapped_column(Text)
    confidence: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20), server_default=sql_text("'proposed'"))
    version: Mapped[int] = mapped_column(Integer, server_default=sql_text("1"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("verdicts.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    published_by: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(f"status IN {VERDICT_STATUSES!r}", name="status"),
        CheckConstraint("confidence IS NULL OR confidence BETWEEN 0 AND 1", name="confidence"),
        Index("ix_verdicts_claim", "claim_id", "id"),
        # At most one published verdict per claim: a correction supersedes the old one.
        Index(
            "uq_verdicts_published",
            "claim_id",
            unique=True,
            postgresql_where=sql_text("status = 'published'"),
        ),
    )


class Evidence(Base):
    __tablename__ = "evidence"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    verdict_id: Mapped[int] = mapped_column(ForeignKey("verdicts.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    url: Mapped[str] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    publisher: Mapped[str | None] = mapped_column(Text)
    excerpt: Mapped[str | None] = mapped_column(Text)
    stance: Mapped[str] = mapped_column(String(20))
    archived_url: Mapped[str | None] = mapped_column(Text)
    accessed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"stance IN {STANCES!r}", name="stance"),
        Index("ix_evidence_verdict", "verdict_id", "position"),
    )


class AuditEvent(Base):
    """Append-only: triggers refuse UPDATE, DELETE and TRUNCATE on this table, and the
    service's database role may only read and insert (`service.migrations.app_role`)."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    actor: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(100))
    entity_type: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[int | None] = mapped_column(BigInteger)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    at: Mapped[datetime] = _now()

    __table_args__ = (
        Index("ix_audit_log_entity", "entity_type", "entity_id", "id"),
        {"info": {"append_only": True}},
    )


class WebhookSubscription(Base):
    """A receiver of signed event deliveries.

    The secret is stored as is, because signing needs it; it is shown to the subscriber once
    and never listed or logged. A subscription is disabled (not deleted) after repeated
    failed deliveries, so its delivery log stays readable.
    """

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[list[Any]] = mapped_column(JSONB)
    description: Mapped[str | None] = mapped_column(Text)
    secret: Mapped[str] = mapped_column(String(100))
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    consecutive_failures: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    # Attempts in a row that failed in a way worth retrying (migration 0016); from the
    # policy's `pause_after` on, deliveries wait for `paused_until`, then one probes.
    failing_attempts: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    paused_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    disabled_reason: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        # Emitting an event looks up the active subscriptions to it.
        Index(
            "ix_webhooks_active_events",
            "events",
            postgresql_using="gin",
            postgresql_where=sql_text("disabled_at IS NULL"),
        ),
    )


class WebhookDelivery(Base):
    """One event for one subscription: its payload, and how sending it went."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    webhook_id: Mapped[int] = mapped_column(ForeignKey("webhooks.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(50))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    status: Mapped[str] = mapped_column(String(20), server_default=sql_text("'pending'"))
    attempts: Mapped[int] = mapped_column(Integer, server_default=sql_text("0"))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = _now()
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Set while an attempt is in flight: the worker that claimed it has it until then.
    sending_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        Index("ix_webhook_deliveries_webhook", "webhook_id", "id"),
        # The sweeper looks for pending retries that are overdue.
        Index(
            "ix_webhook_deliveries_due",
            "next_attempt_at",
            postgresql_where=sql_text("status = 'pending'"),
        ),
    )


class FactCheck(Base):
    """A reviewed claim with its rating, publisher, URL, date, language and licence: imported,
    or the desk's own published verdict (`origin` "desk", with its verdict and claim).

    Known by `key`, its review URL (or `id:<value>` for a research set without URLs), so an
    import of the same record updates it in place.
    """

    __tablename__ = "factchecks"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(1000), unique=True)
    url: Mapped[str | None] = mapped_column(Text)
    claim: Mapped[str] = mapped_column(Text)
    headline: Mapped[str | None] = mapped_column(Text)
    # The rating as published, and its key on the service's scale where it maps to one.
    rating: Mapped[str | None] = mapped_column(Text)
    rating_key: Mapped[str | None] = mapped_column(String(50))
    publisher: Mapped[str | None] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    claimant: Mapped[str | None] = mapped_column(Text)
    licence: Mapped[str | None] = mapped_column(Text)
    date: Mapped[str | None] = mapped_column(String(10))
    claim_date: Mapped[str | None] = mapped_column(String(10))
    language: Mapped[str | None] = mapped_column(String(35))
    origin: Mapped[str] = mapped_column(String(20), server_default=sql_text("'imported'"))
    verdict_id: Mapped[int | None] = mapped_column(
        ForeignKey("verdicts.id", ondelete="CASCADE"), unique=True
    )
    claim_id: Mapped[int | None] = mapped_column(
        ForeignKey("claims.id", ondelete="SET NULL"), index=True
    )
    imported_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    embedding: Mapped[list[float]] = mapped_column(Embedding(), deferred=True)
    headline_embedding: Mapped[list[float] | None] = mapped_column(Embedding(), deferred=True)
    # Band keys of both embeddings (workers.matching.lsh); a trigger keeps FactCheckKey in step.
    keys: Mapped[list[int]] = mapped_column(
        ARRAY(BigInteger), server_default=sql_text("'{}'::bigint[]"), deferred=True
    )
    search: Mapped[Any] = mapped_column(
        TSVECTOR,
        Computed(
            "to_tsvector('english'::regconfig, claim || ' ' || coalesce(headline, ''))",
            persisted=True,
        ),
        deferred=True,
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(f"origin IN {FACTCHECK_ORIGINS!r}", name="origin"),
        Index("ix_factchecks_search", "search", postgresql_using="gin"),
    )


class FactCheckKey(Base):
    """One embedding band key of a fact-check (migration 0019): the database writes these."""

    __tablename__ = "factcheck_keys"

    key: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    factcheck_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)


class ClaimMatch(Base):
    """A fact-check found for a claim: the matcher's confidence, decision and reason, and a
    reviewer's confirmation or rejection (a rejected match is never shown for the claim)."""

    __tablename__ = "claim_matches"

    claim_id: Mapped[int] = mapped_column(
        ForeignKey("claims.id", ondelete="CASCADE"), primary_key=True
    )
    factcheck_id: Mapped[int] = mapped_column(
        ForeignKey("factchecks.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    confidence: Mapped[float] = mapped_column(Float)
    decision: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str] = mapped_column(Text)
    agrees: Mapped[list[Any]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    disagrees: Mapped[list[Any]] = mapped_column(JSONB, server_default=sql_text("'[]'::jsonb"))
    review: Mapped[str | None] = mapped_column(String(10))
    reviewed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # When `claim.matched` announced it (set once, in the transaction that emits it).
    announced_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()

    __table_args__ = (
        CheckConstraint(f"decision IN {MATCH_DECISIONS!r}", name="decision"),
        CheckConstraint(f"review IS NULL OR review IN {MATCH_REVIEWS!r}", name="review"),
    )


class DeskSession(Base):
    """A browser session of the reviewer desk, known by the digest of its cookie's value.

    Before sign-in it holds only its CSRF token (`data`); signed in, it names the user and
    the token it was opened with (None for a sign-in link), and ends with either.
    """

    __tablename__ = "desk_sessions"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    api_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="CASCADE")
    )
    data: Mapped[dict[str, Any]] = mapped_column(JSONB, server_default=sql_text("'{}'::jsonb"))
    created_at: Mapped[datetime] = _now()
    seen_at: Mapped[datetime] = _now()
    # Idle expiry, moved on as the session is used but never past `ends_at`.
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DeskLoginLink(Base):
    """A one-time sign-in link (`factcheck users login-link`), stored as its digest."""

    __tablename__ = "desk_login_links"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    created_by: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = _now()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class ServiceKey(Base):
    """Keys the service makes for itself once (the desk's CSRF signing key)."""

    __tablename__ = "service_keys"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = _now()
