"""Submitting, revising and reading articles."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from service.domain import Conflict, NotFound
from service.domain.audit import record
from service.domain.outbox import enqueue
from service.models import Article, ArticleRevision, Claim

EXTRACT_TASK = "factcheck.extract_claims"

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
    """Who submits: the stored user id (None for the bootstrap admin) and the audit name."""

    user_id: int | None
    actor: str


@dataclass(frozen=True)
class SubmitResult:
    article: Article
    created: bool


@dataclass(frozen=True)
class ClaimCounts:
    total: int
    checkworthy: int


def content_hash(body: str) -> str:
    return hashlib.sha256(body.encode("utf-8")).hexdigest()


def submit_article(
    session: Session,
    data: Mapping[str, Any],
    submitter: Submitter,
    *,
    idempotency_key: str | None = None,
) -> SubmitResult:
    """Store a new article (status queued) and promise its extraction, in one transaction.

    Idempotent: the same (source, external_id), or the same Idempotency-Key from the same
    submitter, returns the existing article. Reusing either for a different body is a
    Conflict, since silently ignoring the new text would lose it.
    """
    values = {field: data.get(field) for field in SUBMITTED_FIELDS}
    values["authors"] = list(values["authors"] or [])
    digest = content_hash(data["body"])
    article_id = session.scalar(
        insert(Article)
        .values(
            **values,
            content_hash=digest,
            idempotency_key=idempotency_key,
            submitted_by=submitter.user_id,
        )
        .on_conflict_do_nothing()
        .returning(Article.id)
    )
    if article_id is None:
        existing = _find_duplicate(session, values, submitter, idempotency_key)
        if existing.content_hash != digest:
            raise Conflict(
                f"Article {existing.id} was already submitted under this "
                f"{'external_id' if values['external_id'] else 'Idempotency-Key'} with a "
                f"different body; revise it with PUT /api/v1/articles/{existing.id}.",
                article_id=existing.id,
            )
        return SubmitResult(existing, created=False)

    session.add(
        ArticleRevision(
            article_id=article_id,
            revision=1,
            title=values["title"],
            body=values["body"],
            content_hash=digest,
        )
    )
    enqueue(session, EXTRACT_TASK, {"article_id": article_id, "revision": 1})
    record(
        session,
        submitter.actor,
        "article.submitted",
        "article",
        article_id,
        after={
            "source": values["source"],
            "external_id": values["external_id"],
            "revision": 1,
            "content_hash": digest,
        },
    )
    article = session.get_one(Article, article_id)
    return SubmitResult(article, created=True)


def _find_duplicate(
    session: Session,
    values: Mapping[str, Any],
    submitter: Submitter,
    idempotency_key: str | None,
) -> Article:
    conditions = []
    if values["external_id"] is not None:
        conditions.append(
            and_(
                Article.source.is_not_distinct_from(values["source"]),
                Article.external_id == values["external_id"],
            )
        )
    if idempotency_key is not None:
        conditions.append(
            and_(
                Article.submitted_by.is_not_distinct_from(submitter.user_id),
                Article.idempotency_key == idempotency_key,
            )
        )
    article = session.scalars(select(Article).where(or_(*conditions)).limit(1)).first()
    if article is None:  # the unique indexes make this unreachable short of a bug
        raise RuntimeError("insert conflicted but no duplicate article was found")
    return article


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


def get_article(session: Session, article_id: int) -> Article:
    article = session.get(Article, article_id)
    if article is None:
        raise NotFound(f"Article {article_id} does not exist.")
    return article


def claim_counts(session: Session, article: Article) -> ClaimCounts:
    """How many claims the current revision has, and how many are check-worthy."""
    row = session.execute(
        select(
            func.count(),
            func.count().filter(Claim.checkworthy.is_(True)),
        ).where(Claim.article_id == article.id, Claim.revision == article.revision)
    ).one()
    return ClaimCounts(total=row[0], checkworthy=row[1])


def list_articles(
    session: Session,
    *,
    limit: int,
    after_id: int | None = None,
    status: str | None = None,
    source: str | None = None,
    query: str | None = None,
    submitted_since: datetime | None = None,
) -> list[Article]:
    """Newest first, keyset-paginated on id; `query` is English full-text search."""
    statement = select(Article).order_by(Article.id.desc()).limit(limit)
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
    limit: int,
    after: tuple[int, int] | None = None,
    checkworthy: bool | None = None,
) -> list[Claim]:
    """Claims of the article's current revision in text order, keyset-paginated."""
    article = get_article(session, article_id)
    statement = (
        select(Claim)
        .where(Claim.article_id == article.id, Claim.revision == article.revision)
        .order_by(Claim.start, Claim.id)
        .limit(limit)
    )
    if after is not None:
        statement = statement.where(
            or_(Claim.start > after[0], and_(Claim.start == after[0], Claim.id > after[1]))
        )
    if checkworthy is not None:
        statement = statement.where(Claim.checkworthy.is_(checkworthy))
    return list(session.scalars(statement))
