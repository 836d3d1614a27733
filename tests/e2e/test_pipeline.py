"""Through a real worker and a real broker: submission to stored, anchored claims."""

from __future__ import annotations

import base64
import contextlib
import json
import re
import time
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
import redis
from flask.testing import FlaskClient
from kombu import Connection
from sqlalchemy import text

from service.app import create_app
from service.domain.articles import EXTRACT_TASK
from tests.factories import WorkerProcess, article_payload, wait_until
from tests.shared_data import shared_articles
from workers.extraction.engine import extract

pytestmark = pytest.mark.e2e

URL = "/api/v1/articles"


def status_of(engine: Any, article_id: int) -> str:
    with engine.connect() as connection:
        return connection.scalar(
            text("SELECT status FROM articles WHERE id = :id"), {"id": article_id}
        )


def all_claims(client: FlaskClient, headers: dict[str, str], article_id: int) -> list[dict]:
    claims: list[dict] = []
    cursor = None
    while True:
        query = {"limit": 200} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"{URL}/{article_id}/claims", query_string=query, headers=headers)
        assert page.status_code == 200
        claims += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            return claims


def spans(engine: Any, article_id: int) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text('SELECT start, "end" FROM claims WHERE article_id = :id ORDER BY start'),
            {"id": article_id},
        )
        return [tuple(row) for row in rows]


@pytest.fixture
def broker(settings: Any) -> Iterator[Any]:
    """A Redis client on the test broker: the one kombu itself reads it with, whatever form
    the URL takes (a socket path for the embedded Redis)."""
    with Connection(settings.broker_url) as connection:
        yield connection.default_channel.client


def test_seed_articles_are_processed_and_every_claim_anchors(
    client, admin_headers, start_worker, engine
):
    start_worker()
    submitted = {}
    for path in shared_articles():
        body = path.read_text(encoding="utf-8")
        response = client.post(
            URL, json=article_payload(body=body, external_id=path.name), headers=admin_headers
        )
        assert response.status_code == 202
        submitted[response.get_json()["id"]] = body

    wait_until(
        lambda: all(status_of(engine, i) == "processed" for i in submitted), 60, "processing"
    )
    for article_id, original in submitted.items():
        article = client.get(f"{URL}/{article_id}", headers=admin_headers).get_json()
        assert article["body"] == original
        assert article["processed_at"] is not None
        claims = all_claims(client, admin_headers, article_id)
        assert article["claim_counts"]["total"] == len(claims) > 5
        body = article["body"]
        for claim in claims:
            assert body[claim["start"] : claim["end"]] == claim["text"]
            assert body[: claim["start"]].endswith(claim["prefix"])
            assert body[claim["end"] :].startswith(claim["suffix"])
            for item in claim["quantities"] + claim["dates"] + claim["entities"]:
                assert body[item["start"] : item["end"]] == item["text"]
        # The worker stores every field the engine computes, exactly as the engine gives it.
        expected = extract(original)
        assert [(c["start"], c["end"]) for c in claims] == [
            (c["start"], c["end"]) for c in expected
        ]
        for stored, computed in zip(claims, expected, strict=True):
            for field in ("kind", "checkworthiness", "checkworthy", "scored", "types", "speaker",
                          "quantities", "dates", "entities", "language"):  # fmt: skip
                assert stored[field] == computed[field], field
        assert article["claim_counts"]["checkworthy"] == sum(c["checkworthy"] for c in claims)
        assert any(c["speaker"] for c in claims)


def test_an_article_as_long_as_the_limit_is_processed(
    client, admin_headers, start_worker, engine, settings
):
    start_worker()
    sentence = "Exports rose 7% to $3bn in March, the ministry said on Tuesday. "
    repeats = settings.max_article_chars // len(sentence)
    body = sentence * repeats
    article = client.post(URL, json=article_payload(body=body), headers=admin_headers).get_json()
    # The wait only bounds a hang (just under the suite's 300 s per test): it took 95-132 s on
    # this machine at load average 20, and a few seconds quiet.
    wait_until(lambda: status_of(engine, article["id"]) == "processed", 280, "processing")
    # Two claims per sentence, the sentence and what the ministry said (checked on a short
    # run of it): extracting it all here again would only double the test's time.
    assert [c["kind"] for c in extract(sentence * 2)] == ["sentence", "reported"] * 2
    assert len(spans(engine, article["id"])) == 2 * repeats


def test_a_revision_out_of_time_while_its_claims_are_stored_fails_with_the_reason(
    client, admin_headers, start_worker, engine
):
    """The soft time limit caught anywhere in the task, not only around the engine."""
    start_worker(
        FACTCHECK_TASK_SOFT_TIME_LIMIT="5",
        FACTCHECK_TASK_TIME_LIMIT="60",
        FACTCHECK_WEBHOOK_TIMEOUT="2",  # at most half the soft limit
    )
    with engine.connect() as locker:
        # Storing the claims waits on this lock until the time is up (extraction does not
        # touch the table), as a slow store of a huge article did.
        locker.execute(text("LOCK TABLE claims IN SHARE MODE"))
        article = client.post(URL, json=article_payload(), headers=admin_headers).get_json()
        wait_until(lambda: status_of(engine, article["id"]) == "processing", 60, "the start")
        time.sleep(6.5)
        locker.commit()
    wait_until(lambda: status_of(engine, article["id"]) != "processing", 90, "the outcome")
    got = client.get(f"{URL}/{article['id']}", headers=admin_headers).get_json()
    assert got["status"] == "failed"
    assert got["failure_reason"] == (
        "processing took longer than 5 s (FACTCHECK_TASK_SOFT_TIME_LIMIT)"
    )
    time.sleep(3)  # the relay runs every second: nothing may be sent again
    with engine.connect() as connection:
        pending = connection.scalar(text("SELECT count(*) FROM outbox WHERE completed_at IS NULL"))
        failures = connection.scalar(
            text("SELECT count(*) FROM audit_log WHERE action = 'article.failed'")
        )
    assert (pending, failures) == (0, 1)
    assert spans(engine, article["id"]) == []
    assert status_of(engine, article["id"]) == "failed"


@contextlib.contextmanager
def storing_claims_held(engine: Any) -> Iterator[None]:
    """Storing claims waits while this lasts (extraction itself does not touch the table):
    a task is held mid-way for as long as the test needs, however fast the machine."""
    with engine.connect() as locker:
        locker.execute(text("LOCK TABLE claims IN SHARE MODE"))
        yield
        locker.commit()


def waiting_on_a_lock(engine: Any) -> list[int]:
    """The server processes of this database waiting on a lock (a task storing claims)."""
    with engine.connect() as connection:
        return list(
            connection.scalars(
                text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock'"
                )
            )
        )


def kill_held_worker(engine: Any, worker: WorkerProcess) -> None:
    """SIGKILL the worker while its task waits in `storing_claims_held`, and end the dead
    worker's database sessions, as Postgres does when it next writes to them."""
    blocked = wait_until(lambda: waiting_on_a_lock(engine), 60, "the task to store its claims")
    worker.kill()
    with engine.connect() as connection:
        for pid in blocked:
            connection.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})


def unacknowledged(broker: redis.Redis, article_id: int) -> dict[str, float]:
    """The extraction messages of the article the broker holds as handed out and not yet
    acknowledged: task id -> when handed out (kombu's Redis transport keeps them in the
    `unacked` hash, scored by time in `unacked_index`)."""
    held = {}
    for tag, raw in broker.hgetall("unacked").items():
        message = json.loads(raw)[0]
        kwargs = json.loads(base64.b64decode(message["body"]))[1]
        if message["headers"]["task"] == EXTRACT_TASK and kwargs["article_id"] == article_id:
            score = broker.zscore("unacked_index", tag)
            assert score is not None
            held[message["headers"]["id"]] = score
    return held


OUTCOME = re.compile(rb"Task factcheck\.extract_claims\[([^\]]+)\] succeeded in \S+: '(\w+)'")


RECEIVED = re.compile(rb"Task factcheck\.extract_claims\[([^\]]+)\] received")


def received(worker: WorkerProcess) -> list[str]:
    """The ids of the extraction tasks the worker was handed, from its log."""
    return [task.decode() for task in RECEIVED.findall(worker.log_path.read_bytes())]


def outcomes(worker: WorkerProcess) -> dict[str, str]:
    """Task id -> what each extraction the worker ran returned, from its log."""
    return {
        task.decode(): outcome.decode()
        for task, outcome in OUTCOME.findall(worker.log_path.read_bytes())
    }


def test_a_killed_workers_task_is_handed_back_by_the_broker_and_changes_nothing(
    client, broker, admin_headers, start_worker, engine
):
    """The task of a worker killed mid-way stays unacknowledged in the broker, which hands
    that very message back to the next worker; the worker restarted under the same name
    also re-sends the work at once. Two deliveries: one processes, the other skips."""
    visibility = 5
    returns = {
        "FACTCHECK_BROKER_VISIBILITY_TIMEOUT": str(visibility),
        # The relay sends no copy of its own meanwhile: the only messages are the broker's.
        "FACTCHECK_OUTBOX_REDELIVER_SECONDS": "600",
    }
    worker = start_worker(**returns)
    with storing_claims_held(engine):
        article = client.post(URL, json=article_payload(), headers=admin_headers).get_json()
        kill_held_worker(engine, worker)
    assert status_of(engine, article["id"]) == "processing"
    # The task the killed worker was running is still the broker's, unacknowledged.
    [(held_task, handed_out)] = unacknowledged(broker, article["id"]).items()
    assert received(worker) == [held_task]
    assert outcomes(worker) == {}

    # The broker hands a message back once it is older than the visibility timeout; a worker
    # looks when it starts.
    wait_until(lambda: time.time() > handed_out + visibility + 1, 30, "the visibility timeout")
    restarted = start_worker(**returns)
    ran = wait_until(lambda: len(outcomes(restarted)) >= 2 and outcomes(restarted), 60, "both")
    assert held_task in ran, "the broker handed its message back"
    assert ran[held_task] in ("processed", "skipped")
    assert sorted(ran.values()) == ["processed", "skipped"]
    # A late-acknowledged task is acknowledged after its outcome is logged: waited for.
    wait_until(
        lambda: unacknowledged(broker, article["id"]) == {}, 30, "both messages acknowledged"
    )
    assert status_of(engine, article["id"]) == "processed"
    expected = [(c["start"], c["end"]) for c in extract(article_payload()["body"])]
    assert spans(engine, article["id"]) == expected

    # Nothing is left undone. The processed article queued the matching of its claims in the
    # same transaction (an outbox row the worker completes a moment later): waited for, as
    # reading at once failed when the worker had not got to it yet.
    def pending() -> int:
        with engine.connect() as connection:
            return int(
                connection.scalar(text("SELECT count(*) FROM outbox WHERE completed_at IS NULL"))
            )

    wait_until(lambda: pending() == 0, 30, "every outbox row completed")


def test_article_accepted_while_broker_is_down_is_processed_when_it_returns(
    settings, isolated_redis, admin_headers, start_worker, engine
):
    down = replace(settings, broker_url=isolated_redis.url)
    client = create_app(down).test_client()
    response = client.post(URL, json=article_payload(), headers=admin_headers)
    assert response.status_code == 202
    readiness = client.get("/readyz")
    assert readiness.status_code == 503
    assert readiness.get_json()["checks"]["broker"] == "unavailable"

    isolated_redis.start()
    start_worker(down)
    article_id = response.get_json()["id"]
    wait_until(lambda: status_of(engine, article_id) == "processed", 60, "processing")
    assert client.get("/readyz").status_code == 200
    assert len(spans(engine, article_id)) == 2


def test_worker_rides_out_a_broker_outage_under_load(
    settings, isolated_redis, admin_headers, start_worker, engine
):
    """Redis dies (no save) while the worker holds unacknowledged tasks, then comes back:
    the worker reconnects by itself and every accepted article is processed, once."""
    isolated_redis.start()
    broker = replace(settings, broker_url=isolated_redis.url)
    client = create_app(broker).test_client()
    worker = start_worker(broker)
    sentence = "Imports fell 3% to $2bn in April, the statistics office said. "
    # A tenth of the longest article allowed (a second or two of encoding each): both pool
    # processes are busy and their tasks unacknowledged when the broker goes.
    body = sentence * (settings.max_article_chars // 10 // len(sentence))
    ids = [
        client.post(URL, json=article_payload(body=body), headers=admin_headers).get_json()["id"]
        for _ in range(6)
    ]

    def alive() -> bool:
        if worker.process.poll() is not None:
            raise AssertionError(f"the worker exited:\n{worker.log_path.read_text()[-3000:]}")
        return True

    wait_until(lambda: alive() and status_of(engine, ids[0]) == "processing", 60, "work")
    # What `redis-cli shutdown nosave` does: the queue and the unacknowledged tasks are lost.
    redis.Redis(unix_socket_path=str(isolated_redis.socket)).shutdown(nosave=True)
    assert isolated_redis.process is not None
    isolated_redis.process.wait(timeout=10)
    wait_until(
        lambda: alive() and b"Connection to broker lost" in worker.log_path.read_bytes(),
        30,
        "the worker to notice the outage",
    )
    isolated_redis.start()

    wait_until(
        lambda: alive() and all(status_of(engine, i) == "processed" for i in ids),
        180,
        "every article to be processed after the outage",
    )
    expected = len(extract(body))
    assert [len(spans(engine, i)) for i in ids] == [expected] * len(ids)


def test_a_killed_worker_restarted_under_its_name_resumes_its_work_at_once(
    client, admin_headers, start_worker, engine
):
    # The broker would hand the unacknowledged task back only after 10 minutes, and the relay
    # leaves started work alone for the task's time limit (150 s): neither is waited for.
    slow_return = {"FACTCHECK_BROKER_VISIBILITY_TIMEOUT": "600"}
    worker = start_worker(**slow_return)
    with storing_claims_held(engine):
        article = client.post(URL, json=article_payload(), headers=admin_headers).get_json()
        kill_held_worker(engine, worker)

    restarted = start_worker(**slow_return)
    wait_until(lambda: status_of(engine, article["id"]) == "processed", 60, "reprocessing")
    # The worker logs the task's outcome after its commit (and after publishing what the
    # commit promised, such as the claims' matching): the log may trail the status.
    wait_until(lambda: outcomes(restarted), 30, "the task's outcome in the worker's log")
    assert b"re-sent 1 message(s)" in restarted.log_path.read_bytes()
    assert list(outcomes(restarted).values()) == ["processed"]
    assert len(spans(engine, article["id"])) == len(extract(article_payload()["body"]))
