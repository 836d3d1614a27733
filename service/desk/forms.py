"""The desk's forms, read into the shapes the API takes and validated by the API's own
schemas: a form can send nothing the JSON API would refuse, and is refused the same way.

An HTML form sends every field, empty or not, as text: empty fields are left out (what the
API calls not sent), numbers are read as numbers, and evidence comes as numbered rows
(`evidence-0-url`, `evidence-0-stance`, ...), of which wholly empty rows are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import marshmallow as ma

from schemas.claims import QueueQuerySchema
from schemas.verdicts import CorrectionInSchema, EvidenceSchema, VerdictInSchema
from service.domain import Unprocessable

EVIDENCE_FIELDS = tuple(name for name in EvidenceSchema._declared_fields if name != "accessed_at")
# How many evidence rows a verdict form shows without JavaScript (which adds rows).
EVIDENCE_ROWS = 3
_ROW = re.compile(r"^evidence-(\d{1,2})-([a-z_]+)$")


class FormInvalid(Exception):
    """A form the schema refused: field -> messages, as the API's 400 lists them."""

    def __init__(self, errors: Mapping[str, Any]) -> None:
        super().__init__("The form has errors.")
        self.errors = dict(_flatten(errors))


def _flatten(errors: Mapping[str, Any], prefix: str = "") -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for key, value in errors.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            found.extend(_flatten(value, f"{name}."))
        else:
            messages = value if isinstance(value, list) else [value]
            found.append((name, " ".join(str(m) for m in messages)))
    return found


def _given(form: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: form[name].strip() for name in names if form.get(name, "").strip()}


def _load(schema: ma.Schema, data: dict[str, Any]) -> dict[str, Any]:
    try:
        loaded: dict[str, Any] = schema.load(data)
    except ma.ValidationError as error:
        raise FormInvalid(error.normalized_messages()) from None
    return loaded


def evidence_rows(form: Mapping[str, str]) -> list[dict[str, str]]:
    """The evidence rows a form filled in, in row order; a row is kept if any of its
    fields but the stance (which always has a choice) was filled in."""
    rows: dict[int, dict[str, str]] = {}
    for key, value in form.items():
        found = _ROW.match(key)
        if found and found.group(2) in EVIDENCE_FIELDS and value.strip():
            rows.setdefault(int(found.group(1)), {})[found.group(2)] = value.strip()
    return [row for _, row in sorted(rows.items()) if set(row) - {"stance"}]


def _verdict_fields(form: Mapping[str, str]) -> dict[str, Any]:
    data: dict[str, Any] = _given(form, ("rating", "summary", "rationale"))
    if form.get("confidence", "").strip():
        data["confidence"] = _number(form["confidence"], "confidence")
    return data


def verdict(form: Mapping[str, str]) -> dict[str, Any]:
    """A new verdict, as POST /claims/{id}/verdicts takes it."""
    data = _verdict_fields(form)
    data["evidence"] = evidence_rows(form)
    return _load(VerdictInSchema(), data)


def correction(form: Mapping[str, str]) -> dict[str, Any]:
    """A correction, as POST /verdicts/{id}/corrections takes it: what the form changes
    (empty fields keep the published values; evidence rows, when any, replace the list)."""
    data = _verdict_fields(form) | _given(form, ("reason",))
    rows = evidence_rows(form)
    if rows:
        data["evidence"] = rows
    return _load(CorrectionInSchema(), data)


def _number(raw: str, field: str) -> float:
    try:
        return float(raw)
    except ValueError:
        raise FormInvalid({field: ["Not a valid number."]}) from None


def queue_query(args: Mapping[str, str]) -> dict[str, Any]:
    """The queue page's filters, as GET /claims takes them (empty fields left out)."""
    data = {key: value.strip() for key, value in args.items() if value.strip()}
    return _load(QueueQuerySchema(unknown=ma.EXCLUDE), data)


def whole_number(raw: str) -> int | None:
    """`raw` as a whole number if it is one in ASCII digits ("²" is a digit to Python, not
    a number), else None."""
    raw = raw.strip()
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None


def version(form: Mapping[str, str], field: str = "version") -> int | None:
    """The version a form was read at (what If-Match would name), None if it has none."""
    raw = form.get(field, "").strip()
    if not raw:
        return None
    found = whole_number(raw)
    if found is None:
        raise FormInvalid({field: ["Not a valid version."]})
    return found


def span(form: Mapping[str, str], body: str) -> tuple[int, int]:
    """The span a form selects in `body`: its start and end offsets (code points, filled
    in by selecting the text, or typed), checked against its quoted text when both are
    given; else the one place the quoted text appears."""
    quote = form.get("quote", "")
    start_raw, end_raw = form.get("start", "").strip(), form.get("end", "").strip()
    if start_raw or end_raw:
        start, end = whole_number(start_raw), whole_number(end_raw)
        if start is None or end is None:
            raise FormInvalid({"start": ["Give both offsets as whole numbers, or neither."]})
        if quote.strip() and _lines(body[start:end]) != _lines(quote):
            raise Unprocessable(
                f"The text at {start}-{end} is {body[start:end][:200]!r}, not the text quoted; "
                "select it again."
            )
        return start, end
    if not quote.strip():
        raise FormInvalid({"quote": ["Select the text in the article, or type it exactly."]})
    # A browser sends a textarea's line breaks as CR LF; the body has its own.
    for written in dict.fromkeys((quote, _lines(quote), _lines(quote).replace("\n", "\r\n"))):
        first = body.find(written)
        if first < 0:
            continue
        if body.find(written, first + 1) >= 0:
            raise Unprocessable(
                f"That text appears {body.count(written)} times in the article: select the "
                "one you mean (or give its start and end offsets)."
            )
        return first, first + len(written)
    raise Unprocessable("That text does not appear in the article; copy it exactly.")


def _lines(text: str) -> str:
    """`text` with every line break as LF (a form's CR LF, a body's CR LF or CR)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")
