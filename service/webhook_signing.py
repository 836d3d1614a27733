"""The webhook signature, both ends: what the service signs and what a receiver checks.

Standard library only: a receiver can use it from `service.client` without the service's
dependencies, or copy this one file.

The signature covers the timestamp and the body, and the body carries the delivery `id` and
the `event`: those are what a receiver may trust. The `X-Factcheck-Delivery` and
`X-Factcheck-Event` headers are a convenience, unsigned; `verify_webhook` refuses a request
whose headers disagree with the signed body, so a receiver that reads them after verifying is
not misled either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

SIGNATURE_HEADER = "X-Factcheck-Signature"
TIMESTAMP_HEADER = "X-Factcheck-Timestamp"
EVENT_HEADER = "X-Factcheck-Event"
DELIVERY_HEADER = "X-Factcheck-Delivery"
DEFAULT_TOLERANCE_SECONDS = 300


class WebhookRejected(Exception):
    """A request that is not a genuine, fresh delivery from the service; says why."""


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """`sha256=` and the hex HMAC-SHA256 of `{timestamp}.{body}` keyed with the secret."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def verify_webhook(
    secret: str,
    headers: Mapping[str, str],
    body: bytes,
    *,
    tolerance: float = DEFAULT_TOLERANCE_SECONDS,
    now: float | None = None,
) -> dict[str, Any]:
    """The delivery's event (`id`, `event`, `occurred_at`, `data`) if the request is genuine.

    `body` must be the raw bytes received, before any parsing. Raises WebhookRejected for a
    signature that does not match (another secret, an altered body or timestamp), a timestamp
    more than `tolerance` seconds from `now` (a replay of an old request), or delivery and
    event headers that disagree with the signed body. A genuine request can still arrive
    twice (a retry, or a replay within the tolerance): deduplicate on the returned `id`.
    """
    given = {name.lower(): value for name, value in headers.items()}
    stamp = given.get(TIMESTAMP_HEADER.lower(), "")
    sent = given.get(SIGNATURE_HEADER.lower(), "")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookRejected(f"{TIMESTAMP_HEADER} is missing or not a Unix time") from None
    expected = signature(secret, timestamp, body)
    if not hmac.compare_digest(expected.encode(), sent.encode()):
        raise WebhookRejected("the signature does not match the timestamp and body")
    # Checked after the signature, so an unsigned request learns nothing about the clock.
    age = (time.time() if now is None else now) - timestamp
    if abs(age) > tolerance:
        raise WebhookRejected(f"the timestamp is {age:+.0f} s off, beyond {tolerance:g} s")
    event: dict[str, Any] = json.loads(body)
    for header, member in ((DELIVERY_HEADER, "id"), (EVENT_HEADER, "event")):
        value = given.get(header.lower())
        if value is not None and value != event.get(member):
            raise WebhookRejected(f"{header} does not match the signed body's {member!r}")
    return event
