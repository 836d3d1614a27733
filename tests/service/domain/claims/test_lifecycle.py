"""The state machine, who may move a claim along, and what every change records."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import InvalidState, PermissionDenied, PreconditionFailed
from service.domain.claims.lifecycle import (
    PUBLISHABLE_FROM,
    TRANSITIONS,
    history,
    take_claim,
    update_claim,
)
from service.vocabulary import CLAIM_STATUSES
from tests.factories import actor_of, make_claim, make_user, make_verdict
from workers.extraction.engine import default_engine


def test_every_status_has_its_moves_and_no_move_reaches_published():
    assert set(TRANSITIONS) == set(CLAIM_STATUSES)
    assert all(targets <= set(CLAIM_STATUSES) for targets in TRANSITIONS.values())
    assert not any("published" in targets for targets in TRANSITIONS.values())
    assert set(CLAIM_STATUSES) - {"published"} >= PUBLISHABLE_FROM


def test_taking_a_claim_starts_its_review_and_is_audited(sessions):
    with session_scope(sessions) as session:
        claim, reviewer = make_claim(session), make_user(session, "reviewer")
        taken = take_claim(session, claim.id, actor_of(reviewer))
        assert (taken.status, taken.assignee_id, taken.version) == ("in_review", reviewer.id, 2)
        (event,) = history(session, claim.id, limit=10)
        assert (event.actor, event.action) == (reviewer.name, "claim.taken")
        assert event.before["status"] == "new"
        assert event.after["status"] == "in_review"


def test_a_stale_version_is_refused_and_changes_nothing(sessions):
    with session_scope(sessions) as session:
        claim, editor = make_claim(session), make_user(session, "editor")
        with pytest.raises(PreconditionFailed):
            update_claim(
                session,
                claim.id,
                claim.version + 1,
                {"status": "in_review"},
                actor_of(editor),
                extractor=default_engine(),
            )
        assert claim.status == "new"
        assert history(session, claim.id, limit=10) == []


def test_only_the_holder_or_an_editor_moves_a_held_claim(sessions):
    with session_scope(sessions) as session:
        claim = make_claim(session)
        holder, other, editor = (
            make_user(session, role) for role in ("reviewer",) * 2 + ("editor",)
        )
        take_claim(session, claim.id, actor_of(holder))
        with pytest.raises(PermissionDenied, match="held by another reviewer"):
            update_claim(
                session, claim.id, claim.version, {"status": "new"}, actor_of(other),
                extractor=default_engine(),
            )  # fmt: skip
        moved = update_claim(
            session, claim.id, claim.version, {"status": "new"}, actor_of(editor),
            extractor=default_engine(),
        )  # fmt: skip
        assert moved.status == "new"


def test_a_claim_is_reviewed_only_once_it_has_a_verdict(sessions):
    with session_scope(sessions) as session:
        claim, reviewer = make_claim(session), make_user(session, "reviewer")
        take_claim(session, claim.id, actor_of(reviewer))
        with pytest.raises(InvalidState, match="no verdict") as refused:
            update_claim(
                session, claim.id, claim.version, {"status": "reviewed"}, actor_of(reviewer),
                extractor=default_engine(),
            )  # fmt: skip
        assert "reviewed" not in refused.value.extra["allowed"]
        make_verdict(session, claim, reviewer)
        reviewed = update_claim(
            session, claim.id, claim.version, {"status": "reviewed"}, actor_of(reviewer),
            extractor=default_engine(),
        )  # fmt: skip
        assert reviewed.status == "reviewed"
