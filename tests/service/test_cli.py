"""The `factcheck` command's database-side subcommands (the `up` path is tested end to end)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, text
from werkzeug.serving import make_server

from service.app import create_app
from service.cli import main
from service.cli.article_file import parse_article, read_article_file
from service.cli.common import failure_message
from service.cli.demo import demo_user_token
from service.client import ApiError, FactcheckClient
from service.config import ConfigError
from service.db import psycopg2_url, session_scope
from service.domain.extraction import store_claims
from service.webhook_signing import signature
from tests.conftest import ADMIN_TOKEN
from tests.factories import FACTCHECK, article_payload, free_port, wait_until
from workers.extraction.engine import extract

TAKE_BODY = "Unemployment fell to 4.1% in May, the lowest since 2001."


def test_users_create_prints_a_working_token_once(database_url, client, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["users", "create", "ed", "--role", "editor"])
    assert result.exit_code == 0, result.output
    token = result.output.strip().splitlines()[-1]
    assert token.startswith("fct_")
    response = client.get("/api/v1/articles", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200


def test_users_create_refuses_a_duplicate_name(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    CliRunner().invoke(main, ["users", "create", "dup", "--role", "viewer"])
    result = CliRunner().invoke(main, ["users", "create", "dup", "--role", "viewer"])
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_users_create_refuses_an_unknown_role(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(main, ["users", "create", "x", "--role", "superuser"])
    assert result.exit_code == 2
    assert "superuser" in result.output


def test_db_upgrade_is_idempotent(database_url, monkeypatch, engine):
    monkeypatch.setenv("DATABASE_URL", database_url)
    for _ in range(2):
        result = CliRunner().invoke(main, ["db", "upgrade"])
        assert result.exit_code == 0, result.output
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT version_num FROM alembic_version"))


def test_db_commands_announce_the_embedded_database_they_fall_back_to(tmp_path, monkeypatch):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    home = tmp_path / "home"
    result = CliRunner().invoke(main, ["db", "upgrade", "--home", str(home)])
    assert result.exit_code == 0, result.output
    notice = result.stderr.splitlines()[0]
    assert str(home.resolve() / "pgdata") in notice
    assert "DATABASE_URL" in notice
    assert "embedded" not in result.stdout, "the notice goes to stderr, not into piped output"


@pytest.mark.parametrize(
    "command", [["db", "upgrade"], ["users", "create", "ops", "--role", "admin"]]
)
def test_db_commands_without_the_embedded_extra_fail_clearly(tmp_path, monkeypatch, command):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setitem(sys.modules, "pgserver", None)  # as if the extra were not installed
    result = CliRunner().invoke(main, [*command, "--home", str(tmp_path)])
    assert result.exit_code == 1
    assert "DATABASE_URL" in result.stderr
    assert "factcheck[embedded]" in result.stderr
    assert "Traceback" not in result.output
    assert not isinstance(result.exception, ModuleNotFoundError)


def test_db_upgrade_refusal_is_a_message_not_a_traceback(scratch_url, monkeypatch):
    from service.migrations import upgrade

    upgrade(scratch_url, "0007")
    scratch = create_engine(psycopg2_url(scratch_url))
    with scratch.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO articles (external_id, body, content_hash) "
                "VALUES ('wire-9', 'a', 'a'), ('wire-9', 'b', 'b')"
            )
        )
    scratch.dispose()
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    result = CliRunner().invoke(main, ["db", "upgrade"])
    assert result.exit_code == 1
    assert "'wire-9'" in result.stderr
    assert "HAVING count(*) > 1" in result.stderr
    assert "Traceback" not in result.output


def test_read_article_file_splits_title_and_body(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Headline here\n\nFirst paragraph.\n\nSecond.\n", encoding="utf-8")
    article = read_article_file(path, "desk")
    assert article == {
        "title": "Headline here",
        "body": "First paragraph.\n\nSecond.",
        "source": "desk",
        "external_id": "story",
    }


def test_an_article_file_gives_its_date_and_byline_as_fields_not_as_the_title():
    """The shape of the shared sample articles: a dated title line and a byline."""
    text = " date 2026-01-19 Ports reopen after the storm\n\nBy Staff, Agencies\n\nThe port said.\n"
    assert parse_article(text) == {
        "title": "Ports reopen after the storm",
        "published_at": "2026-01-19T00:00:00Z",
        "authors": ["Staff", "Agencies"],
        "body": "The port said.",
    }
    both = parse_article("Title\nBy Ana Ruiz and Li Wei\nBody text.")
    assert both["authors"] == ["Ana Ruiz", "Li Wei"]
    assert both["body"] == "Body text."


def test_an_article_file_without_blank_lines_or_byline_keeps_its_first_sentence():
    assert parse_article("Title\nBy 2030 the city will have 10 stations.\nMore.") == {
        "title": "Title",
        "body": "By 2030 the city will have 10 stations.\nMore.",
    }
    assert parse_article("Only one line of text.\n") == {
        "title": None,
        "body": "Only one line of text.",
    }


def test_extract_prints_checkworthy_claims_offline(tmp_path):
    path = tmp_path / "story.txt"
    body = (
        "The council cut spending by 12% to $4.5 million in 2025, "
        "records show. Thank you for reading."
    )
    path.write_text(f"Budget row\n\n{body}", encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(path)])
    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.output)
    assert document["title"] == "Budget row"
    texts = [c["text"] for c in document["claims"]]
    assert texts
    assert all(c["checkworthy"] for c in document["claims"])
    assert any("12%" in t for t in texts)
    assert "Thank you for reading." not in texts
    every = json.loads(CliRunner().invoke(main, ["extract", "--all", str(path)]).output)
    assert len(every[0]["claims"]) > len(document["claims"])
    for claim in every[0]["claims"]:
        assert body[claim["start"] : claim["end"]] == claim["text"], "offsets into the body"


def test_extract_plain_reads_the_whole_text_as_the_body(tmp_path):
    path = tmp_path / "notes.txt"
    text_ = "Rents rose 9% in 2025.\nThe council cut spending by 12% to $4.5 million.\n"
    path.write_text(text_, encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", "--all", "--plain", str(path)])
    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.output)
    assert document["title"] is None
    assert [text_[c["start"] : c["end"]] for c in document["claims"]][:1] == [
        "Rents rose 9% in 2025."
    ]


def test_extract_and_score_use_the_configured_threshold_offline(tmp_path, monkeypatch):
    path = tmp_path / "story.txt"
    path.write_text("The council cut spending by 12% to $4.5 million in 2025.\n", "utf-8")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    monkeypatch.setenv("FACTCHECK_CHECKWORTHY_THRESHOLD", "1")

    def checkworthy(*args: str) -> list[bool]:
        extracted = CliRunner().invoke(main, ["extract", "--all", *args, str(path)])
        assert extracted.exit_code == 0, extracted.output
        scored = CliRunner().invoke(main, ["score", *args, str(path)])
        assert scored.exit_code == 0, scored.output
        return [c["checkworthy"] for c in json.loads(extracted.output)[0]["claims"]] + [
            json.loads(line)["checkworthy"] for line in scored.output.splitlines()
        ]

    assert not any(checkworthy()), "nothing scores at or above a threshold of 1"
    assert all(checkworthy("--threshold", "0")), "--threshold overrides the variable"
    monkeypatch.setenv("FACTCHECK_CHECKWORTHY_THRESHOLD", "0")
    assert all(checkworthy())
    monkeypatch.setenv("FACTCHECK_CHECKWORTHY_THRESHOLD", "high")
    refused = CliRunner().invoke(main, ["extract", str(path)])
    assert refused.exit_code == 1
    assert "FACTCHECK_CHECKWORTHY_THRESHOLD" in refused.stderr


def test_extract_jsonl_and_text_formats(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("Turnout rose to 71% in the 2024 election, officials said.\n", "utf-8")
    lines = CliRunner().invoke(main, ["extract", "--all", "--format", "jsonl", str(path)])
    records = [json.loads(line) for line in lines.output.splitlines()]
    assert records
    assert all(r["file"] == str(path) for r in records)
    shown = CliRunner().invoke(main, ["extract", "--all", "--format", "text", str(path)]).output
    assert "71%" in shown
    assert f"{path}:0-" in shown


def test_score_reads_one_sentence_per_line_from_stdin():
    lines = "Inflation hit 9.1% in June.\n\nGood evening, everyone.\n"
    result = CliRunner().invoke(main, ["score", "-"], input=lines)
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in result.output.splitlines()]
    assert [r["line"] for r in records] == [1, 3]
    assert records[0]["checkworthiness"] > records[1]["checkworthiness"]


def test_score_names_the_speaker_of_each_sentence_as_extract_does(tmp_path):
    lines = [
        "Unemployment fell to 4.1% in May, the statistics office said.",
        "\u201cRents rose 20% in two years,\u201d said Mayor Ana Ruiz.",
        "Rents rose 20% in two years.",
    ]
    path = tmp_path / "lines.txt"
    path.write_text("\n\n".join(lines) + "\n", encoding="utf-8")  # a paragraph each
    scored = CliRunner().invoke(main, ["score", str(path)])
    assert scored.exit_code == 0, scored.output
    speakers = [json.loads(line)["speaker"] for line in scored.output.splitlines()]
    assert speakers == ["the statistics office", "Ana Ruiz", None]
    extract_args = ["extract", "--plain", "--all", "--format", "jsonl", str(path)]
    extracted = CliRunner().invoke(main, extract_args)
    sentences = [json.loads(line) for line in extracted.output.splitlines()]
    assert [c["speaker"] for c in sentences if c["kind"] == "sentence"] == speakers


def test_score_detects_each_line_unless_a_language_is_given():
    lines = "Le chômage a baissé de 2 % en un an.\nInflation hit 9.1% in June.\n"
    detected = CliRunner().invoke(main, ["score", "-"], input=lines)
    assert detected.exit_code == 0, detected.output
    records = [json.loads(line) for line in detected.output.splitlines()]
    assert [(r["language"], r["scored"]) for r in records] == [("fr", False), ("en", True)]
    declared = CliRunner().invoke(main, ["score", "--language", "en", "-"], input=lines)
    assert declared.exit_code == 0, declared.output
    records = [json.loads(line) for line in declared.output.splitlines()]
    assert [(r["language"], r["scored"]) for r in records] == [("en", True), ("en", True)]


def test_verdict_evidence_option_reads_a_trailing_stance():
    from service.cli.review import _evidence

    assert _evidence("https://a.example/x,refutes") == {
        "url": "https://a.example/x",
        "stance": "refutes",
    }
    # A comma inside the URL is not a stance; the default stance is context.
    assert _evidence("https://a.example/q?ids=1,2") == {
        "url": "https://a.example/q?ids=1,2",
        "stance": "context",
    }


def test_reviewer_commands_need_a_token(monkeypatch):
    monkeypatch.delenv("FACTCHECK_TOKEN", raising=False)
    result = CliRunner().invoke(main, ["claim", "show", "1"])
    assert result.exit_code == 2
    assert "--token" in result.output


@contextmanager
def served(app) -> Iterator[str]:
    """`app` served over real HTTP on a free port of 127.0.0.1, for the block."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@pytest.fixture
def live_api(app) -> Iterator[str]:
    """The test app served over real HTTP, for commands that call the API."""
    with served(app) as url:
        yield url


def test_healthcheck_api_passes_once_the_api_is_ready_and_fails_saying_why(settings):
    def check(url: str) -> Any:
        return CliRunner().invoke(main, ["healthcheck", "api", "--port", url.rsplit(":", 1)[1]])

    with served(create_app(settings)) as url:
        ready = check(url)
    assert ready.exit_code == 0, ready.output
    assert "ready" in ready.output
    no_broker = replace(settings, broker_url="redis://127.0.0.1:1/0", publish_timeout_seconds=0.5)
    with served(create_app(no_broker)) as url:
        unready = check(url)
    assert unready.exit_code == 1
    assert "answered 503" in unready.output
    assert "Not ready: broker unavailable" in unready.output
    gone = check(url)  # nothing listens there any more
    assert gone.exit_code == 1
    assert "did not answer" in gone.output


def test_submit_again_returns_the_same_articles_with_languages_left_to_detection(
    live_api, tmp_path, engine
):
    english, french = tmp_path / "budget-vote.txt", tmp_path / "budget-vote-fr.txt"
    english.write_text("Budget vote\n\nThe council approved a $4.7 million budget.\n", "utf-8")
    french.write_text(
        "Vote du budget\n\nLe conseil a adopté un budget de 4,7 millions d'euros.\n", "utf-8"
    )
    args = ["submit", str(english), str(french), "--server", live_api, "--token", ADMIN_TOKEN]

    def run(*extra: str) -> list[dict]:
        result = CliRunner().invoke(main, [*args, *extra])
        assert result.exit_code == 0, result.output
        return [json.loads(line) for line in result.stdout.splitlines()]

    first, again = run(), run()
    assert [r["created"] for r in first] == [True, True]
    assert [r["created"] for r in again] == [False, False]
    assert [r["id"] for r in again] == [r["id"] for r in first]
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT source, external_id, language FROM articles ORDER BY id")
        ).all()
    assert [tuple(row) for row in rows] == [
        ("cli", "budget-vote", None),
        ("cli", "budget-vote-fr", None),
    ]
    desk = run("--source", "city-desk", "--language", "fr")
    assert [r["created"] for r in desk] == [True, True], "another source, other articles"
    with engine.connect() as connection:
        languages = connection.scalars(
            text("SELECT language FROM articles WHERE source = 'city-desk'")
        ).all()
    assert languages == ["fr", "fr"]


def test_submit_refuses_a_file_edited_since_it_was_submitted(live_api, tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Story\n\nFirst text.\n", "utf-8")
    args = ["submit", str(path), "--server", live_api, "--token", ADMIN_TOKEN]
    assert CliRunner().invoke(main, args).exit_code == 0
    path.write_text("Story\n\nEdited text.\n", "utf-8")
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1
    assert "different body" in result.stderr


def test_demo_token_belongs_to_a_stored_admin_who_can_take_claims(settings, client, sessions):
    """The `up --demo` banner's token works through the whole README walk-through."""
    first = demo_user_token(settings)
    headers = {"Authorization": f"Bearer {first}"}
    created = client.post(
        "/api/v1/articles", json=article_payload(body=TAKE_BODY), headers=headers
    ).get_json()
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, extract(TAKE_BODY))
    claim = client.get("/api/v1/claims", headers=headers).get_json()["items"][0]
    taken = client.post(f"/api/v1/claims/{claim['id']}/take", headers=headers)
    assert taken.status_code == 200, taken.get_data(as_text=True)
    # Each start gives a new token to the same user; the old one stops working.
    second = demo_user_token(settings)
    assert second != first
    assert client.get("/api/v1/claims", headers=headers).status_code == 401
    me = client.get("/api/v1/claims", headers={"Authorization": f"Bearer {second}"})
    assert me.status_code == 200


def started_api_workers(monkeypatch, args: list[str]) -> tuple[int | None, str]:
    """Run `factcheck api ARGS` up to its exec: (the gunicorn workers it started, output)."""
    started: list[list[str]] = []
    # `api` sets the metrics folder in os.environ itself when none is set: setting it here
    # first (empty counts as unset) has monkeypatch put back what was there before.
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", os.environ.get("PROMETHEUS_MULTIPROC_DIR", ""))
    monkeypatch.setattr(os, "execv", lambda _path, argv: started.append(argv))
    result = CliRunner().invoke(main, ["api", *args])
    if not started:
        assert result.exit_code == 1, result.output
        return None, result.output
    argv = started[0]
    assert argv[argv.index("--worker-class") + 1] == "service.server.ApiWorker"
    return int(argv[argv.index("--workers") + 1]), result.output


def test_api_sizes_its_workers_against_max_connections(database_url, broker_url, monkeypatch):
    """Workers x (pool + overflow) must fit in what Postgres leaves (it has 100 here)."""
    with create_engine(psycopg2_url(database_url)).connect() as connection:
        limit = int(connection.execute(text("SHOW max_connections")).scalar_one())
        reserved = int(connection.execute(text("SHOW superuser_reserved_connections")).scalar_one())
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp")
    monkeypatch.setenv("FACTCHECK_DB_OTHER_CONNECTIONS", "20")
    available = limit - reserved - 20
    monkeypatch.setenv("FACTCHECK_DB_POOL_SIZE", "5")
    monkeypatch.setenv("FACTCHECK_DB_MAX_OVERFLOW", "5")

    assert started_api_workers(monkeypatch, ["--workers", "2"])[0] == 2
    # Asked for more than fit: refused, saying why.
    workers, output = started_api_workers(monkeypatch, ["--workers", str(available // 10 + 1)])
    assert workers is None
    assert f"max_connections {limit}" in output
    assert "FACTCHECK_DB_POOL_SIZE 5 + FACTCHECK_DB_MAX_OVERFLOW 5" in output
    # The default (2 x cores) is cut to what fits, with a warning.
    monkeypatch.setenv("FACTCHECK_DB_POOL_SIZE", str(available))
    monkeypatch.setenv("FACTCHECK_DB_MAX_OVERFLOW", "0")
    workers, output = started_api_workers(monkeypatch, [])
    assert workers == 1
    assert "warning" in output
    assert "starting 1 API workers" in output
    # Not even one fits: refused.
    monkeypatch.setenv("FACTCHECK_DB_OTHER_CONNECTIONS", str(available))
    assert started_api_workers(monkeypatch, [])[0] is None


def test_api_warns_when_its_pool_is_smaller_than_its_threads(database_url, broker_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/tmp")
    monkeypatch.setenv("FACTCHECK_DB_POOL_SIZE", "2")
    workers, output = started_api_workers(monkeypatch, ["--workers", "1"])
    assert workers == 1
    assert "requests will wait for one" in output


def test_api_gives_its_gunicorn_workers_a_new_shared_metrics_folder(
    database_url, broker_url, monkeypatch
):
    """Without a shared folder each worker's /metrics would count only its own requests."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("CELERY_BROKER_URL", broker_url)
    # Empty counts as unset; monkeypatch then restores the variable's absence at the end, which
    # a delenv of a variable not yet set would not (and the folder removed below would leak).
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")
    started = []

    def execv(path, argv):
        started.append((argv, os.environ.get("PROMETHEUS_MULTIPROC_DIR")))

    monkeypatch.setattr(os, "execv", execv)
    for _ in range(2):
        result = CliRunner().invoke(main, ["api", "--workers", "2", "--port", "8123"])
        assert result.exit_code == 0, result.output
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = ""
    [(argv, first), (_, second)] = started
    assert "gunicorn" in argv
    assert "--workers" in argv
    assert first != second
    for folder in (first, second):
        assert os.path.isdir(folder)
        assert os.listdir(folder) == []
        os.rmdir(folder)

    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "/srv/metrics")
    CliRunner().invoke(main, ["api"])
    assert started[-1][1] == "/srv/metrics"


def test_extract_and_score_leave_embeddings_out_unless_asked(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("The council cut spending by 12% to $4.5 million in 2025.\n", "utf-8")
    for command in (["extract", "--all"], ["score"]):
        plain = CliRunner().invoke(main, [*command, str(path)])
        asked = CliRunner().invoke(main, [*command, "--embeddings", str(path)])
        assert plain.exit_code == asked.exit_code == 0, plain.output + asked.output
        assert "embedding" not in plain.output
        if command[0] == "extract":
            (claim, *_) = json.loads(asked.output)[0]["claims"]
        else:
            claim = json.loads(asked.output.splitlines()[0])
        assert len(claim["embedding"]) == 384


def test_submit_stores_the_files_title_date_byline_and_the_articles_url(live_api, tmp_path):
    path = tmp_path / "ports.txt"
    path.write_text(
        " date 2026-01-19 Ports reopen after the storm\n\nBy Ana Ruiz and Li Wei\n\n"
        "The port authority said 40 ships were waiting.\n",
        encoding="utf-8",
    )
    url = "https://news.example.org/2026/01/ports"
    args = ["submit", str(path), "--article-url", url, "--server", live_api, "--token", ADMIN_TOKEN]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    article_id = json.loads(result.stdout)["id"]
    stored = FactcheckClient(live_api, ADMIN_TOKEN).get_article(article_id)
    assert stored["title"] == "Ports reopen after the storm"
    assert stored["published_at"] == "2026-01-19T00:00:00+00:00"
    assert stored["authors"] == ["Ana Ruiz", "Li Wei"]
    assert stored["url"] == url
    assert stored["body"] == "The port authority said 40 ships were waiting."


def test_submit_takes_one_article_url_for_one_file_only(tmp_path):
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    for path in (first, second):
        path.write_text("Title\n\nBody.\n", encoding="utf-8")
    args = ["submit", str(first), str(second), "--article-url", "https://a.example/x"]
    result = CliRunner().invoke(main, [*args, "--token", ADMIN_TOKEN])
    assert result.exit_code == 2
    assert "one FILE" in result.stderr


def test_submit_still_takes_the_deprecated_url_option_saying_so(live_api, tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Story\n\nFirst text.\n", "utf-8")
    result = CliRunner().invoke(
        main, ["submit", str(path), "--url", live_api, "--token", ADMIN_TOKEN]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["created"] is True
    assert "--url is deprecated; use --server" in result.stderr


def test_extract_gives_the_offsets_of_the_article_submit_stores(live_api, tmp_path):
    path = tmp_path / "budget.txt"
    path.write_text(
        "Budget vote\n\nBy Ana Ruiz\n\nThe council approved a $4.7 million budget on Monday. "
        "Spending rises 18% next year, the mayor said.\n",
        encoding="utf-8",
    )
    submitted = CliRunner().invoke(
        main, ["submit", str(path), "--server", live_api, "--token", ADMIN_TOKEN]
    )
    assert submitted.exit_code == 0, submitted.output
    article_id = json.loads(submitted.stdout)["id"]
    body = FactcheckClient(live_api, ADMIN_TOKEN).get_article(article_id)["body"]
    extracted = CliRunner().invoke(main, ["extract", "--all", str(path)])
    assert extracted.exit_code == 0, extracted.output
    (document,) = json.loads(extracted.output)
    spans = [(c["start"], c["end"], c["text"]) for c in document["claims"]]
    assert spans == [(c["start"], c["end"], c["text"]) for c in extract(body)]
    assert all(body[start:end] == text_ for start, end, text_ in spans)


def test_a_refusal_is_one_line_and_exit_status_1_for_every_audience(live_api, monkeypatch):
    """The API's 404, a bad setting before a worker starts: a message, never a traceback."""
    missing = CliRunner().invoke(
        main, ["claim", "show", "999999", "--server", live_api, "--token", ADMIN_TOKEN]
    )
    assert missing.exit_code == 1
    assert missing.stderr.startswith("error: 404 Not found: Claim 999999 does not exist")
    assert len(missing.stderr.strip().splitlines()) == 1
    monkeypatch.delenv("DATABASE_URL", raising=False)
    for command in (["worker"], ["beat"], ["api"]):
        refused = CliRunner().invoke(main, command)
        assert refused.exit_code == 1, refused.output
        assert refused.stderr.startswith("error: DATABASE_URL is not set")
        assert not isinstance(refused.exception, ConfigError)
    unreachable = CliRunner().invoke(
        main, ["queue", "--server", "http://127.0.0.1:1", "--token", ADMIN_TOKEN]
    )
    assert unreachable.exit_code == 1
    assert "Service unreachable" in unreachable.stderr


def test_a_bug_still_shows_its_traceback():
    """Only refusals become messages: an unexpected error is not hidden behind one."""
    assert failure_message(KeyError("id")) is None
    assert failure_message(ApiError(409, "Conflict", "taken")) == "409 Conflict: taken"


def test_webhook_listen_prints_verified_deliveries_and_refuses_others(tmp_path):
    port, secret = free_port(), "whsec_" + "k" * 32
    command = [FACTCHECK, "webhook", "listen", "--port", str(port), "--secret", secret]
    listener = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        event = {"id": "41", "event": "verdict.published", "occurred_at": "x", "data": {}}
        body = json.dumps(event).encode()
        stamp = int(time.time())

        def post(signed: str) -> int:
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/",
                data=body,
                headers={"X-Factcheck-Timestamp": str(stamp), "X-Factcheck-Signature": signed},
            )
            try:
                with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
                    return int(response.status)
            except urllib.error.HTTPError as error:
                return error.code

        wait_until(lambda: _listening(port), 30, "the listener to start")
        assert post("sha256=" + "0" * 64) == 400
        assert post(signature(secret, stamp, body)) == 200
    finally:
        listener.send_signal(signal.SIGINT)
        out, err = listener.communicate(timeout=30)
    assert [json.loads(line) for line in out.decode().splitlines()] == [event]
    assert "rejected a request: the signature does not match" in err.decode()


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return False
    return True


def test_match_answers_each_query_line_from_a_fact_check_file(tmp_path):
    corpus = tmp_path / "factchecks.jsonl"
    rows = [
        {
            "@type": "ClaimReview",
            "url": "https://checks.example/unemployment",
            "claimReviewed": "The city's unemployment rate fell to 4 percent last year.",
            "reviewRating": {"alternateName": "False"},
            "author": {"name": "Example Checks"},
        },
        {"@type": "ClaimReview", "claimReviewed": "A review without its URL."},
    ]
    corpus.write_text("\n".join(json.dumps(row) for row in rows) + "\n", "utf-8")
    queries = "Unemployment in the city dropped to four percent last year.\n\nVaccines work.\n"
    result = CliRunner().invoke(main, ["match", "--corpus", str(corpus), "--top", "1"], queries)
    assert result.exit_code == 0, result.output
    answers = [json.loads(line) for line in result.stdout.splitlines()]
    assert [a["query"] for a in answers] == [
        "Unemployment in the city dropped to four percent last year.",
        "Vaccines work.",
    ]
    (best,) = answers[0]["matches"]
    assert best["url"] == "https://checks.example/unemployment"
    assert best["confidence"] > answers[1]["matches"][0]["confidence"]
    assert "line 2" in result.stderr  # the record without a URL, reported and skipped


def test_match_without_a_corpus_is_refused_with_its_usage():
    result = CliRunner().invoke(main, ["match"], "a claim\n")
    assert result.exit_code == 2
    assert "--corpus" in result.stderr
