"""The engine, and one session per request and per task.

Work that must only happen once the transaction is durable (sending a Celery task) is queued
with `after_commit(session, fn)` and run by `commit()`, never before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from service import jsonio

log = logging.getLogger(__name__)

_AFTER_COMMIT = "factcheck.after_commit"


def psycopg2_url(database_url: str) -> str:
    """Pin the psycopg2 driver: SQLAlchemy 2.1 reads a bare postgresql:// as psycopg 3."""
    for prefix in ("postgresql://", "postgres://"):
        if database_url.startswith(prefix):
            return "postgresql+psycopg2://" + database_url.removeprefix(prefix)
    return database_url


def make_engine(
    database_url: str,
    *,
    pool_size: int = 5,
    max_overflow: int | None = None,
    pool_timeout: float = 30.0,
    statement_timeout_ms: int = 0,
    read_only: bool = False,
) -> Engine:
    """A psycopg2 engine that survives a database restart (pre-ping, recycled connections).

    It holds at most `pool_size + max_overflow` connections (`max_overflow` None: as many
    again as `pool_size`); a checkout waits `pool_timeout` seconds for one, then raises
    sqlalchemy.exc.TimeoutError. `read_only` engines (the read replica's) open every
    transaction READ ONLY, so a write sent there by mistake fails even if the URL points at
    a primary.
    """
    url = psycopg2_url(database_url)
    server_settings: dict[str, object] = {}
    if statement_timeout_ms:
        server_settings["statement_timeout"] = statement_timeout_ms
    if read_only:
        server_settings["default_transaction_read_only"] = "on"
    options = " ".join(f"-c {name}={value}" for name, value in server_settings.items())
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size if max_overflow is None else max_overflow,
        pool_timeout=pool_timeout,
        pool_pre_ping=True,
        pool_recycle=1800,
        json_serializer=jsonio.dumps,
        json_deserializer=jsonio.loads,
        connect_args={"connect_timeout": 5, "options": options, "application_name": "factcheck"},
    )


def connection_limits(database_url: str) -> tuple[int, int]:
    """(max_connections, connections reserved for superusers and for roles granted
    pg_use_reserved_connections) of the database server, read from its settings."""
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            limit, superuser, reserved = connection.execute(
                text(
                    "SELECT current_setting('max_connections')::int,"
                    " current_setting('superuser_reserved_connections')::int,"
                    # reserved_connections is new in PostgreSQL 16: missing_ok on 15.
                    " coalesce(current_setting('reserved_connections', true), '0')::int"
                )
            ).one()
    finally:
        engine.dispose()
    return limit, superuser + reserved


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False, autoflush=False)


def after_commit(session: Session, callback: Callable[[], None]) -> None:
    """Run `callback` once this session's transaction has committed."""
    session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def commit(session: Session) -> None:
    """Commit, then run the after-commit callbacks; a failing callback is logged, not raised.

    Callbacks only speed things up (the outbox relay covers anything they fail to do), so
    their failure must not turn a durable write into an error for the caller.
    """
    session.commit()
    for callback in session.info.pop(_AFTER_COMMIT, []):
        try:
            callback()
        except Exception:
            log.warning("after-commit callback failed; the outbox relay will retry", exc_info=True)


def discard(session: Session) -> None:
    """Roll back and forget any queued after-commit work."""
    session.info.pop(_AFTER_COMMIT, None)
    session.rollback()


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on error, always close."""
    session = factory()
    try:
        yield session
        commit(session)
    except BaseException:
        discard(session)
        raise
    finally:
        session.close()
