"""The team's news labels: a pass must label every segment once, with a category of its label;
the shipped passes do, over the articles in ../shared (skipped when it is missing)."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from tests.shared_data import shared_path
from workers.extraction import news_labels
from workers.extraction.news_labels import Label, NewsSegment, problems

SEGMENTS = [
    NewsSegment("a", 0, 20, "sentence", "x" * 20),
    NewsSegment("a", 21, 40, "sentence", "y" * 19),
]


def test_a_complete_pass_has_no_problems():
    labels = [Label("a", 0, 20, True, "statistic"), Label("a", 21, 40, False, "opinion")]
    assert problems(labels, SEGMENTS) == []


@pytest.mark.parametrize(
    ("labels", "expected"),
    [
        ([Label("a", 0, 20, True, "statistic")], "a 21-40: not labelled"),
        (
            [Label("a", 0, 20, True, "statistic")] * 2 + [Label("a", 21, 40, False, "opinion")],
            "a 0-20: labelled twice",
        ),
        (
            [Label("a", 0, 21, True, "statistic"), Label("a", 21, 40, False, "opinion")],
            "a 0-21: no such segment",
        ),
        (
            [Label("a", 0, 20, False, "statistic"), Label("a", 21, 40, False, "opinion")],
            "a 0-20: category 'statistic' is not one of label 0",
        ),
    ],
)
def test_each_kind_of_mistake_is_named(labels, expected):
    assert expected in problems(labels, SEGMENTS)


def test_a_file_with_other_columns_is_refused(tmp_path):
    path = tmp_path / "pass.tsv"
    path.write_text("article\tstart\tend\tlabel\n", encoding="utf-8")
    with pytest.raises(ValueError, match="columns must be"):
        news_labels.read_labels(path)


def test_splits_are_by_whole_article_and_stable():
    assert news_labels.split_of("GUM_news_nasa") == "dev"
    assert {news_labels.split_of(f"article-{i}") for i in range(50)} == {"train", "dev"}


@functools.cache
def news_articles() -> list[dict]:
    """The labelled news articles, read once (the test is skipped without the data)."""
    shared_path(str(news_labels.NEWS_FILE))
    return news_labels.load_articles()


@pytest.mark.parametrize(
    "path", [news_labels.FIRST_PASS, news_labels.SECOND_PASS], ids=Path.name.fget
)
def test_the_shipped_passes_label_every_segment_of_their_articles(path):
    articles = news_articles()
    labels = news_labels.read_labels(path)
    ids = news_labels.pass_articles(path, articles, labels)
    segments = [s for a in articles if a["id"] in ids for s in news_labels.article_segments(a)]
    assert problems(labels, segments) == []
    if path == news_labels.SECOND_PASS:
        assert len(labels) >= news_labels.SECOND_PASS_SHARE * sum(
            len(news_labels.article_segments(a)) for a in articles
        )


def test_kappa_is_reported_over_the_segments_both_passes_label(capsys):
    news_articles()
    assert news_labels.main(["kappa"]) == 0
    assert "Cohen's kappa" in capsys.readouterr().out
