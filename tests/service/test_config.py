"""Settings come from the environment; bad or missing ones fail at start with a clear message."""

from __future__ import annotations

import pytest

from service.config import (
    AppRole,
    ConfigError,
    Settings,
    app_role_from_env,
    rate_storage_for_broker,
    redact_url,
)

BASE = {"DATABASE_URL": "postgresql://u:pw@db/factcheck", "CELERY_BROKER_URL": "redis://r/0"}


def test_defaults_apply_when_only_required_settings_are_given():
    settings = Settings.from_env(BASE)
    assert settings.database_url == BASE["DATABASE_URL"]
    assert settings.max_request_bytes == 12 * 1024 * 1024
    assert settings.admin_token is None
    assert settings.similar_min_jaccard == 0.5


@pytest.mark.parametrize("missing", ["DATABASE_URL", "CELERY_BROKER_URL"])
def test_missing_required_setting_names_the_variable(missing):
    env = {k: v for k, v in BASE.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("FACTCHECK_MAX_REQUEST_BYTES", "lots", "must be an integer"),
        ("FACTCHECK_MAX_REQUEST_BYTES", "10", "must be >= 1024"),
        ("FACTCHECK_OUTBOX_RELAY_INTERVAL", "soon", "must be a number"),
        ("FACTCHECK_SIMILAR_MIN_JACCARD", "1.5", "between 0 and 1"),
        ("FACTCHECK_CHECKWORTHY_THRESHOLD", "-0.1", "between 0 and 1"),
        ("FACTCHECK_ADMIN_TOKEN", "short", "at least 24"),
        ("FACTCHECK_TASK_TIME_LIMIT", "60", "must exceed"),
        ("FACTCHECK_WEBHOOK_TIMEOUT", "0", "above 0"),
        ("FACTCHECK_WEBHOOK_TIMEOUT", "61", "at most half of FACTCHECK_TASK_SOFT_TIME_LIMIT"),
        ("FACTCHECK_CLAIMREVIEW_URL", "https://checks.example.org/reviews", "containing"),
        ("FACTCHECK_CLAIMREVIEW_URL", "ftp://checks.example.org/{id}", "http"),
        ("FACTCHECK_CLAIMREVIEW_URL", "https://checks.example.org/{id}/{slug}", "only the"),
        ("FACTCHECK_DB_MAX_OVERFLOW", "-1", "must be >= 0"),
        ("FACTCHECK_DB_POOL_TIMEOUT", "0", "positive number of seconds"),
        ("FACTCHECK_HEADER_TIMEOUT", "-5", "positive number of seconds"),
        ("FACTCHECK_RATELIMIT_PER_TOKEN", "lots", "must be a rate such as 1200/minute"),
        ("FACTCHECK_RATELIMIT_PER_TOKEN", "100/fortnight", "must be a rate"),
        ("FACTCHECK_RATELIMIT_PER_ADDRESS", "0/minute", "refuses everything"),
        ("FACTCHECK_SUBMIT_QUOTA", "2000/hour;10000/day", "one rate, not several"),
        ("FACTCHECK_RATELIMIT_STORAGE_URL", "memcached://cache:11211", "must be a redis://"),
        ("FACTCHECK_TRUSTED_PROXIES", "-1", "must be >= 0"),
    ],
)
def test_malformed_settings_are_refused(name, value, message):
    with pytest.raises(ConfigError, match=message):
        Settings.from_env({**BASE, name: value})


def test_redacted_settings_hide_secrets():
    settings = Settings.from_env({**BASE, "FACTCHECK_ADMIN_TOKEN": "s" * 30})
    shown = repr(settings.redacted())
    assert "s" * 30 not in shown
    assert ":pw@" not in shown
    assert "postgresql://u:***@db/factcheck" in shown


def test_the_read_replica_is_optional_and_its_password_is_never_shown():
    assert Settings.from_env(BASE).database_replica_url is None
    assert Settings.from_env({**BASE, "DATABASE_REPLICA_URL": "  "}).database_replica_url is None
    replica = "postgresql://ro:secret@replica/factcheck"
    settings = Settings.from_env({**BASE, "DATABASE_REPLICA_URL": replica})
    assert settings.database_replica_url == replica
    shown = repr(settings.redacted())
    assert "secret" not in shown
    assert "postgresql://ro:***@replica/factcheck" in shown


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://:secret@host:6379/0", "redis://:***@host:6379/0"),
        ("postgresql://user@host/db", "postgresql://user@host/db"),
        ("redis+socket:///tmp/redis.sock", "redis+socket:///tmp/redis.sock"),
    ],
)
def test_redact_url(url, expected):
    assert redact_url(url) == expected


def test_publisher_settings():
    settings = Settings.from_env(
        {
            **BASE,
            "FACTCHECK_ORGANIZATION_NAME": "Example Checks",
            "FACTCHECK_CLAIMREVIEW_URL": "https://checks.example.org/reviews/{id}",
        }
    )
    assert settings.organization_name == "Example Checks"
    assert settings.organization_url is None
    assert settings.claimreview_url_template == "https://checks.example.org/reviews/{id}"


def test_rate_limits_have_generous_defaults_and_switch_off_with_zero():
    settings = Settings.from_env(BASE)
    assert settings.rate_limit_per_token == "1200/minute"
    assert settings.rate_limit_per_address == "300/minute"
    assert settings.submit_quota == "2000/hour"
    assert settings.trusted_proxies == 0
    switched_off = Settings.from_env(
        {
            **BASE,
            "FACTCHECK_RATELIMIT_PER_TOKEN": "0",
            "FACTCHECK_RATELIMIT_PER_ADDRESS": "off",
            "FACTCHECK_SUBMIT_QUOTA": " 0 ",
        }
    )
    assert switched_off.rate_limit_per_token is None
    assert switched_off.rate_limit_per_address is None
    assert switched_off.submit_quota is None
    several = Settings.from_env({**BASE, "FACTCHECK_RATELIMIT_PER_TOKEN": "10/second;600/hour"})
    assert several.rate_limit_per_token == "10/second;600/hour"


@pytest.mark.parametrize(
    ("broker", "storage"),
    [
        ("redis://r:6379/0", "redis://r:6379/0"),
        ("rediss://:pw@r:6380/2", "rediss://:pw@r:6380/2"),
        ("redis+socket:///tmp/fc/redis.sock", "redis+unix:///tmp/fc/redis.sock"),
        ("amqp://guest@rabbit//", "memory://"),
    ],
)
def test_rate_limits_are_counted_in_the_brokers_redis_unless_told_otherwise(broker, storage):
    assert rate_storage_for_broker(broker) == storage
    settings = Settings.from_env({**BASE, "CELERY_BROKER_URL": broker})
    assert settings.rate_storage_url == storage
    own = {**BASE, "FACTCHECK_RATELIMIT_STORAGE_URL": "redis://:pw@limits:6379/3"}
    assert Settings.from_env(own).rate_storage_url == "redis://:pw@limits:6379/3"
    assert ":pw@" not in repr(Settings.from_env(own).redacted())


def test_the_service_role_for_db_upgrade_is_optional_and_its_password_never_shown():
    assert app_role_from_env({}) is None
    role = app_role_from_env(
        {"FACTCHECK_DB_APP_ROLE": "factcheck_app", "FACTCHECK_DB_APP_PASSWORD": "p" * 16}
    )
    assert role == AppRole("factcheck_app", "p" * 16)
    assert "p" * 16 not in repr(role)
    assert app_role_from_env({"FACTCHECK_DB_APP_ROLE": "factcheck_app"}) == AppRole("factcheck_app")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"FACTCHECK_DB_APP_PASSWORD": "p" * 16}, "FACTCHECK_DB_APP_ROLE is not"),
        ({"FACTCHECK_DB_APP_ROLE": "Factcheck"}, "lower-case Postgres name"),
        ({"FACTCHECK_DB_APP_ROLE": 'app"; DROP TABLE x; --'}, "lower-case Postgres name"),
        ({"FACTCHECK_DB_APP_ROLE": "a" * 64}, "at most 63"),
        ({"FACTCHECK_DB_APP_ROLE": "app", "FACTCHECK_DB_APP_PASSWORD": "short"}, "16 characters"),
    ],
)
def test_malformed_service_role_settings_are_refused(env, message):
    with pytest.raises(ConfigError, match=message):
        app_role_from_env(env)
