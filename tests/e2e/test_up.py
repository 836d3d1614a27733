"""`factcheck up --demo`, the `make run` path, on embedded Postgres and Redis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import ADMIN_TOKEN
from tests.factories import FACTCHECK, article_payload, free_port, wait_until
from tests.webhook_receiver import DripReceiver

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def get_json(url: str) -> object:
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
    request = urllib.request.Request(url, headers=headers)  # noqa: S310 (local test URL)
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.load(response)


def post_json(url: str, payload: object) -> dict:
    request = urllib.request.Request(  # noqa: S310 (local test URL)
        url,
        data=json.dumps(payload).encode(),
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return json.load(response)


def descendants(pid: int) -> set[int]:
    """Every live process below `pid`, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def run_up(home: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "CELERY_BROKER_URL", "FACTCHECK_ADMIN_TOKEN")
    }
    env["FACTCHECK_ADMIN_TOKEN"] = ADMIN_TOKEN
    with log.open("ab") as output:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            [str(FACTCHECK), "up", "--demo", "--port", str(port), "--home", str(home)],
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )


def stop(process: subprocess.Popen[bytes]) -> None:
    tree = descendants(process.pid)
    assert tree, "factcheck up should have child processes"
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=60) == 0
    wait_until(lambda: not any(alive(pid) for pid in tree), 30, "every child to exit")


def test_up_demo_serves_processes_and_survives_a_restart(tmp_path):
    home, port = tmp_path / "home", free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "up.log"
    process = run_up(home, port, log)
    try:

        def demo_processed() -> list[dict] | None:
            try:
                page = get_json(f"{base}/api/v1/articles?source=factcheck-demo")
            except OSError:
                return None
            items = page["items"]  # type: ignore[index]
            done = len(items) == len(list(EXAMPLES.glob("*.txt")))
            return items if done and all(a["status"] == "processed" for a in items) else None

        articles = wait_until(demo_processed, 120, "the demo articles to be processed")
        for article in articles:
            detail = get_json(f"{base}/api/v1/articles/{article['id']}")
            claims = get_json(f"{base}/api/v1/articles/{article['id']}/claims")["items"]
            assert claims
            for claim in claims:
                assert detail["body"][claim["start"] : claim["end"]] == claim["text"]
        submitted = subprocess.run(
            [str(FACTCHECK), "submit", str(EXAMPLES / "school-meals-study.txt"),
             "--server", base, "--token", ADMIN_TOKEN, "--source", "cli-test"],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert submitted.returncode == 0, submitted.stderr
        new_id = json.loads(submitted.stdout.splitlines()[-1])["id"]
        assert get_json(f"{base}/api/v1/articles/{new_id}")["source"] == "cli-test"
        with urllib.request.urlopen(f"{base}/desk/login", timeout=10) as page:  # noqa: S310
            assert page.headers.get_content_type() == "text/html"
            assert "HttpOnly" in page.headers["Set-Cookie"]
            assert b"Sign in to the desk" in page.read()
        output = log.read_text()
        assert f"{base}/api/v1/docs" in output
        assert f"{base}/desk/" in output
        assert "demo-factchecks.jsonld: 8 created, 0 updated, 0 unchanged" in output
        assert ADMIN_TOKEN not in output, "the token must not be echoed to the log"
    finally:
        stop(process)

    process = run_up(home, port, log)
    try:
        ids = wait_until(lambda: demo_processed(), 120, "the restarted service")
        assert sorted(a["id"] for a in ids) == sorted(a["id"] for a in articles)
        unchanged = "demo-factchecks.jsonld: 0 created, 0 updated, 8 unchanged"
        wait_until(lambda: unchanged in log.read_text(), 60, "the demo fact-checks, unchanged")
    finally:
        stop(process)


def test_up_restarts_a_killed_worker_and_keeps_serving(tmp_path, settings):
    home, port = tmp_path / "home", free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "up.log"
    env = dict(
        os.environ,
        DATABASE_URL=settings.database_url,
        CELERY_BROKER_URL=settings.broker_url,
        FACTCHECK_ADMIN_TOKEN=ADMIN_TOKEN,
    )
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(FACTCHECK), "up", "--port", str(port), "--home", str(home)],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    pid_file = home / "run" / "worker.pid"
    try:
        wait_until(lambda: b"Press Ctrl-C" in log.read_bytes(), 90, "factcheck up to start")
        killed = int(pid_file.read_text())
        for pid in (killed, *descendants(killed)):  # the worker and its pool, as the OOM killer
            os.kill(pid, signal.SIGKILL)

        def restarted() -> int | None:
            pid = int(pid_file.read_text()) if pid_file.exists() else killed
            return pid if pid != killed and alive(pid) else None

        wait_until(restarted, 30, "the worker to be restarted")
        assert process.poll() is None, "factcheck up keeps running"
        body = json.dumps({"body": "Rents rose 9% in 2025, the housing office said."}).encode()
        request = urllib.request.Request(  # noqa: S310 (local test URL)
            f"{base}/api/v1/articles",
            data=body,
            headers={"Authorization": f"Bearer {ADMIN_TOKEN}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            article_id = json.load(response)["id"]
        wait_until(
            lambda: get_json(f"{base}/api/v1/articles/{article_id}")["status"] == "processed",
            60,
            "the restarted worker to process a new article",
        )
        assert "the worker process exited (code -9); restarting it" in log.read_text()
    finally:
        stop(process)


def test_up_delivers_webhooks_apart_from_extraction(tmp_path, settings):
    """Slow receivers holding every webhook process leave extraction free: an unrelated
    article is processed while both deliveries are still being dripped to."""
    home, port = tmp_path / "home", free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "up.log"
    drip = DripReceiver(interval=1.0)  # one header line a second, never the end
    env = dict(
        os.environ,
        DATABASE_URL=settings.database_url,
        CELERY_BROKER_URL=settings.broker_url,
        FACTCHECK_ADMIN_TOKEN=ADMIN_TOKEN,
        FACTCHECK_WEBHOOK_ALLOW_PRIVATE="1",
        # Longer than this test waits: the receivers hold their attempts throughout.
        FACTCHECK_WEBHOOK_TIMEOUT="60",
    )
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(FACTCHECK), "up", "--port", str(port), "--home", str(home)],
            env=env, stdout=output, stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        wait_until(lambda: b"Press Ctrl-C" in log.read_bytes(), 90, "factcheck up to start")
        for _ in range(2):  # as many as `up` has webhook processes
            post_json(f"{base}/api/v1/webhooks", {"url": drip.url, "events": ["article.processed"]})
        post_json(f"{base}/api/v1/articles", article_payload())
        wait_until(lambda: drip.held == 2, 60, "both deliveries to be held by the slow receiver")

        unrelated = post_json(f"{base}/api/v1/articles", article_payload())
        wait_until(
            lambda: get_json(f"{base}/api/v1/articles/{unrelated['id']}")["status"] == "processed",
            30,
            "the unrelated article to be processed while the receiver holds its deliveries",
        )
        assert drip.held == 2, "both attempts were still in flight"
    finally:
        drip.stop()
        stop(process)


def test_up_demo_shows_its_token_last_stays_quiet_and_stops_at_the_first_ctrl_c(tmp_path, settings):
    """The first hour: the banner after every start-up banner, the token in a file of the
    user's only, no line per relay run, and a terminal's Ctrl-C (to the whole foreground
    process group) stopping every process once, cleanly."""
    home, port = tmp_path / "home", free_port()
    log = tmp_path / "up.log"
    env = {k: v for k, v in os.environ.items() if k != "FACTCHECK_ADMIN_TOKEN"}
    env.update(
        DATABASE_URL=settings.database_url,
        CELERY_BROKER_URL=settings.broker_url,
        FACTCHECK_OUTBOX_RELAY_INTERVAL="1",
    )
    with log.open("ab") as output:
        process = subprocess.Popen(
            [str(FACTCHECK), "up", "--demo", "--port", str(port), "--home", str(home)],
            env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        wait_until(lambda: b"Press Ctrl-C" in log.read_bytes(), 120, "factcheck up to start")
        shown = log.read_text()
        banner = shown.index("Press Ctrl-C")
        for ready in ("extraction@", "webhooks@"):
            assert shown.index(ready) < banner, f"{ready} started after the banner"
        assert shown.rindex(" ready.") < banner, "a worker's start-up came after the banner"
        token_file = home / "demo-token"
        token = token_file.read_text().strip()
        assert f"export TOKEN={token}" in shown
        assert str(token_file) in shown
        assert token_file.stat().st_mode & 0o777 == 0o600
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/v1/articles",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            assert response.status == 200

        heartbeat = home / "beat-schedule.heartbeat"
        after_banner = time.time()
        wait_until(
            lambda: heartbeat.exists() and heartbeat.stat().st_mtime > after_banner + 2,
            30,
            "beat to send the relay a few times after the banner",
        )
        quiet = log.read_text()
        assert "Sending due task" not in quiet
        assert "factcheck.relay_outbox[" not in quiet, "a line per relay run"
        assert "API settings" not in quiet
        tree = descendants(process.pid)
        assert tree
    finally:
        os.killpg(process.pid, signal.SIGINT)  # what a terminal's Ctrl-C does
    assert process.wait(timeout=60) == 0
    wait_until(lambda: not any(alive(pid) for pid in tree), 30, "every child to exit")
    stopped = log.read_text()
    assert stopped.rstrip().endswith("stopped")
    assert "SIGKILL" not in stopped
    assert "cold shutdown" not in stopped, "a worker was told to stop twice"
