"""The Celery app's settings that decide whether work survives broker trouble."""

from __future__ import annotations

from dataclasses import replace

import redis

from workers.celery_app import broker_lost_its_tasks, make_celery


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


def test_the_broker_losing_its_tasks_is_noticed_once(settings, isolated_redis):
    isolated_redis.start()
    app = make_celery(replace(settings, broker_url=isolated_redis.url))
    assert broker_lost_its_tasks(app), "a new broker holds nothing that was sent"
    assert not broker_lost_its_tasks(app)
    assert not broker_lost_its_tasks(app)
    isolated_redis.stop()  # a restart that keeps its data (append-only file)
    isolated_redis.start()
    assert not broker_lost_its_tasks(app)
    redis.Redis(unix_socket_path=str(isolated_redis.socket)).flushall()  # what nosave loses
    assert broker_lost_its_tasks(app)
    assert not broker_lost_its_tasks(app)
