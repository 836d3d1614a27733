"""Storing what the extraction engine found, exactly once per article revision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from service.domain.outbox import complete
from service.models import Article, Claim

# What full-text search on articles matches: the title and the head of the body.
SEARCH_VECTOR = func.to_tsvector(
    literal_column("'english'::regconfig"),
    func.coalesce(Article.title, "") + " " + func.left(Article.body, 200_000),
)

CLAIM_FIELDS = (
    "start",
    "end",
    "text",
    "prefix",
    "suffix",
    "kind",
    "checkworthiness",
    "checkworthy",
    "types",
    "speaker",
    "quantities",
    "dates",
    "entities",
    "language",
)


def start_extraction(
    session: Session, article_id: int, revision: int
) -> tuple[str, str | None] | None:
    """Mark the revision `processing`; its (body, declared language), or None if nothing to do.

    Nothing to do: the article is gone, was revised since, or this revision is already
    processed or failed (a re-delivered or repeated task).
    """
    row = session.execute(
        update(Article)
        .where(
            Article.id == article_id,
            Article.revision == revision,
            Article.status.in_(("queued", "processing")),
        )
        .values(status="processing", updated_at=func.now())
        .returning(Article.body, Article.language)
    ).first()
    if row is None:
        return None
    # A declared "en-GB" is scored as "en"; the engine detects when nothing is declared.
    language = row.language.split("-")[0].lower() if row.language else None
    return row.body, language


def store_claims(
    session: Session,
    article_id: int,
    revision: int,
    claims: Sequence[Mapping[str, Any]],
    *,
    outbox_id: int | None = None,
) -> bool:
    """Replace the engine's claims of this revision and mark it processed; False if stale.

    The article row is locked first, so two deliveries of the same task serialise here and
    the second finds the revision processed: exactly one set of claims survives.
    """
    status = session.scalar(
        select(Article.status)
        .where(Article.id == article_id, Article.revision == revision)
        .with_for_update()
    )
    complete(session, outbox_id)
    if status not in ("queued", "processing"):
        return False
    session.execute(
        delete(Claim).where(
            Claim.article_id == article_id,
            Claim.revision == revision,
            Claim.origin == "engine",
        )
    )
    if claims:
        session.execute(
            insert(Claim),
            [
                {"article_id": article_id, "revision": revision, "origin": "engine"}
                | {field: claim[field] for field in CLAIM_FIELDS if field in claim}
                for claim in claims
            ],
        )
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(
            status="processed",
            failure_reason=None,
            processed_at=func.now(),
            updated_at=func.now(),
            search=SEARCH_VECTOR,
        )
    )
    return True


def fail_extraction(
    session: Session,
    article_id: int,
    revision: int,
    reason: str,
    *,
    outbox_id: int | None = None,
) -> None:
    """Mark the revision failed with a reason a newsroom engineer can act on."""
    complete(session, outbox_id)
    session.execute(
        update(Article)
        .where(
            Article.id == article_id,
            Article.revision == revision,
            Article.status.in_(("queued", "processing")),
        )
        .values(status="failed", failure_reason=reason[:2000], updated_at=func.now())
    )
