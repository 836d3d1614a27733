"""Publishing: what readers outside the desk get of a published verdict."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import InvalidState
from service.domain.publishing import published_review, published_reviews
from tests.factories import make_claim, make_published_verdict, make_user, make_verdict


def test_only_published_verdicts_have_a_review(sessions):
    with session_scope(sessions) as session:
        claim, editor = make_claim(session), make_user(session, "editor")
        proposed = make_verdict(session, claim, editor)
        with pytest.raises(InvalidState, match="only a published verdict"):
            published_review(session, proposed.id)
        verdict = make_published_verdict(session, make_claim(session), editor)
        review = published_review(session, verdict.id)
        assert (review.verdict.id, review.claim.id) == (verdict.id, verdict.claim_id)
        assert review.article.id == review.claim.article_id
        assert [r.verdict.id for r in published_reviews(session, limit=10)] == [verdict.id]
