"""Revisions: an article given a new body, and the reviewer work carried onto it.

A new body is a new revision whose claims the engine extracts afresh; when it has, reviewer
work on the earlier revisions is re-anchored on the new body (`carry_over`, called as the
engine's claims are stored) or kept, flagged orphaned, where its text is gone.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.domain import EVERYTHING, Scope
from service.domain.articles import (
    SubmitResult,
    Submitter,
    content_hash,
    get_article,
    summary,
)
from service.domain.audit import record
from service.domain.outbox import enqueue
from service.models import Article, ArticleRevision, Claim, Verdict
from service.vocabulary import EXTRACT_TASK
from workers.extraction.anchoring import anchor
from workers.extraction.engine import CONTEXT_CHARS as CONTEXT


def revise_article(
    session: Session,
    article_id: int,
    data: Mapping[str, Any],
    submitter: Submitter,
    scope: Scope = EVERYTHING,
) -> SubmitResult:
    """A new revision with a new body (claims are re-extracted; reviewer work carried over).

    The same body again changes nothing and is not a new revision (`created` False), unless
    the article's extraction failed: then the same revision is queued again (`created`
    True), the way to retry it. An article outside `scope` is NotFound.
    """
    article = get_article(session, article_id, scope, for_update=True)
    digest = content_hash(data["body"])
    title = data.get("title", article.title)
    if digest == article.content_hash and title == article.title:
        if article.status == "failed":
            return _requeue(session, article, submitter)
        return SubmitResult(summary(article), created=False)
    before = {"revision": article.revision, "content_hash": article.content_hash}
    article.revision += 1
    article.body, article.title, article.content_hash = data["body"], title, digest
    article.status, article.failure_reason, article.processed_at = "queued", None, None
    article.updated_at = func.now()
    session.add(
        ArticleRevision(
            article_id=article.id,
            revision=article.revision,
            title=title,
            body=data["body"],
            content_hash=digest,
        )
    )
    enqueue(session, EXTRACT_TASK, {"article_id": article.id, "revision": article.revision})
    session.flush()
    session.refresh(article)
    record(
        session, submitter.actor, "article.revised", "article", article.id,
        before=before, after={"revision": article.revision, "content_hash": digest},
    )  # fmt: skip
    return SubmitResult(summary(article), created=True)


def _requeue(session: Session, article: Article, submitter: Submitter) -> SubmitResult:
    """Queue a failed revision for extraction again."""
    reason = article.failure_reason
    article.status, article.failure_reason, article.processed_at = "queued", None, None
    article.updated_at = func.now()
    enqueue(session, EXTRACT_TASK, {"article_id": article.id, "revision": article.revision})
    session.flush()
    session.refresh(article)
    record(
        session, submitter.actor, "article.requeued", "article", article.id,
        before={"status": "failed", "failure_reason": reason},
        after={"status": "queued", "revision": article.revision},
    )  # fmt: skip
    return SubmitResult(summary(article), created=True)


def carry_over(session: Session, article_id: int, revision: int) -> set[tuple[int, int]]:
    """Move reviewer work from earlier revisions onto `revision`; returns the spans that
    revision then holds (claims a reviewer added there already included).

    A claim carries reviewer work when it was taken, reviewed, rated, or added or corrected
    by a reviewer.
    If its exact text still anchors (by TextQuoteSelector: text, then prefix and suffix) on
    a span the revision does not hold yet, it moves to the new revision with its id, status
    and verdicts; otherwise it is flagged orphaned and stays where it was, verdicts included.
    """
    body = session.scalar(select(Article.body).where(Article.id == article_id)) or ""
    has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
    worked = session.scalars(
        select(Claim)
        .where(
            Claim.article_id == article_id,
            Claim.revision < revision,
            Claim.orphaned.is_(False),
            # A span a reviewer chose (added, or corrected: kind "span") is reviewer work too.
            or_(
                Claim.status != "new",
                Claim.origin == "reviewer",
                Claim.kind == "span",
                has_verdict,
            ),
        )
        .order_by(Claim.id)
        .with_for_update()
    ).all()
    held = spans_at(session, article_id, revision)
    for claim in worked:
        start = anchor(body, claim.text, claim.prefix, claim.suffix, claim.start)
        end = None if start is None else start + len(claim.text)
        before: dict[str, Any] = {
            "revision": claim.revision,
            "start": claim.start,
            "end": claim.end,
        }
        after: dict[str, Any]
        if start is None or end is None or (start, end) in held:
            claim.orphaned = True
            action, after = "claim.orphaned", {"orphaned": True}
        else:
            shift = start - claim.start
            claim.revision, claim.start, claim.end = revision, start, end
            # Its quantities, dates and entities are offsets into the body too: they move with it.
            claim.quantities = _shifted(claim.quantities, shift)
            claim.dates = _shifted(claim.dates, shift)
            claim.entities = _shifted(claim.entities, shift)
            claim.prefix = body[max(0, start - CONTEXT) : start]
            claim.suffix = body[end : end + CONTEXT]
            held.add((start, end))
            action, after = "claim.carried_over", {"revision": revision, "start": start, "end": end}
        claim.version += 1
        claim.updated_at = func.now()
        session.flush()
        record(session, "system", action, "claim", claim.id, before=before, after=after)
    return held


def spans_at(session: Session, article_id: int, revision: int) -> set[tuple[int, int]]:
    """(start, end) of every claim the revision holds."""
    rows = session.execute(
        select(Claim.start, Claim.end).where(
            Claim.article_id == article_id, Claim.revision == revision
        )
    )
    return {(start, end) for start, end in rows}


def _shifted(spans: list[Any], shift: int) -> list[Any]:
    if not shift or not spans:
        return spans
    return [span | {"start": span["start"] + shift, "end": span["end"] + shift} for span in spans]
