"""ClaimReview and W3C Web Annotation output, and the import of annotations."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pyld import jsonld
from sqlalchemy import event

from service.app import create_app
from service.db import session_scope
from service.domain.extraction import store_claims
from tests.factories import article_payload, publish_verdict
from tests.shared_data import shared_articles
from workers.extraction.anchoring import anchor
from workers.extraction.engine import default_engine, extract

BODY = (
    "The minister said unemployment fell to 4.1% in May, the lowest since 2001. "
    "Critics said crime rose 12% last year. Thank you for reading."
)
ARTICLE_URL = "https://news.example.org/economy"
# Stands in for https://schema.org's context, which would need the network: the part that
# matters here is that every ClaimReview term is a schema.org term.
SCHEMA_ORG_CONTEXT = {"@context": {"@vocab": "http://schema.org/"}}


def offline_loader(url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
    if url.rstrip("/") not in ("https://schema.org", "http://schema.org"):
        raise AssertionError(f"unexpected context {url}")
    return {"contentType": "application/ld+json", "contextUrl": None, "documentUrl": url,
            "document": SCHEMA_ORG_CONTEXT}  # fmt: skip


def submit(client, headers, body: str = BODY, **fields: Any) -> dict[str, Any]:
    payload = article_payload(body=body, url=ARTICLE_URL, **fields)
    return client.post("/api/v1/articles", json=payload, headers=headers).get_json()


@pytest.fixture
def article(client, admin_headers, sessions) -> dict[str, Any]:
    created = submit(
        client, admin_headers, title="Jobs and crime", published_at="2026-03-02T08:00:00Z"
    )
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, extract(BODY))
    return created


def claim_with(client, headers, article_id: int, text: str) -> dict[str, Any]:
    claims = client.get(
        f"/api/v1/articles/{article_id}/claims", query_string={"limit": 200}, headers=headers
    ).get_json()["items"]
    return next(c for c in claims if text in c["text"])


def verdict_on(client, headers, claim_id: int, rating: str = "mostly-true") -> dict[str, Any]:
    response = client.post(
        f"/api/v1/claims/{claim_id}/verdicts",
        json={
            "rating": rating,
            "summary": "The figure matches the statistics office's release.",
            "evidence": [{"url": "https://stats.example.gov/may", "stance": "supports"}],
        },
        headers=headers,
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.get_json()


def publish(client, headers, verdict_id: int) -> None:
    response = publish_verdict(client, headers, verdict_id)
    assert response.status_code == 200, response.get_data(as_text=True)


def claim_review(client, headers, verdict_id: int):
    return client.get(f"/api/v1/verdicts/{verdict_id}/claimreview", headers=headers)


def test_claimreview_of_a_published_verdict(client, headers_for, article):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    claim = claim_with(client, reviewer, article["id"], "unemployment fell")
    verdict = verdict_on(client, reviewer, claim["id"])
    publish(client, editor, verdict["id"])

    response = claim_review(client, headers_for("newsroom"), verdict["id"])
    assert response.status_code == 200
    assert response.mimetype == "application/ld+json"
    review = response.get_json()
    assert review["@context"] == "https://schema.org"
    assert review["@type"] == "ClaimReview"
    assert review["claimReviewed"] == claim["text"]
    assert review["reviewBody"] == verdict["summary"]
    assert review["url"].endswith(f"/api/v1/verdicts/{verdict['id']}/claimreview")
    assert review["datePublished"] == datetime.now(UTC).date().isoformat()
    assert review["author"] == {"@type": "Organization", "name": "Fact-check desk"}
    assert review["reviewRating"] == {
        "@type": "Rating",
        "ratingValue": 4,
        "bestRating": 5,
        "worstRating": 1,
        "alternateName": "Mostly true",
    }
    item = review["itemReviewed"]
    assert item["@type"] == "Claim"
    assert item["datePublished"] == "2026-03-02"
    assert item["appearance"] == {
        "@type": "CreativeWork",
        "url": ARTICLE_URL,
        "headline": "Jobs and crime",
        "datePublished": "2026-03-02",
    }
    assert item["author"] == {"@type": "Person", "name": claim["speaker"]}

    expanded = jsonld.expand(review, {"documentLoader": offline_loader})
    assert expanded[0]["@type"] == ["http://schema.org/ClaimReview"]
    assert expanded[0]["http://schema.org/claimReviewed"] == [{"@value": claim["text"]}]
    rating = expanded[0]["http://schema.org/reviewRating"][0]
    assert rating["http://schema.org/ratingValue"] == [{"@value": 4}]


def test_claimreview_of_what_an_organisation_is_reported_to_have_said(
    client, headers_for, sessions
):
    """A reported span holds what was said, not its speaker: the author is still typed."""
    body = "The Ministry of Health said 40,000 doses arrived in the first week of May."
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    created = submit(client, headers_for("admin"), body=body)
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, extract(body))
    claims = client.get(f"/api/v1/articles/{created['id']}/claims", headers=reviewer).get_json()[
        "items"
    ]
    (said,) = [c for c in claims if c["kind"] == "reported"]
    assert said["text"] == "40,000 doses arrived in the first week of May."
    assert said["speaker"] == "Ministry of Health"
    assert not said["entities"]
    verdict = verdict_on(client, reviewer, said["id"])
    publish(client, editor, verdict["id"])
    review = claim_review(client, reviewer, verdict["id"]).get_json()
    assert review["claimReviewed"] == said["text"]
    assert review["itemReviewed"]["author"] == {
        "@type": "Organization",
        "name": "Ministry of Health",
    }


def test_ratings_without_a_value_and_the_configured_publisher(settings, headers_for, sessions):
    app = create_app(
        dataclasses.replace(
            settings,
            organization_name="Example Checks",
            organization_url="https://checks.example.org",
            claimreview_url_template="https://checks.example.org/reviews/{id}",
        )
    )
    client = app.test_client()
    created = submit(client, headers_for("admin"))
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, extract(BODY))
    claim = claim_with(client, headers_for("viewer"), created["id"], "crime rose")
    verdict = verdict_on(client, headers_for("reviewer"), claim["id"], rating="misleading")
    publish(client, headers_for("admin"), verdict["id"])
    review = claim_review(client, headers_for("viewer"), verdict["id"]).get_json()
    assert review["reviewRating"] == {"@type": "Rating", "alternateName": "Misleading"}
    assert review["author"] == {
        "@type": "Organization",
        "name": "Example Checks",
        "url": "https://checks.example.org",
    }
    assert review["url"] == f"https://checks.example.org/reviews/{verdict['id']}"


def test_unpublished_and_superseded_verdicts_have_no_claimreview(client, headers_for, article):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    claim = claim_with(client, reviewer, article["id"], "unemployment fell")
    verdict = verdict_on(client, reviewer, claim["id"])
    refused = claim_review(client, reviewer, verdict["id"])
    assert refused.status_code == 409
    assert refused.mimetype == "application/problem+json"
    assert "proposed" in refused.get_json()["detail"]
    assert claim_review(client, reviewer, 10**9).status_code == 404

    publish(client, editor, verdict["id"])
    corrected = client.post(
        f"/api/v1/verdicts/{verdict['id']}/corrections",
        json={"rating": "true", "reason": "The revised release confirms the figure."},
        headers=editor,
    ).get_json()
    old = claim_review(client, reviewer, verdict["id"])
    assert old.status_code == 409
    assert old.get_json()["superseded_by"] == corrected["id"]
    review = claim_review(client, reviewer, corrected["id"]).get_json()
    assert review["reviewRating"]["alternateName"] == "True"
    # A correction keeps the first publication date and says when it changed.
    assert review["datePublished"] == datetime.now(UTC).date().isoformat()
    assert datetime.fromisoformat(review["dateModified"]) <= datetime.now(UTC)


def test_feed_pages_through_current_reviews_newest_first(client, headers_for, article):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    claims = client.get(f"/api/v1/articles/{article['id']}/claims", headers=reviewer).get_json()[
        "items"
    ]
    published = []
    for claim in claims:
        verdict = verdict_on(client, reviewer, claim["id"])
        publish(client, editor, verdict["id"])
        published.append(verdict["id"])
    newsroom = headers_for("newsroom")
    seen, cursor = [], None
    for _ in range(len(published) + 2):
        query = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        response = client.get("/api/v1/claimreviews", query_string=query, headers=newsroom)
        assert response.status_code == 200, response.get_data(as_text=True)
        page = response.get_json()
        seen += [item["claimReviewed"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    texts = {c["id"]: c["text"] for c in claims}
    assert seen == [texts[c["id"]] for c in reversed(claims)]
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    later = client.get(
        "/api/v1/claimreviews", query_string={"published_after": future}, headers=newsroom
    ).get_json()
    assert later == {"items": [], "next_cursor": None}
    bad = client.get("/api/v1/claimreviews", query_string={"cursor": "x"}, headers=newsroom)
    assert bad.status_code == 422


def selected(body: str, annotation: dict[str, Any]) -> tuple[str, str]:
    """What each of the annotation's two selectors selects in `body`."""
    quote, position = annotation["target"]["selector"]
    assert quote["type"] == "TextQuoteSelector"
    assert position["type"] == "TextPositionSelector"
    start = anchor(body, quote["exact"], quote["prefix"], quote["suffix"])
    assert start is not None
    # The same passage, not only the same words: a repeated text anchors by its context.
    assert start == position["start"], "the quote's context selects another occurrence"
    return body[start : start + len(quote["exact"])], body[position["start"] : position["end"]]


def test_annotations_select_every_claim_of_the_seed_articles(client, headers_for, sessions):
    admin, reviewer = headers_for("admin"), headers_for("reviewer")
    for path in shared_articles():
        body = path.read_text(encoding="utf-8")
        created = submit(client, admin, body=body)
        with session_scope(sessions) as session:
            store_claims(session, created["id"], 1, extract(body))
        response = client.get(f"/api/v1/articles/{created['id']}/annotations", headers=reviewer)
        assert response.status_code == 200
        assert response.mimetype == "application/ld+json"
        assert response.mimetype_params == {"profile": "http://www.w3.org/ns/anno.jsonld"}
        collection = response.get_json()
        assert collection["@context"] == "http://www.w3.org/ns/anno.jsonld"
        assert collection["type"] == "AnnotationCollection"
        items = collection["first"]["items"]
        claims = client.get(
            f"/api/v1/articles/{created['id']}/claims",
            query_string={"limit": 200},
            headers=reviewer,
        ).get_json()["items"]
        assert len(items) == collection["total"] == len(claims) > 5
        by_url = {f"/api/v1/claims/{c['id']}#highlighting": c for c in claims}
        for annotation in items:
            claim = by_url[annotation["id"].removeprefix("http://localhost")]
            assert annotation["motivation"] == "highlighting"
            assert annotation["target"]["source"] == ARTICLE_URL
            assert selected(body, annotation) == (claim["text"], claim["text"])


def test_published_verdicts_are_assessing_annotations(client, headers_for, article):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    claim = claim_with(client, reviewer, article["id"], "crime rose")
    verdict = verdict_on(client, reviewer, claim["id"], rating="false")
    url = f"/api/v1/articles/{article['id']}/annotations"
    motivations = [
        a["motivation"] for a in client.get(url, headers=reviewer).json["first"]["items"]
    ]
    assert "assessing" not in motivations  # a proposed verdict is not published yet
    publish(client, editor, verdict["id"])
    items = client.get(url, headers=reviewer).get_json()["first"]["items"]
    assessing = [a for a in items if a["motivation"] == "assessing"]
    assert len(assessing) == 1
    (assessment,) = assessing
    assert assessment["id"].endswith(f"/api/v1/verdicts/{verdict['id']}#assessing")
    assert {"type": "TextualBody", "purpose": "assessing", "value": "false"} in assessment["body"]
    assert {
        "id": "https://stats.example.gov/may",
        "type": "Text",
        "purpose": "linking",
        "stance": "supports",
    } in assessment["body"]
    assert selected(BODY, assessment) == (claim["text"], claim["text"])
    # A newsroom reads the same collection: the engine's claims and the published verdicts.
    assert client.get(url, headers=headers_for("newsroom")).get_json()["first"]["items"] == items
    worthy = client.get(url, query_string={"checkworthy": "false"}, headers=reviewer).json
    assert all("Thank you" in a["target"]["selector"][0]["exact"] for a in worthy["first"]["items"])


def test_annotations_are_paged_the_w3c_way(client, headers_for, article):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    claim = claim_with(client, reviewer, article["id"], "crime rose")
    publish(client, editor, verdict_on(client, reviewer, claim["id"], rating="false")["id"])
    url = f"/api/v1/articles/{article['id']}/annotations"
    whole = client.get(url, headers=reviewer).get_json()
    assert "next" not in whole["first"]
    assert whole["total"] == len(whole["first"]["items"])

    collection = client.get(url, query_string={"limit": 1}, headers=reviewer).get_json()
    assert collection["type"] == "AnnotationCollection"
    assert collection["total"] == whole["total"]
    page, items = collection["first"], []
    while True:
        assert page["partOf"] == collection["id"]
        items += page["items"]
        if "next" not in page:
            break
        response = client.get(page["next"], headers=reviewer)
        assert response.status_code == 200
        assert response.mimetype == "application/ld+json"
        page = response.get_json()
        assert page["type"] == "AnnotationPage"
        assert page["@context"] == "http://www.w3.org/ns/anno.jsonld"
        assert page["id"] == response.request.url
    assert items == whole["first"]["items"]
    # A claim and its published verdict stay on one page.
    assert [a["motivation"] for a in items].count("assessing") == 1
    bad = client.get(url, query_string={"cursor": "x", "limit": 1}, headers=reviewer)
    assert bad.status_code == 422
    assert client.get(url, query_string={"limit": 201}, headers=reviewer).status_code == 422


def test_a_corrected_claim_is_selected_by_its_new_context(
    client, headers_for, admin_headers, sessions
):
    body = "Prices rose 3% in May, the agency said. Wages rose 3% in May, the union said."
    created = submit(client, admin_headers, body=body)
    with session_scope(sessions) as session:
        store_claims(session, created["id"], 1, extract(body))
    editor = headers_for("editor")
    claim = claim_with(client, editor, created["id"], "Wages rose")
    start = body.index("rose 3%", claim["start"])  # the second "rose 3% in May"
    etag = client.get(f"/api/v1/claims/{claim['id']}", headers=editor).headers["ETag"]
    response = client.patch(
        f"/api/v1/claims/{claim['id']}",
        json={"start": start, "end": start + len("rose 3% in May")},
        headers={**editor, "If-Match": etag},
    )
    assert response.status_code == 200
    items = client.get(f"/api/v1/articles/{created['id']}/annotations", headers=editor).json
    (annotation,) = (
        a
        for a in items["first"]["items"]
        if a["id"].endswith(f"/claims/{claim['id']}#highlighting")
    )
    assert selected(body, annotation) == ("rose 3% in May", "rose 3% in May")
    quote = annotation["target"]["selector"][0]
    assert (quote["prefix"], quote["suffix"]) == (
        " in May, the agency said. Wages ",
        ", the union said.",
    )


def test_imported_annotations_follow_the_configured_threshold(settings, admin_headers, headers_for):
    client = create_app(dataclasses.replace(settings, checkworthy_threshold=0.99)).test_client()
    created = submit(client, admin_headers)
    quote = {"type": "TextQuoteSelector", "exact": "crime rose 12%"}
    response = post_annotation(client, headers_for("reviewer"), created["id"], quote)
    assert response.status_code == 201
    claim = response.get_json()
    # Check-worthy by the model's threshold, but not by the configured one.
    assert default_engine().threshold <= claim["checkworthiness"] < 0.99
    assert claim["checkworthy"] is False


def post_annotation(client, headers, article_id: int, *selectors: dict[str, Any]):
    annotation = {
        "@context": "http://www.w3.org/ns/anno.jsonld",
        "type": "Annotation",
        "body": {"type": "TextualBody", "value": "check this"},
        "target": {"source": ARTICLE_URL, "selector": list(selectors)},
    }
    return client.post(
        f"/api/v1/articles/{article_id}/annotations",
        json=annotation,
        headers={**headers, "Content-Type": "application/ld+json"},
    )


def test_imported_annotations_anchor_or_are_refused(client, headers_for, admin_headers):
    body = "Prices rose 3%. Wages rose 3%. Prices rose 3% again in June."
    created = submit(client, admin_headers, body=body)
    reviewer = headers_for("reviewer")
    article_id = created["id"]

    # A quote repeated in the body: the suffix picks the second "Prices rose 3%".
    quote = {"type": "TextQuoteSelector", "exact": "Prices rose 3%", "suffix": " again"}
    response = post_annotation(client, reviewer, article_id, quote)
    assert response.status_code == 201, response.get_data(as_text=True)
    claim = response.get_json()
    assert (claim["start"], claim["end"]) == (31, 45)
    assert claim["origin"] == "reviewer"
    assert response.headers["ETag"] == f'"claim-{claim["id"]}-v1"'

    # A stale position with a quote that still anchors: the quote wins.
    stale = {"type": "TextPositionSelector", "start": 0, "end": 5}
    wages = {"type": "TextQuoteSelector", "exact": "Wages rose 3%."}
    claim = post_annotation(client, reviewer, article_id, stale, wages).get_json()
    assert body[claim["start"] : claim["end"]] == "Wages rose 3%."

    # A position alone.
    position = {"type": "TextPositionSelector", "start": 0, "end": 15}
    claim = post_annotation(client, reviewer, article_id, position).get_json()
    assert claim["text"] == "Prices rose 3%."

    # The same span again is a conflict, not a duplicate.
    assert post_annotation(client, reviewer, article_id, position).status_code == 409

    missing = {"type": "TextQuoteSelector", "exact": "Rents fell 2%."}
    refused = post_annotation(client, reviewer, article_id, missing)
    assert refused.status_code == 422
    assert refused.mimetype == "application/problem+json"
    assert "does not occur" in refused.get_json()["detail"]
    outside = {"type": "TextPositionSelector", "start": 10, "end": 5_000}
    assert post_annotation(client, reviewer, article_id, outside).status_code == 422
    unknown = {"type": "CssSelector", "value": "p:nth-child(2)"}
    assert post_annotation(client, reviewer, article_id, unknown).status_code == 422
    backwards = {"type": "TextPositionSelector", "start": 9, "end": 3}
    assert post_annotation(client, reviewer, article_id, backwards).status_code == 422
    no_exact = {"type": "TextQuoteSelector", "prefix": "Prices"}
    assert post_annotation(client, reviewer, article_id, no_exact).status_code == 422
    assert post_annotation(client, reviewer, 10**9, quote).status_code == 404
    assert post_annotation(client, headers_for("viewer"), article_id, quote).status_code == 403


def test_corrections_keep_the_first_date_in_one_query_however_long_the_chain(
    app, client, engine, headers_for, article
):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    chains = []
    for text in ("unemployment fell", "crime rose"):
        first = verdict_on(
            client, reviewer, claim_with(client, reviewer, article["id"], text)["id"]
        )
        publish(client, editor, first["id"])
        chain = [first["id"]]
        for rating in ("true", "mostly-true", "true"):
            corrected = client.post(
                f"/api/v1/verdicts/{chain[-1]}/corrections",
                json={"rating": rating, "reason": "The statistics office revised its release."},
                headers=editor,
            )
            assert corrected.status_code == 201, corrected.get_data(as_text=True)
            chain.append(corrected.get_json()["id"])
        chains.append(chain)
    first_dates = ("2026-01-05", "2026-02-07")
    with engine.begin() as connection:
        for chain, day in zip(chains, first_dates, strict=True):
            connection.exec_driver_sql(
                "UPDATE verdicts SET published_at = %s WHERE id = %s",
                (f"{day}T09:00:00Z", chain[0]),
            )

    statements: list[str] = []

    def record(_conn, _cursor, statement, _params, _context, _many) -> None:
        statements.append(statement)

    app_engine = app.extensions["factcheck"].engine
    event.listen(app_engine, "before_cursor_execute", record)
    try:
        feed = client.get("/api/v1/claimreviews", headers=headers_for("newsroom")).get_json()
    finally:
        event.remove(app_engine, "before_cursor_execute", record)
    dates = {item["reviewRating"]["alternateName"]: item["datePublished"] for item in feed["items"]}
    assert [item["datePublished"] for item in feed["items"]] == list(reversed(first_dates))
    assert set(dates) == {"True"}
    assert all("dateModified" in item for item in feed["items"])
    # Both chains are walked by one recursive query, not one query per correction.
    assert sum("WITH RECURSIVE" in s for s in statements) == 1
    assert sum("FROM verdicts" in s for s in statements) == 2

    single = claim_review(client, reviewer, chains[0][-1]).get_json()
    assert single["datePublished"] == first_dates[0]


def test_a_newsroom_is_told_nothing_of_a_verdict_not_published(client, headers_for, article):
    reviewer, editor, newsroom = (headers_for(r) for r in ("reviewer", "editor", "newsroom"))
    claim = claim_with(client, reviewer, article["id"], "unemployment fell")
    verdict = verdict_on(client, reviewer, claim["id"])
    # A proposed verdict is 404 to a newsroom, word for word as one that does not exist.
    hidden = claim_review(client, newsroom, verdict["id"])
    missing = claim_review(client, newsroom, verdict["id"] + 10**6)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.mimetype == "application/problem+json"
    assert hidden.get_json() == {
        **missing.get_json(),
        "detail": f"Verdict {verdict['id']} does not exist.",
    }
    # The desk's roles are still told why there is no review yet.
    for role in ("reviewer", "viewer"):
        refused = claim_review(client, headers_for(role), verdict["id"])
        assert refused.status_code == 409
        assert "proposed" in refused.get_json()["detail"]

    publish(client, editor, verdict["id"])
    assert claim_review(client, newsroom, verdict["id"]).status_code == 200
    corrected = client.post(
        f"/api/v1/verdicts/{verdict['id']}/corrections",
        json={"rating": "true", "reason": "The revised release confirms the figure."},
        headers=editor,
    ).get_json()
    # Both were published: pointing from the old review to its correction reveals nothing.
    old = claim_review(client, newsroom, verdict["id"])
    assert old.status_code == 409
    assert old.get_json()["superseded_by"] == corrected["id"]
    assert claim_review(client, newsroom, corrected["id"]).status_code == 200


def test_a_newsroom_sees_no_review_work_until_it_is_published(
    client, headers_for, admin_headers, article, sessions
):
    reviewer, editor, newsroom = (headers_for(r) for r in ("reviewer", "editor", "newsroom"))
    taken = claim_with(client, reviewer, article["id"], "unemployment fell")
    assert client.post(f"/api/v1/claims/{taken['id']}/take", headers=reviewer).status_code == 200
    rated = claim_with(client, reviewer, article["id"], "crime rose")
    verdict = verdict_on(client, reviewer, rated["id"], rating="false")
    dismissed = claim_with(client, reviewer, article["id"], "Thank you")
    current = client.get(f"/api/v1/claims/{dismissed['id']}", headers=reviewer)
    assert (
        client.patch(
            f"/api/v1/claims/{dismissed['id']}",
            json={"status": "not_checkworthy"},
            headers={**reviewer, "If-Match": current.headers["ETag"]},
        ).status_code
        == 200
    )
    start = BODY.index("crime rose 12%")
    added = client.post(
        "/api/v1/claims",
        json={"article_id": article["id"], "start": start, "end": start + len("crime rose 12%")},
        headers=reviewer,
    ).get_json()
    claims_url = f"/api/v1/articles/{article['id']}/claims"
    annotations_url = f"/api/v1/articles/{article['id']}/annotations"

    def statuses(headers: dict[str, str], **query: Any) -> dict[int, str]:
        page = client.get(claims_url, query_string=query, headers=headers).get_json()
        return {c["id"]: c["status"] for c in page["items"]}

    def highlighted(headers: dict[str, str]) -> set[str]:
        items = client.get(annotations_url, headers=headers).get_json()["first"]["items"]
        return {a["id"] for a in items if a["motivation"] == "highlighting"}

    desk_view = statuses(reviewer)
    assert desk_view[taken["id"]] == "in_review"
    assert desk_view[dismissed["id"]] == "not_checkworthy"
    assert desk_view[added["id"]] == "new"
    # What the minister and the critics said, offered apart from their sentences, is untouched.
    listed = client.get(claims_url, headers=reviewer).get_json()["items"]
    said = [c["id"] for c in listed if c["kind"] == "reported"]
    assert len(said) == 2
    # To a newsroom: nothing is in review, nothing dismissed, no claim a reviewer added.
    assert statuses(newsroom) == {
        taken["id"]: "new",
        rated["id"]: "new",
        dismissed["id"]: "new",
    } | dict.fromkeys(said, "new")

    def counted(headers: dict[str, str]) -> int:
        article_url = f"/api/v1/articles/{article['id']}"
        return client.get(article_url, headers=headers).get_json()["claim_counts"]["total"]

    assert (counted(reviewer), counted(newsroom)) == (len(desk_view), len(desk_view) - 1)
    added_url = f"http://localhost/api/v1/claims/{added['id']}#highlighting"
    assert added_url in highlighted(reviewer)
    assert highlighted(newsroom) == highlighted(reviewer) - {added_url}

    publish(client, editor, verdict["id"])
    assert statuses(newsroom)[rated["id"]] == "published"
    publish(client, editor, verdict_on(client, reviewer, added["id"])["id"])
    assert statuses(newsroom)[added["id"]] == "published", "published: shown"
    assert highlighted(newsroom) == highlighted(reviewer)

    # A revision without the claim in review orphans it: the desk sees it, a newsroom not.
    revised = BODY.replace("The minister said unemployment fell to 4.1% in May, the lowest "
                           "since 2001. ", "")  # fmt: skip
    assert (
        client.put(
            f"/api/v1/articles/{article['id']}", json={"body": revised}, headers=admin_headers
        ).status_code
        == 202
    )
    with session_scope(sessions) as session:
        store_claims(session, article["id"], 2, extract(revised))
    assert statuses(reviewer, orphaned="true") == {taken["id"]: "in_review"}
    assert statuses(newsroom, orphaned="true") == {}


def test_assessments_name_the_organisation_not_the_reviewer(settings, client, headers_for, article):
    reviewer, editor = headers_for("reviewer"), headers_for("editor")
    claim = claim_with(client, reviewer, article["id"], "crime rose")
    verdict = verdict_on(client, reviewer, claim["id"], rating="false")
    publish(client, editor, verdict["id"])
    url = f"/api/v1/articles/{article['id']}/annotations"
    for role in ("newsroom", "viewer", "editor"):
        response = client.get(url, headers=headers_for(role))
        (assessment,) = [
            a for a in response.get_json()["first"]["items"] if a["motivation"] == "assessing"
        ]
        # As ClaimReview's author: the organisation publishing the reviews.
        assert assessment["creator"] == {"type": "Organization", "name": "Fact-check desk"}
        assert verdict["author"] not in response.get_data(as_text=True), role
    configured = create_app(
        dataclasses.replace(
            settings,
            organization_name="Example Checks",
            organization_url="https://checks.example.org",
        )
    ).test_client()
    items = configured.get(url, headers=headers_for("newsroom")).get_json()["first"]["items"]
    assert [a["creator"] for a in items if a["motivation"] == "assessing"] == [
        {"type": "Organization", "name": "Example Checks", "homepage": "https://checks.example.org"}
    ]
