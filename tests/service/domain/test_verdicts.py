"""Verdicts: proposed by reviewers, published once per claim, corrected by superseding."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import Conflict, InvalidState
from service.domain.claims.lifecycle import update_claim
from service.domain.verdicts import correct_verdict, publish_verdict
from service.ratings import DEFAULT_SCALE
from tests.factories import (
    actor_of,
    make_claim,
    make_published_verdict,
    make_user,
    make_verdict,
)
from workers.extraction.engine import default_engine


def test_a_claim_marked_not_checkworthy_takes_no_verdict(sessions):
    with session_scope(sessions) as session:
        claim, editor = make_claim(session), make_user(session, "editor")
        update_claim(
            session, claim.id, claim.version, {"status": "not_checkworthy"}, actor_of(editor),
            extractor=default_engine(),
        )  # fmt: skip
        with pytest.raises(InvalidState, match="not check-worthy"):
            make_verdict(session, claim, editor)


def test_only_a_reviewed_claims_verdict_is_published(sessions):
    with session_scope(sessions) as session:
        claim, editor = make_claim(session), make_user(session, "editor")
        verdict = make_verdict(session, claim, editor)
        with pytest.raises(InvalidState) as refused:
            publish_verdict(session, verdict.id, actor_of(editor))
        assert refused.value.extra["publishable_from"] == ["reviewed"]
        assert (claim.status, verdict.status) == ("new", "proposed")


def test_publishing_publishes_the_claim_and_a_second_is_a_conflict(sessions):
    with session_scope(sessions) as session:
        claim, editor = make_claim(session), make_user(session, "editor")
        published = make_published_verdict(session, claim, editor)
        assert (published.status, claim.status) == ("published", "published")
        assert published.published_by == editor.name
        other = make_verdict(session, claim, make_user(session))
        with pytest.raises(Conflict) as refused:
            publish_verdict(session, other.id, actor_of(editor))
        assert refused.value.extra["published_verdict_id"] == published.id


def test_a_correction_supersedes_the_published_verdict_and_keeps_it(sessions):
    with session_scope(sessions) as session:
        claim, editor = make_claim(session), make_user(session, "editor")
        old = make_published_verdict(session, claim, editor, rating="false")
        corrected = correct_verdict(
            session, old.id, {"rating": "mostly-false"}, "New figures", actor_of(editor),
            DEFAULT_SCALE,
        )  # fmt: skip
        assert (old.status, corrected.status) == ("superseded", "published")
        assert (corrected.supersedes_id, corrected.rating) == (old.id, "mostly-false")
        assert corrected.summary == old.summary
