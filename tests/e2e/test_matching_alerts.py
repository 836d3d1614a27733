"""Through a real worker and broker: `claim.matched` and `verdict.repeated` reach a receiver."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import text

from service.client import verify_webhook
from tests.factories import article_payload, mark_reviewed, publish_verdict, wait_until

pytestmark = pytest.mark.e2e

WORKER_ENV = {"FACTCHECK_WEBHOOK_ALLOW_PRIVATE": "1", "FACTCHECK_WEBHOOK_TIMEOUT": "15"}
FALSE_CHECK = {
    "@type": "ClaimReview",
    "url": "https://checks.example.org/iraq-deaths",
    "claimReviewed": "The US and UK invasion of Iraq killed more than a million Iraqi civilians.",
    "reviewRating": {"@type": "Rating", "alternateName": "False"},
    "author": {"@type": "Organization", "name": "Example Checks"},
    "sdLicense": "CC BY 4.0",
}
REPEATED = "The national debt tripled to 90 trillion dollars under the last government."


def events(receiver, secret, name):
    found = []
    for received in receiver.requests:
        event = verify_webhook(secret, received.headers, received.body)
        if event["event"] == name:
            found.append(event)
    return found


def processed(local, headers, engine, body):
    article = local.post("/api/v1/articles", json=article_payload(body=body), headers=headers).json

    def done():
        with engine.connect() as connection:
            return connection.scalar(
                text("SELECT status = 'processed' FROM articles WHERE id = :a"),
                {"a": article["id"]},
            )

    wait_until(done, 60, "the article to be processed")
    return article


def test_a_claim_repeating_a_false_fact_check_and_a_published_verdicts_repeats_are_announced(
    local, admin_headers, start_worker, receiver, engine
):
    start_worker(**WORKER_ENV)
    hook = local.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["claim.matched", "verdict.repeated"]},
        headers=admin_headers,
    ).get_json()
    imported = local.post("/api/v1/factchecks", json=FALSE_CHECK, headers=admin_headers)
    assert imported.get_json()["created"] == 1

    body = f"Speaking on Tuesday, the senator went further. {FALSE_CHECK['claimReviewed']}"
    article = processed(local, admin_headers, engine, body)
    wait_until(lambda: events(receiver, hook["secret"], "claim.matched"), 60, "claim.matched")
    (matched,) = events(receiver, hook["secret"], "claim.matched")
    data = matched["data"]
    assert data["article_id"] == article["id"]
    assert data["factcheck"]["url"] == FALSE_CHECK["url"]
    assert data["factcheck"]["licence"] == "CC BY 4.0"
    assert data["factcheck"]["rating_key"] == "false"
    quote, position = data["target"]["selector"]
    assert body[position["start"] : position["end"]] == quote["exact"]
    detail = local.get(f"/api/v1/claims/{data['claim_id']}", headers=admin_headers).get_json()
    assert detail["matches"][0]["factcheck"]["url"] == FALSE_CHECK["url"]

    earlier = processed(local, admin_headers, engine, f"Critics were unmoved. {REPEATED}")
    later = processed(local, admin_headers, engine, f"{REPEATED} The minister disagreed.")
    claims = local.get(f"/api/v1/articles/{later['id']}/claims", headers=admin_headers).json
    claim = next(c for c in claims["items"] if c["text"] == REPEATED)
    verdict = local.post(
        f"/api/v1/claims/{claim['id']}/verdicts",
        json={"rating": "false", "summary": "It doubled.", "evidence": []},
        headers=admin_headers,
    ).get_json()
    mark_reviewed(local, admin_headers, claim["id"])
    assert publish_verdict(local, admin_headers, verdict["id"]).status_code == 200
    wait_until(lambda: events(receiver, hook["secret"], "verdict.repeated"), 60, "a repeat")
    (repeated,) = events(receiver, hook["secret"], "verdict.repeated")
    assert repeated["data"]["verdict_id"] == verdict["id"]
    (repeat,) = repeated["data"]["repeats"]
    assert repeat["article_id"] == earlier["id"]
    assert repeat["claim_text"] == REPEATED
    quote, position = repeat["target"]["selector"]
    earlier_body = f"Critics were unmoved. {REPEATED}"
    assert earlier_body[position["start"] : position["end"]] == quote["exact"] == REPEATED
    # Each event once: nothing is re-announced by the later tasks.
    assert [json.loads(r.body)["event"] for r in receiver.requests].count("claim.matched") == 1
