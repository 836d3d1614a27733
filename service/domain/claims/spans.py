"""Spans: a claim a reviewer adds on a span the engine missed, a claim's span corrected.
Either way the engine annotates the span as it would have, and a span is one claim per
revision.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from service.domain import Actor, Conflict, Unprocessable, load, not_found
from service.domain.audit import record
from service.domain.claims.fields import ENGINE_FIELDS
from service.domain.similar_claims import lookup_keys_of
from service.models import Article, Claim
from workers.extraction.engine import Engine

# One claim per span of a revision.
SPAN_CONSTRAINT = "uq_claims_span"


def add_claim(
    session: Session, article_id: int, start: int, end: int, actor: Actor, extractor: Engine
) -> Claim:
    """Add a reviewer's claim on the current revision; 409 if that exact span exists."""
    article = session.execute(
        select(Article.body, Article.revision, Article.language).where(Article.id == article_id)
    ).first()
    if article is None:
        raise not_found(Article, article_id)
    values = annotate_span(article.body, article.language, start, end, extractor)
    claim_id = session.scalar(
        pg_insert(Claim)
        .values(article_id=article_id, revision=article.revision, origin="reviewer", **values)
        .on_conflict_do_nothing()
        .returning(Claim.id)
    )
    if claim_id is None:
        raise span_taken(session, article_id, article.revision, start, end)
    record(
        session, actor.name, "claim.added", "claim", claim_id,
        after={"article_id": article_id, "start": start, "end": end},
    )  # fmt: skip
    return load(session, Claim, claim_id)


def correct_span(session: Session, claim: Claim, start: int, end: int, extractor: Engine) -> None:
    """Move the claim to the span start..end, annotated afresh by `extractor`; a span that
    is already another claim of the revision is a Conflict naming it."""
    article = session.execute(
        select(Article.body, Article.language).where(Article.id == claim.article_id)
    ).one()
    article_id, revision = claim.article_id, claim.revision
    values = annotate_span(article.body, article.language, start, end, extractor)
    try:
        # Changed inside the savepoint, so a refused span rolls back to it and no further:
        # the transaction stays usable to name the claim that holds the span.
        with session.begin_nested():
            for field, value in values.items():
                setattr(claim, field, value)
            session.flush()
    except IntegrityError as error:
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) != SPAN_CONSTRAINT:
            raise
        raise span_taken(session, article_id, revision, start, end) from None


def annotate_span(
    body: str, language: str | None, start: int, end: int, extractor: Engine
) -> dict[str, Any]:
    """A reviewer's span of `body` as the engine annotates it: every stored field of its claim.

    `language` is the article's declared one ("en-GB" is scored as "en"), None to detect it.
    """
    start, end, _ = check_span(body, start, end)
    values = extractor.annotate_span(body, start, end, language)
    return {field: values[field] for field in ENGINE_FIELDS} | lookup_keys_of([values])[0]


def span_taken(session: Session, article_id: int, revision: int, start: int, end: int) -> Conflict:
    """The conflict for a span that is already a claim of this revision, naming that claim."""
    with session.no_autoflush:  # a refused change may still be pending
        existing = session.scalar(
            select(Claim.id).where(
                Claim.article_id == article_id,
                Claim.revision == revision,
                Claim.start == start,
                Claim.end == end,
            )
        )
    return Conflict(
        f"Article {article_id} already has claim {existing} at {start}..{end}.",
        claim_id=existing,
    )


def check_span(body: str, start: int, end: int) -> tuple[int, int, str]:
    """A span must lie in the body and hold text; returns (start, end, text). A span that
    does not is unprocessable input (422); one that is already a claim is a conflict (409)."""
    if not 0 <= start < end <= len(body):
        raise _bad_span(f"The span {start}..{end} is outside the body (0..{len(body)}).")
    text = body[start:end]
    if not text.strip():
        raise _bad_span(f"The span {start}..{end} holds only whitespace.")
    return start, end, text


def _bad_span(message: str) -> Unprocessable:
    return Unprocessable(message, errors={"start": [message], "end": [message]})
