"""`factcheck match` offline: fact-checks from a file, queries one a line, matches as JSON Lines.

    python -m workers.matching --corpus FILE [--top K] [QUERIES|-]

The corpus is a fact-check file in any import format (workers.matching.records); its bad
records are reported on stderr with their line or index and skipped. Each non-blank line of
QUERIES (standard input when "-" or absent) is one query, answered at once with one line
`{"query": ..., "matches": [{"url", "claim", "confidence", "reason", ...}, ...]}`, best first,
at most K (default 10), candidates below the suggest threshold included so rankings can be
evaluated. No database.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterable, Sequence
from typing import TextIO

from workers.matching.matcher import FactCheckIndex
from workers.matching.records import read_factchecks

__all__ = ["main", "match_lines"]

DEFAULT_TOP = 10


def match_lines(
    index: FactCheckIndex, lines: Iterable[str], out: TextIO, top: int = DEFAULT_TOP
) -> int:
    """Write one JSON line of matches per non-blank line of `lines`; the number of queries."""
    count = 0
    for line in lines:
        query = line.rstrip("\r\n")
        if not query.strip():
            continue
        (matches,) = index.match([query], top=top)
        out.write(
            json.dumps(
                {"query": query, "matches": [m.to_dict() for m in matches]}, ensure_ascii=False
            )
        )
        out.write("\n")
        out.flush()
        count += 1
    return count


def _top(raw: str) -> int:
    value = int(raw)
    if value < 1:
        raise argparse.ArgumentTypeError("--top must be at least 1")
    return value


def main(
    argv: Sequence[str] | None = None, stdin: TextIO | None = None, stdout: TextIO | None = None
) -> int:
    """Run `match` with `argv` (the arguments after the command name); the exit status."""
    parser = argparse.ArgumentParser(
        prog="factcheck match",
        description="Match claims, one a line, against a fact-check file (no database).",
    )
    parser.add_argument(
        "--corpus", required=True, help="fact-checks: ClaimReview JSON-LD, JSON Lines, CSV or TSV"
    )
    parser.add_argument(
        "--top", type=_top, default=DEFAULT_TOP, help="matches per query (default 10)"
    )
    parser.add_argument(
        "queries", nargs="?", default="-", help="a file of queries, one a line, or - (default)"
    )
    args = parser.parse_args(argv)
    stdin = sys.stdin if stdin is None else stdin
    stdout = sys.stdout if stdout is None else stdout
    try:
        report = read_factchecks(args.corpus)
    except (OSError, ValueError) as error:
        print(f"factcheck match: cannot read {args.corpus}: {error}", file=sys.stderr)
        return 2
    for bad in report.errors:
        print(f"factcheck match: {args.corpus}: {bad} (skipped)", file=sys.stderr)
    print(f"factcheck match: {args.corpus}: {report.summary()}", file=sys.stderr)
    if not report.records:
        print(f"factcheck match: no fact-checks in {args.corpus}", file=sys.stderr)
        return 2
    index = FactCheckIndex(report.records)
    if args.queries == "-":
        match_lines(index, stdin, stdout, args.top)
    else:
        try:
            with open(args.queries, encoding="utf-8") as queries:
                match_lines(index, queries, stdout, args.top)
        except OSError as error:
            print(f"factcheck match: cannot read {args.queries}: {error}", file=sys.stderr)
            return 2
    return 0
