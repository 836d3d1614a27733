"""What the reviewer desk's pages read beyond the API's own reads: the best match of each
queued claim, names of assignees, an article's revisions, the editors' lists (reviewed
claims waiting for publication, disagreements first; published verdicts and corrections).

Each read is bounded: a page's worth of rows, in one query.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, func, or_, select, tuple_
from sqlalchemy.dialects.postgresql import distinct_on
from sqlalchemy.orm import Session

from service.models import (
    Article,
    ArticleRevision,
    AuditEvent,
    Claim,
    ClaimMatch,
    FactCheck,
    User,
    Verdict,
)
from service.vocabulary import REVIEWER_ROLES

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Who may be offered in an editor's "assign to" list: at most this many active reviewers.
MAX_ASSIGNABLE = 500


@dataclass(frozen=True)
class MatchSummary:
    """A queued claim's best fact-check (confirmed first, then most confident) and how many
    it has."""

    rating: str | None
    publisher: str | None
    confidence: float
    count: int


def _best_matches() -> Any:
    """Each listed claim's best match and its match count (one statement, built once)."""
    ranked = (
        select(
            ClaimMatch.claim_id,
            FactCheck.rating,
            FactCheck.publisher,
            ClaimMatch.confidence,
            func.count().over(partition_by=ClaimMatch.claim_id).label("matches"),
            func.row_number()
            .over(
                partition_by=ClaimMatch.claim_id,
                order_by=(
                    (ClaimMatch.review == "confirmed").desc().nulls_last(),
                    ClaimMatch.confidence.desc(),
                    ClaimMatch.factcheck_id,
                ),
            )
            .label("rank"),
        )
        .join(FactCheck, FactCheck.id == ClaimMatch.factcheck_id)
        .where(
            ClaimMatch.claim_id.in_(bindparam("claim_ids", expanding=True)),
            ClaimMatch.review.is_distinct_from("rejected"),
            ClaimMatch.decision.in_(("match", "suggest")),
        )
        .subquery()
    )
    return select(ranked).where(ranked.c.rank == 1)


# Built once: building the windowed query took two thirds of the queue page's matches read.
_BEST_MATCHES = _best_matches()


def match_summaries(session: Session, claim_ids: Sequence[int]) -> dict[int, MatchSummary]:
    """The best match of each claim that has any (rejected matches never count)."""
    if not claim_ids:
        return {}
    rows = session.connection().execute(_BEST_MATCHES, {"claim_ids": list(claim_ids)})
    return {
        row.claim_id: MatchSummary(row.rating, row.publisher, row.confidence, row.matches)
        for row in rows
    }


def marks(session: Session, article_id: int, revision: int, limit: int) -> list[Any]:
    """The spans of a revision's claims (id, start, end, checkworthy) in text order: what
    marking them in the article needs, and nothing more."""
    return list(
        session.connection().execute(
            _MARKS, {"article_id": article_id, "revision": revision, "limit": limit}
        )
    )


_MARKS = (
    select(Claim.id, Claim.start, Claim.end, Claim.checkworthy)
    .where(Claim.article_id == bindparam("article_id"), Claim.revision == bindparam("revision"))
    .order_by(Claim.start, Claim.id)
    .limit(bindparam("limit"))
)


def user_names(session: Session, user_ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {user_id for user_id in user_ids if user_id is not None}
    if not wanted:
        return {}
    rows = session.execute(select(User.id, User.name).where(User.id.in_(wanted)))
    return {row.id: row.name for row in rows}


def assignable_users(session: Session) -> list[tuple[int, str]]:
    """Active users a claim may be assigned to, by name."""
    rows = session.execute(
        select(User.id, User.name)
        .where(User.role.in_(REVIEWER_ROLES), User.disabled_at.is_(None))
        .order_by(User.name)
        .limit(MAX_ASSIGNABLE)
    )
    return [(row.id, row.name) for row in rows]


def revision_body(session: Session, article: Article, revision: int) -> str:
    """The body the article had at `revision` (its current one, if that was not kept)."""
    body = session.scalar(
        select(ArticleRevision.body).where(
            ArticleRevision.article_id == article.id, ArticleRevision.revision == revision
        )
    )
    return body if body is not None else article.body


def latest_events(session: Session, claim_id: int, limit: int) -> list[AuditEvent]:
    """The claim's latest `limit` audit events, oldest first (lifecycle.history pages
    through all of them from the first)."""
    rows = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.entity_type == "claim", AuditEvent.entity_id == claim_id)
        .order_by(AuditEvent.id.desc())
        .limit(limit)
    )
    return list(reversed(list(rows)))


def revisions(session: Session, article_id: int) -> list[Any]:
    """The article's revisions, newest first: number, title, when, content hash."""
    return list(
        session.execute(
            select(
                ArticleRevision.revision,
                ArticleRevision.title,
                ArticleRevision.created_at,
                ArticleRevision.content_hash,
            )
            .where(ArticleRevision.article_id == article_id)
            .order_by(ArticleRevision.revision.desc())
        )
    )


@dataclass(frozen=True)
class AwaitingClaim:
    """A reviewed claim waiting for an editor, with its proposed verdicts' ratings."""

    id: int
    text: str
    article_id: int
    article_title: str | None
    updated_at: datetime
    ratings: tuple[str, ...]
    verdicts: int

    @property
    def disagreement(self) -> bool:
        return len(set(self.ratings)) > 1


def awaiting_publication(
    session: Session, *, limit: int, after: tuple[int, ...] | None = None
) -> list[AwaitingClaim]:
    """Reviewed claims of current revisions (and orphaned ones), disagreements first, then
    the longest waiting.

    Reviewers disagree when their ratings differ, each counted by their last own verdict
    (as the claim's agreement counts them). Keyset paging on (agreeing, updated_at, id);
    `after` is the last row's `awaiting_cursor`.
    """
    own = (
        select(Verdict.claim_id, Verdict.rating)
        .ext(distinct_on(Verdict.claim_id, Verdict.author))
        .join(Claim, Claim.id == Verdict.claim_id)
        .where(
            Claim.status == "reviewed",
            Verdict.supersedes_id.is_(None),
            Verdict.status != "superseded",
        )
        .order_by(Verdict.claim_id, Verdict.author, Verdict.id.desc())
        .subquery()
    )
    ratings = (
        select(
            own.c.claim_id,
            func.array_agg(own.c.rating).label("ratings"),
            func.count().label("verdicts"),
            # 0 where reviewers disagree, 1 where they agree: disagreements sort first.
            case((func.count(own.c.rating.distinct()) > 1, 0), else_=1).label("agreeing"),
        )
        .group_by(own.c.claim_id)
        .subquery()
    )
    statement = (
        select(
            Claim.id,
            Claim.text,
            Claim.article_id,
            Article.title,
            Claim.updated_at,
            ratings.c.ratings,
            ratings.c.verdicts,
            ratings.c.agreeing,
        )
        .join(ratings, ratings.c.claim_id == Claim.id)
        .join(Article, Article.id == Claim.article_id)
        # Current claims, and orphaned reviewer work (which may still be published).
        .where(
            Claim.status == "reviewed",
            or_(Claim.revision == Article.revision, Claim.orphaned.is_(True)),
        )
        .order_by(ratings.c.agreeing, Claim.updated_at, Claim.id)
        .limit(limit)
    )
    if after is not None:
        agreeing, epoch_us, claim_id = after
        statement = statement.where(
            tuple_(ratings.c.agreeing, func.floor(_epoch_us(Claim.updated_at)), Claim.id)
            > tuple_(agreeing, epoch_us, claim_id)
        )
    return [
        AwaitingClaim(
            row.id,
            row.text,
            row.article_id,
            row.title,
            row.updated_at,
            tuple(sorted(row.ratings)),
            row.verdicts,
        )
        for row in session.execute(statement)
    ]


def awaiting_cursor(claim: AwaitingClaim) -> tuple[int, int, int]:
    return (0 if claim.disagreement else 1, _microseconds(claim.updated_at), claim.id)


def _microseconds(moment: datetime) -> int:
    """Microseconds since the epoch, exactly (PostgreSQL keeps microseconds)."""
    return (moment - EPOCH) // timedelta(microseconds=1)


def _epoch_us(column: Any) -> Any:
    return func.extract("epoch", column) * 1_000_000


def published_verdicts(
    session: Session, *, limit: int, after: tuple[int, ...] | None = None
) -> list[Any]:
    """Published verdicts, the current ones and the corrected ones, newest publication
    first, each with its claim's text and, for a correction, its reason. Keyset paging on
    (published_at, id); `after` is the last row's `published_cursor`."""
    statement = (
        select(
            Verdict.id,
            Verdict.claim_id,
            Verdict.rating,
            Verdict.summary,
            Verdict.status,
            Verdict.published_at,
            Verdict.published_by,
            Verdict.supersedes_id,
            Verdict.correction_reason,
            Claim.text.label("claim_text"),
        )
        .join(Claim, Claim.id == Verdict.claim_id)
        .where(Verdict.published_at.is_not(None))
        .order_by(Verdict.published_at.desc(), Verdict.id.desc())
        .limit(limit)
    )
    if after is not None:
        epoch_us, verdict_id = after
        published_us = func.floor(_epoch_us(Verdict.published_at))
        statement = statement.where(
            or_(
                published_us < epoch_us,
                and_(published_us == epoch_us, Verdict.id < verdict_id),
            )
        )
    return list(session.execute(statement))


def published_cursor(row: Any) -> tuple[int, int]:
    return (_microseconds(row.published_at), row.id)
