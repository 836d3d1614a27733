"""Claim detail: one call gives the view everything the claim's page shows."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain import NotFound
from service.domain.claims.detail import claim_detail
from service.domain.claims.fields import SHOWN_FIELDS
from service.ratings import DEFAULT_SCALE
from tests.factories import make_claim, make_user, make_verdict


def test_detail_shows_the_claim_its_verdicts_agreement_and_similar_claims(sessions):
    with session_scope(sessions) as session:
        claim = make_claim(session)
        first, second = make_user(session), make_user(session)
        make_verdict(session, claim, first, rating="false")
        make_verdict(session, claim, second, rating="true")
        detail = claim_detail(session, claim.id, scale=DEFAULT_SCALE, min_jaccard=0.5)
    assert set(detail) == {*SHOWN_FIELDS, "verdicts", "agreement", "similar", "seen_in", "matches"}
    assert (detail["id"], detail["text"]) == (claim.id, claim.text)
    assert [v["author"] for v in detail["verdicts"]] == [first.name, second.name]
    assert [v["rating_label"] for v in detail["verdicts"]] == ["False", "True"]
    assert [len(v["evidence"]) for v in detail["verdicts"]] == [1, 1]
    assert detail["agreement"] == "split"
    assert detail["similar"] == []
    assert detail["matches"] == []
    assert detail["seen_in"].articles == 1


def test_detail_of_a_missing_claim_is_not_found(sessions):
    with session_scope(sessions) as session, pytest.raises(NotFound):
        claim_detail(session, 10**12, scale=DEFAULT_SCALE, min_jaccard=0.5)
