"""Storing what the extraction engine found, exactly once per article revision."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, func, insert, literal_column, or_, select, update
from sqlalchemy.orm import Session

from service.domain.audit import record
from service.domain.outbox import complete
from service.domain.similar_claims import similarity_keys_of
from service.domain.webhooks import article_event, emit
from service.models import Article, Claim, Verdict
from workers.extraction.anchoring import anchor
from workers.extraction.engine import CONTEXT_CHARS as CONTEXT

# What full-text search on articles matches: the title and the head of the body.
SEARCH_VECTOR = func.to_tsvector(
    literal_column("'english'::regconfig"),
    func.coalesce(Article.title, "") + " " + func.left(Article.body, 200_000),
)

MAX_FAILURE_REASON = 2_000
CLAIM_FIELDS = (
    "start",
    "end",
    "text",
    "prefix",
    "suffix",
    "kind",
    "checkworthiness",
    "checkworthy",
    "types",
    "speaker",
    "quantities",
    "dates",
    "entities",
    "language",
    "embedding",
)


def start_extraction(
    session: Session, article_id: int, revision: int
) -> tuple[str, str | None] | None:
    """Mark the revision `processing`; its (body, declared language), or None if nothing to do.

    Nothing to do: the article is gone, was revised since, or this revision is already
    processed or failed (a re-delivered or repeated task).
    """
    row = session.execute(
        update(Article)
        .where(
            Article.id == article_id,
            Article.revision == revision,
            Article.status.in_(("queued", "processing")),
        )
        .values(status="processing", updated_at=func.now())
        .returning(Article.body, Article.language)
    ).first()
    if row is None:
        return None
    # The engine reads a declared "en-GB" as "en", and detects when nothing is declared.
    return row.body, row.language


def store_claims(
    session: Session,
    article_id: int,
    revision: int,
    claims: Sequence[Mapping[str, Any]],
    *,
    outbox_id: int | None = None,
) -> bool:
    """Replace the engine's claims of this revision and mark it processed; False if stale.

    The article row is locked first, so two deliveries of the same task serialise here and
    the second finds the revision processed: exactly one set of claims survives.
    """
    status = session.scalar(
        select(Article.status)
        .where(Article.id == article_id, Article.revision == revision)
        .with_for_update()
    )
    complete(session, outbox_id)
    if status not in ("queued", "processing"):
        return False
    session.execute(
        delete(Claim).where(
            Claim.article_id == article_id,
            Claim.revision == revision,
            Claim.origin == "engine",
        )
    )
    # Spans this revision already holds: claims a reviewer added before the engine ran, and
    # reviewer work carried over from the last revision. Reviewer work wins over the engine.
    if revision > 1:
        held = carry_over(session, article_id, revision)
    else:
        held = _spans_at(session, article_id, revision)
    claims = [c for c in claims if (c["start"], c["end"]) not in held]
    if claims:
        keys = similarity_keys_of((c["text"], c.get("kind", "sentence")) for c in claims)
        session.execute(
            # NULLs rendered as such, so every row has the same columns and the claims go in
            # one INSERT: left out (the default), a None splits the rows into a statement per
            # run of rows with the same columns, some twenty per article.
            insert(Claim).execution_options(render_nulls=True),
            [
                {"article_id": article_id, "revision": revision, "origin": "engine"}
                | {field: claim[field] for field in CLAIM_FIELDS if field in claim}
                | {"similarity_keys": claim_keys}
                for claim, claim_keys in zip(claims, keys, strict=True)
            ],
        )
    session.execute(
        update(Article)
        .where(Article.id == article_id)
        .values(
            status="processed",
            failure_reason=None,
            processed_at=func.now(),
            updated_at=func.now(),
            search=SEARCH_VECTOR,
        )
    )
    record(
        session, "system", "article.processed", "article", article_id,
        before={"revision": revision, "status": status},
        after={
            "revision": revision, "status": "processed",
            "engine_claims": len(claims), "reviewer_spans_kept": len(held),
        },
    )  # fmt: skip
    emit(session, "article.processed", article_event(session, article_id))
    return True


def carry_over(session: Session, article_id: int, revision: int) -> set[tuple[int, int]]:
    """Move reviewer work from earlier revisions onto `revision`; returns the spans that
    revision then holds (claims a reviewer added there already included).

    A claim carries reviewer work when it was taken, reviewed, rated, or added or corrected
    by a reviewer.
    If its exact text still anchors (by TextQuoteSelector: text, then prefix and suffix) on
    a span the revision does not hold yet, it moves to the new revision with its id, status
    and verdicts; otherwise it is flagged orphaned and stays where it was, verdicts included.
    """
    body = session.scalar(select(Article.body).where(Article.id == article_id)) or ""
    has_verdict = select(Verdict.id).where(Verdict.claim_id == Claim.id).exists()
    worked = session.scalars(
        select(Claim)
        .where(
            Claim.article_id == article_id,
            Claim.revision < revision,
            Claim.orphaned.is_(False),
            # A span a reviewer chose (added, or corrected: kind "span") is reviewer work too.
            or_(
                Claim.status != "new",
                Claim.origin == "reviewer",
                Claim.kind == "span",
                has_verdict,
            ),
        )
        .order_by(Claim.id)
        .with_for_update()
    ).all()
    held = _spans_at(session, article_id, revision)
    for claim in worked:
        start = anchor(body, claim.text, claim.prefix, claim.suffix, claim.start)
        end = None if start is None else start + len(claim.text)
        before: dict[str, Any] = {
            "revision": claim.revision,
            "start": claim.start,
            "end": claim.end,
        }
        after: dict[str, Any]
        if start is None or end is None or (start, end) in held:
            claim.orphaned = True
            action, after = "claim.orphaned", {"orphaned": True}
        else:
            shift = start - claim.start
            claim.revision, claim.start, claim.end = revision, start, end
            # Its quantities, dates and entities are offsets into the body too: they move with it.
            claim.quantities = _shifted(claim.quantities, shift)
            claim.dates = _shifted(claim.dates, shift)
            claim.entities = _shifted(claim.entities, shift)
            claim.prefix = body[max(0, start - CONTEXT) : start]
            claim.suffix = body[end : end + CONTEXT]
            held.add((start, end))
            action, after = "claim.carried_over", {"revision": revision, "start": start, "end": end}
        claim.version += 1
        claim.updated_at = func.now()
        session.flush()
        record(session, "system", action, "claim", claim.id, before=before, after=after)
    return held


def _spans_at(session: Session, article_id: int, revision: int) -> set[tuple[int, int]]:
    """(start, end) of every claim the revision holds."""
    rows = session.execute(
        select(Claim.start, Claim.end).where(
            Claim.article_id == article_id, Claim.revision == revision
        )
    )
    return {(start, end) for start, end in rows}


def _shifted(spans: list[Any], shift: int) -> list[Any]:
    if not shift or not spans:
        return spans
    return [span | {"start": span["start"] + shift, "end": span["end"] + shift} for span in spans]


def settle_extraction(
    session: Session, payload: Mapping[str, Any], outbox_id: int, reason: str
) -> None:
    """The outbox gave up on an extraction message: the revision fails with `reason`."""
    fail_extraction(
        session, payload["article_id"], payload["revision"], reason, outbox_id=outbox_id
    )


def fail_extraction(
    session: Session,
    article_id: int,
    revision: int,
    reason: str,
    *,
    outbox_id: int | None = None,
) -> None:
    """Mark the revision failed with a reason a newsroom engineer can act on."""
    complete(session, outbox_id)
    reason = reason[:MAX_FAILURE_REASON]
    failed = session.execute(
        update(Article)
        .where(
            Article.id == article_id,
            Article.revision == revision,
            Article.status.in_(("queued", "processing")),
        )
        .values(status="failed", failure_reason=reason, updated_at=func.now())
        .returning(Article.id)
    ).first()
    if failed is not None:
        record(
            session, "system", "article.failed", "article", article_id,
            after={"revision": revision, "status": "failed", "failure_reason": reason},
        )  # fmt: skip
        emit(session, "article.failed", article_event(session, article_id))
