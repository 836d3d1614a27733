"""Tests for workers.matching.cli: `factcheck match` output shape, --top, stdin, bad records."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from workers.matching.cli import main
from workers.matching.hard_cases import HARD_CORPUS

REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """The hard-case fact-checks as JSON Lines of ClaimReview objects, one line broken."""
    lines = [
        json.dumps(
            {
                "@type": "ClaimReview",
                "url": record.url,
                "claimReviewed": record.claim,
                "headline": f"Fact-check: {record.claim}",
                "reviewRating": {"@type": "Rating", "alternateName": record.rating},
                "author": {"@type": "Organization", "name": record.publisher},
                "datePublished": "2025-01-02",
            }
        )
        for record in HARD_CORPUS
    ]
    lines.insert(2, '{"@type": "ClaimReview", "url": "https://x.example/no-claim"}')
    path = tmp_path / "factchecks.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def run(argv: list[str], stdin: str = "") -> tuple[int, list[dict[str, object]]]:
    out = io.StringIO()
    status = main(argv, stdin=io.StringIO(stdin), stdout=out)
    return status, [json.loads(line) for line in out.getvalue().splitlines()]


def test_one_json_line_per_query_best_first_at_most_top(corpus: Path, capsys):
    status, lines = run(
        ["--corpus", str(corpus), "--top", "3"],
        "Covid jabs put tracking microchips in people\n\n"
        "The harbour bridge cost 4 billion dollars.\n",
    )
    assert status == 0
    assert [line["query"] for line in lines] == [
        "Covid jabs put tracking microchips in people",
        "The harbour bridge cost 4 billion dollars.",
    ]
    for line in lines:
        matches = line["matches"]
        assert isinstance(matches, list)
        assert len(matches) == 3
        assert all({"url", "claim", "confidence", "reason"} <= set(m) for m in matches)
        confidences = [m["confidence"] for m in matches]
        assert confidences == sorted(confidences, reverse=True)
    first, second = (line["matches"][0] for line in lines)
    assert first["url"] == "https://factcheck.example.org/reviews/vaccine-chips"
    assert first["rating"] == "false"
    assert first["publisher"] == "Example Checks"
    assert second["url"] == "https://factcheck.example.org/reviews/bridge-cost"
    assert second["decision"] == "refused"
    assert second["reason"].startswith("number: ")
    errors = capsys.readouterr().err
    assert "line 3: no claim text" in errors
    assert "9 fact-checks, 1 bad records skipped" in errors


def test_queries_from_a_file_default_to_ten_matches(corpus: Path, tmp_path: Path):
    queries = tmp_path / "queries.txt"
    queries.write_text("Wages in Scotland rose last year\n", encoding="utf-8")
    status, (line,) = run(["--corpus", str(corpus), str(queries)])
    assert status == 0
    assert len(line["matches"]) == 9  # every fact-check, weak ones included: under ten exist
    assert line["matches"][0]["reason"].startswith("negation: ")


def test_an_unreadable_or_empty_corpus_exits_2(tmp_path: Path, capsys):
    assert main(["--corpus", str(tmp_path / "missing.jsonl")], stdin=io.StringIO("x\n")) == 2
    empty = tmp_path / "empty.csv"
    empty.write_text("claim,url\n", encoding="utf-8")
    assert main(["--corpus", str(empty)], stdin=io.StringIO("x\n")) == 2
    assert "no fact-checks" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["--corpus", str(empty), "--top", "0"])


def test_python_dash_m_workers_matching_runs_the_command(corpus: Path):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    done = subprocess.run(
        [sys.executable, "-m", "workers.matching", "--corpus", str(corpus), "--top", "1", "-"],
        input="Trump opened the largest wind farm in Texas\n",
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        check=True,
        timeout=240,
    )
    (line,) = [json.loads(x) for x in done.stdout.splitlines()]
    (match,) = line["matches"]
    assert match["url"] == "https://factcheck.example.org/reviews/wind-farm"
    assert match["reason"].startswith("entity: ")
