"""Thin tasks: load by id, call the engine or the domain, commit. IDs in, never objects."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_ready
from sqlalchemy import func, select
from sqlalchemy.exc import DataError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings
from service.db import make_engine, make_session_factory, session_scope
from service.domain.extraction import (
    fail_extraction,
    settle_extraction,
    start_extraction,
    store_claims,
)
from service.domain.factchecks import DeskPublisher
from service.domain.matching import (
    Matching,
    find_repeats,
    match_claims,
    rematch_near,
)
from service.domain.outbox import (
    PUBLISHER_KEY,
    Settler,
    complete,
    give_up,
    mark_started,
    relay,
    resend_cut_off,
)
from service.domain.webhooks import overdue_deliveries, settle_delivery
from service.vocabulary import (
    DELIVER_WEBHOOK_TASK,
    EXTRACT_TASK,
    FIND_REPEATS_TASK,
    MATCH_CLAIMS_TASK,
    RELAY_OUTBOX_TASK,
    REMATCH_TASK,
    RESUME_WEBHOOKS_TASK,
)
from workers.celery_app import broker_lost_its_tasks, send
from workers.extraction.engine import Engine, TooManyCandidates
from workers.webhooks import deliver

log = logging.getLogger(__name__)

# Worth retrying: the database restarting or unreachable. Anything else is a real failure.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)
# Tasks that must survive a killed worker (acknowledged only when done, so re-delivered) and
# wait out a database outage with capped, jittered backoff.
DURABLE_TASK: dict[str, Any] = {
    "bind": True,
    "acks_late": True,
    "reject_on_worker_lost": True,
    "autoretry_for": TRANSIENT_ERRORS,
    "retry_backoff": 2,
    "retry_backoff_max": 300,
    "retry_jitter": True,
}
# A retry this late has lost its delayed task (an attempt in flight holds a lease instead).
WEBHOOK_RETRY_GRACE_SECONDS = 120.0
# Messages the relay claims and sends per transaction.
RELAY_BATCH = 500


@dataclass
class _Resources:
    pid: int
    settings: Settings
    sessions: sessionmaker[Session]
    extractor: Engine


_resources: _Resources | None = None


def resources(task: Task) -> _Resources:
    """This process's database, extractor and settings; rebuilt after a fork, never shared."""
    global _resources
    if _resources is None or _resources.pid != os.getpid():
        settings: Settings = task.app.conf.factcheck_settings
        database = make_engine(
            settings.database_url,
            pool_size=2,
            statement_timeout_ms=settings.db_statement_timeout_ms,
        )
        sessions = make_session_factory(database)
        sessions.configure(info={PUBLISHER_KEY: partial(send, task.app)})
        extractor = Engine(
            threshold=settings.checkworthy_threshold,
            max_candidates=settings.max_article_claims,
        )
        _resources = _Resources(os.getpid(), settings, sessions, extractor)
    return _resources


@shared_task(
    name=EXTRACT_TASK,
    **DURABLE_TASK,
    max_retries=8,
)
def extract_claims(self: Task, article_id: int, revision: int, outbox_id: int | None = None) -> str:
    """Extract and store the claims of one article revision; safe to run any number of times.

    Out of time anywhere (the engine, storing the claims), the revision fails with the reason
    and its outbox row is completed, rather than being left for the relay to send again.
    """
    res = resources(self)
    try:
        return _extract_claims(res, article_id, revision, outbox_id, self.request.hostname)
    except SoftTimeLimitExceeded:
        # What was being written is rolled back; the hard limit leaves time to record this.
        log.warning("article %s revision %s ran out of time", article_id, revision)
        limit = self.app.conf.task_soft_time_limit
        reason = f"processing took longer than {limit} s (FACTCHECK_TASK_SOFT_TIME_LIMIT)"
        return _fail(res.sessions, article_id, revision, reason, outbox_id)


def _extract_claims(
    res: _Resources, article_id: int, revision: int, outbox_id: int | None, worker: str
) -> str:
    sessions = res.sessions
    with session_scope(sessions) as session:
        mark_started(session, outbox_id, worker)
        started = start_extraction(session, article_id, revision)
        if started is None:
            complete(session, outbox_id)
            return "skipped"
    body, language = started
    try:
        claims = res.extractor.extract(body, language)
    except SoftTimeLimitExceeded:
        raise
    except TooManyCandidates as error:
        reason = (
            f"the article has {error}, the most FACTCHECK_MAX_ARTICLE_CLAIMS allows: "
            "submit it in smaller parts"
        )
        return _fail(sessions, article_id, revision, reason, outbox_id)
    except Exception as error:
        log.exception("extraction failed for article %s revision %s", article_id, revision)
        return _fail(sessions, article_id, revision, f"engine error: {error!r}", outbox_id)
    try:
        with session_scope(sessions) as session:
            stored = store_claims(session, article_id, revision, claims, outbox_id=outbox_id)
    except (IntegrityError, DataError) as error:
        # The same claims would be refused on every delivery: fail now, with the reason,
        # instead of failing until the outbox gives up.
        log.exception("claims of article %s revision %s were refused", article_id, revision)
        reason = f"the claims could not be stored: {type(error.orig).__name__}"
        return _fail(sessions, article_id, revision, reason, outbox_id)
    return "processed" if stored else "skipped"


def _fail(
    sessions: sessionmaker[Session],
    article_id: int,
    revision: int,
    reason: str,
    outbox_id: int | None,
) -> str:
    with session_scope(sessions) as session:
        fail_extraction(session, article_id, revision, reason, outbox_id=outbox_id)
    return "failed"


@shared_task(
    name=DELIVER_WEBHOOK_TASK,
    **DURABLE_TASK,
    # The delivery row counts HTTP attempts and decides when to give up; a database outage
    # is waited out (at most 300 s apart) rather than leaving the delivery pending forever.
    max_retries=None,
)
def deliver_webhook(self: Task, delivery_id: int, outbox_id: int | None = None) -> str:
    """Send one webhook delivery; retried with backoff on 5xx, 429 and network errors."""
    res = resources(self)
    if outbox_id is not None:
        with session_scope(res.sessions) as session:
            mark_started(session, outbox_id, self.request.hostname)
    attempted = deliver(res.sessions, res.settings, delivery_id, outbox_id)
    if attempted.retry_in is not None:
        raise self.retry(countdown=attempted.retry_in)
    return attempted.outcome


@shared_task(name=RESUME_WEBHOOKS_TASK, bind=True, acks_late=False)
def resume_webhooks(self: Task) -> int:
    """Re-send webhook deliveries whose retry never ran (its delayed message was lost) or
    whose attempt was cut off (its lease lapsed)."""
    res = resources(self)
    with session_scope(res.sessions) as session:
        overdue = overdue_deliveries(session, grace_seconds=WEBHOOK_RETRY_GRACE_SECONDS)
    for delivery_id in overdue:
        self.app.send_task(DELIVER_WEBHOOK_TASK, kwargs={"delivery_id": delivery_id})
    if overdue:
        log.warning("re-sent %d overdue webhook deliveries", len(overdue))
    return len(overdue)


@shared_task(name=MATCH_CLAIMS_TASK, **DURABLE_TASK, max_retries=8)
def match_article_claims(
    self: Task, article_id: int, revision: int, outbox_id: int | None = None
) -> int:
    """Match a processed revision's claims against the fact-checks; safe to run again."""
    res = resources(self)
    with session_scope(res.sessions) as session:
        mark_started(session, outbox_id, self.request.hostname)
    with session_scope(res.sessions) as session:
        return match_claims(session, article_id, revision, Matching.default(), outbox_id=outbox_id)


@shared_task(name=FIND_REPEATS_TASK, **DURABLE_TASK, max_retries=8)
def find_verdict_repeats(self: Task, verdict_id: int, outbox_id: int | None = None) -> int:
    """Make a published verdict a fact-check and announce the archive's claims repeating it."""
    res = resources(self)
    settings = res.settings
    desk = DeskPublisher(
        url_template=settings.claimreview_url_template,
        publisher=settings.organization_name,
        licence=settings.review_licence,
        labels={rating.key: rating.label for rating in settings.rating_scale},
    )
    with session_scope(res.sessions) as session:
        mark_started(session, outbox_id, self.request.hostname)
    with session_scope(res.sessions) as session:
        repeats = find_repeats(session, verdict_id, Matching.default(), desk, outbox_id=outbox_id)
    return len(repeats)


@shared_task(name=REMATCH_TASK, **DURABLE_TASK, max_retries=8)
def rematch_near_factchecks(
    self: Task, factcheck_ids: list[int], outbox_id: int | None = None
) -> int:
    """Match again the claims near newly imported or changed fact-checks."""
    res = resources(self)
    with session_scope(res.sessions) as session:
        mark_started(session, outbox_id, self.request.hostname)
    with session_scope(res.sessions) as session:
        return rematch_near(session, factcheck_ids, Matching.default(), outbox_id=outbox_id)


def _settle_matching(
    session: Session, payload: Mapping[str, Any], outbox_id: int, reason: str
) -> None:
    """Matching that never finished is given up on: the claims keep the matches they had."""
    log.error("gave up matching %s: %s", dict(payload), reason)
    complete(session, outbox_id)


# What marks each task's work failed when the outbox gives up on its message.
SETTLERS: dict[str, Settler] = {
    EXTRACT_TASK: settle_extraction,
    DELIVER_WEBHOOK_TASK: settle_delivery,
    MATCH_CLAIMS_TASK: _settle_matching,
    FIND_REPEATS_TASK: _settle_matching,
    REMATCH_TASK: _settle_matching,
}


@shared_task(name=RELAY_OUTBOX_TASK, bind=True, acks_late=False)
def relay_outbox(self: Task) -> int:
    """Re-send outbox messages that were never completed (broker outage, lost worker)."""
    res = resources(self)
    redeliver_after = timedelta(seconds=res.settings.outbox_redeliver_seconds)
    max_attempts = res.settings.outbox_max_attempts
    # A worker may be on a message until the task's hard time limit kills it.
    lease = timedelta(seconds=res.settings.task_time_limit)
    resend = partial(
        relay,
        publisher=partial(send, self.app),
        redeliver_after=redeliver_after,
        max_attempts=max_attempts,
        lease=lease,
        limit=RELAY_BATCH,
    )
    if _broker_lost_its_tasks(self):
        sent = _resend_everything_sent_before_now(res.sessions, resend)
    else:
        with session_scope(res.sessions) as session:
            sent = resend(session)
    with session_scope(res.sessions) as session:
        settled = give_up(
            session,
            SETTLERS,
            redeliver_after=redeliver_after,
            max_attempts=max_attempts,
            lease=lease,
        )
    if sent:
        log.info("outbox relay re-sent %d message(s)", sent)
    if settled:
        log.error("outbox relay gave up on %d message(s) and marked their work failed", settled)
    return sent


def _broker_lost_its_tasks(task: Task) -> bool:
    try:
        lost = broker_lost_its_tasks(task.app)
    except Exception:  # the broker is down: nothing can be sent now anyway
        return False
    if lost:
        log.warning(
            "the broker lost its queued tasks (restarted without persistence, or flushed, or "
            "new): re-sending every pending outbox message"
        )
    return lost


def _resend_everything_sent_before_now(
    sessions: sessionmaker[Session], resend: Callable[..., int]
) -> int:
    """Re-send, in batches, every pending message last sent before this moment."""
    with session_scope(sessions) as session:
        now = session.scalar(select(func.now()))
    sent = 0
    while True:
        with session_scope(sessions) as session:
            batch = resend(session, sent_before=now)
        sent += batch
        if batch < RELAY_BATCH:
            return sent


@worker_ready.connect
def resend_cut_off_work(sender: Any, **_: Any) -> None:
    """A worker starting under a name that still holds started, uncompleted work (its
    previous incarnation was killed) sends that work again now, not after the lease."""
    worker = sender.hostname
    settings: Settings = sender.app.conf.factcheck_settings
    database = make_engine(settings.database_url, pool_size=1)
    try:
        sessions = make_session_factory(database)
        with session_scope(sessions) as session:
            sent = resend_cut_off(
                session,
                partial(send, sender.app),
                worker=worker,
                max_attempts=settings.outbox_max_attempts,
            )
    except Exception:
        log.exception("could not look for work %s left unfinished; the relay will", worker)
        return
    finally:
        database.dispose()
    if sent:
        log.warning("re-sent %d message(s) %s started before it was restarted", sent, worker)
