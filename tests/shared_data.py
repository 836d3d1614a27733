"""The shared data folder the data tests read at run time (its text is never copied here).

Every test that needs it reads it through these helpers, so a checkout without the folder
skips exactly those tests, all for one reason: `-ra` prints it as one line.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.extraction.evaluate import data_dir

DATA_DIR = data_dir()
ARTICLES_DIR = DATA_DIR / "articles"
MISSING = (
    f"the shared data folder {DATA_DIR} is missing (set FACTCHECK_DATA_DIR to its path): "
    "the tests that read it are skipped"
)
# Known at collection, for parametrising; empty without the folder (see `shared_article`).
SHARED_ARTICLE_NAMES = sorted(p.name for p in ARTICLES_DIR.glob("*.txt"))
FIRST_ARTICLE = "000_dfb115d791d1cf54.txt"
SECOND_ARTICLE = "001_1c9f022aa12bfb98.txt"


def shared_path(relative: str) -> Path:
    """A file or folder of the shared data folder; skips the test when it is not there."""
    if not DATA_DIR.is_dir():
        pytest.skip(MISSING)
    path = DATA_DIR / relative
    # The folder is there but not this part of it: a renamed or lost file, which must fail
    # the test that needs it rather than skip it unnoticed.
    assert path.exists(), f"{path} is missing from the shared data folder"
    return path


def shared_articles() -> list[Path]:
    """The seed articles, in name order (at least one: an empty folder fails)."""
    articles = sorted(shared_path("articles").glob("*.txt"))
    assert articles, f"no seed articles in {DATA_DIR / 'articles'}"
    return articles


def shared_article(name: str) -> str:
    """One seed article's text, its own line endings kept (offsets refer to the file)."""
    with shared_path(f"articles/{name}").open(encoding="utf-8", newline="") as handle:
        return handle.read()


def article_names() -> list[str]:
    """The seed articles' names to parametrise a test with: one placeholder without the
    folder, so the test is collected and skipped, not silently absent."""
    return SHARED_ARTICLE_NAMES or ["no-shared-data"]
