"""Storing engine output: exactly one set of claims per revision, whatever is re-delivered."""

from __future__ import annotations

from sqlalchemy import func, select, update

from service.db import session_scope
from service.domain.articles import submit_article
from service.domain.extraction import fail_extraction, start_extraction, store_claims
from service.models import Article, AuditEvent, Claim, OutboxMessage
from tests.factories import desk_submitter
from workers.extraction.engine import extract

BODY = "The dam holds 3 billion litres. Officials said it was safe. Critics disagree."


def submitted(sessions) -> tuple[int, int]:
    with session_scope(sessions) as session:
        result = submit_article(session, {"body": BODY}, desk_submitter(session))
        outbox_id = session.scalar(select(func.max(OutboxMessage.id)))
        return result.article["id"], outbox_id


def claim_count(sessions, article_id: int) -> int:
    with session_scope(sessions) as session:
        return session.scalar(
            select(func.count()).select_from(Claim).where(Claim.article_id == article_id)
        )


def article_events(sessions, article_id: int) -> list[tuple[str, str, dict | None]]:
    with session_scope(sessions) as session:
        rows = session.execute(
            select(AuditEvent.actor, AuditEvent.action, AuditEvent.after)
            .where(AuditEvent.entity_type == "article", AuditEvent.entity_id == article_id)
            .order_by(AuditEvent.id)
        )
        return [tuple(row) for row in rows]


def test_processing_twice_leaves_one_set_of_claims(sessions):
    article_id, outbox_id = submitted(sessions)
    claims = extract(BODY)
    for _ in range(2):
        with session_scope(sessions) as session:
            started = start_extraction(session, article_id, 1)
        if started is not None:
            with session_scope(sessions) as session:
                store_claims(session, article_id, 1, claims, outbox_id=outbox_id)
    assert claim_count(sessions, article_id) == len(claims) == 3
    with session_scope(sessions) as session:
        article = session.get_one(Article, article_id)
        assert article.status == "processed"
        assert session.get_one(OutboxMessage, outbox_id).completed_at is not None


def test_two_deliveries_racing_store_only_once(sessions):
    """Both started before either stored (a redelivery while the first still ran)."""
    article_id, outbox_id = submitted(sessions)
    claims = extract(BODY)
    for _ in range(2):
        with session_scope(sessions) as session:
            assert start_extraction(session, article_id, 1) == (BODY, None)
    results = []
    for _ in range(2):
        with session_scope(sessions) as session:
            results.append(store_claims(session, article_id, 1, claims, outbox_id=outbox_id))
    assert results == [True, False]
    assert claim_count(sessions, article_id) == 3
    # The worker's outcome is audited, once.
    processed = {
        "revision": 1, "status": "processed", "engine_claims": 3, "reviewer_spans_kept": 0
    }  # fmt: skip
    assert article_events(sessions, article_id)[1:] == [("system", "article.processed", processed)]


def test_stale_revision_is_skipped(sessions):
    article_id, outbox_id = submitted(sessions)
    with session_scope(sessions) as session:
        session.execute(update(Article).where(Article.id == article_id).values(revision=2))
    with session_scope(sessions) as session:
        assert start_extraction(session, article_id, 1) is None
        assert store_claims(session, article_id, 1, extract(BODY), outbox_id=outbox_id) is False
    assert claim_count(sessions, article_id) == 0


def test_failure_records_the_reason_and_completes_the_work(sessions):
    article_id, outbox_id = submitted(sessions)
    with session_scope(sessions) as session:
        fail_extraction(session, article_id, 1, "engine error: boom", outbox_id=outbox_id)
    with session_scope(sessions) as session:
        article = session.get_one(Article, article_id)
        assert (article.status, article.failure_reason) == ("failed", "engine error: boom")
        assert session.get_one(OutboxMessage, outbox_id).completed_at is not None
        # A late re-delivery does not resurrect it.
        assert start_extraction(session, article_id, 1) is None
    failed = {"revision": 1, "status": "failed", "failure_reason": "engine error: boom"}
    assert article_events(sessions, article_id)[1:] == [("system", "article.failed", failed)]


def test_a_claim_a_reviewer_added_before_extraction_is_kept_not_a_crash(sessions):
    """The engine's claim on the same span would break the unique span; the reviewer's wins."""
    from service.domain import Actor
    from service.domain.claims.spans import add_claim
    from workers.extraction.engine import Engine

    article_id, outbox_id = submitted(sessions)
    claims = extract(BODY)
    first = claims[0]
    with session_scope(sessions) as session:
        added = add_claim(
            session, article_id, first["start"], first["end"], Actor(None, "ed", "editor"), Engine()
        ).id
    with session_scope(sessions) as session:
        assert start_extraction(session, article_id, 1) is not None
    with session_scope(sessions) as session:
        assert store_claims(session, article_id, 1, claims, outbox_id=outbox_id)
    with session_scope(sessions) as session:
        stored = session.scalars(
            select(Claim).where(Claim.article_id == article_id).order_by(Claim.start)
        ).all()
        assert [(c.start, c.end) for c in stored] == [(c["start"], c["end"]) for c in claims]
        assert stored[0].id == added
        assert stored[0].origin == "reviewer"
        assert session.get_one(Article, article_id).status == "processed"


def test_an_articles_claims_go_in_one_insert_whatever_their_nulls(sessions, engine):
    """Claims with and without a speaker (None) share one INSERT, not a statement per run."""
    from sqlalchemy import event

    body = (
        'The mayor said: "Crime fell 12% last year." Prices rose 3% in May. '
        "Officials said the dam holds 3 billion litres. Rents rose 9% in June."
    )
    with session_scope(sessions) as session:
        result = submit_article(session, {"body": body}, desk_submitter(session))
    article_id = result.article["id"]
    claims = extract(body)
    assert len({claim["speaker"] is None for claim in claims}) == 2, "both kinds present"
    inserts: list[str] = []

    def count(_conn, _cursor, statement, *_args) -> None:
        if statement.startswith("INSERT INTO claims "):
            inserts.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        with session_scope(sessions) as session:
            assert store_claims(session, article_id, 1, claims)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(inserts) == 1
    assert claim_count(sessions, article_id) == len(claims)
