"""Celery beat's scheduler, leaving a heartbeat a health check can read.

Beat answers nothing over the network, so `factcheck healthcheck beat` reads the age of a
file beat touches each time it has sent a task: a beat that hangs, or cannot reach the
broker, stops touching it.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from celery.beat import PersistentScheduler

HEARTBEAT_SUFFIX = ".heartbeat"


def heartbeat_path(schedule_filename: str | Path) -> Path:
    """The heartbeat file of the beat keeping its schedule in `schedule_filename`."""
    return Path(f"{schedule_filename}{HEARTBEAT_SUFFIX}")


def heartbeat_age(path: Path) -> float | None:
    """Seconds since beat last sent a task; None if it has sent none."""
    try:
        return time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return None


class HeartbeatScheduler(PersistentScheduler):
    """Celery's default scheduler, touching the heartbeat file after every task it sent."""

    def apply_async(
        self, entry: Any, producer: Any = None, advance: bool = True, **kwargs: Any
    ) -> Any:
        # Raises when the task could not be sent: no heartbeat then.
        result = super().apply_async(entry, producer=producer, advance=advance, **kwargs)
        heartbeat_path(self.schedule_filename).touch()
        return result
