"""The articles API through the Flask test client, against real migrated Postgres."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import text

from service.app import create_app
from service.db import session_scope
from service.domain.extraction import store_claims
from tests.factories import article_payload
from workers.extraction.engine import extract

URL = "/api/v1/articles"


def submit(client: FlaskClient, headers: dict[str, str], **overrides: Any) -> Any:
    return client.post(URL, json=article_payload(**overrides), headers=headers)


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    body = response.get_json(force=True)
    assert body["status"] == status
    assert body["type"].startswith("https://")
    assert body["title"]
    return body


class TestSubmit:
    def test_accepted_article_is_queued_with_outbox_row_in_same_transaction(
        self, client, admin_headers, engine
    ):
        response = submit(client, admin_headers, title="Budget vote")
        assert response.status_code == 202
        article = response.get_json()
        assert article["status"] == "queued"
        assert article["revision"] == 1
        assert article["title"] == "Budget vote"
        assert "body" not in article, "the caller has the body; it is not echoed back"
        detail = client.get(f"{URL}/{article['id']}", headers=admin_headers).get_json()
        assert detail["claim_counts"] == {"total": 0, "checkworthy": 0}
        with engine.connect() as connection:
            outbox = connection.execute(text("SELECT task, payload FROM outbox")).one()
            revisions = connection.scalar(
                text("SELECT count(*) FROM article_revisions WHERE article_id = :id"),
                {"id": article["id"]},
            )
        assert outbox.task == "factcheck.extract_claims"
        assert outbox.payload == {"article_id": article["id"], "revision": 1}
        assert revisions == 1

    def test_same_source_and_external_id_returns_the_existing_article(self, client, admin_headers):
        first = submit(client, admin_headers, external_id="story-1")
        again = submit(client, admin_headers, external_id="story-1")
        assert first.status_code == 202
        assert again.status_code == 200
        assert again.get_json()["id"] == first.get_json()["id"]
        listed = client.get(URL, headers=admin_headers).get_json()["items"]
        assert len(listed) == 1

    def test_same_external_id_without_a_source_returns_the_existing_article(
        self, client, admin_headers
    ):
        first = submit(client, admin_headers, source=None, external_id="wire-7")
        again = submit(client, admin_headers, source=None, external_id="wire-7")
        assert (first.status_code, again.status_code) == (202, 200)
        assert again.get_json()["id"] == first.get_json()["id"]
        assert len(client.get(URL, headers=admin_headers).get_json()["items"]) == 1
        other = submit(client, admin_headers, source="desk", external_id="wire-7")
        assert other.status_code == 202, "a named source is another namespace"

    def test_same_external_id_from_another_source_is_another_article(self, client, admin_headers):
        first = submit(client, admin_headers, source="a", external_id="1")
        second = submit(client, admin_headers, source="b", external_id="1")
        assert second.status_code == 202
        assert second.get_json()["id"] != first.get_json()["id"]

    def test_reused_external_id_with_another_body_is_a_conflict(self, client, admin_headers):
        submit(client, admin_headers, external_id="story-2", body="First text.")
        response = submit(client, admin_headers, external_id="story-2", body="Other text.")
        body = assert_problem(response, 409)
        assert "PUT /api/v1/articles/" in body["detail"]

    def test_idempotency_key_returns_the_existing_article(self, client, admin_headers):
        headers = {**admin_headers, "Idempotency-Key": "req-42"}
        first = submit(client, headers, external_id=None)
        again = submit(client, headers, external_id=None)
        assert (first.status_code, again.status_code) == (202, 200)
        assert first.get_json()["id"] == again.get_json()["id"]

    def test_idempotency_key_is_scoped_to_the_organisation(self, client, headers_for):
        ours = {**headers_for("newsroom", "daily-planet"), "Idempotency-Key": "same"}
        colleague = {**headers_for("newsroom", "daily-planet"), "Idempotency-Key": "same"}
        theirs = {**headers_for("newsroom", "the-bugle"), "Idempotency-Key": "same"}
        first = submit(client, ours, external_id=None)
        # Another organisation's key is its own: the same one, even the same text, is its own
        # article (before, a different submitter's key already was).
        other = submit(client, theirs, external_id=None)
        assert (first.status_code, other.status_code) == (202, 202)
        assert other.get_json()["id"] != first.get_json()["id"]
        # Within an organisation, any of its clients retrying gets the article already made.
        again = submit(client, colleague, external_id=None)
        assert again.status_code == 200
        assert again.get_json()["id"] == first.get_json()["id"]

    def test_idempotency_key_with_another_body_is_a_conflict(self, client, admin_headers):
        headers = {**admin_headers, "Idempotency-Key": "req-43"}
        submit(client, headers, external_id=None, body="One.")
        assert_problem(submit(client, headers, external_id=None, body="Two."), 409)

    def test_overlong_idempotency_key_is_refused(self, client, admin_headers):
        headers = {**admin_headers, "Idempotency-Key": "k" * 201}
        body = assert_problem(submit(client, headers), 422)
        assert "Idempotency-Key" in body["errors"]

    def test_submission_is_audited_without_the_body(self, client, admin_headers, engine):
        article = submit(client, admin_headers, body="Secret draft text.").get_json()
        with engine.connect() as connection:
            event = connection.execute(text("SELECT * FROM audit_log")).one()
        assert (event.actor, event.action, event.entity_id) == (
            "bootstrap-admin",
            "article.submitted",
            article["id"],
        )
        assert "Secret draft" not in json.dumps(event.after)

    def test_an_article_as_long_as_the_limit_is_accepted(self, client, admin_headers, settings):
        sentence = "The port handled 1.2 million containers in 2025, up 4% \u2013 a record. "
        body = (sentence * (settings.max_article_chars // len(sentence) + 1))[
            : settings.max_article_chars
        ]
        assert len(body) == settings.max_article_chars == 200_000
        response = submit(client, admin_headers, body=body)
        assert response.status_code == 202
        got = client.get(f"{URL}/{response.get_json()['id']}", headers=admin_headers).get_json()
        assert got["body"] == body


class TestArticleLimit:
    """FACTCHECK_MAX_ARTICLE_CHARS: a body longer than it is refused up front, everywhere."""

    LIMIT = 1_000

    @pytest.fixture
    def limited(self, settings):
        return create_app(replace(settings, max_article_chars=self.LIMIT)).test_client()

    def assert_refused(self, response, field="body"):
        problem = assert_problem(response, 422)
        (message,) = problem["errors"][field]
        assert f"limit of {self.LIMIT} characters per article" in message
        assert f"this body has {self.LIMIT + 1}" in message

    def test_submit_over_the_limit_is_422_and_stores_nothing(self, limited, admin_headers, engine):
        self.assert_refused(submit(limited, admin_headers, body="é" * (self.LIMIT + 1)))
        # Characters (code points), not bytes: 1,000 two-byte characters are within it.
        assert submit(limited, admin_headers, body="é" * self.LIMIT).status_code == 202
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM articles")) == 1

    def test_a_revision_over_the_limit_is_422(self, limited, admin_headers):
        article = submit(limited, admin_headers).get_json()
        response = limited.put(
            f"{URL}/{article['id']}", json={"body": "x" * (self.LIMIT + 1)}, headers=admin_headers
        )
        self.assert_refused(response)
        got = limited.get(f"{URL}/{article['id']}", headers=admin_headers).get_json()
        assert got["revision"] == 1

    def test_a_batch_item_over_the_limit_refuses_the_batch(self, limited, admin_headers, engine):
        items = [article_payload(), article_payload(body="x" * (self.LIMIT + 1))]
        response = limited.post(f"{URL}/batch", json={"articles": items}, headers=admin_headers)
        self.assert_refused(response, "articles.1.body")
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM articles")) == 0

    def test_the_default_limit_refuses_a_five_megabyte_article(self, client, admin_headers):
        sentence = "The port handled 1.2 million containers in 2025, up 4% on the year. "
        response = submit(client, admin_headers, body=sentence * (5_000_000 // len(sentence)))
        (message,) = assert_problem(response, 422)["errors"]["body"]
        assert "limit of 200000 characters per article" in message


class TestBadInput:
    def test_invalid_json_is_400(self, client, admin_headers):
        response = client.post(
            URL, data="{not json", content_type="application/json", headers=admin_headers
        )
        assert "Invalid JSON" in assert_problem(response, 400)["detail"]

    def test_non_utf8_body_is_400(self, client, admin_headers):
        data = b'{"body": "caf\xe9 \xff"}'
        response = client.post(
            URL, data=data, content_type="application/json", headers=admin_headers
        )
        assert_problem(response, 400)

    def test_missing_and_wrong_fields_are_422_per_field(self, client, admin_headers):
        response = client.post(
            URL,
            json={"title": 5, "url": "ftp://x.example/a", "published_at": "yesterday", "x": 1},
            headers=admin_headers,
        )
        errors = assert_problem(response, 422)["errors"]
        assert set(errors) == {"body", "title", "url", "published_at", "x"}
        assert errors["body"] == ["Missing data for required field."]

    @pytest.mark.parametrize("body", ["", "   \n\t "])
    def test_empty_body_text_is_422(self, client, admin_headers, body):
        errors = assert_problem(submit(client, admin_headers, body=body), 422)["errors"]
        assert "body" in errors

    @pytest.mark.parametrize("url", ["javascript:alert(1)", "data:text/plain,x", "not a url"])
    def test_non_http_url_is_422(self, client, admin_headers, url):
        errors = assert_problem(submit(client, admin_headers, url=url), 422)["errors"]
        assert "url" in errors

    def test_wrong_content_type_is_415(self, client, admin_headers):
        response = client.post(
            URL,
            data="body=hello",
            content_type="application/x-www-form-urlencoded",
            headers=admin_headers,
        )
        assert_problem(response, 415)

    def test_body_over_the_configured_limit_is_413(self, settings, admin_headers):
        small = create_app(type(settings)(**{**settings.__dict__, "max_request_bytes": 2048}))
        response = small.test_client().post(
            URL, json=article_payload(body="x" * 4096), headers=admin_headers
        )
        assert_problem(response, 413)

    def test_json_array_instead_of_object_is_422(self, client, admin_headers):
        assert_problem(client.post(URL, json=[1, 2], headers=admin_headers), 422)

    def test_nothing_is_stored_after_a_refused_submission(self, client, admin_headers, engine):
        submit(client, admin_headers, body="")
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM articles")) == 0
            assert connection.scalar(text("SELECT count(*) FROM outbox")) == 0


class TestBatch:
    def test_each_item_gets_its_outcome(self, client, admin_headers):
        existing = submit(client, admin_headers, external_id="e1", body="Old.").get_json()
        response = client.post(
            f"{URL}/batch",
            json={
                "articles": [
                    article_payload(external_id="n1"),
                    article_payload(external_id="e1", body="Old."),
                    article_payload(external_id="e1", body="Changed."),
                    article_payload(external_id=None, idempotency_key="k1"),
                ]
            },
            headers=admin_headers,
        )
        assert response.status_code == 202
        results = response.get_json()["results"]
        assert [r["outcome"] for r in results] == ["accepted", "existing", "conflict", "accepted"]
        assert results[1]["article"]["id"] == existing["id"]
        assert "different body" in results[2]["detail"]

    def test_same_external_id_without_a_source_is_one_article(self, client, admin_headers):
        existing = submit(client, admin_headers, source=None, external_id="w1").get_json()
        response = client.post(
            f"{URL}/batch",
            json={
                "articles": [
                    article_payload(source=None, external_id="w1"),
                    article_payload(source=None, external_id="w2"),
                    article_payload(source=None, external_id="w2"),
                ]
            },
            headers=admin_headers,
        )
        results = response.get_json()["results"]
        assert [r["outcome"] for r in results] == ["existing", "accepted", "existing"]
        assert results[0]["article"]["id"] == existing["id"]
        assert results[2]["article"]["id"] == results[1]["article"]["id"]
        assert len(client.get(URL, headers=admin_headers).get_json()["items"]) == 2

    def test_one_invalid_item_refuses_the_whole_batch(self, client, admin_headers, engine):
        response = client.post(
            f"{URL}/batch",
            json={"articles": [article_payload(), article_payload(body="")]},
            headers=admin_headers,
        )
        assert "articles.1.body" in assert_problem(response, 422)["errors"]
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM articles")) == 0

    def test_batch_over_the_limit_is_422(self, client, admin_headers, settings):
        items = [article_payload() for _ in range(settings.max_batch_articles + 1)]
        response = client.post(f"{URL}/batch", json={"articles": items}, headers=admin_headers)
        assert assert_problem(response, 422)["errors"] == {
            "articles": ["At most 100 articles per batch (this one has 101)."]
        }

    def test_a_huge_batch_is_counted_before_any_item_is_read(self, client, admin_headers, engine):
        # 100,000 items, each of which would fail validation on its own: refused from the
        # count alone, with no item's errors (none was built).
        data = b'{"articles": [' + b",".join([b'{"x": 1}'] * 100_000) + b"]}"
        response = client.post(
            f"{URL}/batch", data=data, content_type="application/json", headers=admin_headers
        )
        assert assert_problem(response, 422)["errors"] == {
            "articles": ["At most 100 articles per batch (this one has 100000)."]
        }
        with engine.connect() as connection:
            assert connection.scalar(text("SELECT count(*) FROM articles")) == 0

    def test_the_configured_batch_limit_holds(self, settings, admin_headers):
        small = create_app(replace(settings, max_batch_articles=3)).test_client()
        items = [article_payload(external_id=f"b{i}") for i in range(4)]
        response = small.post(f"{URL}/batch", json={"articles": items}, headers=admin_headers)
        assert assert_problem(response, 422)["errors"] == {
            "articles": ["At most 3 articles per batch (this one has 4)."]
        }
        response = small.post(f"{URL}/batch", json={"articles": items[:3]}, headers=admin_headers)
        assert response.status_code == 202

    def test_empty_batch_is_422(self, client, admin_headers):
        assert_problem(
            client.post(f"{URL}/batch", json={"articles": []}, headers=admin_headers), 422
        )


class TestRead:
    def test_list_pages_with_keyset_cursor_newest_first(self, client, admin_headers):
        ids = [submit(client, admin_headers).get_json()["id"] for _ in range(5)]
        seen: list[int] = []
        cursor = None
        while True:
            query = {"limit": 2} | ({"cursor": cursor} if cursor else {})
            page = client.get(URL, query_string=query, headers=admin_headers).get_json()
            seen += [item["id"] for item in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert seen == sorted(ids, reverse=True)

    def test_list_filters_by_status_source_and_text(self, client, admin_headers, sessions):
        a = submit(client, admin_headers, source="wire", body="Inflation fell to 3%.").get_json()
        b = submit(client, admin_headers, source="desk", body="The river flooded.").get_json()
        c = submit(client, admin_headers, source="desk", body="Inflation rose again.").get_json()
        for article in (a, b):  # processed, so searchable; c is still queued
            with session_scope(sessions) as session:
                store_claims(session, article["id"], 1, [])

        def ids(**query: Any) -> list[int]:
            page = client.get(URL, query_string=query, headers=admin_headers).get_json()
            return [item["id"] for item in page["items"]]

        assert ids(source="wire") == [a["id"]]
        assert ids(source="desk") == [c["id"], b["id"]]
        assert ids(status="processed") == [b["id"], a["id"]]
        assert ids(status="queued") == [c["id"]]
        assert ids(q="inflation") == [a["id"]]
        assert ids(q="flooding") == [b["id"]]  # English stemming
        assert ids(q="volcano") == []

    @pytest.mark.parametrize(
        "query", [{"limit": 0}, {"limit": 201}, {"status": "done"}, {"cursor": "%%%"}]
    )
    def test_bad_list_parameters_are_422(self, client, admin_headers, query):
        assert_problem(client.get(URL, query_string=query, headers=admin_headers), 422)

    def test_unknown_article_is_404(self, client, admin_headers):
        assert_problem(client.get(f"{URL}/999999999", headers=admin_headers), 404)
        assert_problem(client.get(f"{URL}/999999999/claims", headers=admin_headers), 404)

    def test_claims_of_current_revision_in_text_order(self, client, admin_headers, engine):
        article = submit(client, admin_headers, body="One. Two. Three.").get_json()
        with engine.begin() as connection:
            for start, end in ((10, 16), (0, 4), (5, 9)):
                connection.execute(
                    text(
                        'INSERT INTO claims (article_id, revision, start, "end", text) '
                        "VALUES (:a, 1, :s, :e, :t)"
                    ),
                    {"a": article["id"], "s": start, "e": end, "t": "One. Two. Three."[start:end]},
                )
        first = client.get(
            f"{URL}/{article['id']}/claims", query_string={"limit": 2}, headers=admin_headers
        ).get_json()
        rest = client.get(
            f"{URL}/{article['id']}/claims",
            query_string={"limit": 2, "cursor": first["next_cursor"]},
            headers=admin_headers,
        ).get_json()
        texts = [c["text"] for c in first["items"] + rest["items"]]
        assert texts == ["One.", "Two.", "Three."]
        assert rest["next_cursor"] is None
        detail = client.get(f"{URL}/{article['id']}", headers=admin_headers).get_json()
        assert detail["claim_counts"]["total"] == 3


class TestOrganisations:
    """Newsrooms of different organisations: each its own external ids, keys and articles."""

    def test_another_organisation_cannot_take_an_external_id_first(self, client, headers_for):
        planet = headers_for("newsroom", "daily-planet")
        bugle = headers_for("newsroom", "the-bugle")
        story = {"source": "planet", "external_id": "2026-001", "body": "The real story."}
        squatted = submit(client, bugle, **{**story, "body": "Squatted."})
        assert squatted.status_code == 202
        # The owner submits its own story: its own article, not a 409 naming the squatter's.
        ours = submit(client, planet, **story)
        assert ours.status_code == 202, ours.get_data(as_text=True)
        assert ours.get_json()["id"] != squatted.get_json()["id"]
        revised = client.put(
            f"{URL}/{ours.get_json()['id']}", json={"body": "The story, updated."}, headers=planet
        )
        assert revised.status_code == 202
        # Replaying the owner's exact submission from elsewhere never answers with its article.
        replayed = submit(client, headers_for("newsroom", "the-rag"), **story)
        assert replayed.status_code == 202
        assert replayed.get_json()["id"] != ours.get_json()["id"]
        clash = assert_problem(submit(client, bugle, **story), 409)
        assert clash["article_id"] == squatted.get_json()["id"]
        # Within the organisation the id still names one article.
        again = submit(client, headers_for("newsroom", "daily-planet"), **story)
        assert again.status_code == 409
        assert again.get_json()["article_id"] == ours.get_json()["id"]

    def test_a_newsroom_reads_only_its_organisations_articles(
        self, client, headers_for, admin_headers, sessions
    ):
        planet = headers_for("newsroom", "daily-planet")
        bugle = headers_for("newsroom", "the-bugle")
        body = "The council approved a budget of $4 million. It rose 5% on last year."
        ours = submit(client, planet, body=body).get_json()
        theirs = submit(client, bugle).get_json()
        with session_scope(sessions) as session:
            store_claims(session, ours["id"], 1, extract(body))
        paths = ("", "/claims", "/annotations")
        for path in paths:
            seen = client.get(f"{URL}/{ours['id']}{path}", headers=planet)
            assert seen.status_code == 200, path
            # Another organisation's article is 404 exactly as one that does not exist.
            hidden = client.get(f"{URL}/{ours['id']}{path}", headers=bugle)
            missing = client.get(f"{URL}/{ours['id'] + 10**6}{path}", headers=bugle)
            assert_problem(hidden, 404)
            assert_problem(missing, 404)
            assert hidden.get_json() == {
                **missing.get_json(),
                "detail": f"Article {ours['id']} does not exist.",
            }

        def listed(headers: dict[str, str]) -> set[int]:
            return {a["id"] for a in client.get(URL, headers=headers).get_json()["items"]}

        assert listed(planet) == {ours["id"]}
        assert listed(bugle) == {theirs["id"]}
        assert listed(headers_for("newsroom", "daily-planet")) == {ours["id"]}, "a colleague"
        # The desk's roles read every organisation's articles, whichever they belong to.
        for role in ("admin", "editor", "reviewer", "viewer"):
            desk = headers_for(role, "the-bugle")
            assert listed(desk) == {ours["id"], theirs["id"]}, role
            for path in paths:
                assert client.get(f"{URL}/{ours['id']}{path}", headers=desk).status_code == 200
        assert listed(admin_headers) == {ours["id"], theirs["id"]}
