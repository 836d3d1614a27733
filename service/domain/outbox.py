"""The transactional outbox: work promised in the same transaction as the write needing it.

`enqueue` adds a row and, once the transaction commits, publishes it at once (the fast path).
`relay` re-publishes rows whose task never marked them complete, so work accepted while the
broker was down, or lost with a killed worker, is still done. Tasks are idempotent, so a
re-sent row never duplicates anything; re-sends back off, so a backlog is not flooded with
copies. Tasks count their starts (`mark_started`); `give_up` settles the rows that the
maximum number of workers started and none completed (work that kills its worker every
time): the work is marked failed with a reason, so nothing is left waiting forever.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.db import after_commit
from service.models import OutboxMessage

log = logging.getLogger(__name__)

# publish(task_name, payload, outbox_id) sends one message to the broker or raises.
Publisher = Callable[[str, Mapping[str, Any], int], None]
# settle(session, payload, outbox_id, reason) marks the work of a message that will never be
# done as failed, and completes the message, in the caller's transaction.
Settler = Callable[[Session, Mapping[str, Any], int, str], None]
PUBLISHER_KEY = "factcheck.publisher"
# The relay's wait before re-sending doubles with each re-send, at most this many times.
MAX_BACKOFF_DOUBLINGS = 5


def enqueue(session: Session, task: str, payload: Mapping[str, Any]) -> OutboxMessage:
    """Add a message to the outbox; it is published right after this transaction commits."""
    message = OutboxMessage(task=task, payload=dict(payload), last_sent_at=func.now())
    session.add(message)
    session.flush()
    publish_after_commit(session, task, payload, message.id)
    return message


def publish_after_commit(
    session: Session, task: str, payload: Mapping[str, Any], outbox_id: int
) -> None:
    """The fast path for a row already in the outbox: publish it once the commit succeeds."""
    publisher: Publisher | None = session.info.get(PUBLISHER_KEY)
    if publisher is not None:
        data = dict(payload)
        after_commit(session, lambda: publisher(task, data, outbox_id))


def complete(session: Session, outbox_id: int | None) -> bool:
    """Mark a message done, in the same transaction as the work it asked for; False if it
    was done already (a re-delivery, once the first delivery's work is committed)."""
    if outbox_id is None:
        return True
    done = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.completed_at.is_(None))
        .values(completed_at=func.now())
        .returning(OutboxMessage.id)
    ).first()
    return done is not None


def mark_started(session: Session, outbox_id: int | None, worker: str | None = None) -> None:
    """Count one worker start of a message, by `worker` (its node name); commit it before
    the work, so a worker that dies on the work still leaves the count behind."""
    if outbox_id is not None:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.completed_at.is_(None))
            .values(starts=OutboxMessage.starts + 1, started_at=func.now(), started_by=worker)
        )


def resend_cut_off(
    session: Session, publisher: Publisher, *, worker: str, max_attempts: int
) -> int:
    """Send again what `worker` started and never completed; returns how many.

    Called when a worker starts: anything its name still holds was cut off with its
    previous incarnation (killed, or lost with its machine), so it need not wait out the
    lease. Messages `max_attempts` workers already started are left to `give_up`.
    """
    rows = _claim_pending(
        session,
        OutboxMessage.started_by == worker,
        OutboxMessage.starts < max_attempts,
        limit=10_000,
    )
    return _publish(rows, publisher)


def _publish(rows: Sequence[OutboxMessage], publisher: Publisher) -> int:
    """Send claimed rows, oldest first, counting each re-send; stop at the first failure."""
    sent = 0
    for message in rows:
        try:
            publisher(message.task, message.payload, message.id)
        except Exception:
            log.warning("outbox: broker unavailable, %d left for later", len(rows) - sent)
            break
        message.last_sent_at = func.now()
        message.attempts += 1
        sent += 1
    return sent


def relay(
    session: Session,
    publisher: Publisher,
    *,
    redeliver_after: timedelta,
    max_attempts: int,
    lease: timedelta | None = None,
    limit: int = 500,
    sent_before: datetime | None = None,
) -> int:
    """Re-publish pending messages that look lost; returns how many.

    A message is re-sent `redeliver_after` after it was last sent, then after twice that,
    four times ... (at most `MAX_BACKOFF_DOUBLINGS` doublings): a message lost with a broker
    or a worker is re-sent soon, and one only waiting its turn in a backlog gets few copies.
    Nothing is re-sent while a worker may still be on it (started within `lease`, by default
    `redeliver_after`), nor once `max_attempts` workers started it (`give_up` settles it).
    Rows are claimed with SKIP LOCKED, so several relays never send the same row at once.
    Stops at the first publish failure (the broker is down): the rest wait for the next run.

    `sent_before` (a moment the broker is known to have lost every task sent until then)
    replaces the wait: every pending message last sent before it is due at once.
    """
    lease = redeliver_after if lease is None else lease
    backoff = func.power(2, func.least(OutboxMessage.attempts, MAX_BACKOFF_DOUBLINGS))
    due = (
        OutboxMessage.last_sent_at < func.now() - backoff * redeliver_after
        if sent_before is None
        else OutboxMessage.last_sent_at < sent_before
    )
    rows = _claim_pending(
        session,
        OutboxMessage.starts < max_attempts,
        due,
        or_(OutboxMessage.started_at.is_(None), OutboxMessage.started_at < func.now() - lease),
        limit=limit,
    )
    return _publish(rows, publisher)


def _claim_pending(
    session: Session, *conditions: ColumnElement[bool], limit: int
) -> Sequence[OutboxMessage]:
    """Pending messages meeting `conditions`, locked (SKIP LOCKED), oldest first."""
    return session.scalars(
        select(OutboxMessage)
        .where(OutboxMessage.completed_at.is_(None), *conditions)
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()


def give_up(
    session: Session,
    settlers: Mapping[str, Settler],
    *,
    redeliver_after: timedelta,
    max_attempts: int,
    lease: timedelta | None = None,
    limit: int = 500,
) -> int:
    """Settle messages that `max_attempts` workers started and none completed; returns how
    many.

    A message qualifies once its last start is `lease` old (by default `redeliver_after`):
    every worker had its chance. Its task's settler records the failure (an article becomes
    `failed` with the reason). A message only waiting in a backlog is never given up on,
    however long it waits: no worker started it. A message of a task without a settler is
    left pending for an operator, and reported once per `redeliver_after`.
    """
    lease = redeliver_after if lease is None else lease
    rows = _claim_pending(
        session,
        OutboxMessage.starts >= max_attempts,
        OutboxMessage.started_at < func.now() - lease,
        OutboxMessage.last_sent_at < func.now() - redeliver_after,
        limit=limit,
    )
    settled = 0
    for message in rows:
        settle = settlers.get(message.task)
        if settle is None:
            log.error(
                "outbox message %s (%s) was never completed; it waits for an operator",
                message.id,
                message.task,
            )
            # Said again once per redelivery period, not on every run of the relay, and
            # out of the way of the messages behind it.
            message.last_sent_at = func.now()
            continue
        reason = (
            f"never completed: {message.starts} workers started it and none finished "
            "(work that kills its worker every time, or a task that cannot succeed)"
        )
        settle(session, message.payload, message.id, reason)
        settled += 1
    return settled


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.completed_at.is_(None))
        )
        or 0
    )
