"""Webhook subscriptions (admins and editors): create, list, read, delete; the delivery log."""

from __future__ import annotations

from typing import Any

import marshmallow as ma

from schemas import examples
from schemas.webhooks import (
    CreatedWebhookSchema,
    DeliveryListQuerySchema,
    DeliveryPageSchema,
    WebhookInSchema,
    WebhookListQuerySchema,
    WebhookPageSchema,
    WebhookSchema,
)
from service.api import Blueprint, cursor_id, db, documented_errors, id_page, services
from service.auth import current_principal, require
from service.domain import webhooks as domain
from service.models import WebhookSubscription

blp = Blueprint(
    "webhooks",
    __name__,
    description="Signed webhook subscriptions to article and verdict events (admins, editors)",
)


@blp.route("", methods=["POST"])
@require("webhooks:manage")
@blp.arguments(WebhookInSchema, example=examples.WEBHOOK)
@blp.response(201, CreatedWebhookSchema)
@documented_errors(blp, 400, 415, 422)
def create_webhook(data: dict[str, Any]) -> dict[str, Any]:
    """Subscribe a URL to events. The signing secret is in this response only.

    Targets on private, loopback, link-local or reserved addresses are refused (422) unless
    the service allows them (FACTCHECK_WEBHOOK_ALLOW_PRIVATE).
    """
    created = domain.create_subscription(
        db(),
        data,
        actor=current_principal().name,
        allow_private=services().settings.webhook_allow_private,
    )
    subscription = created.subscription
    return {
        **{c.key: getattr(subscription, c.key) for c in WebhookSubscription.__table__.columns},
        "secret": created.secret,
    }


@blp.route("", methods=["GET"])
@require("webhooks:manage")
@blp.arguments(WebhookListQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, WebhookPageSchema)
@documented_errors(blp)
def list_webhooks(query: dict[str, Any]) -> dict[str, Any]:
    """Subscriptions in creation order (secrets are never listed)."""
    items = domain.list_subscriptions(db(), limit=query["limit"], after_id=cursor_id(query))
    return id_page(items, query["limit"])


@blp.route("/<int:webhook_id>", methods=["GET"])
@require("webhooks:manage")
@blp.response(200, WebhookSchema)
@documented_errors(blp, 404)
def get_webhook(webhook_id: int) -> WebhookSubscription:
    """A subscription; `active` is false once it was disabled after repeated failures."""
    return domain.get_subscription(db(), webhook_id)


@blp.route("/<int:webhook_id>", methods=["DELETE"])
@require("webhooks:manage")
@blp.response(204)
@documented_errors(blp, 404)
def delete_webhook(webhook_id: int) -> None:
    """Delete a subscription and its delivery log; queued deliveries are not sent."""
    domain.delete_subscription(db(), webhook_id, actor=current_principal().name)


@blp.route("/<int:webhook_id>/deliveries", methods=["GET"])
@require("webhooks:manage")
@blp.arguments(DeliveryListQuerySchema, location="query", unknown=ma.RAISE)
@blp.response(200, DeliveryPageSchema)
@documented_errors(blp, 404)
def list_deliveries(query: dict[str, Any], webhook_id: int) -> dict[str, Any]:
    """The delivery log, newest first: event, status, attempts, last response, error."""
    items = domain.list_deliveries(
        db(),
        webhook_id,
        limit=query["limit"],
        before_id=cursor_id(query),
        status=query.get("status"),
    )
    return id_page(items, query["limit"])
