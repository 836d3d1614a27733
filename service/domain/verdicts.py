"""Verdicts: reviewers rate claims with evidence; editors publish one; corrections supersede.

A proposed verdict may be edited by its author (or an editor) at the version they read. A
published verdict is never edited: a correction is a new published verdict with a reason,
and the old one stays, marked superseded. Every step lands in the claim's audit history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from service.domain import (
    Actor,
    Conflict,
    InvalidState,
    PermissionDenied,
    PreconditionFailed,
    Unprocessable,
    agreement,
    load,
)
from service.domain.agreement import ReviewerRating
from service.domain.audit import record
from service.domain.claims.lifecycle import (
    check_open_to_verdicts,
    check_publishable,
    ensure_current,
    get_claim,
    publish,
)
from service.domain.outbox import enqueue
from service.domain.webhooks import emit, verdict_event
from service.models import Article, Claim, Evidence, Verdict
from service.ratings import Rating
from service.vocabulary import EDITOR_ROLES, FIND_REPEATS_TASK

VERDICT_FIELDS = ("rating", "summary", "rationale", "confidence")
EVIDENCE_FIELDS = ("url", "title", "publisher", "excerpt", "stance", "archived_url", "accessed_at")


def _check_rating(rating: str, scale: Sequence[Rating]) -> None:
    keys = [r.key for r in scale]
    if rating not in keys:
        raise Unprocessable(
            f"Unknown rating {rating!r}.",
            errors={"rating": [f"Must be one of: {', '.join(keys)}."]},
            allowed=keys,
        )


def _replace_evidence(
    session: Session, verdict: Verdict, items: Sequence[Mapping[str, Any]]
) -> None:
    session.execute(delete(Evidence).where(Evidence.verdict_id == verdict.id))
    _add_evidence(session, verdict, items)


def _add_evidence(session: Session, verdict: Verdict, items: Sequence[Mapping[str, Any]]) -> None:
    """The evidence of a verdict that has none yet, in the order given."""
    for position, item in enumerate(items):
        values = {field: item.get(field) for field in EVIDENCE_FIELDS}
        session.add(Evidence(verdict_id=verdict.id, position=position, **values))


def _summary(verdict: Verdict, evidence: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """What the audit log keeps of a verdict: enough to see what any edit changed."""
    return {
        "verdict_id": verdict.id,
        "rating": verdict.rating,
        "summary": verdict.summary,
        "rationale": verdict.rationale,
        "confidence": verdict.confidence,
        "status": verdict.status,
        "author": verdict.author,
        "version": verdict.version,
        "evidence": [
            {"url": item.get("url"), "stance": item.get("stance"), "title": item.get("title")}
            for item in evidence
        ],
    }


def _stored_evidence(session: Session, verdict: Verdict) -> list[dict[str, Any]]:
    return [
        {field: getattr(item, field) for field in EVIDENCE_FIELDS}
        for item in evidence_of(session, [verdict.id])[verdict.id]
    ]


def get_verdict(session: Session, verdict_id: int, *, for_update: bool = False) -> Verdict:
    return load(session, Verdict, verdict_id, for_update=for_update)


# Built once, as they are read on every claim detail and verdict write.
_EVIDENCE_OF = (
    select(Evidence)
    .where(Evidence.verdict_id.in_(bindparam("verdict_ids", expanding=True)))
    .order_by(Evidence.verdict_id, Evidence.position)
)
_CLAIM_VERDICTS = (
    select(Verdict).where(Verdict.claim_id == bindparam("claim_id")).order_by(Verdict.id)
)


def evidence_of(session: Session, verdict_ids: Sequence[int]) -> dict[int, list[Evidence]]:
    """Evidence per verdict, in the order given; one query for all of them."""
    found: dict[int, list[Evidence]] = {verdict_id: [] for verdict_id in verdict_ids}
    if verdict_ids:
        rows = session.scalars(_EVIDENCE_OF, {"verdict_ids": list(verdict_ids)})
        for item in rows:
            found[item.verdict_id].append(item)
    return found


def claim_verdicts(session: Session, claim_id: int) -> list[Verdict]:
    return list(session.scalars(_CLAIM_VERDICTS, {"claim_id": claim_id}))


def presented(
    session: Session, verdicts: Sequence[Verdict], scale: Sequence[Rating]
) -> list[dict[str, Any]]:
    """Verdicts as the API shows them: with their evidence and the rating's label and value,
    in one query for all the evidence."""
    ratings = {rating.key: rating for rating in scale}
    evidence = evidence_of(session, [v.id for v in verdicts])
    shown = []
    for verdict in verdicts:
        rating = ratings.get(verdict.rating)
        shown.append(
            {
                **{c.key: getattr(verdict, c.key) for c in Verdict.__table__.columns},
                "rating_label": rating.label if rating else None,
                "rating_value": rating.value if rating else None,
                "evidence": evidence[verdict.id],
            }
        )
    return shown


def _last_own(ratings: Sequence[ReviewerRating]) -> list[ReviewerRating]:
    """Each reviewer's last rating of each claim, of `ratings` in verdict id order."""
    return [
        ReviewerRating(claim_id, author, rating)
        for claim_id, by_author in agreement.current_ratings(ratings).items()
        for author, rating in by_author.items()
    ]


def reviewer_ratings(verdicts: Sequence[Verdict]) -> list[str]:
    """One claim's ratings as agreement counts them: each reviewer's last own verdict, of
    `verdicts` in id order (as `claim_verdicts` reads them).

    A correction is the desk's later revision of a published verdict, not another reviewer's
    judgement, so corrections are left out and the verdict they superseded still counts as
    its author's rating. The same rule selects the ratings of /stats/agreement
    (`current_ratings`), so a claim and the statistics count the same ratings; a `since` /
    `until` window there takes each reviewer's last rating within it, as of its end.
    """
    own = [
        ReviewerRating(v.claim_id, v.author, v.rating) for v in verdicts if v.supersedes_id is None
    ]
    return [rating.value for rating in _last_own(own)]


def current_ratings(
    session: Session,
    *,
    article_id: int | None = None,
    source: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> list[ReviewerRating]:
    """Each reviewer's last own rating of each claim, over a filter: see `reviewer_ratings`."""
    statement = (
        select(Verdict.claim_id, Verdict.author, Verdict.rating)
        .join(Claim, Claim.id == Verdict.claim_id)
        .join(Article, Article.id == Claim.article_id)
        .where(Verdict.supersedes_id.is_(None))
        .order_by(Verdict.id)
    )
    if article_id is not None:
        statement = statement.where(Claim.article_id == article_id)
    if source is not None:
        statement = statement.where(Article.source == source)
    if since is not None:
        statement = statement.where(Verdict.created_at >= since)
    if until is not None:
        statement = statement.where(Verdict.created_at < until)
    return _last_own([ReviewerRating(*row) for row in session.execute(statement)])


def add_verdict(
    session: Session,
    claim_id: int,
    data: Mapping[str, Any],
    actor: Actor,
    scale: Sequence[Rating],
) -> Verdict:
    """A reviewer's proposed verdict on a claim, with its evidence."""
    claim = get_claim(session, claim_id, for_update=True)
    ensure_current(session, claim)
    check_open_to_verdicts(claim)
    _check_rating(data["rating"], scale)
    verdict = Verdict(
        claim_id=claim_id,
        author_id=actor.user_id,
        author=actor.name,
        **{field: data.get(field) for field in VERDICT_FIELDS},
    )
    session.add(verdict)
    session.flush()
    evidence = data.get("evidence", [])
    _add_evidence(session, verdict, evidence)
    # The INSERT returned every server default (id, status, version, timestamps), so the
    # verdict is complete without reading it back.
    session.flush()
    after = _summary(verdict, evidence)
    record(session, actor.name, "verdict.added", "claim", claim_id, after=after)
    emit(session, "claim.verdict_added", verdict_event(verdict, claim))
    return verdict


def _check_version(verdict: Verdict, expected_version: int | None) -> None:
    """412 when the caller read another version of the verdict than the current one."""
    if expected_version is not None and verdict.version != expected_version:
        raise PreconditionFailed(
            f"Verdict {verdict.id} changed since you read it (now version {verdict.version}).",
            current_version=verdict.version,
        )


def update_verdict(
    session: Session,
    verdict_id: int,
    expected_version: int,
    changes: Mapping[str, Any],
    actor: Actor,
    scale: Sequence[Rating],
) -> Verdict:
    """Edit a proposed verdict at the version the caller read; published ones are corrected."""
    verdict = get_verdict(session, verdict_id, for_update=True)
    _check_version(verdict, expected_version)
    if verdict.status != "proposed":
        raise InvalidState(
            f"Verdict {verdict_id} is {verdict.status}; publish a correction instead."
        )
    if actor.role not in EDITOR_ROLES and verdict.author_id != actor.user_id:
        raise PermissionDenied("Only its author or an editor may edit a proposed verdict.")
    if "rating" in changes:
        _check_rating(changes["rating"], scale)
    evidence = _stored_evidence(session, verdict)
    before = _summary(verdict, evidence)
    for field in VERDICT_FIELDS:
        if field in changes:
            setattr(verdict, field, changes[field])
    if "evidence" in changes:
        evidence = changes["evidence"]
        _replace_evidence(session, verdict, evidence)
    verdict.version += 1
    verdict.updated_at = func.now()
    session.flush()
    session.refresh(verdict)
    record(
        session, actor.name, "verdict.updated", "claim", verdict.claim_id,
        before=before, after=_summary(verdict, evidence),
    )  # fmt: skip
    return verdict


def publish_verdict(
    session: Session, verdict_id: int, actor: Actor, expected_version: int | None = None
) -> Verdict:
    """Publish a proposed verdict of a reviewed claim, which becomes published. One
    published verdict per claim.

    With `expected_version`, only that version is published (the one the editor read).
    """
    verdict = get_verdict(session, verdict_id, for_update=True)
    _check_version(verdict, expected_version)
    claim = get_claim(session, verdict.claim_id, for_update=True)
    ensure_current(session, claim)
    if verdict.status != "proposed":
        raise InvalidState(f"Verdict {verdict_id} is already {verdict.status}.")
    published = session.scalar(
        select(Verdict.id).where(Verdict.claim_id == claim.id, Verdict.status == "published")
    )
    if published is not None:
        raise Conflict(
            f"Claim {claim.id} already has published verdict {published}; publish a "
            "correction to it instead.",
            published_verdict_id=published,
        )
    check_publishable(claim)
    _publish(verdict, claim, actor)
    session.flush()
    session.refresh(verdict)
    after = _summary(verdict, _stored_evidence(session, verdict))
    record(session, actor.name, "verdict.published", "claim", claim.id, after=after)
    emit(session, "verdict.published", verdict_event(verdict, claim))
    # The verdict becomes one of the desk's fact-checks, and its repeats are looked for.
    enqueue(session, FIND_REPEATS_TASK, {"verdict_id": verdict.id})
    return verdict


def correct_verdict(
    session: Session,
    verdict_id: int,
    data: Mapping[str, Any],
    reason: str,
    actor: Actor,
    scale: Sequence[Rating],
    *,
    expected_version: int | None = None,
) -> Verdict:
    """Replace a published verdict by a corrected one; the old one stays, superseded."""
    old = get_verdict(session, verdict_id, for_update=True)
    _check_version(old, expected_version)
    if old.status != "published":
        raise InvalidState(
            f"Only a published verdict can be corrected; {verdict_id} is {old.status}."
        )
    claim = get_claim(session, old.claim_id, for_update=True)
    fields = {field: data.get(field, getattr(old, field)) for field in VERDICT_FIELDS}
    _check_rating(fields["rating"], scale)
    old.status = "superseded"
    old.version += 1
    session.flush()  # the unique "one published per claim" index must see the old one go
    corrected = Verdict(
        claim_id=claim.id,
        author_id=actor.user_id,
        author=actor.name,
        supersedes_id=old.id,
        correction_reason=reason,
        **fields,
    )
    session.add(corrected)
    session.flush()
    old_evidence = _stored_evidence(session, old)
    evidence = data.get("evidence")
    if evidence is None:
        evidence = old_evidence
    _add_evidence(session, corrected, evidence)
    _publish(corrected, claim, actor)
    session.flush()
    session.refresh(corrected)
    record(
        session, actor.name, "verdict.corrected", "claim", claim.id,
        before=_summary(old, old_evidence),
        after={**_summary(corrected, evidence), "reason": reason},
    )  # fmt: skip
    emit(session, "verdict.corrected", verdict_event(corrected, claim))
    enqueue(session, FIND_REPEATS_TASK, {"verdict_id": corrected.id})
    return corrected


def _publish(verdict: Verdict, claim: Claim, actor: Actor) -> None:
    verdict.status = "published"
    verdict.published_at = func.now()
    verdict.published_by = actor.name
    verdict.version += 1
    publish(claim)
