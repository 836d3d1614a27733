"""Prometheus metrics: request counts and latencies per endpoint, and work backlogs.

Request metrics are counted in each process (aggregated across gunicorn workers in
multiprocess mode). Backlogs are read from Postgres at scrape time, so every API process
reports the same numbers and nothing has to keep them up to date.
"""

from __future__ import annotations

import os
import time
from typing import Any

from flask import Flask, Response, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.models import Article, OutboxMessage, WebhookDelivery

# Articles in these states are work not yet done.
BACKLOG_STATUSES = ("queued", "processing")

REQUESTS = Counter(
    "factcheck_http_requests_total", "HTTP requests", ["method", "endpoint", "status"]
)
LATENCY = Histogram(
    "factcheck_http_request_seconds",
    "HTTP request latency",
    ["endpoint"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)


def install_metrics(app: Flask) -> None:
    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _observe(response: Response) -> Response:
        started = g.pop("request_started", None)
        endpoint = request.url_rule.rule if request.url_rule else "unmatched"
        REQUESTS.labels(request.method, endpoint, str(response.status_code)).inc()
        if started is not None:
            LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        return response


class BacklogCollector(Collector):
    """Gauges of work waiting in Postgres, counted when collected (each count uses an index)."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def collect(self) -> list[GaugeMetricFamily]:
        outbox = GaugeMetricFamily(
            "factcheck_outbox_pending",
            "Outbox messages not yet completed by their task (broker outage, busy workers)",
            value=self._count(select(OutboxMessage).where(OutboxMessage.completed_at.is_(None))),
        )
        webhooks = GaugeMetricFamily(
            "factcheck_webhook_deliveries_pending",
            "Webhook deliveries not yet delivered nor given up",
            value=self._count(select(WebhookDelivery).where(WebhookDelivery.status == "pending")),
        )
        articles = GaugeMetricFamily(
            "factcheck_articles_backlog",
            "Articles waiting for extraction, by status",
            labels=["status"],
        )
        for status in BACKLOG_STATUSES:
            articles.add_metric(
                [status], self._count(select(Article).where(Article.status == status))
            )
        return [outbox, webhooks, articles]

    def _count(self, statement: Any) -> int:
        return self.session.scalar(select(func.count()).select_from(statement.subquery())) or 0


def render_metrics(session: Session) -> Response:
    """The exposition text: request metrics (aggregated over gunicorn workers when
    multiprocess mode is on), then the backlogs read from the database now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        data = generate_latest(registry)
    else:
        data = generate_latest()
    backlog = CollectorRegistry(auto_describe=False)
    backlog.register(BacklogCollector(session))
    # content_type, not mimetype: Flask would add a second charset to the one the
    # exposition format's type already carries.
    return Response(data + generate_latest(backlog), content_type=CONTENT_TYPE_LATEST)
