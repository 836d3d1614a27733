"""Articles: submission and what an article's page shows."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import NotFound, Scope
from service.domain.articles import article_detail, submit_article
from tests.factories import article_payload, desk_submitter, make_article, make_claims


def test_the_same_external_id_returns_the_article_already_submitted(sessions):
    with session_scope(sessions) as session:
        data = article_payload()
        first = submit_article(session, data, desk_submitter(session))
        again = submit_article(session, data, desk_submitter(session))
        assert (first.created, again.created) == (True, False)
        assert again.article["id"] == first.article["id"]


def test_article_detail_has_its_columns_and_claim_counts_but_no_search_vector(sessions):
    with session_scope(sessions) as session:
        article = make_article(session)
        claims = make_claims(session, article)
        detail = article_detail(session, article.id)
        assert (detail["id"], detail["status"], detail["revision"]) == (article.id, "processed", 1)
        assert "search" not in detail
        assert detail["claim_counts"].total == len(claims)


def test_an_article_outside_the_scope_is_not_found(sessions):
    with session_scope(sessions) as session:
        article = make_article(session)
        with pytest.raises(NotFound, match=f"Article {article.id} does not exist"):
            article_detail(session, article.id, Scope(organization_id=article.organization_id + 1))
