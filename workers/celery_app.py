"""The Celery app and its configuration, built from `service.config.Settings`.

`celery -A workers.celery_app worker` reads the settings from the environment on first use of
`workers.celery_app.app`; the API builds its own producer-side app with `make_celery`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from typing import Any

from celery import Celery
from kombu import Exchange, Queue

from service.config import Settings
from service.vocabulary import (
    EXTRACTION_QUEUE,
    QUEUES,
    RELAY_OUTBOX_TASK,
    RESUME_WEBHOOKS_TASK,
    TASK_QUEUES,
)

# How often beat looks for webhook retries whose delayed message was lost.
WEBHOOK_SWEEP_SECONDS = 60.0
# Present for as long as the broker keeps its data (see `broker_lost_its_tasks`).
BROKER_MARKER_KEY = "factcheck:broker-marker"

TASK_ROUTES = {task: {"queue": queue} for task, queue in TASK_QUEUES.items()}

# Housekeeping beat sends every few seconds: its "sending", "received" and "succeeded" lines
# would bury everything else at INFO. What it does (messages re-sent, deliveries resumed) the
# tasks log themselves, and a failure is logged above INFO.
ROUTINE_TASKS = (RELAY_OUTBOX_TASK, RESUME_WEBHOOKS_TASK)
TASK_LIFECYCLE_LOGGERS = (
    "celery.beat",  # sending
    "celery.worker.strategy",  # received
    "celery.worker.request",  # discarded once expired
    "celery.app.trace",  # succeeded
)


class RoutineTaskLines(logging.Filter):
    """Drops the INFO lines Celery writes about each run of a routine task."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno > logging.INFO:
            return True
        message = record.getMessage()
        return not any(task in message for task in ROUTINE_TASKS)


for _logger in TASK_LIFECYCLE_LOGGERS:
    logging.getLogger(_logger).addFilter(RoutineTaskLines())


def make_celery(settings: Settings) -> Celery:
    """A Celery app for these settings; tasks live in `workers.tasks`."""
    app = Celery("factcheck", set_as_current=False)
    app.conf.update(
        broker_url=settings.broker_url,
        broker_connection_retry_on_startup=True,
        # A worker that lost the broker reconnects for as long as it takes (Celery's default
        # gives up after 100 tries, about 50 minutes, and the worker exits).
        broker_connection_retry=True,
        broker_connection_max_retries=None,
        broker_connection_timeout=settings.publish_timeout_seconds,
        broker_transport_options={
            # Unacknowledged messages (a killed worker) come back after this many seconds;
            # it must exceed the longest task, or a slow task would be handed out twice.
            "visibility_timeout": settings.broker_visibility_timeout,
            # A publisher facing a dead broker fails fast; the outbox relay retries later.
            # (The consumer's reconnection is governed by broker_connection_max_retries.)
            "max_retries": 1,
            "connect_retries_timeout": settings.publish_timeout_seconds,
            "socket_connect_timeout": settings.publish_timeout_seconds,
        },
        task_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,
        result_backend=None,
        task_queues=[Queue(name, Exchange(name), routing_key=name) for name in QUEUES],
        task_default_queue=EXTRACTION_QUEUE,
        task_routes=TASK_ROUTES,
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        task_soft_time_limit=settings.task_soft_time_limit,
        task_time_limit=settings.task_time_limit,
        worker_prefetch_multiplier=settings.worker_prefetch_multiplier,
        worker_max_memory_per_child=400_000,  # KiB: recycle a child that grew past 400 MB
        worker_hijack_root_logger=False,
        worker_send_task_events=False,
        beat_schedule=beat_schedule(settings),
        beat_scheduler="workers.beat:HeartbeatScheduler",
        factcheck_settings=settings,
    )
    app.autodiscover_tasks(["workers"], related_name="tasks", force=True)
    return app


def beat_schedule(settings: Settings) -> dict[str, dict[str, Any]]:
    """What beat sends, and how often (seconds)."""
    return {
        "relay-outbox": {
            "task": RELAY_OUTBOX_TASK,
            "schedule": settings.outbox_relay_interval_seconds,
            "options": {"expires": max(settings.outbox_relay_interval_seconds, 1.0)},
        },
        "resume-webhooks": {
            "task": RESUME_WEBHOOKS_TASK,
            "schedule": WEBHOOK_SWEEP_SECONDS,
            "options": {"expires": WEBHOOK_SWEEP_SECONDS},
        },
    }


def send(app: Celery, task: str, payload: Mapping[str, Any], outbox_id: int) -> None:
    """Publish one outbox message as a task call; raises if the broker is unreachable."""
    app.send_task(task, kwargs={**payload, "outbox_id": outbox_id}, retry=False)


def broker_lost_its_tasks(app: Celery) -> bool:
    """True once after the broker lost every task it held; raises if it is unreachable.

    A marker key is kept in the broker: a Redis restarted without persistence (or flushed)
    no longer has it, and everything queued there went with it. Brokers other than Redis
    keep durable queues across restarts: False. The first call on a new broker is True too,
    which only re-sends what is pending (harmless: tasks are idempotent).
    """
    with app.connection_for_write() as connection:
        connection.ensure_connection(max_retries=1)
        if connection.transport.driver_type != "redis":
            return False
        client = connection.default_channel.client
        return bool(client.set(BROKER_MARKER_KEY, str(time.time()), nx=True))


def broker_is_reachable(app: Celery) -> bool:
    try:
        with app.connection_for_write() as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
    except Exception:
        return False
    return True


def worker_answers(app: Celery, node: str, timeout: float) -> bool:
    """Whether the worker named `node` answers a ping through the broker within `timeout` s.

    Its main process answers, so a worker whose pool is busy with long tasks still does; one
    that hangs, or has lost the broker, does not.
    """
    try:
        replies = app.control.ping(destination=[node], timeout=timeout)
    except Exception:
        return False
    return any(node in reply for reply in replies)


_app: Celery | None = None


def __getattr__(name: str) -> Any:
    # `celery -A workers.celery_app` looks up `app`; build it from the environment only then,
    # so importing this module never requires the worker's settings.
    global _app
    if name in ("app", "celery"):
        if _app is None:
            _app = make_celery(Settings.from_env())
            _app.set_current()
            _app.set_default()
        return _app
    raise AttributeError(name)
