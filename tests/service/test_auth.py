"""Bearer tokens and the role checks, for every role against every endpoint so far."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import text

from service.auth import OUTSIDE_ROLES, PERMISSIONS, hash_token
from tests.conftest import ADMIN_TOKEN
from tests.factories import article_payload, mark_reviewed
from tests.policy import ALLOWED, ROLES

# (method, path, permission) of every authenticated endpoint.
ENDPOINTS = [
    ("POST", "/api/v1/articles", "articles:submit"),
    ("POST", "/api/v1/articles/batch", "articles:submit"),
    ("GET", "/api/v1/articles", "articles:read"),
    ("GET", "/api/v1/articles/{id}", "articles:read"),
    ("PUT", "/api/v1/articles/{id}", "articles:submit"),
    ("GET", "/api/v1/articles/{id}/claims", "articles:read"),
    ("GET", "/metrics", "metrics:read"),
    ("POST", "/api/v1/score", "claims:score"),
    ("GET", "/api/v1/claims", "claims:read"),
    ("POST", "/api/v1/claims", "claims:review"),
    ("GET", "/api/v1/claims/{claim}", "claims:read"),
    ("PATCH", "/api/v1/claims/{claim}", "claims:review"),
    ("POST", "/api/v1/claims/{claim}/take", "claims:review"),
    ("GET", "/api/v1/claims/{claim}/history", "claims:read"),
    ("POST", "/api/v1/claims/{claim}/verdicts", "verdicts:write"),
    ("GET", "/api/v1/verdicts/{verdict}", "claims:read"),
    ("PATCH", "/api/v1/verdicts/{verdict}", "verdicts:write"),
    ("POST", "/api/v1/verdicts/{verdict}/publish", "verdicts:publish"),
    ("POST", "/api/v1/verdicts/{verdict}/corrections", "verdicts:publish"),
    ("GET", "/api/v1/ratings", "claims:read"),
    ("GET", "/api/v1/stats/agreement", "claims:read"),
    ("GET", "/api/v1/verdicts/{verdict}/claimreview", "reviews:read"),
    ("GET", "/api/v1/claimreviews", "reviews:read"),
    ("GET", "/api/v1/articles/{id}/annotations", "articles:read"),
    ("POST", "/api/v1/articles/{id}/annotations", "claims:review"),
    ("GET", "/api/v1/exports/claims.csv", "exports:read"),
    ("POST", "/api/v1/users", "users:manage"),
    ("GET", "/api/v1/users", "users:manage"),
    ("POST", "/api/v1/users/{user}/tokens", "users:manage"),
    ("GET", "/api/v1/users/{user}/tokens", "users:manage"),
    ("DELETE", "/api/v1/users/{user}/tokens/{token}", "users:manage"),
    ("DELETE", "/api/v1/users/{user}", "users:manage"),
    ("POST", "/api/v1/webhooks", "webhooks:manage"),
    ("GET", "/api/v1/webhooks", "webhooks:manage"),
    ("GET", "/api/v1/webhooks/{webhook}", "webhooks:manage"),
    ("DELETE", "/api/v1/webhooks/{webhook}", "webhooks:manage"),
    ("GET", "/api/v1/webhooks/{webhook}/deliveries", "webhooks:manage"),
    ("POST", "/api/v1/factchecks", "factchecks:import"),
    ("GET", "/api/v1/factchecks/{factcheck}", "factchecks:read"),
    ("POST", "/api/v1/matches", "matches:query"),
    ("GET", "/api/v1/matches/reviewed", "exports:read"),
    ("GET", "/api/v1/claims/{claim}/matches", "claims:read"),
    ("POST", "/api/v1/claims/{claim}/matches/{factcheck}/review", "matches:review"),
]
FACTCHECK = {
    "@type": "ClaimReview",
    "claimReviewed": "Prices rose 3% last year.",
    "reviewRating": {"@type": "Rating", "alternateName": "False"},
    "author": {"@type": "Organization", "name": "Example Checks"},
}
# A public address written as a literal: creating the subscription needs no DNS.
WEBHOOK = {"url": "https://93.184.215.14/hook", "events": ["verdict.published"]}
# Anchors in article_payload()'s body, away from the claim the fixture inserts.
ANNOTATION = {
    "type": "Annotation",
    "target": {"selector": {"type": "TextQuoteSelector", "exact": "It rose 5% on last year."}},
}
VERDICT = {"rating": "false", "summary": "The figure is wrong.", "evidence": []}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def make_verdict(client, claim_id, headers, *, reviewed=False, published=False):
    """A verdict by the caller when it may write one (so it is its author), else by the admin;
    `reviewed` marks its claim reviewed (publishable), `published` publishes it."""
    created = client.post(f"/api/v1/claims/{claim_id}/verdicts", json=VERDICT, headers=headers)
    if created.status_code != 201:
        created = client.post(f"/api/v1/claims/{claim_id}/verdicts", json=VERDICT, headers=ADMIN)
    verdict_id = created.get_json()["id"]
    if reviewed or published:
        mark_reviewed(client, ADMIN, claim_id)
    if published:
        published = client.post(f"/api/v1/verdicts/{verdict_id}/publish", headers=ADMIN)
        assert published.status_code == 200, published.get_data(as_text=True)
    return verdict_id


def call(client, method, path, headers, article_id, claim_id, *, revise_own=True):
    verdict_id = None
    if "{verdict}" in path:
        published = path.endswith(("corrections", "claimreview"))
        reviewed = path.endswith("publish")
        verdict_id = make_verdict(client, claim_id, headers, reviewed=reviewed, published=published)
    user_id = token_id = None
    if "{user}" in path:
        created = client.post(
            "/api/v1/users", json={"name": uuid.uuid4().hex, "role": "viewer"}, headers=ADMIN
        )
        user_id = created.get_json()["user"]["id"]
        tokens = client.get(f"/api/v1/users/{user_id}/tokens", headers=ADMIN)
        token_id = tokens.get_json()["items"][0]["id"]
    factcheck_id = None
    if "{factcheck}" in path:
        factcheck = FACTCHECK | {"url": f"https://checks.example.org/{uuid.uuid4().hex}"}
        factcheck_id = client.post("/api/v1/factchecks", json=factcheck, headers=ADMIN).json["ids"][
            0
        ]
        if path.endswith("/review"):
            with client.application.extensions["factcheck"].engine.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO claim_matches (claim_id, factcheck_id, confidence, "
                        "decision, reason) VALUES (:c, :f, 0.7, 'suggest', 'test')"
                    ),
                    {"c": claim_id, "f": factcheck_id},
                )
    webhook_id = None
    if "{webhook}" in path:
        webhook_id = client.post("/api/v1/webhooks", json=WEBHOOK, headers=ADMIN).json["id"]
    if revise_own and (method, path) == ("PUT", "/api/v1/articles/{id}"):
        # Revising checks the organisation too: a newsroom revises its own organisation's
        # articles (another's is tested below and in test_revisions.py).
        submitted = client.post("/api/v1/articles", json=article_payload(), headers=headers)
        if submitted.status_code < 400:
            article_id = submitted.get_json()["id"]
    path = path.format(
        id=article_id,
        claim=claim_id,
        verdict=verdict_id,
        user=user_id,
        token=token_id,
        webhook=webhook_id,
        factcheck=factcheck_id,
    )
    payload = None
    if path == "/api/v1/users" and method == "POST":
        payload = {"name": uuid.uuid4().hex, "role": "reviewer"}
    elif path == "/api/v1/webhooks" and method == "POST":
        payload = WEBHOOK
    elif path == "/api/v1/factchecks":
        payload = FACTCHECK | {"url": f"https://checks.example.org/{uuid.uuid4().hex}"}
    elif path == "/api/v1/matches":
        payload = {"sentences": ["Prices rose 3% last year."]}
    elif path.endswith("/review"):
        payload = {"review": "confirmed"}
    elif path.endswith("annotations") and method == "POST":
        payload = ANNOTATION
    elif path.endswith("verdicts"):
        payload = VERDICT
    elif path.endswith("corrections"):
        payload = {"rating": "mostly-false", "reason": "A second source."}
    elif method == "PATCH":
        etag = client.get(path, headers=ADMIN).headers["ETag"]
        headers = {**headers, "If-Match": etag}
        payload = {"status": "in_review"} if "/claims/" in path else {"summary": "Reworded."}
    elif path == "/api/v1/claims" and method == "POST":
        payload = {"article_id": article_id, "start": 45, "end": 69}
    elif path.endswith("batch"):
        payload = {"articles": [article_payload()]}
    elif path.endswith("score"):
        payload = {"sentences": ["Prices rose 3% last year."]}
    elif method == "POST":
        payload = article_payload()
    elif method == "PUT":
        payload = {"body": "A revised body. Prices rose 6% in June."}
    return client.open(path, method=method, json=payload, headers=headers)


@pytest.fixture
def article_id(client, admin_headers):
    return client.post("/api/v1/articles", json=article_payload(), headers=admin_headers).json["id"]


@pytest.fixture
def claim_id(engine, article_id):
    with engine.begin() as connection:
        return connection.scalar(
            text(
                'INSERT INTO claims (article_id, revision, start, "end", text, checkworthiness, '
                "checkworthy) VALUES (:a, 1, 0, 44, 'x', 0.9, true) RETURNING id"
            ),
            {"a": article_id},
        )


def test_the_permissions_granted_are_the_intended_policy():
    """Every permission and every role in the table, and nothing else: a permission added
    to the code without a line here, or a grant changed on one side only, fails."""
    assert dict(PERMISSIONS) == ALLOWED
    assert set().union(*ALLOWED.values()) == set(ROLES)


def test_every_registered_view_declares_a_permission(app):
    open_endpoints = {
        "health.healthz",
        "health.readyz",
        "static",
        "api-docs.openapi_json",
        "api-docs.openapi_swagger_ui",
        "docs_assets",
        "desk.static",
    }
    for rule in app.url_map.iter_rules():
        if rule.endpoint in open_endpoints:
            continue
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.startswith("desk."):
            # The desk's pages declare theirs their own way (tests/desk/test_desk.py).
            assert hasattr(view, "desk_permission"), rule.rule
            continue
        assert getattr(view, "required_permission", None) in PERMISSIONS, rule.rule


def test_a_view_declaring_no_permission_cannot_be_registered():
    from service.api import Blueprint
    from service.auth import public, require

    blueprint = Blueprint("probe", __name__)
    with pytest.raises(TypeError, match="declare @require"):

        @blueprint.route("/open")
        def open_view() -> str:
            return "anyone"

    @blueprint.route("/guarded")
    @require("claims:read")
    def guarded_view() -> str:
        return "readers"

    @blueprint.route("/health")
    @public
    def health_view() -> str:
        return "ok"


def test_endpoint_table_covers_every_authenticated_route(app):
    routes = {
        (
            method,
            rule.rule.replace("<int:article_id>", "{id}")
            .replace("<int:claim_id>", "{claim}")
            .replace("<int:verdict_id>", "{verdict}")
            .replace("<int:user_id>", "{user}")
            .replace("<int:token_id>", "{token}")
            .replace("<int:webhook_id>", "{webhook}")
            .replace("<int:factcheck_id>", "{factcheck}"),
        )
        for rule in app.url_map.iter_rules()
        if getattr(app.view_functions[rule.endpoint], "required_permission", None)
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == {(method, path) for method, path, _ in ENDPOINTS}


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(client, headers_for, article_id, claim_id, method, path, permission, role):
    response = call(client, method, path, headers_for(role), article_id, claim_id)
    if role in ALLOWED[permission]:
        assert response.status_code < 400, response.get_data(as_text=True)
    else:
        assert response.status_code == 403
        assert response.mimetype == "application/problem+json"


# The endpoints on one article, which belongs to its submitter's organisation.
ARTICLE_ENDPOINTS = [e for e in ENDPOINTS if e[1].startswith("/api/v1/articles/{id}")]


@pytest.mark.parametrize(("method", "path", "permission"), ARTICLE_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_role_matrix_on_another_organisations_article(
    client, headers_for, article_id, claim_id, method, path, permission, role
):
    """The desk's roles, whatever their organisation, act on any article as the matrix
    says; to a newsroom, another organisation's article is missing: 404, never 403."""
    headers = headers_for(role, "another-newsroom")
    response = call(client, method, path, headers, article_id, claim_id, revise_own=False)
    if role not in ALLOWED[permission]:
        assert response.status_code == 403
    elif role in OUTSIDE_ROLES:
        missing = call(
            client, method, path, headers, article_id + 10**6, claim_id, revise_own=False
        )
        assert response.status_code == missing.status_code == 404
        assert response.mimetype == "application/problem+json"
        assert response.get_json()["detail"] == f"Article {article_id} does not exist."
    else:
        assert response.status_code < 400, response.get_data(as_text=True)


@pytest.mark.parametrize(("method", "path", "permission"), ENDPOINTS)
@pytest.mark.parametrize(
    "authorization", [None, "Bearer", "Bearer fct_wrong", "Basic dXNlcjpwYXNz", "fct_raw"]
)
def test_missing_or_bad_token_is_401(
    client, article_id, claim_id, method, path, permission, authorization
):
    headers = {"Authorization": authorization} if authorization else {}
    response = call(client, method, path, headers, article_id, claim_id)
    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert response.mimetype == "application/problem+json"


def test_health_checks_need_no_token(client):
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 200


def test_tokens_are_stored_only_as_digests(make_token, engine):
    token = make_token("newsroom")
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash, prefix FROM api_tokens")).one()
    assert stored.token_hash == hash_token(token)
    assert token not in stored.token_hash
    assert len(stored.prefix) < len(token) // 3


def test_revoked_token_and_disabled_user_are_refused(client, make_token, engine):
    revoked, disabled = make_token("viewer"), make_token("viewer")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE api_tokens SET revoked_at = now() WHERE token_hash = :h"),
            {"h": hash_token(revoked)},
        )
        connection.execute(
            text(
                "UPDATE users SET disabled_at = now() WHERE id = "
                "(SELECT user_id FROM api_tokens WHERE token_hash = :h)"
            ),
            {"h": hash_token(disabled)},
        )
    for token in (revoked, disabled):
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/articles", headers=headers).status_code == 401


MISSING = 10**9


@pytest.mark.parametrize(
    ("method", "path", "detail"),
    [
        ("GET", f"/api/v1/articles/{MISSING}", f"Article {MISSING} does not exist."),
        ("GET", f"/api/v1/claims/{MISSING}", f"Claim {MISSING} does not exist."),
        ("GET", f"/api/v1/verdicts/{MISSING}", f"Verdict {MISSING} does not exist."),
        ("GET", f"/api/v1/users/{MISSING}/tokens", f"User {MISSING} does not exist."),
        ("DELETE", f"/api/v1/users/{MISSING}", f"User {MISSING} does not exist."),
        ("GET", f"/api/v1/webhooks/{MISSING}", f"Webhook {MISSING} does not exist."),
        ("DELETE", f"/api/v1/webhooks/{MISSING}", f"Webhook {MISSING} does not exist."),
        ("GET", f"/api/v1/webhooks/{MISSING}/deliveries", f"Webhook {MISSING} does not exist."),
    ],
)
def test_a_missing_thing_is_named_in_the_apis_words(client, method, path, detail):
    """404s say what the caller asked for as the API calls it, never an internal class."""
    response = client.open(path, method=method, headers=ADMIN)
    assert response.status_code == 404
    assert response.get_json()["detail"] == detail
