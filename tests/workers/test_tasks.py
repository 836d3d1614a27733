"""Tasks run in-process (Celery's `apply`) against the real database and broker."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import select

from service.db import session_scope
from service.domain.articles import submit_article
from service.models import Article, Claim, OutboxMessage
from tests.factories import desk_submitter
from workers.celery_app import make_celery
from workers.extraction.engine import Engine, extract

BODY = "The dam holds 3 billion litres. Officials said it was safe."


def test_claims_the_database_refuses_fail_the_article_at_once(settings, sessions, monkeypatch):
    """A refusal would repeat on every delivery: the article fails now, with the reason."""
    celery = make_celery(settings)
    import workers.tasks  # noqa: F401 (registers the tasks with every app)

    with session_scope(sessions) as session:
        article_id = submit_article(session, {"body": BODY}, desk_submitter(session)).article["id"]
        outbox_id = session.scalars(select(OutboxMessage.id)).one()
    broken = [dict(claim, start=claim["end"] + 1) for claim in extract(BODY)]  # end < start
    monkeypatch.setattr(Engine, "extract", lambda self, body, language=None: broken)

    result = celery.tasks["factcheck.extract_claims"].apply(
        kwargs={"article_id": article_id, "revision": 1, "outbox_id": outbox_id}
    )
    assert result.get() == "failed"
    with session_scope(sessions) as session:
        article = session.get_one(Article, article_id)
        assert article.status == "failed"
        assert "could not be stored: CheckViolation" in (article.failure_reason or "")
        assert session.get_one(OutboxMessage, outbox_id).completed_at is not None
        assert session.scalars(select(Claim.id)).all() == []


def test_an_article_with_more_candidates_than_allowed_fails_with_the_reason(
    settings, sessions, monkeypatch
):
    """However high the API's limit is set, one article cannot fill the queue."""
    import workers.tasks

    monkeypatch.setattr(workers.tasks, "_resources", None)  # built again with these settings
    celery = make_celery(replace(settings, max_article_claims=10))
    body = "Rents rose 4% in May. " * 11
    with session_scope(sessions) as session:
        article_id = submit_article(session, {"body": body}, desk_submitter(session)).article["id"]
        outbox_id = session.scalars(select(OutboxMessage.id)).one()

    result = celery.tasks["factcheck.extract_claims"].apply(
        kwargs={"article_id": article_id, "revision": 1, "outbox_id": outbox_id}
    )
    assert result.get() == "failed"
    with session_scope(sessions) as session:
        article = session.get_one(Article, article_id)
        assert article.status == "failed"
        assert article.failure_reason == (
            "the article has more than 10 candidate claims, the most "
            "FACTCHECK_MAX_ARTICLE_CLAIMS allows: submit it in smaller parts"
        )
        assert session.get_one(OutboxMessage, outbox_id).completed_at is not None
        assert session.scalars(select(Claim.id)).all() == []


def test_every_stored_claim_keeps_the_embedding_its_score_came_from(settings, sessions):
    """One forward pass per sentence: the worker stores the vector the model scored."""
    import workers.tasks  # noqa: F401 (registers the tasks with every app)

    celery = make_celery(settings)
    with session_scope(sessions) as session:
        article_id = submit_article(session, {"body": BODY}, desk_submitter(session)).article["id"]
        outbox_id = session.scalars(select(OutboxMessage.id)).one()
    result = celery.tasks["factcheck.extract_claims"].apply(
        kwargs={"article_id": article_id, "revision": 1, "outbox_id": outbox_id}
    )
    assert result.get() == "processed"
    expected = {(c["start"], c["end"]): c for c in extract(BODY)}
    with session_scope(sessions) as session:
        stored = session.execute(
            select(Claim.start, Claim.end, Claim.embedding, Claim.checkworthiness)
        ).all()
    assert stored
    assert {(row.start, row.end) for row in stored} == set(expected)
    for row in stored:
        claim = expected[(row.start, row.end)]
        assert len(row.embedding) == 384
        assert (
            max(abs(a - b) for a, b in zip(row.embedding, claim["embedding"], strict=True)) < 1e-6
        )
        assert row.checkworthiness == claim["checkworthiness"]
