"""The team's own check-worthiness labels for whole news articles (../shared/data/news-text).

The text stays in the shared folder; the repository holds only labels keyed to
(article id, start, end), code-point offsets of the engine's own segments into the article's
body. The guide the labels follow is workers/extraction/labels/GUIDE.md.

    python -m workers.extraction.news_labels show [--articles ID ...] [--second-pass]
        every segment to label, as TSV: article, start, end, kind, text
    python -m workers.extraction.news_labels check [FILE]
        every segment labelled exactly once, with a known label and category
    python -m workers.extraction.news_labels kappa [FILE_A FILE_B]
        Cohen's kappa of two passes over the segments both labelled
    python -m workers.extraction.news_labels split
        articles per split (train/dev, by article) and their sentence and positive counts
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import cohen_kappa_score

from workers.extraction.evaluate import data_dir
from workers.extraction.segment import split_sentences

LABELS_DIR = Path(__file__).resolve().parent / "labels"
FIRST_PASS = LABELS_DIR / "news-text.tsv"
SECOND_PASS = LABELS_DIR / "news-text.second-pass.tsv"
NEWS_FILE = Path("news-text") / "wikinews_gum.jsonl"
COLUMNS = ("article", "start", "end", "label", "category")
POSITIVE_CATEGORIES = frozenset(
    {"statistic", "causal", "record", "prediction", "reported", "factual"}
)
NEGATIVE_CATEGORIES = frozenset(
    {"opinion", "rhetoric", "question", "boilerplate", "personal", "trivial", "unverifiable"}
)
# About one article in five goes to dev, chosen by a hash of its id, so the split is the same
# on every machine and never depends on the labels.
DEV_SHARE = 0.2
# The second, independent pass covers at least this share of the segments, in whole articles.
SECOND_PASS_SHARE = 0.1


@dataclass(frozen=True)
class NewsSegment:
    article: str
    start: int
    end: int
    kind: str
    text: str

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.article, self.start, self.end)


@dataclass(frozen=True)
class Label:
    article: str
    start: int
    end: int
    label: bool
    category: str

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.article, self.start, self.end)


def load_articles(directory: Path | None = None) -> list[dict]:
    path = (directory or data_dir()) / NEWS_FILE
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def article_segments(article: dict) -> list[NewsSegment]:
    return [
        NewsSegment(article["id"], s.start, s.end, s.kind, s.text)
        for s in split_sentences(article["body"])
    ]


def _rank(article_id: str) -> float:
    digest = hashlib.sha256(article_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def split_of(article_id: str) -> str:
    return "dev" if _rank(article_id) < DEV_SHARE else "train"


def second_pass_articles(articles: Sequence[dict]) -> list[str]:
    """Whole articles, taken in hash order, until they hold SECOND_PASS_SHARE of the segments."""
    sizes = {a["id"]: len(article_segments(a)) for a in articles}
    wanted = SECOND_PASS_SHARE * sum(sizes.values())
    chosen: list[str] = []
    total = 0
    for article_id in sorted(sizes, key=lambda i: _rank("second-pass:" + i)):
        if total >= wanted:
            break
        chosen.append(article_id)
        total += sizes[article_id]
    return chosen


def pass_articles(path: Path, articles: Sequence[dict], labels: Iterable[Label]) -> set[str]:
    """The articles a pass must cover: all of them for the first, the sample for the second,
    the ones it names for any other file."""
    if path.resolve() == FIRST_PASS.resolve():
        return {article["id"] for article in articles}
    if path.resolve() == SECOND_PASS.resolve():
        return set(second_pass_articles(articles))
    return {label.article for label in labels}


def read_labels(path: Path) -> list[Label]:
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        if tuple(reader.fieldnames or ()) != COLUMNS:
            raise ValueError(f"{path}: columns must be {', '.join(COLUMNS)}")
        return [
            Label(
                row["article"],
                int(row["start"]),
                int(row["end"]),
                row["label"] == "1",
                row["category"],
            )
            for row in reader
        ]


def problems(labels: Iterable[Label], segments: Iterable[NewsSegment]) -> list[str]:
    """What is wrong with a pass over `segments`: each must be labelled once, consistently."""
    known = {s.key: s for s in segments}
    found: list[str] = []
    seen: set[tuple[str, int, int]] = set()
    for label in labels:
        where = f"{label.article} {label.start}-{label.end}"
        if label.key not in known:
            found.append(f"{where}: no such segment")
        if label.key in seen:
            found.append(f"{where}: labelled twice")
        seen.add(label.key)
        allowed = POSITIVE_CATEGORIES if label.label else NEGATIVE_CATEGORIES
        if label.category not in allowed:
            found.append(
                f"{where}: category {label.category!r} is not one of label {label.label:d}"
            )
    for key in known.keys() - seen:
        found.append(f"{key[0]} {key[1]}-{key[2]}: not labelled")
    return found


def _show(articles: list[dict], ids: Sequence[str] | None) -> None:
    writer = csv.writer(sys.stdout, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar="\\")
    writer.writerow(("article", "start", "end", "kind", "text"))
    for article in articles:
        if ids and article["id"] not in ids:
            continue
        for segment in article_segments(article):
            writer.writerow(
                (segment.article, segment.start, segment.end, segment.kind, segment.text)
            )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m workers.extraction.news_labels")
    commands = parser.add_subparsers(dest="command", required=True)
    show = commands.add_parser("show", help="the segments to label, as TSV")
    show.add_argument("--articles", nargs="*", help="only these article ids")
    show.add_argument("--second-pass", action="store_true", help="only the second pass's")
    check = commands.add_parser("check", help="validate a pass against the segments")
    check.add_argument("file", nargs="?", type=Path, default=FIRST_PASS)
    kappa = commands.add_parser("kappa", help="Cohen's kappa of two passes")
    kappa.add_argument("first", nargs="?", type=Path, default=FIRST_PASS)
    kappa.add_argument("second", nargs="?", type=Path, default=SECOND_PASS)
    commands.add_parser("split", help="train/dev articles and counts")
    args = parser.parse_args(argv)

    try:
        articles = load_articles()
    except FileNotFoundError as error:
        print(f"news_labels: the news articles are missing: {error.filename}", file=sys.stderr)
        return 2
    if args.command == "show":
        ids = second_pass_articles(articles) if args.second_pass else args.articles
        _show(articles, ids)
        return 0
    if args.command == "check":
        labels = read_labels(args.file)
        ids = pass_articles(args.file, articles, labels)
        segments = [s for a in articles if a["id"] in ids for s in article_segments(a)]
        found = problems(labels, segments)
        for problem in found:
            print(problem)
        positives = sum(label.label for label in labels)
        print(
            f"{len(labels)} labels over {len(ids)} articles, {positives} check-worthy; "
            f"{len(found)} problems"
        )
        return 1 if found else 0
    if args.command == "kappa":
        first = {label.key: label.label for label in read_labels(args.first)}
        second = {label.key: label.label for label in read_labels(args.second)}
        both = sorted(first.keys() & second.keys())
        if not both:
            print("kappa: the two passes share no segment", file=sys.stderr)
            return 1
        value = cohen_kappa_score([first[k] for k in both], [second[k] for k in both])
        agree = sum(first[k] == second[k] for k in both)
        print(
            f"{len(both)} segments in both passes, {agree} agree "
            f"({agree / len(both):.1%}); Cohen's kappa {value:.3f}"
        )
        return 0
    labels_by_key = (
        {label.key: label.label for label in read_labels(FIRST_PASS)}
        if FIRST_PASS.is_file()
        else {}
    )
    for split in ("train", "dev"):
        chosen = [a for a in articles if split_of(a["id"]) == split]
        segments = [s for a in chosen for s in article_segments(a)]
        positives = sum(labels_by_key.get(s.key, False) for s in segments)
        print(f"{split}: {len(chosen)} articles, {len(segments)} segments, {positives} positive")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
