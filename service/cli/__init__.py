"""The `factcheck` command, by audience: each module holds the commands of one.

- `serve`: running the service (`up`, `api`, `worker`, `beat`, `healthcheck`);
- `admin`: local administration on the database (`db`, `users`);
- `factchecks`: the fact-checks claims are matched against (`import-factchecks`);
- `offline`: the engine with no service (`extract`, `score`);
- `review`: the remote reviewer and newsroom, through `service.client` (`submit`, `queue`,
  `claim`, `verdict`, `export`, `webhook`).

Every command fails the same way (`common.CommandGroup`): a refusal is one line on stderr
and exit status 1, a usage error status 2.
"""

from __future__ import annotations

import click

from service.cli import admin, factchecks, offline, review, serve
from service.cli.common import CommandGroup


@click.group(cls=CommandGroup)
def main() -> None:
    """Fact-check annotation service."""


for _audience in (serve, admin, factchecks, offline, review):
    for _command in _audience.COMMANDS:
        main.add_command(_command)
