"""Sending one webhook delivery: signed, to an address checked just before, never redirected,
and over within a deadline.

The standard library's `http.client` is used rather than `urllib.request` because the
connection must go to the exact address that passed the SSRF check (not to whatever a second
DNS lookup returns) while the Host header and TLS certificate check still use the host name;
and because it never follows redirects, which could otherwise lead anywhere.

Its timeout bounds each socket operation, not the attempt: a receiver sending one byte every
few seconds would hold a worker for as long as it liked. `AttemptDeadline` bounds the whole
of an attempt (connect, TLS, request, status line, headers and body) by the clock.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import socket
import ssl
import threading
import time
from types import TracebackType
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings
from service.db import session_scope
from service.domain import Unprocessable
from service.domain.outbox import complete
from service.domain.webhooks import (
    Attempted,
    AttemptResult,
    Deferred,
    PendingDelivery,
    Policy,
    claim_delivery,
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
PROBE_MARGIN_SECONDS = 5.0


def encode_body(payload: Any) -> bytes:
    """The exact bytes sent and signed: compact JSON, keys sorted, UTF-8."""
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


class AttemptDeadline:
    """The wall-clock limit of one attempt: when it passes, the socket in use is shut down,
    which ends whatever read or write was waiting on it.

    Use it as a context manager around the attempt, and `guard` each socket as soon as it
    exists; `passed` tells afterwards whether the attempt was cut short.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.passed = False
        self._ends = time.monotonic() + seconds
        self._lock = threading.Lock()
        self._socket: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._expire)
        self._timer.daemon = True

    def left(self) -> float:
        """Seconds left, as a socket timeout (never 0, which would make it non-blocking)."""
        return max(self._ends - time.monotonic(), 0.001)

    def guard(self, sock: socket.socket) -> None:
        with self._lock:
            self._socket = sock
            if self.passed:
                _shut_down(sock)

    def _expire(self) -> None:
        with self._lock:
            self.passed = True
            if self._socket is not None:
                _shut_down(self._socket)

    def __enter__(self) -> AttemptDeadline:
        self._ends = time.monotonic() + self.seconds
        self._timer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._timer.cancel()
        with self._lock:
            self._socket = None


def _shut_down(sock: socket.socket) -> None:
    # Closed already, the attempt is over anyway: OSError is nothing to report.
    with contextlib.suppress(OSError):
        # The plain socket's shutdown even for a TLS socket: ssl.SSLSocket's own would undo
        # its TLS state under the thread still reading from it.
        socket.socket.shutdown(sock, socket.SHUT_RDWR)


def _connect(address: str, port: int, deadline: AttemptDeadline) -> socket.socket:
    sock = socket.create_connection((address, port), deadline.left())
    deadline.guard(sock)
    return sock


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """Connects to a checked address; the host name is only used for the Host header."""

    def __init__(self, host: str, port: int, address: str, deadline: AttemptDeadline) -> None:
        super().__init__(host, port, timeout=deadline.seconds)
        self.pinned_address = address
        self.deadline = deadline

    def connect(self) -> None:
        self.sock = _connect(self.pinned_address, self.port, self.deadline)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """TLS to a checked address, verifying the certificate against the host name."""

    def __init__(self, host: str, port: int, address: str, deadline: AttemptDeadline) -> None:
        self.tls = ssl.create_default_context()
        super().__init__(host, port, timeout=deadline.seconds, context=self.tls)
        self.pinned_address = address
        self.deadline = deadline

    def connect(self) -> None:
        raw = _connect(self.pinned_address, self.port, self.deadline)
        # The handshake is made after the TLS socket is guarded: a receiver dripping its
        # handshake is cut off at the deadline too.
        self.sock = self.tls.wrap_socket(
            raw, server_hostname=self.host, do_handshake_on_connect=False
        )
        self.deadline.guard(self.sock)
        self.sock.do_handshake()


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

    Retryable: DNS and connection errors, no complete answer within
    FACTCHECK_WEBHOOK_TIMEOUT, 5xx and 429. Permanent: other 4xx, redirects (not followed),
    and a host that now resolves to a refused address.
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
    failure: Exception | None = None
    with AttemptDeadline(settings.webhook_timeout_seconds) as deadline:
        connection = kind(target.host, target.port, str(target.addresses[0]), deadline)
        try:
            connection.request("POST", target.path, body=body, headers=headers)
            response = connection.getresponse()
            response.read(MAX_RESPONSE_BYTES)
        except (OSError, http.client.HTTPException) as error:
            failure = error
        finally:
            connection.close()
    # Checked first: a socket shut down mid-headers can still parse as a whole answer. A
    # socket timeout is the deadline too (no operation may wait longer than what was left).
    if deadline.passed or isinstance(failure, TimeoutError):
        timed_out = f"timed out: no complete answer within {deadline.seconds:g} s"
        return AttemptResult(None, timed_out, retryable=True)
    if failure is not None:
        message = f"{type(failure).__name__}: {failure}" if str(failure) else type(failure).__name__
        return AttemptResult(None, message[:MAX_ERROR_CHARS], retryable=True)
    status = response.status
    if 200 <= status < 300:
        return AttemptResult(status, None, retryable=False)
    if 300 <= status < 400:
        location = response.getheader("Location", "")
        refusal = f"HTTP {status}: redirects are not followed (Location: {location})"
        return AttemptResult(status, refusal[:MAX_ERROR_CHARS], retryable=False)
    failure_line = f"HTTP {status} {response.reason}".strip()
    return AttemptResult(
        status, failure_line[:MAX_ERROR_CHARS], retryable=status >= 500 or status == 429
    )


def policy(settings: Settings) -> Policy:
    return Policy(
        max_attempts=settings.webhook_max_attempts,
        retry_base_seconds=settings.webhook_retry_base_seconds,
        retry_max_seconds=settings.webhook_retry_max_seconds,
        disable_after=settings.webhook_disable_after,
        pause_after=settings.webhook_pause_after,
        # A probe of a paused receiver ends by its deadline; until then the others wait.
        probe_seconds=settings.webhook_timeout_seconds + PROBE_MARGIN_SECONDS,
    )


def deliver(
    sessions: sessionmaker[Session],
    settings: Settings,
    delivery_id: int,
    outbox_id: int | None = None,
) -> Attempted:
    """Make one attempt at a delivery, unless it is already done, being sent, or not due.

    Three steps, and no transaction open while the receiver is contacted: claim the
    delivery (its attempt counted, a lease as long as the task's hard time limit, the
    outbox message completed) and commit; POST within the deadline; store the outcome in a
    new transaction, fenced on the attempt claimed. A killed worker leaves its attempt
    counted and its lease to lapse, after which the sweeper sends the delivery again. If
    the outcome cannot be stored (the database went away) the attempt is repeated once the
    lease lapses: receivers must deduplicate on the body's `id` (at-least-once).
    """
    rules = policy(settings)
    with session_scope(sessions) as session:
        complete(session, outbox_id)
        pending = claim_delivery(
            session, delivery_id, lease_seconds=settings.task_time_limit, policy=rules
        )
    if pending is None:
        return Attempted("skipped")
    if isinstance(pending, Deferred):
        log.info(
            "webhook delivery %s waits %.0f s: its receiver is failing (subscription paused)",
            delivery_id,
            pending.retry_in,
        )
        return Attempted("deferred", pending.retry_in)
    result = post(pending, settings)
    with session_scope(sessions) as session:
        attempted = record_attempt(session, pending, result, rules)
    log.info(
        "webhook delivery %s (%s) attempt %s: %s%s",
        delivery_id,
        pending.event,
        pending.attempt,
        attempted.outcome,
        f" ({result.error})" if result.error else "",
    )
    return attempted
