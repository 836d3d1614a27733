"""The request examples in the OpenAPI document are bodies the API accepts."""

from __future__ import annotations

import json

import pytest

from schemas import examples
from schemas.articles import ArticleBatchInSchema, ArticleInSchema, ArticleRevisionInSchema
from schemas.claims import ClaimPatchSchema, NewClaimSchema
from schemas.matching import MatchQuerySchema, MatchReviewSchema
from schemas.publishing import AnnotationInSchema
from schemas.score import ScoreInSchema
from schemas.users import UserInSchema
from schemas.verdicts import CorrectionInSchema, VerdictInSchema, VerdictPatchSchema
from schemas.webhooks import WebhookInSchema
from workers.matching.records import parse_factchecks

PAIRS = [
    (examples.ARTICLE, ArticleInSchema),
    (examples.ARTICLE_BATCH, ArticleBatchInSchema),
    (examples.ARTICLE_REVISION, ArticleRevisionInSchema),
    (examples.SCORE, ScoreInSchema),
    (examples.NEW_CLAIM, NewClaimSchema),
    (examples.CLAIM_PATCH, ClaimPatchSchema),
    (examples.VERDICT, VerdictInSchema),
    (examples.VERDICT_PATCH, VerdictPatchSchema),
    (examples.CORRECTION, CorrectionInSchema),
    (examples.USER, UserInSchema),
    (examples.WEBHOOK, WebhookInSchema),
    (examples.ANNOTATION, AnnotationInSchema),
    (examples.MATCH_QUERY, MatchQuerySchema),
    (examples.MATCH_REVIEW, MatchReviewSchema),
]


@pytest.mark.parametrize(("example", "schema"), PAIRS, ids=[s.__name__ for _, s in PAIRS])
def test_each_example_loads_through_its_schema(example, schema):
    schema().load(example)  # raises ValidationError on any field the API would refuse


def test_the_factcheck_import_example_is_read_whole():
    report = parse_factchecks(json.dumps(examples.FACTCHECKS))
    assert len(report.records) == 1
    assert report.errors == []
    assert report.records[0].licence == examples.FACTCHECKS["dataFeedElement"][0]["sdLicense"]


def test_the_annotation_example_selects_its_quote_in_the_article_example():
    body = examples.ARTICLE["body"]
    quote, position = examples.ANNOTATION["target"]["selector"]
    assert body[position["start"] : position["end"]] == quote["exact"]
    assert body[: position["start"]].endswith(quote["prefix"])
    assert body[position["end"] :].startswith(quote["suffix"])


def test_every_request_body_in_the_document_has_an_example(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    bodies = [
        (method, path, operation["requestBody"])
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if isinstance(operation, dict) and "requestBody" in operation
    ]
    assert len(bodies) == len(PAIRS) + 1  # and the fact-check import, read by its parser
    for method, path, body in bodies:
        assert all("example" in content for content in body["content"].values()), (method, path)
