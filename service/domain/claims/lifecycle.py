"""The review lifecycle of a claim: the state machine, who may move a claim along, taking
and assigning, status and span changes, publishing, history.

Every change bumps `version` (the ETag) and is written to the audit log with before and
after, in the same transaction. A write naming a stale version is refused, never merged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.domain import (
    Actor,
    Conflict,
    InvalidState,
    PermissionDenied,
    PreconditionFailed,
    load,
)
from service.domain.audit import record
from service.domain.claims.fields import AUDITED_FIELDS, SPAN_FIELDS
from service.domain.claims.spans import correct_span
from service.models import Article, AuditEvent, Claim, User, Verdict
from service.vocabulary import EDITOR_ROLES, REVIEWER_ROLES
from workers.extraction.engine import Engine

# The state machine. "published" is reached only by publishing a verdict (`publish`), never
# by a PATCH, and only from PUBLISHABLE_FROM; a claim becomes "reviewed" only once it has a
# verdict.
TRANSITIONS: dict[str, frozenset[str]] = {
    "new": frozenset({"in_review", "not_checkworthy"}),
    "in_review": frozenset({"new", "reviewed", "not_checkworthy"}),
    "reviewed": frozenset({"in_review"}),
    "published": frozenset(),
    "not_checkworthy": frozenset({"new"}),
}
PUBLISHABLE_FROM = frozenset({"reviewed"})
# A claim in these states takes no new verdict until it is reopened.
CLOSED_TO_VERDICTS = frozenset({"not_checkworthy"})


def _snapshot(claim: Claim, fields: tuple[str, ...] = AUDITED_FIELDS) -> dict[str, Any]:
    return {field: getattr(claim, field) for field in fields}


def get_claim(
    session: Session, claim_id: int, *, for_update: bool = False, similarity_keys: bool = False
) -> Claim:
    """The claim, or NotFound; `similarity_keys` loads those, the embedding and its keys
    (deferred, read by similar claims) in the same query."""
    undeferred = ("similarity_keys", "embedding_keys", "embedding") if similarity_keys else ()
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
        if actor.role not in EDITOR_ROLES and _has_verdict(session, claim.id, published=True):
            raise PermissionDenied(
                f"Claim {claim_id} has a published verdict, whose review names this span as "
                "what was checked: only an editor may correct it."
            )
        before |= _snapshot(claim, SPAN_FIELDS)
        correct_span(session, claim, *span, extractor)
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
    if actor.role not in EDITOR_ROLES and holder not in (None, actor.user_id):
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
    if actor.role not in EDITOR_ROLES and assignee_id not in (None, actor.user_id):
        raise PermissionDenied("Reviewers may only take a claim themselves or release it.")
    _check_holder(claim, actor, claim.assignee_id, "reassign it")
    if assignee_id is not None:
        role = session.scalar(
            select(User.role).where(User.id == assignee_id, User.disabled_at.is_(None))
        )
        if role not in REVIEWER_ROLES:
            raise InvalidState(f"User {assignee_id} is not an active reviewer, editor or admin.")
    claim.assignee_id = assignee_id


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


def check_publishable(claim: Claim) -> None:
    """Refuse to publish a verdict of a claim that is not reviewed yet."""
    if claim.status not in PUBLISHABLE_FROM:
        raise InvalidState(
            f"Claim {claim.id} is {claim.status}: only a reviewed claim is published "
            "(new -> in_review -> reviewed -> published).",
            claim_status=claim.status,
            publishable_from=sorted(PUBLISHABLE_FROM),
        )


def check_open_to_verdicts(claim: Claim) -> None:
    """Refuse a new verdict on a claim marked not check-worthy."""
    if claim.status in CLOSED_TO_VERDICTS:
        raise InvalidState(f"Claim {claim.id} is marked not check-worthy; reopen it first.")


def publish(claim: Claim) -> None:
    """The claim's last step: a verdict of it was published (or corrected)."""
    claim.status = "published"
    claim.version += 1
    claim.updated_at = func.now()
