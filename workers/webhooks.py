"""Sending one webhook delivery: signed, to an address checked just before, never redirected.

The standard library's `http.client` is used rather than `urllib.request` because the
connection must go to the exact address that passed the SSRF check (not to whatever a second
DNS lookup returns) while the Host header and TLS certificate check still use the host name;
and because it never follows redirects, which could otherwise lead anywhere.
"""

from __future__ import annotations

import http.client
import json
import logging
import socket
import ssl
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings
from service.db import session_scope
from service.domain import Unprocessable
from service.domain.outbox import complete
from service.domain.webhooks import (
    AttemptResult,
    PendingDelivery,
    Policy,
    lock_pending,
    record_attempt,
    resolve_target,
)
from service.webhook_signing import (
    DELIVERY_HEADER,
    EVENT_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    signature,
)

log = logging.getLogger(__name__)

USER_AGENT = "factcheck-webhooks/1.0"
MAX_ERROR_CHARS = 500
MAX_RESPONSE_BYTES = 64 * 1024


def encode_body(payload: Any) -> bytes:
    """The exact bytes sent and signed: compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address; the host name is only used for the Host header."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        super().__init__(host, port, timeout=timeout)
        self.pinned_address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self.pinned_address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a checked address, verifying the certificate against the host name."""

    def __init__(self, host: str, port: int, address: str, timeout: float) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self.tls)
        self.pinned_address = address

    def connect(self) -> None:
        raw = socket.create_connection((self.pinned_address, self.port), self.timeout)
        self.sock = self.tls.wrap_socket(raw, server_hostname=self.host)


def signed_headers(pending: PendingDelivery, body: bytes, timestamp: int) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        DELIVERY_HEADER: str(pending.delivery_id),
        EVENT_HEADER: pending.event,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(pending.secret, timestamp, body),
    }


def post(pending: PendingDelivery, settings: Settings) -> AttemptResult:
    """POST one delivery once and classify the outcome; never raises for network trouble.

    Retryable: DNS and connection errors, timeouts, 5xx and 429. Permanent: other 4xx,
    redirects (not followed), and a host that now resolves to a refused address.
    """
    try:
        target = resolve_target(pending.url, allow_private=settings.webhook_allow_private)
    except Unprocessable as refused:
        return AttemptResult(None, f"not sent: {refused.detail}", retryable=False)
    except OSError as error:
        return AttemptResult(None, f"DNS lookup failed: {error}"[:MAX_ERROR_CHARS], True)
    body = encode_body(pending.payload)
    headers = signed_headers(pending, body, int(time.time()))
    kind = _PinnedHTTPSConnection if target.scheme == "https" else _PinnedHTTPConnection
    connection = kind(
        target.host, target.port, str(target.addresses[0]), settings.webhook_timeout_seconds
    )
    try:
        connection.request("POST", target.path, body=body, headers=headers)
        response = connection.getresponse()
        response.read(MAX_RESPONSE_BYTES)
    except (OSError, http.client.HTTPException) as error:
        message = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        return AttemptResult(None, message[:MAX_ERROR_CHARS], retryable=True)
    finally:
        connection.close()
    status = response.status
    if 200 <= status < 300:
        return AttemptResult(status, None, retryable=False)
    if 300 <= status < 400:
        location = response.getheader("Location", "")
        refusal = f"HTTP {status}: redirects are not followed (Location: {location})"
        return AttemptResult(status, refusal[:MAX_ERROR_CHARS], retryable=False)
    failure = f"HTTP {status} {response.reason}".strip()
    return AttemptResult(
        status, failure[:MAX_ERROR_CHARS], retryable=status >= 500 or status == 429
    )


@dataclass(frozen=True)
class Attempted:
    """What one run of the delivery task did: `skipped`, `succeeded`, `retrying`, `failed`."""

    outcome: str
    retry_in: float | None = None


def policy(settings: Settings) -> Policy:
    return Policy(
        max_attempts=settings.webhook_max_attempts,
        retry_base_seconds=settings.webhook_retry_base_seconds,
        retry_max_seconds=settings.webhook_retry_max_seconds,
        disable_after=settings.webhook_disable_after,
    )


def deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    delivery_id: int,
    outbox_id: int | None = None,
) -> Attempted:
    """Make one attempt at a delivery, unless it is already done or being sent elsewhere.

    The delivery row is locked from before the request until its outcome is committed, so
    two runs for the same delivery never both send, and a delivery that succeeded is never
    sent again. If the outcome cannot be committed (the database went away) the attempt is
    repeated later: receivers must deduplicate on the body's `id` (at-least-once).
    """
    with session_scope(sessions) as session:
        complete(session, outbox_id)
        pending = lock_pending(session, delivery_id)
        if pending is None:
            return Attempted("skipped")
        result = post(pending, settings)
        retry_in = record_attempt(session, pending, result, policy(settings))
    if result.succeeded:
        outcome = "succeeded"
    elif retry_in is not None:
        outcome = "retrying"
    else:
        outcome = "failed"
    log.info(
        "webhook delivery %s (%s) attempt %s: %s%s",
        delivery_id,
        pending.event,
        pending.attempt,
        outcome,
        f" ({result.error})" if result.error else "",
    )
    return Attempted(outcome, retry_in)
