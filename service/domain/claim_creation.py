"""Claims added by reviewers: a span the engine missed, annotated by the same engine."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from service.domain import NotFound
from service.domain.audit import record
from service.domain.claims import Actor, annotate_span, get_claim, span_taken
from service.models import Article, Claim
from workers.extraction.engine import Engine


def add_claim(
    session: Session, article_id: int, start: int, end: int, actor: Actor, extractor: Engine
) -> Claim:
    """Add a reviewer's claim on the current revision; 409 if that exact span exists."""
    article = session.execute(
        select(Article.body, Article.revision, Article.language).where(Article.id == article_id)
    ).first()
    if article is None:
        raise NotFound(f"Article {article_id} does not exist.")
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
    return get_claim(session, claim_id)
