"""Storing what the extraction engine found, exactly once per article revision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

from service.domain.audit import record
from service.domain.claims.fields import ENGINE_FIELDS
from service.domain.outbox import complete, enqueue
from service.domain.revisions import carry_over, spans_at
from service.domain.similar_claims import lookup_keys_of
from service.domain.webhooks import article_event, emit
from service.models import Article, Claim
from service.vocabulary import MATCH_CLAIMS_TASK, PENDING_ARTICLE_STATUSES

# What full-text search on articles matches: the title and the head of the body.
SEARCH_VECTOR = func.to_tsvector(
    literal_column("'english'::regconfig"),
    func.coalesce(Article.title, "") + " " + func.left(Article.body, 200_000),
)

MAX_FAILURE_REASON = 2_000


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
            Article.status.in_(PENDING_ARTICLE_STATUSES),
        )
        .values(status="processing", updated_at=func.now())
        .returning(Article.body, Article.language)
    ).first()
    if row is None:
        return None
    # The engine reads a declared "en-GB" as "en", and detects when nothing is declared.
    return row.body, row.language


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
    if status not in PENDING_ARTICLE_STATUSES:
        return False
    session.execute(
        delete(Claim).where(
            Claim.article_id == article_id,
            Claim.revision == revision,
            Claim.origin == "engine",
        )
    )
    # Spans this revision already holds: claims a reviewer added before the engine ran, and
    # reviewer work carried over from the last revision. Reviewer work wins over the engine.
    if revision > 1:
        held = carry_over(session, article_id, revision)
    else:
        held = spans_at(session, article_id, revision)
    claims = [c for c in claims if (c["start"], c["end"]) not in held]
    if claims:
        keys = lookup_keys_of(claims)
        session.execute(
            # NULLs rendered as such, so every row has the same columns and the claims go in
            # one INSERT: left out (the default), a None splits the rows into a statement per
            # run of rows with the same columns, some twenty per article.
            insert(Claim).execution_options(render_nulls=True),
            [
                {"article_id": article_id, "revision": revision, "origin": "engine"}
                | {field: claim[field] for field in ENGINE_FIELDS if field in claim}
                | claim_keys
                for claim, claim_keys in zip(claims, keys, strict=True)
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
    record(
        session, "system", "article.processed", "article", article_id,
        before={"revision": revision, "status": status},
        after={
            "revision": revision, "status": "processed",
            "engine_claims": len(claims), "reviewer_spans_kept": len(held),
        },
    )  # fmt: skip
    emit(session, "article.processed", article_event(session, article_id))
    # Matched against the fact-checks apart, so a slow match never holds up extraction.
    enqueue(session, MATCH_CLAIMS_TASK, {"article_id": article_id, "revision": revision})
    return True


def settle_extraction(
    session: Session, payload: Mapping[str, Any], outbox_id: int, reason: str
) -> None:
    """The outbox gave up on an extraction message: the revision fails with `reason`."""
    fail_extraction(
        session, payload["article_id"], payload["revision"], reason, outbox_id=outbox_id
    )


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
    reason = reason[:MAX_FAILURE_REASON]
    failed = session.execute(
        update(Article)
        .where(
            Article.id == article_id,
            Article.revision == revision,
            Article.status.in_(PENDING_ARTICLE_STATUSES),
        )
        .values(status="failed", failure_reason=reason, updated_at=func.now())
        .returning(Article.id)
    ).first()
    if failed is not None:
        record(
            session, "system", "article.failed", "article", article_id,
            after={"revision": revision, "status": "failed", "failure_reason": reason},
        )  # fmt: skip
        emit(session, "article.failed", article_event(session, article_id))
