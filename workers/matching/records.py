"""Fact-checks as records: schema.org ClaimReview JSON-LD, JSON Lines and CSV/TSV in, one type out.

`read_factchecks(path)` reads a file in any of these formats and returns an `ImportReport`:
the records, the bad ones (each with where it was, "line 7" or "index 3", and why), and how
many duplicates collapsed. A bad record never stops the rest from being read.

Formats, told by the file's extension (`.json`/`.jsonld`, `.jsonl`/`.ndjson`, `.csv`, `.tsv`)
or else by its first character:

- JSON-LD: one ClaimReview object, an array of them, an object with `@graph`, or a schema.org
  DataFeed (`dataFeedElement` items, each a ClaimReview or a DataFeedItem whose `item` is one
  or a list).
- JSON Lines: one object a line, a ClaimReview or a flat record (below). Blank lines are skipped.
- CSV (RFC 4180 quoting) and TSV (tab-separated, no quoting, as the IANA type defines it): a
  header row naming the columns of a flat record.

A flat record names its fields as this module does (`claim`, `url`, `rating`, `publisher`,
`date`, `language`, `licence`, `author`, `headline`, `claimant`, `claim_date`, `id`) or by a
common alias (`claimReviewed`, `truth_label`, `review_date`, `license`, `sdLicense`, `title`,
`speaker`, `claim_id`, `vclaim_id`, ...: see `FLAT_ALIASES`).

Identity: a record is keyed by its review URL; a collection without URLs (research sets such
as LIAR or CheckThat!) may give an `id` instead, kept as the key `id:<value>`. A record with
neither is bad. Two records with one key collapse into one, the later replacing the earlier
(as a re-import replaces what was stored), so importing a file twice changes nothing.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from workers.extraction.dates import find_dates

__all__ = [
    "FLAT_ALIASES",
    "FORMATS",
    "FactCheck",
    "ImportReport",
    "RecordError",
    "parse_factchecks",
    "read_factchecks",
]

FORMATS = ("jsonld", "jsonl", "csv", "tsv")
_EXTENSIONS = {
    ".json": "jsonld",
    ".jsonld": "jsonld",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".tsv": "tsv",
}
# Column or key -> field of FactCheck. Matched case-insensitively, "-" and " " read as "_".
FLAT_ALIASES: dict[str, str] = {
    "claim": "claim",
    "claimreviewed": "claim",
    "claim_reviewed": "claim",
    "claim_text": "claim",
    "vclaim": "claim",
    "url": "url",
    "review_url": "url",
    "rating": "rating",
    "truth_label": "rating",
    "label": "rating",
    "verdict": "rating",
    "publisher": "publisher",
    "date": "date",
    "review_date": "date",
    "date_published": "date",
    "datepublished": "date",
    "language": "language",
    "inlanguage": "language",
    "in_language": "language",
    "lang": "language",
    "licence": "licence",
    "license": "licence",
    "sdlicense": "licence",
    "sd_license": "licence",
    "author": "author",
    "headline": "headline",
    "title": "headline",
    "claimant": "claimant",
    "speaker": "claimant",
    "claim_date": "claim_date",
    "id": "id",
    "claim_id": "id",
    "vclaim_id": "id",
    "identifier": "id",
}
_ISO_DATE = re.compile(r"\d{4}(?:-\d{2}(?:-\d{2})?)?")


@dataclass(frozen=True)
class FactCheck:
    """One reviewed claim: what was claimed, its rating, by whom, where, under what terms."""

    key: str
    claim: str
    url: str | None = None
    rating: str | None = None
    publisher: str | None = None
    date: str | None = None
    language: str | None = None
    licence: str | None = None
    author: str | None = None
    headline: str | None = None
    claimant: str | None = None
    claim_date: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """The record as JSON-ready fields."""
        return {
            "key": self.key,
            "url": self.url,
            "claim": self.claim,
            "rating": self.rating,
            "publisher": self.publisher,
            "date": self.date,
            "language": self.language,
            "licence": self.licence,
            "author": self.author,
            "headline": self.headline,
            "claimant": self.claimant,
            "claim_date": self.claim_date,
        }


@dataclass(frozen=True)
class RecordError:
    """A record that was skipped: where it was ("line 7", "index 3") and why."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


@dataclass
class ImportReport:
    """What a file gave: the records (one per key), the bad ones, the duplicates collapsed."""

    records: list[FactCheck] = field(default_factory=list)
    errors: list[RecordError] = field(default_factory=list)
    duplicates: int = 0

    def summary(self) -> str:
        """One line for a person: how many read, skipped and collapsed."""
        return (
            f"{len(self.records)} fact-checks, {len(self.errors)} bad records skipped, "
            f"{self.duplicates} duplicates collapsed"
        )


class _BadRecord(ValueError):
    """A record that cannot become a FactCheck; its message says why."""


def read_factchecks(path: str | Path, file_format: str | None = None) -> ImportReport:
    """Fact-checks of the file at `path`, in `file_format` or the one its name or content tells.

    Raises ValueError when the file as a whole cannot be read (not UTF-8, a JSON document that
    does not parse, a CSV without a claim column); record-level problems are in the report.
    """
    path = Path(path)
    text = path.read_bytes().decode("utf-8-sig")
    return parse_factchecks(text, file_format or _EXTENSIONS.get(path.suffix.lower()))


def parse_factchecks(text: str, file_format: str | None = None) -> ImportReport:
    """Fact-checks of `text` in `file_format` (one of FORMATS), guessed from the text when None."""
    file_format = file_format or _guess_format(text)
    if file_format not in FORMATS:
        raise ValueError(f"unknown fact-check format {file_format!r}: one of {', '.join(FORMATS)}")
    if file_format == "jsonld":
        try:
            document = json.loads(text)
        except json.JSONDecodeError as error:
            raise ValueError(f"not a JSON document: {error}") from None
        located = _jsonld_items(document)
    elif file_format == "jsonl":
        located = _jsonl_items(text)
    else:
        located = _table_items(text, delimiter="\t" if file_format == "tsv" else ",")
    return _collect(located)


def _guess_format(text: str) -> str:
    stripped = text.lstrip()
    if stripped.startswith("["):
        return "jsonld"
    if stripped.startswith("{"):
        try:
            json.loads(text)
        except json.JSONDecodeError:
            return "jsonl"
        return "jsonld"
    first_line = stripped.split("\n", 1)[0]
    return "tsv" if "\t" in first_line else "csv"


def _collect(located: Iterable[tuple[str, Any]]) -> ImportReport:
    report = ImportReport()
    by_key: dict[str, FactCheck] = {}
    for location, item in located:
        try:
            record = _record(item)
        except _BadRecord as error:
            report.errors.append(RecordError(location, str(error)))
            continue
        if record.key in by_key:
            report.duplicates += 1
            # The later record replaces the earlier but takes its place in the order.
        by_key[record.key] = record
    report.records = list(by_key.values())
    return report


def _jsonld_items(document: Any) -> Iterator[tuple[str, Any]]:
    """(location, item) of every ClaimReview in a JSON-LD document."""
    if isinstance(document, list):
        for index, item in enumerate(document):
            yield from _jsonld_nested(f"index {index}", item)
    else:
        yield from _jsonld_nested("document", document)


def _jsonld_nested(location: str, item: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(item, Mapping):
        if "@graph" in item and "claimReviewed" not in item:
            yield from _elements(f"{location} @graph", item["@graph"])
            return
        if _has_type(item, "DataFeed") or (
            "dataFeedElement" in item and "claimReviewed" not in item
        ):
            yield from _elements(f"{location} dataFeedElement", item.get("dataFeedElement"))
            return
        if _has_type(item, "DataFeedItem") and "item" in item:
            yield from _elements(f"{location} item", item["item"])
            return
    yield location, item


def _elements(location: str, items: Any) -> Iterator[tuple[str, Any]]:
    if isinstance(items, list):
        for index, item in enumerate(items):
            yield from _jsonld_nested(f"{location} index {index}", item)
    else:
        yield from _jsonld_nested(location, items)


def _jsonl_items(text: str) -> Iterator[tuple[str, Any]]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield f"line {number}", json.loads(line)
        except json.JSONDecodeError as error:
            yield f"line {number}", _BadRecord(f"not JSON: {error.msg}")


def _table_items(text: str, delimiter: str) -> Iterator[tuple[str, Any]]:
    if delimiter == "\t":
        reader = csv.reader(io.StringIO(text, newline=""), delimiter="\t", quoting=csv.QUOTE_NONE)
    else:
        reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        return
    fields = [FLAT_ALIASES.get(_alias_key(name)) for name in header]
    if "claim" not in fields:
        raise ValueError(f"no claim column in the header: {', '.join(header)}")
    start = reader.line_num + 1
    for row in reader:
        location = f"line {start}"
        start = reader.line_num + 1
        if not any(cell.strip() for cell in row):
            continue
        if len(row) != len(header):
            yield location, _BadRecord(f"{len(row)} columns where the header has {len(header)}")
            continue
        flat: dict[str, str] = {}
        for name, cell in zip(fields, row, strict=True):
            if name is not None and cell.strip() and name not in flat:
                flat[name] = cell
        yield location, flat


def _alias_key(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip()).lower()


def _has_type(item: Mapping[str, Any], name: str) -> bool:
    kind = item.get("@type")
    kinds = kind if isinstance(kind, list) else [kind]
    return any(
        isinstance(k, str) and k.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == name for k in kinds
    )


def _record(item: Any) -> FactCheck:
    if isinstance(item, _BadRecord):
        raise item
    if not isinstance(item, Mapping):
        raise _BadRecord(f"expected an object, got {type(item).__name__}")
    if _has_type(item, "ClaimReview") or "claimReviewed" in item or "reviewRating" in item:
        return _from_claimreview(item)
    if "@type" in item:
        raise _BadRecord(f"not a ClaimReview: @type {item['@type']!r}")
    flat: dict[str, Any] = {}
    for name, value in item.items():
        target = FLAT_ALIASES.get(_alias_key(str(name)))
        if target is not None and target not in flat and value not in (None, ""):
            flat[target] = value
    return _from_flat(flat)


def _from_claimreview(item: Mapping[str, Any]) -> FactCheck:
    reviewed = item.get("itemReviewed")
    reviewed = reviewed if isinstance(reviewed, Mapping) else {}
    claim = item.get("claimReviewed") or reviewed.get("name") or reviewed.get("text")
    author = _name(item.get("author"))
    publisher = _name(item.get("publisher")) or _name(item.get("sdPublisher")) or author
    return _build(
        claim=claim,
        url=item.get("url") or item.get("@id"),
        identifier=item.get("identifier"),
        rating=_rating(item.get("reviewRating")),
        publisher=publisher,
        date=_date(item.get("datePublished"), "datePublished"),
        language=_language(item.get("inLanguage")),
        licence=_text(item.get("sdLicense")) or _text(item.get("license")),
        author=author,
        headline=_text(item.get("headline")) or _text(item.get("name")),
        claimant=_name(reviewed.get("author")),
        claim_date=_date(reviewed.get("datePublished"), "itemReviewed.datePublished"),
    )


def _from_flat(flat: Mapping[str, Any]) -> FactCheck:
    return _build(
        claim=flat.get("claim"),
        url=flat.get("url"),
        identifier=flat.get("id"),
        rating=_rating(flat.get("rating")),
        publisher=_name(flat.get("publisher")),
        date=_date(flat.get("date"), "date"),
        language=_language(flat.get("language")),
        licence=_text(flat.get("licence")),
        author=_name(flat.get("author")),
        headline=_text(flat.get("headline")),
        claimant=_name(flat.get("claimant")),
        claim_date=_date(flat.get("claim_date"), "claim_date"),
    )


def _build(*, claim: Any, url: Any, identifier: Any, **fields: str | None) -> FactCheck:
    claim_text = _text(claim)
    if not claim_text:
        raise _BadRecord("no claim text (claimReviewed)")
    review_url = _text(url)
    if review_url:
        parts = urlsplit(review_url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise _BadRecord(f"url is not an http or https URL: {review_url!r}")
        key = review_url
    else:
        ident = _text(identifier)
        if not ident:
            raise _BadRecord("no review URL (url) and no id to key the record by")
        key = f"id:{ident}"
    return FactCheck(key=key, claim=claim_text, url=review_url, **fields)


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, Mapping):
        value = value.get("@id") or value.get("url") or value.get("name")
    if isinstance(value, list):
        value = value[0] if value else None
        return _text(value)
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise _BadRecord(f"expected text, got {type(value).__name__}")
    text = " ".join(str(value).split())
    return text or None


def _name(value: Any) -> str | None:
    """The name of a schema.org Person/Organization, a list of them (the first), or plain text."""
    if isinstance(value, list):
        return _name(value[0]) if value else None
    if isinstance(value, Mapping):
        return _text(value.get("name")) or _text(value.get("alternateName"))
    return _text(value)


def _rating(value: Any) -> str | None:
    """A schema.org Rating's alternateName, else ratingValue/bestRating; plain text as is."""
    if isinstance(value, Mapping):
        label = _text(value.get("alternateName")) or _text(value.get("name"))
        if label:
            return label
        rating_value = _text(value.get("ratingValue"))
        best = _text(value.get("bestRating"))
        if rating_value and best:
            return f"{rating_value}/{best}"
        return rating_value
    return _text(value)


def _language(value: Any) -> str | None:
    if isinstance(value, Mapping):
        value = value.get("alternateName") or value.get("name")
    text = _text(value)
    return text.lower() if text else None


def _date(value: Any, name: str) -> str | None:
    """An ISO 8601 date (or year-month, or year): from an ISO timestamp, else from prose."""
    text = _text(value)
    if not text:
        return None
    iso = _ISO_DATE.match(text)
    if iso and (len(text) == iso.end() or not text[iso.end()].isdigit()):
        return iso.group()
    for found in find_dates(text):
        found_value = found["value"]
        if found_value and _ISO_DATE.fullmatch(found_value):
            return str(found_value)
    raise _BadRecord(f"{name} is not a date: {text!r}")
