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
