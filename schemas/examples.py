"""Realistic examples shown in the OpenAPI document: one request body per write endpoint,
and the responses a client reads most.

tests/schemas/test_examples.py loads each request body through its schema, and
tests/service/api/test_openapi.py validates each response against the document, so an
example can never drift from what the API accepts or answers.
"""

from __future__ import annotations

from typing import Any

ARTICLE: dict[str, Any] = {
    "title": "Unemployment falls to a 20-year low",
    "body": (
        "LONDON \u2014 Unemployment fell to 4.1% in May, the lowest since 2004, the statistics "
        'office said on Tuesday. "This is the strongest labour market in two decades," the '
        "minister said."
    ),
    "url": "https://news.example.org/economy/unemployment-may",
    "source": "example-news",
    "external_id": "econ-2026-0611",
    "published_at": "2026-06-11T07:30:00Z",
    "language": "en",
    "authors": ["A. Reporter"],
}
ARTICLE_BATCH: dict[str, Any] = {
    "articles": [ARTICLE | {"idempotency_key": "batch-2026-06-11-1"}],
}
ARTICLE_REVISION: dict[str, Any] = {
    "body": ARTICLE["body"].replace("4.1%", "4.2%"),
    "title": "Unemployment falls to a 20-year low (corrected)",
}
SCORE: dict[str, Any] = {
    "sentences": [
        "Unemployment fell to 4.1% in May, the lowest since 2004.",
        "Thank you for joining us tonight.",
    ]
}
NEW_CLAIM: dict[str, Any] = {"article_id": 12, "start": 9, "end": 57}
CLAIM_PATCH: dict[str, Any] = {"status": "reviewed"}
EVIDENCE: dict[str, Any] = {
    "url": "https://stats.example.gov/labour/2026-05",
    "title": "Labour market overview, May 2026",
    "publisher": "Statistics Office",
    "excerpt": "The unemployment rate was 4.4%.",
    "stance": "refutes",
    "archived_url": "https://archive.example.org/stats-2026-05",
    "accessed_at": "2026-06-11T09:00:00Z",
}
VERDICT: dict[str, Any] = {
    "rating": "mostly-false",
    "summary": "The rate was 4.4%, not 4.1%.",
    "rationale": "The office's May release gives 4.4%; 4.1% was the figure for March.",
    "confidence": 0.9,
    "evidence": [EVIDENCE],
}
VERDICT_PATCH: dict[str, Any] = {"confidence": 0.95}
CORRECTION: dict[str, Any] = {
    "rating": "false",
    "reason": "The revised release puts the rate at 4.6%.",
}
USER: dict[str, Any] = {"name": "planet-cms", "role": "newsroom", "organization": "daily-planet"}
WEBHOOK: dict[str, Any] = {
    "url": "https://hooks.example.org/factcheck",
    "events": ["verdict.published", "verdict.corrected"],
    "description": "Publishes reviews on the fact-check page",
}
ANNOTATION: dict[str, Any] = {
    "@context": "http://www.w3.org/ns/anno.jsonld",
    "type": "Annotation",
    "body": {"type": "TextualBody", "value": "Check this figure"},
    "target": {
        "source": "https://news.example.org/economy/unemployment-may",
        "selector": [
            {
                "type": "TextQuoteSelector",
                "exact": "Unemployment fell to 4.1% in May",
                "prefix": "LONDON \u2014 ",
                "suffix": ", the lowest",
            },
            {"type": "TextPositionSelector", "start": 9, "end": 41},
        ],
    },
}


# ---- responses -----------------------------------------------------------------------------
# What the service answered for the examples above (ids and times made round): one per
# schema a client reads most, shown in the document beside the schema. tests/service/api/
# test_openapi.py validates each against its schema, so they cannot drift either.

FACTCHECKS: dict[str, Any] = {
    "@context": "https://schema.org",
    "@type": "DataFeed",
    "dataFeedElement": [
        {
            "@type": "ClaimReview",
            "url": "https://checks.example.org/2026/unemployment-record-low",
            "claimReviewed": "Unemployment fell to 4.1% in May, the lowest since 2001.",
            "reviewRating": {"@type": "Rating", "alternateName": "Mostly false"},
            "author": {"@type": "Organization", "name": "Example Checks"},
            "datePublished": "2026-06-12",
            "sdLicense": "https://creativecommons.org/licenses/by/4.0/",
            "inLanguage": "en",
        }
    ],
}
MATCH_QUERY: dict[str, Any] = {
    "sentences": ["Joblessness dropped to 4.1 percent in May, its lowest level since 2001."],
    "top": 5,
}
MATCH_REVIEW: dict[str, Any] = {"review": "confirmed"}
ANSWERED_AT = "2026-06-11T07:31:02+00:00"
PROCESSED_AT = "2026-06-11T07:31:04+00:00"
ARTICLE_SUMMARY: dict[str, Any] = {
    "id": 12,
    **{k: ARTICLE[k] for k in ("title", "url", "source", "external_id", "language", "authors")},
    "published_at": "2026-06-11T07:30:00+00:00",
    "status": "queued",
    "revision": 1,
    "content_hash": "ca84da9fcc93075c4e8ea21244b358f6103f8a40542d9cef98346d859eebc4a3",
    "failure_reason": None,
    "processed_at": None,
    "created_at": ANSWERED_AT,
    "updated_at": ANSWERED_AT,
}
ARTICLE_OUT: dict[str, Any] = ARTICLE_SUMMARY | {
    "body": ARTICLE["body"],
    "status": "processed",
    "processed_at": PROCESSED_AT,
    "updated_at": PROCESSED_AT,
    "claim_counts": {"checkworthy": 4, "total": 5},
}
# The first claim of ARTICLE_OUT, as the engine found it.
_FOUND: dict[str, Any] = {
    "checkworthiness": 0.9734,
    "checkworthy": True,
    "dates": [
        {"end": 64, "kind": "absolute", "start": 60, "text": "2004", "value": "2004"},
        {"end": 103, "kind": "relative", "start": 93, "text": "on Tuesday", "value": None},
    ],
    "end": 104,
    "entities": [{"end": 21, "label": "OTHER", "start": 9, "text": "Unemployment"}],
    "kind": "sentence",
    "language": "en",
    "prefix": "LONDON — ",
    "quantities": [
        {"approximate": None, "end": 34, "start": 30, "text": "4.1%", "unit": "%", "value": 4.1}
    ],
    "scored": True,
    "speaker": "the statistics office",
    "start": 9,
    "suffix": ' "This is the strongest labour m',
    "text": "Unemployment fell to 4.1% in May, the lowest since 2004, the statistics office "
    "said on Tuesday.",
    "types": ["quantity"],
}
CLAIM_OUT: dict[str, Any] = {
    "id": 31,
    "article_id": 12,
    "revision": 1,
    **_FOUND,
    "status": "new",
    "origin": "engine",
    "orphaned": False,
    "assignee_id": None,
    "version": 1,
    "created_at": PROCESSED_AT,
    "updated_at": PROCESSED_AT,
}
VERDICT_OUT: dict[str, Any] = {
    "id": 7,
    "claim_id": 31,
    "status": "proposed",
    "rating": VERDICT["rating"],
    "rating_label": "Mostly false",
    "rating_value": 2,
    "summary": VERDICT["summary"],
    "rationale": VERDICT["rationale"],
    "confidence": VERDICT["confidence"],
    "evidence": [EVIDENCE | {"accessed_at": "2026-06-11T09:00:00+00:00"}],
    "author": "ana",
    "published_at": None,
    "published_by": None,
    "supersedes_id": None,
    "correction_reason": None,
    "version": 1,
    "created_at": "2026-06-11T09:12:40+00:00",
    "updated_at": "2026-06-11T09:12:40+00:00",
}
CLAIM_DETAIL: dict[str, Any] = CLAIM_OUT | {
    "verdicts": [VERDICT_OUT],
    "agreement": "single",
    "similar": [
        {
            "id": 981,
            "article_id": 77,
            "text": "Unemployment fell to 4.1% in May, its lowest since 2001.",
            "status": "published",
            "similarity": 0.8,
            "meaning": 0.97,
            "source": "example-gazette",
            "created_at": "2026-06-11T08:02:00+00:00",
            "published_verdict": {"id": 40, "rating": "mostly-false", "label": "Mostly false"},
        }
    ],
    "seen_in": {"articles": 2, "outlets": 2, "first_seen": "2026-06-11T07:31:02+00:00"},
    "matches": [
        {
            "factcheck": {
                "id": 5,
                "key": FACTCHECKS["dataFeedElement"][0]["url"],
                "url": FACTCHECKS["dataFeedElement"][0]["url"],
                "claim": FACTCHECKS["dataFeedElement"][0]["claimReviewed"],
                "headline": None,
                "rating": "Mostly false",
                "rating_key": "mostly-false",
                "publisher": "Example Checks",
                "author": None,
                "claimant": None,
                "licence": "https://creativecommons.org/licenses/by/4.0/",
                "date": "2026-06-12",
                "claim_date": None,
                "language": "en",
                "origin": "imported",
            },
            "confidence": 0.96,
            "decision": "match",
            "reason": "meaning 0.99, words 1.00; agrees on number 4.1%, date May",
            "agrees": ["number 4.1%", "date May"],
            "disagrees": [],
            "review": "confirmed",
            "reviewed_by": "r.reviewer",
            "reviewed_at": "2026-06-11T09:30:00+00:00",
        }
    ],
}
SCORED: dict[str, Any] = {
    "claims": [
        {
            "checkworthiness": 0.9573,
            "checkworthy": True,
            "dates": [
                {"end": 55, "kind": "absolute", "start": 51, "text": "2004", "value": "2004"}
            ],
            "end": 56,
            "entities": [{"end": 12, "label": "OTHER", "start": 0, "text": "Unemployment"}],
            "kind": "sentence",
            "language": "en",
            "prefix": "",
            "quantities": [
                {
                    "approximate": None,
                    "end": 25,
                    "start": 21,
                    "text": "4.1%",
                    "unit": "%",
                    "value": 4.1,
                }
            ],
            "scored": True,
            "speaker": None,
            "start": 0,
            "suffix": "",
            "text": "Unemployment fell to 4.1% in May, the lowest since 2004.",
            "types": ["quantity"],
        },
        {
            "checkworthiness": 0.0148,
            "checkworthy": False,
            "dates": [
                {"end": 32, "kind": "relative", "start": 25, "text": "tonight", "value": None}
            ],
            "end": 33,
            "entities": [{"end": 5, "label": "OTHER", "start": 0, "text": "Thank"}],
            "kind": "sentence",
            "language": "en",
            "prefix": "",
            "quantities": [],
            "scored": True,
            "speaker": None,
            "start": 0,
            "suffix": "",
            "text": "Thank you for joining us tonight.",
            "types": ["other"],
        },
    ],
    "model_version": "checkworthiness-1.fe72be34",
    "threshold": 0.329,
}
CREATED_WEBHOOK: dict[str, Any] = {
    "id": 3,
    **WEBHOOK,
    "active": True,
    "secret": "whsec_3q2-7wRsv0c1mZb8xkJ4nTf6yUe9aPdLhQoGi5WtVjA",
    "consecutive_failures": 0,
    "failing_attempts": 0,
    "paused_until": None,
    "disabled_at": None,
    "disabled_reason": None,
    "created_by": "ana",
    "created_at": "2026-06-11T10:02:17+00:00",
}
ISSUED_TOKEN: dict[str, Any] = {
    "token": "fct_Q8m1r7VZlW2cXo4YhJ6uNbT0eKsA9gPdF3iLqR5vHyE",
    "organization_created": True,
    "user": {
        "id": 4,
        **USER,
        "disabled_at": None,
        "created_at": "2026-06-11T10:05:51+00:00",
    },
}
READY: dict[str, Any] = {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}
# Component schema name -> its example.
RESPONSES: dict[str, dict[str, Any]] = {
    "ArticleSummary": ARTICLE_SUMMARY,
    "Article": ARTICLE_OUT,
    "ReviewClaim": CLAIM_OUT,
    "ClaimDetail": CLAIM_DETAIL,
    "Verdict": VERDICT_OUT,
    "ScoreOut": SCORED,
    "CreatedWebhook": CREATED_WEBHOOK,
    "IssuedToken": ISSUED_TOKEN,
    "Health": READY,
}
