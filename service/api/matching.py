"""Fact-checks and matches: import, read, match text without storing, review a claim's match."""

from __future__ import annotations

import json
from typing import Any

import marshmallow as ma
from flask import request

from schemas import examples
from schemas.common import encode_cursor
from schemas.matching import (
    MAX_IMPORT_RECORDS,
    ClaimMatchSchema,
    FactCheckImportSchema,
    FactCheckSchema,
    MatchQuerySchema,
    MatchResultsSchema,
    MatchReviewSchema,
    ReviewedMatchPageSchema,
    ReviewedMatchQuerySchema,
)
from service.api import Blueprint, current_actor, db, documented_errors, read_db, services
from service.auth import require
from service.domain import Unprocessable
from service.domain import factchecks as factchecks_domain
from service.domain import matching as domain
from workers.matching.records import FORMATS, parse_factchecks

factchecks_blp = Blueprint("factchecks", __name__, description="Fact-checks, ours and imported")
matches_blp = Blueprint("matches", __name__, description="Matching text against fact-checks")
claim_matches_blp = Blueprint(
    "claim_matches", __name__, description="A claim's matches against fact-checks"
)

IMPORT_BODY = {
    "description": (
        "A schema.org ClaimReview JSON-LD document (one object, an array, an @graph or a "
        "DataFeed), an array of flat records (claim, url, rating, publisher, date, language, "
        'licence, ...), or {"format": "jsonl" | "csv" | "tsv", "content": text}.'
    ),
    "required": True,
    "content": {
        "application/json": {
            "schema": {"$ref": "#/components/schemas/FactCheckImportIn"},
            "example": examples.FACTCHECKS,
        }
    },
}


def _import_text(document: Any) -> tuple[str, str]:
    """(text, format) of an import body."""
    if isinstance(document, dict) and set(document) == {"format", "content"}:
        file_format, content = document["format"], document["content"]
        if file_format not in FORMATS or not isinstance(content, str):
            raise Unprocessable(
                f"`format` must be one of {', '.join(FORMATS)} and `content` a string.",
                errors={"format": [f"One of {', '.join(FORMATS)}."]},
            )
        return content, file_format
    return json.dumps(document), "jsonld"


@factchecks_blp.route("", methods=["POST"])
@require("factchecks:import")
@factchecks_blp.doc(requestBody=IMPORT_BODY)
@factchecks_blp.response(200, FactCheckImportSchema)
@documented_errors(factchecks_blp, 400, 413, 415, 422)
def import_factchecks() -> dict[str, Any]:
    """Import fact-checks; each is known by its review URL (or `id`), so importing it again
    changes nothing and a changed record is updated in place.

    A bad record is skipped and listed in `errors` with where it was and why; the rest are
    imported. 422 when no record could be read. At most 1,000 records a request (the CLI's
    `factcheck import-factchecks` takes files of any size).
    """
    # The app's JSON provider: malformed JSON is 400, what it refuses as the views do.
    text, file_format = _import_text(request.get_json())
    try:
        report = parse_factchecks(text, file_format)
    except ValueError as error:
        raise Unprocessable(str(error)) from None
    errors = [{"location": e.location, "message": e.message} for e in report.errors]
    if not report.records:
        raise Unprocessable(
            "No fact-check could be read.", errors={"records": [str(e) for e in report.errors]}
        )
    if len(report.records) > MAX_IMPORT_RECORDS:
        raise Unprocessable(
            f"{len(report.records)} records: at most {MAX_IMPORT_RECORDS} a request; "
            "import larger collections with `factcheck import-factchecks`."
        )
    actor = current_actor()
    result = factchecks_domain.import_factchecks(
        db(),
        report.records,
        services().extractor.encoder,
        actor=actor.name,
        user_id=actor.user_id,
        scale=services().settings.rating_scale,
    )
    return {
        "created": result.created,
        "updated": result.updated,
        "unchanged": result.unchanged,
        "duplicates": report.duplicates,
        "ids": result.ids,
        "errors": errors,
    }


@factchecks_blp.route("/<int:factcheck_id>", methods=["GET"])
@require("factchecks:read")
@factchecks_blp.response(200, FactCheckSchema)
@documented_errors(factchecks_blp, 404)
def get_factcheck(factcheck_id: int) -> Any:
    """One fact-check, with its rating, publisher, URL and licence."""
    return factchecks_domain.get_factcheck(read_db(), factcheck_id)


@matches_blp.route("", methods=["POST"])
@require("matches:query")
@matches_blp.arguments(MatchQuerySchema, example=examples.MATCH_QUERY)
@matches_blp.response(200, MatchResultsSchema)
@documented_errors(matches_blp, 400, 413, 415)
def match(data: dict[str, Any]) -> dict[str, Any]:
    """Match text or sentences against the fact-checks; nothing is stored.

    With `text`, each check-worthy claim the engine finds in it is a query (the whole text
    when it finds none); with `sentences`, each sentence. Every query gets its `top` matches,
    best first, weak ones included: `decision` says which reach the `suggest_threshold` and
    `match_threshold` (FACTCHECK_MATCH_SUGGEST_THRESHOLD, FACTCHECK_MATCH_THRESHOLD), or were
    `refused` by a guard (numbers, units, dates, names or negation that disagree), and
    `reason` why.
    """
    extractor = services().extractor
    queries: list[tuple[str, int | None, int | None]]
    if "text" in data:
        claims = [c for c in extractor.extract(data["text"]) if c["checkworthy"]]
        if claims:
            queries = [(c["text"], c["start"], c["end"]) for c in claims]
            vectors = [c["embedding"] for c in claims]
        else:
            queries = [(data["text"], 0, len(data["text"]))]
            vectors = list(extractor.encoder.encode([data["text"]]))
    else:
        queries = [(s, None, None) for s in data["sentences"]]
        vectors = list(extractor.encoder.encode(data["sentences"]))
    matching = domain.Matching.default()
    found = domain.match_text(
        read_db(), [q for q, _, _ in queries], vectors, matching, top=data["top"]
    )
    return {
        "suggest_threshold": matching.settings.suggest_threshold,
        "match_threshold": matching.settings.match_threshold,
        "results": [
            {"query": q, "start": start, "end": end, "matches": [m.to_dict() for m in matches]}
            for (q, start, end), matches in zip(queries, found, strict=True)
        ],
    }


@matches_blp.route("/reviewed", methods=["GET"])
@require("exports:read")
@matches_blp.arguments(ReviewedMatchQuerySchema, location="query", unknown=ma.RAISE)
@matches_blp.response(200, ReviewedMatchPageSchema)
@documented_errors(matches_blp)
def reviewed(query: dict[str, Any]) -> dict[str, Any]:
    """Matches reviewers confirmed (`relevant`: true) or rejected, as evaluation data."""
    limit = query["limit"]
    items = domain.reviewed_matches(read_db(), after=query.get("cursor", (0, 0)), limit=limit)
    last = items[-1] if len(items) == limit else None
    next_cursor = encode_cursor(last["claim_id"], last["factcheck_id"]) if last else None
    return {"items": items, "next_cursor": next_cursor}


@claim_matches_blp.route("/<int:claim_id>/matches", methods=["GET"])
@require("claims:read")
@claim_matches_blp.response(200, ClaimMatchSchema(many=True))
@documented_errors(claim_matches_blp, 404)
def list_claim_matches(claim_id: int) -> list[dict[str, Any]]:
    """The claim's matches (as in its detail): confirmed first, then by confidence."""
    return domain.claim_matches(db(), claim_id)


@claim_matches_blp.route("/<int:claim_id>/matches/<int:factcheck_id>/review", methods=["POST"])
@require("matches:review")
@claim_matches_blp.arguments(MatchReviewSchema, example=examples.MATCH_REVIEW)
@claim_matches_blp.response(200, ClaimMatchSchema)
@documented_errors(claim_matches_blp, 400, 404, 409, 415)
def review(data: dict[str, Any], claim_id: int, factcheck_id: int) -> dict[str, Any]:
    """Confirm a claim's match (it is shown first) or reject it (never shown for the claim
    again, however often the claim is matched); audited. 409 if it is already so."""
    return domain.review_match(db(), claim_id, factcheck_id, data["review"], current_actor())
