"""Claims added by reviewers: a span the engine missed, annotated by the same engine."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from service.domain import Conflict, NotFound
from service.domain.audit import record
from service.domain.claims import Actor, check_span, get_claim
from service.domain.extraction import CLAIM_FIELDS
from service.domain.similar_claims import claim_similarity_keys
from service.models import Article, Claim
from workers.extraction.engine import default_engine


def add_claim(session: Session, article_id: int, start: int, end: int, actor: Actor) -> Claim:
    """Add a reviewer's claim on the current revision; 409 if that exact span exists."""
    article = session.execute(
        select(Article.body, Article.revision, Article.language).where(Article.id == article_id)
    ).first()
    if article is None:
        raise NotFound(f"Article {article_id} does not exist.")
    start, end, _ = check_span(article.body, start, end)
    language = article.language.split("-")[0].lower() if article.language else None
    values = default_engine().annotate_span(article.body, start, end, language)
    claim_id = session.scalar(
        pg_insert(Claim)
        .values(
            article_id=article_id,
            revision=article.revision,
            origin="reviewer",
            similarity_keys=claim_similarity_keys(values["text"], values["kind"]),
            **{field: values[field] for field in CLAIM_FIELDS},
        )
        .on_conflict_do_nothing()
        .returning(Claim.id)
    )
    if claim_id is None:
        raise Conflict(f"Article {article_id} already has a claim at {start}..{end}.")
    record(
        session, actor.name, "claim.added", "claim", claim_id,
        after={"article_id": article_id, "start": start, "end": end},
    )  # fmt: skip
    return get_claim(session, claim_id)
