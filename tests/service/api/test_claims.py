"""The review queue and claim lifecycle through the API."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from service.app import create_app
from service.db import session_scope
from service.domain.extraction import store_claims
from tests.factories import BODY, article_payload, processed, publish_verdict, queue
from tests.shared_data import shared_articles
from workers.extraction.engine import NON_CLAIM_KINDS, default_engine, extract
from workers.extraction.similarity import similarity_keys

URL = "/api/v1/claims"


def patch(client, headers, claim_id: int, etag: str | None, **changes: Any):
    extra = {"If-Match": etag} if etag else {}
    return client.patch(f"{URL}/{claim_id}", json=changes, headers={**headers, **extra})


def etag_of(client, headers, claim_id: int) -> str:
    return client.get(f"{URL}/{claim_id}", headers=headers).headers["ETag"]


def test_queue_lists_checkworthy_claims_highest_score_first(client, headers_for, article):
    items = queue(client, headers_for("reviewer"))
    assert items
    assert all(c["checkworthy"] for c in items)
    scores = [c["checkworthiness"] for c in items]
    assert scores == sorted(scores, reverse=True)
    assert "Thank you for reading." not in [c["text"] for c in items]
    rest = queue(client, headers_for("reviewer"), checkworthy="false")
    assert "Thank you for reading." in [c["text"] for c in rest]


def test_claims_the_model_cannot_score_are_listed_with_the_rest(client, headers_for, sessions):
    """A French article's claims are unscored (checkworthy null): the queue's rest lists them."""
    body = (
        "Le chômage a baissé de 4,1 % en mai, selon les chiffres publiés mardi par le "
        "ministère du Travail. Le maire a dit que la criminalité a augmenté de 12 % l'an "
        "dernier dans la ville."
    )
    created = client.post(
        "/api/v1/articles", json=article_payload(body=body), headers=headers_for("admin")
    ).get_json()
    claims = extract(body)
    assert {c["language"] for c in claims} == {"fr"}
    assert all(c["checkworthy"] is None for c in claims)
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, claims)
    reviewer = headers_for("reviewer")
    rest = queue(client, reviewer, checkworthy="false", article=created["id"])
    assert sorted(c["text"] for c in rest) == sorted(c["text"] for c in claims)
    assert all(c["scored"] is False for c in rest)
    assert queue(client, reviewer, article=created["id"]) == []


def test_queue_pages_through_everything_once_in_both_sorts(client, headers_for, article):
    headers = headers_for("viewer")
    for sort in ("score", "recency"):
        everything = [c["id"] for c in queue(client, headers, checkworthy="false", sort=sort)]
        everything += [c["id"] for c in queue(client, headers, sort=sort)]
        seen, cursor = [], None
        for _ in range(20):
            query = {"limit": 1, "sort": sort} | ({"cursor": cursor} if cursor else {})
            page = client.get(URL, query_string=query, headers=headers).get_json()
            seen += [c["id"] for c in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        checkworthy = [c["id"] for c in queue(client, headers, sort=sort)]
        assert seen == checkworthy
        assert len(set(everything)) == len(everything)


def test_queue_filters(client, headers_for, article):
    headers = headers_for("editor")
    assert {c["article_id"] for c in queue(client, headers, article=article["id"])} == {
        article["id"]
    }
    assert queue(client, headers, article=article["id"] + 1000) == []
    everything = queue(client, headers, checkworthy="false") + queue(client, headers)
    typed = queue(client, headers, type="quantity")
    assert {c["id"] for c in typed} == {
        c["id"] for c in queue(client, headers) if "quantity" in c["types"]
    }
    assert typed, "the article has quantity claims"
    scores = sorted(c["checkworthiness"] for c in queue(client, headers))
    middle = scores[len(scores) // 2]
    above = queue(client, headers, min_score=middle)
    assert {c["id"] for c in above} == {
        c["id"] for c in queue(client, headers) if c["checkworthiness"] >= middle
    }
    assert 0 < len(above) < len(scores)
    # status: a claim taken is in review, the others are still new.
    taken = client.post(f"{URL}/{everything[0]['id']}/take", headers=headers).get_json()
    assert [c["id"] for c in queue(client, headers, status="in_review", checkworthy="false")] + [
        c["id"] for c in queue(client, headers, status="in_review")
    ] == [taken["id"]]
    assert taken["id"] not in [c["id"] for c in queue(client, headers, status="new")]
    # created_after / created_before bound the claims' creation time.
    created = datetime.fromisoformat(taken["created_at"])
    before, after = (
        (created - timedelta(hours=1)).isoformat(),
        (created + timedelta(hours=1)).isoformat(),
    )
    ids = {c["id"] for c in queue(client, headers)}
    assert {c["id"] for c in queue(client, headers, created_after=before)} == ids
    assert {c["id"] for c in queue(client, headers, created_before=after)} == ids
    assert queue(client, headers, created_after=after) == []
    assert queue(client, headers, created_before=before) == []
    # q searches claim and article text: every claim of an article that matches.
    crime = queue(client, headers, q="crime")
    assert "The mayor said crime rose 12% last year." in [c["text"] for c in crime]
    assert {c["article_id"] for c in crime} == {article["id"]}
    assert queue(client, headers, q="volcano") == []
    assert queue(client, headers, source="no-such-source") == []


def test_queue_lists_what_a_speaker_said_as_a_reported_claim(client, headers_for, article):
    headers = headers_for("reviewer")

    def every(**query: Any) -> list[dict[str, Any]]:
        return queue(client, headers, checkworthy="false", **query) + queue(
            client, headers, **query
        )

    reported = every(kind="reported")
    assert [(c["kind"], c["text"], c["speaker"]) for c in reported] == [
        ("reported", "crime rose 12% last year.", "The mayor")
    ]
    assert BODY[reported[0]["start"] : reported[0]["end"]] == reported[0]["text"]
    sentences = every(kind="sentence")
    assert "The mayor said crime rose 12% last year." in [c["text"] for c in sentences]
    assert {c["kind"] for c in sentences} == {"sentence"}
    assert len(every()) == len(sentences) + len(reported)
    refused = client.get(URL, query_string={"kind": "paragraph"}, headers=headers)
    assert refused.status_code == 422
    assert "kind" in refused.get_json()["errors"]


def test_take_then_review_then_history(client, headers_for, article):
    reviewer = headers_for("reviewer")
    claim = queue(client, reviewer)[0]
    taken = client.post(f"{URL}/{claim['id']}/take", headers=reviewer)
    assert taken.status_code == 200
    assert taken.get_json()["status"] == "in_review"
    assert taken.get_json()["assignee_id"] is not None
    assert queue(client, reviewer, assignee=taken.get_json()["assignee_id"])[0]["id"] == claim["id"]

    unrated = patch(client, reviewer, claim["id"], taken.headers["ETag"], status="reviewed")
    assert unrated.status_code == 409
    assert "no verdict" in unrated.get_json()["detail"]
    rating = {"rating": "false", "summary": "No."}
    rated = client.post(f"{URL}/{claim['id']}/verdicts", json=rating, headers=reviewer)
    assert rated.status_code == 201
    done = patch(client, reviewer, claim["id"], taken.headers["ETag"], status="reviewed")
    assert done.status_code == 200
    assert done.get_json()["status"] == "reviewed"
    assert done.get_json()["version"] == claim["version"] + 2

    events = client.get(f"{URL}/{claim['id']}/history", headers=reviewer).get_json()["items"]
    assert [e["action"] for e in events] == ["claim.taken", "verdict.added", "claim.updated"]
    assert events[0]["before"]["status"] == "new"
    assert events[2]["after"]["status"] == "reviewed"
    assert all(e["actor"].startswith("reviewer-") for e in events)
    # Keyset pages of the history, one event at a time, give the same events in order.
    paged, cursor = [], None
    for _ in range(5):
        query = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"{URL}/{claim['id']}/history", query_string=query, headers=reviewer)
        paged += page.get_json()["items"]
        cursor = page.get_json()["next_cursor"]
        if cursor is None:
            break
    assert paged == events
    bad = client.get(f"{URL}/{claim['id']}/history?cursor=x", headers=reviewer)
    assert bad.status_code == 422


def test_someone_elses_claim_cannot_be_taken(client, headers_for, article):
    claim_id = queue(client, headers_for("reviewer"))[0]["id"]
    assert client.post(f"{URL}/{claim_id}/take", headers=headers_for("reviewer")).status_code == 200
    second = client.post(f"{URL}/{claim_id}/take", headers=headers_for("reviewer"))
    assert second.status_code == 409


def test_patch_needs_if_match_and_refuses_stale_versions(client, headers_for, article):
    reviewer = headers_for("reviewer")
    claim_id = queue(client, reviewer)[0]["id"]
    missing = patch(client, reviewer, claim_id, None, status="in_review")
    assert missing.status_code == 428
    assert missing.mimetype == "application/problem+json"
    etag = etag_of(client, reviewer, claim_id)
    assert patch(client, reviewer, claim_id, etag, status="in_review").status_code == 200
    # A second reviewer still holding the old ETag must not overwrite the first one's change.
    stale = patch(client, headers_for("reviewer"), claim_id, etag, status="not_checkworthy")
    assert stale.status_code == 412
    assert stale.get_json()["current_version"] == 2
    assert client.get(f"{URL}/{claim_id}", headers=reviewer).get_json()["status"] == "in_review"
    wrong = patch(client, reviewer, claim_id, '"claim-999999-v1"', status="new")
    assert wrong.status_code == 412


@pytest.mark.parametrize(
    ("path", "target", "allowed"),
    [
        ([], "reviewed", ["in_review", "not_checkworthy"]),
        ([], "published", None),  # never by PATCH: a 422 from the schema
        (["not_checkworthy"], "in_review", ["new"]),
        (["in_review", "reviewed"], "new", ["in_review"]),
    ],
)
def test_state_machine_refuses_invalid_moves(client, headers_for, article, path, target, allowed):
    editor = headers_for("editor")
    claim_id = queue(client, editor)[0]["id"]
    if "reviewed" in path:  # a claim is reviewed once it has a verdict
        rating = {"rating": "false", "summary": "No."}
        rated = client.post(f"{URL}/{claim_id}/verdicts", json=rating, headers=editor)
        assert rated.status_code == 201
    for step in path:
        moved = patch(client, editor, claim_id, etag_of(client, editor, claim_id), status=step)
        assert moved.status_code == 200
    response = patch(client, editor, claim_id, etag_of(client, editor, claim_id), status=target)
    if allowed is None:
        assert response.status_code == 422
    else:
        assert response.status_code == 409
        assert response.get_json()["allowed"] == allowed


def test_only_editors_assign_other_people(client, headers_for, make_token, engine, article):
    claim_id = queue(client, headers_for("editor"))[0]["id"]
    reviewer_token = make_token("reviewer")
    with engine.connect() as connection:
        reviewer_id = connection.scalar(
            text("SELECT user_id FROM api_tokens ORDER BY id DESC LIMIT 1")
        )
    as_reviewer = patch(
        client, headers_for("reviewer"), claim_id, etag_of(client, headers_for("viewer"), claim_id),
        assignee_id=reviewer_id,
    )  # fmt: skip
    assert as_reviewer.status_code == 403
    as_editor = patch(
        client, headers_for("editor"), claim_id, etag_of(client, headers_for("viewer"), claim_id),
        assignee_id=reviewer_id,
    )  # fmt: skip
    assert as_editor.status_code == 200
    assert as_editor.get_json()["assignee_id"] == reviewer_id
    assert reviewer_token


def test_reviewer_adds_a_missed_claim_checked_against_the_body(client, headers_for, article):
    reviewer = headers_for("reviewer")
    start = BODY.index("crime rose")
    end = BODY.index(" last year")
    created = client.post(
        URL, json={"article_id": article["id"], "start": start, "end": end}, headers=reviewer
    )
    assert created.status_code == 201
    claim = created.get_json()
    assert claim["text"] == BODY[start:end] == "crime rose 12%"
    assert claim["origin"] == "reviewer"
    assert claim["scored"] is True
    assert "quantity" in claim["types"]
    assert created.headers["ETag"] == f'"claim-{claim["id"]}-v1"'
    again = client.post(
        URL, json={"article_id": article["id"], "start": start, "end": end}, headers=reviewer
    )
    assert again.status_code == 409
    for start, end in ((0, len(BODY) + 1), (10, 10), (56, 57)):
        bad = client.post(
            URL, json={"article_id": article["id"], "start": start, "end": end}, headers=reviewer
        )
        assert bad.status_code == 422, (start, end)
        assert {"start", "end"} & set(bad.get_json()["errors"]), (start, end)
    missing = client.post(URL, json={"article_id": 10**9, "start": 0, "end": 3}, headers=reviewer)
    assert missing.status_code == 404


def test_corrected_span_follows_the_body(client, headers_for, article):
    editor = headers_for("editor")
    claim = next(c for c in queue(client, editor) if c["text"].startswith("The mayor"))
    # "crime rose 12% last year." is the engine's reported claim already: a narrower span.
    start, end = BODY.index("crime rose"), BODY.index(" last year")
    response = patch(
        client, editor, claim["id"], etag_of(client, editor, claim["id"]), start=start, end=end
    )
    assert response.status_code == 200
    assert response.get_json()["text"] == "crime rose 12%"
    history = client.get(f"{URL}/{claim['id']}/history", headers=editor).get_json()["items"]
    assert history[-1]["before"]["text"] == claim["text"]


# The engine splits off "Thank you for reading." on its own; the reported speech after it is
# Ana Costa's. The engine offers what she said ("Exports rose 9% in 2024") as a claim of its
# own; a reviewer's span with the comma after it is another span.
SPEECH = "Thank you for reading. Exports rose 9% in 2024, Finance Minister Ana Costa said."
CORRECTED = (SPEECH.index("Exports"), SPEECH.index(" Finance"))  # "Exports rose 9% in 2024,"


def test_corrected_span_is_annotated_afresh_keeping_the_review(client, headers_for, sessions):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    article_id = processed(client, sessions, SPEECH)
    claim = claim_with(client, reviewer, article_id, "Thank you for reading.")
    client.post(f"{URL}/{claim['id']}/take", headers=reviewer)
    verdict = client.post(
        f"{URL}/{claim['id']}/verdicts", json={"rating": "mixed", "summary": "?"}, headers=reviewer
    ).get_json()
    before = client.get(f"{URL}/{claim['id']}", headers=editor).get_json()
    start, end = CORRECTED

    response = patch(
        client, editor, claim["id"], etag_of(client, editor, claim["id"]), start=start, end=end
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    expected = default_engine().annotate_span(SPEECH, start, end, "en")
    del expected["embedding"]  # stored, never in the API's answers
    after = client.get(f"{URL}/{claim['id']}", headers=editor).get_json()
    for corrected in (response.get_json(), after):
        assert {field: corrected[field] for field in expected} == expected
    # Every engine field changed with the span: none is left over from the old sentence.
    assert {field for field in expected if before[field] == after[field]} == {"language", "scored"}
    assert (after["speaker"], after["checkworthy"], after["types"]) == (
        "Ana Costa", True, ["quantity"],
    )  # fmt: skip
    assert after["prefix"] == "Thank you for reading. "
    # The review goes on: same claim, status, assignee and verdicts; a new version.
    kept = ("id", "status", "assignee_id", "origin", "revision")
    assert {f: after[f] for f in kept} == {f: before[f] for f in kept}
    assert [v["id"] for v in after["verdicts"]] == [verdict["id"]]
    assert after["version"] == before["version"] + 1
    assert response.headers["ETag"] == f'"claim-{claim["id"]}-v{after["version"]}"'
    event = client.get(f"{URL}/{claim['id']}/history", headers=editor).get_json()["items"][-1]
    assert event["action"] == "claim.updated"
    for field in ("text", "start", "prefix", "checkworthiness", "speaker", "quantities"):
        assert (event["before"][field], event["after"][field]) == (before[field], after[field])


def test_only_an_editor_corrects_the_span_of_a_published_review(client, headers_for, sessions):
    """The span is what the published ClaimReview says was checked."""
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    article_id = processed(client, sessions, SPEECH)
    claim = claim_with(client, reviewer, article_id, "Thank you for reading.")
    verdict = client.post(
        f"{URL}/{claim['id']}/verdicts", json={"rating": "mixed", "summary": "?"}, headers=reviewer
    ).get_json()
    start, end = CORRECTED
    # Proposed only: a reviewer may still correct it.
    moved = patch(
        client, reviewer, claim["id"], etag_of(client, reviewer, claim["id"]), start=start, end=end
    )
    assert moved.status_code == 200, moved.get_json()
    published = publish_verdict(client, editor, verdict["id"])
    assert published.status_code == 200
    back = {"start": claim["start"], "end": claim["end"]}
    refused = patch(client, reviewer, claim["id"], etag_of(client, reviewer, claim["id"]), **back)
    assert refused.status_code == 403
    assert "only an editor" in refused.get_json()["detail"]
    assert client.get(f"{URL}/{claim['id']}", headers=editor).get_json()["start"] == start
    allowed = patch(client, editor, claim["id"], etag_of(client, editor, claim["id"]), **back)
    assert allowed.status_code == 200, allowed.get_json()
    history = client.get(f"{URL}/{claim['id']}/history", headers=editor).get_json()["items"]
    assert history[-1]["action"] == "claim.updated"


def test_moving_a_span_onto_another_claim_is_a_conflict_naming_it(
    client, headers_for, make_token, engine, article
):
    editor = headers_for("editor")
    make_token("reviewer")
    with engine.connect() as connection:
        reviewer_id = connection.scalar(
            text("SELECT user_id FROM api_tokens ORDER BY id DESC LIMIT 1")
        )
    claims = {c["text"]: c for c in queue(client, editor)}
    mayor = claims["The mayor said crime rose 12% last year."]
    jobs = claims["Unemployment fell to 4.1% in May, the lowest since 2001."]
    etag = etag_of(client, editor, mayor["id"])

    response = patch(
        client, editor, mayor["id"], etag,
        start=jobs["start"], end=jobs["end"], assignee_id=reviewer_id, status="in_review",
    )  # fmt: skip
    assert response.status_code == 409
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["claim_id"] == jobs["id"]
    assert f"claim {jobs['id']}" in problem["detail"]
    # Nothing of the refused PATCH is kept.
    unchanged = client.get(f"{URL}/{mayor['id']}", headers=editor)
    assert unchanged.headers["ETag"] == etag
    after = unchanged.get_json()
    assert (after["text"], after["assignee_id"], after["status"]) == (mayor["text"], None, "new")
    # Adding a claim at a span that is taken says which claim holds it, the same way.
    added = client.post(
        URL, json={"article_id": article["id"], "start": jobs["start"], "end": jobs["end"]},
        headers=editor,
    )  # fmt: skip
    assert added.status_code == 409
    assert added.get_json()["claim_id"] == jobs["id"]
    assert added.get_json()["detail"] == problem["detail"]


def test_added_and_corrected_claims_follow_the_configured_threshold(settings, headers_for, article):
    strict = dataclasses.replace(settings, checkworthy_threshold=0.99)
    assert default_engine().threshold < strict.checkworthy_threshold
    client = create_app(strict).test_client()
    editor = headers_for("editor")
    start, end = BODY.index("crime rose"), BODY.index(" last year")
    added = client.post(
        URL, json={"article_id": article["id"], "start": start, "end": end}, headers=editor
    ).get_json()
    jobs = next(c for c in queue(client, editor) if c["text"].startswith("Unemployment"))
    corrected = patch(
        client, editor, jobs["id"], etag_of(client, editor, jobs["id"]),
        end=BODY.index(", the lowest"),
    ).get_json()  # fmt: skip
    for claim in (added, corrected):
        # Over the model's threshold but under the configured one.
        assert default_engine().threshold <= claim["checkworthiness"] < 0.99
        assert claim["checkworthy"] is False


def test_unknown_claim_is_404(client, headers_for):
    headers = headers_for("editor")
    for method, path in (("GET", ""), ("GET", "/history"), ("POST", "/take")):
        assert client.open(f"{URL}/999999{path}", method=method, headers=headers).status_code == 404
    response = patch(client, headers, 999999, '"claim-999999-v1"', status="in_review")
    assert response.status_code == 404


def test_two_reviewers_racing_never_lose_an_update(app, headers_for, article):
    """Both send the same If-Match at once: exactly one wins, the other gets 412."""
    import threading

    first, second = headers_for("reviewer"), headers_for("editor")
    client = app.test_client()
    claim_id = queue(client, first)[0]["id"]
    etag = etag_of(client, first, claim_id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, int] = {}

    def write(name: str, headers: dict[str, str], status: str) -> None:
        own = app.test_client()
        barrier.wait()
        outcomes[name] = patch(own, headers, claim_id, etag, status=status).status_code

    threads = [
        threading.Thread(target=write, args=("first", first, "in_review")),
        threading.Thread(target=write, args=("second", second, "not_checkworthy")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes.values()) == [200, 412]
    winner = "first" if outcomes["first"] == 200 else "second"
    final = client.get(f"{URL}/{claim_id}", headers=first).get_json()
    assert final["status"] == {"first": "in_review", "second": "not_checkworthy"}[winner]
    assert final["version"] == 2
    history = client.get(f"{URL}/{claim_id}/history", headers=first).get_json()["items"]
    assert len(history) == 1


# --------------------------------------------------------------------------------------------
# Similar claims in the claim detail
# --------------------------------------------------------------------------------------------

CHECKED = "The council approved a budget of four million dollars for the city schools on Monday."
# One word changed (similarity 0.75), and four (0.474: it shares a key, so only the threshold
# keeps it out).
REWORDED = "The council approved a budget of five million dollars for the city schools on Monday."
LOOSE = "The council approved a plan of four million dollars for the town schools on Friday."
# CHECKED inside a much longer sentence: similarity 0.35, and no key in common.
LONG = (
    "After a long and noisy meeting that ran late into the evening and drew hundreds of angry "
    "residents from across the district, reporters were told that the council approved a "
    "budget of four million dollars for the city schools on Monday."
)


def claims_of(client, headers, article_id: int) -> list[dict[str, Any]]:
    return client.get(
        f"/api/v1/articles/{article_id}/claims", query_string={"limit": 200}, headers=headers
    ).get_json()["items"]


def claim_with(client, headers, article_id: int, text: str) -> dict[str, Any]:
    return next(c for c in claims_of(client, headers, article_id) if c["text"] == text)


def similar(client, headers, claim_id: int) -> list[dict[str, Any]]:
    response = client.get(f"{URL}/{claim_id}", headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json()["similar"]


def test_the_same_claim_elsewhere_is_similar_with_its_published_rating(
    client, headers_for, sessions
):
    first = processed(client, sessions, f"Residents packed the hall. {CHECKED}")
    second = processed(client, sessions, f"{CHECKED} Parents welcomed the news.")
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    mine = claim_with(client, reviewer, first, CHECKED)
    theirs = claim_with(client, reviewer, second, CHECKED)
    expected = {
        "id": theirs["id"], "article_id": second, "text": CHECKED, "status": "new",
        "similarity": 1.0, "meaning": 1.0, "source": "example-news",
        "created_at": theirs["created_at"], "published_verdict": None,
    }  # fmt: skip
    assert similar(client, reviewer, mine["id"]) == [expected]
    seen = client.get(f"{URL}/{mine['id']}", headers=reviewer).get_json()["seen_in"]
    assert seen == {"articles": 2, "outlets": 1, "first_seen": mine["created_at"]}

    verdict = client.post(
        f"{URL}/{theirs['id']}/verdicts",
        json={"rating": "false", "summary": "The budget was three million."},
        headers=reviewer,
    ).get_json()
    assert similar(client, reviewer, mine["id"])[0]["published_verdict"] is None, "not yet"
    published = publish_verdict(client, editor, verdict["id"])
    assert published.status_code == 200

    found = similar(client, headers_for("viewer"), mine["id"])
    assert found == [
        expected
        | {
            "status": "published",
            "published_verdict": {"id": verdict["id"], "rating": "false", "label": "False"},
        }
    ]
    back = similar(client, reviewer, theirs["id"])
    assert [(c["id"], c["published_verdict"]) for c in back] == [(mine["id"], None)]


def test_claims_of_the_same_article_and_below_the_threshold_are_not_similar(
    client, headers_for, settings, sessions
):
    first = processed(client, sessions, f"{CHECKED} Officials repeated it later: {CHECKED}")
    reworded = processed(client, sessions, REWORDED)
    loose = processed(client, sessions, LOOSE)
    viewer = headers_for("viewer")
    claim = claim_with(client, viewer, first, CHECKED)
    assert set(similarity_keys(CHECKED)) & set(similarity_keys(LOOSE)), "a candidate"
    found = similar(client, viewer, claim["id"])
    assert [(c["article_id"], c["similarity"]) for c in found] == [(reworded, 0.75)]

    for threshold, shown in ((0.8, []), (0.45, [(reworded, 0.75), (loose, 0.474)])):
        stricter = create_app(dataclasses.replace(settings, similar_min_jaccard=threshold))
        found = similar(stricter.test_client(), viewer, claim["id"])
        assert [(c["article_id"], c["similarity"]) for c in found] == shown, threshold


def test_bylines_and_short_claims_have_no_similar_claims(client, headers_for, sessions):
    body = f"By Jane Smith and John Doe\n\n{CHECKED} Prices rose."
    first, second = processed(client, sessions, body), processed(client, sessions, body)
    viewer = headers_for("viewer")
    claims = claims_of(client, viewer, first)
    byline = next(c for c in claims if c["kind"] in NON_CLAIM_KINDS)
    short = claim_with(client, viewer, first, "Prices rose.")
    assert similar(client, viewer, byline["id"]) == []
    assert similar(client, viewer, short["id"]) == []
    checked = claim_with(client, viewer, first, CHECKED)
    assert [c["article_id"] for c in similar(client, viewer, checked["id"])] == [second]


def test_added_and_corrected_spans_are_found_as_similar(client, headers_for, sessions):
    assert not set(similarity_keys(CHECKED)) & set(similarity_keys(LONG))
    first = processed(client, sessions, CHECKED)
    corrected, added = processed(client, sessions, LONG), processed(client, sessions, LONG)
    reviewer = headers_for("reviewer")
    mine = claim_with(client, reviewer, first, CHECKED)
    # By words LONG is far (0.35), by meaning it says the same (cosine about 0.93).
    before = similar(client, reviewer, mine["id"])
    assert sorted(c["article_id"] for c in before) == [corrected, added]
    assert all(c["similarity"] < 0.5 and c["meaning"] >= 0.9 for c in before)

    start = LONG.index("the council")
    end = len(LONG)
    engine_claim = claim_with(client, reviewer, corrected, LONG)
    response = patch(
        client, reviewer, engine_claim["id"], etag_of(client, reviewer, engine_claim["id"]),
        start=start, end=end,
    )  # fmt: skip
    assert response.status_code == 200
    response = client.post(
        URL, json={"article_id": added, "start": start, "end": end}, headers=reviewer
    )
    assert response.status_code == 201
    reviewer_claim = response.get_json()

    found = similar(client, reviewer, mine["id"])
    long_claim = claim_with(client, reviewer, added, LONG)
    assert [(c["id"], c["similarity"]) for c in found] == [
        (reviewer_claim["id"], 1.0),  # equally similar: the newest first
        (engine_claim["id"], 1.0),
        (long_claim["id"], 0.35),  # the same claim by meaning, in other words
    ]


def test_only_current_claims_and_orphaned_reviewer_work_are_similar(
    client, headers_for, admin_headers, sessions
):
    first = processed(client, sessions, CHECKED)
    revised, orphaned = (
        processed(client, sessions, f"{CHECKED} Parents welcomed it.") for _ in range(2)
    )
    reviewer = headers_for("reviewer")
    rated = claim_with(client, reviewer, orphaned, CHECKED)
    response = client.post(
        f"{URL}/{rated['id']}/verdicts",
        json={"rating": "mixed", "summary": "Partly."},
        headers=reviewer,
    )
    assert response.status_code == 201
    new_body = "Parents welcomed the budget."
    for article_id in (revised, orphaned):
        response = client.put(
            f"/api/v1/articles/{article_id}", json={"body": new_body}, headers=admin_headers
        )
        assert response.status_code == 202
        with session_scope(sessions) as session:
            store_claims(session, article_id, 2, extract(new_body))

    mine = claim_with(client, reviewer, first, CHECKED)
    found = similar(client, reviewer, mine["id"])
    # The unreviewed copy stays with revision 1, out of sight; the rated one is orphaned.
    assert [(c["id"], c["article_id"]) for c in found] == [(rated["id"], orphaned)]


def test_real_articles_republished_and_reworded(client, headers_for, sessions):
    """A wire story carried by two outlets, and another outlet's own report of the event."""
    paths = shared_articles()
    if len(paths) < 2:
        pytest.skip("needs two shared articles")
    own_report, story = (path.read_text() for path in paths[:2])
    wire, outlet = processed(client, sessions, story), processed(client, sessions, story)
    other = processed(client, sessions, own_report)
    viewer = headers_for("viewer")
    wire_ids = {c["text"]: c["id"] for c in claims_of(client, viewer, wire)}
    keyed = 0
    for claim in claims_of(client, viewer, outlet):
        found = similar(client, viewer, claim["id"])
        if not similarity_keys(claim["text"]) or claim["kind"] in NON_CLAIM_KINDS:
            assert found == []
            continue
        keyed += 1
        assert found[0]["similarity"] == 1.0
        assert found[0]["id"] == wire_ids[claim["text"]]
        assert other not in {c["article_id"] for c in found}, "a reworded report is not a copy"
    assert keyed >= 20
