"""One realistic request body per write endpoint, shown in the OpenAPI document.

tests/schemas/test_examples.py loads each through its schema, so an example can never drift
from what the API accepts.
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
