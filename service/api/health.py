"""Liveness, readiness and metrics."""

from __future__ import annotations

import marshmallow as ma
from flask import Response
from sqlalchemy import text

from service.api import Blueprint, documented_errors, services
from service.auth import public, require
from service.errors import problem
from service.metrics import render_metrics
from workers.celery_app import broker_is_reachable

blp = Blueprint("health", __name__, description="Health checks and metrics")


class HealthSchema(ma.Schema):
    status = ma.fields.String(required=True)
    checks = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())


@blp.route("/healthz")
@public
@blp.doc(security=[])
@blp.response(200, HealthSchema)
def healthz() -> dict[str, str]:
    """Liveness: the process is up. Needs no token and touches no dependency."""
    return {"status": "ok"}


@blp.route("/readyz")
@public
@blp.doc(security=[])
@blp.response(200, HealthSchema)
@blp.alt_response(503, response="SERVICE_UNAVAILABLE")
def readyz() -> dict[str, object] | Response:
    """Readiness: the database (and its read replica, if configured) and the broker answer.
    Needs no token."""
    found = services()
    checks = {"database": "ok", "broker": "ok"}
    engines = {"database": found.engine}
    if found.replica_engine is not None:
        checks["replica"] = "ok"
        engines["replica"] = found.replica_engine
    for name, engine in engines.items():
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except Exception:
            checks[name] = "unavailable"
    if not broker_is_reachable(found.celery):
        checks["broker"] = "unavailable"
    if set(checks.values()) != {"ok"}:
        failing = ", ".join(name for name, state in checks.items() if state != "ok")
        return problem(
            503,
            f"Not ready: {failing} unavailable.",
            kind="not-ready",
            extensions={"checks": checks},
            headers={"Retry-After": "5"},
        )
    return {"status": "ready", "checks": checks}


@blp.route("/metrics")
@require("metrics:read")
@blp.response(200, content_type="text/plain")
@documented_errors(blp)
def metrics() -> Response:
    """Prometheus metrics (text exposition format): requests, latencies and backlogs."""
    return render_metrics(services().session())
