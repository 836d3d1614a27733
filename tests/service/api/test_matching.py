"""Fact-checks and matches through the API: import, match text, a claim's matches reviewed."""

from __future__ import annotations

import json

import pytest

from service.db import session_scope
from service.domain.matching import Matching, match_claims
from service.models import Article
from tests.factories import article_payload, make_claims
from workers.matching.hard_cases import HARD_CASES, HARD_CORPUS

pytestmark = pytest.mark.usefixtures("database_url")

FEED = {
    "@context": "https://schema.org",
    "@type": "DataFeed",
    "dataFeedElement": [
        {
            "@type": "DataFeedItem",
            "item": [
                {
                    "@type": "ClaimReview",
                    "url": "https://checks.example.org/a",
                    "claimReviewed": "The harbour bridge cost 4 million dollars to build.",
                    "reviewRating": {"@type": "Rating", "alternateName": "Mostly true"},
                    "author": {"@type": "Organization", "name": "Example Checks"},
                    "datePublished": "2024-05-01",
                    "sdLicense": "https://creativecommons.org/licenses/by/4.0/",
                },
                {"@type": "ClaimReview", "url": "https://checks.example.org/broken"},
            ],
        }
    ],
}


@pytest.fixture
def corpus(client, admin_headers):
    """HARD_CORPUS imported as JSON Lines of flat records."""
    lines = "\n".join(json.dumps(record.to_dict()) for record in HARD_CORPUS)
    response = client.post(
        "/api/v1/factchecks", json={"format": "jsonl", "content": lines}, headers=admin_headers
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()


def test_a_feed_imports_with_its_bad_record_reported_and_again_changes_nothing(client, headers_for):
    editor = headers_for("editor")
    first = client.post("/api/v1/factchecks", json=FEED, headers=editor).get_json()
    assert (first["created"], first["updated"], first["unchanged"]) == (1, 0, 0)
    (error,) = first["errors"]
    assert "index 1" in error["location"]
    assert "claim" in error["message"]
    again = client.post("/api/v1/factchecks", json=FEED, headers=editor).get_json()
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 1)
    assert again["ids"] == first["ids"]
    shown = client.get(f"/api/v1/factchecks/{first['ids'][0]}", headers=editor).get_json()
    assert shown["licence"] == "https://creativecommons.org/licenses/by/4.0/"
    assert (shown["publisher"], shown["rating"], shown["rating_key"]) == (
        "Example Checks", "Mostly true", "mostly-true"
    )  # fmt: skip


def test_csv_imports_and_nothing_readable_is_422(client, admin_headers):
    csv_text = (
        'claim,url,rating,publisher,licence\n"Wages fell, again.",https://c.example/1,False,X,CC0\n'
    )
    imported = client.post(
        "/api/v1/factchecks", json={"format": "csv", "content": csv_text}, headers=admin_headers
    )
    assert imported.get_json()["created"] == 1
    refused = client.post("/api/v1/factchecks", json=[{"url": "x"}], headers=admin_headers)
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    (why,) = refused.get_json()["errors"]["records"]
    assert why.startswith("index 0: ")


@pytest.mark.parametrize("case", HARD_CASES, ids=lambda case: f"{case.name}-{case.guard}")
def test_a_paraphrase_is_found_and_each_guard_refuses_with_its_reason(
    client, headers_for, corpus, case
):
    response = client.post(
        "/api/v1/matches",
        json={"sentences": [case.query], "top": 3},
        headers=headers_for("newsroom"),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    (result,) = response.get_json()["results"]
    best = result["matches"][0]
    assert best["url"] == case.expected
    assert best["publisher"] == "Example Checks"
    if case.guard is None:
        assert best["decision"] in {"suggest", "match"}, best
    else:
        assert best["decision"] == "refused", best
        assert best["refused_by"] == [case.guard], best
        assert best["reason"] == best["disagrees"][0]


def test_matching_text_matches_its_checkworthy_claims_with_their_offsets(
    client, admin_headers, corpus
):
    text = "Ministers met on Monday. " + HARD_CASES[0].query
    response = client.post("/api/v1/matches", json={"text": text}, headers=admin_headers)
    results = response.get_json()["results"]
    found = next(r for r in results if r["matches"][0]["url"] == HARD_CASES[0].expected)
    assert text[found["start"] : found["end"]] == found["query"]


def test_a_claims_matches_are_reviewed_through_the_api(
    client, headers_for, admin_headers, corpus, sessions
):
    body = f"{HARD_CASES[0].query} {HARD_CORPUS[6].claim}"
    article_id = client.post(
        "/api/v1/articles", json=article_payload(body=body), headers=admin_headers
    ).json["id"]
    with session_scope(sessions) as session:
        make_claims(session, session.get(Article, article_id))
    with session_scope(sessions) as session:
        assert match_claims(session, article_id, 1, Matching.default()) > 0
    claims = client.get(f"/api/v1/articles/{article_id}/claims", headers=admin_headers).json
    matched = []
    for claim in claims["items"]:
        detail = client.get(f"/api/v1/claims/{claim['id']}", headers=admin_headers).get_json()
        if detail["matches"]:
            matched.append(detail)
    assert matched
    claim = matched[0]
    first = claim["matches"][0]["factcheck"]
    assert first["licence"] is None
    assert first["publisher"] == "Example Checks"
    url = f"/api/v1/claims/{claim['id']}/matches/{first['id']}/review"
    assert (
        client.post(url, json={"review": "rejected"}, headers=headers_for("viewer")).status_code
        == 403
    )
    reviewer = headers_for("reviewer")
    rejected = client.post(url, json={"review": "rejected"}, headers=reviewer)
    assert rejected.status_code == 200, rejected.get_data(as_text=True)
    assert rejected.get_json()["review"] == "rejected"
    assert client.post(url, json={"review": "rejected"}, headers=reviewer).status_code == 409
    shown = client.get(f"/api/v1/claims/{claim['id']}/matches", headers=reviewer).get_json()
    assert first["id"] not in [m["factcheck"]["id"] for m in shown]
    history = client.get(f"/api/v1/claims/{claim['id']}/history", headers=reviewer).get_json()
    assert "match.rejected" in [event["action"] for event in history["items"]]
    exported = client.get("/api/v1/matches/reviewed", headers=headers_for("viewer")).get_json()
    (item,) = exported["items"]
    assert (item["claim_id"], item["factcheck_id"], item["relevant"]) == (
        claim["id"], first["id"], False
    )  # fmt: skip
