"""The `factcheck` command's database-side subcommands (the `up` path is tested end to end)."""

from __future__ import annotations

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
