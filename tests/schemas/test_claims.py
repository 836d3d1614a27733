"""Claim schemas: stored spans are returned as stored, identical to a field-by-field dump."""

from __future__ import annotations

from types import SimpleNamespace

import marshmallow as ma

from schemas.claims import DateSchema, EntitySchema, ExtractedClaimSchema, QuantitySchema
from workers.extraction.engine import extract

BODY = (
    "On 3 May 2024 the Ministry of Health in Paris said over 40,000 soldiers left. "
    "Prices rose 80% to $3bn, Anna Berg said on Tuesday."
)


class NestedDumpSchema(ExtractedClaimSchema):
    """The same schema with plain nested lists: the reference the shortcut must equal."""

    quantities = ma.fields.List(ma.fields.Nested(QuantitySchema))
    dates = ma.fields.List(ma.fields.Nested(DateSchema))
    entities = ma.fields.List(ma.fields.Nested(EntitySchema))


def test_stored_spans_dump_exactly_as_the_nested_schemas_would():
    claims = extract(BODY)
    assert any(c["quantities"] and c["dates"] and c["entities"] for c in claims)
    assert ExtractedClaimSchema(many=True).dump(claims) == NestedDumpSchema(many=True).dump(claims)


def test_spans_that_are_not_plain_dicts_go_through_the_nested_schema():
    span = SimpleNamespace(text="May", start=0, end=3, value="2024-05", kind="absolute", extra=1)
    claim = {"text": "May", "start": 0, "end": 3, "dates": [span], "quantities": None}
    dumped = ExtractedClaimSchema().dump(claim)
    assert dumped["dates"] == [
        {"text": "May", "start": 0, "end": 3, "value": "2024-05", "kind": "absolute"}
    ]
    assert dumped["quantities"] is None
