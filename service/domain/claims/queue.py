"""The review queue: its filters, its two search strategies, keyset cursors, and what a
reader of published work only may see of it. Exports select by the same filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, make_dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Executable,
    Select,
    and_,
    case,
    func,
    null,
    or_,
    select,
    tuple_,
    union_all,
)
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.domain import Scope
from service.domain.claims.fields import SHOWN_FIELDS
from service.models import Article, Claim

# Scores are stored with 4 decimals (the engine rounds them), so score x 10^4 is exact.
SCORE_UNITS = 10_000
# Full-text search: a query that matches at most SEARCH_FEW_ARTICLES articles (the GIN index
# says so at once) has few enough matching claims to gather them all and sort them. Otherwise
# the next SEARCH_WINDOW rows of the queue are tested in order, which fills a page for any
# common word; only when they do not are all matches gathered after all.
SEARCH_FEW_ARTICLES = 500
SEARCH_WINDOW = 2_500


@dataclass(frozen=True)
class QueueFilter:
    status: str | None = None
    checkworthy: bool | None = True
    min_score: float | None = None
    claim_type: str | None = None
    kind: str | None = None
    assignee_id: int | None = None
    article_id: int | None = None
    source: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    query: str | None = None


def queue_filter(query: Mapping[str, Any]) -> QueueFilter:
    """The filter a queue query names (the API's QueueQuerySchema; the CSV export's too)."""
    return QueueFilter(
        status=query.get("status"),
        checkworthy=query["checkworthy"],
        min_score=query.get("min_score"),
        claim_type=query.get("type"),
        kind=query.get("kind"),
        assignee_id=query.get("assignee"),
        article_id=query.get("article"),
        source=query.get("source"),
        created_after=query.get("created_after"),
        created_before=query.get("created_before"),
        query=query.get("q"),
    )


# A claim as the queue lists it: every shown field (not the deferred ones), read as a plain
# row. Loading a 50-claim page as ORM objects, and reading their attributes to present them,
# costs ~0.5 ms more per request in-process than these rows.
if TYPE_CHECKING:

    class QueuedClaim:
        """What type checkers see of a queued claim: every shown field as an attribute."""

        id: int
        start: int
        checkworthiness: float | None

        def __init__(self, *values: Any) -> None: ...
        def __getattr__(self, name: str) -> Any: ...

else:
    QueuedClaim = make_dataclass("QueuedClaim", SHOWN_FIELDS, slots=True)

QUEUED_FIELDS = SHOWN_FIELDS
# Selected in the order of the fields, so a row is the dataclass's arguments.
QUEUED_COLUMNS = tuple(getattr(Claim, name) for name in QUEUED_FIELDS)


# Built once: coercing and keying two dozen columns on every request costs more than adding
# the page's conditions to a copy.
_QUEUE = select(*QUEUED_COLUMNS).join(Article, Article.id == Claim.article_id)


def queued_claims(session: Session, statement: Executable) -> list[QueuedClaim]:
    """The statement's rows (of `shown_columns`) as queue claims. Run on the session's
    connection, not through the ORM: its plain columns need none of it, and that saves a
    fifth of a page's read."""
    return [QueuedClaim(*row) for row in session.connection().execute(statement)]


# What a reader of published work only is told of a claim's review: whether it is
# published, nothing more (in review, reviewed, not check-worthy and who holds it are the
# desk's own business until then).
_UNTIL_PUBLISHED = {
    "status": case((Claim.status == "published", "published"), else_="new").label("status"),
    "assignee_id": null().label("assignee_id"),
}
_PUBLISHED_ONLY_COLUMNS = tuple(
    _UNTIL_PUBLISHED.get(name, column)
    for name, column in zip(QUEUED_FIELDS, QUEUED_COLUMNS, strict=True)
)


def shown_columns(scope: Scope) -> tuple[Any, ...]:
    """QUEUED_COLUMNS as `scope` may read them."""
    return _PUBLISHED_ONLY_COLUMNS if scope.published_only else QUEUED_COLUMNS


def visible_claims(scope: Scope) -> list[ColumnElement[bool]]:
    """Conditions on Claim for the claims `scope` may see (every one, for the desk).

    A reader of published work only sees the claims the engine found, and published ones:
    a claim a reviewer added, or one kept orphaned for its reviewer work, is desk work
    until its verdict is published.
    """
    if not scope.published_only:
        return []
    return [
        or_(
            and_(Claim.origin == "engine", Claim.orphaned.is_(False)),
            Claim.status == "published",
        )
    ]


def current_conditions(where: QueueFilter) -> list[ColumnElement[Any]]:
    """The queue's conditions on Claim and Article (joined): current revisions only, and
    every filter of `where` but `query`."""
    return [Claim.revision == Article.revision, *filter_conditions(where)]


def matches_text(query: str) -> ColumnElement[bool]:
    """Claims whose text, or whose article, matches `query` (web search syntax); the plain
    condition, for reads that need no strategy (the queue itself uses `list_queue`'s)."""
    tsquery = func.websearch_to_tsquery("english", query)
    return or_(Claim.search.op("@@")(tsquery), Article.search.op("@@")(tsquery))


def list_queue(
    session: Session,
    where: QueueFilter,
    *,
    sort: str,
    limit: int,
    after: tuple[int, ...] | None = None,
) -> list[QueuedClaim]:
    """The review queue, keyset-paginated. sort: "score" (highest first) or "recency"."""
    # Only the current revision of each article is under review.
    conditions = current_conditions(where)
    if after is not None:
        conditions.append(_after_score(after, where) if sort == "score" else Claim.id < after[-1])
    queue = _QUEUE.where(*conditions)
    if not where.query:
        return queued_claims(session, queue.order_by(*_order(sort, Claim)).limit(limit))
    tsquery = func.websearch_to_tsquery("english", where.query)
    if not _matches_few_articles(session, tsquery):
        found = _search_window(session, queue, tsquery, sort, limit)
        if len(found) == limit:
            return found
    # Every match, from the two GIN indexes, sorted: the claims of matching articles, and the
    # claims whose own text matches in the other articles. The matching articles are read
    # first, on their own: joined to claims, the planner may scan every article and test its
    # (toasted) search vector instead, 41 rather than 8 ms for 334 articles on bench.review's
    # corpus.
    matching_articles = (
        select(Article.id)
        .where(Article.search.op("@@")(tsquery))
        .cte("matching_articles")
        .prefix_with("MATERIALIZED")
    )
    in_matching_article = Claim.article_id.in_(select(matching_articles.c.id))
    matches = union_all(
        queue.where(in_matching_article),
        queue.where(Claim.search.op("@@")(tsquery), ~in_matching_article),
    )
    # Ordered and limited as a whole, not as a subquery: a subquery of every column took
    # twice as long to build in Python.
    return queued_claims(
        session, matches.order_by(*_order(sort, matches.selected_columns)).limit(limit)
    )


def _matches_few_articles(session: Session, tsquery: Any) -> bool:
    """Whether at most SEARCH_FEW_ARTICLES articles match (counting stops past that).

    Counted from the GIN index's bitmap. The planner costs a tsvector match as cheap, so for
    a common word it would rather read articles in turn and test each one, detoasting every
    search vector it passes: 7 ms instead of 1 ms for a word in 40% of bench.review's
    articles. The setting lasts for this statement only.
    """
    matching = (
        select(Article.id)
        .where(Article.search.op("@@")(tsquery))
        .limit(SEARCH_FEW_ARTICLES + 1)
        .subquery()
    )
    session.execute(sql_text("SET LOCAL enable_seqscan = off"))
    count = session.scalar(select(func.count()).select_from(matching))
    session.execute(sql_text("RESET enable_seqscan"))
    return count is not None and count <= SEARCH_FEW_ARTICLES


def _search_window(
    session: Session, queue: Select[Any], tsquery: Any, sort: str, limit: int
) -> list[QueuedClaim]:
    """Matches among the next SEARCH_WINDOW rows of the queue, tested in queue order.

    The window carries only what the test and the order need, and the page's claims are
    read by id: a window of every column took twice as long to build in Python.
    """
    window = (
        queue.with_only_columns(
            Claim.id,
            Claim.checkworthiness,
            Claim.search.label("claim_search"),
            Article.search.label("article_search"),
        )
        .order_by(*_order(sort, Claim))
        .limit(SEARCH_WINDOW)
        .subquery()
    )
    return queued_claims(
        session,
        select(*QUEUED_COLUMNS)
        .join(window, window.c.id == Claim.id)
        .where(
            or_(
                window.c.claim_search.op("@@")(tsquery),
                window.c.article_search.op("@@")(tsquery),
            )
        )
        .order_by(*_order(sort, window.c))
        .limit(limit),
    )


def _order(sort: str, columns: Any) -> list[ColumnElement[Any]]:
    """Queue order over `columns` (the Claim entity or a subquery's columns)."""
    if sort == "score":
        return [columns.checkworthiness.desc().nulls_last(), columns.id.desc()]
    return [columns.id.desc()]


def filter_conditions(where: QueueFilter) -> list[ColumnElement[Any]]:
    """Conditions on Claim (and Article, joined) for every filter of `where` but `query`."""
    conditions: list[ColumnElement[Any]] = []
    if where.status is not None:
        conditions.append(Claim.status == where.status)
    if where.checkworthy is True:
        # A bare boolean, not IS TRUE: only this form matches the partial indexes' predicate.
        conditions.append(Claim.checkworthy.expression)
    elif where.checkworthy is False:
        # The rest, unscored claims (languages the model does not score) included.
        conditions.append(Claim.checkworthy.is_not(True))
    if where.min_score is not None:
        conditions.append(Claim.checkworthiness >= where.min_score)
    if where.claim_type is not None:
        conditions.append(Claim.types.contains([where.claim_type]))
    if where.kind is not None:
        conditions.append(Claim.kind == where.kind)
    if where.assignee_id is not None:
        conditions.append(Claim.assignee_id == where.assignee_id)
    if where.article_id is not None:
        conditions.append(Claim.article_id == where.article_id)
    if where.source is not None:
        conditions.append(Article.source == where.source)
    if where.created_after is not None:
        conditions.append(Claim.created_at >= where.created_after)
    if where.created_before is not None:
        conditions.append(Claim.created_at < where.created_before)
    return conditions


def _after_score(after: tuple[int, ...], where: QueueFilter) -> ColumnElement[Any]:
    """Rows after the cursor in score order (highest first, unscored last)."""
    scored, units, last_id = after
    score = Claim.checkworthiness
    if not scored:
        return and_(score.is_(None), Claim.id < last_id)
    last = units / SCORE_UNITS  # exactly the stored float: scores have 4 decimals
    # A row comparison starts the index scan at the cursor; check-worthy claims always
    # have a score, so only the other queues need the NULL tail.
    after_cursor = tuple_(score, Claim.id) < tuple_(last, last_id)
    if where.checkworthy is not True:
        after_cursor = or_(after_cursor, score.is_(None))
    return after_cursor


def queue_cursor(claim: QueuedClaim) -> tuple[int, int, int]:
    """Keyset position in the queue: (scored?, score x 10^4, id); recency uses only the id."""
    if claim.checkworthiness is None:
        return 0, 0, claim.id
    return 1, round(claim.checkworthiness * SCORE_UNITS), claim.id
