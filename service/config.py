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
from urllib.parse import urlsplit

import limits

from service.ratings import DEFAULT_SCALE, Rating, ScaleError, parse_scale

MiB = 1024 * 1024
# Requests each API process runs at once (service/server.py), each on at most one database
# connection at a time. The app's work is Python holding the GIL, so more threads add no
# throughput; four keep a slow export from holding up the other requests.
API_THREADS = 4


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


def rating_scale_from_env(env: Mapping[str, str] | None = None) -> tuple[Rating, ...]:
    """FACTCHECK_RATING_SCALE on its own, for commands that need no broker (an import)."""
    return _scale(os.environ if env is None else env, "FACTCHECK_RATING_SCALE")


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


# Off switch of a rate limit or quota; unset or empty keeps the default, as for every setting.
RATE_OFF = frozenset({"0", "off"})
# Rate-limit storages whose client is installed (Redis comes with celery[redis]).
RATE_STORAGE_SCHEMES = ("redis", "rediss", "redis+unix", "memory")


def _rate(
    env: Mapping[str, str], name: str, default: str | None, *, single: bool = False
) -> str | None:
    """A rate in Flask-Limiter's notation ("1200/minute", "100 per hour;10/second"), or None
    when set to 0 or off (no limit)."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    if raw.lower() in RATE_OFF:
        return None
    hint = "a rate such as 1200/minute or 2000 per hour, or 0 for none"
    try:
        items = limits.parse_many(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {hint} (got {raw!r})") from None
    if single and len(items) > 1:
        raise ConfigError(f"{name} takes one rate, not several (got {raw!r})")
    if any(item.amount < 1 for item in items):
        raise ConfigError(f"{name}: a rate of 0 refuses everything; set {name}=0 for no limit")
    return raw


def _rate_storage(env: Mapping[str, str], name: str) -> str | None:
    raw = env.get(name, "").strip()
    if raw and urlsplit(raw).scheme not in RATE_STORAGE_SCHEMES:
        schemes = ", ".join(f"{scheme}://" for scheme in RATE_STORAGE_SCHEMES)
        raise ConfigError(f"{name} must be a {schemes} URL (got {redact_url(raw)!r})")
    return raw or None


def rate_storage_for_broker(broker_url: str) -> str:
    """Where rate-limit counts go by default: the broker's Redis, else each process's memory."""
    scheme, _, rest = broker_url.partition("://")
    if scheme in ("redis", "rediss"):
        return broker_url
    if scheme == "redis+socket":  # kombu's name for a Unix socket (the embedded Redis)
        return f"redis+unix://{rest}"
    return "memory://"


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
    # The work per article (README, "Limits per article"): at these defaults the worst article
    # took 1.7 s to extract and 5 s to store 10,000 claims, peak RSS 159 MB.
    max_article_chars: int = 200_000
    max_article_claims: int = 10_000
    db_pool_size: int = 5
    db_max_overflow: int = 0
    db_pool_timeout_seconds: float = 5.0
    db_other_connections: int = 20
    header_timeout_seconds: float = 10.0
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
    # Least cosine of two claims' embeddings for the same claim by meaning (with no guard
    # of the matcher disagreeing).
    similar_min_cosine: float = 0.9
    rating_scale: tuple[Rating, ...] = DEFAULT_SCALE
    organization_name: str = "Fact-check desk"
    organization_url: str | None = None
    claimreview_url_template: str | None = None
    # The licence the desk's own fact-checks are shown with (its verdicts, once published).
    review_licence: str | None = None
    log_level: str = "INFO"
    webhook_allow_private: bool = False
    # The whole of one attempt: connect, TLS, request, status line, headers and body.
    webhook_timeout_seconds: float = 5.0
    webhook_max_attempts: int = 8
    webhook_retry_base_seconds: float = 10.0
    webhook_retry_max_seconds: float = 3600.0
    webhook_disable_after: int = 10
    webhook_pause_after: int = 3
    # Requests per token, and per client address for requests without a valid token
    # (Flask-Limiter notation; None: no limit). See "Rate limits" in README.md.
    rate_limit_per_token: str | None = "1200/minute"  # noqa: S105 (a rate, not a secret)
    rate_limit_per_address: str | None = "300/minute"
    # Articles (a batch counts each item, a revision counts one) one token may submit.
    submit_quota: str | None = "2000/hour"
    # None: the broker's Redis when the broker is Redis, else per-process memory.
    rate_limit_storage_url: str | None = None
    # Reverse proxies in front of the API that append to X-Forwarded-For (0: trust none).
    trusted_proxies: int = 0
    # The reviewer desk's sessions: how long one lasts unused, and at most.
    desk_idle_minutes: int = 120
    desk_session_hours: int = 12
    # The key the desk signs CSRF tokens with; None: the one migration 0020 made.
    desk_signing_key: str | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        hint = "point it at your service, or run `factcheck up` for embedded Postgres and Redis"
        default = cls  # a dataclass keeps each field's default as a class attribute
        settings = cls(
            database_url=_required(env, "DATABASE_URL", hint),
            broker_url=_required(env, "CELERY_BROKER_URL", hint),
            admin_token=env.get("FACTCHECK_ADMIN_TOKEN") or None,
            database_replica_url=env.get("DATABASE_REPLICA_URL", "").strip() or None,
            max_request_bytes=_int(
                env, "FACTCHECK_MAX_REQUEST_BYTES", default.max_request_bytes, 1024
            ),
            max_batch_articles=_int(
                env, "FACTCHECK_MAX_BATCH_ARTICLES", default.max_batch_articles, 1
            ),
            max_article_chars=_int(
                env, "FACTCHECK_MAX_ARTICLE_CHARS", default.max_article_chars, 1
            ),
            max_article_claims=_int(
                env, "FACTCHECK_MAX_ARTICLE_CLAIMS", default.max_article_claims, 1
            ),
            db_pool_size=_int(env, "FACTCHECK_DB_POOL_SIZE", default.db_pool_size, 1),
            db_max_overflow=_int(env, "FACTCHECK_DB_MAX_OVERFLOW", default.db_max_overflow),
            db_pool_timeout_seconds=_float(
                env, "FACTCHECK_DB_POOL_TIMEOUT", default.db_pool_timeout_seconds
            ),
            db_other_connections=_int(
                env, "FACTCHECK_DB_OTHER_CONNECTIONS", default.db_other_connections
            ),
            header_timeout_seconds=_float(
                env, "FACTCHECK_HEADER_TIMEOUT", default.header_timeout_seconds
            ),
            db_statement_timeout_ms=_int(
                env, "FACTCHECK_DB_STATEMENT_TIMEOUT_MS", default.db_statement_timeout_ms, 0
            ),
            outbox_redeliver_seconds=_int(
                env, "FACTCHECK_OUTBOX_REDELIVER_SECONDS", default.outbox_redeliver_seconds, 1
            ),
            outbox_relay_interval_seconds=_float(
                env, "FACTCHECK_OUTBOX_RELAY_INTERVAL", default.outbox_relay_interval_seconds
            ),
            outbox_max_attempts=_int(
                env, "FACTCHECK_OUTBOX_MAX_ATTEMPTS", default.outbox_max_attempts, 1
            ),
            task_soft_time_limit=_int(
                env, "FACTCHECK_TASK_SOFT_TIME_LIMIT", default.task_soft_time_limit, 1
            ),
            task_time_limit=_int(env, "FACTCHECK_TASK_TIME_LIMIT", default.task_time_limit, 1),
            broker_visibility_timeout=_int(
                env, "FACTCHECK_BROKER_VISIBILITY_TIMEOUT", default.broker_visibility_timeout, 1
            ),
            worker_prefetch_multiplier=_int(
                env, "FACTCHECK_WORKER_PREFETCH", default.worker_prefetch_multiplier, 1
            ),
            publish_timeout_seconds=_float(
                env, "FACTCHECK_PUBLISH_TIMEOUT", default.publish_timeout_seconds
            ),
            checkworthy_threshold=checkworthy_threshold_from_env(env),
            similar_min_jaccard=_fraction(
                env, "FACTCHECK_SIMILAR_MIN_JACCARD", default.similar_min_jaccard
            ),
            similar_min_cosine=_fraction(
                env, "FACTCHECK_SIMILAR_MIN_COSINE", default.similar_min_cosine
            ),
            rating_scale=_scale(env, "FACTCHECK_RATING_SCALE"),
            organization_name=env.get("FACTCHECK_ORGANIZATION_NAME") or default.organization_name,
            organization_url=env.get("FACTCHECK_ORGANIZATION_URL") or None,
            claimreview_url_template=_url_template(env, "FACTCHECK_CLAIMREVIEW_URL"),
            review_licence=env.get("FACTCHECK_REVIEW_LICENCE") or None,
            log_level=env.get("LOG_LEVEL", default.log_level).upper(),
            webhook_allow_private=_flag(env, "FACTCHECK_WEBHOOK_ALLOW_PRIVATE"),
            webhook_timeout_seconds=_float(
                env, "FACTCHECK_WEBHOOK_TIMEOUT", default.webhook_timeout_seconds
            ),
            webhook_max_attempts=_int(
                env, "FACTCHECK_WEBHOOK_MAX_ATTEMPTS", default.webhook_max_attempts, 1
            ),
            webhook_retry_base_seconds=_float(
                env, "FACTCHECK_WEBHOOK_RETRY_BASE", default.webhook_retry_base_seconds
            ),
            webhook_retry_max_seconds=_float(
                env, "FACTCHECK_WEBHOOK_RETRY_MAX", default.webhook_retry_max_seconds
            ),
            webhook_disable_after=_int(
                env, "FACTCHECK_WEBHOOK_DISABLE_AFTER", default.webhook_disable_after, 1
            ),
            webhook_pause_after=_int(
                env, "FACTCHECK_WEBHOOK_PAUSE_AFTER", default.webhook_pause_after, 1
            ),
            rate_limit_per_token=_rate(
                env, "FACTCHECK_RATELIMIT_PER_TOKEN", default.rate_limit_per_token
            ),
            rate_limit_per_address=_rate(
                env, "FACTCHECK_RATELIMIT_PER_ADDRESS", default.rate_limit_per_address
            ),
            submit_quota=_rate(env, "FACTCHECK_SUBMIT_QUOTA", default.submit_quota, single=True),
            rate_limit_storage_url=_rate_storage(env, "FACTCHECK_RATELIMIT_STORAGE_URL"),
            trusted_proxies=_int(env, "FACTCHECK_TRUSTED_PROXIES", default.trusted_proxies, 0),
            desk_idle_minutes=_int(
                env, "FACTCHECK_DESK_IDLE_MINUTES", default.desk_idle_minutes, 1
            ),
            desk_session_hours=_int(
                env, "FACTCHECK_DESK_SESSION_HOURS", default.desk_session_hours, 1
            ),
            desk_signing_key=env.get("FACTCHECK_DESK_SIGNING_KEY") or None,
        )
        if settings.admin_token is not None and len(settings.admin_token) < 24:
            raise ConfigError("FACTCHECK_ADMIN_TOKEN must be at least 24 characters long")
        if settings.desk_signing_key is not None and len(settings.desk_signing_key) < 32:
            raise ConfigError("FACTCHECK_DESK_SIGNING_KEY must be at least 32 characters long")
        for name, seconds in (
            ("FACTCHECK_DB_POOL_TIMEOUT", settings.db_pool_timeout_seconds),
            ("FACTCHECK_HEADER_TIMEOUT", settings.header_timeout_seconds),
        ):
            if seconds <= 0:
                raise ConfigError(f"{name} must be a positive number of seconds, got {seconds}")
        if settings.task_time_limit <= settings.task_soft_time_limit:
            raise ConfigError(
                "FACTCHECK_TASK_TIME_LIMIT must exceed FACTCHECK_TASK_SOFT_TIME_LIMIT"
            )
        # An attempt must end, and its outcome be stored, long before its task is stopped.
        if not 0 < settings.webhook_timeout_seconds <= settings.task_soft_time_limit / 2:
            raise ConfigError(
                "FACTCHECK_WEBHOOK_TIMEOUT must be above 0 and at most half of "
                f"FACTCHECK_TASK_SOFT_TIME_LIMIT ({settings.task_soft_time_limit} s), got "
                f"{settings.webhook_timeout_seconds:g}"
            )
        return settings

    @property
    def rate_storage_url(self) -> str:
        """The rate-limit storage: FACTCHECK_RATELIMIT_STORAGE_URL, else from the broker's URL."""
        return self.rate_limit_storage_url or rate_storage_for_broker(self.broker_url)

    def redacted(self) -> dict[str, object]:
        """The settings with secrets and credentials masked, for logs and diagnostics."""
        out: dict[str, object] = {}
        for field in fields(self):
            value = getattr(self, field.name)
            if field.name in ("admin_token", "desk_signing_key") and value:
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
