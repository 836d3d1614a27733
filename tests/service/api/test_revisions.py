"""Revising an article: a new revision, re-extracted, with reviewer work carried over."""

from __future__ import annotations

from service.db import session_scope
from service.domain.extraction import store_claims
from tests.factories import BODY, publish_verdict, queue
from workers.extraction.engine import extract

ARTICLES = "/api/v1/articles"
CLAIMS = "/api/v1/claims"
# The unemployment sentence moves (new lead paragraph); the crime sentence is rewritten.
REVISED = (
    "Correction appended on Tuesday.\n\n"
    "Unemployment fell to 4.1% in May, the lowest since 2001. "
    "The mayor said crime fell 3% last year. Thank you for reading."
)


def process(sessions, article_id: int, revision: int, body: str) -> None:
    with session_scope(sessions) as session:
        store_claims(session, article_id, revision, extract(body))


def rate(client, headers, claim_id: int, rating: str) -> int:
    response = client.post(
        f"{CLAIMS}/{claim_id}/verdicts",
        json={"rating": rating, "summary": "Checked.", "evidence": []},
        headers=headers,
    )
    assert response.status_code == 201
    return response.get_json()["id"]


def test_revision_carries_reviewed_claims_and_orphans_the_rest(
    client,
    headers_for,
    admin_headers,
    sessions,
    article,
):
    reviewer = headers_for("reviewer")
    claims = {c["text"]: c for c in queue(client, reviewer)}
    jobs = claims["Unemployment fell to 4.1% in May, the lowest since 2001."]
    crime = claims["The mayor said crime rose 12% last year."]
    jobs_verdict = rate(client, reviewer, jobs["id"], "true")
    crime_verdict = rate(client, reviewer, crime["id"], "false")

    revised = client.put(
        f"{ARTICLES}/{article['id']}", json={"body": REVISED}, headers=admin_headers
    )
    assert revised.status_code == 202
    assert (revised.get_json()["revision"], revised.get_json()["status"]) == (2, "queued")
    process(sessions, article["id"], 2, REVISED)

    moved = client.get(f"{CLAIMS}/{jobs['id']}", headers=reviewer).get_json()
    assert (moved["revision"], moved["orphaned"]) == (2, False)
    assert REVISED[moved["start"] : moved["end"]] == jobs["text"]
    assert moved["start"] != jobs["start"]
    assert [v["id"] for v in moved["verdicts"]] == [jobs_verdict]
    # Its quantities, dates and entities moved with it: still offsets into the (new) body.
    spans = moved["quantities"] + moved["dates"] + moved["entities"]
    assert {s["text"] for s in moved["quantities"]} == {"4.1%"}
    assert [REVISED[s["start"] : s["end"]] for s in spans] == [s["text"] for s in spans]

    gone = client.get(f"{CLAIMS}/{crime['id']}", headers=reviewer).get_json()
    assert (gone["revision"], gone["orphaned"]) == (1, True)
    assert [v["id"] for v in gone["verdicts"]] == [crime_verdict], "verdicts are kept"

    current = client.get(f"{ARTICLES}/{article['id']}/claims", headers=reviewer).get_json()
    texts = [c["text"] for c in current["items"]]
    assert texts.count(jobs["text"]) == 1, "the carried claim is not duplicated by the engine"
    assert "The mayor said crime fell 3% last year." in texts
    orphans = client.get(
        f"{ARTICLES}/{article['id']}/claims", query_string={"orphaned": "true"}, headers=reviewer
    ).get_json()["items"]
    assert [c["id"] for c in orphans] == [crime["id"]]

    history = client.get(f"{CLAIMS}/{crime['id']}/history", headers=reviewer).get_json()["items"]
    assert history[-1]["action"] == "claim.orphaned"


def test_corrected_spans_are_carried_by_their_own_context(
    client,
    headers_for,
    admin_headers,
    sessions,
    article,
):
    editor = headers_for("editor")
    claims = {c["text"]: c for c in queue(client, editor)}
    crime = claims["The mayor said crime rose 12% last year."]
    jobs = claims["Unemployment fell to 4.1% in May, the lowest since 2001."]
    client.post(f"{CLAIMS}/{crime['id']}/take", headers=editor)
    for claim, start, end in (
        (crime, BODY.index("crime rose"), BODY.index(" last year")),
        (jobs, jobs["start"], BODY.index(", the lowest")),  # corrected, never taken
    ):
        etag = client.get(f"{CLAIMS}/{claim['id']}", headers=editor).headers["ETag"]
        response = client.patch(
            f"{CLAIMS}/{claim['id']}",
            json={"start": start, "end": end},
            headers={**editor, "If-Match": etag},
        )
        assert response.status_code == 200
    # "crime rose 12%" now occurs twice; the later one is nearer the old offset, but only
    # the first is the mayor's.
    revised = (
        "The mayor said crime rose 12% last year. Unemployment fell to 4.1% in May, "
        "the lowest since 2001, and crime rose 12% in June. Thank you for reading."
    )
    response = client.put(
        f"{ARTICLES}/{article['id']}", json={"body": revised}, headers=admin_headers
    )
    assert response.status_code == 202
    process(sessions, article["id"], 2, revised)

    moved = client.get(f"{CLAIMS}/{crime['id']}", headers=editor).get_json()
    assert (moved["revision"], moved["orphaned"], moved["status"]) == (2, False, "in_review")
    assert (moved["start"], moved["text"]) == (revised.index("crime rose"), "crime rose 12%")
    assert moved["prefix"] == "The mayor said "
    kept = client.get(f"{CLAIMS}/{jobs['id']}", headers=editor).get_json()
    assert (kept["revision"], kept["orphaned"]) == (2, False)
    assert (
        revised[kept["start"] : kept["end"]] == kept["text"] == "Unemployment fell to 4.1% in May"
    )


def test_unreviewed_claims_of_old_revisions_are_not_carried(
    client,
    headers_for,
    admin_headers,
    sessions,
    article,
):
    client.put(f"{ARTICLES}/{article['id']}", json={"body": REVISED}, headers=admin_headers)
    process(sessions, article["id"], 2, REVISED)
    current = client.get(f"{ARTICLES}/{article['id']}/claims", headers=headers_for("viewer"))
    items = current.get_json()["items"]
    assert {c["revision"] for c in items} == {2}
    assert not any(c["orphaned"] for c in items)


def test_same_body_is_not_a_new_revision(client, admin_headers, article):
    again = client.put(f"{ARTICLES}/{article['id']}", json={"body": BODY}, headers=admin_headers)
    assert again.status_code == 200
    assert again.get_json()["revision"] == 1


def test_revising_unknown_or_with_bad_body_fails_clearly(client, admin_headers, article):
    assert (
        client.put(f"{ARTICLES}/999999", json={"body": "x"}, headers=admin_headers).status_code
        == 404
    )
    assert (
        client.put(
            f"{ARTICLES}/{article['id']}", json={"body": " "}, headers=admin_headers
        ).status_code
        == 422
    )


def test_a_newsroom_revises_its_organisations_articles_only(client, headers_for, admin_headers):
    ours, colleague = (
        headers_for("newsroom", "daily-planet"),
        headers_for("newsroom", "daily-planet"),
    )
    theirs, editor = headers_for("newsroom", "the-bugle"), headers_for("editor")
    created = client.post(ARTICLES, json={"body": BODY}, headers=ours).get_json()
    url = f"{ARTICLES}/{created['id']}"
    # Another organisation's article is not there for it: 404, as a missing one, not 403.
    refused = client.put(url, json={"body": REVISED}, headers=theirs)
    missing = client.put(
        f"{ARTICLES}/{created['id'] + 10**6}", json={"body": REVISED}, headers=theirs
    )
    assert refused.status_code == missing.status_code == 404
    assert refused.mimetype == "application/problem+json"
    assert refused.get_json()["detail"] == f"Article {created['id']} does not exist."
    assert client.get(url, headers=admin_headers).get_json()["revision"] == 1
    assert client.put(url, json={"body": REVISED}, headers=ours).status_code == 202
    # The organisation owns it, as it owns its external ids: any of its clients revises it.
    assert client.put(url, json={"body": BODY}, headers=colleague).status_code == 202
    assert client.put(url, json={"body": REVISED}, headers=editor).status_code == 202
    assert client.put(url, json={"body": BODY}, headers=admin_headers).status_code == 202
    assert client.get(url, headers=admin_headers).get_json()["revision"] == 5


def test_the_same_body_again_retries_a_failed_article(client, admin_headers, sessions, engine):
    from sqlalchemy import text

    from service.domain.extraction import fail_extraction

    created = client.post(ARTICLES, json={"body": BODY}, headers=admin_headers).get_json()
    url = f"{ARTICLES}/{created['id']}"
    with session_scope(sessions) as session:
        fail_extraction(session, created["id"], 1, "engine error: boom")
    assert client.get(url, headers=admin_headers).get_json()["status"] == "failed"
    messages = text("SELECT count(*) FROM outbox WHERE payload = CAST(:p AS jsonb)")
    payload = {"p": f'{{"article_id": {created["id"]}, "revision": 1}}'}
    with engine.connect() as connection:
        sent_before = connection.scalar(messages, payload)

    retried = client.put(url, json={"body": BODY}, headers=admin_headers)
    assert retried.status_code == 202
    assert retried.get_json()["status"] == "queued"
    assert retried.get_json()["revision"] == 1
    with engine.connect() as connection:
        sent_after = connection.scalar(messages, payload)
        action = connection.scalar(
            text("SELECT action FROM audit_log WHERE entity_id = :id ORDER BY id DESC LIMIT 1"),
            {"id": created["id"]},
        )
    assert sent_after == sent_before + 1
    assert action == "article.requeued"
    process(sessions, created["id"], 1, BODY)
    assert client.get(url, headers=admin_headers).get_json()["status"] == "processed"
    # Processed: the same body is a no-op again.
    assert client.put(url, json={"body": BODY}, headers=admin_headers).status_code == 200


def test_work_on_a_claim_a_processed_revision_left_behind_is_refused(client, headers_for, sessions):
    """It would vanish from the queue, the article's claims and its annotations."""
    newsroom, reviewer, editor = (headers_for(r) for r in ("newsroom", "reviewer", "editor"))
    created = client.post(ARTICLES, json={"body": BODY}, headers=newsroom).get_json()
    process(sessions, created["id"], 1, BODY)
    left = client.get(f"{ARTICLES}/{created['id']}/claims", headers=reviewer).json["items"][0]
    proposed = rate(client, reviewer, left["id"], "false")  # work: carried over with it
    untouched = client.get(f"{ARTICLES}/{created['id']}/claims", headers=reviewer).json["items"][1]
    revised = client.put(f"{ARTICLES}/{created['id']}", json={"body": REVISED}, headers=newsroom)
    assert revised.status_code == 202
    # Revision 2 queued: revision 1's claims may still be worked on, and will be carried.
    assert client.post(f"{CLAIMS}/{untouched['id']}/take", headers=reviewer).status_code == 200
    process(sessions, created["id"], 2, REVISED)

    queue = client.get(
        f"/api/v1/claims?article={created['id']}&checkworthy=false", headers=reviewer
    ).json["items"]
    assert {c["revision"] for c in queue} == {2}
    with session_scope(sessions) as session:
        from sqlalchemy import select

        from service.models import Claim

        behind = session.scalar(
            select(Claim.id).where(
                Claim.article_id == created["id"], Claim.revision == 1, Claim.orphaned.is_(False)
            )
        )
    assert behind is not None
    for response in (
        client.post(f"{CLAIMS}/{behind}/take", headers=reviewer),
        client.post(
            f"{CLAIMS}/{behind}/verdicts",
            json={"rating": "false", "summary": "No.", "evidence": []},
            headers=reviewer,
        ),
    ):
        assert response.status_code == 409, response.get_json()
        assert "now at revision 2" in response.get_json()["detail"]
    # Carried-over work goes on as before.
    publish = publish_verdict(client, editor, proposed)
    assert publish.status_code == 200, publish.get_json()


def test_work_carried_onto_a_span_a_reviewer_already_added_there_is_orphaned_not_a_crash(
    client,
    headers_for,
    admin_headers,
    sessions,
    article,
):
    """A reviewer adds a claim to the queued revision on the very span that earlier work will
    move to: the added claim keeps the span, the earlier one is kept, flagged orphaned."""
    reviewer = headers_for("reviewer")
    jobs_text = "Unemployment fell to 4.1% in May, the lowest since 2001."
    jobs = next(c for c in queue(client, reviewer) if c["text"] == jobs_text)
    rate(client, reviewer, jobs["id"], "true")
    revised = client.put(
        f"{ARTICLES}/{article['id']}", json={"body": REVISED}, headers=admin_headers
    )
    assert revised.status_code == 202
    start = REVISED.index(jobs_text)
    added = client.post(
        CLAIMS,
        json={"article_id": article["id"], "start": start, "end": start + len(jobs_text)},
        headers=reviewer,
    )
    assert added.status_code == 201, added.get_json()

    process(sessions, article["id"], 2, REVISED)

    kept = client.get(f"{CLAIMS}/{added.get_json()['id']}", headers=reviewer).get_json()
    assert (kept["revision"], kept["start"], kept["orphaned"]) == (2, start, False)
    earlier = client.get(f"{CLAIMS}/{jobs['id']}", headers=reviewer).get_json()
    assert (earlier["revision"], earlier["orphaned"]) == (1, True)
    assert client.get(f"{ARTICLES}/{article['id']}", headers=reviewer).json["status"] == (
        "processed"
    )
