"""The engine offline: `factcheck extract`, `score` and `match`, with no database or broker."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import click

from service.cli.article_file import parse_article
from service.config import checkworthy_threshold_from_env

if TYPE_CHECKING:
    from workers.extraction.engine import Engine

embeddings_option = click.option(
    "--embeddings", is_flag=True,
    help="Include each claim's sentence embedding (384 numbers) in JSON output.",
)  # fmt: skip
threshold_option = click.option(
    "--threshold", type=click.FloatRange(0, 1), default=None,
    help="Score at or above which a claim is check-worthy "
    "(default: FACTCHECK_CHECKWORTHY_THRESHOLD, else the model's own).",
)  # fmt: skip


def _without_embedding(claim: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in claim.items() if key != "embedding"}


def _extraction_engine(threshold: float | None) -> Engine:
    """The engine with --threshold, else the configured threshold, else the model's."""
    from workers.extraction.engine import Engine, default_engine

    if threshold is None:
        threshold = checkworthy_threshold_from_env()
    return default_engine() if threshold is None else Engine(threshold=threshold)


def _claim_line(name: str, claim: dict[str, Any]) -> str:
    score = "  n/a" if claim["checkworthiness"] is None else f"{claim['checkworthiness']:.2f}"
    mark = "*" if claim["checkworthy"] else " "
    who = f" [{claim['speaker']}]" if claim["speaker"] else ""
    types = ",".join(claim["types"]) or "-"
    return f"{name}:{claim['start']}-{claim['end']} {mark}{score} {types}{who} {claim['text']}"


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.File("r", encoding="utf-8"))
@click.option(
    "--format", "output_format", type=click.Choice(["json", "jsonl", "text"]), default="json",
    show_default=True,
)  # fmt: skip
@click.option("--all", "show_all", is_flag=True, help="Every candidate, not only check-worthy.")
@click.option(
    "--plain", is_flag=True,
    help="The whole text is the body: no title, date or byline lines are taken off.",
)  # fmt: skip
@click.option("--language", default=None, help="Skip detection and use this language code.")
@embeddings_option
@threshold_option
def extract(
    files: tuple[Any, ...],
    output_format: str,
    show_all: bool,
    plain: bool,
    language: str | None,
    embeddings: bool,
    threshold: float | None,
) -> None:
    """Extract claims from article files offline (no database); `-` reads standard input.

    A file is read as `factcheck submit` reads it (a title line, optionally dated, and a
    byline, then the body), so start/end are code points into the body the service would
    store; with --plain, into the whole text. By default only check-worthy claims are
    printed; --all prints every candidate with its score. The sentence embeddings the scores
    rest on are left out unless --embeddings asks for them.
    """
    engine = _extraction_engine(threshold)
    documents = []
    for handle in files:
        name = handle.name
        if len(files) > 1:
            click.echo(f"extracting {name}", err=True)
        text = handle.read()
        article = {"title": None, "body": text} if plain else parse_article(text)
        claims = engine.extract(article["body"], language)
        if not show_all:
            claims = [c for c in claims if c["checkworthy"]]
        if not embeddings:
            claims = [_without_embedding(c) for c in claims]
        documents.append({"file": name, "title": article["title"], "claims": claims})
    if output_format == "json":
        click.echo(json.dumps(documents, ensure_ascii=False, indent=2))
        return
    for document in documents:
        for claim in document["claims"]:
            if output_format == "jsonl":
                click.echo(json.dumps({"file": document["file"], **claim}, ensure_ascii=False))
            else:
                click.echo(_claim_line(document["file"], claim))


@click.command()
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


@click.command(
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
    add_help_option=False,
)
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def match(args: tuple[str, ...]) -> None:
    """Match claims, one a line, against a fact-check file: JSON Lines of matches.

    factcheck match --corpus FILE [--top K] [QUERIES|-] (--help for more)
    """
    from workers.matching.cli import main as match_main

    raise SystemExit(match_main(list(args)))


COMMANDS = (extract, score, match)
