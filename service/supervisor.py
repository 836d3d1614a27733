"""The processes of `factcheck up`: started together, restarted when one dies, stopped together.

A child that exits (a worker killed by the kernel's OOM killer, say) is started again after a
short, growing wait, as a container runtime's restart policy would do, so nothing waits for a
person. A child that keeps dying (`max_restarts` exits within `window` seconds) is a fault no
restart will cure: the supervisor gives up and says which one.

Each running child's pid is written to `<run_dir>/<name>.pid`, for operators and fault tests.

Each child runs in a process group of its own, so a terminal's Ctrl-C (sent to the foreground
group) reaches the supervising process only, and each child is stopped once, by `stop`: a
Celery worker sent SIGINT by the terminal and then SIGTERM would stop twice, the second time
killing its pool (billiard then reports "Worker was sent SIGKILL! Perhaps out of memory?").
"""

from __future__ import annotations

import subprocess
import time
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

FIRST_RESTART_DELAY = 1.0
MAX_RESTART_DELAY = 30.0
STOP_TIMEOUT = 20.0


class CrashLoop(RuntimeError):
    """A child exited too often to keep restarting it."""


@dataclass
class Child:
    name: str
    command: Sequence[str]
    process: subprocess.Popen[bytes] | None = None
    exits: deque[float] = field(default_factory=deque)
    restart_at: float | None = None


class Supervisor:
    """Starts, watches and stops named child processes."""

    def __init__(
        self,
        commands: Mapping[str, Sequence[str]],
        env: Mapping[str, str],
        run_dir: Path,
        *,
        say: Callable[[str], None],
        max_restarts: int = 5,
        window: float = 120.0,
        first_delay: float = FIRST_RESTART_DELAY,
    ) -> None:
        self.children = [Child(name, list(command)) for name, command in commands.items()]
        self.env = dict(env)
        self.run_dir = run_dir
        self.say = say
        self.max_restarts = max_restarts
        self.window = window
        self.first_delay = first_delay

    def start(self) -> None:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        for child in self.children:
            self._spawn(child)

    def processes(self) -> list[subprocess.Popen[bytes]]:
        return [child.process for child in self.children if child.process is not None]

    def watch(self) -> None:
        """Restart children that exited, once their wait is over; CrashLoop if one keeps
        exiting. Call it every fraction of a second."""
        now = time.monotonic()
        for child in self.children:
            if child.process is not None and child.process.poll() is not None:
                code = child.process.returncode
                child.process = None
                child.exits.append(now)
                while child.exits and child.exits[0] < now - self.window:
                    child.exits.popleft()
                if len(child.exits) > self.max_restarts:
                    raise CrashLoop(
                        f"the {child.name} process exited {len(child.exits)} times within "
                        f"{self.window:.0f} s (last exit code {code}); not restarting it"
                    )
                delay = min(MAX_RESTART_DELAY, self.first_delay * 2 ** (len(child.exits) - 1))
                child.restart_at = now + delay
                self.say(
                    f"the {child.name} process exited (code {code}); restarting it in {delay:.3g} s"
                )
            if child.process is None and child.restart_at is not None and now >= child.restart_at:
                self._spawn(child)

    def stop(self) -> None:
        """SIGTERM every child, then SIGKILL those still running after STOP_TIMEOUT."""
        running = self.processes()
        for process in running:
            if process.poll() is None:
                process.terminate()
        deadline = time.monotonic() + STOP_TIMEOUT
        for process in running:
            try:
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        for child in self.children:
            child.process = None
            (self.run_dir / f"{child.name}.pid").unlink(missing_ok=True)

    def _spawn(self, child: Child) -> None:
        child.process = subprocess.Popen(child.command, env=self.env, process_group=0)
        child.restart_at = None
        (self.run_dir / f"{child.name}.pid").write_text(f"{child.process.pid}\n")
