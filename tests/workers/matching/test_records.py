"""Tests for workers.matching.records: every import format, broken records, duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from workers.extraction.evaluate import data_dir
from workers.matching.records import parse_factchecks, read_factchecks

REVIEW = {
    "@context": "https://schema.org",
    "@type": "ClaimReview",
    "url": "https://checks.example.org/2024/bus-fares",
    "claimReviewed": "Bus fares in Leeds doubled in 2023.",
    "datePublished": "2024-02-03T10:00:00Z",
    "inLanguage": "en",
    "sdLicense": "https://creativecommons.org/licenses/by/4.0/",
    "author": {"@type": "Organization", "name": "Example Checks"},
    "headline": "No, Leeds bus fares did not double",
    "reviewRating": {
        "@type": "Rating",
        "ratingValue": 1,
        "bestRating": 5,
        "alternateName": "False",
    },
    "itemReviewed": {
        "@type": "Claim",
        "author": {"@type": "Person", "name": "A Councillor"},
        "datePublished": "2024-01-20",
    },
}


def review(number: int, **changes: object) -> dict[str, object]:
    item = dict(REVIEW, url=f"https://checks.example.org/2024/review-{number}")
    item["claimReviewed"] = f"Claim number {number} about bus fares."
    item.update(changes)
    return item


def test_one_claimreview_object_keeps_rating_publisher_licence_language_and_dates():
    report = parse_factchecks(json.dumps(REVIEW))
    assert report.errors == []
    (record,) = report.records
    assert record.url == record.key == "https://checks.example.org/2024/bus-fares"
    assert record.claim == "Bus fares in Leeds doubled in 2023."
    assert record.rating == "False"
    assert record.publisher == "Example Checks"
    assert record.author == "Example Checks"
    assert record.licence == "https://creativecommons.org/licenses/by/4.0/"
    assert record.language == "en"
    assert record.date == "2024-02-03"
    assert record.claimant == "A Councillor"
    assert record.claim_date == "2024-01-20"
    assert record.headline == "No, Leeds bus fares did not double"


def test_an_array_keeps_the_good_records_and_reports_each_bad_one_by_index():
    items = [review(0), {"@type": "ClaimReview", "url": "https://x.example/1"}, review(2), 7]
    items.append(review(4, url="ftp://checks.example.org/4"))
    report = parse_factchecks(json.dumps(items))
    assert [r.claim for r in report.records] == [
        "Claim number 0 about bus fares.",
        "Claim number 2 about bus fares.",
    ]
    assert [(e.location, e.message.split(" ")[0]) for e in report.errors] == [
        ("index 1", "no"),
        ("index 3", "expected"),
        ("index 4", "url"),
    ]
    assert "claimReviewed" in report.errors[0].message


def test_a_datafeed_of_items_is_read_with_each_item_located():
    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [
            {
                "@type": "DataFeedItem",
                "item": [review(1), review(2, datePublished="yesterday-ish")],
            },
            {"@type": "DataFeedItem", "item": review(3)},
        ],
    }
    report = parse_factchecks(json.dumps(feed), "jsonld")
    assert [r.url for r in report.records] == [
        "https://checks.example.org/2024/review-1",
        "https://checks.example.org/2024/review-3",
    ]
    (error,) = report.errors
    assert error.location == "document dataFeedElement index 0 item index 1"
    assert "datePublished is not a date" in error.message


def test_json_lines_report_a_broken_line_by_number_and_read_flat_records_too(tmp_path: Path):
    lines = [
        json.dumps(review(1)),
        "",
        '{"url": "https://checks.example.org/flat", "claim": "Flat record.", "rating": "true"',
        json.dumps(
            {"url": "https://checks.example.org/flat", "claim": "Flat record.", "rating": "true"}
        ),
    ]
    path = tmp_path / "reviews.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    report = read_factchecks(path)
    assert [r.url for r in report.records] == [
        "https://checks.example.org/2024/review-1",
        "https://checks.example.org/flat",
    ]
    assert report.records[1].rating == "true"
    (error,) = report.errors
    assert error.location == "line 3"
    assert error.message.startswith("not JSON")


def test_csv_with_quoted_fields_aliases_and_a_short_row(tmp_path: Path):
    path = tmp_path / "checks.csv"
    path.write_text(
        "claimReviewed,review_url,truth_label,publisher,license,date\n"
        '"Taxes rose, then fell, in 2020.",https://checks.example.org/a,false,Example,CC-BY,2021-05-01\n'
        "Only two,columns\n"
        '"A claim\nover two lines.",https://checks.example.org/b,true,Example,CC-BY,2021-06-01\n',
        encoding="utf-8",
    )
    report = read_factchecks(path)
    assert [(r.claim, r.rating, r.licence, r.date) for r in report.records] == [
        ("Taxes rose, then fell, in 2020.", "false", "CC-BY", "2021-05-01"),
        ("A claim over two lines.", "true", "CC-BY", "2021-06-01"),
    ]
    (error,) = report.errors
    assert error.location == "line 3"
    assert "2 columns" in error.message


def test_tsv_is_read_without_quoting_so_a_leading_quote_stays_in_the_claim(tmp_path: Path):
    path = tmp_path / "checks.tsv"
    path.write_text(
        'claim_id\tclaim\turl\n1\t"Crime fell 10%," he said.\t\n2\t\t\n', encoding="utf-8"
    )
    report = read_factchecks(path)
    (record,) = report.records
    assert record.claim == '"Crime fell 10%," he said.'
    assert record.key == "id:1"
    assert record.url is None
    assert [e.location for e in report.errors] == ["line 3"]


def test_a_table_without_a_claim_column_is_refused_whole():
    with pytest.raises(ValueError, match="no claim column"):
        parse_factchecks("url,rating\nhttps://x.example/a,false\n", "csv")


def test_duplicates_collapse_on_the_review_url_the_later_winning_and_reimport_changes_nothing():
    items = [review(1), review(2), review(1, reviewRating={"alternateName": "Mostly false"})]
    first = parse_factchecks(json.dumps(items))
    assert first.duplicates == 1
    assert [(r.url, r.rating) for r in first.records] == [
        ("https://checks.example.org/2024/review-1", "Mostly false"),
        ("https://checks.example.org/2024/review-2", "False"),
    ]
    again = parse_factchecks(json.dumps(items + items))
    assert again.records == first.records
    assert again.summary() == "2 fact-checks, 0 bad records skipped, 4 duplicates collapsed"


def test_the_shared_politifact_collection_reads_whole():
    path = data_dir() / "fact-checked-claims" / "fact_checked_claims.tsv"
    if not path.exists():
        pytest.skip(f"{path} is not available")
    report = read_factchecks(path)
    # 32,080 rows, each keyed by its URL or, for LIAR rows without one, by its claim_id.
    assert len(report.records) == 32080
    assert report.errors == []
    with_url = [r for r in report.records if r.url]
    assert len(with_url) == 19244
    assert all(r.publisher == "PolitiFact" and r.rating for r in with_url)
