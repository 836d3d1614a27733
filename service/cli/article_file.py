"""Article files as `factcheck submit`, `extract` and `up --demo` read them.

The shape of examples/*.txt and of the shared sample articles::

    date 2026-01-19 Headline of the story        <- the title; a leading `date YYYY-MM-DD`
                                                    is the publication date
    By Staff, Agencies                           <- optional byline: the authors
    The first paragraph ...                      <- the body, as stored

Blank lines may separate the three parts. The body is what the service stores, so claim
offsets printed by `factcheck extract FILE` are offsets into the stored article's body.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

DATED_TITLE = re.compile(r"date\s+(\d{4}-\d{2}-\d{2})\s+(.*)", re.IGNORECASE)
# "By Priya Natarajan", "By Staff, Agencies", "By Ana Ruiz and Li Wei": short, no full stop
# and no digits (so "By 2030 the city will ..." is body).
BYLINE = re.compile(r"by\s+([^.!?\d]{2,120})", re.IGNORECASE)
AUTHOR_SEPARATOR = re.compile(r",\s*|\s+and\s+|\s*&\s*")


def parse_article(text: str) -> dict[str, Any]:
    """Title, publication date, authors and body of an article file's text.

    Keys are the API's article fields; `published_at` and `authors` only when the file has
    them. A file of one line is a body without a title.
    """
    lines = text.split("\n")
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None or first == len(lines) - 1 or not "".join(lines[first + 1 :]).strip():
        return {"title": None, "body": text.strip("\n")}
    article: dict[str, Any] = {}
    title = lines[first].strip()
    dated = DATED_TITLE.fullmatch(title)
    if dated:
        article["published_at"] = f"{dated.group(1)}T00:00:00Z"
        title = dated.group(2).strip()
    article["title"] = title or None
    rest = lines[first + 1 :]
    following = next((i for i, line in enumerate(rest) if line.strip()), 0)
    byline = BYLINE.fullmatch(rest[following].strip())
    if byline:
        authors = [name.strip() for name in AUTHOR_SEPARATOR.split(byline.group(1))]
        article["authors"] = [name for name in authors if name]
        rest = rest[following + 1 :]
    article["body"] = "\n".join(rest).strip("\n")
    return article


def read_article_file(path: Path, source: str) -> dict[str, Any]:
    """The article in `path`, to submit under `source`.

    Its name without the extension is the external_id, so submitting it again under the same
    source returns the same article. No language is declared: the worker detects it.
    """
    article = parse_article(path.read_text(encoding="utf-8"))
    return {**article, "source": source, "external_id": path.stem}
