"""Settings come from the environment; bad or missing ones fail at start with a clear message."""

from __future__ import annotations

import pytest

from service.config import AppRole, ConfigError, Settings, app_role_from_env, redact_url

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
        ("FACTCHECK_CLAIMREVIEW_URL", "https://checks.example.org/reviews", "containing"),
        ("FACTCHECK_CLAIMREVIEW_URL", "ftp://checks.example.org/{id}", "http"),
        ("FACTCHECK_CLAIMREVIEW_URL", "https://checks.example.org/{id}/{slug}", "only the"),
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
