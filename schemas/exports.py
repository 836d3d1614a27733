"""Query parameters of the CSV exports."""

from __future__ import annotations

import marshmallow as ma

from schemas.claims import QueueQuerySchema


class ClaimExportQuerySchema(QueueQuerySchema):
    """The review queue's filters (same names, same defaults), without paging or sort."""

    class Meta:
        exclude = ("cursor", "limit", "sort")

    verdicts = ma.fields.String(
        load_default="all",
        validate=ma.validate.OneOf(("all", "published")),
        metadata={
            "description": "all: every verdict with its status; published: only the current "
            "published verdict. A claim without one still gets a row."
        },
    )
