"""The containers' health checks against real processes: a worker answers its ping, beat
leaves its heartbeat, and each check fails once its process is gone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from tests.factories import wait_until

pytestmark = pytest.mark.e2e

FACTCHECK = Path(sys.executable).parent / "factcheck"


def service_env(settings, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": settings.database_url,
        "CELERY_BROKER_URL": settings.broker_url,
        **extra,
    }


def healthcheck(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FACTCHECK), "healthcheck", *args],
        env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def test_the_worker_check_passes_while_the_worker_answers_and_fails_once_it_is_gone(
    settings, start_worker
):
    env = service_env(settings)
    worker = start_worker()
    passed = healthcheck(env, "worker", "--timeout", "5")
    assert passed.returncode == 0, passed.stderr
    assert "pong" in passed.stdout

    worker.kill()
    failed = healthcheck(env, "worker", "--timeout", "2")
    assert failed.returncode == 1
    assert "did not answer a ping within 2 s" in failed.stderr
    lost = healthcheck(service_env(replace(settings, broker_url="redis://127.0.0.1:1/0")),
                       "worker", "--timeout", "2")  # fmt: skip
    assert lost.returncode == 1, "no broker, no answer"


def test_the_beat_check_passes_while_beat_sends_its_tasks_and_fails_once_it_stops(
    settings, tmp_path
):
    env = service_env(settings, FACTCHECK_OUTBOX_RELAY_INTERVAL="1")
    home = tmp_path / "beat"
    never = healthcheck(env, "beat", "--home", str(home))
    assert never.returncode == 1
    assert "beat has sent no task yet" in never.stderr

    log = (tmp_path / "beat.log").open("wb")
    beat = subprocess.Popen(
        [str(FACTCHECK), "beat", "--home", str(home)],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        passed = wait_until(
            lambda: (run := healthcheck(env, "beat", "--home", str(home))).returncode == 0 and run,
            60,
            "beat's first heartbeat",
        )
        assert "beat sent a task" in passed.stdout
    finally:
        os.killpg(beat.pid, signal.SIGKILL)
        beat.wait()
        log.close()
    # The default limit is 3 x the shortest interval: 3 s with a relay every second.
    stale = wait_until(
        lambda: (run := healthcheck(env, "beat", "--home", str(home))).returncode == 1 and run,
        30,
        "the heartbeat to go stale",
    )
    assert "beat last sent a task" in stale.stderr
    assert "more than 3 s" in stale.stderr
