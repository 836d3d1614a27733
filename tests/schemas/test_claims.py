"""Claim schemas: plain values and stored spans are copied as they are, and the result is
identical to marshmallow's field-by-field dump."""

from __future__ import annotations

from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import marshmallow as ma

from schemas.claims import (
    DateSchema,
    EntitySchema,
    ExtractedClaimSchema,
    QuantitySchema,
    ReviewClaimSchema,
)
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


class FieldByFieldSchema(ReviewClaimSchema):
    """The review schema dumped by marshmallow's own loop, every field through its formatter."""

    _serialize = ma.Schema._serialize
    quantities = ma.fields.List(ma.fields.Nested(QuantitySchema))
    dates = ma.fields.List(ma.fields.Nested(DateSchema))
    entities = ma.fields.List(ma.fields.Nested(EntitySchema))


def stored_claim(number: int, claim: dict[str, Any], **overrides: Any) -> SimpleNamespace:
    """An object shaped like a stored claim row (attributes, not keys)."""
    moment = datetime(2026, 3, 2, 8, number, tzinfo=UTC)
    fields = {"id": number, "article_id": 7, "revision": 1, "status": "new"}
    fields |= {"origin": "engine", "orphaned": False, "created_at": moment, "updated_at": moment}
    fields |= {"assignee_id": None, "version": 1}
    return SimpleNamespace(**(claim | fields | overrides))


def test_objects_dump_exactly_as_field_by_field():
    claims = [stored_claim(n, claim) for n, claim in enumerate(extract(BODY))]
    assert ReviewClaimSchema(many=True).dump(claims) == FieldByFieldSchema(many=True).dump(claims)


def test_values_of_another_type_take_the_fields_own_path():
    claim = extract(BODY)[0]
    odd = stored_claim(
        1,
        claim,
        checkworthiness=1,  # an int in a Float field: dumped as 1.0
        version=True,  # a bool in an Integer field: dumped as 1
        types=["quantity", 5],  # a list with a non-string: each item through String
        speaker=None,
        assignee_id=None,
    )
    del odd.language  # a missing attribute is left out, as marshmallow leaves it out
    dumped = ReviewClaimSchema().dump(odd)
    assert dumped == FieldByFieldSchema().dump(odd)
    assert dumped["checkworthiness"] == 1.0
    assert type(dumped["checkworthiness"]) is float
    assert dumped["version"] == 1
    assert type(dumped["version"]) is int
    assert dumped["types"] == ["quantity", "5"]
    assert dumped["speaker"] is None
    assert "language" not in dumped
