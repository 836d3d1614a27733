"""`factcheck import-factchecks` on the test database, and the demo's fact-checks."""

from __future__ import annotations

import json
import os

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from service.cli import main
from service.cli.demo import DEMO_FACTCHECKS, EXAMPLES, import_demo_factchecks
from service.db import session_scope
from service.domain.matching import Matching, match_text
from service.models import AuditEvent, FactCheck
from workers.extraction import encoder as encoder_module
from workers.matching.matcher import ConfidenceModel, MatchSettings
from workers.matching.records import read_factchecks

pytestmark = pytest.mark.usefixtures("database_url")

LICENCE = "https://creativecommons.org/licenses/by/4.0/"
CLAIMS = [
    "The city's new library opened three months ahead of schedule.",
    "Bus fares in the county have doubled since 2020.",
    "Most of the region's drinking water comes from a single reservoir.",
    "The council spends more on consultants than on road repairs.",
    "Unemployment in the city fell to its lowest level in a decade last year.",
]


def claim_review(n: int, claim: str, rating: str = "False") -> dict[str, object]:
    return {
        "@type": "ClaimReview",
        "url": f"https://checks.example.org/{n}",
        "claimReviewed": claim,
        "reviewRating": {"@type": "Rating", "alternateName": rating},
        "author": {"@type": "Person", "name": "Ana Ruiz"},
        "publisher": {"@type": "Organization", "name": "Example Checks"},
        "datePublished": "2024-05-01",
        "sdLicense": LICENCE,
    }


def data_feed(reviews: list[dict[str, object]]) -> str:
    items = [{"@type": "DataFeedItem", "item": review} for review in reviews]
    return json.dumps(
        {"@context": "https://schema.org", "@type": "DataFeed", "dataFeedElement": items}
    )


def jsonl(reviews: list[dict[str, object]]) -> str:
    return "".join(json.dumps(review) + "\n" for review in reviews)


def csv_text(first: int, claims: list[str]) -> str:
    rows = [
        f'{first + n},"{claim}",Mostly false,Example Checks,CC BY 4.0'
        for n, claim in enumerate(claims)
    ]
    return "id,claim,rating,publisher,licence\n" + "".join(row + "\n" for row in rows)


def run(*args: str) -> object:
    return CliRunner().invoke(main, ["import-factchecks", *args], catch_exceptions=False)


@pytest.fixture(autouse=True)
def _local_database(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)


def stored(sessions) -> dict[str, tuple[str | None, ...]]:
    with session_scope(sessions) as session:
        return {
            row.key: (row.claim, row.rating, row.rating_key, row.publisher, row.licence)
            for row in session.scalars(select(FactCheck))
        }


def test_a_jsonld_data_feed_is_imported_with_its_ratings_publishers_and_licences(
    tmp_path, sessions
):
    path = tmp_path / "feed.jsonld"
    path.write_text(data_feed([claim_review(n, claim) for n, claim in enumerate(CLAIMS)]))
    result = run(str(path))
    assert result.exit_code == 0, result.output
    assert f"{path}: 5 created, 0 updated, 0 unchanged, 0 bad records skipped" in result.stdout
    rows = stored(sessions)
    assert rows["https://checks.example.org/1"] == (
        CLAIMS[1],
        "False",
        "false",
        "Example Checks",
        LICENCE,
    )
    assert len(rows) == 5


def test_jsonl_and_csv_files_are_imported_in_one_run_each_summed_up(tmp_path, sessions):
    lines = tmp_path / "reviews.jsonl"
    lines.write_text(jsonl([claim_review(n, claim) for n, claim in enumerate(CLAIMS[:2])]))
    table = tmp_path / "reviews.csv"
    table.write_text(csv_text(100, CLAIMS[2:]))
    result = run(str(lines), str(table))
    assert result.exit_code == 0, result.output
    assert f"{lines}: 2 created" in result.stdout
    assert f"{table}: 3 created" in result.stdout
    assert "total: 5 created, 0 updated, 0 unchanged, 0 bad records skipped" in result.stdout
    rows = stored(sessions)
    assert rows["id:100"] == (
        CLAIMS[2],
        "Mostly false",
        "mostly-false",
        "Example Checks",
        "CC BY 4.0",
    )


def test_a_format_option_reads_a_file_whose_name_does_not_tell(tmp_path, sessions):
    path = tmp_path / "export.txt"
    path.write_text(csv_text(1, CLAIMS[:2]).replace(",", "\t").replace('"', ""))
    result = run("--format", "tsv", str(path))
    assert result.exit_code == 0, result.output
    assert set(stored(sessions)) == {"id:1", "id:2"}


def test_bad_records_are_reported_with_their_line_and_the_rest_imported(tmp_path, sessions):
    path = tmp_path / "reviews.jsonl"
    good = [claim_review(n, claim) for n, claim in enumerate(CLAIMS)]
    no_claim = claim_review(9, "") | {"claimReviewed": None}
    text = (
        jsonl(good[:2])
        + '{"url": "https://checks.example.org/cut"\n'
        + jsonl([no_claim, *good[2:]])
    )
    path.write_text(text)
    result = run(str(path))
    assert result.exit_code == 1
    assert f"{path}: line 3: not JSON" in result.stderr
    assert f"{path}: line 4: no claim text" in result.stderr
    assert f"{path}: 5 created, 0 updated, 0 unchanged, 2 bad records skipped" in result.stdout
    assert len(stored(sessions)) == 5


def test_importing_again_changes_nothing_and_a_changed_record_is_updated(tmp_path, sessions):
    path = tmp_path / "feed.json"
    reviews = [claim_review(n, claim) for n, claim in enumerate(CLAIMS)]
    path.write_text(json.dumps([*reviews, reviews[0]]))  # the repeat collapses into one
    first = run(str(path))
    assert (
        "5 created, 0 updated, 0 unchanged, 0 bad records skipped, 1 duplicates collapsed"
        in first.stdout
    )
    again = run(str(path))
    assert again.exit_code == 0
    assert "0 created, 0 updated, 5 unchanged" in again.stdout
    reviews[3]["reviewRating"] = {"@type": "Rating", "alternateName": "Misleading"}
    path.write_text(json.dumps(reviews))
    assert "0 created, 1 updated, 4 unchanged" in run(str(path)).stdout
    assert stored(sessions)["https://checks.example.org/3"][1:3] == ("Misleading", "misleading")
    with session_scope(sessions) as session:
        imports = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "factchecks.imported")
        ).all()
    assert [event.actor for event in imports] == ["cli", "cli"]  # the unchanged import wrote none


def test_an_interrupted_import_keeps_the_batches_it_committed(tmp_path, sessions, monkeypatch):
    path = tmp_path / "feed.jsonld"
    path.write_text(data_feed([claim_review(n, claim) for n, claim in enumerate(CLAIMS)]))
    encoder = encoder_module.load_encoder()
    batches = []

    def encode_but_interrupt_the_third_batch(texts):
        batches.append(texts)
        if len(batches) == 3:
            raise KeyboardInterrupt
        return type(encoder).encode(encoder, texts)

    monkeypatch.setattr(encoder, "encode", encode_but_interrupt_the_third_batch)
    interrupted = run("--batch", "2", str(path))
    assert interrupted.exit_code == 130
    assert "interrupted: the batches committed so far are kept" in interrupted.stderr
    assert len(stored(sessions)) == 4  # two batches of two
    resumed = run("--batch", "2", str(path))
    assert resumed.exit_code == 0
    assert "1 created, 0 updated, 4 unchanged" in resumed.stdout
    assert [len(texts) for texts in batches] == [
        2,
        2,
        1,
        1,
    ]  # the 4 committed are not encoded again


def test_a_file_that_cannot_be_read_exits_2_and_the_other_files_still_import(tmp_path, sessions):
    broken = tmp_path / "broken.json"
    broken.write_text('[{"claimReviewed": "A claim", "url": "https://checks.example.org/x"')
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes(
        "claim,url\nLa réforme coûte trop cher,https://checks.example.org/y\n".encode("latin-1")
    )
    no_claim = tmp_path / "columns.csv"
    no_claim.write_text("statement,url\nA claim,https://checks.example.org/z\n")
    missing = tmp_path / "missing.jsonl"
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl([claim_review(1, CLAIMS[1])]))
    result = run(str(broken), str(latin1), str(no_claim), str(missing), str(good))
    assert result.exit_code == 2
    assert f"{broken}: cannot be read: not a JSON document" in result.stderr
    assert f"{latin1}: cannot be read: 'utf-8' codec can't decode" in result.stderr
    assert f"{no_claim}: cannot be read: no claim column" in result.stderr
    assert f"{missing}: cannot be read: No such file or directory" in result.stderr
    assert f"{good}: 1 created" in result.stdout
    assert result.stdout.endswith(", 0 duplicates collapsed, 4 files not read\n")
    assert set(stored(sessions)) == {"https://checks.example.org/1"}


def test_the_demo_factchecks_parse_whole_with_a_publisher_and_licence_each():
    report = read_factchecks(DEMO_FACTCHECKS)
    assert (report.errors, report.duplicates) == ([], 0)
    assert 6 <= len(report.records) <= 10
    assert all(r.publisher and r.licence and r.rating and r.date for r in report.records)


def test_the_demo_factchecks_import_once_and_match_a_claim_of_a_demo_article(
    database_url, sessions
):
    env = dict(os.environ, DATABASE_URL=database_url)
    assert import_demo_factchecks(env)
    assert import_demo_factchecks(env)  # a restart of the demo imports nothing new
    assert len(stored(sessions)) == len(read_factchecks(DEMO_FACTCHECKS).records)
    article = (EXAMPLES / "heatwave-power-demand.txt").read_text()
    sentence = next(line for line in article.splitlines() if line.startswith("Solar panels"))
    encoder = encoder_module.load_encoder()
    with session_scope(sessions) as session:
        (found,) = match_text(
            session,
            [sentence],
            encoder.encode([sentence]),
            Matching(MatchSettings(), ConfidenceModel.load()),
        )
    best = found[0].match
    assert best.factcheck.key == "https://checks.example.org/2024/06/solar-third-of-electricity"
    assert best.decision in {"suggest", "match"}
    assert best.factcheck.rating == "Misleading"
