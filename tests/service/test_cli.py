"""The `factcheck` command's database-side subcommands (the `up` path is tested end to end)."""

from __future__ import annotations

import json

from click.testing import CliRunner
from sqlalchemy import text

from service.cli import main, read_example


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


def test_read_example_splits_title_and_body(tmp_path):
    path = tmp_path / "story.txt"
    path.write_text("Headline here\n\nFirst paragraph.\n\nSecond.\n", encoding="utf-8")
    article = read_example(path)
    assert article["title"] == "Headline here"
    assert article["body"] == "First paragraph.\n\nSecond."
    assert article["external_id"] == "story"


def test_extract_prints_checkworthy_claims_offline(tmp_path):
    path = tmp_path / "story.txt"
    body = (
        "Budget row\n\nThe council cut spending by 12% to $4.5 million in 2025, "
        "records show. Thank you for reading."
    )
    path.write_text(body, encoding="utf-8")
    result = CliRunner().invoke(main, ["extract", str(path)])
    assert result.exit_code == 0, result.output
    (document,) = json.loads(result.output)
    texts = [c["text"] for c in document["claims"]]
    assert texts
    assert all(c["checkworthy"] for c in document["claims"])
    assert any("12%" in t for t in texts)
    assert "Thank you for reading." not in texts
    every = json.loads(CliRunner().invoke(main, ["extract", "--all", str(path)]).output)
    assert len(every[0]["claims"]) > len(document["claims"])
    for claim in every[0]["claims"]:
        assert body[claim["start"] : claim["end"]] == claim["text"]


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


def test_verdict_evidence_option_reads_a_trailing_stance():
    from service.cli import _evidence

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
