"""The remote reviewer and newsroom: `submit`, `queue`, `claim`, `verdict`, `export` and
`webhook listen`, all through the review API with `service.client` (never the database).

The server and token come from --server / --token or FACTCHECK_SERVER / FACTCHECK_TOKEN; the
token is never printed.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import click

from service.cli.article_file import read_article_file
from service.client import (
    ApiError,
    ConnectionFailed,
    FactcheckClient,
    WebhookRejected,
    verify_webhook,
)
from service.vocabulary import CLAIM_STATUSES, STANCES

CLI_SOURCE = "cli"
DEFAULT_SERVER = "http://127.0.0.1:8000"


def _warn_deprecated_url(ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is not None:
        click.secho("warning: --url is deprecated; use --server", fg="yellow", err=True)
    return value


def with_client(command: Callable[..., Any]) -> Callable[..., Any]:
    """Give `command` the server and token options and call it with `client=` instead."""

    @functools.wraps(command)
    def run(*args: Any, server: str, legacy_url: str | None, token: str, **kwargs: Any) -> Any:
        return command(*args, client=FactcheckClient(legacy_url or server, token), **kwargs)

    options = (
        click.option(
            "--server", envvar=["FACTCHECK_SERVER", "FACTCHECK_URL"], default=DEFAULT_SERVER,
            show_default=True, help="The service's base URL (or FACTCHECK_SERVER).",
        ),
        # The old name of --server, which read as the article's own `url` field.
        click.option(
            "--url", "legacy_url", hidden=True, expose_value=True, callback=_warn_deprecated_url
        ),
        click.option(
            "--token", envvar="FACTCHECK_TOKEN", required=True,
            help="API token (or FACTCHECK_TOKEN).",
        ),
    )  # fmt: skip
    for option in reversed(options):
        run = option(run)
    return run


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")

# The review queue's filters, shared by `queue` and `export claims`: (option, API parameter).
_QUEUE_FILTERS = (
    click.option("--status", type=click.Choice(CLAIM_STATUSES)),
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


def _queue_params(filters: Mapping[str, Any]) -> dict[str, Any]:
    """The _QUEUE_FILTERS options a command was given -> the API's query parameters (unset
    ones left out)."""
    names = {"claim_type": "type"}
    return {names.get(k, k): v for k, v in filters.items() if v is not None}


def _short(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


def _echo_json(value: Any, *, indent: int | None = None, err: bool = False) -> None:
    click.echo(json.dumps(value, ensure_ascii=False, indent=indent), err=err)


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "--source", default=CLI_SOURCE, show_default=True,
    help="Source name; with the file name it identifies the article.",
)  # fmt: skip
@click.option(
    "--article-url", metavar="URL",
    help="The article's own address (its `url` field); with one FILE only.",
)  # fmt: skip
@click.option(
    "--language", default=None,
    help="BCP 47 language of every file, e.g. fr (default: detected per article).",
)  # fmt: skip
@with_client
def submit(
    files: tuple[Path, ...],
    source: str,
    article_url: str | None,
    language: str | None,
    client: FactcheckClient,
) -> None:
    """Submit article files and print a JSON line per file: its id, status and `created`.

    A file is a title line (`date YYYY-MM-DD Title` gives the publication date too), an
    optional byline (`By Ana Ruiz and Li Wei`: the authors), then the body. Each file is
    submitted with external_id = its name without the extension, under --source, so running
    the command again returns the same articles ("created": false) instead of duplicating
    them. A file whose text changed since it was submitted is refused (409): revise that
    article with PUT /api/v1/articles/{id}, or submit under another name or source.
    """
    if article_url is not None and len(files) > 1:
        raise click.UsageError("--article-url names one article: give one FILE with it")
    failures = 0
    with click.progressbar(files, label="submitting", file=sys.stderr) as progress:
        for path in progress:
            article = read_article_file(path, source)
            if language is not None:
                article["language"] = language
            if article_url is not None:
                article["url"] = article_url
            try:
                submitted = client.submit_article(article)
            except ConnectionFailed:
                raise  # unreachable: every other file would fail alike
            except ApiError as refused:
                failures += 1
                _echo_json(
                    {"file": str(path), "error": refused.body or refused.message()}, err=True
                )
                continue
            _echo_json(
                {"file": str(path)} | {key: submitted[key] for key in ("id", "status", "created")}
            )
    if failures:
        sys.exit(1)


@click.command()
@queue_filter_options
@click.option("--sort", type=click.Choice(["score", "recency"]), default="score", show_default=True)
@click.option("--limit", type=click.IntRange(1), default=20, show_default=True,
              help="Claims to list (pages are followed).")  # fmt: skip
@json_option
@with_client
def queue(sort: str, limit: int, as_json: bool, client: FactcheckClient, **filters: Any) -> None:
    """List the review queue: id, score, status, types, text."""
    params = {**_queue_params(filters), "sort": sort, "limit": min(limit, 200)}
    shown = 0
    for claim in client.iter_queue(**params):
        if as_json:
            _echo_json(claim)
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


@click.group()
def claim() -> None:
    """Review one claim: show it in context, take it, move it along."""


@claim.command("show")
@click.argument("claim_id", type=int)
@click.option("--context", "width", type=click.IntRange(0), default=160, show_default=True,
              help="Characters of article text shown on each side.")  # fmt: skip
@json_option
@with_client
def claim_show(claim_id: int, width: int, as_json: bool, client: FactcheckClient) -> None:
    """Show a claim in its article, with its verdicts and evidence."""
    found = client.claim_context(claim_id, width)
    item = found.claim
    if as_json:
        _echo_json({**item, "context": {"before": found.before, "after": found.after}}, indent=2)
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
@with_client
def claim_take(claim_id: int, client: FactcheckClient) -> None:
    """Assign the claim to yourself and start reviewing it."""
    taken = client.take_claim(claim_id)
    click.echo(f"claim {taken['id']} is yours ({taken['status']}, version {taken['version']})")


@claim.command("status")
@click.argument("claim_id", type=int)
@click.argument("status", type=click.Choice([s for s in CLAIM_STATUSES if s != "published"]))
@with_client
def claim_status(claim_id: int, status: str, client: FactcheckClient) -> None:
    """Move the claim along its lifecycle, e.g. to `reviewed` once it has your verdict (a
    claim is published from there)."""
    moved = client.update_claim(claim_id, {"status": status})
    click.echo(f"claim {moved['id']} is {moved['status']} (version {moved['version']})")


@click.group()
def verdict() -> None:
    """Add and publish verdicts."""


def _evidence(value: str) -> dict[str, str]:
    """URL[,stance]: a trailing ,supports / ,refutes / ,context is the stance (else context)."""

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
@json_option
@with_client
def verdict_add(
    claim_id: int,
    rating: str,
    summary: str,
    rationale: str | None,
    confidence: float | None,
    evidence: tuple[str, ...],
    as_json: bool,
    client: FactcheckClient,
) -> None:
    """Add your verdict on a claim, with evidence; prints the verdict's id."""
    added = client.add_verdict(
        claim_id,
        rating,
        summary,
        evidence=[_evidence(item) for item in evidence],
        rationale=rationale,
        confidence=confidence,
    )
    if as_json:
        _echo_json(added)
        return
    click.echo(
        f"verdict {added['id']} added to claim {claim_id}: {added['rating']} "
        f"({added['status']}, {len(added['evidence'])} evidence)"
    )


@verdict.command("publish")
@click.argument("verdict_id", type=int)
@with_client
def verdict_publish(verdict_id: int, client: FactcheckClient) -> None:
    """Publish a proposed verdict (editor or admin token)."""
    published = client.publish_verdict(verdict_id)
    click.echo(
        f"verdict {published['id']} published at {published['published_at']} "
        f"(claim {published['claim_id']})"
    )


@click.group()
def export() -> None:
    """Bulk exports, streamed to a file."""


@export.command("claims")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="CSV file to write (- for standard output).")  # fmt: skip
@queue_filter_options
@click.option("--verdicts", type=click.Choice(["all", "published"]), default="all",
              show_default=True)  # fmt: skip
@with_client
def export_claims(out: Path, verdicts: str, client: FactcheckClient, **filters: Any) -> None:
    """Export claims and their verdicts as CSV (the queue's filters); progress on stderr."""
    params = {**_queue_params(filters), "verdicts": verdicts}

    def progress(rows: int) -> None:
        click.echo(f"\r{rows} rows written", nl=False, err=True)

    target: Any = sys.stdout if str(out) == "-" else out
    rows = client.export_claims(target, progress=progress, **params)
    click.echo("", err=True)
    click.echo(f"exported {rows} rows to {out}", err=True)


@click.group()
def webhook() -> None:
    """Receive webhook deliveries, to try a subscription out."""


@webhook.command("listen")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind.")
@click.option("--port", type=int, default=9009, show_default=True)
@click.option(
    "--secret", envvar="FACTCHECK_WEBHOOK_SECRET", required=True,
    help="The subscription's secret (whsec_..., or FACTCHECK_WEBHOOK_SECRET).",
)  # fmt: skip
def webhook_listen(host: str, port: int, secret: str) -> None:
    """Print each delivery that `verify_webhook` accepts as a JSON line, until Ctrl-C.

    Answers 200 to a genuine delivery and 400 to any other request (its reason on stderr),
    as a receiver should: subscribe http://HOST:PORT/ with the service allowing private
    addresses (FACTCHECK_WEBHOOK_ALLOW_PRIVATE=1, as `factcheck up --demo` does).
    """

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            try:
                event = verify_webhook(secret, dict(self.headers.items()), body)
            except WebhookRejected as rejected:
                click.echo(f"rejected a request: {rejected}", err=True)
                self.send_response(400)
            else:
                _echo_json(event)
                self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet: the events printed are the log."""

    server = ThreadingHTTPServer((host, port), Receiver)
    click.echo(f"listening on http://{host}:{server.server_port}/ (Ctrl-C to stop)", err=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


COMMANDS = (submit, queue, claim, verdict, export, webhook)
