"""The Celery app's settings that decide whether work survives broker trouble."""

from __future__ import annotations

from workers.celery_app import make_celery


def test_a_worker_reconnects_to_the_broker_for_as_long_as_it_takes(settings):
    # Celery's default gives up after 100 attempts (about 50 minutes) and the worker exits,
    # leaving accepted articles queued until someone restarts it.
    conf = make_celery(settings).conf
    assert conf.broker_connection_retry is True
    assert conf.broker_connection_max_retries is None


def test_publishing_to_a_dead_broker_fails_fast_for_the_relay_to_retry(settings):
    options = make_celery(settings).conf.broker_transport_options
    assert options["max_retries"] == 1
    assert options["socket_connect_timeout"] == settings.publish_timeout_seconds
