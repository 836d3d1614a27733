"""The transactional outbox: work promised in the same transaction as the write needing it.

`enqueue` adds a row and, once the transaction commits, publishes it at once (the fast path).
`relay` re-publishes rows whose task never marked them complete, so work accepted while the
broker was down, or lost with a killed worker, is still done. Tasks are idempotent, so a
re-sent row never duplicates anything.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from service.db import after_commit
from service.models import OutboxMessage

log = logging.getLogger(__name__)

# publish(task_name, payload, outbox_id) sends one message to the broker or raises.
Publisher = Callable[[str, Mapping[str, Any], int], None]
PUBLISHER_KEY = "factcheck.publisher"


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


def complete(session: Session, outbox_id: int | None) -> None:
    """Mark a message done, in the same transaction as the work it asked for."""
    if outbox_id is not None:
        session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == outbox_id, OutboxMessage.completed_at.is_(None))
            .values(completed_at=func.now())
        )


def relay(
    session: Session,
    publisher: Publisher,
    *,
    redeliver_after: timedelta,
    max_attempts: int,
    limit: int = 500,
) -> int:
    """Re-publish pending messages not sent within `redeliver_after`; returns how many.

    Rows are claimed with SKIP LOCKED, so several relays never send the same row at once.
    Stops at the first publish failure (the broker is down): the rest wait for the next run.
    """
    rows = session.scalars(
        select(OutboxMessage)
        .where(
            OutboxMessage.completed_at.is_(None),
            OutboxMessage.attempts < max_attempts,
            OutboxMessage.last_sent_at < func.now() - redeliver_after,
        )
        .order_by(OutboxMessage.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    sent = 0
    for message in rows:
        try:
            publisher(message.task, message.payload, message.id)
        except Exception:
            log.warning("outbox relay: broker unavailable, %d left for later", len(rows) - sent)
            break
        message.last_sent_at = func.now()
        message.attempts += 1
        sent += 1
        if message.attempts + 1 >= max_attempts:
            log.error("outbox message %s (%s) is on its last attempt", message.id, message.task)
    return sent


def pending_count(session: Session) -> int:
    return (
        session.scalar(
            select(func.count())
            .select_from(OutboxMessage)
            .where(OutboxMessage.completed_at.is_(None))
        )
        or 0
    )
