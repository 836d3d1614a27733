"""Revising an article, and the reviewer work carried onto the new revision."""

from __future__ import annotations

from sqlalchemy import select

from service.db import session_scope
from service.domain.claims.lifecycle import take_claim
from service.domain.revisions import revise_article
from service.models import ArticleRevision, Claim
from tests.factories import (
    TEST_BODY,
    actor_of,
    desk_submitter,
    make_article,
    make_article_revision,
    make_claims,
    make_user,
)


def test_the_same_body_again_is_no_new_revision(sessions):
    with session_scope(sessions) as session:
        article = make_article(session)
        make_claims(session, article)
        result = revise_article(session, article.id, {"body": TEST_BODY}, desk_submitter(session))
        assert (result.created, result.article["revision"]) == (False, 1)


def test_a_new_body_is_a_new_revision_queued_for_extraction(sessions):
    with session_scope(sessions) as session:
        article = make_article(session)
        make_claims(session, article)
        revision = make_article_revision(session, article, "A new body. " + TEST_BODY)
        assert (revision.revision, revision.body) == (2, "A new body. " + TEST_BODY)
        assert (article.revision, article.status) == (2, "queued")
        assert session.scalars(
            select(ArticleRevision.revision).where(ArticleRevision.article_id == article.id)
        ).all() == [1, 2]


def test_reviewer_work_moves_with_its_text_and_is_kept_orphaned_where_the_text_is_gone(sessions):
    with session_scope(sessions) as session:
        article, reviewer = make_article(session), make_user(session)
        claims = make_claims(session, article)
        kept = next(claim for claim in claims if claim.text.startswith("Unemployment"))
        gone = next(claim for claim in claims if claim.text.startswith("The council"))
        for claim in (kept, gone):
            take_claim(session, claim.id, actor_of(reviewer))
        kept_id, gone_id, kept_text = kept.id, gone.id, kept.text
        body = "Breaking. " + TEST_BODY[TEST_BODY.index("Unemployment") :]
        make_article_revision(session, article, body)
        make_claims(session, article)  # the engine's claims of revision 2, carrying the work
        session.expire_all()
        moved, orphaned = session.get(Claim, kept_id), session.get(Claim, gone_id)
        assert (moved.revision, moved.status, moved.assignee_id) == (2, "in_review", reviewer.id)
        assert moved.text == kept_text
        assert (moved.start, body[moved.start : moved.end]) == (len("Breaking. "), kept_text)
        assert (orphaned.revision, orphaned.orphaned) == (1, True)
        assert session.scalars(
            select(Claim.id).where(
                Claim.article_id == article.id,
                Claim.revision == 2,
                Claim.start == moved.start,
            )
        ).all() == [kept_id]
