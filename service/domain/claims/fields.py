"""A claim's fields, declared once: who writes each, what the audit log keeps, what is shown
and exported. Every list of claim fields is derived from FIELDS below.

`service.models.Claim` stores them (types, defaults, indexes); a test checks that the two
name the same columns, so a field added to one and not the other fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True)
class ClaimField:
    name: str
    # Who writes it: the extraction engine, from the span (again when a reviewer corrects
    # it); the desk's review; the row's own bookkeeping; or the database and the service for
    # lookups (derived from the text, never shown).
    written_by: Literal["engine", "review", "record", "lookup"]
    # Kept in the audit log's before and after: on every change, or when the span is
    # corrected (what the engine derived from the old span).
    audited: Literal["always", "span"] | None = None
    # Read with every claim (queue pages, claim detail); the rest is deferred.
    shown: bool = True
    # Its column in exports; None: not exported.
    export: str | None = None


FIELDS = (
    ClaimField("id", "record", export="claim_id"),
    ClaimField("article_id", "record", export="article_id"),
    ClaimField("revision", "record", export="revision"),
    ClaimField("start", "engine", audited="always", export="start"),
    ClaimField("end", "engine", audited="always", export="end"),
    ClaimField("text", "engine", audited="always", export="claim_text"),
    ClaimField("prefix", "engine", audited="span"),
    ClaimField("suffix", "engine", audited="span"),
    ClaimField("kind", "engine", audited="span", export="kind"),
    ClaimField("speaker", "engine", audited="span", export="speaker"),
    ClaimField("checkworthiness", "engine", audited="span", export="checkworthiness"),
    ClaimField("checkworthy", "engine", audited="span", export="checkworthy"),
    ClaimField("types", "engine", audited="span", export="types"),
    ClaimField("quantities", "engine", audited="span"),
    ClaimField("dates", "engine", audited="span"),
    ClaimField("entities", "engine", audited="span"),
    ClaimField("language", "engine", audited="span"),
    # 384 numbers the text determines: not audited, and read only by matching.
    ClaimField("embedding", "engine", shown=False),
    ClaimField("status", "review", audited="always", export="claim_status"),
    ClaimField("origin", "record"),
    ClaimField("assignee_id", "review", audited="always", export="assignee_id"),
    # Bumped on every change: the ETag.
    ClaimField("version", "record", audited="always"),
    ClaimField("orphaned", "review"),
    ClaimField("created_at", "record", export="claim_created_at"),
    ClaimField("updated_at", "record"),
    ClaimField("search", "lookup", shown=False),
    ClaimField("similarity_keys", "lookup", shown=False),
    ClaimField("embedding_keys", "lookup", shown=False),
)

# What the engine annotates a span with: stored as the engine returns them.
ENGINE_FIELDS = tuple(f.name for f in FIELDS if f.written_by == "engine")
# What every audited change to a claim records before and after.
AUDITED_FIELDS = tuple(f.name for f in FIELDS if f.audited == "always")
# What the engine derives from a span beyond its offsets and text: recomputed when a
# reviewer corrects the span, and audited then.
SPAN_FIELDS = tuple(f.name for f in FIELDS if f.audited == "span")
# What the queue lists, claim detail shows and an article's claims page carries.
SHOWN_FIELDS = tuple(f.name for f in FIELDS if f.shown)
# (field, export column) in export order.
EXPORTED_FIELDS = tuple((f.name, f.export) for f in FIELDS if f.export is not None)
