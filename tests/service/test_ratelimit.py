"""Rate limits and the submission quota, on apps of their own with tight limits, against the
test Postgres and Redis (the suite's own app keeps the generous defaults)."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import kombu
import pytest
from flask.testing import FlaskClient

from service.app import create_app
from service.auth import hash_token
from service.config import Settings
from tests.factories import article_payload

ARTICLES = "/api/v1/articles"
BATCH = ARTICLES + "/batch"
PROBLEMS = "https://factcheck.invalid/problems/"


@pytest.fixture
def limited(settings: Settings) -> Callable[..., FlaskClient]:
    """Factory: a test client of an app built with these rate-limit settings."""

    def build(**overrides: Any) -> FlaskClient:
        return create_app(dataclasses.replace(settings, **overrides)).test_client()

    return build


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def assert_too_many(response: Any, kind: str = "too-many-requests") -> dict[str, Any]:
    assert response.status_code == 429, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["type"] == PROBLEMS + kind
    assert body["status"] == 429
    retry_after = int(response.headers["Retry-After"])
    assert 1 <= retry_after <= 3600
    return body


class TestPerToken:
    def test_the_limit_trips_at_the_configured_count_and_spares_other_tokens(
        self, limited, make_token
    ):
        client = limited(rate_limit_per_token="3/minute")
        first, second = bearer(make_token("viewer")), bearer(make_token("viewer"))
        answers = [client.get(ARTICLES, headers=first) for _ in range(3)]
        assert [a.status_code for a in answers] == [200, 200, 200]
        assert "Retry-After" not in answers[-1].headers, "only a refusal says when to retry"

        refused = client.get(ARTICLES, headers=first)
        body = assert_too_many(refused)
        assert body["limit"] == "3 per 1 minute"
        assert "token" in body["detail"]
        assert int(refused.headers["Retry-After"]) <= 61
        assert refused.headers["X-RateLimit-Limit"] == "3"
        assert refused.headers["X-RateLimit-Remaining"] == "0"
        assert int(refused.headers["X-RateLimit-Reset"]) > time.time()

        assert client.get(ARTICLES, headers=second).status_code == 200

    def test_every_endpoint_shares_one_count_per_token(self, limited, make_token):
        client = limited(rate_limit_per_token="2/minute")
        headers = bearer(make_token("admin"))
        assert client.get(ARTICLES, headers=headers).status_code == 200
        assert client.get("/api/v1/claims", headers=headers).status_code == 200
        assert_too_many(client.get("/api/v1/ratings", headers=headers))

    def test_redis_keys_name_a_digest_of_the_token_never_the_token(
        self, limited, make_token, broker_url
    ):
        client = limited(rate_limit_per_token="5/minute")
        token = make_token("viewer")
        assert client.get(ARTICLES, headers=bearer(token)).status_code == 200
        # Through kombu, which reads the embedded broker's redis+socket:// URL as well.
        with kombu.Connection(broker_url) as broker:
            keys = [key.decode() for key in broker.default_channel.client.keys("LIMITS*")]
        assert [key for key in keys if hash_token(token)[:32] in key], keys
        assert not [key for key in keys if token in key or token[4:20] in key]

    def test_zero_means_no_limit(self, limited, make_token):
        client = limited(rate_limit_per_token=None)
        headers = bearer(make_token("viewer"))
        answers = [client.get(ARTICLES, headers=headers) for _ in range(5)]
        assert {a.status_code for a in answers} == {200}


class TestPerAddress:
    def test_requests_without_a_valid_token_are_limited_per_address(self, limited, make_token):
        client = limited(rate_limit_per_address="3/minute")
        # A guesser sending a new made-up token each time gets no fresh count.
        guesses = [client.get(ARTICLES, headers=bearer(f"fct_guess{n}")) for n in range(3)]
        assert [g.status_code for g in guesses] == [401, 401, 401]
        body = assert_too_many(client.get(ARTICLES))
        assert "address" in body["detail"]
        assert_too_many(client.get("/api/v1/openapi.json"))

        # A valid token from the same address counts against its own limit only.
        assert client.get(ARTICLES, headers=bearer(make_token("viewer"))).status_code == 200
        # Another address has its own count.
        elsewhere = {"REMOTE_ADDR": "198.51.100.7"}
        assert client.get(ARTICLES, environ_base=elsewhere).status_code == 401

    def test_health_checks_are_never_limited(self, limited):
        client = limited(rate_limit_per_address="1/minute")
        assert client.get(ARTICLES).status_code == 401
        assert_too_many(client.get(ARTICLES))
        for _ in range(3):
            assert client.get("/healthz").status_code == 200
            assert client.get("/readyz").status_code == 200

    def test_an_ipv6_client_is_counted_per_64_network(self, limited):
        client = limited(rate_limit_per_address="2/minute")
        for address in ("2001:db8:0:7::1", "2001:db8:0:7::2"):
            assert client.get(ARTICLES, environ_base={"REMOTE_ADDR": address}).status_code == 401
        assert_too_many(client.get(ARTICLES, environ_base={"REMOTE_ADDR": "2001:db8:0:7::3"}))
        other_network = {"REMOTE_ADDR": "2001:db8:0:8::1"}
        assert client.get(ARTICLES, environ_base=other_network).status_code == 401

    def test_x_forwarded_for_is_believed_only_from_trusted_proxies(self, limited):
        direct = limited(rate_limit_per_address="1/minute")
        assert direct.get(ARTICLES, headers={"X-Forwarded-For": "203.0.113.1"}).status_code == 401
        # Without a trusted proxy, a forged header does not buy a fresh count.
        assert_too_many(direct.get(ARTICLES, headers={"X-Forwarded-For": "203.0.113.2"}))

        proxied = limited(rate_limit_per_address="1/minute", trusted_proxies=1)
        proxy = {"REMOTE_ADDR": "10.0.0.9"}
        for client_address in ("203.0.113.3", "203.0.113.4"):
            answer = proxied.get(
                ARTICLES, headers={"X-Forwarded-For": client_address}, environ_base=proxy
            )
            assert answer.status_code == 401, "each client behind the proxy has its own count"
        # Only the entry the proxy appended counts: what the client put before it is ignored.
        spoofed = {"X-Forwarded-For": "192.0.2.50, 203.0.113.3"}
        assert_too_many(proxied.get(ARTICLES, headers=spoofed, environ_base=proxy))


class TestSubmissionQuota:
    def test_a_batch_counts_each_article_and_a_refused_one_takes_nothing(self, limited, make_token):
        client = limited(submit_quota="5/hour")
        headers = bearer(make_token("newsroom"))
        batch = {"articles": [article_payload() for _ in range(4)]}
        assert client.post(BATCH, json=batch, headers=headers).status_code == 202

        refused = client.post(
            BATCH, json={"articles": [article_payload() for _ in range(2)]}, headers=headers
        )
        body = assert_too_many(refused, kind="quota-exceeded")
        assert body["quota"] == "5 per 1 hour"
        assert body["remaining"] == 1
        assert body["resets_at"].endswith("+00:00")
        assert 3500 <= int(refused.headers["Retry-After"]) <= 3601

        assert client.post(ARTICLES, json=article_payload(), headers=headers).status_code == 202
        assert_too_many(
            client.post(ARTICLES, json=article_payload(), headers=headers), kind="quota-exceeded"
        )
        listed = client.get(ARTICLES, headers=headers).get_json()["items"]
        assert len(listed) == 5, "nothing of a refused request is stored"

        other = bearer(make_token("newsroom"))
        assert client.post(ARTICLES, json=article_payload(), headers=other).status_code == 202

    def test_a_revision_counts_against_the_quota(self, limited, make_token):
        client = limited(submit_quota="2/hour")
        headers = bearer(make_token("newsroom"))
        article = client.post(ARTICLES, json=article_payload(), headers=headers).get_json()
        revised = {"body": "The council approved a budget of $5 million on Tuesday."}
        url = f"{ARTICLES}/{article['id']}"
        assert client.put(url, json=revised, headers=headers).status_code == 202
        again = {"body": "The council approved a budget of $6 million on Tuesday."}
        assert_too_many(client.put(url, json=again, headers=headers), kind="quota-exceeded")

    def test_the_quota_can_be_switched_off(self, limited, make_token):
        client = limited(submit_quota=None)
        headers = bearer(make_token("newsroom"))
        batch = {"articles": [article_payload() for _ in range(3)]}
        for _ in range(3):
            assert client.post(BATCH, json=batch, headers=headers).status_code == 202


@pytest.mark.timeout(120)
def test_the_api_keeps_serving_while_the_limit_storage_is_down(limited, make_token, isolated_redis):
    isolated_redis.start()
    client = limited(
        rate_limit_per_token="4/minute",
        submit_quota="100/hour",
        rate_limit_storage_url=f"redis+unix://{isolated_redis.socket}",
    )
    headers = bearer(make_token("admin"))
    assert client.get(ARTICLES, headers=headers).status_code == 200

    isolated_redis.stop()
    answers = [client.get(ARTICLES, headers=headers) for _ in range(3)]
    submitted = client.post(ARTICLES, json=article_payload(), headers=headers)
    assert [a.status_code for a in answers] == [200] * 3
    assert submitted.status_code == 202, submitted.get_data(as_text=True)
    # Meanwhile each process counts on its own, so the limit still holds.
    assert_too_many(client.get(ARTICLES, headers=headers))


def test_the_contract_documents_429_on_every_limited_operation(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    without = [
        f"{method.upper()} {path}"
        for path, operations in paths.items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "429" not in operation["responses"]
    ]
    assert without == ["GET /healthz", "GET /readyz"]
