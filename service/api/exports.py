"""Exports: the claims and verdicts a filter selects, as CSV streamed while it is read."""

from __future__ import annotations

import csv
import io
import logging
import unicodedata
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask import Response, stream_with_context

from schemas.exports import ClaimExportQuerySchema
from service.api import Blueprint, documented_errors, services
from service.auth import require
from service.domain import exports as domain
from service.domain.claims.queue import queue_filter

log = logging.getLogger(__name__)

blp = Blueprint("exports", __name__, description="Bulk exports (CSV, streamed)")

# Spreadsheets run a cell that starts with one of these as a formula (CSV injection), so such
# cells get a leading apostrophe, which the spreadsheet shows as text and hides.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
CSV_RESPONSE = {
    "description": "UTF-8 CSV with a header row; one row per (claim, verdict)",
    "content": {"text/csv": {"schema": {"type": "string"}}},
}


def csv_cell(value: Any) -> str:
    """One value as CSV cell text, defused if a spreadsheet would read it as a formula."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        value = ";".join(str(item) for item in value)
    text = str(value)
    return "'" + text if _runs_as_formula(text) else text


def _runs_as_formula(text: str) -> bool:
    """Whether a spreadsheet may run the cell: it starts with a formula sign, or has one
    after nothing but whitespace (spaces, NBSP ...) and invisible format characters (a BOM,
    zero-width spaces, direction marks), which spreadsheets skip."""
    if text.startswith(FORMULA_STARTS):
        return True
    for char in text:
        if not (char.isspace() or unicodedata.category(char) == "Cf"):
            return char in FORMULA_STARTS
    return False


def csv_chunks(pages: Iterable[list[dict[str, Any]]], columns: tuple[str, ...]) -> Iterator[str]:
    """The header, then one CSV chunk per page of rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    yield buffer.getvalue()
    for page in pages:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([csv_cell(row[column]) for column in columns] for row in page)
        yield buffer.getvalue()


@blp.route("/claims.csv", methods=["GET"])
@require("exports:read")
@blp.arguments(ClaimExportQuerySchema, location="query", unknown=ma.RAISE)
@blp.doc(responses={"200": CSV_RESPONSE})
@documented_errors(blp, 400)
def export_claims(query: dict[str, Any]) -> Response:
    """Claims and their verdicts as CSV, streamed: the queue's filters, in claim id order.

    One row per (claim, verdict); a claim without a verdict has one row with empty verdict
    columns. `verdicts=published` keeps only current published verdicts. Evidence is one cell,
    a line per item ("stance url"). Cells starting with = + - @ (or tab, CR) get a leading
    apostrophe so spreadsheets do not run them as formulas.
    """
    where = queue_filter(query)
    settings = services().settings

    def generate() -> Iterator[str]:
        # The request's session is committed and closed before the body is sent, so the rows
        # are read through a session of their own, closed when the stream ends or is dropped.
        session = services().read_sessions()
        try:
            pages = domain.export_pages(
                session,
                where,
                settings.rating_scale,
                verdicts=query["verdicts"],
                page_claims=domain.PAGE_CLAIMS,
            )
            yield from csv_chunks(pages, domain.COLUMNS)
        except Exception:
            log.exception("claims export failed part-way; the CSV sent is truncated")
            raise
        finally:
            session.rollback()
            session.close()

    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={
            "Content-Disposition": 'attachment; filename="claims.csv"',
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "no-store",
        },
    )
