"""What leaves the service as linked data: schema.org ClaimReview and W3C Web Annotations.

Plain functions from stored rows to JSON-LD dicts, and the import of an annotation made
elsewhere. URLs are the caller's business (the API knows its own address), passed in as
functions or strings.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, func, literal, select, tuple_
from sqlalchemy.orm import Session, aliased

from service.domain import (
    EVERYTHING,
    Actor,
    InvalidState,
    Scope,
    Unprocessable,
    load,
    not_found,
)
from service.domain.articles import get_article
from service.domain.claims.queue import visible_claims
from service.domain.claims.spans import add_claim
from service.domain.verdicts import evidence_of
from service.models import Article, Claim, Evidence, Verdict
from service.ratings import Rating
from workers.extraction.anchoring import anchor
from workers.extraction.engine import Engine
from workers.extraction.entities import find_entities

SCHEMA_ORG = "https://schema.org"
ANNOTATION_CONTEXT = "http://www.w3.org/ns/anno.jsonld"
# A speaker the engine tagged as an organisation is one in ClaimReview too; else a person.
ORGANISATION_LABELS = frozenset({"ORG"})
# How far a correction chain is followed back to the first publication (a guard, not a limit
# anyone should meet).
MAX_CORRECTIONS = 1_000


@dataclass(frozen=True)
class Publisher:
    """The organisation that signs the reviews (ClaimReview `author`)."""

    name: str
    url: str | None = None


@dataclass(frozen=True)
class Review:
    """A published verdict with the claim and article its ClaimReview describes."""

    verdict: Verdict
    claim: Claim
    article: Article
    first_published_at: datetime


# --------------------------------------------------------------------------------------------
# ClaimReview
# --------------------------------------------------------------------------------------------


def published_review(session: Session, verdict_id: int, scope: Scope = EVERYTHING) -> Review:
    """The review of a published verdict; InvalidState for a proposed or superseded one.

    A reader of published work only (`scope`) is told nothing of a verdict never
    published: NotFound, as for one that does not exist. A superseded verdict was
    published, and its correction was published at once (`correct_verdict`), so pointing
    to it tells every reader only what is public.
    """
    verdict = load(session, Verdict, verdict_id)
    if scope.published_only and verdict.published_at is None:
        raise not_found(Verdict, verdict_id)
    if verdict.status == "superseded":
        newer = session.scalar(select(Verdict.id).where(Verdict.supersedes_id == verdict.id))
        raise InvalidState(
            f"Verdict {verdict_id} was corrected by verdict {newer}; that one is published.",
            superseded_by=newer,
        )
    if verdict.status != "published":
        raise InvalidState(
            f"Verdict {verdict_id} is {verdict.status}: only a published verdict has a "
            "ClaimReview. An editor publishes it with POST /api/v1/verdicts/{id}/publish."
        )
    claim = load(session, Claim, verdict.claim_id)
    article = load(session, Article, claim.article_id)
    return Review(verdict, claim, article, _first_published(session, [verdict])[verdict.id])


def published_reviews(
    session: Session,
    *,
    limit: int,
    after: tuple[int, int] | None = None,
    published_after: datetime | None = None,
    published_before: datetime | None = None,
) -> list[Review]:
    """Published verdicts, newest publication first, keyset-paginated by (time, id)."""
    statement = (
        select(Verdict, Claim, Article)
        .join(Claim, Claim.id == Verdict.claim_id)
        .join(Article, Article.id == Claim.article_id)
        .where(Verdict.status == "published")
    )
    if published_after is not None:
        statement = statement.where(Verdict.published_at >= published_after)
    if published_before is not None:
        statement = statement.where(Verdict.published_at < published_before)
    if after is not None:
        microseconds, last_id = after
        statement = statement.where(
            tuple_(Verdict.published_at, Verdict.id)
            < tuple_(_from_microseconds(microseconds), last_id)
        )
    rows = session.execute(
        statement.order_by(Verdict.published_at.desc(), Verdict.id.desc()).limit(limit)
    ).all()
    first = _first_published(session, [verdict for verdict, _, _ in rows])
    return [Review(verdict, claim, article, first[verdict.id]) for verdict, claim, article in rows]


def review_cursor(review: Review) -> tuple[int, int]:
    """Keyset position of a review in the feed: (published_at in microseconds, verdict id)."""
    published_at = review.verdict.published_at
    assert published_at is not None, "only published verdicts are in the feed"
    return _to_microseconds(published_at), review.verdict.id


def claim_review(
    review: Review, scale: Sequence[Rating], publisher: Publisher, url: str
) -> dict[str, Any]:
    """schema.org ClaimReview JSON-LD of a published verdict."""
    verdict, claim, article = review.verdict, review.claim, review.article
    assert verdict.published_at is not None
    author: dict[str, Any] = {"@type": "Organization", "name": publisher.name}
    if publisher.url:
        author["url"] = publisher.url
    document: dict[str, Any] = {
        "@context": SCHEMA_ORG,
        "@type": "ClaimReview",
        "url": url,
        "claimReviewed": claim.text,
        "datePublished": review.first_published_at.date().isoformat(),
        "author": author,
        "reviewRating": _review_rating(verdict.rating, scale),
        "itemReviewed": _reviewed_claim(claim, article),
        "reviewBody": verdict.summary,
    }
    if verdict.supersedes_id is not None:
        document["dateModified"] = verdict.published_at.isoformat()
    return document


def _review_rating(key: str, scale: Sequence[Rating]) -> dict[str, Any]:
    rating = next((r for r in scale if r.key == key), None)
    # A key no longer on the configured scale still names itself.
    label = rating.label if rating else key
    result: dict[str, Any] = {"@type": "Rating", "alternateName": label}
    values = [r.value for r in scale if r.value is not None]
    if rating is not None and rating.value is not None and values:
        result["ratingValue"] = rating.value
        result["bestRating"] = max(values)
        result["worstRating"] = min(values)
    return result


def _reviewed_claim(claim: Claim, article: Article) -> dict[str, Any]:
    item: dict[str, Any] = {"@type": "Claim"}
    appearance: dict[str, Any] = {"@type": "CreativeWork"}
    if article.url:
        appearance["url"] = article.url
    if article.title:
        appearance["headline"] = article.title
    if article.published_at is not None:
        appearance["datePublished"] = article.published_at.date().isoformat()
        item["datePublished"] = appearance["datePublished"]
    item["appearance"] = appearance
    if claim.speaker:
        item["author"] = {"@type": _speaker_type(claim), "name": claim.speaker}
    return item


def _speaker_type(claim: Claim) -> str:
    named = [e for e in claim.entities or [] if e.get("text") == claim.speaker]
    if not named and claim.speaker:
        # A reported span holds what was said, not who said it: read the name on its own.
        named = find_entities(claim.speaker)
    if any(entity.get("label") in ORGANISATION_LABELS for entity in named):
        return "Organization"
    return "Person"


def _first_published(session: Session, verdicts: Sequence[Verdict]) -> dict[int, datetime]:
    """When each verdict's review first went out: corrections keep the original date.

    One recursive query walks every correction chain back to its first publication.
    """
    if not verdicts:
        return {}
    chain = (
        select(
            Verdict.id.label("origin"),
            Verdict.supersedes_id,
            Verdict.published_at,
            literal(0).label("depth"),
        )
        .where(Verdict.id.in_([v.id for v in verdicts]))
        .cte("chain", recursive=True)
    )
    earlier = aliased(Verdict)
    chain = chain.union_all(
        select(chain.c.origin, earlier.supersedes_id, earlier.published_at, chain.c.depth + 1)
        .join(earlier, earlier.id == chain.c.supersedes_id)
        .where(chain.c.depth < MAX_CORRECTIONS)
    )
    rows = session.execute(
        select(chain.c.origin, func.min(chain.c.published_at)).group_by(chain.c.origin)
    )
    return dict(rows.all())


def _to_microseconds(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def _from_microseconds(value: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=value)


# --------------------------------------------------------------------------------------------
# W3C Web Annotation
# --------------------------------------------------------------------------------------------


def annotation_collection(
    session: Session,
    article_id: int,
    *,
    scope: Scope = EVERYTHING,
    publisher: Publisher,
    collection_id: str,
    page_url: Callable[[tuple[int, int, int] | None], str],
    article_url: str,
    claim_url: Callable[[int], str],
    verdict_url: Callable[[int], str],
    checkworthy: bool | None = None,
    limit: int,
    after: tuple[int, int, int] | None = None,
) -> dict[str, Any]:
    """The article's claims (highlighting) and published verdicts (assessing), W3C-paged.

    Without `after`: the AnnotationCollection, with its first page embedded. With `after`
    (the keyset of the last claim seen: start, end, id): that page alone. A page holds
    `limit` claims, each followed by its published verdict if it has one; `next` links the
    following page. Every annotation targets the article's own URL (or `article_url` when it
    has none) with a TextQuoteSelector and a TextPositionSelector that both select the
    claim's text in the current body. The article and its claims are those `scope` may
    read; an assessment's creator is the `publisher`, as in ClaimReview.
    """
    article = get_article(session, article_id, scope)
    conditions = [
        Claim.article_id == article_id,
        Claim.revision == article.revision,
        *visible_claims(scope),
    ]
    if checkworthy is not None:
        conditions.append(Claim.checkworthy.is_(checkworthy))
    order = (Claim.start, Claim.end, Claim.id)
    query = select(Claim).where(*conditions).order_by(*order).limit(limit)
    if after is not None:
        query = query.where(tuple_(*order) > tuple_(*after))
    claims = list(session.scalars(query))
    verdicts = _published_verdicts(session, [claim.id for claim in claims])
    evidence = evidence_of(session, [verdict.id for verdict in verdicts.values()])
    source = article.url or article_url
    items: list[dict[str, Any]] = []
    for claim in claims:
        target = _target(source, claim)
        items.append(_highlight(claim, target, claim_url(claim.id)))
        verdict = verdicts.get(claim.id)
        if verdict is not None:
            items.append(
                _assessment(verdict, evidence.get(verdict.id, []), target, publisher, verdict_url)
            )
    page: dict[str, Any] = {
        "id": page_url(after),
        "type": "AnnotationPage",
        "partOf": collection_id,
        "items": items,
    }
    if len(claims) == limit:
        last = claims[-1]
        page["next"] = page_url((last.start, last.end, last.id))
    if after is not None:
        return {"@context": ANNOTATION_CONTEXT, **page}
    claim_ids = select(Claim.id).where(*conditions)
    total = (session.scalar(select(func.count()).where(*conditions)) or 0) + (
        session.scalar(
            select(func.count())
            .select_from(Verdict)
            .where(Verdict.claim_id.in_(claim_ids), Verdict.status == "published")
        )
        or 0
    )
    collection: dict[str, Any] = {
        "@context": ANNOTATION_CONTEXT,
        "id": collection_id,
        "type": "AnnotationCollection",
        "total": total,
        "first": page,
    }
    if article.title:
        collection["label"] = f"Claims in: {article.title}"
    return collection


def _published_verdicts(session: Session, claim_ids: Sequence[int]) -> dict[int, Verdict]:
    if not claim_ids:
        return {}
    verdicts = session.scalars(
        select(Verdict).where(and_(Verdict.claim_id.in_(claim_ids), Verdict.status == "published"))
    )
    return {verdict.claim_id: verdict for verdict in verdicts}


def _target(source: str, claim: Claim) -> dict[str, Any]:
    return {"source": source, **claim_selectors(claim)}


def claim_selectors(claim: Claim) -> dict[str, Any]:
    """Both W3C selectors of a claim's span: the quote with its context, and the offsets."""
    return {
        "selector": [
            {
                "type": "TextQuoteSelector",
                "exact": claim.text,
                "prefix": claim.prefix,
                "suffix": claim.suffix,
            },
            {"type": "TextPositionSelector", "start": claim.start, "end": claim.end},
        ],
    }


def _highlight(claim: Claim, target: dict[str, Any], url: str) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextualBody", "purpose": "tagging", "value": claim_type}
        for claim_type in claim.types or []
    ]
    if claim.checkworthiness is not None:
        body.append(
            {
                "type": "TextualBody",
                "purpose": "describing",
                "value": f"Check-worthiness {claim.checkworthiness:.2f}",
            }
        )
    if claim.speaker:
        body.append(
            {"type": "TextualBody", "purpose": "describing", "value": f"Speaker: {claim.speaker}"}
        )
    annotation: dict[str, Any] = {
        "id": url + "#highlighting",
        "type": "Annotation",
        "motivation": "highlighting",
        "created": claim.created_at.isoformat(),
        "target": target,
    }
    if body:
        annotation["body"] = body
    return annotation


def _assessment(
    verdict: Verdict,
    evidence: Sequence[Evidence],
    target: dict[str, Any],
    publisher: Publisher,
    verdict_url: Callable[[int], str],
) -> dict[str, Any]:
    body: list[dict[str, Any]] = [
        {"type": "TextualBody", "purpose": "assessing", "value": verdict.rating},
        {"type": "TextualBody", "purpose": "describing", "value": verdict.summary},
    ]
    for item in evidence:
        link: dict[str, Any] = {"id": item.url, "type": "Text", "purpose": "linking"}
        if item.title:
            link["title"] = item.title
        link["stance"] = item.stance
        body.append(link)
    assert verdict.published_at is not None
    # The organisation signs, as ClaimReview's author: reviewers' names stay in the desk.
    creator: dict[str, Any] = {"type": "Organization", "name": publisher.name}
    if publisher.url:
        creator["homepage"] = publisher.url
    return {
        "id": verdict_url(verdict.id) + "#assessing",
        "type": "Annotation",
        "motivation": "assessing",
        "creator": creator,
        "created": verdict.created_at.isoformat(),
        "generated": verdict.published_at.isoformat(),
        "body": body,
        "target": target,
    }


def import_annotation(
    session: Session,
    article_id: int,
    annotation: Mapping[str, Any],
    actor: Actor,
    extractor: Engine,
) -> Claim:
    """A claim from an annotation made elsewhere, where its selectors anchor in the body.

    A TextPositionSelector is used when it selects the quoted text (or when it is the only
    selector); otherwise the TextQuoteSelector's exact text is looked up, the occurrence
    whose prefix and suffix match best winning, then the one nearest the stated position.
    """
    article = load(session, Article, article_id)
    quote, position = _selectors(annotation)
    start, end = _anchor(article.body, quote, position)
    return add_claim(session, article_id, start, end, actor, extractor)


def _selectors(
    annotation: Mapping[str, Any],
) -> tuple[Mapping[str, Any] | None, Mapping[str, Any] | None]:
    targets = annotation["target"]
    quote = position = None
    for target in targets if isinstance(targets, list) else [targets]:
        selectors = target.get("selector") or []
        for selector in selectors if isinstance(selectors, list) else [selectors]:
            if selector.get("type") == "TextQuoteSelector" and quote is None:
                quote = selector
            elif selector.get("type") == "TextPositionSelector" and position is None:
                position = selector
    if quote is None and position is None:
        raise Unprocessable(
            "The annotation's target has no TextQuoteSelector or TextPositionSelector.",
            errors={"target": ["Add a TextQuoteSelector or a TextPositionSelector."]},
        )
    return quote, position


def _anchor(
    body: str, quote: Mapping[str, Any] | None, position: Mapping[str, Any] | None
) -> tuple[int, int]:
    exact = quote.get("exact") if quote else None
    if position is not None:
        start, end = position["start"], position["end"]
        in_range = 0 <= start < end <= len(body)
        if in_range and (exact is None or body[start:end] == exact):
            return start, end
        if exact is None:
            raise Unprocessable(
                f"The TextPositionSelector {start}..{end} is outside the article body "
                f"(0..{len(body)}).",
                errors={"target": ["The position selector does not fit the body."]},
            )
    assert quote is not None
    assert exact is not None
    near = position["start"] if position is not None else 0
    found = anchor(body, exact, quote.get("prefix") or "", quote.get("suffix") or "", near)
    if found is None:
        raise Unprocessable(
            "The annotation's quoted text does not occur in the article's current body.",
            errors={"target": ["The TextQuoteSelector's exact text is not in the article."]},
        )
    return found, found + len(exact)
