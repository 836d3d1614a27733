"""`factcheck up`'s supervisor, on real child processes."""

from __future__ import annotations

import os
import signal
import sys
import time

import pytest

from service.supervisor import CrashLoop, Supervisor
from tests.factories import wait_until

SLEEPER = [sys.executable, "-c", "import time; time.sleep(60)"]
CRASHER = [sys.executable, "-c", "import sys; sys.exit(3)"]


def supervisor(tmp_path, commands, said, **options) -> Supervisor:
    return Supervisor(commands, dict(os.environ), tmp_path / "run", say=said.append, **options)


def pid_file(tmp_path, name: str) -> int:
    return int((tmp_path / "run" / f"{name}.pid").read_text())


def watch_for(watched: Supervisor, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        watched.watch()
        time.sleep(0.01)


def test_a_killed_child_is_started_again_and_its_pid_file_follows(tmp_path):
    said: list[str] = []
    watched = supervisor(tmp_path, {"worker": SLEEPER, "beat": SLEEPER}, said, first_delay=0.05)
    watched.start()
    try:
        first, beat = pid_file(tmp_path, "worker"), pid_file(tmp_path, "beat")
        os.kill(first, signal.SIGKILL)

        def restarted() -> bool:
            watched.watch()
            return pid_file(tmp_path, "worker") != first

        wait_until(restarted, 10, "the worker to be restarted")
        assert pid_file(tmp_path, "beat") == beat, "the other children are left alone"
        assert said == ["the worker process exited (code -9); restarting it in 0.05 s"]
        os.kill(pid_file(tmp_path, "worker"), 0)  # it runs
    finally:
        watched.stop()
    assert not (tmp_path / "run" / "worker.pid").exists()


def test_a_child_that_keeps_exiting_stops_the_supervisor_naming_it(tmp_path):
    said: list[str] = []
    watched = supervisor(
        tmp_path, {"api": SLEEPER, "worker": CRASHER}, said, max_restarts=3, first_delay=0.01
    )
    watched.start()
    try:
        with pytest.raises(CrashLoop, match=r"the worker process exited 4 times .* code 3"):
            watch_for(watched, 20)
        assert len(said) == 3, "restarted max_restarts times before giving up"
    finally:
        watched.stop()


def test_stop_ends_every_child(tmp_path):
    watched = supervisor(tmp_path, {"a": SLEEPER, "b": SLEEPER}, [])
    watched.start()
    processes = watched.processes()
    watched.stop()
    assert [process.poll() is not None for process in processes] == [True, True]
