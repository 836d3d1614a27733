"""Webhooks: subscriptions, events written with the change that caused them, the delivery log.

An event is recorded in the transaction of the change it reports: one delivery row per active
subscription to it, and one outbox message per delivery, so nothing is sent before the commit
and nothing is lost if the broker is down. Sending (`workers.webhooks`) claims the delivery
for one attempt with a lease (`claim_delivery`, committed before the receiver is contacted)
and stores the outcome afterwards (`record_attempt`), so a delivery that succeeded or is
being sent is never sent again, and no transaction stays open while a receiver takes its
time.

Targets must be public http(s) hosts unless `FACTCHECK_WEBHOOK_ALLOW_PRIVATE` is set: a
subscription to a private, loopback or otherwise internal address is refused, and every send
re-resolves the host and connects only to an address that passed the same check (a host
that resolved to a public address at subscription time may not later point inside).
"""

from __future__ import annotations

import ipaddress
import logging
import random
import secrets
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from service.domain import Unprocessable, load, not_found
from service.domain.audit import record
from service.domain.outbox import complete, enqueue
from service.models import Article, Claim, Verdict, WebhookDelivery, WebhookSubscription
from service.vocabulary import DELIVER_WEBHOOK_TASK, WEBHOOK_EVENTS

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"  # noqa: S105 (a marker, not a secret)
# One refusal for a host that does not resolve and for one that resolves inside: which it is,
# and what an internal name resolves to, is the service's network map, not an editor's.
NOT_PUBLIC = (
    "The URL's host is not a public host: it does not resolve, or resolves to a private, "
    "loopback, link-local, multicast or reserved address; webhooks only reach public hosts."
)
DEFAULT_PORTS = {"http": 80, "https": 443}
# How early a retry may run: its delayed task is timed by the worker's clock, the wait it
# keeps by the database's, and the two may disagree by this much.
EARLY_ATTEMPT_TOLERANCE_SECONDS = 5

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# IPv6 addresses a NAT64 gateway translates to the IPv4 address in their last 32 bits.
NAT64 = ipaddress.IPv6Network("64:ff9b::/96")


@dataclass(frozen=True)
class Target:
    """A webhook URL taken apart, with the addresses its host resolved to (all checked)."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[IpAddress, ...]


# ---- target checks (SSRF) ------------------------------------------------------------------


def is_internal(address: IpAddress) -> bool:
    """True for any address a webhook must not reach from inside the service's network."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if address in NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None and is_internal(embedded):
            return True
    return (
        address.is_private
        or address.is_loopback
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def resolve_target(url: str, *, allow_private: bool) -> Target:
    """Parse and resolve a webhook URL; raise Unprocessable unless every address is allowed.

    Raises OSError (socket.gaierror) when the host does not resolve at all, which the
    caller decides about: a subscription is refused, a delivery is retried.
    """
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as error:
        raise _refused(f"Not a usable URL: {error}.") from None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        raise _refused("The URL must be http or https, with a host.")
    if parts.username is not None or parts.password is not None:
        raise _refused("The URL must not carry credentials; verify the signature instead.")
    port = port or DEFAULT_PORTS[scheme]
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = tuple(
        dict.fromkeys(ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in found)
    )
    if not addresses:
        raise OSError(f"{host} has no addresses")
    if not allow_private:
        refused = [str(a) for a in addresses if is_internal(a)]
        if refused:
            log.info("webhook URL refused: %s resolves to %s", host, ", ".join(refused))
            raise _refused(NOT_PUBLIC)
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return Target(scheme, host, port, path, addresses)


def _refused(message: str) -> Unprocessable:
    return Unprocessable(message, errors={"url": [message]})


# ---- signing ---------------------------------------------------------------------------------


def new_secret() -> str:
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def retry_delay(
    attempt: int, *, base: float, cap: float, rng: random.Random | None = None
) -> float:
    """Seconds to wait after failed attempt number `attempt` (1-based).

    Exponential (base, 2 x base, 4 x base ...) up to `cap`, with "equal jitter": between half
    and all of that, so receivers recovering at once are not hit in lockstep, while each wait
    is still at least as long as the one before (until the cap).
    """
    delay = min(cap, base * 2 ** min(attempt - 1, 64))
    return delay / 2 + (rng or random).uniform(0, delay / 2)


# ---- subscriptions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class CreatedSubscription:
    subscription: WebhookSubscription
    secret: str


def create_subscription(
    session: Session, data: Mapping[str, Any], *, actor: str, allow_private: bool
) -> CreatedSubscription:
    """Subscribe a URL to events; the secret is returned here once."""
    try:
        resolve_target(data["url"], allow_private=allow_private)
    except OSError as error:
        log.info("webhook URL refused: %s does not resolve (%s)", data["url"], error)
        raise _refused(NOT_PUBLIC) from None
    wanted = set(data["events"])
    events = [event for event in WEBHOOK_EVENTS if event in wanted]
    secret = new_secret()
    subscription = WebhookSubscription(
        url=data["url"],
        events=events,
        description=data.get("description"),
        secret=secret,
        created_by=actor,
    )
    session.add(subscription)
    session.flush()
    session.refresh(subscription)
    record(
        session, actor, "webhook.created", "webhook", subscription.id,
        after={"url": subscription.url, "events": events},
    )  # fmt: skip
    return CreatedSubscription(subscription, secret)


def get_subscription(session: Session, webhook_id: int) -> WebhookSubscription:
    return load(session, WebhookSubscription, webhook_id)


def list_subscriptions(
    session: Session, *, limit: int, after_id: int | None = None
) -> list[WebhookSubscription]:
    statement = select(WebhookSubscription).order_by(WebhookSubscription.id).limit(limit)
    if after_id is not None:
        statement = statement.where(WebhookSubscription.id > after_id)
    return list(session.scalars(statement))


def delete_subscription(session: Session, webhook_id: int, *, actor: str) -> None:
    """Remove a subscription and its delivery log; deliveries still queued are not sent.

    No lock is held while an attempt is in flight (see `claim_delivery`), so this never
    waits for a receiver: the attempt runs out and its outcome is dropped. Deliveries are
    locked before the subscription, the order a worker recording an outcome takes
    (delivery, then subscription), so the two never deadlock.
    """
    session.execute(
        select(WebhookDelivery.id)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id)
        .with_for_update()
    )
    subscription = load(session, WebhookSubscription, webhook_id, for_update=True)
    record(
        session, actor, "webhook.deleted", "webhook", webhook_id,
        before={"url": subscription.url, "events": subscription.events},
    )  # fmt: skip
    session.delete(subscription)
    session.flush()


def list_deliveries(
    session: Session,
    webhook_id: int,
    *,
    limit: int,
    before_id: int | None = None,
    status: str | None = None,
) -> list[WebhookDelivery]:
    """A subscription's deliveries, newest first."""
    if session.get(WebhookSubscription, webhook_id) is None:
        raise not_found(WebhookSubscription, webhook_id)
    statement = (
        select(WebhookDelivery)
        .where(WebhookDelivery.webhook_id == webhook_id)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if before_id is not None:
        statement = statement.where(WebhookDelivery.id < before_id)
    if status is not None:
        statement = statement.where(WebhookDelivery.status == status)
    return list(session.scalars(statement))


# ---- emitting events ---------------------------------------------------------------------------


def emit(session: Session, event: str, data: Mapping[str, Any]) -> list[int]:
    """Record `event` for every active subscription to it; returns the delivery ids.

    Runs in the caller's transaction: if the change rolls back, so do its deliveries, and
    the outbox publishes them only after the commit.
    """
    if event not in WEBHOOK_EVENTS:
        raise ValueError(f"unknown webhook event {event!r}")
    subscribers = session.scalars(
        select(WebhookSubscription.id)
        .where(
            WebhookSubscription.disabled_at.is_(None),
            WebhookSubscription.events.contains([event]),
        )
        .order_by(WebhookSubscription.id)
    ).all()
    if not subscribers:
        return []
    occurred_at = session.scalar(select(func.now()))
    assert occurred_at is not None
    ids = []
    for webhook_id in subscribers:
        delivery = WebhookDelivery(webhook_id=webhook_id, event=event, payload={})
        session.add(delivery)
        session.flush()
        # The id is part of the body, so a receiver can deduplicate on the body alone.
        delivery.payload = {
            "id": str(delivery.id),
            "event": event,
            "occurred_at": occurred_at.isoformat(),
            "data": dict(data),
        }
        enqueue(session, DELIVER_WEBHOOK_TASK, {"delivery_id": delivery.id})
        ids.append(delivery.id)
    session.flush()
    return ids


def article_event(session: Session, article_id: int) -> dict[str, Any]:
    """What `article.processed` and `article.failed` say about an article."""
    # Columns, not the ORM entity: the status was just changed by a bulk UPDATE.
    article = session.execute(
        select(
            Article.id,
            Article.revision,
            Article.status,
            Article.source,
            Article.external_id,
            Article.url,
            Article.failure_reason,
        ).where(Article.id == article_id)
    ).one()
    claims = session.scalar(
        select(func.count())
        .select_from(Claim)
        .where(Claim.article_id == article_id, Claim.revision == article.revision)
    )
    return {
        "article_id": article.id,
        "revision": article.revision,
        "status": article.status,
        "source": article.source,
        "external_id": article.external_id,
        "url": article.url,
        "failure_reason": article.failure_reason,
        "claim_count": claims or 0,
    }


def verdict_event(verdict: Verdict, claim: Claim) -> dict[str, Any]:
    """What the verdict events say: the verdict, its claim and article, never reviewer notes."""
    return {
        "verdict_id": verdict.id,
        "claim_id": claim.id,
        "article_id": claim.article_id,
        "claim_text": claim.text,
        "rating": verdict.rating,
        "summary": verdict.summary,
        "status": verdict.status,
        "author": verdict.author,
        "published_at": _iso(verdict.published_at),
        "published_by": verdict.published_by,
        "supersedes_id": verdict.supersedes_id,
        "correction_reason": verdict.correction_reason,
    }


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


# ---- delivering --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PendingDelivery:
    """A delivery claimed for one attempt, with what sending needs."""

    delivery_id: int
    webhook_id: int
    event: str
    payload: dict[str, Any]
    url: str
    secret: str
    attempt: int


@dataclass(frozen=True)
class Policy:
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    disable_after: int
    # Attempts in a row failing in a way worth retrying before the subscription pauses, and
    # how long one probe of a paused receiver holds the others back.
    pause_after: int = 3
    probe_seconds: float = 10.0


@dataclass(frozen=True)
class Deferred:
    """Not attempted: its subscription is paused; try again in `retry_in` seconds."""

    retry_in: float


def claim_delivery(
    session: Session, delivery_id: int, *, lease_seconds: float, policy: Policy
) -> PendingDelivery | Deferred | None:
    """Claim a pending delivery for one attempt, counted now; None if it is done, gone,
    being sent, or its next attempt is not due yet; Deferred (no attempt counted) while its
    subscription is paused.

    A subscription whose receiver failed `policy.pause_after` attempts in a row (timeouts,
    refused connections, 5xx, 429) is paused: its deliveries wait, and when the pause is
    over the first one claimed probes the receiver while the others keep waiting (for
    `policy.probe_seconds`), so a slow or dead receiver holds one worker process per pause,
    not one per delivery, and never queues other subscribers' deliveries behind its own.

    The claim is a lease: `sending_until` is set `lease_seconds` ahead and the caller
    commits before contacting the receiver, so no transaction or lock is held however long
    the receiver takes. Until the outcome is recorded or the lease lapses, any other run
    for the delivery (a re-delivered task, the sweeper's copy) skips it; a delivery that
    succeeded is found `succeeded`. The lease must outlast any attempt (the task's hard time
    limit does): one that lapses was cut off (its worker killed), and the sweeper sends the
    delivery again, as the next attempt. A second message for a delivery waiting out its
    backoff (the sweeper's copy of a retry that was only late, not lost) is dropped: the
    retry that scheduled the wait still comes, and the receiver is not hit again early.
    """
    due = func.now() + timedelta(seconds=EARLY_ATTEMPT_TOLERANCE_SECONDS)
    delivery = session.scalars(
        select(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.status == "pending",
            or_(WebhookDelivery.next_attempt_at.is_(None), WebhookDelivery.next_attempt_at <= due),
            or_(
                WebhookDelivery.sending_until.is_(None),
                WebhookDelivery.sending_until < func.now(),
            ),
        )
        # Only ever held for a claim or a record, never while a receiver is contacted.
        .with_for_update(skip_locked=True)
    ).first()
    if delivery is None:
        return None
    subscription = _lock_subscription(session, delivery.webhook_id)
    if subscription is None:
        return None
    if subscription.disabled_at is not None:
        delivery.status = "failed"
        delivery.last_error = "not sent: the subscription is disabled"
        delivery.next_attempt_at = delivery.sending_until = None
        session.flush()
        return None
    now = session.scalar(select(func.now()))
    assert now is not None
    if subscription.paused_until is not None and subscription.paused_until > now:
        delivery.next_attempt_at = subscription.paused_until
        session.flush()
        return Deferred((subscription.paused_until - now).total_seconds())
    if subscription.failing_attempts >= policy.pause_after:
        # The pause is over: this attempt is the probe, and the others wait for its outcome.
        subscription.paused_until = now + timedelta(seconds=policy.probe_seconds)
    if delivery.attempts >= policy.max_attempts:
        # Only an attempt cut off before its outcome was stored leaves a delivery pending
        # with its attempts used up (or a lower FACTCHECK_WEBHOOK_MAX_ATTEMPTS).
        if delivery.sending_until is not None:
            delivery.last_error = (
                f"attempt {delivery.attempts} was cut off before its outcome was recorded "
                "(its worker stopped)"
            )
        _fail_for_good(session, delivery, subscription, policy)
        session.flush()
        return None
    delivery.attempts += 1
    delivery.last_attempt_at = func.now()
    delivery.next_attempt_at = None
    delivery.sending_until = func.now() + func.make_interval(0, 0, 0, 0, 0, 0, lease_seconds)
    session.flush()
    return PendingDelivery(
        delivery_id=delivery.id,
        webhook_id=subscription.id,
        event=delivery.event,
        payload=delivery.payload,
        url=subscription.url,
        secret=subscription.secret,
        attempt=delivery.attempts,
    )


@dataclass(frozen=True)
class AttemptResult:
    """How one HTTP attempt went: a status code, or an error; and whether to try again."""

    status_code: int | None
    error: str | None
    retryable: bool

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


@dataclass(frozen=True)
class Attempted:
    """What one run of the delivery task did: `skipped` (not claimed), `succeeded`,
    `retrying` (in `retry_in` seconds), `deferred` (not attempted: the subscription is
    paused; again in `retry_in` seconds), `failed`, or `dropped` (the outcome came too late:
    the subscription was deleted meanwhile, or the lease lapsed and another run took over).
    """

    outcome: str
    retry_in: float | None = None


def record_attempt(
    session: Session, pending: PendingDelivery, result: AttemptResult, policy: Policy
) -> Attempted:
    """Store the outcome of the attempt `pending` claimed, and say what comes next.

    Fenced on the attempt number: an outcome is stored only while the delivery is still
    pending at that attempt, and dropped quietly otherwise. A delivery fails for good on a
    permanent error or when its attempts are used up; the subscription counts consecutive
    failed deliveries and is disabled at `disable_after`.
    """
    delivery = session.get(
        WebhookDelivery, pending.delivery_id, with_for_update=True, populate_existing=True
    )
    if delivery is None or delivery.status != "pending" or delivery.attempts != pending.attempt:
        return Attempted("dropped")
    subscription = _lock_subscription(session, pending.webhook_id)
    if subscription is None:
        return Attempted("dropped")
    delivery.sending_until = None
    delivery.last_status_code = result.status_code
    delivery.last_error = result.error
    if result.succeeded:
        delivery.status = "succeeded"
        delivery.delivered_at = func.now()
        subscription.consecutive_failures = 0
        subscription.failing_attempts, subscription.paused_until = 0, None
        return Attempted("succeeded")
    if result.retryable:
        _count_failing_attempt(subscription, policy)
    if result.retryable and pending.attempt < policy.max_attempts:
        delay = retry_delay(
            pending.attempt, base=policy.retry_base_seconds, cap=policy.retry_max_seconds
        )
        delivery.next_attempt_at = func.now() + func.make_interval(0, 0, 0, 0, 0, 0, delay)
        return Attempted("retrying", delay)
    _fail_for_good(session, delivery, subscription, policy)
    return Attempted("failed")


def _count_failing_attempt(subscription: WebhookSubscription, policy: Policy) -> None:
    """One more attempt in a row failed worth retrying; from `pause_after` on, pause the
    subscription, each pause growing as retries do. The row must be locked."""
    subscription.failing_attempts += 1
    beyond = subscription.failing_attempts - policy.pause_after
    if beyond >= 0:
        pause = retry_delay(
            beyond + 1, base=policy.retry_base_seconds, cap=policy.retry_max_seconds
        )
        subscription.paused_until = func.now() + func.make_interval(0, 0, 0, 0, 0, 0, pause)


def _lock_subscription(session: Session, webhook_id: int) -> WebhookSubscription | None:
    """The subscription, locked and re-read: deliveries to one subscription may finish at
    the same time, and each may change its count of failures.

    FOR NO KEY UPDATE: events still add deliveries to it meanwhile (their foreign key check
    only needs the key share this leaves free), while a delete waits.
    """
    return session.get(
        WebhookSubscription,
        webhook_id,
        with_for_update={"key_share": True},
        populate_existing=True,
    )


def _fail_for_good(
    session: Session,
    delivery: WebhookDelivery,
    subscription: WebhookSubscription,
    policy: Policy,
) -> None:
    """Fail a delivery (no more attempts); disable its subscription at `disable_after` failed
    deliveries in a row. The subscription row must be locked."""
    delivery.status = "failed"
    delivery.next_attempt_at = delivery.sending_until = None
    subscription.consecutive_failures += 1
    if (
        subscription.disabled_at is None
        and subscription.consecutive_failures >= policy.disable_after
    ):
        subscription.disabled_at = func.now()
        subscription.disabled_reason = (
            f"disabled after {subscription.consecutive_failures} consecutive failed deliveries"
        )
        record(
            session, "system", "webhook.disabled", "webhook", subscription.id,
            after={"consecutive_failures": subscription.consecutive_failures},
        )  # fmt: skip


def settle_delivery(
    session: Session, payload: Mapping[str, Any], outbox_id: int, reason: str
) -> None:
    """The outbox gave up on a delivery message: a delivery still pending fails with `reason`.

    It does not count against the subscription, which never saw these attempts.
    """
    delivery = session.get(WebhookDelivery, payload["delivery_id"], with_for_update=True)
    if delivery is not None and delivery.status == "pending":
        delivery.status = "failed"
        delivery.last_error = reason
        delivery.next_attempt_at = delivery.sending_until = None
    complete(session, outbox_id)


def overdue_deliveries(session: Session, *, grace_seconds: float, limit: int = 1_000) -> list[int]:
    """Pending deliveries nothing will send unless the sweeper does: a retry more than
    `grace_seconds` overdue, or an attempt whose lease lapsed.

    A retry waits in the broker as a delayed task; if that message is lost (a broker restart
    without persistence) nothing else would ever send the delivery. An attempt whose lease
    lapsed was cut off with its worker before its outcome was stored. The sweeper re-sends
    both; `claim_delivery` makes a late duplicate harmless.
    """
    cutoff = func.now() - timedelta(seconds=grace_seconds)
    return list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.status == "pending",
                or_(
                    WebhookDelivery.next_attempt_at < cutoff,
                    WebhookDelivery.sending_until < func.now(),
                ),
            )
            .order_by(WebhookDelivery.id)
            .limit(limit)
        )
    )
