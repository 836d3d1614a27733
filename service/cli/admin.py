"""Local administration: `factcheck db` (migrations, the service's role) and `factcheck users`.

These talk to the database directly (DATABASE_URL, else the embedded Postgres under --home),
so they run where the service runs, as its operator.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from service.cli.common import fail, home_option, refuse_without_embedded
from service.config import AppRole, app_role_from_env
from service.vocabulary import ROLES

USERS_PAGE = 500
# Where `users login-link` points when FACTCHECK_DESK_URL is not set: `factcheck up`'s address.
DEFAULT_DESK_URL = "http://127.0.0.1:8000"
LOGIN_LINK_MINUTES = 15


def migrate(url: str, app_role: AppRole | None = None) -> bool:
    """Apply pending migrations, then set up `app_role` if given (True if it was created)."""
    from service.migrations import upgrade
    from service.migrations.app_role import grant_app_role

    upgrade(url)
    return app_role is not None and grant_app_role(url, app_role)


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


@click.group()
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
    app_role = app_role_from_env()
    with resolved_database(home) as url:
        created = migrate(url, app_role)
    click.echo("database is at the latest revision")
    if app_role is not None:
        click.echo(
            f"role {app_role.name} {'created' if created else 'exists'}; granted the service's "
            "privileges (rows only: no ALTER, DROP or TRUNCATE, and the audit log append-only)"
        )


@click.group()
def users() -> None:
    """Users and their API tokens."""


@contextmanager
def local_sessions(home: Path) -> Iterator[tuple[str, Any]]:
    """The service's database (migrated) while the block runs: its URL and a session factory."""
    from service.db import make_engine, make_session_factory

    with resolved_database(home) as url:
        migrate(url)
        engine = make_engine(url, pool_size=1)
        try:
            yield url, make_session_factory(engine)
        finally:
            engine.dispose()


@contextmanager
def _user_session(home: Path) -> Iterator[Any]:
    """One session on the service's database, for the `users` commands."""
    from service.db import session_scope

    with local_sessions(home) as (_url, sessions), session_scope(sessions) as session:
        yield session


def _print_token(issued: Any, what: str) -> None:
    click.echo(
        f"{what} {issued.role} {issued.name!r} of {issued.organization!r}; its token (store it "
        "now, it is not shown again):"
    )
    click.echo(issued.token)


@users.command("create")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES))
@click.option(
    "--organization",
    metavar="ORG",
    help="Whom the user works for (default: the desk's own, `desk`); created on first use.",
)
@home_option
def users_create(name: str, role: str, organization: str | None, home: Path) -> None:
    """Create a user and print its token (shown this once only)."""
    from schemas.users import UserInSchema
    from service.domain.users import create_user

    # The API's own validation, so a name the API would refuse is not made here either.
    given = {"name": name, "role": role} | ({"organization": organization} if organization else {})
    errors = UserInSchema().validate(given)
    if errors:
        fail("; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items()))
    with _user_session(home) as session:
        issued = create_user(session, name, role, actor="cli", organization=organization)
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
    from service.domain.users import find_user, list_tokens

    with _user_session(home) as session:
        user_id = find_user(session, name).id
        for token in _every(
            lambda after: list_tokens(session, user_id, limit=USERS_PAGE, after_id=after)
        ):
            state = f"revoked {token.revoked_at:%Y-%m-%d}" if token.revoked_at else "active"
            click.echo(f"{token.id}\t{token.prefix}\t{token.created_at:%Y-%m-%d}\t{state}")


@users.command("revoke")
@click.argument("name")
@click.argument("token_id", type=int)
@home_option
def users_revoke(name: str, token_id: int, home: Path) -> None:
    """Revoke NAME's token TOKEN_ID (see `users tokens`); NAME stays enabled."""
    from service.domain.users import find_user, revoke_token

    with _user_session(home) as session:
        revoke_token(session, find_user(session, name).id, token_id, actor="cli")
    click.echo(f"revoked token {token_id} of {name!r}; `users rotate {name}` issues a new one")


@users.command("rotate")
@click.argument("name")
@home_option
def users_rotate(name: str, home: Path) -> None:
    """Issue a new token for NAME and revoke the old ones."""
    from service.domain.users import find_user, rotate_token

    with _user_session(home) as session:
        issued = rotate_token(session, find_user(session, name).id, actor="cli")
    _print_token(issued, "rotated")


@users.command("disable")
@click.argument("name")
@home_option
def users_disable(name: str, home: Path) -> None:
    """Disable NAME and revoke every token it has."""
    from service.domain.users import disable_user, find_user

    with _user_session(home) as session:
        disable_user(session, find_user(session, name).id, actor="cli")
    click.echo(f"disabled {name!r}; its tokens no longer work")


@users.command("login-link")
@click.argument("name")
@click.option(
    "--url",
    "base_url",
    default=lambda: os.environ.get("FACTCHECK_DESK_URL", DEFAULT_DESK_URL),
    show_default=f"FACTCHECK_DESK_URL, else {DEFAULT_DESK_URL}",
    help="Where the service is reached, as the reviewer's browser sees it.",
)
@click.option(
    "--minutes",
    type=click.IntRange(1, 7 * 24 * 60),
    default=LOGIN_LINK_MINUTES,
    show_default=True,
    help="How long the link works (once).",
)
@home_option
def users_login_link(name: str, base_url: str, minutes: int, home: Path) -> None:
    """Print a one-time link that signs NAME in to the reviewer desk."""
    from service.domain.desk_sessions import create_login_link
    from service.domain.users import find_user

    with _user_session(home) as session:
        token = create_login_link(
            session, find_user(session, name), actor="cli", lifetime=timedelta(minutes=minutes)
        )
    click.echo(f"a sign-in link for {name!r}, usable once within {minutes} minutes:")
    click.echo(f"{base_url.rstrip('/')}/desk/login/{token}")


COMMANDS = (db, users)
