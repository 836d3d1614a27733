"""Similar claims: candidates from the keys' GIN index, decided and ranked by exact Jaccard."""

from __future__ import annotations

import random

from sqlalchemy import func, select

from service.db import session_scope
from service.domain.articles import Submitter, submit_article
from service.domain.extraction import store_claims
from service.domain.similar_claims import (
    CANDIDATE_LIMIT,
    SIMILAR_LIMIT,
    claim_similarity_keys,
    similar_claims,
)
from service.models import Claim
from service.ratings import DEFAULT_SCALE
from workers.extraction.similarity import jaccard, similarity_keys

TARGET = (
    "The council approved a budget of four million dollars for public schools and rural roads "
    "on Monday evening after a long debate."
)
WORDS = (
    "harbour", "police", "museum", "tax", "river", "bridge", "election", "wage", "farmer",
    "storm", "library", "airport", "rent", "fuel", "grain", "court", "village", "energy",
)  # fmt: skip


def article_with(sessions, texts: list[str]) -> int:
    """An article whose body is `texts`, one claim (a sentence) each; its id."""
    body = " ".join(texts)
    claims, start = [], 0
    for text in texts:
        claims.append({"text": text, "start": start, "end": start + len(text), "kind": "sentence"})
        start += len(text) + 1
    with session_scope(sessions) as session:
        article_id = submit_article(session, {"body": body}, Submitter(None, "test")).article["id"]
        store_claims(session, article_id, 1, claims)
    return article_id


def found(sessions, article_id: int, text: str) -> list[tuple[int, float]]:
    with session_scope(sessions) as session:
        claim = session.scalars(
            select(Claim).where(Claim.article_id == article_id, Claim.text == text)
        ).one()
        similar = similar_claims(session, claim, min_jaccard=0.5, scale=DEFAULT_SCALE)
        return [(c.article_id, c.similarity) for c in similar]


def loose_variants(count: int) -> list[str]:
    """Rewordings of TARGET sharing a key with it, yet under 0.5 similar: candidates only."""
    rng, keys, variants = random.Random(3), set(similarity_keys(TARGET)), []
    words = TARGET.split()
    while len(variants) < count:
        changed = list(words)
        for position in rng.sample(range(len(words)), 6):
            changed[position] = rng.choice(WORDS)
        text = " ".join(changed)
        if keys & set(similarity_keys(text)) and jaccard(TARGET, text) < 0.5:
            variants.append(text)
    return variants


def test_exact_copies_are_found_among_more_candidates_than_are_read(sessions):
    target = article_with(sessions, [TARGET])
    article_with(sessions, loose_variants(CANDIDATE_LIMIT + 20))
    copy = article_with(sessions, [TARGET])  # stored last: read last by a plain index scan
    with session_scope(sessions) as session:
        candidates = session.scalar(
            select(func.count())
            .select_from(Claim)
            .where(Claim.similarity_keys.overlap(similarity_keys(TARGET)))
        )
    assert candidates > CANDIDATE_LIMIT + 1
    assert found(sessions, target, TARGET) == [(copy, 1.0)]


def test_at_most_five_best_first_and_newest_first_among_equals(sessions):
    reworded = TARGET.replace("Monday", "Tuesday")
    target = article_with(sessions, [TARGET])
    close = article_with(sessions, [reworded])
    copies = [article_with(sessions, [TARGET]) for _ in range(SIMILAR_LIMIT + 2)]
    assert found(sessions, target, TARGET) == [(a, 1.0) for a in reversed(copies)][:SIMILAR_LIMIT]
    assert found(sessions, close, reworded)[:2] == [(copies[-1], 0.826), (copies[-2], 0.826)]


def test_keys_are_those_of_the_text_and_none_for_boilerplate():
    assert claim_similarity_keys(TARGET, "sentence") == similarity_keys(TARGET)
    assert claim_similarity_keys(TARGET, "span") == similarity_keys(TARGET)
    assert claim_similarity_keys("By Jane Smith and John Doe", "byline") == []
    assert claim_similarity_keys(TARGET, "metadata") == []
