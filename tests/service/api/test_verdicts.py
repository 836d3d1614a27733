"""Verdicts through the API: the whole review workflow, evidence rules, corrections, agreement."""

from __future__ import annotations

from typing import Any

import pytest

from tests.factories import mark_reviewed, publish_verdict, queue

CLAIMS = "/api/v1/claims"
VERDICTS = "/api/v1/verdicts"
SOURCE = {
    "url": "https://stats.example.gov/labour/2026-05",
    "title": "Labour market statistics, May",
    "publisher": "National Statistics Office",
    "excerpt": "The unemployment rate was 4.1%.",
    "stance": "supports",
    "archived_url": "https://archive.example.org/stats-2026-05",
    "accessed_at": "2026-06-02T09:30:00Z",
}


def verdict(rating: str, **extra: Any) -> dict[str, Any]:
    return {"rating": rating, "summary": f"Rated {rating}.", "evidence": [SOURCE], **extra}


def test_whole_review_workflow(client, headers_for, article):
    first, second, editor = headers_for("reviewer"), headers_for("reviewer"), headers_for("editor")
    claim = queue(client, first)[0]
    assert client.post(f"{CLAIMS}/{claim['id']}/take", headers=first).status_code == 200

    mine = client.post(
        f"{CLAIMS}/{claim['id']}/verdicts",
        json=verdict("true", confidence=0.9, rationale="Matches the official series."),
        headers=first,
    )
    assert mine.status_code == 201
    assert mine.get_json()["evidence"][0]["url"] == SOURCE["url"]
    assert mine.get_json()["rating_label"] == "True"
    assert mine.get_json()["rating_value"] == 5

    theirs = client.post(
        f"{CLAIMS}/{claim['id']}/verdicts", json=verdict("mostly-true"), headers=second
    )
    assert theirs.status_code == 201
    detail = client.get(f"{CLAIMS}/{claim['id']}", headers=editor).get_json()
    assert detail["agreement"] == "split"
    assert [v["rating"] for v in detail["verdicts"]] == ["true", "mostly-true"]

    # Only a reviewed claim is published, and only its holder (or an editor) marks it so.
    early = client.post(f"{VERDICTS}/{mine.get_json()['id']}/publish", headers=editor)
    assert early.status_code == 409
    assert early.get_json()["publishable_from"] == ["reviewed"]
    etag = client.get(f"{CLAIMS}/{claim['id']}", headers=first).headers["ETag"]
    reviewed = {"status": "reviewed"}
    by_other = client.patch(
        f"{CLAIMS}/{claim['id']}", json=reviewed, headers={**second, "If-Match": etag}
    )
    assert by_other.status_code == 403
    moved = {"start": claim["start"] + 1, "end": claim["end"]}
    span_by_other = client.patch(
        f"{CLAIMS}/{claim['id']}", json=moved, headers={**second, "If-Match": etag}
    )
    assert span_by_other.status_code == 403
    assert "correct its span" in span_by_other.get_json()["detail"]
    by_holder = client.patch(
        f"{CLAIMS}/{claim['id']}", json=reviewed, headers={**first, "If-Match": etag}
    )
    assert by_holder.status_code == 200

    # Reviewers may not publish; editors may.
    published_by_reviewer = client.post(
        f"{VERDICTS}/{mine.get_json()['id']}/publish", headers=first
    )
    assert published_by_reviewer.status_code == 403
    published = client.post(f"{VERDICTS}/{mine.get_json()['id']}/publish", headers=editor)
    assert published.status_code == 200
    assert published.get_json()["status"] == "published"
    assert client.get(f"{CLAIMS}/{claim['id']}", headers=editor).get_json()["status"] == "published"
    # One published verdict per claim: the other one cannot also be published.
    other = client.post(f"{VERDICTS}/{theirs.get_json()['id']}/publish", headers=editor)
    assert other.status_code == 409

    # A published verdict is not edited, it is corrected; the old version stays visible.
    etag = client.get(f"{VERDICTS}/{mine.get_json()['id']}", headers=editor).headers["ETag"]
    edit = client.patch(
        f"{VERDICTS}/{mine.get_json()['id']}",
        json={"summary": "Quietly changed."},
        headers={**editor, "If-Match": etag},
    )
    assert edit.status_code == 409
    corrected = client.post(
        f"{VERDICTS}/{mine.get_json()['id']}/corrections",
        json={"rating": "mostly-true", "reason": "The May figure was revised to 4.2%."},
        headers=editor,
    )
    assert corrected.status_code == 201
    new = corrected.get_json()
    assert (new["status"], new["supersedes_id"]) == ("published", mine.get_json()["id"])
    assert new["correction_reason"] == "The May figure was revised to 4.2%."
    assert new["evidence"][0]["url"] == SOURCE["url"], "evidence carries over unless replaced"
    old = client.get(f"{VERDICTS}/{mine.get_json()['id']}", headers=editor).get_json()
    assert old["status"] == "superseded"
    assert old["rating"] == "true"

    history = client.get(f"{CLAIMS}/{claim['id']}/history", headers=editor).get_json()["items"]
    assert [e["action"] for e in history] == [
        "claim.taken",
        "verdict.added",
        "verdict.added",
        "claim.updated",
        "verdict.published",
        "verdict.corrected",
    ]
    added = history[1]["after"]
    assert (added["rating"], added["rationale"]) == ("true", "Matches the official series.")
    assert added["evidence"] == [{k: SOURCE[k] for k in ("url", "stance", "title")}]
    assert history[-1]["after"]["reason"] == "The May figure was revised to 4.2%."
    assert history[-1]["before"]["rating"] == "true"
    assert history[-1]["after"]["evidence"] == added["evidence"]


def test_a_new_verdict_is_returned_exactly_as_stored(client, headers_for, article):
    """The created verdict, its evidence and its ETag are what reading it back gives."""
    reviewer = headers_for("reviewer")
    claim = queue(client, reviewer)[0]
    sources = [SOURCE, {"url": "https://example.org/b", "stance": "context"}]
    created = client.post(
        f"{CLAIMS}/{claim['id']}/verdicts",
        json=verdict("mixed", confidence=0.25, rationale=None, evidence=sources),
        headers=reviewer,
    )
    assert created.status_code == 201
    read = client.get(f"{VERDICTS}/{created.get_json()['id']}", headers=reviewer)
    assert created.data == read.data
    assert created.headers["ETag"] == read.headers["ETag"]
    assert [e["url"] for e in created.get_json()["evidence"]] == [s["url"] for s in sources]
    assert created.get_json()["created_at"] is not None


def test_verdict_edits_need_if_match_and_the_author(client, headers_for, article):
    author, other = headers_for("reviewer"), headers_for("reviewer")
    claim = queue(client, author)[0]
    created = client.post(f"{CLAIMS}/{claim['id']}/verdicts", json=verdict("false"), headers=author)
    url = f"{VERDICTS}/{created.get_json()['id']}"
    assert client.patch(url, json={"rating": "mixed"}, headers=author).status_code == 428
    etag = created.headers["ETag"]
    assert (
        client.patch(url, json={"rating": "mixed"}, headers={**other, "If-Match": etag}).status_code
        == 403
    )
    ok = client.patch(url, json={"rating": "mixed"}, headers={**author, "If-Match": etag})
    assert ok.status_code == 200
    assert ok.get_json()["rating"] == "mixed"
    stale = client.patch(url, json={"rating": "true"}, headers={**author, "If-Match": etag})
    assert stale.status_code == 412


def test_publish_and_correct_honour_if_match(client, headers_for, article):
    """An editor who read version 1 cannot publish version 2 by accident; without If-Match
    the current version is acted on, as before."""
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    claims = queue(client, reviewer)
    created = client.post(
        f"{CLAIMS}/{claims[0]['id']}/verdicts", json=verdict("true"), headers=reviewer
    ).get_json()
    url = f"{VERDICTS}/{created['id']}"
    read = client.get(url, headers=editor).headers["ETag"]
    edited = client.patch(
        url, json={"summary": "Changed after the editor read it."},
        headers={**reviewer, "If-Match": read},
    )  # fmt: skip
    assert edited.status_code == 200
    mark_reviewed(client, editor, claims[0]["id"])
    stale = client.post(f"{url}/publish", headers={**editor, "If-Match": read})
    assert stale.status_code == 412
    assert stale.mimetype == "application/problem+json"
    other = client.post(f"{url}/publish", headers={**editor, "If-Match": '"claim-1-v1"'})
    assert other.status_code == 412
    published = client.post(
        f"{url}/publish", headers={**editor, "If-Match": edited.headers["ETag"]}
    )
    assert published.status_code == 200
    assert published.get_json()["summary"] == "Changed after the editor read it."

    correction = {"rating": "mostly-true", "reason": "The series was revised."}
    stale = client.post(f"{url}/corrections", json=correction, headers={**editor, "If-Match": read})
    assert stale.status_code == 412
    current = published.headers["ETag"]
    fixed = client.post(
        f"{url}/corrections", json=correction, headers={**editor, "If-Match": current}
    )
    assert fixed.status_code == 201
    # Without If-Match, as before: the second claim's verdict is published as it stands.
    second = client.post(
        f"{CLAIMS}/{claims[1]['id']}/verdicts", json=verdict("false"), headers=reviewer
    ).get_json()
    assert publish_verdict(client, editor, second["id"]).status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "data:text/html,<b>x</b>",
        "ftp://files.example.org/report.pdf",
        "file:///etc/passwd",
        "https://example.org/" + "a" * 2100,
        "not a url",
        "http://",
        "https://example.org/report\n",
    ],
)
def test_evidence_urls_must_be_http_and_bounded(client, headers_for, article, url):
    reviewer = headers_for("reviewer")
    claim = queue(client, reviewer)[0]
    response = client.post(
        f"{CLAIMS}/{claim['id']}/verdicts",
        json=verdict("false", evidence=[{**SOURCE, "url": url}]),
        headers=reviewer,
    )
    assert response.status_code == 422
    assert "evidence.0.url" in response.get_json()["errors"]


def test_unknown_rating_and_stance_are_refused(client, headers_for, article):
    reviewer = headers_for("reviewer")
    claim = queue(client, reviewer)[0]
    unknown = client.post(
        f"{CLAIMS}/{claim['id']}/verdicts", json=verdict("pants-on-fire"), headers=reviewer
    )
    assert unknown.status_code == 422
    assert "true" in unknown.get_json()["allowed"]
    assert "rating" in unknown.get_json()["errors"]
    stance = client.post(
        f"{CLAIMS}/{claim['id']}/verdicts",
        json=verdict("false", evidence=[{**SOURCE, "stance": "maybe"}]),
        headers=reviewer,
    )
    assert stance.status_code == 422


def test_rating_scale_is_served_from_configuration(client, headers_for):
    ratings = client.get("/api/v1/ratings", headers=headers_for("viewer")).get_json()["ratings"]
    assert [r["key"] for r in ratings][:5] == [
        "true",
        "mostly-true",
        "mixed",
        "mostly-false",
        "false",
    ]
    assert {r["key"]: r["value"] for r in ratings}["misleading"] is None


def test_agreement_matches_hand_computed_values(client, headers_for, article, sessions):
    ann, bob = headers_for("reviewer"), headers_for("reviewer")
    every = queue(client, ann) + queue(client, ann, checkworthy="false")
    claims = [c["id"] for c in every if c["kind"] == "sentence"]  # not what the mayor said
    assert len(claims) == 3
    # ann: true, false, true; bob: true, false, false -> agree on 2 of 3.
    for claim_id, (a, b) in zip(
        claims, [("true", "true"), ("false", "false"), ("true", "false")], strict=True
    ):
        client.post(f"{CLAIMS}/{claim_id}/verdicts", json=verdict(a, evidence=[]), headers=ann)
        client.post(f"{CLAIMS}/{claim_id}/verdicts", json=verdict(b, evidence=[]), headers=bob)
    stats = client.get("/api/v1/stats/agreement", headers=ann).get_json()
    assert (stats["claims"], stats["ratings"]) == (3, 6)
    (pair,) = stats["pairs"]
    assert (pair["claims"], pair["agreed"]) == (3, 2)
    assert pair["share"] == pytest.approx(2 / 3)
    # Nominal alpha by hand: coincidences true-true 2, false-false 2, true-false 1+1;
    # n=6, n_true=3, n_false=3; Do = 2/6, De = (3*3*2)/(6*5) = 0.6 -> alpha = 1 - (1/3)/0.6 = 4/9.
    assert stats["alpha"]["nominal"] == pytest.approx(4 / 9)
    # Cohen's kappa: po = 2/3; ann (2 true, 1 false), bob (1 true, 2 false);
    # pe = (2/3)(1/3) + (1/3)(2/3) = 4/9 -> kappa = (2/3 - 4/9) / (1 - 4/9) = 0.4.
    assert pair["kappa"] == pytest.approx(0.4)
    assert (
        client.get(
            "/api/v1/stats/agreement", query_string={"source": "none"}, headers=ann
        ).get_json()["alpha"]["nominal"]
        is None
    )


def test_a_claim_and_the_statistics_count_the_same_ratings(client, headers_for, article):
    """Each reviewer's last own rating: a second verdict by the same reviewer replaces the
    first, and an editor's correction is not another reviewer's rating."""
    ann, bob, editor = headers_for("reviewer"), headers_for("reviewer"), headers_for("editor")
    claim_id = queue(client, ann)[0]["id"]

    def rate(headers: dict[str, str], rating: str) -> int:
        url = f"{CLAIMS}/{claim_id}/verdicts"
        created = client.post(url, json=verdict(rating, evidence=[]), headers=headers)
        assert created.status_code == 201
        return created.get_json()["id"]

    def agreement() -> tuple[str, dict[str, Any]]:
        detail = client.get(f"{CLAIMS}/{claim_id}", headers=ann).get_json()
        stats = client.get("/api/v1/stats/agreement", headers=ann).get_json()
        return detail["agreement"], stats

    rate(ann, "false")
    rate(ann, "true")  # ann changed her mind: one rating of hers counts, the last
    assert agreement()[0] == "single"
    assert agreement()[1]["ratings"] == 1
    bobs = rate(bob, "true")
    shown, stats = agreement()
    assert shown == "unanimous"
    assert (stats["claims"], stats["ratings"]) == (1, 2)
    assert [(p["claims"], p["agreed"]) for p in stats["pairs"]] == [(1, 1)]

    assert publish_verdict(client, editor, bobs).status_code == 200
    corrected = client.post(
        f"{VERDICTS}/{bobs}/corrections",
        json={"rating": "mixed", "reason": "A later release."},
        headers=editor,
    )
    assert corrected.status_code == 201
    shown, stats = agreement()
    assert shown == "unanimous", "bob's own rating still counts; the desk's correction does not"
    assert (stats["claims"], stats["ratings"]) == (1, 2)
    authors = [
        v["author"] for v in client.get(f"{CLAIMS}/{claim_id}", headers=ann).json["verdicts"]
    ]
    assert [set(p["reviewers"]) for p in stats["pairs"]] == [set(authors[:3])]
    assert authors[3].startswith("editor-"), "the correction, by the editor, is not counted"
