"""Exports: claims and their verdicts as flat rows, read in keyset pages.

The rows are those the review queue would list for the same filter (current revisions
only), in claim id order, one row per (claim, verdict); a claim with no verdict (or none
matching `verdicts`) gets one row whose verdict columns are empty. Pages are fetched one at a
time inside a single REPEATABLE READ transaction, so memory holds one page however large the
export, and every page sees the same snapshot of the database.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.domain.claims.fields import EXPORTED_FIELDS
from service.domain.claims.queue import QueueFilter, current_conditions, matches_text
from service.domain.verdicts import evidence_of
from service.models import Article, Claim, Verdict
from service.ratings import Rating

# Claims fetched per query. A page of rows is at most this many claims with their verdicts.
PAGE_CLAIMS = 500
VERDICT_SELECTIONS = ("all", "published")

# The claim's exported fields (service.domain.claims.fields), its article's columns after
# its article_id.
_CLAIM = [getattr(Claim, name).label(column) for name, column in EXPORTED_FIELDS]
_AFTER_ARTICLE_ID = [column for _, column in EXPORTED_FIELDS].index("article_id") + 1
_CLAIM_COLUMNS = (
    *_CLAIM[:_AFTER_ARTICLE_ID],
    Article.title.label("article_title"),
    Article.url.label("article_url"),
    Article.source.label("source"),
    *_CLAIM[_AFTER_ARTICLE_ID:],
)
VERDICT_COLUMNS = (
    "verdict_id", "verdict_status", "rating", "rating_label", "rating_value", "summary",
    "rationale", "confidence", "verdict_author", "published_at", "published_by",
    "supersedes_id", "correction_reason", "evidence_count", "evidence",
)  # fmt: skip
COLUMNS = (*(column.key for column in _CLAIM_COLUMNS), *VERDICT_COLUMNS)


def _conditions(where: QueueFilter) -> list[ColumnElement[Any]]:
    conditions = current_conditions(where)
    if where.query:
        conditions.append(matches_text(where.query))
    return conditions


def export_pages(
    session: Session,
    where: QueueFilter,
    scale: Sequence[Rating],
    *,
    verdicts: str = "all",
    page_claims: int = PAGE_CLAIMS,
) -> Iterator[list[dict[str, Any]]]:
    """Pages of export rows (dicts keyed by COLUMNS), one query round per page of claims.

    `verdicts`: "all" (proposed, published and superseded, each with its status) or
    "published" (only the claim's current published verdict). The caller owns the session
    and must not use it for anything else until the iterator is exhausted or closed.
    """
    if verdicts not in VERDICT_SELECTIONS:
        raise ValueError(f"verdicts must be one of {VERDICT_SELECTIONS}")
    # One snapshot for every page, read-only: an export never writes.
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    session.execute(select(func.set_config("transaction_read_only", "on", True)))
    ratings = {rating.key: rating for rating in scale}
    conditions = _conditions(where)
    last_id = 0
    while True:
        claims = session.execute(
            select(*_CLAIM_COLUMNS)
            .join(Article, Article.id == Claim.article_id)
            .where(*conditions, Claim.id > last_id)
            .order_by(Claim.id)
            .limit(page_claims)
        ).all()
        if not claims:
            return
        last_id = claims[-1].claim_id
        by_claim = _verdicts_of(session, [c.claim_id for c in claims], verdicts)
        evidence = evidence_of(session, [v.id for vs in by_claim.values() for v in vs])
        page: list[dict[str, Any]] = []
        for claim in claims:
            base = claim._asdict()
            found = by_claim.get(claim.claim_id) or [None]
            for verdict in found:
                page.append({**base, **_verdict_columns(verdict, ratings, evidence)})
        yield page
        if len(claims) < page_claims:
            return


def _verdicts_of(session: Session, claim_ids: list[int], selection: str) -> dict[int, list[Any]]:
    query = select(
        Verdict.id,
        Verdict.claim_id,
        Verdict.status,
        Verdict.rating,
        Verdict.summary,
        Verdict.rationale,
        Verdict.confidence,
        Verdict.author,
        Verdict.published_at,
        Verdict.published_by,
        Verdict.supersedes_id,
        Verdict.correction_reason,
    ).where(Verdict.claim_id.in_(claim_ids))
    if selection == "published":
        query = query.where(Verdict.status == "published")
    found: dict[int, list[Any]] = {}
    for row in session.execute(query.order_by(Verdict.claim_id, Verdict.id)):
        found.setdefault(row.claim_id, []).append(row)
    return found


def _verdict_columns(
    verdict: Any, ratings: dict[str, Rating], evidence: dict[int, list[Any]]
) -> dict[str, Any]:
    if verdict is None:
        return dict.fromkeys(VERDICT_COLUMNS)
    rating = ratings.get(verdict.rating)
    items = evidence[verdict.id]
    return {
        "verdict_id": verdict.id,
        "verdict_status": verdict.status,
        "rating": verdict.rating,
        "rating_label": rating.label if rating else None,
        "rating_value": rating.value if rating else None,
        "summary": verdict.summary,
        "rationale": verdict.rationale,
        "confidence": verdict.confidence,
        "verdict_author": verdict.author,
        "published_at": verdict.published_at,
        "published_by": verdict.published_by,
        "supersedes_id": verdict.supersedes_id,
        "correction_reason": verdict.correction_reason,
        "evidence_count": len(items),
        # One line per item, "stance url": a spreadsheet shows them stacked in one cell.
        "evidence": "\n".join(f"{item.stance} {item.url}" for item in items),
    }
