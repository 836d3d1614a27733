"""The reviewer desk over HTTP (no browser): signing in and out, sessions, CSRF, the
permission table, stale forms, and each page's content. The browser walk is
test_browser.py."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from service.cli import main
from service.db import session_scope
from service.desk.sessions import COOKIE_NAME
from service.domain import desk_sessions
from service.domain.users import disable_user, find_user, list_tokens, revoke_token
from tests.conftest import ADMIN_TOKEN
from tests.desk.helpers import csrf_of, new_user, session_of, sign_in
from tests.factories import processed
from tests.policy import ALLOWED, ROLES

# The desk's routes and the permission each needs, written by hand (never read from the
# views): the role matrix below checks every role against ALLOWED, the intended policy.
DESK_ENDPOINTS = [
    ("GET", "/desk/", "claims:read"),
    ("GET", "/desk/editor", "claims:read"),
    ("GET", "/desk/claims/{claim}", "claims:read"),
    ("POST", "/desk/claims/{claim}/take", "claims:review"),
    ("POST", "/desk/claims/{claim}/release", "claims:review"),
    ("POST", "/desk/claims/{claim}/assign", "claims:review"),
    ("POST", "/desk/claims/{claim}/status", "claims:review"),
    ("POST", "/desk/claims/{claim}/span", "claims:review"),
    ("POST", "/desk/claims/{claim}/verdicts", "verdicts:write"),
    ("POST", "/desk/claims/{claim}/matches/{factcheck}", "matches:review"),
    ("POST", "/desk/verdicts/{verdict}/publish", "verdicts:publish"),
    ("POST", "/desk/verdicts/{verdict}/correct", "verdicts:publish"),
    ("GET", "/desk/articles/{id}", "claims:read"),
    ("POST", "/desk/articles/{id}/claims", "claims:review"),
    ("GET", "/desk/articles/{id}/annotations.jsonld", "articles:read"),
    ("GET", "/desk/verdicts/{verdict}/claimreview.jsonld", "reviews:read"),
]
# Open to anyone: signing in (a page and its form, a link's page and its form), signing out.
OPEN_ENDPOINTS = {
    ("GET", "/desk/login"),
    ("POST", "/desk/login"),
    ("GET", "/desk/login/<token>"),
    ("POST", "/desk/login/<token>"),
    ("POST", "/desk/logout"),
}


@pytest.fixture
def claim_id(article: dict[str, Any], engine: Any) -> int:
    with engine.connect() as connection:
        return int(
            connection.scalar(
                text("SELECT id FROM claims WHERE article_id = :a ORDER BY start LIMIT 1"),
                {"a": article["id"]},
            )
        )


@pytest.fixture
def verdict_id(client: Any, claim_id: int) -> int:
    response = client.post(
        f"/api/v1/claims/{claim_id}/verdicts",
        json={"rating": "false", "summary": "It did not."},
        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
    )
    assert response.status_code == 201, response.get_json()
    return int(response.get_json()["id"])


def _path(template: str, article: dict[str, Any], claim_id: int, verdict_id: int) -> str:
    return (
        template.replace("{id}", str(article["id"]))
        .replace("{claim}", str(claim_id))
        .replace("{verdict}", str(verdict_id))
        .replace("{factcheck}", "999999")
    )


def test_the_endpoint_table_names_every_desk_route(app):
    routes = {
        (method, rule.rule)
        for rule in app.url_map.iter_rules()
        if rule.endpoint.startswith("desk.") and rule.endpoint != "desk.static"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    declared = {
        (method, path.replace("{id}", "<int:article_id>")
         .replace("{claim}", "<int:claim_id>")
         .replace("{verdict}", "<int:verdict_id>")
         .replace("{factcheck}", "<int:factcheck_id>"))
        for method, path, _ in DESK_ENDPOINTS
    }  # fmt: skip
    assert routes == declared | OPEN_ENDPOINTS
    for rule in app.url_map.iter_rules():
        if rule.endpoint.startswith("desk.") and rule.endpoint != "desk.static":
            permission = app.view_functions[rule.endpoint].desk_permission
            expected = {p for m, path, p in DESK_ENDPOINTS if _rule(path) == rule.rule}
            assert {permission} == (expected or {None}), rule.rule


def _rule(path: str) -> str:
    return (
        path.replace("{id}", "<int:article_id>")
        .replace("{claim}", "<int:claim_id>")
        .replace("{verdict}", "<int:verdict_id>")
        .replace("{factcheck}", "<int:factcheck_id>")
    )


def test_a_desk_view_declaring_no_permission_cannot_be_registered():
    from service.desk.views import DeskBlueprint

    probe = DeskBlueprint("probe", __name__)
    with pytest.raises(TypeError, match="declare @needs"):

        @probe.route("/open")
        def open_view() -> str:
            return "anyone"


@pytest.mark.parametrize(("method", "path", "permission"), DESK_ENDPOINTS)
@pytest.mark.parametrize("role", ROLES)
def test_desk_role_matrix(
    app, sessions, article, claim_id, verdict_id, method, path, permission, role
):
    """Each role may do on the desk exactly what its token may do through the API (a
    newsroom, which the sign-in page turns away, is refused page by page all the same)."""
    desk = session_of(app, sessions, role) if role == "newsroom" else sign_in(app, sessions, role)
    url = _path(path, article, claim_id, verdict_id)
    if method == "GET":
        response = desk.get(url)
    else:
        form = {"version": "1", "seen": "0", "assignee_id": str(desk.user.user_id)}
        response = desk.post(url, form)
    body = response.get_data(as_text=True)
    if role in ALLOWED[permission]:
        assert response.status_code not in (401, 403), body[:800]
    else:
        assert response.status_code == 403, body[:800]
        assert f"The {role} role may not {permission}." in body


def test_signed_out_pages_go_to_sign_in_and_actions_are_refused(client, claim_id):
    page = client.get(f"/desk/claims/{claim_id}")
    assert page.status_code == 302, page.get_data(as_text=True)
    assert page.headers["Location"] == f"/desk/login?next=/desk/claims/{claim_id}"
    login = client.get("/desk/login")
    action = client.post(
        f"/desk/claims/{claim_id}/take", data={"csrf_token": csrf_of(login), "version": "1"}
    )
    assert action.status_code == 401
    assert "Your session has ended" in action.get_data(as_text=True)


def test_sign_in_sets_a_new_httponly_strict_cookie_and_keeps_no_token(app, sessions, engine):
    user = new_user(sessions, "reviewer")
    client = app.test_client()
    page = client.get("/desk/login")
    before = page.headers["Set-Cookie"]
    assert "HttpOnly" in before
    assert "SameSite=Strict" in before
    assert "Path=/desk" in before
    response = client.post("/desk/login", data={"token": user.token, "csrf_token": csrf_of(page)})
    after = response.headers["Set-Cookie"]
    assert response.status_code == 303
    assert response.headers["Location"] == "/desk/"
    assert "HttpOnly" in after
    assert "SameSite=Strict" in after
    assert "Secure" not in after
    value = after.split(";")[0].split("=", 1)[1]
    assert value not in before  # a new session on sign-in: no fixation
    with engine.connect() as connection:
        stored = connection.execute(text("SELECT token_hash, data::text FROM desk_sessions")).all()
    assert all(value not in row.token_hash and user.token not in row.data for row in stored)
    assert client.get("/desk/").status_code == 200


def test_the_cookie_is_secure_over_tls(app, sessions):
    user = new_user(sessions, "reviewer")
    client = app.test_client()
    page = client.get("/desk/login", base_url="https://desk.example")
    response = client.post(
        "/desk/login",
        data={"token": user.token, "csrf_token": csrf_of(page)},
        base_url="https://desk.example",
        headers={"Referer": "https://desk.example/desk/login"},
    )
    assert response.status_code == 303
    assert "Secure" in response.headers["Set-Cookie"]


def test_a_bad_token_is_refused_and_the_bootstrap_admin_is_told_why(client):
    page = client.get("/desk/login")
    bad = client.post("/desk/login", data={"token": "fct_nope", "csrf_token": csrf_of(page)})
    assert bad.status_code == 401
    assert "That token is not valid" in bad.get_data(as_text=True)
    admin = client.post("/desk/login", data={"token": ADMIN_TOKEN, "csrf_token": csrf_of(page)})
    assert admin.status_code == 401
    assert "bootstrap admin token cannot sign in" in admin.get_data(as_text=True)
    assert client.get("/desk/").status_code == 302


def test_sign_out_ends_the_session_server_side(app, sessions, engine):
    desk = sign_in(app, sessions, "reviewer")
    cookie = desk.client.get_cookie(COOKIE_NAME, path="/desk")
    assert cookie is not None
    response = desk.post("/desk/logout")
    assert response.status_code == 303
    assert desk.get("/desk/").status_code == 302
    replayed = app.test_client()
    replayed.set_cookie(COOKIE_NAME, cookie.value, path="/desk")
    assert replayed.get("/desk/").status_code == 302


@pytest.mark.parametrize("how", ["revoke", "disable"])
def test_revoking_the_token_or_disabling_the_user_ends_the_session(app, sessions, how):
    desk = sign_in(app, sessions, "editor")
    assert desk.get("/desk/").status_code == 200
    with session_scope(sessions) as session:
        user = find_user(session, desk.user.name)
        if how == "revoke":
            token = list_tokens(session, user.id, limit=1)[0]
            revoke_token(session, user.id, token.id, actor="test")
        else:
            disable_user(session, user.id, actor="test")
    assert desk.get("/desk/").status_code == 302


def test_a_role_change_takes_effect_at_once(app, sessions, engine, verdict_id):
    desk = sign_in(app, sessions, "editor")
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE users SET role = 'viewer' WHERE name = :n"), {"n": desk.user.name}
        )
    response = desk.post(f"/desk/verdicts/{verdict_id}/publish", {"verdict_version": "1"})
    assert response.status_code == 403


def test_an_idle_session_expires(app, sessions, engine):
    desk = sign_in(app, sessions, "reviewer")
    with engine.begin() as connection:
        connection.execute(text("UPDATE desk_sessions SET expires_at = now() - interval '1 s'"))
    assert desk.get("/desk/").status_code == 302


def test_use_moves_the_idle_expiry_on_but_never_past_the_end(app, sessions, engine):
    desk = sign_in(app, sessions, "reviewer")
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE desk_sessions SET seen_at = now() - interval '5 min', "
                "expires_at = now() + interval '1 min', ends_at = now() + interval '10 min' "
                "WHERE user_id IS NOT NULL"
            )
        )
    assert desk.get("/desk/").status_code == 200
    with engine.connect() as connection:
        row = connection.execute(
            text(
                "SELECT expires_at - now() AS left, ends_at - expires_at AS slack "
                "FROM desk_sessions WHERE user_id IS NOT NULL"
            )
        ).one()
    assert row.left > timedelta(minutes=5)
    assert row.slack >= timedelta(0)


def test_a_sign_in_link_works_once_and_its_page_does_not_spend_it(app, sessions):
    user = new_user(sessions, "reviewer")
    with session_scope(sessions) as session:
        link = desk_sessions.create_login_link(
            session, find_user(session, user.name), actor="test", lifetime=timedelta(minutes=5)
        )
    client = app.test_client()
    page = client.get(f"/desk/login/{link}")
    assert page.status_code == 200
    assert client.get(f"/desk/login/{link}").status_code == 200  # a preview spends nothing
    used = client.post(f"/desk/login/{link}", data={"csrf_token": csrf_of(page)})
    assert used.status_code == 303
    assert client.get("/desk/").status_code == 200
    other = app.test_client()
    again = other.post(
        f"/desk/login/{link}", data={"csrf_token": csrf_of(other.get(f"/desk/login/{link}"))}
    )
    assert again.status_code == 401
    assert "was used, it expired" in again.get_data(as_text=True)


def test_an_expired_sign_in_link_is_refused(app, sessions, engine):
    user = new_user(sessions, "reviewer")
    with session_scope(sessions) as session:
        link = desk_sessions.create_login_link(
            session, find_user(session, user.name), actor="test", lifetime=timedelta(minutes=5)
        )
    with engine.begin() as connection:
        connection.execute(text("UPDATE desk_login_links SET expires_at = now()"))
    client = app.test_client()
    page = client.get(f"/desk/login/{link}")
    assert client.post(f"/desk/login/{link}", data={"csrf_token": csrf_of(page)}).status_code == 401


def test_users_login_link_prints_a_link_that_signs_in(app, sessions, database_url, monkeypatch):
    user = new_user(sessions, "editor")
    monkeypatch.setenv("DATABASE_URL", database_url)
    result = CliRunner().invoke(
        main, ["users", "login-link", user.name, "--url", "https://desk.example/"]
    )
    assert result.exit_code == 0, result.output
    link = result.output.strip().splitlines()[-1]
    assert link.startswith("https://desk.example/desk/login/fcl_")
    path = link.removeprefix("https://desk.example")
    client = app.test_client()
    page = client.get(path)
    assert client.post(path, data={"csrf_token": csrf_of(page)}).status_code == 303
    assert client.get("/desk/").status_code == 200
    missing = CliRunner().invoke(main, ["users", "login-link", "nobody-of-that-name"])
    assert missing.exit_code != 0
    assert "No user named" in missing.output


def test_a_post_without_the_csrf_token_or_with_another_sessions_is_refused(
    app, sessions, claim_id, engine
):
    desk = sign_in(app, sessions, "reviewer")
    other = sign_in(app, sessions, "reviewer")
    form = desk.claim_form(claim_id)
    missing = desk.post(f"/desk/claims/{claim_id}/take", form, csrf=False)
    assert missing.status_code == 400
    assert "Form refused" in missing.get_data(as_text=True)
    foreign = desk.client.post(
        f"/desk/claims/{claim_id}/take", data=form | {"csrf_token": other.csrf()}
    )
    assert foreign.status_code == 400
    with engine.connect() as connection:
        assignee = connection.scalar(
            text("SELECT assignee_id FROM claims WHERE id = :c"), {"c": claim_id}
        )
    assert assignee is None


def test_the_api_neither_reads_nor_sets_the_desks_cookie(app, sessions):
    desk = sign_in(app, sessions, "editor")
    response = desk.client.get("/api/v1/articles")
    assert response.status_code == 401
    assert "Set-Cookie" not in response.headers


def test_after_sign_in_only_a_desk_path_is_followed(app, sessions):
    user = new_user(sessions, "reviewer")
    client = app.test_client()
    page = client.get("/desk/login?next=https://evil.example/desk/")
    assert "evil.example" not in page.get_data(as_text=True)
    response = client.post(
        "/desk/login",
        data={"token": user.token, "csrf_token": csrf_of(page), "next": "//evil.example/x"},
    )
    assert response.headers["Location"] == "/desk/"


def test_a_stale_form_is_refused_with_what_changed_and_changes_nothing(
    app, sessions, claim_id, engine
):
    first = sign_in(app, sessions, "reviewer")
    second = sign_in(app, sessions, "reviewer")
    stale = first.claim_form(claim_id)
    taken = second.post(f"/desk/claims/{claim_id}/take", second.claim_form(claim_id))
    assert taken.status_code == 303
    refused = first.post(f"/desk/claims/{claim_id}/status", stale | {"status": "not_checkworthy"})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 412
    assert "changed since you read it" in page
    assert "claim.taken" in page
    assert second.user.name in page
    with engine.connect() as connection:
        status = connection.scalar(text("SELECT status FROM claims WHERE id = :c"), {"c": claim_id})
    assert status == "in_review"


def test_a_reviewer_sees_no_publish_button_and_a_forged_publish_is_refused(
    app, sessions, claim_id, verdict_id, engine
):
    editor = sign_in(app, sessions, "editor")
    editor.post(f"/desk/claims/{claim_id}/take", editor.claim_form(claim_id))
    marked = editor.post(
        f"/desk/claims/{claim_id}/status", editor.claim_form(claim_id) | {"status": "reviewed"}
    )
    assert marked.status_code == 303, marked.get_data(as_text=True)
    assert "Publish this verdict" in editor.get(f"/desk/claims/{claim_id}").get_data(as_text=True)
    reviewer = sign_in(app, sessions, "reviewer")
    page = reviewer.get(f"/desk/claims/{claim_id}").get_data(as_text=True)
    assert "Publish this verdict" not in page
    forged = reviewer.post(f"/desk/verdicts/{verdict_id}/publish", {"verdict_version": "1"})
    assert forged.status_code == 403
    with engine.connect() as connection:
        status = connection.scalar(
            text("SELECT status FROM verdicts WHERE id = :v"), {"v": verdict_id}
        )
    assert status == "proposed"


def test_a_verdict_form_is_validated_by_the_apis_rules(app, sessions, claim_id):
    desk = sign_in(app, sessions, "reviewer")
    response = desk.post(
        f"/desk/claims/{claim_id}/verdicts",
        {
            "rating": "false",
            "summary": "",
            "evidence-0-url": "not a url",
            "evidence-0-stance": "refutes",
        },
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "summary" in page
    assert "evidence.0.url" in page
    added = desk.post(
        f"/desk/claims/{claim_id}/verdicts",
        {
            "rating": "false",
            "summary": "The figure was 4.4%.",
            "evidence-0-url": "https://stats.example.gov/a",
            "evidence-0-stance": "refutes",
            "evidence-1-stance": "supports",  # a row with nothing but its stance is empty
            "evidence-2-url": "https://stats.example.gov/b",
            "evidence-2-stance": "context",
            "evidence-2-title": "Labour market",
        },
    )
    assert added.status_code == 303
    page = desk.get(f"/desk/claims/{claim_id}").get_data(as_text=True)
    assert "The figure was 4.4%." in page
    assert "https://stats.example.gov/a" in page
    assert "Labour market" in page
    assert page.count("<td>refutes</td>") == 1
    assert page.count("<td>context</td>") == 1


def test_a_missed_span_is_added_by_its_quoted_text_or_offsets(app, sessions, article):
    desk = sign_in(app, sessions, "reviewer")
    added = desk.post(f"/desk/articles/{article['id']}/claims", {"quote": "the lowest since 2001"})
    assert added.status_code == 303, added.get_data(as_text=True)
    assert re.match(r"^/desk/claims/\d+$", added.headers["Location"])
    again = desk.post(f"/desk/articles/{article['id']}/claims", {"quote": "the lowest since 2001"})
    assert again.status_code == 409
    wrong = desk.post(
        f"/desk/articles/{article['id']}/claims", {"quote": "crime", "start": "0", "end": "5"}
    )
    assert wrong.status_code == 422
    assert "not the text quoted" in wrong.get_data(as_text=True)
    absent = desk.post(f"/desk/articles/{article['id']}/claims", {"quote": "not in it"})
    assert absent.status_code == 422


def test_the_queue_filters_searches_and_pages(app, sessions, article):
    desk = sign_in(app, sessions, "viewer")
    page = desk.get("/desk/?q=unemployment").get_data(as_text=True)
    assert "Unemployment fell to 4.1%" in page
    assert "No claims match." in desk.get("/desk/?q=zebra").get_data(as_text=True)
    assert "Take claim" not in page  # a viewer reads, never takes
    first = desk.get("/desk/?limit=1&checkworthy=false").get_data(as_text=True)
    assert "Next page" in first
    bad = desk.get("/desk/?min_score=2")
    assert bad.status_code == 400
    assert "min_score" in bad.get_data(as_text=True)


def test_the_editors_view_lists_disagreements_first(app, sessions, client, engine):

    body = "Unemployment fell to 4.1% in May. Crime rose 12% last year, the mayor said."
    article_id = processed(client, sessions, body)
    with engine.connect() as connection:
        ids = connection.scalars(
            text("SELECT id FROM claims WHERE article_id = :a ORDER BY start"),
            {"a": article_id},
        ).all()
    agreeing, split = ids[0], ids[1]
    first, second = sign_in(app, sessions, "reviewer"), sign_in(app, sessions, "reviewer")
    for claim, ratings in ((agreeing, ("true", "true")), (split, ("true", "false"))):
        for desk, rating in zip((first, second), ratings, strict=True):
            desk.post(f"/desk/claims/{claim}/verdicts", {"rating": rating, "summary": "So."})
        first.post(f"/desk/claims/{claim}/take", first.claim_form(claim))
        done = first.post(
            f"/desk/claims/{claim}/status", first.claim_form(claim) | {"status": "reviewed"}
        )
        assert done.status_code == 303, done.get_data(as_text=True)
    page = sign_in(app, sessions, "editor").get("/desk/editor").get_data(as_text=True)
    assert page.index(f"/desk/claims/{split}") < page.index(f"/desk/claims/{agreeing}")
    assert "Disagree:" in page


def test_pages_are_private_and_refuse_framing(app, sessions, claim_id):
    desk = sign_in(app, sessions, "reviewer")
    response = desk.get(f"/desk/claims/{claim_id}")
    assert response.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"


def test_expired_sessions_are_purged_a_batch_at_a_time(engine):
    lifetimes = desk_sessions.Lifetimes(timedelta(minutes=1), timedelta(hours=1))
    with engine.begin() as connection:
        for _ in range(5):
            desk_sessions.create_session(connection, {}, lifetimes)
        connection.execute(text("UPDATE desk_sessions SET expires_at = now() - interval '1 s'"))
        assert desk_sessions.purge_expired(connection, batch=3) == 3
        assert desk_sessions.purge_expired(connection, batch=3) == 2


def test_a_role_without_desk_pages_is_turned_away_at_sign_in(app, sessions):
    user = new_user(sessions, "newsroom")
    client = app.test_client()
    page = client.get("/desk/login")
    response = client.post("/desk/login", data={"token": user.token, "csrf_token": csrf_of(page)})
    assert response.status_code == 403
    assert "The newsroom role may not claims:read" in response.get_data(as_text=True)
    assert client.get("/desk/").status_code == 302


def test_rotating_the_token_ends_a_session_a_sign_in_link_opened(app, sessions):
    from service.domain.users import rotate_token

    user = new_user(sessions, "reviewer")
    with session_scope(sessions) as session:
        link = desk_sessions.create_login_link(
            session, find_user(session, user.name), actor="test", lifetime=timedelta(minutes=5)
        )
    client = app.test_client()
    page = client.get(f"/desk/login/{link}")
    client.post(f"/desk/login/{link}", data={"csrf_token": csrf_of(page)})
    assert client.get("/desk/").status_code == 200
    with session_scope(sessions) as session:
        rotate_token(session, user.user_id, actor="test")
    assert client.get("/desk/").status_code == 302


@pytest.mark.parametrize("value", ["²", "-1", "1.5", "9" * 30])
def test_numbers_a_form_cannot_hold_are_refused_not_crashed_on(app, sessions, claim_id, value):
    desk = sign_in(app, sessions, "editor")
    form = desk.claim_form(claim_id)
    for changed in ({"version": value}, {"assignee_id": value}):
        response = desk.post(f"/desk/claims/{claim_id}/assign", form | changed)
        assert response.status_code == 400, response.get_data(as_text=True)
    assert desk.get(f"/desk/editor?waiting={value}.1.1").status_code == 400


def test_a_pasted_token_that_is_not_ascii_is_refused_plainly(client):
    page = client.get("/desk/login")
    response = client.post("/desk/login", data={"token": "fct_é²", "csrf_token": csrf_of(page)})
    assert response.status_code == 401


def test_a_quote_sent_with_a_forms_line_breaks_finds_its_span(app, sessions, client):

    body = "Prices rose 5% in May.\nWages fell 2% in June.\n\nRents doubled since 2019."
    article_id = processed(client, sessions, body)
    desk = sign_in(app, sessions, "reviewer")
    quote = "in May.\r\nWages fell"  # as a browser sends a textarea's text
    start = body.index("in May.")
    with_offsets = desk.post(
        f"/desk/articles/{article_id}/claims",
        {"quote": quote, "start": str(start), "end": str(start + len("in May.\nWages fell"))},
    )
    assert with_offsets.status_code == 303, with_offsets.get_data(as_text=True)
    typed = desk.post(f"/desk/articles/{article_id}/claims", {"quote": "2% in June.\r\n\r\nRents"})
    assert typed.status_code == 303, typed.get_data(as_text=True)


def test_an_orphaned_reviewed_claim_waits_for_publication_too(app, sessions, claim_id, engine):
    editor = sign_in(app, sessions, "editor")
    editor.post(f"/desk/claims/{claim_id}/take", editor.claim_form(claim_id))
    editor.post(f"/desk/claims/{claim_id}/verdicts", {"rating": "false", "summary": "No."})
    editor.post(
        f"/desk/claims/{claim_id}/status", editor.claim_form(claim_id) | {"status": "reviewed"}
    )
    with engine.begin() as connection:
        connection.execute(text("UPDATE claims SET orphaned = true WHERE id = :c"), {"c": claim_id})
        connection.execute(
            text(
                "UPDATE articles SET revision = revision + 1 "
                "WHERE id = (SELECT article_id FROM claims WHERE id = :c)"
            ),
            {"c": claim_id},
        )
    page = editor.get("/desk/editor").get_data(as_text=True)
    assert f"/desk/claims/{claim_id}" in page


def test_a_correction_from_the_desk_may_replace_the_evidence(app, sessions, claim_id, engine):
    editor = sign_in(app, sessions, "editor")
    editor.post(f"/desk/claims/{claim_id}/take", editor.claim_form(claim_id))
    editor.post(
        f"/desk/claims/{claim_id}/verdicts",
        {
            "rating": "false",
            "summary": "No.",
            "evidence-0-url": "https://old.example/a",
            "evidence-0-stance": "refutes",
        },
    )
    editor.post(
        f"/desk/claims/{claim_id}/status", editor.claim_form(claim_id) | {"status": "reviewed"}
    )
    with engine.connect() as connection:
        verdict_id = connection.scalar(
            text("SELECT id FROM verdicts WHERE claim_id = :c"), {"c": claim_id}
        )
    assert editor.post(f"/desk/verdicts/{verdict_id}/publish").status_code == 303
    page = editor.get(f"/desk/claims/{claim_id}").get_data(as_text=True)
    assert 'value="https://old.example/a"' in page  # the correction form starts from it
    corrected = editor.post(
        f"/desk/verdicts/{verdict_id}/correct",
        {
            "rating": "mostly-false",
            "summary": "Mostly not.",
            "reason": "A better source.",
            "evidence-0-url": "https://new.example/b",
            "evidence-0-stance": "refutes",
        },
    )
    assert corrected.status_code == 303, corrected.get_data(as_text=True)
    with engine.connect() as connection:
        urls = connection.scalars(
            text(
                "SELECT e.url FROM evidence e JOIN verdicts v ON v.id = e.verdict_id "
                "WHERE v.claim_id = :c AND v.status = 'published'"
            ),
            {"c": claim_id},
        ).all()
    assert urls == ["https://new.example/b"]


def test_the_desks_script_and_style_sheet_may_be_cached(client):
    response = client.get("/desk/static/desk.js")
    response.close()
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"
    assert "Set-Cookie" not in response.headers
