"""Webhook subscriptions and their delivery log."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import marshmallow as ma

from schemas.common import PageQuerySchema, PageSchema, http_url, text
from service.vocabulary import DELIVERY_STATUSES, WEBHOOK_EVENTS


class WebhookInSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    url = http_url(
        required=True,
        metadata={
            "description": "Where deliveries are POSTed; public hosts only unless the service "
            "allows private ones",
            "example": "https://hooks.example.org/factcheck",
        },
    )
    events = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(WEBHOOK_EVENTS)),
        required=True,
        validate=ma.validate.Length(min=1, max=len(WEBHOOK_EVENTS)),
        metadata={"description": "Events to receive", "example": ["verdict.published"]},
    )
    description = text(max_length=500, load_default=None, allow_none=True)


class WebhookSchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    url = ma.fields.String(required=True)
    events = ma.fields.List(ma.fields.String(), required=True)
    description = ma.fields.String(allow_none=True)
    active = ma.fields.Method(
        "_active",
        metadata={"type": "boolean", "description": "False once disabled after failures"},
    )
    consecutive_failures = ma.fields.Integer(
        required=True,
        metadata={"description": "Failed deliveries in a row; reset by a successful one"},
    )
    failing_attempts = ma.fields.Integer(
        required=True,
        metadata={
            "description": "Attempts in a row that timed out, could not connect or got a 5xx "
            "or 429; reset by a success"
        },
    )
    paused_until = ma.fields.DateTime(
        allow_none=True,
        metadata={
            "description": "While set and ahead, deliveries wait: the receiver kept failing "
            "(then one attempt probes it)"
        },
    )
    disabled_at = ma.fields.DateTime(allow_none=True)
    disabled_reason = ma.fields.String(allow_none=True)
    created_by = ma.fields.String(required=True)
    created_at = ma.fields.DateTime(required=True)

    def _active(self, subscription: Any) -> bool:
        if isinstance(subscription, Mapping):
            return subscription.get("disabled_at") is None
        return subscription.disabled_at is None


class CreatedWebhookSchema(WebhookSchema):
    secret = ma.fields.String(
        required=True,
        metadata={
            "description": "The signing secret, shown in this response only: keep it to verify "
            "X-Factcheck-Signature"
        },
    )


class WebhookPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(WebhookSchema), required=True)


class WebhookListQuerySchema(PageQuerySchema):
    pass


class DeliverySchema(ma.Schema):
    id = ma.fields.Integer(required=True)
    webhook_id = ma.fields.Integer(required=True)
    event = ma.fields.String(required=True)
    status = ma.fields.String(
        required=True,
        metadata={"enum": list(DELIVERY_STATUSES), "description": "pending while retrying"},
    )
    attempts = ma.fields.Integer(required=True)
    last_status_code = ma.fields.Integer(
        allow_none=True, metadata={"description": "HTTP status of the last attempt"}
    )
    last_error = ma.fields.String(allow_none=True)
    payload = ma.fields.Dict(required=True, metadata={"description": "The JSON body sent"})
    created_at = ma.fields.DateTime(required=True)
    last_attempt_at = ma.fields.DateTime(allow_none=True)
    next_attempt_at = ma.fields.DateTime(allow_none=True)
    sending_until = ma.fields.DateTime(
        allow_none=True,
        metadata={"description": "Set while an attempt is in flight: its worker's lease"},
    )
    delivered_at = ma.fields.DateTime(allow_none=True)


class DeliveryPageSchema(PageSchema):
    items = ma.fields.List(ma.fields.Nested(DeliverySchema), required=True)


class DeliveryListQuerySchema(PageQuerySchema):
    status = ma.fields.String(validate=ma.validate.OneOf(DELIVERY_STATUSES))
