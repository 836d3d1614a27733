"""Inter-reviewer agreement."""

from __future__ import annotations

import marshmallow as ma

from schemas.common import Timestamp, text


class AgreementQuerySchema(ma.Schema):
    article = ma.fields.Integer(validate=ma.validate.Range(min=1, max=2**63 - 1))
    source = text(1, 200)
    since = Timestamp(metadata={"description": "Verdicts created at or after"})
    until = Timestamp(metadata={"description": "Verdicts created before"})


class AlphaSchema(ma.Schema):
    nominal = ma.fields.Float(allow_none=True)
    ordinal = ma.fields.Float(allow_none=True)
    interval = ma.fields.Float(allow_none=True)


class PairSchema(ma.Schema):
    reviewers = ma.fields.List(ma.fields.String(), required=True)
    claims = ma.fields.Integer(required=True)
    agreed = ma.fields.Integer(required=True)
    share = ma.fields.Float(required=True)
    kappa = ma.fields.Float(allow_none=True)


class AgreementSchema(ma.Schema):
    claims = ma.fields.Integer(required=True, metadata={"description": "Claims rated twice+"})
    ratings = ma.fields.Integer(required=True)
    alpha = ma.fields.Nested(
        AlphaSchema,
        required=True,
        metadata={"description": "Krippendorff's alpha; null when nothing is comparable"},
    )
    pairs = ma.fields.List(ma.fields.Nested(PairSchema), required=True)
