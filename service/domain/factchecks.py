"""Fact-checks: imported reviews and the desk's own published verdicts, kept for matching.

An import stores each record once, known by its key (the review URL, or `id:<value>`): the
same record again changes nothing, a changed one is updated in place, and only new or
changed texts are encoded. Every record keeps its publisher and licence, shown wherever the
fact-check appears. A published verdict of the desk becomes a fact-check too (`origin`
"desk", keyed by its claim), so later claims match the desk's own work; a correction
updates it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from sqlalchemy import func, literal_column, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.orm import Session

from service.domain import load
from service.domain.audit import record
from service.domain.outbox import enqueue
from service.models import Claim, FactCheck, Verdict
from service.ratings import Rating, scale_key
from service.vocabulary import REMATCH_TASK
from workers.extraction.encoder import SentenceEncoder
from workers.matching import records as fact_records
from workers.matching.lsh import embedding_keys

__all__ = [
    "IMPORT_BATCH",
    "STORED_FIELDS",
    "DeskPublisher",
    "ImportResult",
    "desk_key",
    "factcheck_record",
    "get_factcheck",
    "import_factchecks",
    "store_desk_factcheck",
]

# What a record keeps, beside its key: the fields of workers.matching.records' FactCheck.
STORED_FIELDS = tuple(f.name for f in fields(fact_records.FactCheck) if f.name != "key")
# Records encoded and written per transaction by the CLI import.
IMPORT_BATCH = 256
# In a RETURNING of INSERT ... ON CONFLICT DO UPDATE: true for a row created, false for one
# updated (an updated row's xmax is the updating transaction).
CREATED: Any = literal_column("(xmax = 0)").label("created")


@dataclass
class ImportResult:
    """What an import did: records created, updated and left as they were, and their ids."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    ids: list[int] = field(default_factory=list)

    def add(self, other: ImportResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.ids.extend(other.ids)

    def summary(self) -> str:
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def import_factchecks(
    session: Session,
    records: Sequence[fact_records.FactCheck],
    encoder: SentenceEncoder,
    *,
    actor: str,
    user_id: int | None,
    scale: Sequence[Rating],
) -> ImportResult:
    """Store `records` (one per key), encoding only what is new or changed."""
    result = ImportResult()
    if not records:
        return result
    by_key = {r.key: r for r in records}
    stored = {
        row.key: row
        for row in session.execute(
            select(FactCheck.id, FactCheck.key, *(getattr(FactCheck, f) for f in STORED_FIELDS))
            .where(FactCheck.key.in_(list(by_key)))
            .with_for_update()
        )
    }
    changed = []
    for key, fact in by_key.items():
        row = stored.get(key)
        if row is not None and all(getattr(row, f) == getattr(fact, f) for f in STORED_FIELDS):
            result.unchanged += 1
            result.ids.append(row.id)
        else:
            changed.append(fact)
    if not changed:
        return result
    claims = encoder.encode([fact.claim for fact in changed])
    headlines = _headline_vectors(changed, claims, encoder)
    rows = [
        {"key": fact.key, "origin": "imported", "imported_by": user_id}
        | {f: getattr(fact, f) for f in STORED_FIELDS}
        | {
            "rating_key": scale_key(fact.rating, scale),
            "embedding": claim,
            "headline_embedding": headline if fact.headline else None,
            "keys": _keys(claim, headline if fact.headline else None),
        }
        for fact, claim, headline in zip(changed, claims, headlines, strict=True)
    ]
    written = _upsert(session, rows)
    # Claims stored before these fact-checks are matched against them too.
    enqueue(session, REMATCH_TASK, {"factcheck_ids": [i for i, _ in written.values()]})
    for factcheck_id, created in written.values():
        result.ids.append(factcheck_id)
        if created:
            result.created += 1
        else:
            result.updated += 1
    record(
        session, actor, "factchecks.imported", "factcheck", None,
        after={"created": result.created, "updated": result.updated,
               "unchanged": result.unchanged},
    )  # fmt: skip
    return result


def _headline_vectors(
    facts: Sequence[fact_records.FactCheck], claims: np.ndarray, encoder: SentenceEncoder
) -> np.ndarray:
    """Each record's headline vector; a record without a headline reuses its claim's."""
    headlines = claims.copy()
    headlined = [row for row, fact in enumerate(facts) if fact.headline]
    if headlined:
        headlines[headlined] = encoder.encode([facts[row].headline or "" for row in headlined])
    return headlines


def _keys(claim: Sequence[float], headline: Sequence[float] | None) -> list[int]:
    vectors = [claim] if headline is None else [claim, headline]
    keys: list[int] = sorted({int(k) for k in embedding_keys(np.asarray(vectors)).ravel()})
    return keys


def _upsert(session: Session, rows: Sequence[dict[str, Any]]) -> dict[str, tuple[int, bool]]:
    """Insert or update rows by key: {key: (id, created)}."""
    insert = pg_insert(FactCheck).values(list(rows))
    columns = set(rows[0]) - {"key"}
    upsert = insert.on_conflict_do_update(
        index_elements=[FactCheck.key],
        set_={c: insert.excluded[c] for c in columns} | {"updated_at": func.now()},
    ).returning(FactCheck.id, FactCheck.key, CREATED)
    return {row.key: (row.id, row.created) for row in session.execute(upsert)}


def desk_key(claim_id: int) -> str:
    """The key of the desk's fact-check of a claim: one per claim, whatever its corrections."""
    return f"desk:claim:{claim_id}"


@dataclass(frozen=True)
class DeskPublisher:
    """How the desk's own fact-checks are described: their URL (with `{id}` for the verdict
    id, as FACTCHECK_CLAIMREVIEW_URL), publisher, licence and the rating scale's labels."""

    url_template: str | None
    publisher: str
    licence: str | None
    labels: Mapping[str, str]


def store_desk_factcheck(
    session: Session, verdict: Verdict, claim: Claim, desk: DeskPublisher
) -> FactCheck | None:
    """Make the desk's published `verdict` of `claim` a fact-check (or update it).

    The claim's stored embedding is reused: nothing is encoded. None when the claim has none
    (stored before the engine embedded claims): it cannot be matched by meaning.
    """
    embedding = claim.embedding
    if embedding is None:
        return None
    key = desk_key(claim.id)
    row: dict[str, Any] = {
        "key": key,
        "origin": "desk",
        "url": desk.url_template.format(id=verdict.id) if desk.url_template else None,
        "claim": claim.text,
        "headline": None,
        "rating": desk.labels.get(verdict.rating, verdict.rating),
        "rating_key": verdict.rating,
        "publisher": desk.publisher,
        "author": verdict.author,
        "claimant": claim.speaker,
        "licence": desk.licence,
        "date": verdict.published_at.date().isoformat() if verdict.published_at else None,
        "claim_date": None,
        "language": claim.language,
        "verdict_id": verdict.id,
        "claim_id": claim.id,
        "imported_by": None,
        "embedding": embedding,
        "headline_embedding": None,
        "keys": _keys(embedding, None),
    }
    factcheck_id, _ = _upsert(session, [row])[key]
    return session.get(FactCheck, factcheck_id)


def get_factcheck(session: Session, factcheck_id: int) -> FactCheck:
    """The fact-check with this id, or NotFound."""
    return load(session, FactCheck, factcheck_id)


def factcheck_record(row: Any) -> fact_records.FactCheck:
    """The matcher's record of a stored fact-check (a FactCheck row or a result row)."""
    return fact_records.FactCheck(key=row.key, **{f: getattr(row, f) for f in STORED_FIELDS})
