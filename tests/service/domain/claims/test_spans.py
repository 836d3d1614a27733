"""Spans: a reviewer's claim, and a corrected span, annotated as the engine would."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import Conflict, Unprocessable
from service.domain.claims.fields import SPAN_FIELDS
from service.domain.claims.lifecycle import history, update_claim
from service.domain.claims.spans import add_claim, check_span
from tests.factories import TEST_BODY, actor_of, make_article, make_claims, make_user
from workers.extraction.engine import default_engine


def test_a_span_must_lie_in_the_body_and_hold_text():
    assert check_span("abc def", 4, 7) == (4, 7, "def")
    with pytest.raises(Unprocessable, match="outside the body"):
        check_span("abc", 1, 9)
    with pytest.raises(Unprocessable, match="only whitespace") as refused:
        check_span("abc   def", 3, 6)
    assert set(refused.value.extra["errors"]) == {"start", "end"}


def test_a_reviewers_claim_is_annotated_and_its_span_is_one_claim(sessions):
    start = TEST_BODY.index("Unemployment")
    end = TEST_BODY.index(" last year")
    with session_scope(sessions) as session:
        article, reviewer = make_article(session), make_user(session, "reviewer")
        claim = add_claim(session, article.id, start, end, actor_of(reviewer), default_engine())
        assert claim.text == TEST_BODY[start:end]
        assert (claim.origin, claim.revision, claim.status) == ("reviewer", 1, "new")
        assert claim.checkworthiness is not None
        assert claim.similarity_keys
        with pytest.raises(Conflict) as taken:
            add_claim(session, article.id, start, end, actor_of(reviewer), default_engine())
        assert taken.value.extra["claim_id"] == claim.id


def test_a_corrected_span_keeps_the_claim_and_audits_what_it_replaced(sessions):
    with session_scope(sessions) as session:
        article, editor = make_article(session), make_user(session, "editor")
        claim = next(c for c in make_claims(session, article) if c.text.startswith("Unemp"))
        old_text, end = claim.text, claim.start + len("Unemployment fell to 4.1%")
        corrected = update_claim(
            session, claim.id, claim.version, {"end": end}, actor_of(editor),
            extractor=default_engine(),
        )  # fmt: skip
        assert (corrected.id, corrected.text) == (claim.id, "Unemployment fell to 4.1%")
        (event,) = history(session, claim.id, limit=10)
        assert event.before["text"] == old_text
        assert set(SPAN_FIELDS) <= set(event.before)
        assert event.after["end"] == end
