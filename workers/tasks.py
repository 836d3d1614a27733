"""Thin tasks: load by id, call the engine or the domain, commit. IDs in, never objects."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import timedelta
from functools import partial

from celery import Task, shared_task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings
from service.db import make_engine, make_session_factory, session_scope
from service.domain.extraction import fail_extraction, start_extraction, store_claims
from service.domain.outbox import PUBLISHER_KEY, complete, relay
from workers.celery_app import send
from workers.extraction.engine import Engine

log = logging.getLogger(__name__)

# Worth retrying: the database restarting or unreachable. Anything else is a real failure.
TRANSIENT_ERRORS = (OperationalError, InterfaceError)


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
        extractor = Engine(threshold=settings.checkworthy_threshold)
        _resources = _Resources(os.getpid(), settings, sessions, extractor)
    return _resources


@shared_task(
    name="factcheck.extract_claims",
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=300,
    retry_jitter=True,
    max_retries=8,
)
def extract_claims(self: Task, article_id: int, revision: int, outbox_id: int | None = None) -> str:
    """Extract and store the claims of one article revision; safe to run any number of times."""
    res = resources(self)
    sessions = res.sessions
    with session_scope(sessions) as session:
        started = start_extraction(session, article_id, revision)
        if started is None:
            complete(session, outbox_id)
            return "skipped"
    body, language = started
    try:
        claims = res.extractor.extract(body, language)
    except SoftTimeLimitExceeded:
        reason = f"extraction took longer than {self.app.conf.task_soft_time_limit} s"
        return _fail(sessions, article_id, revision, reason, outbox_id)
    except Exception as error:
        log.exception("extraction failed for article %s revision %s", article_id, revision)
        return _fail(sessions, article_id, revision, f"engine error: {error!r}", outbox_id)
    with session_scope(sessions) as session:
        stored = store_claims(session, article_id, revision, claims, outbox_id=outbox_id)
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


@shared_task(name="factcheck.relay_outbox", bind=True, acks_late=False)
def relay_outbox(self: Task) -> int:
    """Re-send outbox messages that were never completed (broker outage, lost worker)."""
    res = resources(self)
    with session_scope(res.sessions) as session:
        sent = relay(
            session,
            partial(send, self.app),
            redeliver_after=timedelta(seconds=res.settings.outbox_redeliver_seconds),
            max_attempts=res.settings.outbox_max_attempts,
        )
    if sent:
        log.info("outbox relay re-sent %d message(s)", sent)
    return sent
