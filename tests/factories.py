"""Test data factories and process helpers shared by the test modules."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import text

from service.config import Settings
from service.domain.articles import Submitter
from service.domain.organizations import desk_organization_id

REPO = Path(__file__).resolve().parent.parent
# The console script of the virtualenv running the tests.
FACTCHECK = Path(sys.executable).parent / "factcheck"


# The body of the `article` fixture (tests/conftest.py): two check-worthy sentences and a
# sign-off the engine scores below the threshold.
BODY = (
    "Unemployment fell to 4.1% in May, the lowest since 2001. "
    "The mayor said crime rose 12% last year. Thank you for reading."
)


# The bootstrap admin token the tests' settings carry.
ADMIN_TOKEN = "fct_test_admin_" + "x" * 24


def processed(client: Any, sessions: Any, body: str) -> int:
    """An article submitted over the API whose claims the real engine found (stored as a
    worker stores them); its id."""
    from service.db import session_scope
    from service.domain.extraction import store_claims
    from workers.extraction.engine import extract

    created = client.post(
        "/api/v1/articles",
        json=article_payload(body=body),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    ).get_json()
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, extract(body))
    return int(created["id"])


def article_payload(**overrides: Any) -> dict[str, Any]:
    """A valid submission; tests override what they are about."""
    payload: dict[str, Any] = {
        "title": "Council approves budget",
        "body": "The council approved a budget of $4 million. It rose 5% on last year.",
        "url": "https://news.example.org/budget",
        "source": "example-news",
        "external_id": uuid.uuid4().hex,
        "language": "en",
        "authors": ["A. Reporter"],
    }
    payload.update(overrides)
    return payload


def queue(client: Any, headers: dict[str, str], **query: Any) -> list[dict[str, Any]]:
    """One page of the review queue, as `headers` sees it."""
    response = client.get("/api/v1/claims", query_string=query, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return list(response.get_json()["items"])


def insert_claim(engine: Any, article_id: int, start: int, claim_text: str, **values: Any) -> int:
    """A claim row written directly (revision 1): for tests about reading claims, not making
    them."""
    row = {
        "score": 0.9,
        "checkworthy": True,
        "status": "new",
        "types": '["quantity"]',
        "speaker": None,
        "kind": "sentence",
        **values,
    }
    with engine.begin() as connection:
        return int(
            connection.scalar(
                text(
                    'INSERT INTO claims (article_id, revision, start, "end", text, '
                    "checkworthiness, checkworthy, status, types, speaker, kind) VALUES (:a, 1, "
                    ":s, :e, :t, :score, :checkworthy, :status, CAST(:types AS jsonb), :speaker, "
                    ":kind) RETURNING id"
                ),
                {"a": article_id, "s": start, "e": start + len(claim_text), "t": claim_text, **row},
            )
        )


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def desk_submitter(session: Any) -> Submitter:
    """A submitter as the bootstrap admin is one: no user row, the desk's organisation."""
    return Submitter(None, "test", desk_organization_id(session))


def wait_until(predicate: Callable[[], Any], timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class WorkerProcess:
    """A real `celery worker` (with beat embedded) in its own process group."""

    def __init__(self, settings: Settings, workdir: Path, **env_overrides: str) -> None:
        self.log_path = workdir / f"worker-{uuid.uuid4().hex[:6]}.log"
        env = dict(os.environ)
        env.update(
            DATABASE_URL=settings.database_url,
            CELERY_BROKER_URL=settings.broker_url,
            FACTCHECK_OUTBOX_REDELIVER_SECONDS=str(settings.outbox_redeliver_seconds),
            FACTCHECK_OUTBOX_RELAY_INTERVAL=str(settings.outbox_relay_interval_seconds),
            FACTCHECK_BROKER_VISIBILITY_TIMEOUT="30",
        )
        env.update(env_overrides)
        command = [
            sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
            "--beat", "--schedule", str(workdir / f"beat-{uuid.uuid4().hex[:6]}"),
            "--queues", "extraction,webhooks,maintenance", "--concurrency", "2",
            "--loglevel", "INFO", "--without-gossip", "--without-mingle",
        ]  # fmt: skip
        self.log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            command, env=env, stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True
        )
        wait_until(self._ready, 60, "the worker to start")

    def _ready(self) -> bool:
        if self.process.poll() is not None:
            self.log.close()  # or the next test fails on the unclosed file, not this one
            raise AssertionError(f"worker exited:\n{self.log_path.read_text()[-3000:]}")
        return b" ready." in self.log_path.read_bytes()

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children alike."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.log.close()

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self.log.close()


def mark_reviewed(client: Any, headers: dict[str, str], claim_id: int) -> None:
    """Move a claim with a verdict along the lifecycle to `reviewed`, as `headers` (an editor
    or admin, or the reviewer holding it): a claim is published only from there."""
    url = f"/api/v1/claims/{claim_id}"
    claim = client.get(url, headers=headers)
    for status in ("in_review", "reviewed"):
        if claim.get_json()["status"] in (status, "reviewed"):
            continue
        claim = client.patch(
            url, json={"status": status}, headers={**headers, "If-Match": claim.headers["ETag"]}
        )
        assert claim.status_code == 200, claim.get_data(as_text=True)


def publish_verdict(client: Any, headers: dict[str, str], verdict_id: int, **extra: Any) -> Any:
    """Publish a verdict as an editor would: its claim marked reviewed first. Returns the
    publish response; `extra` headers (If-Match) go with the publish request only."""
    verdict = client.get(f"/api/v1/verdicts/{verdict_id}", headers=headers)
    assert verdict.status_code == 200, verdict.get_data(as_text=True)
    mark_reviewed(client, headers, verdict.get_json()["claim_id"])
    return client.post(f"/api/v1/verdicts/{verdict_id}/publish", headers={**headers, **extra})


class ApiProcess:
    """`factcheck api` (the server it runs in production) on a free port, in its own process
    group, against the test database and broker; its output goes to `log_path`."""

    def __init__(
        self, settings: Settings, workdir: Path, workers: int = 1, **env_overrides: str
    ) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = workdir / f"api-{uuid.uuid4().hex[:6]}.log"
        env = dict(os.environ)
        env.pop("PROMETHEUS_MULTIPROC_DIR", None)
        env.update(
            DATABASE_URL=settings.database_url,
            CELERY_BROKER_URL=settings.broker_url,
            FACTCHECK_ADMIN_TOKEN=settings.admin_token or "",
            PYTHONUNBUFFERED="1",
        )
        env.update(env_overrides)
        command = [
            str(Path(sys.executable).parent / "factcheck"), "api",
            "--host", "127.0.0.1", "--port", str(self.port), "--workers", str(workers),
        ]  # fmt: skip
        with self.log_path.open("wb") as log:  # the child keeps its own descriptor
            self.process = subprocess.Popen(
                command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        try:
            wait_until(self._healthy, 60, "the API to answer")
        except BaseException:
            self.stop()
            raise

    def _healthy(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the API exited:\n{self.log_path.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(self.url + "/healthz", timeout=2) as response:  # noqa: S310
                return bool(response.status == 200)
        except OSError:
            return False

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


# One factory per model, each making its row through the domain, as the service would:
# the rows are what the service itself writes, defaults, audit events and all. Each takes
# the caller's session and leaves committing to it. (ClaimSimilarityKey rows are the
# database's: a trigger writes them from a claim's similarity keys.)

TEST_ACTOR = "test"
TEST_BODY = (
    "The council approved a budget of $4 million for the new harbour. "
    "Unemployment fell to 4.1% last year, the lowest rate in a decade. "
    "Critics said the plan was rushed."
)


def make_organization(session: Any, name: str | None = None) -> Any:
    """An Organization (a newsroom's, say)."""
    from service.domain.organizations import find_or_create_organization

    name = name or f"org-{uuid.uuid4().hex[:8]}"
    return find_or_create_organization(session, name, actor=TEST_ACTOR).organization


def make_user(session: Any, role: str = "reviewer", organization: str | None = None) -> Any:
    """A User of `role` (of the desk, or of the organisation named), with a first token."""
    from service.domain.users import create_user, get_user

    name = f"{role}-{uuid.uuid4().hex[:8]}"
    issued = create_user(session, name, role, actor=TEST_ACTOR, organization=organization)
    return get_user(session, issued.user_id)


def make_token(session: Any, user: Any) -> str:
    """One more ApiToken of `user`; returns the bearer token (stored only hashed)."""
    from service.domain.users import issue_token

    return issue_token(session, user)


def actor_of(user: Any) -> Any:
    """The domain's Actor for a stored user."""
    from service.domain import Actor

    return Actor(user.id, user.name, user.role)


def make_article(session: Any, **overrides: Any) -> Any:
    """An Article at revision 1 (queued, its extraction promised), with its ArticleRevision."""
    from service.domain.articles import get_article, submit_article

    data = article_payload(**{"body": TEST_BODY, **overrides})
    result = submit_article(session, data, desk_submitter(session))
    return get_article(session, result.article["id"])


def make_article_revision(session: Any, article: Any, body: str) -> Any:
    """The ArticleRevision a new body makes (the article is queued again)."""
    from sqlalchemy import select

    from service.domain.revisions import revise_article
    from service.models import ArticleRevision

    revise_article(session, article.id, {"body": body}, desk_submitter(session))
    return session.scalars(
        select(ArticleRevision).where(
            ArticleRevision.article_id == article.id,
            ArticleRevision.revision == article.revision,
        )
    ).one()


def make_claims(session: Any, article: Any) -> list[Any]:
    """The engine's Claims of the article's current revision, stored as a worker stores them
    (the article is then processed); in body order."""
    from sqlalchemy import select

    from service.domain.extraction import start_extraction, store_claims
    from service.models import Claim
    from workers.extraction.engine import extract

    started = start_extraction(session, article.id, article.revision)
    assert started is not None, "the revision is not waiting for extraction"
    store_claims(session, article.id, article.revision, extract(started[0]))
    return list(
        session.scalars(
            select(Claim)
            .where(Claim.article_id == article.id, Claim.revision == article.revision)
            .order_by(Claim.start)
        )
    )


def make_claim(session: Any, article: Any | None = None) -> Any:
    """A check-worthy Claim of a processed article (a new one unless given)."""
    claims = make_claims(session, article or make_article(session))
    return next(claim for claim in claims if claim.checkworthy)


def evidence_item(**overrides: Any) -> dict[str, Any]:
    """One piece of Evidence as a verdict carries it; tests override what they are about."""
    item: dict[str, Any] = {
        "url": "https://stats.example.org/unemployment",
        "title": "Labour market statistics",
        "stance": "refutes",
    }
    item.update(overrides)
    return item


def make_verdict(
    session: Any, claim: Any, author: Any, rating: str = "false", **overrides: Any
) -> Any:
    """A proposed Verdict by `author` (a User) on `claim`, with one Evidence item."""
    from service.domain.verdicts import add_verdict
    from service.ratings import DEFAULT_SCALE

    data: dict[str, Any] = {
        "rating": rating,
        "summary": "The figure is out of date.",
        "evidence": [evidence_item()],
    }
    data.update(overrides)
    return add_verdict(session, claim.id, data, actor_of(author), DEFAULT_SCALE)


def make_outbox_message(session: Any, task: str | None = None, **payload: Any) -> Any:
    """An OutboxMessage promising `task` (by default an extraction that finds nothing)."""
    from service.domain.outbox import enqueue
    from service.vocabulary import EXTRACT_TASK

    return enqueue(session, task or EXTRACT_TASK, payload or {"article_id": 0, "revision": 1})


def make_audit_event(session: Any, action: str = "test.recorded", **after: Any) -> Any:
    """An AuditEvent, as every audited change records one."""
    from sqlalchemy import func, select

    from service.domain.audit import record
    from service.models import AuditEvent

    record(session, TEST_ACTOR, action, "test", None, after=after or None)
    session.flush()
    return session.get(AuditEvent, session.scalar(select(func.max(AuditEvent.id))))


def make_subscription(
    session: Any, events: tuple[str, ...] = ("verdict.published",), url: str | None = None
) -> Any:
    """A WebhookSubscription (to a local receiver by default, so private addresses are
    allowed); `.secret` of the returned value is shown once, as the API shows it."""
    from service.domain.webhooks import create_subscription

    data = {"url": url or "http://127.0.0.1:9/hook", "events": list(events)}
    return create_subscription(session, data, actor=TEST_ACTOR, allow_private=True)


def make_delivery(session: Any, subscription: Any, event: str | None = None) -> Any:
    """A pending WebhookDelivery of `event` (the subscription's first) to `subscription`."""
    from service.domain.webhooks import emit
    from service.models import WebhookDelivery

    event = event or subscription.events[0]
    (delivery_id,) = [
        found
        for found in emit(session, event, {"test": True})
        if session.get(WebhookDelivery, found).webhook_id == subscription.id
    ]
    return session.get(WebhookDelivery, delivery_id)


def make_published_verdict(session: Any, claim: Any, editor: Any, **overrides: Any) -> Any:
    """A published Verdict on `claim` by `editor` (a User): the claim taken, rated,
    marked reviewed and the verdict published, as the desk does it."""
    from service.domain.claims.lifecycle import take_claim, update_claim
    from service.domain.verdicts import publish_verdict
    from workers.extraction.engine import default_engine

    take_claim(session, claim.id, actor_of(editor))
    verdict = make_verdict(session, claim, editor, **overrides)
    update_claim(
        session, claim.id, claim.version, {"status": "reviewed"}, actor_of(editor),
        extractor=default_engine(),
    )  # fmt: skip
    return publish_verdict(session, verdict.id, actor_of(editor))
