"""Users and tokens through the API (admins), and the matching CLI commands."""

from __future__ import annotations

from click.testing import CliRunner
from sqlalchemy import text

from service.cli import main

URL = "/api/v1/users"


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def make(client, headers, name: str, role: str):
    return client.post(URL, json={"name": name, "role": role}, headers=headers)


def claims_status(client, token: str) -> int:
    return client.get("/api/v1/claims", headers=bearer(token)).status_code


def test_admin_creates_a_user_whose_token_works_once_shown(client, admin_headers, engine):
    created = client.post(URL, json={"name": "rita", "role": "reviewer"}, headers=admin_headers)
    assert created.status_code == 201
    body = created.get_json()
    assert body["user"]["role"] == "reviewer"
    assert client.get("/api/v1/claims", headers=bearer(body["token"])).status_code == 200
    listed = client.get(URL, headers=admin_headers).get_json()["items"]
    assert [u["name"] for u in listed] == ["rita"]
    assert "token" not in listed[0]
    with engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM api_tokens WHERE token_hash = :t"),
                                 {"t": body["token"]}) == 0  # fmt: skip


def test_duplicate_names_and_bad_roles_are_refused(client, admin_headers):
    client.post(URL, json={"name": "sam", "role": "viewer"}, headers=admin_headers)
    assert (
        client.post(URL, json={"name": "sam", "role": "viewer"}, headers=admin_headers).status_code
        == 409
    )
    assert (
        client.post(URL, json={"name": "x", "role": "root"}, headers=admin_headers).status_code
        == 422
    )
    assert (
        client.post(URL, json={"name": "a b", "role": "viewer"}, headers=admin_headers).status_code
        == 422
    )


def test_rotation_revokes_the_old_token(client, admin_headers):
    first = client.post(
        URL, json={"name": "tom", "role": "viewer"}, headers=admin_headers
    ).get_json()
    rotated = client.post(f"{URL}/{first['user']['id']}/tokens", headers=admin_headers)
    assert rotated.status_code == 201
    assert client.get("/api/v1/claims", headers=bearer(first["token"])).status_code == 401
    assert (
        client.get("/api/v1/claims", headers=bearer(rotated.get_json()["token"])).status_code == 200
    )


def test_disabling_revokes_every_token_and_is_audited(client, admin_headers, engine):
    made = client.post(
        URL, json={"name": "uma", "role": "editor"}, headers=admin_headers
    ).get_json()
    disabled = client.delete(f"{URL}/{made['user']['id']}", headers=admin_headers)
    assert disabled.status_code == 200
    assert disabled.get_json()["disabled_at"] is not None
    assert client.get("/api/v1/claims", headers=bearer(made["token"])).status_code == 401
    assert (
        client.post(f"{URL}/{made['user']['id']}/tokens", headers=admin_headers).status_code == 409
    )
    with engine.connect() as connection:
        actions = connection.scalars(
            text("SELECT action FROM audit_log WHERE entity_type = 'user' ORDER BY id")
        ).all()
    assert actions == ["user.created", "user.disabled"]


def test_one_token_is_revoked_and_tokens_are_listed_without_secrets(client, admin_headers, engine):
    made = client.post(URL, json={"name": "wes", "role": "viewer"}, headers=admin_headers)
    user_id, first = made.get_json()["user"]["id"], made.get_json()["token"]
    rotated = client.post(f"{URL}/{user_id}/tokens", headers=admin_headers).get_json()["token"]
    listed = client.get(f"{URL}/{user_id}/tokens", headers=admin_headers)
    assert listed.status_code == 200
    old, new = listed.get_json()["items"]
    assert (old["prefix"], new["prefix"]) == (first[:12], rotated[:12])
    assert old["revoked_at"] is not None
    assert new["revoked_at"] is None
    assert first not in listed.get_data(as_text=True)
    assert rotated not in listed.get_data(as_text=True)
    assert set(new) == {"id", "prefix", "created_at", "revoked_at"}

    revoked = client.delete(f"{URL}/{user_id}/tokens/{new['id']}", headers=admin_headers)
    assert revoked.status_code == 200
    assert revoked.get_json()["revoked_at"] is not None
    assert claims_status(client, rotated) == 401
    user = client.get(URL, headers=admin_headers).get_json()["items"][0]
    assert user["disabled_at"] is None, "the user stays enabled"
    again = client.delete(f"{URL}/{user_id}/tokens/{new['id']}", headers=admin_headers)
    assert again.get_json()["revoked_at"] == revoked.get_json()["revoked_at"]
    reissued = client.post(f"{URL}/{user_id}/tokens", headers=admin_headers).get_json()["token"]
    assert claims_status(client, reissued) == 200
    with engine.connect() as connection:
        actions = connection.scalars(
            text("SELECT action FROM audit_log WHERE entity_type = 'user' ORDER BY id")
        ).all()
    assert actions == ["user.created", "token.rotated", "token.revoked", "token.rotated"]


def test_a_token_is_revoked_only_through_its_own_user(client, admin_headers):
    one = make(client, admin_headers, "xia", "viewer").get_json()
    other = make(client, admin_headers, "yan", "viewer").get_json()
    token_id = client.get(f"{URL}/{one['user']['id']}/tokens", headers=admin_headers).get_json()[
        "items"
    ][0]["id"]
    wrong = client.delete(f"{URL}/{other['user']['id']}/tokens/{token_id}", headers=admin_headers)
    assert wrong.status_code == 404
    assert claims_status(client, one["token"]) == 200


def test_unknown_user_is_404(client, admin_headers):
    assert client.delete(f"{URL}/999999", headers=admin_headers).status_code == 404
    assert client.post(f"{URL}/999999/tokens", headers=admin_headers).status_code == 404
    assert client.get(f"{URL}/999999/tokens", headers=admin_headers).status_code == 404
    assert client.delete(f"{URL}/999999/tokens/1", headers=admin_headers).status_code == 404


def test_cli_lists_rotates_and_disables(database_url, client, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    first = runner.invoke(main, ["users", "create", "vic", "--role", "reviewer"]).output
    old_token = first.strip().splitlines()[-1]
    assert "vic\treviewer\tdesk\tactive" in runner.invoke(main, ["users", "list"]).output
    rotated = runner.invoke(main, ["users", "rotate", "vic"])
    assert rotated.exit_code == 0
    new_token = rotated.output.strip().splitlines()[-1]
    assert client.get("/api/v1/claims", headers=bearer(old_token)).status_code == 401
    assert client.get("/api/v1/claims", headers=bearer(new_token)).status_code == 200
    tokens = runner.invoke(main, ["users", "tokens", "vic"])
    assert tokens.exit_code == 0
    (old_line, new_line) = tokens.output.strip().splitlines()
    assert old_line.split("\t")[1] == old_token[:12]
    assert "revoked" in old_line
    assert new_line.split("\t")[1] == new_token[:12]
    assert new_line.endswith("active")
    assert new_token not in tokens.output
    revoked = runner.invoke(main, ["users", "revoke", "vic", new_line.split("\t")[0]])
    assert revoked.exit_code == 0, revoked.output
    assert client.get("/api/v1/claims", headers=bearer(new_token)).status_code == 401
    assert "vic\treviewer\tdesk\tactive" in runner.invoke(main, ["users", "list"]).output
    unknown = runner.invoke(main, ["users", "revoke", "vic", "999999"])
    assert unknown.exit_code == 1
    assert "has no token 999999" in unknown.output
    assert runner.invoke(main, ["users", "disable", "vic"]).exit_code == 0
    assert "vic\treviewer\tdesk\tdisabled" in runner.invoke(main, ["users", "list"]).output
    missing = runner.invoke(main, ["users", "rotate", "nobody"])
    assert missing.exit_code == 1
    assert "No user named" in missing.output


def test_users_belong_to_an_organisation_created_on_first_use(client, admin_headers, engine):
    desk = make(client, admin_headers, "dana", "editor").get_json()
    assert desk["user"]["organization"] == "desk"
    assert desk["organization_created"] is False
    first = client.post(
        URL,
        json={"name": "planet-cms", "role": "newsroom", "organization": "daily-planet"},
        headers=admin_headers,
    )
    assert first.status_code == 201, first.get_data(as_text=True)
    assert first.get_json()["user"]["organization"] == "daily-planet"
    assert first.get_json()["organization_created"] is True
    second = client.post(
        URL,
        json={"name": "planet-wire", "role": "newsroom", "organization": "daily-planet"},
        headers=admin_headers,
    ).get_json()
    assert second["organization_created"] is False
    listed = client.get(URL, headers=admin_headers).get_json()["items"]
    assert [(u["name"], u["organization"]) for u in listed] == [
        ("dana", "desk"),
        ("planet-cms", "daily-planet"),
        ("planet-wire", "daily-planet"),
    ]
    with engine.connect() as connection:
        created = connection.execute(
            text("SELECT actor, after FROM audit_log WHERE action = 'organization.created'")
        ).all()
    assert [(e.actor, e.after) for e in created] == [("bootstrap-admin", {"name": "daily-planet"})]
    refused = client.post(
        URL,
        json={"name": "x", "role": "newsroom", "organization": "Daily Planet"},
        headers=admin_headers,
    )
    assert refused.status_code == 422
    assert "organization" in refused.get_json()["errors"]


def test_cli_creates_users_of_an_organisation_and_says_when_it_is_new(database_url, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", database_url)
    runner = CliRunner()
    command = ["users", "create", "planet-cms", "--role", "newsroom"]
    first = runner.invoke(main, [*command, "--organization", "daily-planet"])
    assert first.exit_code == 0, first.output
    assert first.output.startswith("created organisation 'daily-planet'\n")
    assert "newsroom 'planet-cms' of 'daily-planet'" in first.output
    second = runner.invoke(
        main,
        ["users", "create", "planet-wire", "--role", "newsroom", "--organization", "daily-planet"],
    )
    assert second.exit_code == 0, second.output
    assert "created organisation" not in second.output
    desk = runner.invoke(main, ["users", "create", "dana", "--role", "editor"])
    assert "created organisation" not in desk.output
    assert "editor 'dana' of 'desk'" in desk.output
    listed = runner.invoke(main, ["users", "list"]).output
    assert "planet-cms\tnewsroom\tdaily-planet\tactive" in listed
    assert "dana\teditor\tdesk\tactive" in listed
    bad = runner.invoke(main, [*command, "--organization", "Daily Planet"])
    assert bad.exit_code == 1
    assert "organization" in bad.output
