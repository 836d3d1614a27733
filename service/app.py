"""`create_app(settings)`: wiring only. Behaviour lives in the domain, the API and errors."""

from __future__ import annotations

import logging
from functools import partial
from importlib.metadata import version as package_version

import swagger_ui_bundle
from flask import Flask, Response, g, request, send_from_directory
from sqlalchemy.orm import Session
from werkzeug.middleware.proxy_fix import ProxyFix

from schemas import examples
from schemas.matching import FactCheckImportInSchema
from service.api import Services
from service.api.articles import blp as articles_blp
from service.api.claims import blp as claims_blp
from service.api.exports import blp as exports_blp
from service.api.health import blp as health_blp
from service.api.matching import claim_matches_blp, factchecks_blp, matches_blp
from service.api.publishing import annotations_blp, reviews_blp
from service.api.score import blp as score_blp
from service.api.stats import blp as stats_blp
from service.api.users import blp as users_blp
from service.api.verdicts import blp as verdicts_blp
from service.api.verdicts import ratings_blp
from service.api.webhooks import blp as webhooks_blp
from service.config import Settings
from service.db import commit, discard, make_engine, make_session_factory
from service.desk import install_desk
from service.domain.outbox import PUBLISHER_KEY
from service.errors import ProblemApi, body_over_limit, problem, register_error_handlers
from service.json_provider import OrjsonProvider
from service.metrics import install_metrics
from service.ratelimit import SubmissionQuota, install_rate_limits
from service.vocabulary import PERMISSIONS, roles_with
from workers.celery_app import make_celery, send
from workers.extraction.engine import Engine as Extractor

log = logging.getLogger(__name__)

API_PREFIX = "/api/v1"
DOCS_ASSETS_PATH = API_PREFIX + "/docs/assets"
DOCS_ASSETS_MAX_AGE = 24 * 3600


def _api_description() -> str:
    """The document's introduction: what the service does, how to get a token, and which
    role holds which permission (read from what is enforced)."""
    rows = "\n".join(
        f"| `{permission}` | {', '.join(roles_with(permission))} |" for permission in PERMISSIONS
    )
    return f"""Submit articles; get back anchored, check-worthy claims; review them and publish
verdicts as ClaimReview.

## Getting a token

Every operation except `/healthz` and `/readyz` needs a bearer token, sent as
`Authorization: Bearer fct_...` (the **Authorize** button of this page sends it for you).

- `factcheck up --demo` prints a token of an admin user when it starts; `factcheck up` and
  `factcheck api` accept the bootstrap admin token set in `FACTCHECK_ADMIN_TOKEN`.
- `factcheck users create NAME --role ROLE` (on the server) creates a user and prints its
  token, once; an admin can do the same with `POST /api/v1/users`.

Tokens are shown once and stored hashed: a lost token is replaced
(`factcheck users rotate NAME`), never recovered.

## Roles

Each operation's description ends with the roles that may call it; a role lacking the
permission gets 403. A `newsroom` token sees only its own organisation's articles, and of
the desk's work only what is published: anything else is 404, as if it did not exist.

| permission | roles |
|---|---|
{rows}
"""


API_DESCRIPTION = _api_description()
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


def create_app(settings: Settings | None = None) -> Flask:
    settings = settings or Settings.from_env()
    logging.basicConfig(level=settings.log_level)
    # DEBUG: each API process creates the app, so at INFO `factcheck up` printed it twice.
    log.debug("factcheck API settings: %s", settings.redacted())
    app = Flask("factcheck")
    app.json = OrjsonProvider(app)
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_request_bytes,
        API_TITLE="Fact-check annotation service",
        API_VERSION=package_version("factcheck"),
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX=API_PREFIX,
        OPENAPI_JSON_PATH="openapi.json",
        OPENAPI_SWAGGER_UI_PATH="docs",
        # Served from the installed swagger-ui-bundle: the docs work offline and the page
        # loads nothing from a third party.
        OPENAPI_SWAGGER_UI_URL=DOCS_ASSETS_PATH + "/",
    )
    engine = make_engine(
        settings.database_url,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=settings.db_pool_timeout_seconds,
        statement_timeout_ms=settings.db_statement_timeout_ms,
    )
    celery = make_celery(settings)
    sessions = make_session_factory(engine)
    sessions.configure(info={PUBLISHER_KEY: partial(send, celery)})
    extractor = Extractor(
        threshold=settings.checkworthy_threshold, max_candidates=settings.max_article_claims
    )
    services = Services(settings, engine, sessions, celery, extractor)
    if settings.database_replica_url:
        services.replica_engine = make_engine(
            settings.database_replica_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            pool_timeout=settings.db_pool_timeout_seconds,
            statement_timeout_ms=settings.db_statement_timeout_ms,
            read_only=True,
        )
        services.replica_sessions = make_session_factory(services.replica_engine)
    app.extensions["factcheck"] = services

    if settings.trusted_proxies:
        # The client address (rate limits) is the one the trusted proxies saw, and only
        # theirs: a client's own X-Forwarded-For entries are not believed.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=settings.trusted_proxies
        )
    install_metrics(app)
    # Before the body guards, so that refused requests count too.
    limiter = install_rate_limits(app, settings)
    if settings.submit_quota:
        services.submit_quota = SubmissionQuota(limiter.storage, settings.submit_quota)
    _install_docs_assets(app)
    _install_request_guards(app)
    _install_transactions(app)

    api = ProblemApi(
        app,
        spec_kwargs={
            "info": {"description": API_DESCRIPTION},
        },
    )
    api.spec.components.security_scheme(
        "bearerAuth", {"type": "http", "scheme": "bearer", "description": "API token"}
    )
    api.spec.options["security"] = [{"bearerAuth": []}]

    api.register_blueprint(health_blp)
    api.register_blueprint(articles_blp, url_prefix=API_PREFIX + "/articles")
    api.register_blueprint(score_blp, url_prefix=API_PREFIX + "/score")
    api.register_blueprint(claims_blp, url_prefix=API_PREFIX + "/claims")
    api.register_blueprint(claim_matches_blp, url_prefix=API_PREFIX + "/claims")
    api.register_blueprint(factchecks_blp, url_prefix=API_PREFIX + "/factchecks")
    api.register_blueprint(matches_blp, url_prefix=API_PREFIX + "/matches")
    # Documented by hand (the import reads its body itself): its schema is named here.
    api.spec.components.schema("FactCheckImportIn", schema=FactCheckImportInSchema)
    api.register_blueprint(verdicts_blp, url_prefix=API_PREFIX + "/verdicts")
    api.register_blueprint(ratings_blp, url_prefix=API_PREFIX + "/ratings")
    api.register_blueprint(stats_blp, url_prefix=API_PREFIX + "/stats")
    api.register_blueprint(users_blp, url_prefix=API_PREFIX + "/users")
    api.register_blueprint(webhooks_blp, url_prefix=API_PREFIX + "/webhooks")
    api.register_blueprint(reviews_blp, url_prefix=API_PREFIX)
    api.register_blueprint(annotations_blp, url_prefix=API_PREFIX)
    api.register_blueprint(exports_blp, url_prefix=API_PREFIX + "/exports")
    # marshmallow cannot say "exactly one of"; the contract must, or clients guess.
    api.spec.components.schemas["ScoreIn"]["oneOf"] = [
        {"required": ["text"]},
        {"required": ["sentences"]},
    ]
    for name, example in examples.RESPONSES.items():
        api.spec.components.schemas[name]["example"] = example
    api.spec.components.schemas["ClaimPatch"]["minProperties"] = 1
    api.spec.components.schemas["VerdictPatch"]["minProperties"] = 1
    register_error_handlers(app)
    install_desk(app)
    return app


def _install_docs_assets(app: Flask) -> None:
    """Swagger UI's scripts and styles for /api/v1/docs, public like the page itself."""

    @app.get(DOCS_ASSETS_PATH + "/<path:filename>", endpoint="docs_assets")
    def _docs_asset(filename: str) -> Response:
        # send_from_directory refuses paths that leave the folder (404).
        return send_from_directory(
            swagger_ui_bundle.swagger_ui_path, filename, max_age=DOCS_ASSETS_MAX_AGE
        )


def _install_request_guards(app: Flask) -> None:
    """Refuse oversized or non-JSON bodies before any view or authentication runs."""
    limit = app.config["MAX_CONTENT_LENGTH"]

    @app.before_request
    def _guard_body() -> Response | None:
        if request.method not in BODY_METHODS or not request.path.startswith(API_PREFIX):
            return None
        length = request.content_length
        if length is not None and length > limit:
            return problem(413, body_over_limit(limit))
        has_body = bool(length) or "chunked" in request.headers.get("Transfer-Encoding", "")
        mimetype = request.mimetype
        if has_body and not (mimetype == "application/json" or mimetype.endswith("+json")):
            return problem(
                415,
                f"Send JSON with Content-Type: application/json (got {mimetype or 'none'}).",
            )
        return None


def _install_transactions(app: Flask) -> None:
    """One transaction per request: commit before the response leaves, else roll back."""

    @app.after_request
    def _commit(response: Response) -> Response:
        session: Session | None = g.pop("db", None)
        if session is None:
            return response
        try:
            if response.status_code < 400:
                commit(session)
            else:
                discard(session)
        except Exception:
            log.exception("commit failed")
            discard(session)
            return problem(503, "The change could not be saved; retry shortly.")
        finally:
            session.close()
        return response

    @app.teardown_request
    def _close(_exc: BaseException | None) -> None:
        for name in ("db", "read_db"):  # a replica session only ever reads: roll it back
            session: Session | None = g.pop(name, None)
            if session is not None:
                discard(session)
                session.close()
