"""Webhooks: subscriptions, and the deliveries an event records for them."""

from __future__ import annotations

import pytest

from service.db import session_scope
from service.domain.webhooks import emit
from service.vocabulary import WEBHOOK_EVENTS
from tests.factories import make_delivery, make_subscription


def test_a_subscription_lists_its_events_in_the_vocabularys_order(sessions):
    with session_scope(sessions) as session:
        created = make_subscription(session, events=("verdict.corrected", "article.processed"))
        assert created.subscription.events == ["article.processed", "verdict.corrected"]
        assert created.secret


def test_an_event_records_a_pending_delivery_for_each_subscriber_only(sessions):
    with session_scope(sessions) as session:
        subscribed = make_subscription(session, events=("verdict.published",)).subscription
        make_subscription(session, events=("article.failed",))
        delivery = make_delivery(session, subscribed, "verdict.published")
        assert (delivery.webhook_id, delivery.event, delivery.status) == (
            subscribed.id,
            "verdict.published",
            "pending",
        )
        assert len(emit(session, "verdict.published", {"again": True})) == 1


def test_an_unknown_event_is_a_programming_error(sessions):
    assert "verdict.deleted" not in WEBHOOK_EVENTS
    with session_scope(sessions) as session, pytest.raises(ValueError, match="unknown webhook"):
        emit(session, "verdict.deleted", {})
