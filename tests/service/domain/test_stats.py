"""Review statistics over each reviewer's current ratings."""

from __future__ import annotations

from service.db import session_scope
from service.domain.stats import ALPHA_METRICS, agreement_report
from service.ratings import DEFAULT_SCALE
from tests.factories import make_article, make_claims, make_user, make_verdict


def test_agreement_counts_claims_rated_twice_and_each_reviewer_pair(sessions):
    with session_scope(sessions) as session:
        first, second = make_user(session), make_user(session)
        one, two = make_claims(session, make_article(session))[:2]
        make_verdict(session, one, first, rating="false")
        make_verdict(session, one, second, rating="false")
        make_verdict(session, two, first, rating="true")
        make_verdict(session, two, second, rating="mostly-true")
        make_verdict(session, two, first, rating="mostly-true")  # first's current rating
        report = agreement_report(session, DEFAULT_SCALE)
    assert (report["claims"], report["ratings"]) == (2, 4)
    assert set(report["alpha"]) == set(ALPHA_METRICS)
    (pair,) = report["pairs"]
    assert sorted(pair["reviewers"]) == sorted([first.name, second.name])
    assert (pair["claims"], pair["agreed"], pair["share"]) == (2, 2, 1.0)


def test_agreement_over_a_source_with_no_ratings_is_empty(sessions):
    with session_scope(sessions) as session:
        report = agreement_report(session, DEFAULT_SCALE, source="nobody")
    assert (report["claims"], report["ratings"], report["pairs"]) == (0, 0, [])
