"""Running the service: `factcheck up` (everything on one machine), `api`, `worker`, `beat`,
and the containers' `healthcheck`s."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from service.cli.admin import migrate
from service.cli.common import DEFAULT_HOME, fail, home_option, refuse_without_embedded
from service.cli.demo import (
    DEMO_FACTCHECKS,
    DEMO_USER,
    EXAMPLES,
    demo_user_token,
    import_demo_factchecks,
    submit_demo_articles,
)
from service.config import API_THREADS, Settings
from service.vocabulary import EXTRACTION_QUEUE, MAINTENANCE_QUEUE, QUEUES, WEBHOOK_QUEUE

BEAT_SCHEDULE = "beat-schedule"  # beat's schedule file, in its --home
DEMO_TOKEN_FILE = "demo-token"  # noqa: S105 (a file name: the demo admin's token, in --home)
# The workers `factcheck up` runs: (node name, queues). Separate pools, not only separate
# queues: a pool process busy with a slow receiver takes no extraction task.
UP_WORKERS = {
    "worker": (EXTRACTION_QUEUE, f"{EXTRACTION_QUEUE},{MAINTENANCE_QUEUE}"),
    "webhook-worker": (WEBHOOK_QUEUE, WEBHOOK_QUEUE),
}
READY_TIMEOUT = 90.0

if TYPE_CHECKING:
    from service.supervisor import Supervisor


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


@click.command()
@click.option("--port", type=int, default=8000, show_default=True, envvar="PORT")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@home_option
@click.option(
    "--demo", is_flag=True,
    help="Import the demo fact-checks and submit the sample articles in examples/, make a "
    "demo admin user, and let webhooks reach this machine's own receivers.",
)  # fmt: skip
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
    one that keeps dying stops everything. Ctrl-C (or SIGTERM, SIGHUP) stops them all: each
    finishes what it is doing first.
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

    # The children run in process groups of their own, so a terminal's Ctrl-C reaches only
    # this process, which stops each child once (a child signalled twice, by the terminal and
    # then by the supervisor, would cut its work short). SIGHUP: the terminal was closed.
    for stop_signal in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop_signal, request_stop)
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
        if demo and "FACTCHECK_WEBHOOK_ALLOW_PRIVATE" not in os.environ:
            # The walk-through's webhook receiver listens on this machine.
            env["FACTCHECK_WEBHOOK_ALLOW_PRIVATE"] = "1"
        metrics_dir = home / "metrics"
        shutil.rmtree(metrics_dir, ignore_errors=True)
        metrics_dir.mkdir()
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        child_env = _child_env(env)
        settings = Settings.from_env(child_env)
        click.echo("applying migrations ...")
        migrate(settings.database_url)
        token_file = home / DEMO_TOKEN_FILE
        token_file.unlink(missing_ok=True)
        if demo and not os.environ.get("FACTCHECK_ADMIN_TOKEN"):
            _write_secret(token_file, demo_user_token(settings))

        api_workers = _size_api_workers(settings, api_workers, explicit=False)
        queues = {"worker": concurrency, "webhook-worker": webhook_concurrency}
        commands = {
            "api": _gunicorn_command(port, api_workers, host),
            **{
                name: _worker_command(queues[name], worker_queues, node)
                for name, (node, worker_queues) in UP_WORKERS.items()
            },
            "beat": _beat_command(home),
        }
        supervisor = Supervisor(
            commands, child_env, home / "run", say=lambda line: click.secho(line, err=True)
        )
        supervisor.start()
        base = f"http://{host}:{port}"
        if not _wait_ready(base + "/healthz", settings, supervisor, lambda: stopping):
            if not stopping:
                fail("the API did not become healthy; see the log above")
            return
        if demo:
            # Before the articles, so that their claims are matched as they are processed.
            if not import_demo_factchecks(child_env):
                fail(f"the demo fact-checks in {DEMO_FACTCHECKS} were not imported; see above")
            submitted = submit_demo_articles(settings)
            click.echo(f"demo: {submitted} sample article(s) submitted from {EXAMPLES}")
        _print_banner(base, home, token_file if token_file.exists() else None)
        while not stopping:
            try:
                supervisor.watch()
            except CrashLoop as crash:
                click.secho(f"{crash}; stopping everything", err=True)
                sys.exit(1)
            time.sleep(0.5)
        click.echo("stopping: each process finishes what it is doing ...")
    finally:
        if supervisor is not None:
            supervisor.stop()
        if redis is not None:
            redis.stop()
        if postgres is not None:
            stop_postgres(postgres)
        click.echo("stopped")


def _write_secret(path: Path, secret: str) -> None:
    """Write `secret` to `path`, readable by this user only."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as handle:
        handle.write(secret + "\n")


def _wait_ready(
    url: str, settings: Settings, supervisor: Supervisor, stopping: Callable[[], bool]
) -> bool:
    """Whether the API answers `url` and every worker a ping, before READY_TIMEOUT.

    Waiting for the workers too puts the banner after their start-up output, where it stays
    in sight; a worker slow to answer only delays the banner.
    """
    from celery.utils.nodenames import host_format

    from workers.celery_app import make_celery, worker_answers

    deadline = time.monotonic() + READY_TIMEOUT
    pending_nodes = [host_format(f"{node}@%h") for node, _ in UP_WORKERS.values()]
    api_ready = False
    celery = make_celery(settings)
    while time.monotonic() < deadline and not stopping():
        if any(child.poll() is not None for child in supervisor.processes()):
            return False
        api_ready = api_ready or _answers(url)
        if api_ready and pending_nodes and worker_answers(celery, pending_nodes[0], 1.0):
            pending_nodes.pop(0)
        if api_ready and not pending_nodes:
            return True
        time.sleep(0.2)
    if api_ready and not stopping():
        click.secho(f"warning: {', '.join(pending_nodes)} not answering yet", fg="yellow")
    return api_ready


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (our own URL)
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _print_banner(base: str, home: Path, token_file: Path | None) -> None:
    click.echo("")
    click.secho(f"API   {base}/api/v1", bold=True)
    click.secho(f"Docs  {base}/api/v1/docs", bold=True)
    click.secho(f"Desk  {base}/desk/  (sign in with a user's token)", bold=True)
    if token_file is not None:
        click.echo(
            f"Demo token of the admin user {DEMO_USER!r} (a new one at each start), also in "
            f"{token_file}:"
        )
        click.echo(f"  export TOKEN={token_file.read_text().strip()}")
    elif os.environ.get("FACTCHECK_ADMIN_TOKEN"):
        click.echo("Admin token: the value of FACTCHECK_ADMIN_TOKEN")
    else:
        click.echo(
            "Get a token:  factcheck users create NAME --role admin"
            + (f" --home {home}" if str(home) != str(Path(DEFAULT_HOME).resolve()) else "")
        )
    click.echo(f'Try:   curl -H "Authorization: Bearer $TOKEN" {base}/api/v1/articles')
    script = Path(sys.executable).parent / "factcheck"
    if shutil.which("factcheck") != str(script):
        click.echo(f'CLI:   export PATH="{script.parent}:$PATH"   (then: factcheck --help)')
    click.echo("Press Ctrl-C to stop.")


@click.command()
@click.option("--concurrency", type=int, default=None, help="Worker processes (default: cores).")
@click.option("--queues", default=",".join(QUEUES), show_default=True)
def worker(concurrency: int | None, queues: str) -> None:
    """Run a Celery worker (configured from the environment)."""
    Settings.from_env()
    command = _worker_command(concurrency or os.cpu_count() or 1, queues)
    os.execv(sys.executable, command)  # noqa: S606 (replace this process with the worker)


@click.command()
@click.option(
    "--home", type=click.Path(file_okay=False, path_type=Path), default=DEFAULT_HOME,
    show_default=True, envvar="FACTCHECK_HOME", help="Folder for beat's schedule file.",
)  # fmt: skip
def beat(home: Path) -> None:
    """Run Celery beat, which schedules the outbox relay."""
    Settings.from_env()
    home.mkdir(parents=True, exist_ok=True)
    os.execv(sys.executable, _beat_command(home))  # noqa: S606


@click.command()
@click.option("--port", type=int, default=8000, show_default=True, envvar="PORT")
@click.option("--host", default="0.0.0.0", show_default=True)  # noqa: S104 (container default)
@click.option("--workers", type=int, default=None, help="Gunicorn workers (default: 2 x cores).")
def api(port: int, host: str, workers: int | None) -> None:
    """Run the API under gunicorn (configured from the environment)."""
    settings = Settings.from_env()
    workers = _size_api_workers(
        settings, workers or 2 * (os.cpu_count() or 1), explicit=workers is not None
    )
    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Each gunicorn worker counts its own requests; /metrics adds them up only when the
        # workers share a directory, which must start empty: a new one for every start.
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="factcheck-metrics-")
    os.execv(sys.executable, _gunicorn_command(port, workers, host))  # noqa: S606


@click.group()
def healthcheck() -> None:
    """Container health checks: exit 0 when healthy, else 1 with the reason on stderr."""


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
    if not worker_answers(make_celery(Settings.from_env()), node, timeout):
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
        entries = beat_schedule(Settings.from_env()).values()
        max_age = 3 * min(float(entry["schedule"]) for entry in entries)
    path = heartbeat_path(home / BEAT_SCHEDULE)
    age = heartbeat_age(path)
    if age is None:
        fail(f"beat has sent no task yet ({path} does not exist)")
    if age > max_age:
        fail(f"beat last sent a task {age:.0f} s ago (more than {max_age:g} s)")
    click.echo(f"beat sent a task {age:.1f} s ago")


COMMANDS = (up, api, worker, beat, healthcheck)
