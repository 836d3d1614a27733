"""The service's database role: the service works as it, and it cannot change the schema.

Each test migrates a scratch database as its owner (the test server's superuser), sets up a
role of its own there as `factcheck db upgrade` does, and connects as that role.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import ProgrammingError

from service.app import create_app
from service.cli import main
from service.config import AppRole, Settings
from service.db import make_engine, make_session_factory, psycopg2_url
from service.migrations import upgrade
from service.migrations.app_role import AppRoleRefused, expected_privileges, grant_app_role
from tests.conftest import ADMIN_TOKEN
from tests.factories import article_payload, publish_verdict
from tests.webhook_receiver import Receiver
from workers.celery_app import make_celery
from workers.webhooks import deliver

PASSWORD = "correct-horse-battery-staple"
BODY = (
    "The council approved a budget of $4 million. Spending rose 5% on last year. "
    "The mayor said crime fell 12% in 2025."
)
REVISED = BODY + " Unemployment fell to 4.1% in May."
INSUFFICIENT_PRIVILEGE = "42501"


def verifies(verifier: str, password: str) -> bool:
    """Whether a SCRAM-SHA-256 verifier, as Postgres stores it (RFC 5802), is of `password`."""
    method, salting, keys = verifier.split("$")
    iterations, salt = salting.split(":")
    stored_key = keys.split(":")[0]
    salted = hashlib.pbkdf2_hmac(
        "sha256", password.encode(), base64.b64decode(salt), int(iterations)
    )
    client_key = hmac.new(salted, b"Client Key", "sha256").digest()
    return method == "SCRAM-SHA-256" and hmac.compare_digest(
        hashlib.sha256(client_key).digest(), base64.b64decode(stored_key)
    )


@pytest.fixture
def owner(scratch_url: str) -> Iterator[Any]:
    """An engine on the migrated scratch database, as the owner of its tables."""
    upgrade(scratch_url)
    engine = create_engine(psycopg2_url(scratch_url), isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def role_name(owner: Any) -> Iterator[str]:
    """A name for this test's role; the role (roles are server-wide) is dropped after it."""
    name = f"factcheck_app_{uuid.uuid4().hex[:8]}"
    yield name
    with owner.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_roles WHERE rolname = :n"), {"n": name}):
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = :n"),
                {"n": name},
            )
            # Its privileges are in the scratch database, and on it: gone first.
            connection.execute(text(f'DROP OWNED BY "{name}"'))
            connection.execute(text(f'DROP ROLE "{name}"'))


@pytest.fixture
def role_url(scratch_url: str, role_name: str) -> str:
    """The scratch database's URL as the service's role, once it is set up."""
    assert grant_app_role(scratch_url, AppRole(role_name, PASSWORD)) is True
    return (
        make_url(scratch_url)
        .set(username=role_name, password=PASSWORD)
        .render_as_string(hide_password=False)
    )


@pytest.fixture
def as_role(role_url: str) -> Iterator[Any]:
    engine = create_engine(psycopg2_url(role_url))
    yield engine
    engine.dispose()


def granted(owner: Any, role: str) -> dict[str, set[str]]:
    with owner.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT table_name, privilege_type FROM information_schema.role_table_grants "
                "WHERE grantee = :role"
            ),
            {"role": role},
        )
        found: dict[str, set[str]] = {}
        for table, privilege in rows:
            found.setdefault(table, set()).add(privilege)
        return found


def test_the_role_holds_row_privileges_only_and_reads_and_appends_the_audit_log(
    owner, role_name, role_url
):
    held = granted(owner, role_name)
    assert held.pop("audit_log") == {"SELECT", "INSERT"}
    assert held.pop("alembic_version") == {"SELECT"}
    assert held.pop("claims") == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    assert set(held) == set(expected_privileges()) - {"audit_log", "alembic_version", "claims"}
    assert all(
        privileges == {"SELECT", "INSERT", "UPDATE", "DELETE"} for privileges in held.values()
    )
    with owner.connect() as connection:
        role = connection.execute(
            text(
                "SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolpassword "
                "FROM pg_authid WHERE rolname = :role"
            ),
            {"role": role_name},
        ).one()
    assert (role.rolcanlogin, role.rolsuper, role.rolcreaterole, role.rolcreatedb) == (
        True, False, False, False,
    )  # fmt: skip
    assert verifies(role.rolpassword, PASSWORD)
    assert not verifies(role.rolpassword, PASSWORD + "!")


@pytest.mark.parametrize(
    "statement",
    [
        "DROP TRIGGER audit_log_append_only ON audit_log",
        "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_truncate",
        "TRUNCATE audit_log",
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "DROP TABLE claims CASCADE",
        "ALTER TABLE articles ADD COLUMN note text",
        "TRUNCATE claims",
        "CREATE TRIGGER quiet BEFORE INSERT ON audit_log FOR EACH ROW "
        "EXECUTE FUNCTION audit_log_refuse_change()",
        "CREATE FUNCTION public.similarity_lookup_keys(keys integer[]) RETURNS bigint[] "
        "LANGUAGE sql AS 'SELECT NULL::bigint[]'",
        "SELECT setval('articles_id_seq', 1)",
        "UPDATE alembic_version SET version_num = '0001'",
    ],
)
def test_the_role_cannot_change_the_schema_nor_the_audit_log(owner, as_role, statement):
    with owner.connect() as connection:
        connection.execute(
            text("INSERT INTO audit_log (actor, action, entity_type) VALUES ('a', 'b', 'c')")
        )
    with pytest.raises(ProgrammingError) as refused, as_role.begin() as connection:
        connection.execute(text(statement))
    assert refused.value.orig.pgcode == INSUFFICIENT_PRIVILEGE, refused.value.orig
    with owner.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM audit_log WHERE actor = 'a'")) == 1
        assert (
            connection.scalar(
                text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'audit_log_%'")
            )
            == 2
        )


def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()


def test_the_api_and_the_worker_do_their_work_as_the_role(
    role_url, as_role, broker_url, monkeypatch
):
    """Every table written the way the service writes it: users and tokens, organisations,
    articles and revisions, claims (and their similarity rows, by trigger), verdicts and
    evidence, webhooks and deliveries, the outbox and the audit log."""
    import workers.tasks

    # The tasks keep one engine per process, made from the first settings they see: these
    # tasks get one of their own, and the tests after this one get theirs back.
    monkeypatch.setattr(workers.tasks, "_resources", None)
    settings = Settings(
        database_url=role_url,
        broker_url=broker_url,
        admin_token=ADMIN_TOKEN,
        webhook_allow_private=True,
        webhook_timeout_seconds=2.0,
    )
    client = create_app(settings).test_client()
    celery = make_celery(settings)
    extract = celery.tasks["factcheck.extract_claims"]
    admin = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

    def user(name: str, role: str, **extra: Any) -> dict[str, str]:
        created = client.post(
            "/api/v1/users", json={"name": name, "role": role, **extra}, headers=admin
        )
        return {"Authorization": f"Bearer {ok(created, 201)['token']}"}

    def etag(url: str) -> dict[str, str]:
        return {"If-Match": client.get(url, headers=admin).headers["ETag"]}

    reviewer, editor = user("rita", "reviewer"), user("eddie", "editor")
    newsroom = user("cms", "newsroom", organization="daily-planet")
    receiver = Receiver()
    try:
        hook = client.post(
            "/api/v1/webhooks",
            json={"url": receiver.url, "events": ["verdict.published"]},
            headers=admin,
        )
        hook_url = f"/api/v1/webhooks/{ok(hook, 201)['id']}"
        submitted = client.post(
            "/api/v1/articles", json=article_payload(body=BODY), headers=newsroom
        )
        article_url = f"/api/v1/articles/{ok(submitted, 202)['id']}"
        task = {"article_id": submitted.get_json()["id"], "revision": 1}
        assert extract.apply(kwargs=task).get() == "processed"

        claims = ok(client.get(f"{article_url}/claims", headers=editor))["items"]
        claim = next(c for c in claims if c["text"].startswith("Spending rose"))
        ok(client.post(f"/api/v1/claims/{claim['id']}/take", headers=reviewer))
        verdict = {
            "rating": "mostly-true",
            "summary": "Close to the accounts.",
            "evidence": [{"url": "https://stats.example.gov/a", "stance": "supports"}],
        }
        added = client.post(
            f"/api/v1/claims/{claim['id']}/verdicts", json=verdict, headers=reviewer
        )
        verdict_id = ok(added, 201)["id"]
        verdict_url = f"/api/v1/verdicts/{verdict_id}"
        # New evidence replaces the old rows: a DELETE and an INSERT.
        evidence = {"evidence": [{"url": "https://stats.example.gov/b", "stance": "supports"}]}
        ok(client.patch(verdict_url, json=evidence, headers={**reviewer, **etag(verdict_url)}))
        ok(publish_verdict(client, editor, verdict_id))

        # A corrected span changes the claim's similarity keys: a trigger replaces its rows.
        budget = next(c for c in claims if c["text"].startswith("The council"))
        budget_url = f"/api/v1/claims/{budget['id']}"
        span = {"start": 0, "end": BODY.index(" of $4")}
        ok(client.patch(budget_url, json=span, headers={**editor, **etag(budget_url)}))

        # A revision: its claims are stored afresh, the review work carried over.
        revision = {"title": "Budget", "body": REVISED}
        ok(client.put(article_url, json=revision, headers=newsroom), 202)
        assert extract.apply(kwargs={**task, "revision": 2}).get() == "processed"

        [delivery] = ok(client.get(f"{hook_url}/deliveries", headers=admin))["items"]
        worker_engine = make_engine(role_url)
        delivered = deliver(make_session_factory(worker_engine), settings, delivery["id"])
        worker_engine.dispose()
        assert delivered.outcome == "succeeded"
        assert len(receiver.requests) == 1
    finally:
        receiver.stop()
    assert celery.tasks["factcheck.relay_outbox"].apply().successful()
    assert celery.tasks["factcheck.resume_webhooks"].apply().successful()

    article = ok(client.get(article_url, headers=newsroom))
    assert (article["status"], article["revision"]) == ("processed", 2)
    ok(client.get(f"{verdict_url}/claimreview", headers=newsroom))
    ok(client.get(f"{article_url}/annotations", headers=newsroom))
    ok(client.get("/api/v1/claims", query_string={"q": "mayor"}, headers=editor))
    ok(client.get("/api/v1/exports/claims.csv", headers=editor))
    ok(client.get("/api/v1/stats/agreement", headers=editor))
    ok(client.get("/readyz"))
    ok(client.get("/metrics", headers=admin))
    users = ok(client.get("/api/v1/users", headers=admin))["items"]
    rita = next(u for u in users if u["name"] == "rita")
    ok(client.post(f"/api/v1/users/{rita['id']}/tokens", headers=admin), 201)
    ok(client.delete(f"/api/v1/users/{rita['id']}", headers=admin))
    assert client.delete(hook_url, headers=admin).status_code == 204
    history = ok(client.get(f"{budget_url}/history", headers=editor))["items"]
    assert "claim.updated" in {event["action"] for event in history}

    with as_role.connect() as connection:
        keys = connection.scalar(
            text("SELECT count(*) FROM claim_similarity_keys WHERE claim_id = :id"),
            {"id": budget["id"]},
        )
    assert keys


def test_every_upgrade_grants_afresh_and_keeps_or_changes_the_password(
    scratch_url, owner, role_name, role_url
):
    with owner.connect() as connection:
        # Something granted by hand, or by an earlier release, and no longer wanted.
        connection.execute(text(f'GRANT TRUNCATE, TRIGGER ON claims TO "{role_name}"'))
        connection.execute(text(f'GRANT UPDATE (actor) ON audit_log TO "{role_name}"'))
    assert grant_app_role(scratch_url, AppRole(role_name)) is False  # no password: kept
    assert granted(owner, role_name)["claims"] == {"SELECT", "INSERT", "UPDATE", "DELETE"}
    with owner.connect() as connection:
        column_grants = connection.scalar(
            text("SELECT count(*) FROM information_schema.column_privileges WHERE grantee = :r "
                 "AND table_name = 'audit_log' AND privilege_type = 'UPDATE'"),
            {"r": role_name},
        )  # fmt: skip
        assert column_grants == 0
        stored = text("SELECT rolpassword FROM pg_authid WHERE rolname = :r")
        assert verifies(connection.scalar(stored, {"r": role_name}), PASSWORD)
        assert grant_app_role(scratch_url, AppRole(role_name, "a-new-password-for-it")) is False
        assert verifies(connection.scalar(stored, {"r": role_name}), "a-new-password-for-it")


def test_a_role_that_could_change_the_schema_is_refused(scratch_url, owner, role_name):
    with pytest.raises(AppRoleRefused, match=r"postgres could change the schema .*superuser"):
        grant_app_role(scratch_url, AppRole("postgres", PASSWORD))
    with owner.connect() as connection:
        connection.execute(text(f'CREATE ROLE "{role_name}" LOGIN'))
        connection.execute(text(f'ALTER TABLE webhooks OWNER TO "{role_name}"'))
    with pytest.raises(AppRoleRefused, match=rf"{role_name} could change .*it owns webhooks"):
        grant_app_role(scratch_url, AppRole(role_name, PASSWORD))
    with owner.connect() as connection:
        connection.execute(text("ALTER TABLE webhooks OWNER TO CURRENT_USER"))
        connection.execute(text(f'ALTER ROLE "{role_name}" CREATEROLE'))
    with pytest.raises(AppRoleRefused, match="it may create roles"):
        grant_app_role(scratch_url, AppRole(role_name, PASSWORD))


def test_privileges_the_role_would_hold_through_public_are_refused(scratch_url, owner, role_name):
    with owner.connect() as connection:
        connection.execute(text("GRANT UPDATE, DELETE ON audit_log TO PUBLIC"))
    with pytest.raises(AppRoleRefused, match="holds DELETE, UPDATE on audit_log through PUBLIC"):
        grant_app_role(scratch_url, AppRole(role_name, PASSWORD))
    with owner.connect() as connection:
        # Refused as one transaction: the role was not left behind half made.
        assert (
            connection.scalar(
                text("SELECT count(*) FROM pg_roles WHERE rolname = :r"), {"r": role_name}
            )
            == 0
        )
        connection.execute(text("REVOKE UPDATE, DELETE ON audit_log FROM PUBLIC"))
        connection.execute(text("GRANT CREATE ON SCHEMA public TO PUBLIC"))
    with pytest.raises(AppRoleRefused, match="REVOKE CREATE ON SCHEMA public FROM PUBLIC"):
        grant_app_role(scratch_url, AppRole(role_name, PASSWORD))


def test_a_missing_role_needs_a_password(scratch_url, owner, role_name):
    with pytest.raises(AppRoleRefused, match=r"does not exist .* set FACTCHECK_DB_APP_PASSWORD"):
        grant_app_role(scratch_url, AppRole(role_name))


def test_db_upgrade_sets_up_the_role_and_never_shows_its_password(
    scratch_url, owner, role_name, monkeypatch, caplog
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.INFO, logger="sqlalchemy.engine")  # statements and parameters
    monkeypatch.setenv("DATABASE_URL", scratch_url)
    monkeypatch.setenv("FACTCHECK_DB_APP_ROLE", role_name)
    monkeypatch.setenv("FACTCHECK_DB_APP_PASSWORD", PASSWORD)
    first = CliRunner().invoke(main, ["db", "upgrade"])
    again = CliRunner().invoke(main, ["db", "upgrade"])

    assert first.exit_code == 0, first.output
    assert f"role {role_name} created" in first.output
    assert again.exit_code == 0, again.output
    assert f"role {role_name} exists" in again.output
    assert "CREATE ROLE" in caplog.text  # the statements were logged, with their parameters
    assert PASSWORD not in first.output + again.output + caplog.text
    assert granted(owner, role_name)["audit_log"] == {"SELECT", "INSERT"}

    monkeypatch.setenv("FACTCHECK_DB_APP_ROLE", "postgres")
    refused = CliRunner().invoke(main, ["db", "upgrade"])
    assert refused.exit_code == 1
    assert "error: the role postgres could change the schema" in refused.output
    assert "Traceback" not in refused.output


def test_users_commands_work_on_the_roles_url(role_url, monkeypatch):
    """`users` checks the schema is current first: reading the revision is enough for it."""
    monkeypatch.setenv("DATABASE_URL", role_url)
    result = CliRunner().invoke(main, ["users", "create", "ops", "--role", "admin"])
    assert result.exit_code == 0, result.output
    assert "created admin 'ops'" in result.output
