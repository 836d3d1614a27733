"""Stateless scoring: the engine over text or sentences, nothing stored."""

from __future__ import annotations

from typing import Any

from schemas import examples
from schemas.score import ScoreInSchema, ScoreOutSchema
from service.api import Blueprint, documented_errors, services
from service.auth import require

blp = Blueprint("score", __name__, description="Check-worthiness scoring without storage")


@blp.route("", methods=["POST"])
@require("claims:score")
@blp.arguments(ScoreInSchema, example=examples.SCORE)
@blp.response(200, ScoreOutSchema)
@documented_errors(blp, 400, 413, 415)
def score(data: dict[str, Any]) -> dict[str, Any]:
    """Score a document (`text`, segmented like an article) or a list of `sentences`.

    Nothing is stored. Each claim carries its calibrated `checkworthiness`, `checkworthy`
    against the configured threshold (`FACTCHECK_CHECKWORTHY_THRESHOLD`, else the model's),
    types, speaker, quantities, dates and entities.
    """
    engine = services().extractor
    language = data.get("language")
    if "text" in data:
        claims = engine.extract(data["text"], language)
    else:
        claims = engine.score_sentences(data["sentences"], language)
    return {"model_version": engine.model.version, "threshold": engine.threshold, "claims": claims}
