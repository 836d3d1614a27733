"""Webhooks: subscriptions, the SSRF guard, events written with their change, signed delivery.

Delivery runs in-process here (`workers.webhooks.deliver`, what the Celery task calls) against
a real HTTP receiver on 127.0.0.1, which these tests allow; tests/e2e/test_webhooks.py goes
through a real worker.
"""

from __future__ import annotations

import ipaddress
import json
import random
import threading
from dataclasses import replace

import pytest
from sqlalchemy import event, text

from service.app import create_app
from service.client import WebhookRejected, verify_webhook
from service.db import session_scope
from service.domain.extraction import fail_extraction, start_extraction, store_claims
from service.domain.webhooks import (
    NOT_PUBLIC,
    AttemptResult,
    Deferred,
    PendingDelivery,
    claim_delivery,
    is_internal,
    overdue_deliveries,
    record_attempt,
    retry_delay,
)
from service.models import WebhookDelivery
from tests.factories import article_payload, publish_verdict, wait_until
from tests.webhook_receiver import DripReceiver, Receiver
from workers.webhooks import deliver, policy

URL = "/api/v1/webhooks"
PUBLIC = "https://93.184.215.14/hook"  # a public address as a literal: no DNS needed
VERDICT = {"rating": "false", "summary": "The figure is wrong.", "evidence": []}


@pytest.fixture(scope="module")
def local_settings(settings):
    """Settings that allow a receiver on 127.0.0.1, with fast retries and a low disable bar."""
    return replace(
        settings,
        webhook_allow_private=True,
        webhook_timeout_seconds=0.5,
        webhook_max_attempts=4,
        webhook_retry_base_seconds=0.05,
        webhook_retry_max_seconds=0.3,
        webhook_disable_after=3,
        # These tests fail many attempts in a row on one subscription on purpose; pausing
        # it has tests of its own below.
        webhook_pause_after=100,
    )


@pytest.fixture(scope="module")
def local_app(local_settings):
    return create_app(local_settings)


@pytest.fixture
def local(local_app):
    return local_app.test_client()


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.stop()


def subscribe(client, headers, url, events):
    response = client.post(URL, json={"url": url, "events": events}, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def deliveries(client, headers, webhook_id, **query):
    response = client.get(f"{URL}/{webhook_id}/deliveries", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


@pytest.fixture
def claim_id(client, admin_headers, engine):
    article = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers).json
    with engine.begin() as connection:
        return connection.scalar(
            text(
                'INSERT INTO claims (article_id, revision, start, "end", text, checkworthiness, '
                "checkworthy) VALUES (:a, 1, 0, 44, 'Prices rose 3% last year.', 0.9, true) "
                "RETURNING id"
            ),
            {"a": article["id"]},
        )


def add_verdict(client, headers, claim_id):
    response = client.post(f"/api/v1/claims/{claim_id}/verdicts", json=VERDICT, headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def verify(secret, received):
    """What a receiver does (the README's example): the event, or None for a forgery."""
    try:
        return verify_webhook(secret, received.headers, received.body)
    except WebhookRejected:
        return None


# ---- subscriptions ------------------------------------------------------------------------


def test_secret_is_shown_once_and_never_listed_or_audited(client, admin_headers, engine):
    created = subscribe(
        client, admin_headers, PUBLIC, ["verdict.published", "article.failed", "article.failed"]
    )
    assert created["secret"].startswith("whsec_")
    assert len(created["secret"]) > 40
    assert created["events"] == ["article.failed", "verdict.published"]
    assert created["active"] is True
    shown = client.get(f"{URL}/{created['id']}", headers=admin_headers).get_json()
    listed = client.get(URL, headers=admin_headers).get_json()["items"]
    assert "secret" not in shown
    assert all("secret" not in item for item in listed)
    assert shown["url"] == PUBLIC
    with engine.connect() as connection:
        audit = connection.execute(text("SELECT after FROM audit_log")).all()
    assert created["secret"] not in json.dumps([row.after for row in audit])


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"url": "ftp://93.184.215.14/x", "events": ["article.failed"]}, "url"),
        ({"url": PUBLIC, "events": ["article.deleted"]}, "events.0"),
        ({"url": PUBLIC, "events": []}, "events"),
        ({"url": PUBLIC}, "events"),
    ],
)
def test_malformed_subscriptions_are_refused(client, admin_headers, payload, field):
    response = client.post(URL, json=payload, headers=admin_headers)
    assert response.status_code == 422
    assert field in response.get_json()["errors"]


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://172.16.5.4/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://0.0.0.0/hook",
        "http://100.64.0.1/hook",
        "http://224.0.0.1/hook",
        "http://240.0.0.1/hook",
    ],
)
def test_internal_targets_are_refused_unless_allowed(client, admin_headers, url):
    response = client.post(
        URL, json={"url": url, "events": ["article.failed"]}, headers=admin_headers
    )
    assert response.status_code == 422
    assert response.mimetype == "application/problem+json"
    assert "public hosts" in response.get_json()["errors"]["url"][0]
    assert client.get(URL, headers=admin_headers).get_json()["items"] == []


def test_a_refusal_does_not_say_what_a_name_resolves_to(client, admin_headers):
    """An editor learns neither an internal name's addresses nor whether it exists."""
    refusals = {}
    for url in ("http://localhost:8080/hook", "https://no-such-host.invalid/hook"):
        response = client.post(
            URL, json={"url": url, "events": ["article.failed"]}, headers=admin_headers
        )
        assert response.status_code == 422
        refusals[url] = response.get_data(as_text=True)
        assert "127.0.0.1" not in refusals[url]
        assert "::1" not in refusals[url]
    internal, unresolvable = refusals.values()
    assert internal == unresolvable
    assert NOT_PUBLIC in internal


def test_local_targets_are_accepted_when_the_setting_allows_them(local, admin_headers):
    assert subscribe(local, admin_headers, "http://127.0.0.1:9/hook", ["article.failed"])["id"]


def test_unresolvable_hosts_are_refused(client, admin_headers):
    payload = {"url": "https://no-such-host.invalid/hook", "events": ["article.failed"]}
    response = client.post(URL, json=payload, headers=admin_headers)
    assert response.status_code == 422
    assert "does not resolve" in response.get_json()["detail"]


@pytest.mark.parametrize(
    ("address", "internal"),
    [
        ("::ffff:127.0.0.1", True),
        ("::1", True),
        ("fe80::1", True),
        ("fc00::1", True),
        ("2002:7f00:1::1", True),  # 6to4 wrapping 127.0.0.1
        ("64:ff9b::a00:1", True),  # NAT64 for 10.0.0.1
        ("8.8.8.8", False),
        ("2606:4700:4700::1111", False),
    ],
)
def test_internal_addresses_include_ipv6_forms(address, internal):
    assert is_internal(ipaddress.ip_address(address)) is internal


def test_list_pages_with_a_cursor(client, admin_headers):
    ids = [subscribe(client, admin_headers, PUBLIC, ["article.failed"])["id"] for _ in range(3)]
    first = client.get(URL, query_string={"limit": 2}, headers=admin_headers).get_json()
    assert [item["id"] for item in first["items"]] == ids[:2]
    query = {"limit": 2, "cursor": first["next_cursor"]}
    second = client.get(URL, query_string=query, headers=admin_headers).get_json()
    assert [item["id"] for item in second["items"]] == ids[2:]
    assert second["next_cursor"] is None


def test_delete_removes_the_subscription_and_its_log(client, admin_headers):
    webhook_id = subscribe(client, admin_headers, PUBLIC, ["article.failed"])["id"]
    assert client.delete(f"{URL}/{webhook_id}", headers=admin_headers).status_code == 204
    assert client.get(f"{URL}/{webhook_id}", headers=admin_headers).status_code == 404
    assert client.get(f"{URL}/{webhook_id}/deliveries", headers=admin_headers).status_code == 404
    assert client.delete(f"{URL}/{webhook_id}", headers=admin_headers).status_code == 404


@pytest.mark.parametrize("role", ["reviewer", "newsroom", "viewer"])
def test_only_admins_and_editors_manage_webhooks(client, headers_for, role):
    assert client.get(URL, headers=headers_for(role)).status_code == 403
    payload = {"url": PUBLIC, "events": ["article.failed"]}
    assert client.post(URL, json=payload, headers=headers_for(role)).status_code == 403
    assert client.post(URL, json=payload, headers=headers_for("editor")).status_code == 201


# ---- emission ------------------------------------------------------------------------------


def outbox_deliveries(engine):
    with engine.connect() as connection:
        return (
            connection.execute(
                text(
                    "SELECT (payload->>'delivery_id')::bigint AS id FROM outbox "
                    "WHERE task = 'factcheck.deliver_webhook' ORDER BY id"
                )
            )
            .scalars()
            .all()
        )


def test_an_event_writes_one_delivery_per_subscriber_with_its_outbox_message(
    client, admin_headers, claim_id, engine
):
    verdicts_hook = subscribe(client, admin_headers, PUBLIC, ["claim.verdict_added"])
    other_hook = subscribe(client, admin_headers, PUBLIC, ["verdict.published"])
    verdict_id = add_verdict(client, admin_headers, claim_id)

    [delivery] = deliveries(client, admin_headers, verdicts_hook["id"])
    assert deliveries(client, admin_headers, other_hook["id"]) == []
    assert delivery["status"] == "pending"
    assert delivery["attempts"] == 0
    assert delivery["event"] == "claim.verdict_added"
    assert delivery["payload"]["id"] == str(delivery["id"])
    assert delivery["payload"]["data"]["verdict_id"] == verdict_id
    assert delivery["payload"]["data"]["claim_id"] == claim_id
    assert outbox_deliveries(engine) == [delivery["id"]]

    assert publish_verdict(client, admin_headers, verdict_id).status_code == 200
    [published] = deliveries(client, admin_headers, other_hook["id"])
    assert published["event"] == "verdict.published"
    assert published["payload"]["data"]["published_by"] == "bootstrap-admin"


def test_a_change_that_rolls_back_emits_nothing(client, admin_headers, claim_id, engine):
    webhook_id = subscribe(client, admin_headers, PUBLIC, ["claim.verdict_added"])["id"]
    bad = {**VERDICT, "rating": "no-such-rating"}
    response = client.post(f"/api/v1/claims/{claim_id}/verdicts", json=bad, headers=admin_headers)
    assert response.status_code == 422
    assert deliveries(client, admin_headers, webhook_id) == []
    assert outbox_deliveries(engine) == []


def test_corrections_emit_verdict_corrected(client, admin_headers, claim_id):
    webhook_id = subscribe(client, admin_headers, PUBLIC, ["verdict.corrected"])["id"]
    verdict_id = add_verdict(client, admin_headers, claim_id)
    assert publish_verdict(client, admin_headers, verdict_id).status_code == 200
    correction = {"rating": "mostly-false", "reason": "A second source."}
    response = client.post(
        f"/api/v1/verdicts/{verdict_id}/corrections", json=correction, headers=admin_headers
    )
    assert response.status_code == 201
    [delivery] = deliveries(client, admin_headers, webhook_id)
    data = delivery["payload"]["data"]
    assert data["supersedes_id"] == verdict_id
    assert data["rating"] == "mostly-false"
    assert data["correction_reason"] == "A second source."


def test_extraction_emits_article_processed_and_failed(client, admin_headers, sessions):
    webhook_id = subscribe(client, admin_headers, PUBLIC, ["article.processed", "article.failed"])[
        "id"
    ]
    first = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers).json
    second = client.post("/api/v1/articles", json=article_payload(), headers=admin_headers).json
    claim = {"start": 0, "end": 10, "text": "x" * 10, "checkworthiness": 0.9, "checkworthy": True}
    with session_scope(sessions) as session:
        assert start_extraction(session, first["id"], 1) is not None
        assert store_claims(session, first["id"], 1, [claim])
        fail_extraction(session, second["id"], 1, "engine error: boom")
        # Already processed: a repeated task changes nothing and emits nothing.
        assert not store_claims(session, first["id"], 1, [claim])
        fail_extraction(session, first["id"], 1, "late failure")

    failed, processed = deliveries(client, admin_headers, webhook_id)
    assert processed["event"] == "article.processed"
    data = processed["payload"]["data"]
    assert (data["article_id"], data["status"], data["claim_count"]) == (
        first["id"],
        "processed",
        1,
    )
    assert failed["event"] == "article.failed"
    assert failed["payload"]["data"]["article_id"] == second["id"]
    assert failed["payload"]["data"]["failure_reason"] == "engine error: boom"


def test_disabled_subscriptions_get_no_deliveries(client, admin_headers, claim_id, engine):
    webhook_id = subscribe(client, admin_headers, PUBLIC, ["claim.verdict_added"])["id"]
    with engine.begin() as connection:
        connection.execute(text("UPDATE webhooks SET disabled_at = now()"))
    add_verdict(client, admin_headers, claim_id)
    assert deliveries(client, admin_headers, webhook_id) == []


# ---- delivery -------------------------------------------------------------------------------


@pytest.fixture
def pending_delivery(local, admin_headers, claim_id, receiver):
    """A subscription on the local receiver with one pending delivery: (subscription, id)."""
    created = subscribe(local, admin_headers, receiver.url, ["claim.verdict_added"])
    add_verdict(local, admin_headers, claim_id)
    [delivery] = deliveries(local, admin_headers, created["id"])
    return created, delivery["id"]


def test_delivery_is_signed_and_sent_once(
    local, admin_headers, sessions, local_settings, receiver, pending_delivery
):
    created, delivery_id = pending_delivery
    assert deliver(sessions, local_settings, delivery_id).outcome == "succeeded"

    [received] = receiver.requests
    assert verify(created["secret"], received)
    assert not verify("whsec_someone-else", received)
    assert received.path == "/hook"
    assert received.headers["Content-Type"] == "application/json"
    assert received.headers["X-Factcheck-Event"] == "claim.verdict_added"
    assert received.headers["X-Factcheck-Delivery"] == str(delivery_id)
    [logged] = deliveries(local, admin_headers, created["id"])
    assert json.loads(received.body) == logged["payload"]
    assert logged["status"] == "succeeded"
    assert logged["attempts"] == 1
    assert logged["last_status_code"] == 200
    assert logged["delivered_at"] is not None
    assert logged["last_error"] is None

    # A re-delivered or repeated task finds it done and sends nothing.
    assert deliver(sessions, local_settings, delivery_id).outcome == "skipped"
    assert len(receiver.requests) == 1


def test_receivers_trust_the_signed_body_so_replays_cannot_pass_as_new(
    local, admin_headers, sessions, local_settings, receiver, pending_delivery
):
    """Every attempt of one delivery verifies to the same body `id`; a captured request
    replayed late, with its body altered, or with another delivery header is refused. A
    receiver deduplicating on the verified `id`, as the README says, acts once."""
    created, delivery_id = pending_delivery
    receiver.script.append(500)
    while deliver(sessions, local_settings, delivery_id).retry_in is not None:
        pass
    first, second = receiver.requests
    secret = created["secret"]
    events = [verify(secret, first), verify(secret, second)]
    expected = (str(delivery_id), "claim.verdict_added")
    assert [(event["id"], event["event"]) for event in events] == [expected, expected]

    sent_at = int(first.headers["X-Factcheck-Timestamp"])
    with pytest.raises(WebhookRejected, match="timestamp"):
        verify_webhook(secret, first.headers, first.body, now=sent_at + 301)
    other_id = first.body.replace(f'"id":"{delivery_id}"'.encode(), b'"id":"999999"')
    assert other_id != first.body
    with pytest.raises(WebhookRejected, match="signature"):
        verify_webhook(secret, first.headers, other_id)
    relabelled = {**first.headers, "X-Factcheck-Delivery": "999999"}
    with pytest.raises(WebhookRejected, match="X-Factcheck-Delivery"):
        verify_webhook(secret, relabelled, first.body)
    # Replayed as it was, within the tolerance: genuine, and the same id as before.
    assert verify(secret, first)["id"] == str(delivery_id)


def test_5xx_and_429_are_retried_with_growing_delays(
    local, admin_headers, sessions, local_settings, receiver, pending_delivery
):
    created, delivery_id = pending_delivery
    receiver.script.extend([500, 429, 503])
    delays = []
    while (attempted := deliver(sessions, local_settings, delivery_id)).retry_in is not None:
        assert attempted.outcome == "retrying"
        delays.append(attempted.retry_in)
    assert attempted.outcome == "succeeded"
    assert len(receiver.requests) == 4
    # Base 0.05 s, doubling: each wait is within [half, all] of 0.05, 0.1, 0.2 s.
    for attempt, delay in enumerate(delays, start=1):
        assert 0.025 * 2 ** (attempt - 1) <= delay <= 0.05 * 2 ** (attempt - 1)
    [logged] = deliveries(local, admin_headers, created["id"])
    assert logged["attempts"] == 4
    assert logged["status"] == "succeeded"
    signatures = {r.headers["X-Factcheck-Delivery"] for r in receiver.requests}
    assert signatures == {str(delivery_id)}


def test_backoff_is_capped_and_jittered():
    rng = random.Random(5)
    waits = [retry_delay(n, base=10, cap=3600, rng=rng) for n in range(1, 16)]
    assert 5 <= waits[0] <= 10
    assert 10 <= waits[1] <= 20
    assert all(1800 <= wait <= 3600 for wait in waits[-5:])
    assert len({round(wait, 6) for wait in waits[-5:]}) == 5  # jitter: not in lockstep


def test_other_4xx_is_a_permanent_failure(
    local, admin_headers, sessions, local_settings, receiver, pending_delivery
):
    created, delivery_id = pending_delivery
    receiver.script.append(410)
    attempted = deliver(sessions, local_settings, delivery_id)
    assert (attempted.outcome, attempted.retry_in) == ("failed", None)
    assert deliver(sessions, local_settings, delivery_id).outcome == "skipped"
    assert len(receiver.requests) == 1
    [logged] = deliveries(local, admin_headers, created["id"])
    assert logged["status"] == "failed"
    assert logged["last_status_code"] == 410
    assert logged["last_error"].startswith("HTTP 410")


def test_retries_stop_after_the_configured_attempts(
    local, admin_headers, sessions, local_settings, receiver, pending_delivery
):
    created, delivery_id = pending_delivery
    receiver.script.extend([500] * 10)
    outcomes = [deliver(sessions, local_settings, delivery_id).outcome for _ in range(5)]
    assert outcomes == ["retrying", "retrying", "retrying", "failed", "skipped"]
    assert len(receiver.requests) == local_settings.webhook_max_attempts
    [logged] = deliveries(local, admin_headers, created["id"])
    assert logged["status"] == "failed"
    assert logged["attempts"] == 4


def test_timeouts_and_refused_connections_are_retried(
    local, admin_headers, sessions, local_settings, receiver, pending_delivery
):
    created, delivery_id = pending_delivery
    receiver.delay = 1.0  # longer than the 0.5 s timeout
    assert deliver(sessions, local_settings, delivery_id).outcome == "retrying"
    [logged] = deliveries(local, admin_headers, created["id"])
    assert "timed out" in logged["last_error"]
    assert logged["last_status_code"] is None
    assert logged["next_attempt_at"] is not None
    receiver.delay = 0.0
    receiver.stop()
    assert deliver(sessions, local_settings, delivery_id).outcome == "retrying"
    [logged] = deliveries(local, admin_headers, created["id"])
    assert "ConnectionRefused" in logged["last_error"]


def test_redirects_are_not_followed(
    local, admin_headers, sessions, local_settings, receiver, pending_delivery
):
    created, delivery_id = pending_delivery
    receiver.script.append(307)
    receiver.location = receiver.url.replace("/hook", "/elsewhere")
    assert deliver(sessions, local_settings, delivery_id).outcome == "failed"
    assert [r.path for r in receiver.requests] == ["/hook"]
    [logged] = deliveries(local, admin_headers, created["id"])
    assert "redirects are not followed" in logged["last_error"]


def test_private_targets_are_rechecked_when_sending(
    local, admin_headers, sessions, settings, receiver, pending_delivery
):
    """A host that turned private after subscribing (DNS rebinding) is never contacted."""
    created, delivery_id = pending_delivery
    assert not settings.webhook_allow_private
    assert deliver(sessions, settings, delivery_id).outcome == "failed"
    assert receiver.requests == []
    [logged] = deliveries(local, admin_headers, created["id"])
    assert logged["status"] == "failed"
    assert logged["last_error"] == f"not sent: {NOT_PUBLIC}"


def test_the_delivery_log_does_not_say_what_a_name_resolves_to(
    local, admin_headers, sessions, settings, receiver, claim_id
):
    """A name that resolves inside when sending is refused without naming its addresses."""
    named = receiver.url.replace("127.0.0.1", "localhost")
    created = subscribe(local, admin_headers, named, ["claim.verdict_added"])
    add_verdict(local, admin_headers, claim_id)
    [pending] = deliveries(local, admin_headers, created["id"])
    assert deliver(sessions, settings, pending["id"]).outcome == "failed"
    assert receiver.requests == []
    [logged] = deliveries(local, admin_headers, created["id"])
    assert logged["last_error"] == f"not sent: {NOT_PUBLIC}"
    assert "127.0.0.1" not in logged["last_error"]


def test_a_delivery_being_sent_elsewhere_is_skipped(
    engine, sessions, local_settings, receiver, pending_delivery
):
    _, delivery_id = pending_delivery
    with engine.begin() as connection:
        connection.execute(
            text("SELECT id FROM webhook_deliveries WHERE id = :id FOR UPDATE"), {"id": delivery_id}
        )
        assert deliver(sessions, local_settings, delivery_id).outcome == "skipped"
    assert receiver.requests == []
    assert deliver(sessions, local_settings, delivery_id).outcome == "succeeded"


def test_a_second_message_does_not_cut_a_backoff_short(
    engine, sessions, local_settings, receiver, pending_delivery
):
    """A duplicate task for a delivery waiting out its backoff sends nothing; the retry does."""
    _, delivery_id = pending_delivery
    patient = replace(local_settings, webhook_retry_base_seconds=60, webhook_retry_max_seconds=60)
    receiver.script.append(500)
    assert deliver(sessions, patient, delivery_id).outcome == "retrying"
    assert deliver(sessions, patient, delivery_id).outcome == "skipped"
    assert len(receiver.requests) == 1
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() WHERE id = :id"),
            {"id": delivery_id},
        )
    assert deliver(sessions, patient, delivery_id).outcome == "succeeded"
    assert len(receiver.requests) == 2


def test_an_attempt_ends_at_its_deadline_however_slowly_the_receiver_answers(
    local, admin_headers, sessions, local_settings, claim_id
):
    """A receiver answering `200 OK` and then a header line every 0.1 s (no read ever waits
    the 0.5 s timeout) is cut off at the deadline; the attempt is recorded as a failure and
    retried, like any other timeout. (Not cut off, it would end in a complete 200 answer and
    the attempt succeed.)"""
    drip = DripReceiver(interval=0.1, lines=90)  # a complete answer after 9 s
    try:
        created = subscribe(local, admin_headers, drip.url, ["claim.verdict_added"])
        add_verdict(local, admin_headers, claim_id)
        [pending] = deliveries(local, admin_headers, created["id"])
        attempted = deliver(sessions, local_settings, pending["id"])
    finally:
        drip.stop()
    assert attempted.outcome == "retrying"
    assert len(drip.requests) == 1
    [logged] = deliveries(local, admin_headers, created["id"])
    assert (logged["status"], logged["attempts"]) == ("pending", 1)
    assert logged["last_error"] == "timed out: no complete answer within 0.5 s"
    assert logged["last_status_code"] is None
    assert logged["next_attempt_at"] is not None
    assert logged["sending_until"] is None


def test_deleting_a_subscription_does_not_wait_for_an_attempt_in_flight(
    local, admin_headers, sessions, local_settings, claim_id
):
    """No lock is held while a receiver takes its time: the delete answers at once, and
    the outcome of the attempt, when it comes, is dropped."""
    drip = DripReceiver(interval=0.2)  # never finishes its answer
    patient = replace(local_settings, webhook_timeout_seconds=30)
    created = subscribe(local, admin_headers, drip.url, ["claim.verdict_added"])
    add_verdict(local, admin_headers, claim_id)
    [pending] = deliveries(local, admin_headers, created["id"])
    outcome = {}
    sender = threading.Thread(
        target=lambda: outcome.update(attempted=deliver(sessions, patient, pending["id"]))
    )
    sender.start()
    try:
        wait_until(lambda: drip.held, 10, "the attempt to reach the receiver")
        response = local.delete(f"{URL}/{created['id']}", headers=admin_headers)
        # The receiver never ends its answer: the attempt is still on it, so the delete
        # answered without waiting for it (it used to wait the attempt's whole 30 s).
        still_sending = drip.held
    finally:
        drip.stop()
        sender.join(40)
    assert response.status_code == 204, response.get_json()
    assert still_sending == 1
    assert outcome["attempted"].outcome == "dropped"
    with session_scope(sessions) as session:
        assert session.get(WebhookDelivery, pending["id"]) is None


def test_a_delete_waits_behind_an_outcome_being_recorded_instead_of_deadlocking(
    local, admin_headers, engine, sessions, local_settings, pending_delivery
):
    """A worker recording an outcome locks the delivery, then the subscription; a delete
    takes them in the same order. The worker is stopped between its two locks (a barrier on
    the statement that takes the second) until the delete waits: it must wait on the
    delivery, holding nothing of the subscription, so both finish. The other way round,
    each would hold what the other waits for."""
    created, delivery_id = pending_delivery
    with session_scope(sessions) as session:
        claimed = claim_delivery(
            session, delivery_id, lease_seconds=60, policy=policy(local_settings)
        )
    assert claimed is not None
    recorder = threading.get_ident()
    delivery_locked, delete_waits = threading.Event(), threading.Event()

    def pause_before_the_subscription(conn, cursor, statement, *_: object) -> None:
        if threading.get_ident() == recorder and "FROM webhooks" in statement:
            delivery_locked.set()
            assert delete_waits.wait(30), "the delete never came to wait"

    def delete() -> None:
        assert delivery_locked.wait(30)
        deleted["response"] = local.delete(f"{URL}/{created['id']}", headers=admin_headers)

    def waiting_delete() -> tuple[int, list[str]] | None:
        """The delete's server process, once it waits on a lock, and the tables it has
        locked meanwhile."""
        with engine.connect() as connection:
            pid = connection.scalar(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
            if pid is None:
                return None
            tables = connection.scalars(
                text(
                    "SELECT DISTINCT c.relname FROM pg_locks l JOIN pg_class c "
                    "ON c.oid = l.relation WHERE l.pid = :pid AND l.granted ORDER BY 1"
                ),
                {"pid": pid},
            )
            return pid, list(tables)

    deleted: dict[str, object] = {}
    deleter = threading.Thread(target=delete)
    deleter.start()
    event.listen(engine, "before_cursor_execute", pause_before_the_subscription)
    try:
        with session_scope(sessions) as session:
            failed = AttemptResult(503, "HTTP 503", retryable=True)
            # Released from a second thread: the barrier waits for the delete to wait.
            releaser = threading.Thread(
                target=lambda: (
                    deleted.update(waiting=wait_until(waiting_delete, 30, "the delete to wait")),
                    delete_waits.set(),
                )
            )
            releaser.start()
            recorded = record_attempt(session, claimed, failed, policy(local_settings))
    finally:
        event.remove(engine, "before_cursor_execute", pause_before_the_subscription)
        delete_waits.set()
        releaser.join(40)
        deleter.join(40)
    _, locked_by_delete = deleted["waiting"]
    assert "webhooks" not in locked_by_delete, "the delete took the subscription first"
    assert recorded.outcome == "retrying"
    assert deleted["response"].status_code == 204, deleted["response"].get_json()
    with session_scope(sessions) as session:
        assert session.get(WebhookDelivery, delivery_id) is None


def test_a_cut_off_attempt_counts_and_is_sent_again_once_its_lease_lapses(
    local, admin_headers, engine, sessions, local_settings, receiver, pending_delivery
):
    """A worker killed mid-attempt leaves its claim: the attempt is counted, other runs skip
    the delivery while the lease lasts, and the sweeper sends it again once it lapsed."""
    created, delivery_id = pending_delivery
    with session_scope(sessions) as session:  # claimed, then the worker dies
        claimed = claim_delivery(
            session, delivery_id, lease_seconds=600, policy=policy(local_settings)
        )
    assert claimed is not None
    assert claimed.attempt == 1
    [logged] = deliveries(local, admin_headers, created["id"])
    assert (logged["status"], logged["attempts"]) == ("pending", 1)
    assert logged["sending_until"] is not None

    # The task delivered again (acks_late) finds the lease live and sends nothing.
    assert deliver(sessions, local_settings, delivery_id).outcome == "skipped"
    with session_scope(sessions) as session:
        assert overdue_deliveries(session, grace_seconds=60) == []
    assert receiver.requests == []

    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE webhook_deliveries SET sending_until = now() - interval '1 second' "
                "WHERE id = :id"
            ),
            {"id": delivery_id},
        )
    with session_scope(sessions) as session:
        assert overdue_deliveries(session, grace_seconds=60) == [delivery_id]
    assert deliver(sessions, local_settings, delivery_id).outcome == "succeeded"
    assert len(receiver.requests) == 1
    [logged] = deliveries(local, admin_headers, created["id"])
    assert (logged["status"], logged["attempts"]) == ("succeeded", 2)
    assert logged["sending_until"] is None
    with session_scope(sessions) as session:
        assert overdue_deliveries(session, grace_seconds=0) == []


def test_a_late_outcome_is_not_stored_over_a_later_attempt(
    local, admin_headers, engine, sessions, local_settings, receiver, pending_delivery
):
    """An attempt that outlived its lease (another run took over) does not overwrite what
    came after it."""
    created, delivery_id = pending_delivery
    with session_scope(sessions) as session:
        late = claim_delivery(session, delivery_id, lease_seconds=0, policy=policy(local_settings))
    assert deliver(sessions, local_settings, delivery_id).outcome == "succeeded"
    with session_scope(sessions) as session:
        failed = AttemptResult(503, "HTTP 503", retryable=True)
        assert record_attempt(session, late, failed, policy(local_settings)).outcome == "dropped"
    [logged] = deliveries(local, admin_headers, created["id"])
    assert (logged["status"], logged["attempts"]) == ("succeeded", 2)
    assert logged["last_status_code"] == 200


def test_a_delivery_whose_last_attempt_was_cut_off_fails(
    local, admin_headers, engine, sessions, local_settings, receiver, pending_delivery
):
    created, delivery_id = pending_delivery
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE webhook_deliveries SET attempts = :n, "
                "sending_until = now() - interval '1 second' WHERE id = :id"
            ),
            {"n": local_settings.webhook_max_attempts, "id": delivery_id},
        )
    assert deliver(sessions, local_settings, delivery_id).outcome == "skipped"
    assert receiver.requests == []
    [logged] = deliveries(local, admin_headers, created["id"])
    assert logged["status"] == "failed"
    assert logged["last_error"] == (
        f"attempt {local_settings.webhook_max_attempts} was cut off before its outcome was "
        "recorded (its worker stopped)"
    )
    shown = local.get(f"{URL}/{created['id']}", headers=admin_headers).get_json()
    assert shown["consecutive_failures"] == 1


def test_consecutive_failures_disable_the_subscription(
    local, admin_headers, sessions, local_settings, receiver, claim_id
):
    created = subscribe(local, admin_headers, receiver.url, ["claim.verdict_added"])
    url = f"{URL}/{created['id']}"

    def one_delivery(status):
        receiver.script.append(status)
        add_verdict(local, admin_headers, claim_id)
        newest = deliveries(local, admin_headers, created["id"], limit=1)[0]
        return deliver(sessions, local_settings, newest["id"]).outcome

    # A success in between resets the count: only failures in a row disable.
    assert [one_delivery(s) for s in (400, 400, 200)] == ["failed", "failed", "succeeded"]
    assert local.get(url, headers=admin_headers).get_json()["consecutive_failures"] == 0
    assert [one_delivery(s) for s in (400, 400, 400)] == ["failed"] * 3

    shown = local.get(url, headers=admin_headers).get_json()
    assert shown["active"] is False
    assert shown["consecutive_failures"] == 3
    assert shown["disabled_at"] is not None
    assert "3 consecutive failed deliveries" in shown["disabled_reason"]
    add_verdict(local, admin_headers, claim_id)
    assert len(deliveries(local, admin_headers, created["id"])) == 6
    failed = deliveries(local, admin_headers, created["id"], status="failed")
    assert len(failed) == 5


def test_deliveries_page_newest_first(local, admin_headers, claim_id, receiver):
    created = subscribe(local, admin_headers, receiver.url, ["claim.verdict_added"])
    for _ in range(3):
        add_verdict(local, admin_headers, claim_id)
    url = f"{URL}/{created['id']}/deliveries"
    first = local.get(url, query_string={"limit": 2}, headers=admin_headers).get_json()
    second = local.get(
        url, query_string={"limit": 2, "cursor": first["next_cursor"]}, headers=admin_headers
    ).get_json()
    ids = [item["id"] for item in first["items"] + second["items"]]
    assert ids == sorted(ids, reverse=True)
    assert len(ids) == 3
    assert second["next_cursor"] is None


def test_overdue_retries_are_found_for_the_sweeper(
    engine, sessions, local_settings, receiver, pending_delivery
):
    """A retry whose delayed task was lost is found once it is overdue, and only then."""
    _, delivery_id = pending_delivery
    receiver.script.append(500)
    assert deliver(sessions, local_settings, delivery_id).outcome == "retrying"
    with session_scope(sessions) as session:
        assert overdue_deliveries(session, grace_seconds=60) == []
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE webhook_deliveries SET next_attempt_at = now() - interval '61 seconds'"
                " WHERE id = :id"
            ),
            {"id": delivery_id},
        )
    with session_scope(sessions) as session:
        assert overdue_deliveries(session, grace_seconds=60) == [delivery_id]
    # The re-sent task delivers it; a delivery that is done is never overdue again.
    assert deliver(sessions, local_settings, delivery_id).outcome == "succeeded"
    with session_scope(sessions) as session:
        assert overdue_deliveries(session, grace_seconds=0) == []


# ---- pausing a failing receiver -------------------------------------------------------------


def test_a_receiver_failing_attempts_in_a_row_pauses_its_subscription_until_a_probe_succeeds(
    local, admin_headers, sessions, local_settings, receiver, claim_id, engine
):
    # Pauses of 30 to 60 s: nothing here waits them out.
    rules = replace(
        local_settings,
        webhook_pause_after=2,
        webhook_retry_base_seconds=60,
        webhook_retry_max_seconds=3600,
    )
    created = subscribe(local, admin_headers, receiver.url, ["claim.verdict_added"])
    for _ in range(4):
        add_verdict(local, admin_headers, claim_id)
    first, second, third, fourth = sorted(
        d["id"] for d in deliveries(local, admin_headers, created["id"])
    )
    receiver.script.extend([503, 503])
    assert deliver(sessions, rules, first).outcome == "retrying"
    assert deliver(sessions, rules, second).outcome == "retrying"

    shown = local.get(f"{URL}/{created['id']}", headers=admin_headers).get_json()
    assert shown["failing_attempts"] == 2
    assert shown["paused_until"] is not None
    deferred = deliver(sessions, rules, third)
    assert deferred.outcome == "deferred"
    assert 25 <= deferred.retry_in <= 60
    assert len(receiver.requests) == 2, "a paused subscription's deliveries are not sent"
    logged = {d["id"]: d for d in deliveries(local, admin_headers, created["id"])}
    assert logged[third]["attempts"] == 0, "waiting is not an attempt"
    assert logged[third]["next_attempt_at"] == shown["paused_until"]

    # The pause is over: one delivery probes the receiver, the others wait for its outcome.
    with engine.begin() as connection:
        connection.execute(text("UPDATE webhooks SET paused_until = now() - interval '1 s'"))
        connection.execute(
            text("UPDATE webhook_deliveries SET next_attempt_at = now() - interval '1 s'")
        )
    policy_now = policy(rules)
    with session_scope(sessions) as session:
        probe = claim_delivery(session, third, lease_seconds=60, policy=policy_now)
    with session_scope(sessions) as session:
        held = claim_delivery(session, fourth, lease_seconds=60, policy=policy_now)
    assert isinstance(probe, PendingDelivery)
    assert isinstance(held, Deferred)
    assert held.retry_in <= rules.webhook_timeout_seconds + 5
    with session_scope(sessions) as session:
        record_attempt(session, probe, AttemptResult(200, None, retryable=False), policy_now)
    shown = local.get(f"{URL}/{created['id']}", headers=admin_headers).get_json()
    assert (shown["failing_attempts"], shown["paused_until"]) == (0, None)
    with engine.begin() as connection:  # the fourth's wait for the probe is over too
        connection.execute(text("UPDATE webhook_deliveries SET next_attempt_at = NULL"))
    assert deliver(sessions, rules, fourth).outcome == "succeeded"


def test_permanent_refusals_do_not_pause_a_subscription(
    local, admin_headers, sessions, local_settings, receiver, claim_id
):
    """A receiver answering 4xx at once costs the workers nothing: it is not paused (its
    failed deliveries count towards disabling it, as before)."""
    rules = replace(local_settings, webhook_pause_after=2, webhook_disable_after=10)
    created = subscribe(local, admin_headers, receiver.url, ["claim.verdict_added"])
    for _ in range(3):
        add_verdict(local, admin_headers, claim_id)
    receiver.script.extend([400, 400, 400])
    outcomes = [
        deliver(sessions, rules, d["id"]).outcome
        for d in sorted(deliveries(local, admin_headers, created["id"]), key=lambda d: d["id"])
    ]
    assert outcomes == ["failed", "failed", "failed"]
    shown = local.get(f"{URL}/{created['id']}", headers=admin_headers).get_json()
    assert (shown["failing_attempts"], shown["paused_until"]) == (0, None)


def test_a_slow_receiver_costs_a_few_attempts_not_one_per_delivery(
    local, admin_headers, sessions, local_settings, receiver, claim_id
):
    """Deliveries of one event to a receiver that never answers and to one that does, sent
    in turn as a worker takes them: the slow one is paused after `pause_after` timeouts, so
    the prompt receiver's deliveries stop queueing behind a deadline each."""
    rules = replace(
        local_settings,
        webhook_pause_after=3,
        webhook_retry_base_seconds=60,
        webhook_retry_max_seconds=3600,
    )
    drip = DripReceiver(interval=0.1)
    try:
        slow = subscribe(local, admin_headers, drip.url, ["claim.verdict_added"])
        prompt = subscribe(local, admin_headers, receiver.url, ["claim.verdict_added"])
        for _ in range(10):
            add_verdict(local, admin_headers, claim_id)
        every = sorted(
            deliveries(local, admin_headers, slow["id"], limit=50)
            + deliveries(local, admin_headers, prompt["id"], limit=50),
            key=lambda d: d["id"],
        )
        outcomes = [deliver(sessions, rules, d["id"]).outcome for d in every]
    finally:
        drip.stop()
    assert len(drip.requests) == 3, "one attempt per delivery would be 10 deadlines"
    assert len(receiver.requests) == 10
    assert outcomes.count("succeeded") == 10
    assert outcomes.count("retrying") == 3
    assert outcomes.count("deferred") == 7
