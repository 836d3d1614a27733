"""Through a real worker and broker: events reach a local receiver, signed, retried, once."""

from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import text

from service.client import verify_webhook
from tests.factories import article_payload, wait_until

pytestmark = pytest.mark.e2e

RETRY_BASE = 0.4
WORKER_ENV = {
    "FACTCHECK_WEBHOOK_ALLOW_PRIVATE": "1",
    "FACTCHECK_WEBHOOK_RETRY_BASE": str(RETRY_BASE),
    # Generous: an attempt that times out after the receiver got it is retried (at-least-once),
    # which a loaded CI machine could otherwise turn into a second request this test counts.
    "FACTCHECK_WEBHOOK_TIMEOUT": "15",
}


def verifies(secret, received):
    event = verify_webhook(secret, received.headers, received.body)  # raises if forged
    return event["id"] == received.headers["X-Factcheck-Delivery"]


def test_events_are_delivered_signed_with_backoff_and_only_once(
    local, admin_headers, start_worker, receiver, engine
):
    worker = start_worker(**WORKER_ENV)
    created = local.post(
        "/api/v1/webhooks",
        json={"url": receiver.url, "events": ["article.processed", "claim.verdict_added"]},
        headers=admin_headers,
    ).get_json()
    secret = created["secret"]

    article = local.post("/api/v1/articles", json=article_payload(), headers=admin_headers).json
    wait_until(lambda: receiver.requests, 30, "article.processed to arrive")
    [processed] = receiver.requests
    assert processed.headers["X-Factcheck-Event"] == "article.processed"
    assert json.loads(processed.body)["data"]["article_id"] == article["id"]
    assert verifies(secret, processed)

    # The receiver fails three times, then accepts: four attempts, waits growing each time.
    receiver.script.extend([500, 503, 500])
    with engine.connect() as connection:
        claim_id = connection.scalar(
            text("SELECT id FROM claims WHERE article_id = :a ORDER BY id LIMIT 1"),
            {"a": article["id"]},
        )
    verdict = {"rating": "false", "summary": "Wrong.", "evidence": []}
    response = local.post(
        f"/api/v1/claims/{claim_id}/verdicts", json=verdict, headers=admin_headers
    )
    assert response.status_code == 201
    wait_until(lambda: len(receiver.requests) >= 5, 30, "the retried delivery to succeed")
    attempts = receiver.requests[1:]
    seen = [(r.headers["X-Factcheck-Event"], r.headers["X-Factcheck-Delivery"]) for r in attempts]
    assert {event for event, _ in seen} == {"claim.verdict_added"}, seen
    assert len({r.headers["X-Factcheck-Delivery"] for r in attempts}) == 1
    assert all(verifies(secret, r) for r in attempts)
    gaps = [later.at - earlier.at for earlier, later in itertools.pairwise(attempts)]
    for n, gap in enumerate(gaps, start=1):
        assert gap >= RETRY_BASE * 2 ** (n - 1) / 2 - 0.05, gaps
    assert gaps[2] > gaps[0], gaps

    def delivery_log() -> list[dict]:
        url = f"/api/v1/webhooks/{created['id']}/deliveries"
        return local.get(url, headers=admin_headers).get_json()["items"]

    # The receiver has answered the fourth attempt; the worker records it a moment later.
    wait_until(lambda: delivery_log()[0]["status"] != "pending", 30, "the outcome recorded")
    log = delivery_log()
    assert [(d["event"], d["status"], d["attempts"]) for d in log] == [
        ("claim.verdict_added", "succeeded", 4),
        ("article.processed", "succeeded", 1),
    ]

    # The same delivery sent to the worker again (a re-delivered message) is not re-sent.
    delivery_id = int(attempts[0].headers["X-Factcheck-Delivery"])
    celery = local.application.extensions["factcheck"].celery
    celery.send_task("factcheck.deliver_webhook", kwargs={"delivery_id": delivery_id})
    wait_until(lambda: b"'skipped'" in worker.log_path.read_bytes(), 20, "the repeat to be seen")
    assert len(receiver.requests) == 5
