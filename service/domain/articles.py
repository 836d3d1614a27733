"""Submitting, revising and reading articles."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select, text
from sqlalchemy.orm import Session

from service.domain import EVERYTHING, Conflict, Scope, load, not_found
from service.domain.claims.queue import QueuedClaim, queued_claims, shown_columns, visible_claims
from service.domain.outbox import publish_after_commit
from service.models import Article, Claim
from service.vocabulary import EXTRACT_TASK

SUBMITTED_FIELDS = (
    "title",
    "body",
    "url",
    "source",
    "external_id",
    "published_at",
    "language",
    "authors",
)


@dataclass(frozen=True)
class Submitter:
    """Who submits: the stored user id (None for the bootstrap admin), the audit name, and
    the organisation the article belongs to (the namespace of its external id and key)."""

    user_id: int | None
    actor: str
    organization_id: int


@dataclass(frozen=True)
class SubmitResult:
    """The article's summary fields (no body) and whether this call created it."""

    article: dict[str, Any]
    created: bool


@dataclass(frozen=True)
class ClaimCounts:
    total: int
    checkworthy: int


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


# One round trip for the whole submission: the article, its first revision, the promised
# extraction (outbox) and the audit event, all in the caller's transaction. ON CONFLICT DO
# NOTHING covers both idempotency indexes; no row back means a duplicate.
_SUBMIT = text(
    """
    WITH article AS (
        INSERT INTO articles (title, body, url, source, external_id, published_at, language,
                              authors, content_hash, idempotency_key, submitted_by,
                              organization_id)
        VALUES (:title, :body, :url, :source, :external_id, :published_at, :language,
                CAST(:authors AS jsonb), :content_hash, :idempotency_key, :submitted_by,
                :organization_id)
        ON CONFLICT DO NOTHING
        RETURNING *
    ), revision AS (
        INSERT INTO article_revisions (article_id, revision, title, body, content_hash)
        SELECT id, revision, title, body, content_hash FROM article
    ), outbox AS (
        INSERT INTO outbox (task, payload, last_sent_at)
        SELECT :task, jsonb_build_object('article_id', id, 'revision', revision), now()
        FROM article
        RETURNING id
    ), audit AS (
        INSERT INTO audit_log (actor, action, entity_type, entity_id, after)
        SELECT :actor, 'article.submitted', 'article', id,
               jsonb_build_object('source', source, 'external_id', external_id,
                                  'revision', revision, 'content_hash', content_hash)
        FROM article
    )
    SELECT a.id, a.title, a.url, a.source, a.external_id, a.published_at, a.language,
           a.authors, a.status, a.failure_reason, a.revision, a.content_hash, a.created_at,
           a.updated_at, a.processed_at, outbox.id AS outbox_id
    FROM article AS a, outbox
    """
)
# The same fields, for answering with an article that already existed.
_SUMMARY_COLUMNS = (
    Article.id, Article.title, Article.url, Article.source, Article.external_id,
    Article.published_at, Article.language, Article.authors, Article.status,
    Article.failure_reason, Article.revision, Article.content_hash, Article.created_at,
    Article.updated_at, Article.processed_at,
)  # fmt: skip


def submit_article(
    session: Session,
    data: Mapping[str, Any],
    submitter: Submitter,
    *,
    idempotency_key: str | None = None,
) -> SubmitResult:
    """Store a new article (status queued) and promise its extraction, in one transaction.

    Idempotent within the submitter's organisation: the same (source, external_id), or the
    same Idempotency-Key, returns the organisation's existing article; another
    organisation's are never seen. Reusing either for a different body is a Conflict, since
    silently ignoring the new text would lose it.
    """
    values = {field: data.get(field) for field in SUBMITTED_FIELDS}
    values["authors"] = json.dumps(list(values["authors"] or []))
    digest = content_hash(data["body"])
    row = (
        session.execute(
            _SUBMIT,
            {
                **values,
                "content_hash": digest,
                "idempotency_key": idempotency_key,
                "submitted_by": submitter.user_id,
                "organization_id": submitter.organization_id,
                "task": EXTRACT_TASK,
                "actor": submitter.actor,
            },
        )
        .mappings()
        .first()
    )
    if row is None:
        existing = _find_duplicate(session, values, submitter, idempotency_key)
        if existing["content_hash"] != digest:
            raise Conflict(
                f"Article {existing['id']} was already submitted under this "
                f"{'external_id' if values['external_id'] else 'Idempotency-Key'} with a "
                f"different body; revise it with PUT /api/v1/articles/{existing['id']}.",
                article_id=existing["id"],
            )
        return SubmitResult(existing, created=False)
    article = dict(row)
    outbox_id = article.pop("outbox_id")
    publish_after_commit(
        session, EXTRACT_TASK, {"article_id": article["id"], "revision": 1}, outbox_id
    )
    return SubmitResult(article, created=True)


def _find_duplicate(
    session: Session,
    values: Mapping[str, Any],
    submitter: Submitter,
    idempotency_key: str | None,
) -> dict[str, Any]:
    conditions = []
    if values["external_id"] is not None:
        conditions.append(
            and_(
                Article.source.is_not_distinct_from(values["source"]),
                Article.external_id == values["external_id"],
            )
        )
    if idempotency_key is not None:
        conditions.append(Article.idempotency_key == idempotency_key)
    statement = (
        select(*_SUMMARY_COLUMNS)
        .where(Article.organization_id == submitter.organization_id, or_(*conditions))
        .limit(1)
    )
    row = session.execute(statement).mappings().first()
    if row is None:  # the unique indexes make this unreachable short of a bug
        raise RuntimeError("insert conflicted but no duplicate article was found")
    return dict(row)


def submit_articles(
    session: Session,
    items: Iterable[tuple[Mapping[str, Any], str | None]],
    submitter: Submitter,
) -> list[SubmitResult | Conflict]:
    """Submit many (data, idempotency_key) pairs in one transaction; conflicts are per item."""
    results: list[SubmitResult | Conflict] = []
    for data, key in items:
        try:
            results.append(submit_article(session, data, submitter, idempotency_key=key))
        except Conflict as conflict:
            results.append(conflict)
    return results


def summary(article: Article) -> dict[str, Any]:
    return {column.key: getattr(article, column.key) for column in _SUMMARY_COLUMNS}


def get_article(
    session: Session, article_id: int, scope: Scope = EVERYTHING, *, for_update: bool = False
) -> Article:
    """The article, or NotFound when it does not exist or lies outside `scope` (the same
    answer, so a newsroom cannot tell another organisation's article from a missing one)."""
    article = load(session, Article, article_id, for_update=for_update)
    if not scope.sees(article.organization_id):
        raise not_found(Article, article_id)
    return article


def article_detail(session: Session, article_id: int, scope: Scope = EVERYTHING) -> dict[str, Any]:
    """What an article's page shows: its stored columns (not its search vector) and how many
    claims it has, as `scope` may count them."""
    article = get_article(session, article_id, scope)
    return {
        **{c.key: getattr(article, c.key) for c in Article.__table__.columns if c.key != "search"},
        "claim_counts": claim_counts(session, article, scope),
    }


def claim_counts(session: Session, article: Article, scope: Scope = EVERYTHING) -> ClaimCounts:
    """How many claims of the current revision `scope` sees (as `list_claims` lists them),
    and how many are check-worthy."""
    row = session.execute(
        select(
            func.count(),
            func.count().filter(Claim.checkworthy.is_(True)),
        ).where(
            Claim.article_id == article.id,
            Claim.revision == article.revision,
            *visible_claims(scope),
        )
    ).one()
    return ClaimCounts(total=row[0], checkworthy=row[1])


def list_articles(
    session: Session,
    *,
    scope: Scope = EVERYTHING,
    limit: int,
    after_id: int | None = None,
    status: str | None = None,
    source: str | None = None,
    query: str | None = None,
    submitted_since: datetime | None = None,
) -> list[Article]:
    """Newest first, keyset-paginated on id, within `scope`; `query` is English full-text
    search."""
    statement = select(Article).order_by(Article.id.desc()).limit(limit)
    if scope.organization_id is not None:
        statement = statement.where(Article.organization_id == scope.organization_id)
    if after_id is not None:
        statement = statement.where(Article.id < after_id)
    if status is not None:
        statement = statement.where(Article.status == status)
    if source is not None:
        statement = statement.where(Article.source == source)
    if query:
        statement = statement.where(
            Article.search.op("@@")(func.websearch_to_tsquery("english", query))
        )
    if submitted_since is not None:
        statement = statement.where(Article.created_at >= submitted_since)
    return list(session.scalars(statement))


def list_claims(
    session: Session,
    article_id: int,
    *,
    scope: Scope = EVERYTHING,
    limit: int,
    after: tuple[int, int] | None = None,
    checkworthy: bool | None = None,
    orphaned: bool = False,
) -> list[QueuedClaim]:
    """Claims of the article's current revision in text order, keyset-paginated, as
    `scope` may see them (see `claims.queue.visible_claims` and `claims.queue.shown_columns`).

    With `orphaned`, instead the reviewed claims of earlier revisions whose text is gone.
    """
    article = get_article(session, article_id, scope)
    which = Claim.orphaned.is_(True) if orphaned else Claim.revision == article.revision
    statement = (
        select(*shown_columns(scope))
        .where(Claim.article_id == article.id, which, *visible_claims(scope))
        .order_by(Claim.start, Claim.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            or_(Claim.start > after[0], and_(Claim.start == after[0], Claim.id > after[1]))
        )
    if checkworthy is not None:
        statement = statement.where(Claim.checkworthy.is_(checkworthy))
    return queued_claims(session, statement)
