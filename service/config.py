"""Typed settings, read only from environment variables.

Required settings raise `ConfigError` at start-up with a message naming the variable, so a
misconfigured deployment fails before it serves a request.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields

from service.ratings import DEFAULT_SCALE, Rating, ScaleError, parse_scale

MiB = 1024 * 1024


class ConfigError(RuntimeError):
    """A setting is missing or malformed."""


def _int(env: Mapping[str, str], name: str, default: int, minimum: int = 0) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if value < minimum:
        raise ConfigError(f"{name} must be >= {minimum}, got {value}")
    return value


def _float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {raw!r}") from None


def _flag(env: Mapping[str, str], name: str) -> bool:
    """A boolean: 1/true/yes/on or 0/false/no/off (unset is false)."""
    raw = env.get(name, "").strip().lower()
    if raw in ("", "0", "false", "no", "off"):
        return False
    if raw in ("1", "true", "yes", "on"):
        return True
    raise ConfigError(f"{name} must be 1 or 0 (true or false), got {raw!r}")


def _fraction(env: Mapping[str, str], name: str, default: float) -> float:
    """A number in [0, 1]."""
    value = _float(env, name, default)
    if not 0.0 <= value <= 1.0:
        raise ConfigError(f"{name} must be between 0 and 1, got {value}")
    return value


def _threshold(env: Mapping[str, str], name: str) -> float | None:
    """A probability in [0, 1], or None (the model's own threshold) when unset."""
    return _fraction(env, name, 0.0) if env.get(name) else None


def checkworthy_threshold_from_env(env: Mapping[str, str] | None = None) -> float | None:
    """FACTCHECK_CHECKWORTHY_THRESHOLD on its own, for offline commands with no other setting."""
    return _threshold(os.environ if env is None else env, "FACTCHECK_CHECKWORTHY_THRESHOLD")


# Unquoted Postgres identifiers fold to lower case: a lower-case name is spelled the same in
# SQL and in the service's DATABASE_URL.
APP_ROLE_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
APP_ROLE_MIN_PASSWORD = 16


@dataclass(frozen=True)
class AppRole:
    """The Postgres role the service connects as, set up by `factcheck db upgrade`."""

    name: str
    # None: keep the password an existing role has (a missing role cannot be created).
    password: str | None = dataclasses.field(default=None, repr=False)


def app_role_from_env(env: Mapping[str, str] | None = None) -> AppRole | None:
    """FACTCHECK_DB_APP_ROLE and FACTCHECK_DB_APP_PASSWORD, for `factcheck db upgrade`; None
    when no role is named."""
    env = os.environ if env is None else env
    name = env.get("FACTCHECK_DB_APP_ROLE", "").strip()
    password = env.get("FACTCHECK_DB_APP_PASSWORD") or None
    if not name:
        if password is not None:
            raise ConfigError(
                "FACTCHECK_DB_APP_PASSWORD is set but FACTCHECK_DB_APP_ROLE is not: "
                "name the role it is the password of"
            )
        return None
    if not APP_ROLE_NAME.fullmatch(name):
        raise ConfigError(
            "FACTCHECK_DB_APP_ROLE must be a lower-case Postgres name (letters, digits and _, "
            f"not starting with a digit, at most 63), got {name!r}"
        )
    if password is not None and len(password) < APP_ROLE_MIN_PASSWORD:
        raise ConfigError(
            f"FACTCHECK_DB_APP_PASSWORD must be at least {APP_ROLE_MIN_PASSWORD} characters long"
        )
    return AppRole(name, password)


def _scale(env: Mapping[str, str], name: str) -> tuple[Rating, ...]:
    raw = env.get(name, "").strip()
    if not raw:
        return DEFAULT_SCALE
    try:
        return parse_scale(raw)
    except (ScaleError, OSError) as error:
        raise ConfigError(f"{name}: {error}") from None


def _url_template(env: Mapping[str, str], name: str) -> str | None:
    """A public URL with an {id} placeholder, e.g. https://example.org/fact-checks/{id}."""
    raw = env.get(name, "").strip()
    if not raw:
        return None
    if not raw.startswith(("https://", "http://")) or raw.count("{id}") != 1:
        raise ConfigError(f"{name} must be an http(s) URL containing {{id}} once (got {raw!r})")
    try:
        raw.format(id=1)
    except (IndexError, KeyError, ValueError):
        raise ConfigError(f"{name}: only the {{id}} placeholder is allowed") from None
    return raw


def _required(env: Mapping[str, str], name: str, hint: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is not set: {hint}")
    return value


@dataclass(frozen=True)
class Settings:
    """Every setting the API and the workers read; see the table in README.md."""

    database_url: str
    broker_url: str
    admin_token: str | None = None
    # A read replica for list and search endpoints; None: everything reads the primary.
    database_replica_url: str | None = None
    max_request_bytes: int = 12 * MiB
    max_batch_articles: int = 100
    db_pool_size: int = 5
    db_statement_timeout_ms: int = 30_000
    outbox_redeliver_seconds: int = 120
    outbox_relay_interval_seconds: float = 10.0
    outbox_max_attempts: int = 20
    task_soft_time_limit: int = 120
    task_time_limit: int = 150
    broker_visibility_timeout: int = 900
    # One task per pool process: a killed worker's reserved tasks wait in the broker's
    # unacknowledged set until the visibility timeout; only started ones are re-sent early.
    worker_prefetch_multiplier: int = 1
    publish_timeout_seconds: float = 2.0
    checkworthy_threshold: float | None = None
    similar_min_jaccard: float = 0.5
    rating_scale: tuple[Rating, ...] = DEFAULT_SCALE
    organization_name: str = "Fact-check desk"
    organization_url: str | None = None
    claimreview_url_template: str | None = None
    log_level: str = "INFO"
    webhook_allow_private: bool = False
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_disable_after: int = 10

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        hint = "point it at your service, or run `factcheck up` for embedded Postgres and Redis"
        settings = cls(
            database_url=_required(env, "DATABASE_URL", hint),
            broker_url=_required(env, "CELERY_BROKER_URL", hint),
            admin_token=env.get("FACTCHECK_ADMIN_TOKEN") or None,
            database_replica_url=env.get("DATABASE_REPLICA_URL", "").strip() or None,
            max_request_bytes=_int(env, "FACTCHECK_MAX_REQUEST_BYTES", 12 * MiB, 1024),
            max_batch_articles=_int(env, "FACTCHECK_MAX_BATCH_ARTICLES", 100, 1),
            db_pool_size=_int(env, "FACTCHECK_DB_POOL_SIZE", 5, 1),
            db_statement_timeout_ms=_int(env, "FACTCHECK_DB_STATEMENT_TIMEOUT_MS", 30_000, 0),
            outbox_redeliver_seconds=_int(env, "FACTCHECK_OUTBOX_REDELIVER_SECONDS", 120, 1),
            outbox_relay_interval_seconds=_float(env, "FACTCHECK_OUTBOX_RELAY_INTERVAL", 10.0),
            outbox_max_attempts=_int(env, "FACTCHECK_OUTBOX_MAX_ATTEMPTS", 20, 1),
            task_soft_time_limit=_int(env, "FACTCHECK_TASK_SOFT_TIME_LIMIT", 120, 1),
            task_time_limit=_int(env, "FACTCHECK_TASK_TIME_LIMIT", 150, 1),
            broker_visibility_timeout=_int(env, "FACTCHECK_BROKER_VISIBILITY_TIMEOUT", 900, 1),
            worker_prefetch_multiplier=_int(env, "FACTCHECK_WORKER_PREFETCH", 1, 1),
            publish_timeout_seconds=_float(env, "FACTCHECK_PUBLISH_TIMEOUT", 2.0),
            checkworthy_threshold=checkworthy_threshold_from_env(env),
            similar_min_jaccard=_fraction(env, "FACTCHECK_SIMILAR_MIN_JACCARD", 0.5),
            rating_scale=_scale(env, "FACTCHECK_RATING_SCALE"),
            organization_name=env.get("FACTCHECK_ORGANIZATION_NAME") or "Fact-check desk",
            organization_url=env.get("FACTCHECK_ORGANIZATION_URL") or None,
            claimreview_url_template=_url_template(env, "FACTCHECK_CLAIMREVIEW_URL"),
            log_level=env.get("LOG_LEVEL", "INFO").upper(),
            webhook_allow_private=_flag(env, "FACTCHECK_WEBHOOK_ALLOW_PRIVATE"),
            webhook_timeout_seconds=_float(env, "FACTCHECK_WEBHOOK_TIMEOUT", 5.0),
            webhook_max_attempts=_int(env, "FACTCHECK_WEBHOOK_MAX_ATTEMPTS", 8, 1),
            webhook_retry_base_seconds=_float(env, "FACTCHECK_WEBHOOK_RETRY_BASE", 10.0),
            webhook_retry_max_seconds=_float(env, "FACTCHECK_WEBHOOK_RETRY_MAX", 3600.0),
            webhook_disable_after=_int(env, "FACTCHECK_WEBHOOK_DISABLE_AFTER", 10, 1),
        )
        if settings.admin_token is not None and len(settings.admin_token) < 24:
            raise ConfigError("FACTCHECK_ADMIN_TOKEN must be at least 24 characters long")
        if settings.task_time_limit <= settings.task_soft_time_limit:
            raise ConfigError(
                "FACTCHECK_TASK_TIME_LIMIT must exceed FACTCHECK_TASK_SOFT_TIME_LIMIT"
            )
        return settings

    def redacted(self) -> dict[str, object]:
        """The settings with secrets and credentials masked, for logs and diagnostics."""
        out: dict[str, object] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name == "admin_token" and value:
                value = "***"
            elif field.name.endswith("_url") and isinstance(value, str):
                value = redact_url(value)
            out[field.name] = value
        return out


def redact_url(url: str) -> str:
    """`scheme://user:secret@host/...` -> `scheme://user:***@host/...`."""
    scheme, sep, rest = url.partition("://")
    if not sep or "@" not in rest:
        return url
    credentials, _, host = rest.rpartition("@")
    user, has_password, _ = credentials.partition(":")
    return f"{scheme}://{user}{':***' if has_password else ''}@{host}"
