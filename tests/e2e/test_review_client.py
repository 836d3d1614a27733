"""The Python client and the reviewer commands against a running API (gunicorn) and worker.

The whole review flow: submit -> queue -> show -> take -> verdict with evidence -> publish
(editor) -> CSV export holding the published verdict.
"""

from __future__ import annotations

import csv
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.client import ApiError, FactcheckClient
from tests.conftest import ADMIN_TOKEN
from tests.factories import ApiProcess, free_port, wait_until

pytestmark = pytest.mark.e2e

FACTCHECK = Path(sys.executable).parent / "factcheck"
BODY = (
    "City spending rose 18% to $4.7 million in 2025, the council said on Monday. "
    "Unemployment in the region fell to 3.2%, the lowest since 1998, according to the mayor. "
    "Residents enjoyed the new park."
)


@pytest.fixture
def api_url(settings, tmp_path) -> Iterator[str]:
    """`factcheck api` (one worker) on a free port against the test database."""
    api = ApiProcess(settings, tmp_path)
    yield api.url
    api.stop()


def factcheck(*args: str, token: str, url: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FACTCHECK_URL": url, "FACTCHECK_TOKEN": token}
    env.pop("DATABASE_URL", None)
    result = subprocess.run(
        [str(FACTCHECK), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )
    assert token not in result.stdout + result.stderr, "a command printed the token"
    return result


def test_review_flow_through_client_and_cli(api_url, start_worker, make_token, tmp_path):
    start_worker()
    reviewer_token, editor_token = make_token("reviewer"), make_token("editor")
    reviewer = FactcheckClient(api_url, reviewer_token)
    editor = FactcheckClient(api_url, editor_token)

    story = tmp_path / "budget.txt"
    story.write_text(f"Budget and jobs\n\n{BODY}\n", encoding="utf-8")
    submitted = factcheck("submit", str(story), "--source", "e2e-desk", token=ADMIN_TOKEN,
                          url=api_url)  # fmt: skip
    assert submitted.returncode == 0, submitted.stderr
    article_id = int(re.search(r'"id": (\d+)', submitted.stdout).group(1))  # type: ignore[union-attr]
    wait_until(lambda: reviewer.get_article(article_id)["status"] == "processed", 90, "extraction")

    # The queue, through the client (following cursors) and the CLI.
    queued = list(reviewer.iter_queue(article=article_id, limit=1))
    assert len(queued) >= 2, "pages of one claim must be followed to the end"
    claim = queued[0]
    assert claim["checkworthiness"] >= queued[-1]["checkworthiness"]
    listed = factcheck("queue", "--article", str(article_id), token=reviewer_token, url=api_url)
    assert listed.returncode == 0, listed.stderr
    assert [int(line.split()[0]) for line in listed.stdout.splitlines()] == [
        c["id"] for c in queued
    ]
    # What the council and the mayor said is offered apart from its sentence: --kind lists it.
    said = [c for c in queued if c["kind"] == "reported"]
    assert {c["speaker"] for c in said} == {"the council", "the mayor"}
    reported = factcheck(
        "queue", "--article", str(article_id), "--kind", "reported",
        token=reviewer_token, url=api_url,
    )  # fmt: skip
    assert reported.returncode == 0, reported.stderr
    assert [int(line.split()[0]) for line in reported.stdout.splitlines()] == [
        c["id"] for c in said
    ]

    # Show: the claim marked inside its article text.
    shown = factcheck("claim", "show", str(claim["id"]), token=reviewer_token, url=api_url)
    assert shown.returncode == 0, shown.stderr
    assert f"[[{claim['text']}]]" in shown.stdout
    context = reviewer.claim_context(claim["id"], width=30)
    assert context.text == claim["text"]
    assert BODY[claim["start"] - len(context.before) : claim["start"]] == context.before
    assert context.after == BODY[claim["end"] : claim["end"] + 30]

    taken = factcheck("claim", "take", str(claim["id"]), token=reviewer_token, url=api_url)
    assert taken.returncode == 0, taken.stderr
    assert "is yours (in_review" in taken.stdout

    added = factcheck(
        "verdict", "add", str(claim["id"]), "--rating", "mostly-false",
        "--summary", "Spending rose 14%, not 18%.",
        "--evidence", "https://stats.example.gov/budget?y=2025,refutes",
        "--evidence", "https://news.example.org/council",
        token=reviewer_token, url=api_url,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    verdict_id = int(re.search(r"verdict (\d+) added", added.stdout).group(1))  # type: ignore[union-attr]
    assert "2 evidence" in added.stdout

    # Rated, the claim can be marked reviewed (a claim is published from there). PATCH
    # reads the ETag and sends If-Match; a stale ETag is a 412 carried by ApiError.
    stale = reviewer.get_claim(claim["id"])["etag"]
    reviewed = factcheck(
        "claim", "status", str(claim["id"]), "reviewed", token=reviewer_token, url=api_url
    )
    assert reviewed.returncode == 0, reviewed.stderr
    assert f"claim {claim['id']} is reviewed" in reviewed.stdout
    assert reviewer.get_claim(claim["id"])["status"] == "reviewed"
    with pytest.raises(ApiError) as refused:
        reviewer.update_claim(claim["id"], {"status": "in_review"}, etag=stale)
    assert refused.value.status == 412
    assert refused.value.title.lower() == "precondition failed"
    assert "changed since you read it" in (refused.value.detail or "")

    # Reviewers may not publish: a clear message and a non-zero exit.
    denied = factcheck("verdict", "publish", str(verdict_id), token=reviewer_token, url=api_url)
    assert denied.returncode == 1
    assert "403 Forbidden" in denied.stderr
    assert "verdicts:publish" in denied.stderr
    published = factcheck("verdict", "publish", str(verdict_id), token=editor_token, url=api_url)
    assert published.returncode == 0, published.stderr
    assert f"verdict {verdict_id} published" in published.stdout
    assert editor.get_verdict(verdict_id)["status"] == "published"

    # The export holds the published verdict, through the CLI and through the client.
    out = tmp_path / "claims.csv"
    exported = factcheck(
        "export", "claims", "--out", str(out), "--article", str(article_id),
        "--verdicts", "published", token=reviewer_token, url=api_url,
    )  # fmt: skip
    assert exported.returncode == 0, exported.stderr
    assert f"{len(queued)} rows written" in exported.stderr
    with out.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == len(queued)
    (row,) = [r for r in rows if r["verdict_id"]]
    assert row["claim_id"] == str(claim["id"])
    assert row["verdict_id"] == str(verdict_id)
    assert row["verdict_status"] == "published"
    assert row["rating_label"] == "Mostly false"
    assert row["claim_text"] == claim["text"]
    assert row["evidence"].splitlines() == [
        "refutes https://stats.example.gov/budget?y=2025",
        "context https://news.example.org/council",
    ]
    ticks: list[int] = []
    copy = tmp_path / "copy.csv"
    count = editor.export_claims(copy, progress=ticks.append, progress_every=1, article=article_id,
                                 verdicts="published")  # fmt: skip
    assert count == len(queued)
    assert ticks[-1] == count
    assert len(ticks) > 1
    assert copy.read_bytes() == out.read_bytes()


def test_cli_errors_are_clear_and_exit_non_zero(api_url, tmp_path):
    wrong = factcheck("queue", token="fct_not_a_real_token", url=api_url)
    assert wrong.returncode == 1
    assert "401 Unauthorized" in wrong.stderr

    missing = factcheck("claim", "show", "999999999", token=ADMIN_TOKEN, url=api_url)
    assert missing.returncode == 1
    assert "404 Not found: Claim 999999999 does not exist" in missing.stderr

    out = tmp_path / "never.csv"
    down = factcheck("export", "claims", "--out", str(out), token=ADMIN_TOKEN,
                     url=f"http://127.0.0.1:{free_port()}")  # fmt: skip
    assert down.returncode == 1
    assert "unreachable" in down.stderr
    assert not out.exists()
    assert not Path(str(out) + ".part").exists()
