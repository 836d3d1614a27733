"""The review lifecycle of claims: the queue, taking and assigning, status changes, history.

Every change bumps `version` (the ETag) and is written to the audit log with before and
after, in the same transaction. A write naming a stale version is refused, never merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from service.domain import (
    Conflict,
    InvalidState,
    PermissionDenied,
    PreconditionFailed,
    Scope,
    Unprocessable,
    load,
)
from service.domain.audit import record
from service.domain.extraction import CLAIM_FIELDS
from service.domain.similar_claims import claim_similarity_keys
from service.models import Article, AuditEvent, Claim, User, Verdict
from workers.extraction.engine import Engine

# The state machine. "published" is reached only by publishing a verdict, never by a PATCH,
# and only from PUBLISHABLE_FROM; a claim becomes "reviewed" only once it has a verdict.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_review", "not_checkworthy"}),
    "in_review": frozenset({"new", "reviewed", "not_checkworthy"}),
    "reviewed": frozenset({"in_review"}),
    "published": frozenset(),
    "not_checkworthy": frozenset({"new"}),
}
PUBLISHABLE_FROM = frozenset({"reviewed"})
ASSIGNS_OTHERS = frozenset({"admin", "editor"})
# Scores are stored with 4 decimals (the engine rounds them), so score x 10^4 is exact.
SCORE_UNITS = 10_000
# Full-text search: a query that matches at most SEARCH_FEW_ARTICLES articles (the GIN index
# says so at once) has few enough matching claims to gather them all and sort them. Otherwise
# the next SEARCH_WINDOW rows of the queue are tested in order, which fills a page for any
# common word; only when they do not are all matches gathered after all.
SEARCH_FEW_ARTICLES = 500
SEARCH_WINDOW = 2_500
AUDITED_FIELDS = ("status", "assignee_id", "start", "end", "text", "version")
# What the engine derives from a span: recomputed when a reviewer corrects it, and audited then
# (all but the embedding: 384 numbers the text determines).
SPAN_FIELDS = tuple(
    field for field in CLAIM_FIELDS if field not in AUDITED_FIELDS and field != "embedding"
)
# One claim per span of a revision.
SPAN_CONSTRAINT = "uq_claims_span"


@dataclass(frozen=True)
class Actor:
    """Who acts: the stored user (None for the bootstrap admin), its name and role."""

    user_id: int | None
    name: str
    role: str


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


@dataclass(slots=True)
class QueuedClaim:
    """A claim as the queue lists it: every stored column a Claim loads (not the deferred
    search vector and similarity keys), read as a plain row.

    Loading a 50-claim page as ORM objects, and reading their attributes to present them,
    costs ~0.5 ms more per request in-process than these rows.
    """

    id: int
    article_id: int
    revision: int
    start: int
    end: int
    text: str
    prefix: str
    suffix: str
    kind: str
    checkworthiness: float | None
    checkworthy: bool | None
    types: list[Any]
    speaker: str | None
    quantities: list[Any]
    dates: list[Any]
    entities: list[Any]
    language: str | None
    status: str
    origin: str
    assignee_id: int | None
    version: int
    orphaned: bool
    created_at: datetime
    updated_at: datetime


QUEUED_FIELDS = tuple(field.name for field in fields(QueuedClaim))
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


def _snapshot(claim: Claim, fields: tuple[str, ...] = AUDITED_FIELDS) -> dict[str, Any]:
    return {field: getattr(claim, field) for field in fields}


def get_claim(
    session: Session, claim_id: int, *, for_update: bool = False, similarity_keys: bool = False
) -> Claim:
    """The claim, or NotFound; `similarity_keys` loads those (deferred) in the same query."""
    undeferred = ("similarity_keys",) if similarity_keys else ()
    return load(session, Claim, claim_id, for_update=for_update, undeferred=undeferred)


def update_claim(
    session: Session,
    claim_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
    actor: Actor,
    *,
    extractor: Engine,
) -> Claim:
    """Apply `changes` (status, assignee_id, start/end) if the claim is still at that version.

    A corrected span is annotated afresh by `extractor`, like a claim a reviewer adds there;
    the claim keeps its id, status, assignee and verdicts.
    """
    claim = get_claim(session, claim_id, for_update=True)
    if claim.version != expected_version:
        raise PreconditionFailed(
            f"Claim {claim_id} changed since you read it (now version {claim.version}); "
            "read it again and retry.",
            current_version=claim.version,
        )
    ensure_current(session, claim)
    before = _snapshot(claim)
    if "assignee_id" in changes:
        _assign(session, claim, changes["assignee_id"], actor)
    span = (changes.get("start", claim.start), changes.get("end", claim.end))
    if span != (claim.start, claim.end):
        _check_holder(claim, actor, before["assignee_id"], "correct its span")
        if actor.role not in ASSIGNS_OTHERS and _has_verdict(session, claim.id, published=True):
            raise PermissionDenied(
                f"Claim {claim_id} has a published verdict, whose review names this span as "
                "what was checked: only an editor may correct it."
            )
        before |= _snapshot(claim, SPAN_FIELDS)
        _correct_span(session, claim, *span, extractor)
    if "status" in changes and changes["status"] != claim.status:
        target = changes["status"]
        _check_holder(claim, actor, before["assignee_id"], "change its status")
        allowed = TRANSITIONS[claim.status]
        if target == "reviewed" and target in allowed and not _has_verdict(session, claim.id):
            raise InvalidState(
                f"Claim {claim_id} has no verdict: add one before marking it reviewed.",
                allowed=sorted(allowed - {"reviewed"}),
            )
        _transition(claim, target)
    return _save(session, claim, before, actor, "claim.updated")


def take_claim(session: Session, claim_id: int, actor: Actor) -> Claim:
    """Self-assign a claim and start reviewing it (new -> in_review)."""
    if actor.user_id is None:
        raise PermissionDenied("The bootstrap admin token cannot take claims; use a user token.")
    claim = get_claim(session, claim_id, for_update=True)
    ensure_current(session, claim)
    if claim.assignee_id not in (None, actor.user_id):
        raise Conflict(f"Claim {claim_id} is already assigned to someone else.")
    before = _snapshot(claim)
    claim.assignee_id = actor.user_id
    if claim.status == "new":
        _transition(claim, "in_review")
    return _save(session, claim, before, actor, "claim.taken")


def ensure_current(session: Session, claim: Claim) -> None:
    """Refuse work on a claim a revision left behind: once the article's newer revision is
    processed, only its claims are in the queue, the article's claims and its annotations,
    so work on an older claim would vanish from all of them. Orphaned claims are listed
    apart (the article's claims, `?orphaned=true`) and their reviewer work may go on."""
    if claim.orphaned:
        return
    article = session.execute(
        select(Article.revision, Article.status).where(Article.id == claim.article_id)
    ).one()
    if claim.revision != article.revision and article.status == "processed":
        raise InvalidState(
            f"Claim {claim.id} is from revision {claim.revision} of article "
            f"{claim.article_id}, which is now at revision {article.revision}: work on the "
            "current revision's claims.",
            current_revision=article.revision,
        )


def _check_holder(claim: Claim, actor: Actor, holder: int | None, what: str) -> None:
    """Only whoever holds a claim (or an editor) moves it along, corrects its span or hands
    it on; any reviewer may act on a free one."""
    if actor.role not in ASSIGNS_OTHERS and holder not in (None, actor.user_id):
        raise PermissionDenied(
            f"Claim {claim.id} is held by another reviewer: only they or an editor may {what}."
        )


def _has_verdict(session: Session, claim_id: int, *, published: bool = False) -> bool:
    """Whether the claim has a current (not superseded) verdict, or a published one."""
    status = Verdict.status == "published" if published else Verdict.status != "superseded"
    found = select(Verdict.id).where(Verdict.claim_id == claim_id, status)
    return bool(session.scalar(select(found.exists())))


def _save(
    session: Session, claim: Claim, before: dict[str, Any], actor: Actor, action: str
) -> Claim:
    claim.version += 1
    claim.updated_at = func.now()
    session.flush()
    session.refresh(claim)
    after = _snapshot(claim, tuple(before))
    record(session, actor.name, action, "claim", claim.id, before=before, after=after)
    return claim


def _transition(claim: Claim, target: str) -> None:
    allowed = TRANSITIONS[claim.status]
    if target not in allowed:
        raise InvalidState(
            f"A {claim.status} claim cannot become {target}.",
            allowed=sorted(allowed),
        )
    claim.status = target


def _assign(session: Session, claim: Claim, assignee_id: int | None, actor: Actor) -> None:
    if actor.role not in ASSIGNS_OTHERS and assignee_id not in (None, actor.user_id):
        raise PermissionDenied("Reviewers may only take a claim themselves or release it.")
    _check_holder(claim, actor, claim.assignee_id, "reassign it")
    if assignee_id is not None:
        role = session.scalar(
            select(User.role).where(User.id == assignee_id, User.disabled_at.is_(None))
        )
        if role not in ("admin", "editor", "reviewer"):
            raise InvalidState(f"User {assignee_id} is not an active reviewer, editor or admin.")
    claim.assignee_id = assignee_id


def _correct_span(session: Session, claim: Claim, start: int, end: int, extractor: Engine) -> None:
    article = session.execute(
        select(Article.body, Article.language).where(Article.id == claim.article_id)
    ).one()
    article_id, revision = claim.article_id, claim.revision
    values = annotate_span(article.body, article.language, start, end, extractor)
    try:
        # Changed inside the savepoint, so a refused span rolls back to it and no further:
        # the transaction stays usable to name the claim that holds the span.
        with session.begin_nested():
            for field, value in values.items():
                setattr(claim, field, value)
            session.flush()
    except IntegrityError as error:
        if getattr(getattr(error.orig, "diag", None), "constraint_name", None) != SPAN_CONSTRAINT:
            raise
        raise span_taken(session, article_id, revision, start, end) from None


def annotate_span(
    body: str, language: str | None, start: int, end: int, extractor: Engine
) -> dict[str, Any]:
    """A reviewer's span of `body` as the engine annotates it: every stored field of its claim.

    `language` is the article's declared one ("en-GB" is scored as "en"), None to detect it.
    """
    start, end, _ = check_span(body, start, end)
    values = extractor.annotate_span(body, start, end, language)
    keys = claim_similarity_keys(values["text"], values["kind"])
    return {field: values[field] for field in CLAIM_FIELDS} | {"similarity_keys": keys}


def span_taken(session: Session, article_id: int, revision: int, start: int, end: int) -> Conflict:
    """The conflict for a span that is already a claim of this revision, naming that claim."""
    with session.no_autoflush:  # a refused change may still be pending
        existing = session.scalar(
            select(Claim.id).where(
                Claim.article_id == article_id,
                Claim.revision == revision,
                Claim.start == start,
                Claim.end == end,
            )
        )
    return Conflict(
        f"Article {article_id} already has claim {existing} at {start}..{end}.",
        claim_id=existing,
    )


def check_span(body: str, start: int, end: int) -> tuple[int, int, str]:
    """A span must lie in the body and hold text; returns (start, end, text). A span that
    does not is unprocessable input (422); one that is already a claim is a conflict (409)."""
    if not 0 <= start < end <= len(body):
        raise _bad_span(f"The span {start}..{end} is outside the body (0..{len(body)}).")
    text = body[start:end]
    if not text.strip():
        raise _bad_span(f"The span {start}..{end} holds only whitespace.")
    return start, end, text


def _bad_span(message: str) -> Unprocessable:
    return Unprocessable(message, errors={"start": [message], "end": [message]})


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
    conditions: list[ColumnElement[Any]] = [Claim.revision == Article.revision]
    conditions += filter_conditions(where)
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


def history(
    session: Session, claim_id: int, *, limit: int, after_id: int | None = None
) -> list[AuditEvent]:
    """The claim's audit events, oldest first, keyset-paginated by event id."""
    get_claim(session, claim_id)
    conditions = [AuditEvent.entity_type == "claim", AuditEvent.entity_id == claim_id]
    if after_id is not None:
        conditions.append(AuditEvent.id > after_id)
    return list(
        session.scalars(select(AuditEvent).where(*conditions).order_by(AuditEvent.id).limit(limit))
    )
