"""Fact-check collections: `factcheck import-factchecks`, what claims are matched against.

Like `users`, it talks to the database directly (DATABASE_URL, else the embedded Postgres
under --home), as the service's operator.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from service.cli.admin import local_sessions
from service.cli.common import home_option
from workers.matching.records import FORMATS

if TYPE_CHECKING:
    from service.domain.factchecks import ImportResult
    from service.ratings import Rating
    from workers.extraction.encoder import SentenceEncoder
    from workers.matching.records import FactCheck

ACTOR = "cli"  # the audit log's actor, as for the `users` commands
# Exit statuses beyond 0: a record skipped, a file not read at all (a file not read is worse).
BAD_RECORDS = 1
UNREADABLE_FILE = 2


def import_records(
    sessions: Any,
    records: Sequence[FactCheck],
    encoder: SentenceEncoder,
    *,
    scale: Sequence[Rating],
    actor: str,
    batch: int | None = None,
    advance: Callable[[int], None] = lambda done: None,
) -> ImportResult:
    """Import `records` `batch` at a time (IMPORT_BATCH by default), each batch committed alone.

    An interruption keeps the batches committed, and a second run leaves those unchanged.
    `advance(n)` is called after each batch of n records.
    """
    from service.db import session_scope
    from service.domain.factchecks import IMPORT_BATCH, ImportResult, import_factchecks

    size = batch or IMPORT_BATCH
    result = ImportResult()
    for start in range(0, len(records), size):
        chunk = records[start : start + size]
        with session_scope(sessions) as session:
            result.add(
                import_factchecks(session, chunk, encoder, actor=actor, user_id=None, scale=scale)
            )
        advance(len(chunk))
    return result


@dataclass
class FileImport:
    """What importing one file did; `unreadable` says why a file was not read at all."""

    path: Path
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    bad: int = 0
    duplicates: int = 0
    unreadable: str | None = None

    def add(self, other: FileImport) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.bad += other.bad
        self.duplicates += other.duplicates

    def summary(self) -> str:
        if self.unreadable is not None:
            return f"not read ({self.unreadable})"
        return (
            f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged, "
            f"{self.bad} bad records skipped, {self.duplicates} duplicates collapsed"
        )


@dataclass
class ImportTotals:
    """Every file's import, and their sum."""

    files: list[FileImport] = field(default_factory=list)

    def exit_status(self) -> int:
        if any(f.unreadable is not None for f in self.files):
            return UNREADABLE_FILE
        return BAD_RECORDS if any(f.bad for f in self.files) else 0

    def echo(self) -> None:
        total = FileImport(Path("total"))
        for imported in self.files:
            click.echo(f"{imported.path}: {imported.summary()}")
            total.add(imported)
        unread = sum(f.unreadable is not None for f in self.files)
        click.echo(f"total: {total.summary()}" + (f", {unread} files not read" if unread else ""))


@click.command("import-factchecks")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format", "file_format", type=click.Choice(FORMATS), default=None,
    help="The files' format (default: told by each file's extension, else by its content).",
)  # fmt: skip
@click.option(
    "--batch", type=click.IntRange(1), default=None,
    help="Records encoded and committed per transaction (default: IMPORT_BATCH of "
    "service.domain.factchecks).",
)  # fmt: skip
@home_option
def import_factchecks_command(
    files: tuple[Path, ...], file_format: str | None, batch: int | None, home: Path
) -> None:
    """Import fact-checks to match claims against: ClaimReview JSON-LD (an object, an array,
    @graph or a DataFeed), JSON Lines, CSV or TSV.

    Each record is stored once, by its review URL (or its `id`): importing a file again
    changes nothing, a changed record is updated, and only new or changed records are
    encoded. Records are committed IMPORT_BATCH at a time, so an interrupted import keeps
    what it committed. A bad record is reported on stderr (`FILE: line 7: why`) and skipped.

    Exit status: 0 when every record was imported; 1 when a record was bad (the others
    imported); 2 when a file could not be read at all (the other files imported).
    """
    from service.config import rating_scale_from_env
    from workers.extraction.encoder import load_encoder
    from workers.matching.records import read_factchecks

    totals = ImportTotals()
    with local_sessions(home) as (_, sessions):
        scale = rating_scale_from_env()
        encoder = load_encoder()
        try:
            for path in files:
                imported = FileImport(path)
                totals.files.append(imported)
                try:
                    report = read_factchecks(path, file_format)
                except (OSError, ValueError) as error:
                    imported.unreadable = getattr(error, "strerror", None) or str(error)
                    click.secho(f"{path}: cannot be read: {imported.unreadable}", err=True)
                    continue
                for bad in report.errors:
                    click.echo(f"{path}: {bad}", err=True)
                imported.bad, imported.duplicates = len(report.errors), report.duplicates
                with click.progressbar(
                    length=len(report.records), label=f"importing {path}", file=sys.stderr
                ) as progress:
                    result = import_records(
                        sessions, report.records, encoder, scale=scale, actor=ACTOR,
                        batch=batch, advance=progress.update,
                    )  # fmt: skip
                imported.created, imported.updated = result.created, result.updated
                imported.unchanged = result.unchanged
        except KeyboardInterrupt:
            click.echo(
                "interrupted: the batches committed so far are kept; run the command again "
                "to import the rest",
                err=True,
            )
            sys.exit(130)
    totals.echo()
    sys.exit(totals.exit_status())


COMMANDS = (import_factchecks_command,)
