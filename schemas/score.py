"""Stateless scoring: text or sentences in, scored claims out."""

from __future__ import annotations

import marshmallow as ma

from schemas.claims import ExtractedClaimSchema
from schemas.common import Pattern, TextOrSentencesSchema, nonblank_text

MAX_TEXT = 1_000_000
MAX_SENTENCES = 1_000
MAX_SENTENCE = 5_000


class ScoreInSchema(TextOrSentencesSchema):
    """Exactly one of `text` (a document to segment) or `sentences` (already split)."""

    class Meta:
        unknown = ma.RAISE

    text = nonblank_text(max_length=MAX_TEXT, metadata={"description": "A whole document"})
    sentences = ma.fields.List(
        nonblank_text(max_length=MAX_SENTENCE),
        validate=ma.validate.Length(min=1, max=MAX_SENTENCES),
        metadata={"description": "Sentences scored one by one, without document context"},
    )
    language = ma.fields.String(
        validate=Pattern(r"^[a-z]{2,3}$"),
        metadata={"description": "ISO 639 code; detected when absent"},
    )


class ScoreOutSchema(ma.Schema):
    model_version = ma.fields.String(required=True)
    threshold = ma.fields.Float(required=True)
    claims = ma.fields.List(ma.fields.Nested(ExtractedClaimSchema), required=True)
