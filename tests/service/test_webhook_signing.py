"""The webhook signature as a receiver checks it: genuine and fresh, or refused with a reason."""

from __future__ import annotations

import json

import pytest

from service.client import WebhookRejected, verify_webhook
from service.webhook_signing import signature

SECRET = "whsec_" + "k" * 43
NOW = 1_800_000_000
EVENT = {"id": "41", "event": "verdict.published", "occurred_at": "2027-01-15T08:00:00+00:00",
         "data": {"verdict_id": 7, "rating": "false"}}  # fmt: skip
BODY = json.dumps(EVENT, sort_keys=True, separators=(",", ":")).encode()


def signed(body: bytes = BODY, timestamp: int = NOW, **headers: str) -> dict[str, str]:
    return {
        "X-Factcheck-Delivery": "41",
        "X-Factcheck-Event": "verdict.published",
        "X-Factcheck-Timestamp": str(timestamp),
        "X-Factcheck-Signature": signature(SECRET, timestamp, body),
        **headers,
    }


def test_a_genuine_delivery_gives_its_event():
    assert verify_webhook(SECRET, signed(), BODY, now=NOW + 299) == EVENT


def test_header_names_are_case_insensitive():
    lowered = {name.lower(): value for name, value in signed().items()}
    assert verify_webhook(SECRET, lowered, BODY, now=NOW)["id"] == "41"


def test_the_unsigned_headers_may_be_missing():
    headers = signed()
    del headers["X-Factcheck-Delivery"], headers["X-Factcheck-Event"]
    assert verify_webhook(SECRET, headers, BODY, now=NOW)["event"] == "verdict.published"


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"now": NOW + 301}, "timestamp is \\+301 s off"),
        ({"now": NOW - 301}, "timestamp is -301 s off"),
        ({"secret": "whsec_someone-else"}, "signature does not match"),
        ({"body": BODY.replace(b'"rating":"false"', b'"rating":"true"')}, "signature"),
        ({"body": BODY.replace(b'"id":"41"', b'"id":"42"')}, "signature"),
        ({"headers": {"X-Factcheck-Timestamp": str(NOW + 60)}}, "signature"),
        ({"headers": {"X-Factcheck-Timestamp": "soon"}}, "not a Unix time"),
        ({"headers": {"X-Factcheck-Signature": "sha256=00"}}, "signature"),
        ({"headers": {"X-Factcheck-Delivery": "42"}}, "X-Factcheck-Delivery does not match"),
        ({"headers": {"X-Factcheck-Event": "verdict.corrected"}}, "X-Factcheck-Event does not"),
    ],
)
def test_forged_altered_and_old_requests_are_refused(change, reason):
    headers = {**signed(), **change.get("headers", {})}
    with pytest.raises(WebhookRejected, match=reason):
        verify_webhook(
            change.get("secret", SECRET),
            headers,
            change.get("body", BODY),
            now=change.get("now", NOW),
        )
