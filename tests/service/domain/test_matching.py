"""Fact-checks stored and matched in PostgreSQL: import, matches of claims, reviews, repeats."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from service.db import session_scope
from service.domain import Conflict
from service.domain.factchecks import DeskPublisher, import_factchecks
from service.domain.matching import (
    Matching,
    claim_matches,
    find_repeats,
    match_claims,
    match_text,
    review_match,
)
from service.models import AuditEvent, Claim, ClaimMatch, FactCheck, FactCheckKey, WebhookDelivery
from service.ratings import DEFAULT_SCALE
from tests.factories import (
    actor_of,
    make_article,
    make_claims,
    make_published_verdict,
    make_subscription,
    make_user,
)
from workers.extraction.encoder import load_encoder
from workers.matching.lsh import BANDS
from workers.matching.matcher import ConfidenceModel, MatchSettings
from workers.matching.records import FactCheck as Record

pytestmark = pytest.mark.usefixtures("database_url")

IRAQ = Record(
    key="https://checks.example.org/iraq-deaths",
    url="https://checks.example.org/iraq-deaths",
    claim="The US and UK invasion of Iraq killed more than a million Iraqi civilians.",
    rating="Mostly False",
    publisher="Example Checks",
    licence="CC BY 4.0",
    date="2021-03-04",
)
OTHERS = [
    Record(key=f"https://checks.example.org/{n}", url=f"https://checks.example.org/{n}",
           claim=claim, rating="True", publisher="Example Checks", licence="CC BY 4.0")
    for n, claim in enumerate([
        "The city council approved a new budget for public libraries in March.",
        "Wind farms produced a fifth of the country's electricity last year.",
        "The minister said hospital waiting lists have doubled since 2019.",
        "A new vaccine cut hospital admissions for flu by half among older people.",
    ])
]  # fmt: skip
PARAPHRASE = (
    "More than a million civilians in Iraq died at the hands of American and British forces "
    "during the 2000s."
)
MATCHING = Matching(MatchSettings(), ConfidenceModel.load())


@pytest.fixture(scope="module")
def encoder():
    return load_encoder()


def imported(sessions, encoder, records):
    with session_scope(sessions) as session:
        return import_factchecks(
            session, records, encoder, actor="test", user_id=None, scale=DEFAULT_SCALE
        )


def test_an_import_stores_each_record_once_and_a_second_import_changes_nothing(sessions, encoder):
    first = imported(sessions, encoder, [IRAQ, *OTHERS])
    assert (first.created, first.updated, first.unchanged) == (5, 0, 0)
    again = imported(sessions, encoder, [IRAQ, *OTHERS])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 5)
    assert sorted(again.ids) == sorted(first.ids)
    changed = Record(**(IRAQ.to_dict() | {"rating": "False"}))
    third = imported(sessions, encoder, [changed])
    assert (third.created, third.updated, third.unchanged) == (0, 1, 0)
    with session_scope(sessions) as session:
        row = session.scalar(select(FactCheck).where(FactCheck.key == IRAQ.key))
        assert (row.rating, row.rating_key, row.licence, row.publisher) == (
            "False",
            "false",
            "CC BY 4.0",
            "Example Checks",
        )
        assert session.scalar(select(func.count()).select_from(FactCheck)) == 5
        keys = session.scalars(
            select(FactCheckKey.key).where(FactCheckKey.factcheck_id == row.id)
        ).all()
        assert len(keys) == BANDS
        actions = session.scalars(select(AuditEvent.action)).all()
        assert actions.count("factchecks.imported") == 2  # the unchanged import wrote nothing


def test_a_paraphrase_is_matched_by_meaning_with_its_licence_and_publisher(sessions, encoder):
    imported(sessions, encoder, [IRAQ, *OTHERS])
    with session_scope(sessions) as session:
        (found,) = match_text(session, [PARAPHRASE], encoder.encode([PARAPHRASE]), MATCHING)
    best = found[0]
    assert best.match.factcheck.key == IRAQ.key
    assert best.match.decision in {"suggest", "match"}
    assert best.match.confidence > found[1].match.confidence
    shown = best.to_dict()
    assert (shown["licence"], shown["publisher"], shown["rating"]) == (
        "CC BY 4.0",
        "Example Checks",
        "Mostly False",
    )


def test_a_guard_refuses_a_candidate_whose_number_disagrees(sessions, encoder):
    imported(sessions, encoder, [IRAQ, *OTHERS])
    query = "The US and UK invasion of Iraq killed more than a billion Iraqi civilians."
    with session_scope(sessions) as session:
        (found,) = match_text(session, [query], encoder.encode([query]), MATCHING)
    assert found[0].match.factcheck.key == IRAQ.key
    assert found[0].match.decision == "refused"
    assert "million" in found[0].match.reason
    assert "billion" in found[0].match.reason


def processed_article(sessions, body):
    with session_scope(sessions) as session:
        article = make_article(session, body=body)
        claims = make_claims(session, article)
        return article.id, article.revision, [c.id for c in claims if c.checkworthy]


def test_a_processed_claim_is_matched_once_and_announced_once(sessions, encoder):
    imported(sessions, encoder, [IRAQ, *OTHERS])
    with session_scope(sessions) as session:
        make_subscription(session, events=("claim.matched",))
    body = f"The senator spoke on Tuesday. {IRAQ.claim} She repeated it twice."
    article_id, revision, _ = processed_article(sessions, body)
    for _ in range(2):  # a second delivery of the task without its outbox row
        with session_scope(sessions) as session:
            match_claims(session, article_id, revision, MATCHING)
    with session_scope(sessions) as session:
        rows = session.scalars(select(ClaimMatch)).all()
        assert [r.decision for r in rows if r.factcheck_id]
        assert rows
        matched = next(r for r in rows if r.decision == "match")
        deliveries = session.scalars(select(WebhookDelivery)).all()
        assert len(deliveries) == 1
        data = deliveries[0].payload["data"]
        assert data["claim_id"] == matched.claim_id
        assert data["factcheck"]["url"] == IRAQ.url
        assert data["factcheck"]["licence"] == "CC BY 4.0"
        selectors = {s["type"]: s for s in data["target"]["selector"]}
        assert selectors["TextQuoteSelector"]["exact"] == IRAQ.claim
        start = selectors["TextPositionSelector"]["start"]
        assert body[start : selectors["TextPositionSelector"]["end"]] == IRAQ.claim


def test_a_rejected_match_is_never_shown_again_and_a_confirmed_one_comes_first(sessions, encoder):
    imported(sessions, encoder, [IRAQ, *OTHERS])
    article_id, revision, _ = processed_article(sessions, f"{PARAPHRASE} {IRAQ.claim}")
    with session_scope(sessions) as session:
        match_claims(session, article_id, revision, MATCHING)
        reviewer = make_user(session, "reviewer")
        claim_id = session.scalars(select(ClaimMatch.claim_id)).first()
        shown = claim_matches(session, claim_id)
        factcheck_id = shown[0]["factcheck"]["id"]
        review_match(session, claim_id, factcheck_id, "rejected", actor_of(reviewer))
        with pytest.raises(Conflict):
            review_match(session, claim_id, factcheck_id, "rejected", actor_of(reviewer))
    with session_scope(sessions) as session:
        match_claims(session, article_id, revision, MATCHING)
        assert factcheck_id not in [m["factcheck"]["id"] for m in claim_matches(session, claim_id)]
        audit = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "match.rejected")
        ).one()
        assert audit.after["factcheck_id"] == factcheck_id


def test_a_published_verdict_finds_the_claims_repeating_it(sessions, encoder):
    with session_scope(sessions) as session:
        make_subscription(session, events=("verdict.repeated",))
    sentence = "The national debt tripled to 90 trillion dollars under the last government."
    earlier_id, _, (earlier_claim,) = processed_article(sessions, sentence)
    _later_id, _, (later_claim,) = processed_article(sessions, f"Critics disagree. {sentence}")
    with session_scope(sessions) as session:
        editor = make_user(session, "editor")
        claim = session.get(Claim, later_claim)
        verdict = make_published_verdict(session, claim, editor)
        verdict_id = verdict.id
    desk = DeskPublisher("https://desk.example.org/reviews/{id}", "Example Desk", "CC BY 4.0",
                         {"false": "False"})  # fmt: skip
    with session_scope(sessions) as session:
        repeats = find_repeats(session, verdict_id, MATCHING, desk)
    assert [r["claim_id"] for r in repeats] == [earlier_claim]
    with session_scope(sessions) as session:
        desk_check = session.scalar(select(FactCheck).where(FactCheck.verdict_id == verdict_id))
        assert desk_check.origin == "desk"
        assert desk_check.url == f"https://desk.example.org/reviews/{verdict_id}"
        assert desk_check.claim_id == later_claim
        (delivery,) = session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.event == "verdict.repeated")
        ).all()
        data = delivery.payload["data"]
        assert data["verdict_id"] == verdict_id
        (repeat,) = data["repeats"]
        assert (repeat["article_id"], repeat["claim_text"]) == (earlier_id, sentence)
        # the published claim never matches its own fact-check
        assert desk_check.id not in [
            m["factcheck"]["id"] for m in claim_matches(session, later_claim)
        ]


def test_claims_stored_before_an_import_are_matched_against_it(sessions, encoder):
    from service.domain.matching import rematch_near
    from service.models import OutboxMessage
    from service.vocabulary import REMATCH_TASK

    with session_scope(sessions) as session:
        make_subscription(session, events=("claim.matched",))
    body = f"The senator spoke on Tuesday. {IRAQ.claim}"
    article_id, revision, _ = processed_article(sessions, body)
    with session_scope(sessions) as session:
        assert match_claims(session, article_id, revision, MATCHING) == 0  # nothing to match
    result = imported(sessions, encoder, [IRAQ, *OTHERS])
    with session_scope(sessions) as session:
        (message,) = session.scalars(
            select(OutboxMessage).where(OutboxMessage.task == REMATCH_TASK)
        ).all()
        assert sorted(message.payload["factcheck_ids"]) == sorted(result.ids)
        assert (
            rematch_near(session, message.payload["factcheck_ids"], MATCHING, outbox_id=message.id)
            >= 1
        )
        assert rematch_near(session, result.ids, MATCHING, outbox_id=message.id) == 0  # done
    with session_scope(sessions) as session:
        (match,) = session.scalars(select(ClaimMatch).where(ClaimMatch.decision == "match")).all()
        assert session.get(FactCheck, match.factcheck_id).key == IRAQ.key
        # Announced once, whichever task found it first.
        match_claims(session, article_id, revision, MATCHING)
        (delivery,) = session.scalars(select(WebhookDelivery)).all()
        assert delivery.payload["data"]["factcheck"]["url"] == IRAQ.url
        assert match.announced_at is not None


def test_a_word_in_most_fact_checks_finds_no_candidates_by_itself(sessions, encoder, engine):
    from service.domain import matching

    records = [
        Record(key=f"https://checks.example.org/says/{n}", claim=f"Says item {n} costs {n} pounds.")
        for n in range(600)
    ]
    imported(sessions, encoder, [*records, IRAQ])
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE factchecks")
    matching.forget_collection_stats()
    with session_scope(sessions) as session:
        common = matching.collection_stats(session).common
        assert common == {"say", "item", "cost", "pound"}
        query = "Says the invasion of Iraq killed a million civilians."
        (found,) = match_text(session, [query], encoder.encode([query]), MATCHING, top=3)
    matching.forget_collection_stats()  # the next test's collection is not this one
    assert found[0].match.factcheck.key == IRAQ.key
