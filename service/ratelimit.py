"""Rate limits per token and per client address, and the per-token submission quota.

Flask-Limiter counts requests in Redis (the broker's, unless configured otherwise), so every
API process and host shares one count. A request with a valid bearer token counts against
that token's limit; any other request (no token, an unknown or revoked one) counts against
its client address, which also throttles token guessing. Health checks are never limited.

When the storage does not answer, requests are still served: Flask-Limiter counts in each
process's memory until Redis is back, and the quota lets submissions through.
"""

from __future__ import annotations

import ipaddress
import logging
import math
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import limits
from flask import Flask, Response, current_app, request
from flask_limiter import ApplicationLimit, HeaderNames, Limiter
from limits.storage import Storage
from limits.strategies import MovingWindowRateLimiter

from service.auth import caller, token_key
from service.config import Settings

log = logging.getLogger(__name__)

# Longest wait for the rate-limit Redis: past it the request is served on per-process
# counts, so a Redis that stops answering cannot hold requests for the OS's TCP timeout.
STORAGE_TIMEOUT_SECONDS = 0.5
# One subscriber is usually handed a whole IPv6 /64: counted per address, it could rotate
# through 2^64 of them.
IPV6_NETWORK_BITS = 64
QUOTA_SCOPE = "submissions"


def client_address() -> str:
    """The client's address as rate limits count it: IPv4 as is, IPv6 as its /64."""
    raw = request.remote_addr or ""
    try:
        address = ipaddress.ip_address(raw)
    except ValueError:
        return raw
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/{IPV6_NETWORK_BITS}", strict=False))
    return str(address)


def _is_public() -> bool:
    view = current_app.view_functions.get(request.endpoint or "")
    return bool(getattr(view, "public", False))


def _per_token_key() -> str:
    return "token:" + token_key()


def _per_address_key() -> str:
    return "address:" + client_address()


def install_rate_limits(app: Flask, settings: Settings) -> Limiter:
    """Refuse requests over the per-token or per-address limit: 429 with Retry-After and the
    limit, remaining count and reset time in X-RateLimit-* headers."""

    @app.before_request
    def _identify_caller() -> None:
        # Looked up before the limiter runs, not inside it: a database error must answer
        # 503, not be taken for a rate-limit storage outage.
        if not _is_public():
            caller()

    storage_url = settings.rate_storage_url
    if storage_url.startswith("memory:"):
        log.warning(
            "rate limits and quotas are counted in each API process's memory (the broker is "
            "not Redis): set FACTCHECK_RATELIMIT_STORAGE_URL to share them between processes"
        )
    per_request = []
    if settings.rate_limit_per_token:
        per_request.append(
            ApplicationLimit(
                limit_provider=settings.rate_limit_per_token,
                key_function=_per_token_key,
                exempt_when=lambda: caller() is None,
                scope="token",
                error_message="for this token",
            )
        )
    if settings.rate_limit_per_address:
        per_request.append(
            ApplicationLimit(
                limit_provider=settings.rate_limit_per_address,
                key_function=_per_address_key,
                exempt_when=lambda: caller() is not None,
                scope="address",
                error_message="for this address (requests without a valid token)",
            )
        )
    # Passed on to redis-py, which takes seconds as a float (Flask-Limiter's hint says int).
    redis_options: dict[str, Any] = {
        "socket_connect_timeout": STORAGE_TIMEOUT_SECONDS,
        "socket_timeout": STORAGE_TIMEOUT_SECONDS,
    }
    limiter = Limiter(
        key_func=_per_address_key,
        application_limits=per_request,  # type: ignore[arg-type]
        storage_uri=storage_url,
        storage_options={} if storage_url.startswith("memory:") else redis_options,
        strategy="fixed-window",
        swallow_errors=True,
        in_memory_fallback_enabled=True,
        # Its own headers put Retry-After on every response; ours only on a 429.
        headers_enabled=False,
    )
    limiter.request_filter(_is_public)
    limiter.init_app(app)

    @app.after_request
    def _rate_limit_headers(response: Response) -> Response:
        # On refusals only: reading a window costs two more Redis round trips, as much as
        # the rest of the limiter, and Flask-Limiter's own headers would also put
        # Retry-After on every answer.
        current = limiter.current_limit
        if response.status_code != 429 or current is None or not current.breached:
            return response
        try:
            reset_at, remaining = current.reset_at, current.remaining
        except limiter.storage.base_exceptions:
            reset_at, remaining = int(time.time()) + current.limit.get_expiry(), 0
        response.headers[HeaderNames.LIMIT.value] = str(current.limit.amount)
        response.headers[HeaderNames.REMAINING.value] = str(max(remaining, 0))
        response.headers[HeaderNames.RESET.value] = str(reset_at)
        response.headers["Retry-After"] = str(max(1, reset_at - int(time.time())))
        return response

    return limiter


class QuotaExceeded(Exception):
    """The caller's token has no room left in its submission quota for this request."""

    def __init__(self, quota: str, cost: int, remaining: int, resets_at: float) -> None:
        super().__init__(quota)
        self.quota = quota
        self.cost = cost
        self.remaining = remaining
        self.resets_at = datetime.fromtimestamp(math.ceil(resets_at), UTC)
        self.retry_after = max(1, math.ceil(resets_at - time.time()))

    @property
    def detail(self) -> str:
        return (
            f"This token's submission quota ({self.quota} articles) has {self.remaining} "
            f"left and this request submits {self.cost}; room frees up from "
            f"{self.resets_at.isoformat()}."
        )


@dataclass
class SubmissionQuota:
    """How many articles one token may submit per period, counted in the rate-limit storage.

    A moving window: a refused request takes nothing from the quota (its check and count
    are one step in Redis), and the quota frees up as old submissions age out of the window.
    """

    storage: Storage
    rate: str
    item: limits.RateLimitItem = field(init=False)
    strategy: MovingWindowRateLimiter = field(init=False)

    def __post_init__(self) -> None:
        self.item = limits.parse(self.rate)
        self.strategy = MovingWindowRateLimiter(self.storage)

    def charge(self, key: str, cost: int) -> None:
        """Take `cost` articles from the quota of `key`; QuotaExceeded if there is no room."""
        try:
            if self.strategy.hit(self.item, QUOTA_SCOPE, key, cost=cost):
                return
            resets_at, remaining = self.strategy.get_window_stats(self.item, QUOTA_SCOPE, key)
        except self.storage.base_exceptions as error:
            # Fail open, as the request limits do: an accepted article is never lost, and
            # refusing every submission while Redis is away would stop the newsroom.
            log.warning("submission quota not checked, storage unreachable: %s", error)
            return
        raise QuotaExceeded(str(self.item), cost, max(remaining, 0), resets_at)


def charge_submissions(count: int) -> None:
    """Count `count` submitted articles against the caller's quota (QuotaExceeded: 429)."""
    quota: SubmissionQuota | None = current_app.extensions["factcheck"].submit_quota
    if quota is not None and count > 0:
        quota.charge(token_key(), count)
